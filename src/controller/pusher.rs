//! One task per Kong replica: keeps the replica on the latest desired config.
//!
//! Replicas are independent: each has its own backoff, so a replica that is down or slow
//! never delays the others. The desired config travels on a `watch` channel, so a replica
//! that comes back after an outage receives the latest config, never an intermediate one,
//! and no change made during the outage is lost.

use std::sync::Arc;
use std::time::Duration;

use rand::Rng;
use tokio::sync::{mpsc, watch};

use crate::kong::admin_api::{AdminApiClient, AdminApiError, RejectedEntity};
use crate::kong::config_text::ConfigText;
use crate::kong::listeners::KongListeners;

/// A translated config ready to push.
#[derive(Debug)]
pub struct Desired {
    text: Arc<ConfigText>,
    id: String,
    md5: std::sync::OnceLock<String>,
}

impl Desired {
    pub fn new(text: impl Into<ConfigText>) -> Desired {
        let text: ConfigText = text.into();
        Desired {
            id: text.id(),
            text: Arc::new(text),
            md5: Default::default(),
        }
    }

    /// The config's JSON text.
    pub fn text(&self) -> &Arc<ConfigText> {
        &self.text
    }

    /// The identity the controller tracks configs by ([`config_id`](crate::kong::admin_api::config_id)).
    pub fn id(&self) -> &str {
        &self.id
    }

    /// md5 of the text, what Kong reports once it holds it; computed on first use (only
    /// comparing with a replica's `/status` needs it, so it stays off the change path).
    pub fn md5(&self) -> &str {
        self.md5.get_or_init(|| self.text.md5())
    }
}

/// What a pusher tells the sync loop.
#[derive(Debug)]
pub enum PushReport {
    /// The replica holds the config with id `hash` ([`Desired::id`]): pushed in
    /// `elapsed`, or found already there (None).
    Applied {
        replica: String,
        hash: String,
        elapsed: Option<Duration>,
    },
    Rejected {
        replica: String,
        hash: String,
        message: String,
        entities: Vec<RejectedEntity>,
    },
    Failed {
        replica: String,
        error: String,
        category: &'static str,
    },
    /// The replica's proxy and stream listeners and its version (its `GET /`), read when
    /// the pusher (re)connects.
    Listeners {
        replica: String,
        listeners: KongListeners,
        version: Option<String>,
        /// Its `router_flavor`.
        router_flavor: Option<String>,
    },
    /// The replica left (discovery stopped its pusher): forget what it reported.
    Gone { replica: String },
}

/// Exponential backoff with jitter, so replicas failing together do not retry in lockstep.
pub struct Backoff {
    next: Duration,
    min: Duration,
    max: Duration,
}

impl Backoff {
    pub fn new(min: Duration, max: Duration) -> Self {
        Backoff {
            next: min,
            min,
            max,
        }
    }

    pub fn reset(&mut self) {
        self.next = self.min;
    }

    /// The next delay: the current step ±25%, then the step doubles up to `max`.
    pub fn next_delay(&mut self) -> Duration {
        let base = self.next;
        self.next = (self.next * 2).min(self.max);
        let jitter = rand::rng().random_range(0.75..1.25);
        base.mul_f64(jitter)
    }
}

/// Pushes while `leader` is true (only the elected controller writes to Kong).
pub async fn run(
    client: AdminApiClient,
    mut desired: watch::Receiver<Option<Arc<Desired>>>,
    mut leader: watch::Receiver<bool>,
    reports: mpsc::UnboundedSender<PushReport>,
) {
    let replica = client.url().to_string();
    let mut backoff = Backoff::new(Duration::from_millis(100), Duration::from_secs(10));
    // The hash the replica holds, once known; asked from /status first, which also waits
    // for Kong to be ready and skips the push entirely when it already has the config.
    let mut held: Option<String> = None;
    let mut rejected: Option<String> = None;
    loop {
        if !*leader.borrow_and_update() {
            // Another controller may push meanwhile: what the replica holds is unknown.
            held = None;
            if leader.wait_for(|l| *l).await.is_err() {
                return;
            }
            continue;
        }
        let want = desired.borrow_and_update().clone();
        let Some(want) = want else {
            if !changed(&mut desired, &mut leader).await {
                return;
            }
            continue;
        };
        if held.as_deref() == Some(want.id()) || rejected.as_deref() == Some(want.id()) {
            if !changed(&mut desired, &mut leader).await {
                return;
            }
            continue;
        }
        if held.is_none() {
            match client.configuration_hash().await {
                Ok(hash) => {
                    // Listeners change only when Kong restarts, after which this runs again.
                    match client.root().await {
                        Ok(root) => {
                            let _ = reports.send(PushReport::Listeners {
                                replica: replica.clone(),
                                listeners: root.listeners,
                                version: root.version,
                                router_flavor: root.router_flavor,
                            });
                        }
                        Err(e) => {
                            tracing::warn!(replica = %replica, error = %e, "cannot read the Kong replica's listeners; Gateway listeners are checked without it")
                        }
                    }
                    let md5 = {
                        let want = want.clone();
                        tokio::task::spawn_blocking(move || want.md5().to_string())
                            .await
                            .unwrap_or_default()
                    };
                    if hash == md5 {
                        // E.g. after a controller restart: nothing to send, but say so.
                        backoff.reset();
                        let _ = reports.send(PushReport::Applied {
                            replica: replica.clone(),
                            hash: want.id().to_string(),
                            elapsed: None,
                        });
                        held = Some(want.id().to_string());
                    } else {
                        // Never equal to a config id: the next round pushes.
                        held = Some(format!("md5:{hash}"));
                    }
                    continue;
                }
                Err(e) => {
                    fail(&reports, &replica, &e);
                    tokio::time::sleep(backoff.next_delay()).await;
                    continue;
                }
            }
        }
        let started = tokio::time::Instant::now();
        match client.push_config(want.text().clone()).await {
            Ok(_) => {
                backoff.reset();
                held = Some(want.id().to_string());
                rejected = None;
                tracing::info!(replica = %replica, config = %want.id(), bytes = want.text().len(), "Kong configuration applied");
                let _ = reports.send(PushReport::Applied {
                    replica: replica.clone(),
                    hash: want.id().to_string(),
                    elapsed: Some(started.elapsed()),
                });
            }
            Err(AdminApiError::Rejected {
                message, entities, ..
            }) => {
                backoff.reset();
                rejected = Some(want.id().to_string());
                tracing::warn!(replica = %replica, entities = entities.len(), "Kong rejected the configuration");
                let _ = reports.send(PushReport::Rejected {
                    replica: replica.clone(),
                    hash: want.id().to_string(),
                    message,
                    entities,
                });
            }
            Err(e) => {
                // Unknown state on the replica: ask /status again before the next push.
                held = None;
                fail(&reports, &replica, &e);
                tokio::time::sleep(backoff.next_delay()).await;
            }
        }
    }
}

/// Waits for a new desired config or a leadership change; false when the controller stops.
async fn changed(
    desired: &mut watch::Receiver<Option<Arc<Desired>>>,
    leader: &mut watch::Receiver<bool>,
) -> bool {
    tokio::select! {
        r = desired.changed() => r.is_ok(),
        r = leader.changed() => r.is_ok(),
    }
}

fn fail(reports: &mpsc::UnboundedSender<PushReport>, replica: &str, e: &AdminApiError) {
    tracing::warn!(replica = %replica, error = %e, "Kong admin API push failed; retrying with backoff");
    let _ = reports.send(PushReport::Failed {
        replica: replica.to_string(),
        error: e.to_string(),
        category: e.category(),
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_with_jitter_and_caps() {
        let mut b = Backoff::new(Duration::from_millis(100), Duration::from_millis(800));
        let delays: Vec<Duration> = (0..6).map(|_| b.next_delay()).collect();
        for (d, base) in delays.iter().zip([100u64, 200, 400, 800, 800, 800]) {
            let base = Duration::from_millis(base);
            assert!(
                *d >= base.mul_f64(0.75) && *d <= base.mul_f64(1.25),
                "{d:?} vs {base:?}"
            );
        }
        b.reset();
        assert!(b.next_delay() <= Duration::from_millis(125));
    }
}
