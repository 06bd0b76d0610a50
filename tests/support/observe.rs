//! Watching what a controller writes to the apiserver: polling until a probe holds, status
//! conditions, Events.

use std::time::Duration;

use k8s_openapi::api::events::v1::Event;
use kube::api::{Api, ListParams};
use serde_json::Value;

use super::run::WAIT;

/// Polls `probe` until it answers `Ok`, panicking with its last answer after [`WAIT`].
pub async fn eventually<T>(what: &str, probe: impl AsyncFn() -> Result<T, String>) -> T {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        match probe().await {
            Ok(v) => return v,
            Err(last) if tokio::time::Instant::now() >= deadline => {
                panic!("never saw {what}; last seen: {last}")
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
}

/// `(status, reason, message)` of the condition `type_` in a status entry.
pub fn condition(entry: &Value, type_: &str) -> Option<(String, String, String)> {
    entry["conditions"]
        .as_array()?
        .iter()
        .find(|c| c["type"] == type_)
        .map(|c| {
            let s = |k: &str| c[k].as_str().unwrap_or_default().to_string();
            (s("status"), s("reason"), s("message"))
        })
}

pub fn is(entry: &Value, type_: &str, status: &str, reason: &str) -> bool {
    condition(entry, type_).is_some_and(|(s, r, _)| s == status && r == reason)
}

/// Events in `ns` with `reason` about the object `kind`/`name`.
pub async fn events(
    client: &kube::Client,
    ns: &str,
    kind: &str,
    name: &str,
    reason: &str,
) -> Vec<Event> {
    Api::<Event>::namespaced(client.clone(), ns)
        .list(&ListParams::default())
        .await
        .expect("list Events")
        .items
        .into_iter()
        .filter(|e| {
            e.reason.as_deref() == Some(reason)
                && e.regarding.as_ref().is_some_and(|r| {
                    r.kind.as_deref() == Some(kind) && r.name.as_deref() == Some(name)
                })
        })
        .collect()
}

/// The note of the first Event in `ns` with `reason` about `kind`/`name`, once there is one.
pub async fn event_note(
    client: &kube::Client,
    ns: &str,
    kind: &str,
    name: &str,
    reason: &str,
) -> String {
    eventually(&format!("a {reason} Event on {kind} {name}"), async || {
        let found = events(client, ns, kind, name, reason).await;
        found
            .first()
            .and_then(|e| e.note.clone())
            .ok_or_else(|| format!("{} Events", found.len()))
    })
    .await
}
