//! Kong replicas: a fixed list of admin URLs, or discovered from the EndpointSlices of the
//! admin Service (`--kong-admin-service ns/name`), with one pusher per ready endpoint.
//!
//! A replica that appears gets a pusher at once (which asks its `/status` and pushes the
//! current config); one that disappears has its pusher stopped. The number of replicas is
//! published so translation can account for per-replica rate-limit counters.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use futures::StreamExt;
use k8s_openapi::api::discovery::v1::EndpointSlice;
use kube::api::Api;
use kube::runtime::WatchStreamExt;
use kube::runtime::watcher::{self, Event, watcher};
use kube::{Client, ResourceExt};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use super::profiles::Configs;
use super::pusher::{self, PushReport};
use crate::kong::admin_api::{AdminApiClient, AdminApiOptions};

/// Port names KIC recognises on the admin Service, in order of preference.
pub const ADMIN_PORT_NAMES: &[&str] = &["admin-tls", "kong-admin-tls", "admin", "kong-admin"];

/// The running pushers, one per replica URL.
pub struct Pushers {
    template: AdminApiOptions,
    push: pusher::PushOptions,
    desired: watch::Receiver<Option<Arc<Configs>>>,
    leader: watch::Receiver<bool>,
    reports: mpsc::UnboundedSender<PushReport>,
    replicas: watch::Sender<usize>,
    running: BTreeMap<String, JoinHandle<()>>,
}

impl Pushers {
    pub fn new(
        template: AdminApiOptions,
        push: pusher::PushOptions,
        desired: watch::Receiver<Option<Arc<Configs>>>,
        leader: watch::Receiver<bool>,
        reports: mpsc::UnboundedSender<PushReport>,
        replicas: watch::Sender<usize>,
    ) -> Self {
        Pushers {
            template,
            push,
            desired,
            leader,
            reports,
            replicas,
            running: BTreeMap::new(),
        }
    }

    /// Makes the running pushers match `urls`.
    pub fn set(&mut self, urls: &BTreeSet<String>) {
        self.running.retain(|url, task| {
            let keep = urls.contains(url);
            if !keep {
                tracing::info!(replica = %url, "Kong replica gone; stopping its pusher");
                task.abort();
                let _ = self.reports.send(PushReport::Gone {
                    replica: url.clone(),
                });
            }
            keep
        });
        for url in urls {
            if self.running.contains_key(url) {
                continue;
            }
            let options = AdminApiOptions {
                url: url.clone(),
                ..self.template.clone()
            };
            match AdminApiClient::new(&options) {
                Ok(client) => {
                    tracing::info!(replica = %url, "Kong replica found; starting its pusher");
                    let task = tokio::spawn(pusher::run_with(
                        client,
                        self.desired.clone(),
                        self.leader.clone(),
                        self.reports.clone(),
                        self.push,
                    ));
                    self.running.insert(url.clone(), task);
                }
                Err(e) => {
                    tracing::error!(replica = %url, error = %e, "cannot create an admin API client")
                }
            }
        }
        self.replicas.send_replace(self.running.len().max(1));
    }

    pub fn abort_all(&mut self) {
        for (_, task) in std::mem::take(&mut self.running) {
            task.abort();
        }
    }
}

impl Drop for Pushers {
    fn drop(&mut self) {
        self.abort_all();
    }
}

/// `scheme://ip:port` for each ready endpoint of one slice, on the admin port.
pub fn slice_urls(slice: &EndpointSlice, port_name: Option<&str>) -> Vec<String> {
    let ports: Vec<(String, i32)> = slice
        .ports
        .iter()
        .flatten()
        .filter_map(|p| Some((p.name.clone().unwrap_or_default(), p.port?)))
        .collect();
    let chosen = match port_name {
        Some(want) => ports.iter().find(|(n, _)| n == want),
        None => ADMIN_PORT_NAMES
            .iter()
            .find_map(|want| ports.iter().find(|(n, _)| n == want))
            .or(if ports.len() == 1 {
                ports.first()
            } else {
                None
            }),
    };
    let Some((name, port)) = chosen else {
        return vec![];
    };
    let scheme = if name.contains("tls") {
        "https"
    } else {
        "http"
    };
    slice
        .endpoints
        .iter()
        .filter(|e| e.conditions.as_ref().and_then(|c| c.ready).unwrap_or(true))
        .filter(|e| {
            !e.conditions
                .as_ref()
                .and_then(|c| c.terminating)
                .unwrap_or(false)
        })
        .filter_map(|e| e.addresses.first())
        .map(|a| {
            if a.contains(':') {
                format!("{scheme}://[{a}]:{port}")
            } else {
                format!("{scheme}://{a}:{port}")
            }
        })
        .collect()
}

/// Watches the admin Service's EndpointSlices and keeps `pushers` in step, until aborted.
pub async fn discover(
    client: Client,
    namespace: String,
    service: String,
    port_name: Option<String>,
    mut pushers: Pushers,
) {
    let api: Api<EndpointSlice> = Api::namespaced(client, &namespace);
    let config =
        watcher::Config::default().labels(&format!("kubernetes.io/service-name={service}"));
    let mut stream = watcher(api, config).default_backoff().boxed();
    let mut slices: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut relist: BTreeMap<String, Vec<String>> = BTreeMap::new();
    while let Some(event) = stream.next().await {
        match event {
            Ok(Event::Apply(s)) => {
                slices.insert(s.name_any(), slice_urls(&s, port_name.as_deref()));
            }
            Ok(Event::Delete(s)) => {
                slices.remove(&s.name_any());
            }
            Ok(Event::Init) => relist.clear(),
            Ok(Event::InitApply(s)) => {
                relist.insert(s.name_any(), slice_urls(&s, port_name.as_deref()));
            }
            Ok(Event::InitDone) => slices = std::mem::take(&mut relist),
            Err(e) => {
                tracing::warn!(service = %format!("{namespace}/{service}"), error = %e, "watching the Kong admin Service failed; retrying");
                continue;
            }
        }
        let urls: BTreeSet<String> = slices.values().flatten().cloned().collect();
        pushers.set(&urls);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::discovery::v1::{Endpoint, EndpointConditions, EndpointPort};

    fn slice(ports: &[(&str, i32)], endpoints: &[(&str, Option<bool>)]) -> EndpointSlice {
        EndpointSlice {
            address_type: "IPv4".into(),
            ports: Some(
                ports
                    .iter()
                    .map(|(n, p)| EndpointPort {
                        name: Some(n.to_string()),
                        port: Some(*p),
                        ..Default::default()
                    })
                    .collect(),
            ),
            endpoints: endpoints
                .iter()
                .map(|(a, ready)| Endpoint {
                    addresses: vec![a.to_string()],
                    conditions: Some(EndpointConditions {
                        ready: *ready,
                        ..Default::default()
                    }),
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        }
    }

    #[test]
    fn ready_endpoints_on_the_admin_port() {
        let s = slice(
            &[("proxy", 8000), ("admin-tls", 8444)],
            &[
                ("10.0.0.1", Some(true)),
                ("10.0.0.2", None),
                ("10.0.0.3", Some(false)),
                ("fd00::1", None),
            ],
        );
        assert_eq!(
            slice_urls(&s, None),
            vec![
                "https://10.0.0.1:8444",
                "https://10.0.0.2:8444",
                "https://[fd00::1]:8444"
            ]
        );
        let plain = slice(&[("admin", 8001)], &[("10.0.0.1", None)]);
        assert_eq!(slice_urls(&plain, None), vec!["http://10.0.0.1:8001"]);
        assert_eq!(
            slice_urls(&s, Some("proxy")),
            vec![
                "http://10.0.0.1:8000",
                "http://10.0.0.2:8000",
                "http://[fd00::1]:8000"
            ]
        );
        let ambiguous = slice(&[("a", 1), ("b", 2)], &[("10.0.0.1", None)]);
        assert!(slice_urls(&ambiguous, None).is_empty());
    }
}
