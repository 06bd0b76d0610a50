//! One watch stream per kind (and per namespace when namespaces are restricted) feeding
//! the [`Store`]. Objects are trimmed of what kingress never reads ([`super::trim`]) as
//! they arrive, so memory follows what matters.
//!
//! A kind whose API is not installed (e.g. Gateway API CRDs added later) counts as synced
//! and empty; its stream keeps retrying with backoff, so installing the CRDs later needs
//! no restart.

use std::collections::BTreeSet;
use std::fmt::Debug;
use std::sync::{Arc, Weak};

use futures::StreamExt;
use kube::api::Api;
use kube::core::NamespaceResourceScope;
use kube::runtime::WatchStreamExt;
use kube::runtime::watcher::{self, Event, watcher};
use kube::{Client, Resource, ResourceExt};
use serde::de::DeserializeOwned;

use super::store::Store;
use super::trim::trim;
use crate::api::*;
use crate::snapshot::{Key, Kind, Object};

/// What to watch.
#[derive(Clone, Debug, Default)]
pub struct WatchScope {
    /// Empty: every namespace.
    pub namespaces: Vec<String>,
}

/// The stream names [`spawn_all`] will start, for [`Store::new`].
pub fn stream_names(scope: &WatchScope) -> Vec<String> {
    let mut names = Vec::new();
    for kind in Kind::ALL {
        for ns in namespaces_for(kind, scope) {
            names.push(stream_name(kind, ns.as_deref()));
        }
    }
    names
}

fn stream_name(kind: Kind, namespace: Option<&str>) -> String {
    format!("{}/{}", kind.as_str(), namespace.unwrap_or("*"))
}

fn cluster_scoped(kind: Kind) -> bool {
    matches!(
        kind,
        Kind::IngressClass | Kind::GatewayClass | Kind::KongClusterPlugin
    )
}

fn namespaces_for(kind: Kind, scope: &WatchScope) -> Vec<Option<String>> {
    if cluster_scoped(kind) || scope.namespaces.is_empty() {
        vec![None]
    } else {
        scope.namespaces.iter().cloned().map(Some).collect()
    }
}

/// Starts every watch stream. They run while the store is used elsewhere (by the controller's
/// tasks), and end at their next event once it is not.
pub fn spawn_all(client: &Client, scope: &WatchScope, store: &Arc<Store>) {
    for kind in Kind::ALL {
        for ns in namespaces_for(kind, scope) {
            let (client, store) = (client.clone(), Arc::downgrade(store));
            match kind {
                Kind::Service => spawn(
                    namespaced_api::<Service>(client, &ns),
                    kind,
                    ns,
                    store,
                    watcher::Config::default(),
                    |o| Object::Service(Box::new(o)),
                ),
                Kind::EndpointSlice => spawn(
                    namespaced_api::<EndpointSlice>(client, &ns),
                    kind,
                    ns,
                    store,
                    watcher::Config::default().labels("kubernetes.io/service-name"),
                    |o| Object::EndpointSlice(Box::new(o)),
                ),
                Kind::Ingress => spawn(
                    namespaced_api::<Ingress>(client, &ns),
                    kind,
                    ns,
                    store,
                    watcher::Config::default(),
                    |o| Object::Ingress(Box::new(o)),
                ),
                Kind::IngressClass => spawn(
                    Api::<IngressClass>::all(client),
                    kind,
                    ns,
                    store,
                    watcher::Config::default(),
                    |o| Object::IngressClass(Box::new(o)),
                ),
                Kind::HttpRoute => spawn(
                    namespaced_api::<HttpRoute>(client, &ns),
                    kind,
                    ns,
                    store,
                    watcher::Config::default(),
                    |o| Object::HttpRoute(Box::new(o)),
                ),
                Kind::Gateway => spawn(
                    namespaced_api::<Gateway>(client, &ns),
                    kind,
                    ns,
                    store,
                    watcher::Config::default(),
                    |o| Object::Gateway(Box::new(o)),
                ),
                Kind::GatewayClass => spawn(
                    Api::<GatewayClass>::all(client),
                    kind,
                    ns,
                    store,
                    watcher::Config::default(),
                    |o| Object::GatewayClass(Box::new(o)),
                ),
                Kind::KongUpstreamPolicy => spawn(
                    namespaced_api::<KongUpstreamPolicy>(client, &ns),
                    kind,
                    ns,
                    store,
                    watcher::Config::default(),
                    |o| Object::KongUpstreamPolicy(Box::new(o)),
                ),
                Kind::KongPlugin => spawn(
                    namespaced_api::<KongPlugin>(client, &ns),
                    kind,
                    ns,
                    store,
                    watcher::Config::default(),
                    |o| Object::KongPlugin(Box::new(o)),
                ),
                Kind::KongClusterPlugin => spawn(
                    Api::<KongClusterPlugin>::all(client),
                    kind,
                    ns,
                    store,
                    watcher::Config::default(),
                    |o| Object::KongClusterPlugin(Box::new(o)),
                ),
                Kind::Secret => spawn(
                    namespaced_api::<Secret>(client, &ns),
                    kind,
                    ns,
                    store,
                    // TLS certificates and plugin configFrom/configPatches (Opaque) both
                    // come from Secrets; Helm's release records and service account tokens
                    // never do, and are often most of a cluster's Secret bytes.
                    watcher::Config::default().fields(
                        "type!=helm.sh/release.v1,type!=kubernetes.io/service-account-token",
                    ),
                    |o| Object::Secret(Box::new(o)),
                ),
            }
        }
    }
}

fn namespaced_api<K>(client: Client, namespace: &Option<String>) -> Api<K>
where
    K: Resource<DynamicType = (), Scope = NamespaceResourceScope>,
{
    match namespace {
        Some(ns) => Api::namespaced(client, ns),
        None => Api::all(client),
    }
}

fn spawn<K>(
    api: Api<K>,
    kind: Kind,
    namespace: Option<String>,
    store: Weak<Store>,
    config: watcher::Config,
    wrap: fn(K) -> Object,
) where
    K: Resource<DynamicType = ()> + Clone + DeserializeOwned + Debug + Send + Sync + 'static,
{
    tokio::spawn(async move {
        let name = stream_name(kind, namespace.as_deref());
        let mut stream = watcher(api, config).default_backoff().boxed();
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
                Ok(Event::Apply(o)) => store.apply(compact(wrap(o))),
                Ok(Event::Delete(o)) => {
                    store.remove(kind, &o.namespace().unwrap_or_default(), &o.name_any());
                }
                Ok(Event::Init) => seen.clear(),
                Ok(Event::InitApply(o)) => {
                    seen.insert((o.namespace().unwrap_or_default(), o.name_any()));
                    store.apply(compact(wrap(o)));
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
