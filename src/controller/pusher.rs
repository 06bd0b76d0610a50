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

/// A translated config ready to push.
#[derive(Debug)]
pub struct Desired {
    /// JSON text sent as `{"config": text}`.
    pub text: String,
    /// md5 of `text`: what Kong reports once it holds it.
    pub hash: String,
}

/// What a pusher tells the sync loop.
#[derive(Debug)]
pub enum PushReport {
    Applied {
        replica: String,
        hash: String,
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

pub async fn run(
    client: AdminApiClient,
    mut desired: watch::Receiver<Option<Arc<Desired>>>,
    reports: mpsc::UnboundedSender<PushReport>,
) {
    let replica = client.url().to_string();
    let mut backoff = Backoff::new(Duration::from_millis(100), Duration::from_secs(10));
    // The hash the replica holds, once known; asked from /status first, which also waits
    // for Kong to be ready and skips the push entirely when it already has the config.
    let mut held: Option<String> = None;
    let mut rejected: Option<String> = None;
    loop {
        let want = desired.borrow_and_update().clone();
        let Some(want) = want else {
            if desired.changed().await.is_err() {
                return;
            }
            continue;
        };
        if held.as_deref() == Some(want.hash.as_str())
            || rejected.as_deref() == Some(want.hash.as_str())
        {
            if desired.changed().await.is_err() {
                return;
            }
            continue;
        }
        if held.is_none() {
            match client.configuration_hash().await {
                Ok(hash) => {
                    held = Some(hash);
                    continue;
                }
                Err(e) => {
                    fail(&reports, &replica, &e);
                    tokio::time::sleep(backoff.next_delay()).await;
                    continue;
                }
            }
        }
        match client.push(&want.text).await {
            Ok(_) => {
                backoff.reset();
                held = Some(want.hash.clone());
                rejected = None;
                tracing::info!(replica = %replica, hash = %want.hash, "Kong configuration applied");
                let _ = reports.send(PushReport::Applied {
                    replica: replica.clone(),
                    hash: want.hash.clone(),
                });
            }
            Err(AdminApiError::Rejected {
                message, entities, ..
            }) => {
                backoff.reset();
                rejected = Some(want.hash.clone());
                tracing::warn!(replica = %replica, entities = entities.len(), "Kong rejected the configuration");
                let _ = reports.send(PushReport::Rejected {
                    replica: replica.clone(),
                    hash: want.hash.clone(),
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
