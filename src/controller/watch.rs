//! One watch stream per kind of the table (and per namespace when namespaces are
//! restricted) feeding the [`Store`]. Objects are trimmed of what kingress never reads
//! ([`crate::kinds::trim`]) as they arrive, so memory follows what matters. Each object is
//! decoded on its own: one that does not fit kingress's types (e.g. a field of a newer or
//! experimental API) is left out and reported, never stopping its kind.
//!
//! A kind whose API is not installed (e.g. Gateway API CRDs added later) counts as synced
//! and empty; its stream keeps retrying with backoff, so installing the CRDs later needs
//! no restart. A kind read at several versions is watched at the first one served
//! ([`versions`]), and looked up again when that one stops being served.

use std::collections::BTreeSet;
use std::fmt::Debug;
use std::sync::{Arc, Weak};

use std::time::Duration;

use futures::StreamExt;
use futures::stream::BoxStream;
use kube::api::DynamicObject;
use kube::core::DeserializeGuard;
use kube::runtime::WatchStreamExt;
use kube::runtime::watcher::{self, Event, watcher};
use kube::{Client, ResourceExt};

use super::metrics::KindLabel;
use super::pusher::Backoff;
use super::store::Store;
use super::versions;
use crate::kinds::trim::trim;
use crate::kinds::{Kind, KindSpec, Object, ObjectKey, with_kind};
use crate::snapshot::{Key, Undecodable};

/// What to watch.
#[derive(Clone, Debug, Default)]
pub struct WatchScope {
    /// Empty: every namespace.
    pub namespaces: Vec<String>,
    /// Kinds not watched at all (KIC's `--enable-controller-*=false`, [`super::toggles`]).
    pub disabled: BTreeSet<Kind>,
    /// KIC's `--gateway-to-reconcile`: the only Gateway watched (namespace, name).
    pub gateway: Option<(String, String)>,
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
    if scope.disabled.contains(&kind) {
        Vec::new()
    } else if let (Kind::Gateway, Some((ns, _))) = (kind, &scope.gateway) {
        let watched = scope.namespaces.is_empty() || scope.namespaces.contains(ns);
        if watched {
            vec![Some(ns.clone())]
        } else {
            Vec::new()
        }
    } else if !kind.info().namespaced || scope.namespaces.is_empty() {
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
            // At zero from the start, so the first error is an increase.
            let label = KindLabel {
                kind: kind.as_str().to_string(),
            };
            let _ = store.watch_errors.get_or_create(&label);
            let (client, store) = (client.clone(), Arc::downgrade(store));
            let config = watch_config(kind, scope);
            with_kind!(kind, |K| spawn::<K>(client, ns, config, store))
        }
    }
}

/// The watch config of a kind: its label and field selectors from the table, and the name of
/// the one Gateway `--gateway-to-reconcile` names.
fn watch_config(kind: Kind, scope: &WatchScope) -> watcher::Config {
    let info = kind.info();
    let mut config = watcher::Config::default();
    if let Some(labels) = info.labels {
        config = config.labels(labels);
    }
    let gateway = match (kind, &scope.gateway) {
        (Kind::Gateway, Some((_, name))) => Some(format!("metadata.name={name}")),
        _ => None,
    };
    let fields: Vec<&str> = info.fields.into_iter().chain(gateway.as_deref()).collect();
    if !fields.is_empty() {
        config = config.fields(&fields.join(","));
    }
    config
}

fn spawn<K: KindSpec>(
    client: Client,
    namespace: Option<String>,
    config: watcher::Config,
    store: Weak<Store>,
) {
    let kind = K::KIND;
    let versions = kind.info().versions;
    tokio::spawn(async move {
        let name = stream_name(kind, namespace.as_deref());
        let ns = namespace.as_deref();
        if versions.len() == 1 {
            let events = watcher(K::guarded_api(client, ns), config).default_backoff();
            follow::<K>(events.boxed(), &name, ns, &store, None).await;
            return;
        }
        // Read at several versions: watch the one served, and look again once it is not.
        let mut backoff = Backoff::new(Duration::from_secs(1), Duration::from_secs(30));
        loop {
            let version = versions::served::<K>(&client).await.unwrap_or(versions[0]);
            let ended = if version == versions[0] {
                let api = K::guarded_api(client.clone(), ns);
                let events = watcher(api, config.clone()).default_backoff();
                follow::<K>(events.boxed(), &name, ns, &store, Some(version)).await
            } else {
                let api = versions::dynamic_api::<K>(client.clone(), ns, version);
                let events = watcher(api, config.clone())
                    .default_backoff()
                    .filter_map(|e| std::future::ready(typed::<K>(e)));
                follow::<K>(events.boxed(), &name, ns, &store, Some(version)).await
            };
            match ended {
                Ended::StoreGone => return,
                Ended::NotServed => tokio::time::sleep(backoff.next_delay()).await,
            }
        }
    });
}

/// Why [`follow`] returned.
enum Ended {
    /// The controller stopped.
    StoreGone,
    /// The version watched is not served (a kind read at several versions looks again).
    NotServed,
}

type Events<K> = BoxStream<'static, Result<Event<DeserializeGuard<K>>, watcher::Error>>;

/// Feeds the store from one watch. `version`: for a kind read at several versions, the one
/// watched (objects are marked with it, and the watch ends when it is not served); None for a
/// kind of one version, whose watch retries forever.
async fn follow<K: KindSpec>(
    mut stream: Events<K>,
    name: &str,
    namespace: Option<&str>,
    store: &Weak<Store>,
    version: Option<&'static str>,
) -> Ended {
    let kind = K::KIND;
    // A relist's objects go to the store as they arrive (holding them until the list ends
    // would double a kind's memory at start-up); what it did not deliver is removed at its
    // end.
    let mut seen: BTreeSet<Key> = BTreeSet::new();
    while let Some(event) = stream.next().await {
        let Some(store) = store.upgrade() else {
            tracing::debug!(stream = %name, "controller stopped; watch ends");
            return Ended::StoreGone;
        };
        match event {
            Ok(Event::Apply(o)) => receive(&store, o, version),
            Ok(Event::Delete(o)) => {
                store.remove(kind, &o.namespace().unwrap_or_default(), &o.name_any());
            }
            Ok(Event::Init) => seen.clear(),
            Ok(Event::InitApply(o)) => {
                seen.insert((o.namespace().unwrap_or_default(), o.name_any()));
                receive(&store, o, version);
            }
            Ok(Event::InitDone) => {
                store.remove_unseen(kind, namespace, &seen);
                seen = BTreeSet::new();
                store.mark_synced(name);
                tracing::debug!(stream = %name, version, "synced");
            }
            Err(e) => {
                if api_missing(&e) {
                    // Not installed (yet): nothing of this kind exists.
                    store.mark_synced(name);
                    tracing::debug!(stream = %name, error = %e, "API not served; treating as empty");
                    if version.is_some() {
                        return Ended::NotServed;
                    }
                } else {
                    tracing::warn!(stream = %name, error = %e, "watch error; retrying with backoff");
                    let label = KindLabel {
                        kind: kind.as_str().to_string(),
                    };
                    store.watch_errors.get_or_create(&label).inc();
                }
            }
        }
    }
    Ended::StoreGone
}

/// A dynamic watch's event as `K`'s (an object whose metadata does not decode is dropped).
fn typed<K: KindSpec>(
    event: Result<Event<DynamicObject>, watcher::Error>,
) -> Option<Result<Event<DeserializeGuard<K>>, watcher::Error>> {
    let event = match event {
        Ok(event) => event,
        Err(e) => return Some(Err(e)),
    };
    let one = versions::decode::<K>;
    Some(Ok(match event {
        Event::Apply(o) => Event::Apply(one(o)?),
        Event::Delete(o) => Event::Delete(one(o)?),
        Event::InitApply(o) => Event::InitApply(one(o)?),
        Event::Init => Event::Init,
        Event::InitDone => Event::InitDone,
    }))
}

/// An object as the watch delivered it: stored when it decodes; otherwise left out (and
/// reported) while everything else of its kind flows on.
fn receive<K: KindSpec>(store: &Store, object: DeserializeGuard<K>, version: Option<&str>) {
    match object.0 {
        Ok(o) => {
            let mut object = compact(K::wrap(Box::new(o)));
            if let Some(version) = version {
                object.mark_read_version(version);
            }
            store.apply(object)
        }
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
