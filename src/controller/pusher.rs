//! One task per Kong replica: keeps the replica on the latest desired config.
//!
//! Replicas are independent: each has its own backoff, so a replica that is down or slow
//! never delays the others. The desired config travels on a `watch` channel, so a replica
//! that comes back after an outage receives the latest config, never an intermediate one,
//! and no change made during the outage is lost. A replica that holds its config is asked
//! for its `/status` hash every [`PushOptions::recheck`], so one that restarted empty gets
//! the config again without any change in the cluster.

use std::sync::Arc;
use std::time::Duration;

use rand::Rng;
use tokio::sync::{mpsc, watch};

use super::profiles::{Configs, RootReport};
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

/// What the pusher knows the replica holds.
enum Held {
    /// Nothing yet, or unknown after an error: ask `/status` (and `GET /`) first.
    Unknown,
    /// The md5 `/status` reported, to compare with the config before pushing it.
    Md5(String),
    /// A config pushed or found there, by [`Desired::id`].
    Id(String),
}

/// How a pusher keeps a replica that already holds its config in check.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PushOptions {
    /// How often the replica's `/status` hash is compared with the config it should hold:
    /// a Kong restarted in DB-less mode holds nothing, and is pushed the config again (KIC's
    /// `--proxy-sync-seconds`, 3 s: v3.5.13 checks `/status` on every sync for Kong's empty
    /// hash, `sendconfig/config_change_detector.go` 44-74; kingress for any other hash too).
    pub recheck: Duration,
    /// KIC's `--enable-reverse-sync`: push on every recheck, even when the hash matches.
    pub reverse_sync: bool,
}

impl Default for PushOptions {
    fn default() -> Self {
        PushOptions {
            recheck: Duration::from_secs(3),
            reverse_sync: false,
        }
    }
}

/// [`run_with`] the default [`PushOptions`].
pub async fn run(
    client: AdminApiClient,
    desired: watch::Receiver<Option<Arc<Configs>>>,
    leader: watch::Receiver<bool>,
    reports: mpsc::UnboundedSender<PushReport>,
) {
    run_with(client, desired, leader, reports, PushOptions::default()).await
}

/// Pushes while `leader` is true (only the elected controller writes to Kong), the config of
/// this replica's [profile](super::profiles) once its `GET /` said which.
pub async fn run_with(
    client: AdminApiClient,
    mut desired: watch::Receiver<Option<Arc<Configs>>>,
    mut leader: watch::Receiver<bool>,
    reports: mpsc::UnboundedSender<PushReport>,
    options: PushOptions,
) {
    let replica = client.url().to_string();
    let mut backoff = Backoff::new(Duration::from_millis(100), Duration::from_secs(10));
    // Asked from /status first, which also waits for Kong to be ready and skips the push
    // entirely when it already has the config.
    let mut held = Held::Unknown;
    let mut root: Option<RootReport> = None;
    let mut rejected: Option<String> = None;
    loop {
        if !*leader.borrow_and_update() {
            // Another controller may push meanwhile: what the replica holds is unknown.
            held = Held::Unknown;
            if leader.wait_for(|l| *l).await.is_err() {
                return;
            }
            continue;
        }
        let configs = desired.borrow_and_update().clone();
        let Some(configs) = configs else {
            if !changed(&mut desired, &mut leader).await {
                return;
            }
            continue;
        };
        if let Held::Unknown = held {
            match client.configuration_hash().await {
                Ok(hash) => {
                    // Listeners, version and flavor change only when Kong restarts, after
                    // which this runs again.
                    match client.root().await {
                        Ok(r) => {
                            let report = RootReport {
                                version: r.version,
                                router_flavor: r.router_flavor,
                            };
                            let _ = reports.send(PushReport::Listeners {
                                replica: replica.clone(),
                                listeners: r.listeners,
                                version: report.version.clone(),
                                router_flavor: report.router_flavor.clone(),
                            });
                            root = Some(report);
                        }
                        Err(e) => {
                            tracing::warn!(replica = %replica, error = %e, "cannot read the Kong replica's listeners, version and router flavor; Gateway listeners are checked without them and it gets the config of the oldest version")
                        }
                    }
                    held = Held::Md5(hash);
                }
                Err(e) => {
                    fail(&reports, &replica, &e);
                    tokio::time::sleep(backoff.next_delay()).await;
                }
            }
            continue;
        }
        // None: the sync loop has not translated for this replica's version and flavor yet;
        // it does on the report above.
        let Some(want) = configs.for_replica(root.as_ref()).cloned() else {
            if !changed(&mut desired, &mut leader).await {
                return;
            }
            continue;
        };
        if let Held::Md5(hash) = &held {
            let md5 = {
                let want = want.clone();
                tokio::task::spawn_blocking(move || want.md5().to_string())
                    .await
                    .unwrap_or_default()
            };
            if *hash == md5 {
                // E.g. after a controller restart: nothing to send, but say so.
                backoff.reset();
                let _ = reports.send(PushReport::Applied {
                    replica: replica.clone(),
                    hash: want.id().to_string(),
                    elapsed: None,
                });
                held = Held::Id(want.id().to_string());
                continue;
            }
        }
        let holds = matches!(&held, Held::Id(id) if id == want.id());
        if holds || rejected.as_deref() == Some(want.id()) {
            match wait(&mut desired, &mut leader, options.recheck).await {
                Woken::Closed => return,
                Woken::Changed => {}
                // A rejected config stays rejected: only a new one is worth sending.
                Woken::Recheck if !holds => {}
                Woken::Recheck => match client.configuration_hash().await {
                    Ok(hash) if hash == want.md5() && !options.reverse_sync => {}
                    Ok(hash) => {
                        if hash != want.md5() {
                            tracing::warn!(replica = %replica, hash = %hash, "the Kong replica no longer holds the configuration pushed (restarted?); pushing it again");
                        }
                        // Never equal to an md5: the next round pushes.
                        held = Held::Md5(format!("not {hash}"));
                    }
                    Err(e) => {
                        held = Held::Unknown;
                        fail(&reports, &replica, &e);
                    }
                },
            }
            continue;
        }
        let started = tokio::time::Instant::now();
        match client.push_config(want.text().clone()).await {
            Ok(_) => {
                backoff.reset();
                held = Held::Id(want.id().to_string());
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
                held = Held::Unknown;
                fail(&reports, &replica, &e);
                tokio::time::sleep(backoff.next_delay()).await;
            }
        }
    }
}

enum Woken {
    Changed,
    Recheck,
    Closed,
}

/// [`changed`], or the recheck interval passing first.
async fn wait(
    desired: &mut watch::Receiver<Option<Arc<Configs>>>,
    leader: &mut watch::Receiver<bool>,
    recheck: Duration,
) -> Woken {
    tokio::select! {
        open = changed(desired, leader) => if open { Woken::Changed } else { Woken::Closed },
        () = tokio::time::sleep(recheck) => Woken::Recheck,
    }
}

/// Waits for new desired configs or a leadership change; false when the controller stops.
async fn changed(
    desired: &mut watch::Receiver<Option<Arc<Configs>>>,
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
