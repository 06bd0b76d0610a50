//! The publish Service (`--publish-service`), watched: its addresses for Ingress and Gateway
//! status, and its ports with the container port each one reaches, to tell which Gateway
//! listeners Kong really serves ([`super::kong_listens`]). A named `targetPort` is resolved
//! through the Service's EndpointSlices (each slice port carries the Service port's name and the
//! number it resolved to); KIC v3.5.13 takes `targetPort.IntValue()`, 0 for a name
//! (`gateway_controller.go` 831-835), so behind a Service with named ports (kingress's chart,
//! and most charts) it matches no Kong listener.

use std::collections::BTreeMap;

use futures::StreamExt;
use futures::stream::BoxStream;
use k8s_openapi::api::discovery::v1::EndpointSlice;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use kube::api::Api;
use kube::runtime::WatchStreamExt;
use kube::runtime::watcher::{self, Event, watcher};
use serde_json::Value;

use super::ingress::{address_entry, service_addresses};
use super::kong_listens::PublishPort;
use crate::api::Service;

type Watch<K> = Option<BoxStream<'static, Result<Event<K>, watcher::Error>>>;

/// The publish Service's addresses and ports, kept current by its watches. It is polled from
/// the status task, so it ends with it.
pub struct Publish {
    services: Watch<Service>,
    slices: Watch<EndpointSlice>,
    /// `--publish-status-address`: wins over the Service's addresses.
    fixed: Option<Vec<Value>>,
    service: Relisted<Service>,
    endpoint_slices: Relisted<EndpointSlice>,
}

/// Objects by name, replaced whole when a relist completes.
struct Relisted<K> {
    now: BTreeMap<String, K>,
    relist: Option<BTreeMap<String, K>>,
}

impl<K: kube::Resource> Relisted<K> {
    fn new() -> Self {
        Relisted {
            now: BTreeMap::new(),
            relist: None,
        }
    }

    fn apply(&mut self, event: Event<K>) {
        let name = |o: &K| o.meta().name.clone().unwrap_or_default();
        match event {
            Event::Apply(o) => {
                self.now.insert(name(&o), o);
            }
            Event::Delete(o) => {
                self.now.remove(&name(&o));
            }
            Event::Init => self.relist = Some(BTreeMap::new()),
            Event::InitApply(o) => {
                self.relist.get_or_insert_default().insert(name(&o), o);
            }
            Event::InitDone => self.now = self.relist.take().unwrap_or_default(),
        }
    }
}

impl Publish {
    /// The Service `service` (`namespace`, `name`) watched, unless `fixed` addresses are given.
    pub fn new(
        client: &kube::Client,
        service: Option<&(String, String)>,
        fixed: &[String],
    ) -> Self {
        let fixed = (!fixed.is_empty()).then(|| fixed.iter().map(|a| address_entry(a)).collect());
        let (services, slices) = match service {
            Some((ns, name)) => {
                let services = Api::<Service>::namespaced(client.clone(), ns);
                let by_name = watcher::Config::default().fields(&format!("metadata.name={name}"));
                let slices = Api::<EndpointSlice>::namespaced(client.clone(), ns);
                let of_service = watcher::Config::default()
                    .labels(&format!("kubernetes.io/service-name={name}"));
                (
                    Some(watcher(services, by_name).default_backoff().boxed()),
                    Some(watcher(slices, of_service).default_backoff().boxed()),
                )
            }
            None => (None, None),
        };
        Publish {
            services,
            slices,
            fixed,
            service: Relisted::new(),
            endpoint_slices: Relisted::new(),
        }
    }

    /// Ingress `status.loadBalancer.ingress` entries (also the Gateways' addresses).
    pub fn addresses(&self) -> Vec<Value> {
        match &self.fixed {
            Some(fixed) => fixed.clone(),
            None => self
                .service
                .now
                .values()
                .next()
                .map(service_addresses)
                .unwrap_or_default(),
        }
    }

    /// The Service's ports, each with the container port it reaches when known; None without
    /// a publish Service (or before it is seen).
    pub fn ports(&self) -> Option<Vec<PublishPort>> {
        let service = self.service.now.values().next()?;
        let slices: Vec<&EndpointSlice> = self.endpoint_slices.now.values().collect();
        Some(publish_ports(service, &slices))
    }

    /// Resolves when the addresses or ports changed; never, without a publish Service.
    pub async fn changed(&mut self) {
        loop {
            let before = (self.addresses(), self.ports());
            tokio::select! {
                event = next(&mut self.services) => match event {
                    Some(e) => self.service.apply(e),
                    None => continue,
                },
                event = next(&mut self.slices) => match event {
                    Some(e) => self.endpoint_slices.apply(e),
                    None => continue,
                },
            }
            if (self.addresses(), self.ports()) != before {
                return;
            }
        }
    }
}

/// The next event of a watch; pending forever once it has ended (or without one).
async fn next<K>(watch: &mut Watch<K>) -> Option<Event<K>> {
    loop {
        let Some(stream) = watch.as_mut() else {
            return std::future::pending().await;
        };
        match stream.next().await {
            Some(Ok(event)) => return Some(event),
            Some(Err(e)) => {
                tracing::warn!(error = %e, "watching the --publish-service Service failed; retrying with backoff");
            }
            None => *watch = None,
        }
    }
}

/// Each Service port with its container port: `targetPort` as a number, a name resolved
/// through the EndpointSlices, or the port itself when `targetPort` is unset (the apiserver
/// defaults it so).
fn publish_ports(service: &Service, slices: &[&EndpointSlice]) -> Vec<PublishPort> {
    let ports = service.spec.as_ref().and_then(|s| s.ports.as_deref());
    ports
        .unwrap_or_default()
        .iter()
        .map(|p| {
            let target = match &p.target_port {
                None => u16::try_from(p.port).ok(),
                Some(IntOrString::Int(n)) => u16::try_from(*n).ok(),
                Some(IntOrString::String(_)) => slices
                    .iter()
                    .flat_map(|s| s.ports.iter().flatten())
                    .find(|sp| sp.name == p.name)
                    .and_then(|sp| sp.port)
                    .and_then(|n| u16::try_from(n).ok()),
            };
            PublishPort {
                protocol: p.protocol.clone().unwrap_or_else(|| "TCP".to_string()),
                port: p.port,
                target,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn named_target_ports_resolve_through_the_endpoint_slices() {
        let service: Service = serde_json::from_value(json!({
            "metadata": {"name": "kong-proxy"},
            "spec": {"ports": [
                {"name": "proxy", "port": 80, "targetPort": "proxy", "protocol": "TCP"},
                {"name": "tcp", "port": 9000, "targetPort": 9100, "protocol": "TCP"},
                {"name": "dns", "port": 53, "protocol": "UDP"},
                {"name": "gone", "port": 81, "targetPort": "missing"},
            ]}
        }))
        .expect("Service");
        let slice: EndpointSlice = serde_json::from_value(json!({
            "metadata": {"name": "kong-proxy-x1"},
            "addressType": "IPv4",
            "endpoints": [],
            "ports": [{"name": "proxy", "port": 8000, "protocol": "TCP"}],
        }))
        .expect("EndpointSlice");
        let ports = publish_ports(&service, &[&slice]);
        let got: Vec<(&str, i32, Option<u16>)> = ports
            .iter()
            .map(|p| (p.protocol.as_str(), p.port, p.target))
            .collect();
        assert_eq!(
            got,
            [
                ("TCP", 80, Some(8000)),
                ("TCP", 9000, Some(9100)),
                ("UDP", 53, Some(53)),
                ("TCP", 81, None),
            ]
        );
    }
}
