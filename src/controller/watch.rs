//! One watch stream per kind of the table (and per namespace when namespaces are
//! restricted) feeding the [`Store`]. Objects are trimmed of what kingress never reads
//! ([`crate::kinds::trim`]) as they arrive, so memory follows what matters. Each object is
//! decoded on its own: one that does not fit kingress's types (e.g. a field of a newer or
//! experimental API) is left out and reported, never stopping its kind.
//!
//! A kind whose API is not installed (e.g. Gateway API CRDs added later) counts as synced
//! and empty; its stream keeps retrying with backoff, so installing the CRDs later needs
//! no restart.

use std::collections::BTreeSet;
use std::fmt::Debug;
use std::sync::{Arc, Weak};

use futures::StreamExt;
use kube::core::DeserializeGuard;
use kube::runtime::WatchStreamExt;
use kube::runtime::watcher::{self, Event, watcher};
use kube::{Client, ResourceExt};

use super::store::Store;
use crate::kinds::trim::trim;
use crate::kinds::{Kind, KindSpec, Object, ObjectKey, with_kind};
use crate::snapshot::{Key, Undecodable};

/// What to watch.
#[derive(Clone, Debug, Default)]
pub struct WatchScope {
    /// Empty: every namespace.
    pub namespaces: Vec<String>,
}

/// The stream names [`spawn_all`] will start, for [`Store::new`].
pub fn stream_names(scope: &WatchScope) -> Vec<String> {
    let mut names = Vec::new();
    for &kind in Kind::ALL {
        for ns in namespaces_for(kind, scope) {
            names.push(stream_name(kind, ns.as_deref()));
        }
    }
    names
}

fn stream_name(kind: Kind, namespace: Option<&str>) -> String {
    format!("{}/{}", kind.as_str(), namespace.unwrap_or("*"))
}

fn namespaces_for(kind: Kind, scope: &WatchScope) -> Vec<Option<String>> {
    if !kind.info().namespaced || scope.namespaces.is_empty() {
        vec![None]
    } else {
        scope.namespaces.iter().cloned().map(Some).collect()
    }
}

/// Starts every watch stream. They run while the store is used elsewhere (by the controller's
/// tasks), and end at their next event once it is not.
pub fn spawn_all(client: &Client, scope: &WatchScope, store: &Arc<Store>) {
    for &kind in Kind::ALL {
        for ns in namespaces_for(kind, scope) {
            let (client, store) = (client.clone(), Arc::downgrade(store));
            with_kind!(kind, |K| spawn::<K>(client, ns, store))
        }
    }
}

/// The watch config of a kind: its label and field selectors from the table.
fn watch_config(kind: Kind) -> watcher::Config {
    let info = kind.info();
    let mut config = watcher::Config::default();
    if let Some(labels) = info.labels {
        config = config.labels(labels);
    }
    if let Some(fields) = info.fields {
        config = config.fields(fields);
    }
    config
}

fn spawn<K: KindSpec>(client: Client, namespace: Option<String>, store: Weak<Store>) {
    let api = K::guarded_api(client, namespace.as_deref());
    let kind = K::KIND;
    tokio::spawn(async move {
        let name = stream_name(kind, namespace.as_deref());
        let mut stream = watcher(api, watch_config(kind)).default_backoff().boxed();
        // A relist's objects go to the store as they arrive (holding them until the list
        // ends would double a kind's memory at start-up); what it did not deliver is removed
        // at its end.
        let mut seen: BTreeSet<Key> = BTreeSet::new();
        while let Some(event) = stream.next().await {
            let Some(store) = store.upgrade() else {
                tracing::debug!(stream = %name, "controller stopped; watch ends");
                return;
            };
            match event {
                Ok(Event::Apply(o)) => receive(&store, o),
                Ok(Event::Delete(o)) => {
                    store.remove(kind, &o.namespace().unwrap_or_default(), &o.name_any());
                }
                Ok(Event::Init) => seen.clear(),
                Ok(Event::InitApply(o)) => {
                    seen.insert((o.namespace().unwrap_or_default(), o.name_any()));
                    receive(&store, o);
                }
                Ok(Event::InitDone) => {
                    store.remove_unseen(kind, namespace.as_deref(), &seen);
                    seen = BTreeSet::new();
                    store.mark_synced(&name);
                    tracing::debug!(stream = %name, "synced");
                }
                Err(e) => {
                    if api_missing(&e) {
                        // Not installed (yet): nothing of this kind exists.
                        store.mark_synced(&name);
                        tracing::debug!(stream = %name, error = %e, "API not served; treating as empty");
                    } else {
                        tracing::warn!(stream = %name, error = %e, "watch error; retrying with backoff");
                    }
                }
            }
        }
    });
}

/// An object as the watch delivered it: stored when it decodes; otherwise left out (and
/// reported) while everything else of its kind flows on.
fn receive<K: KindSpec>(store: &Store, object: DeserializeGuard<K>) {
    match object.0 {
        Ok(o) => store.apply(compact(K::wrap(Box::new(o)))),
        Err(invalid) => {
            let meta = &invalid.metadata;
            let key = ObjectKey::new(
                K::KIND,
                meta.namespace.as_deref().unwrap_or_default(),
                meta.name.as_deref().unwrap_or_default(),
            );
            tracing::warn!(kind = %key.kind, namespace = %key.namespace, name = %key.name, error = %invalid.error, "cannot decode object; it is left out until it can be");
            store.undecodable(key, Undecodable::new(meta, invalid.error));
        }
    }
}

/// The object trimmed, then copied: a deserialised object's strings, lists and maps keep
/// the spare capacity they grew with (up to twice their size); a copy holds exactly its
/// contents, and the snapshot keeps ~20% less at 10k Services. EndpointSlices are not
/// copied: the snapshot keeps a slim form built to size.
fn compact(mut object: Object) -> Object {
    trim(&mut object);
    match object {
        Object::EndpointSlice(_) => object,
        _ => object.clone(),
    }
}

fn api_missing(e: &watcher::Error) -> bool {
    let inner = match e {
        watcher::Error::InitialListFailed(e) | watcher::Error::WatchStartFailed(e) => e,
        _ => return false,
    };
    matches!(inner, kube::Error::Api(resp) if resp.code == 404)
}
