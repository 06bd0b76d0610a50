//! Leader election on a `coordination.k8s.io/v1` Lease, so one controller replica writes to
//! Kong and to status while the others keep warm caches and take over when it goes away.
//!
//! The holder renews every `renew` interval; a Lease not renewed within its duration is
//! taken over by a standby. Updates carry the Lease's resourceVersion, so two candidates
//! racing for it cannot both win. A leader that cannot renew before its own deadline
//! steps down rather than risk two writers.

use std::time::Duration;

use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use k8s_openapi::jiff::Timestamp;
use kube::Client;
use kube::api::{Api, PostParams};
use tokio::sync::watch;

#[derive(Clone, Debug)]
pub struct LeaderOptions {
    pub namespace: String,
    /// KIC's default: `5b374a9e.konghq.com`.
    pub name: String,
    /// This candidate's identity (pod name), unique among candidates.
    pub identity: String,
    pub lease_duration: Duration,
    pub renew: Duration,
}

pub const DEFAULT_ELECTION_ID: &str = "5b374a9e.konghq.com";

enum Outcome {
    Leading,
    Following,
}

fn now() -> MicroTime {
    MicroTime(Timestamp::now())
}

/// Runs the election forever, publishing whether this candidate leads.
pub async fn run(client: Client, options: LeaderOptions, leader: &watch::Sender<bool>) {
    let api: Api<Lease> = Api::namespaced(client, &options.namespace);
    let mut last_renewed: Option<tokio::time::Instant> = None;
    loop {
        match try_acquire_or_renew(&api, &options).await {
            Ok(Outcome::Leading) => {
                last_renewed = Some(tokio::time::Instant::now());
                if !*leader.borrow() {
                    tracing::info!(identity = %options.identity, lease = %options.name, "became leader");
                }
                leader.send_replace(true);
            }
            Ok(Outcome::Following) => {
                if *leader.borrow() {
                    tracing::warn!(identity = %options.identity, "lost the lease to another candidate");
                }
                last_renewed = None;
                leader.send_replace(false);
            }
            Err(e) => {
                tracing::warn!(error = %e, "leader election request failed");
                // Without a successful renewal inside the lease duration another candidate
                // may already lead: stop writing.
                let expired =
                    last_renewed.is_none_or(|t| t.elapsed() >= options.lease_duration.mul_f64(0.8));
                if expired && *leader.borrow() {
                    tracing::warn!("cannot renew the lease in time; stepping down");
                    leader.send_replace(false);
                }
            }
        }
        tokio::time::sleep(options.renew).await;
    }
}

async fn try_acquire_or_renew(api: &Api<Lease>, o: &LeaderOptions) -> Result<Outcome, kube::Error> {
    let seconds = i32::try_from(o.lease_duration.as_secs()).unwrap_or(i32::MAX);
    let existing = api.get_opt(&o.name).await?;
    let Some(mut lease) = existing else {
        let lease = Lease {
            metadata: ObjectMeta {
                name: Some(o.name.clone()),
                namespace: Some(o.namespace.clone()),
                ..Default::default()
            },
            spec: Some(LeaseSpec {
                holder_identity: Some(o.identity.clone()),
                lease_duration_seconds: Some(seconds),
                acquire_time: Some(now()),
                renew_time: Some(now()),
                lease_transitions: Some(0),
                ..Default::default()
            }),
        };
        return match api.create(&PostParams::default(), &lease).await {
            Ok(_) => Ok(Outcome::Leading),
            // Someone else created it first.
            Err(kube::Error::Api(s)) if s.code == 409 => Ok(Outcome::Following),
            Err(e) => Err(e),
        };
    };
    let spec = lease.spec.get_or_insert_with(Default::default);
    let holder = spec.holder_identity.clone().unwrap_or_default();
    let ours = holder == o.identity;
    let duration = spec
        .lease_duration_seconds
        .map_or(o.lease_duration, |s| Duration::from_secs(s.max(0) as u64));
    let expired = spec.renew_time.as_ref().is_none_or(|t| {
        let age = Timestamp::now().duration_since(t.0);
        age.as_secs_f64() >= duration.as_secs_f64()
    });
    if !ours && !holder.is_empty() && !expired {
        return Ok(Outcome::Following);
    }
    if !ours {
        spec.acquire_time = Some(now());
        spec.lease_transitions = Some(spec.lease_transitions.unwrap_or(0) + 1);
        spec.holder_identity = Some(o.identity.clone());
    }
    spec.renew_time = Some(now());
    spec.lease_duration_seconds = Some(seconds);
    // replace() sends the resourceVersion we read: a concurrent writer makes this a 409.
    match api.replace(&o.name, &PostParams::default(), &lease).await {
        Ok(_) => Ok(Outcome::Leading),
        Err(kube::Error::Api(s)) if s.code == 409 => Ok(Outcome::Following),
        Err(e) => Err(e),
    }
}
