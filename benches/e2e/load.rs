//! Writing a synthetic cluster (`kingress::synthetic`) into the apiserver: creates in
//! parallel (the apiserver and etcd are the bottleneck, not the client), and server-side
//! apply for the changes the benchmark times.

use std::fmt::Debug;
use std::time::Instant;

use futures::{StreamExt, stream};
use k8s_openapi::api::core::v1::Namespace;
use kingress::snapshot::Object;
use kingress::synthetic::{self, SERVICES_PER_NAMESPACE, Spec};
use kube::api::{Api, ObjectMeta, Patch, PatchParams, PostParams};
use kube::core::{ClusterResourceScope, NamespaceResourceScope};
use kube::{Client, Resource, ResourceExt};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// Requests in flight while loading.
const PARALLEL: usize = 48;
pub const MANAGER: &str = "kingress-bench";

/// The apiserver sets uids (and rejects applies whose uid differs).
fn clear_uid<K: Resource>(mut o: K) -> K {
    o.meta_mut().uid = None;
    o
}

fn ns_api<K>(client: &Client, o: &K) -> Api<K>
where
    K: Resource<DynamicType = (), Scope = NamespaceResourceScope>,
{
    Api::namespaced(
        client.clone(),
        o.meta().namespace.as_deref().unwrap_or("default"),
    )
}

fn cluster_api<K>(client: &Client) -> Api<K>
where
    K: Resource<DynamicType = (), Scope = ClusterResourceScope>,
{
    Api::all(client.clone())
}

async fn create<K>(api: Api<K>, o: K) -> Result<(), String>
where
    K: Resource<DynamicType = ()> + Clone + Debug + Serialize + DeserializeOwned,
{
    let o = clear_uid(o);
    match api.create(&PostParams::default(), &o).await {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(e)) if e.code == 409 => Ok(()),
        Err(e) => Err(format!("creating {} {}: {e}", K::kind(&()), o.name_any())),
    }
}

async fn create_object(client: &Client, o: Object) -> Result<(), String> {
    match o {
        Object::Service(mut x) => {
            // Headless: no cluster IP to allocate, which halves the cost of a Service create
            // (kingress routes to the EndpointSlices either way).
            if let Some(spec) = x.spec.as_mut() {
                spec.cluster_ip = Some("None".into());
            }
            create(ns_api(client, &*x), *x).await
        }
        Object::EndpointSlice(x) => create(ns_api(client, &*x), *x).await,
        Object::Ingress(x) => create(ns_api(client, &*x), *x).await,
        Object::IngressClass(x) => create(cluster_api(client), *x).await,
        Object::IngressClassParameters(x) => create(ns_api(client, &*x), *x).await,
        Object::HttpRoute(x) => create(ns_api(client, &*x), *x).await,
        Object::GrpcRoute(x) => create(ns_api(client, &*x), *x).await,
        Object::TcpRoute(x) => create(ns_api(client, &*x), *x).await,
        Object::UdpRoute(x) => create(ns_api(client, &*x), *x).await,
        Object::TlsRoute(x) => create(ns_api(client, &*x), *x).await,
        Object::TcpIngress(x) => create(ns_api(client, &*x), *x).await,
        Object::UdpIngress(x) => create(ns_api(client, &*x), *x).await,
        Object::Gateway(x) => create(ns_api(client, &*x), *x).await,
        Object::GatewayClass(x) => create(cluster_api(client), *x).await,
        Object::ReferenceGrant(x) => create(ns_api(client, &*x), *x).await,
        Object::KongUpstreamPolicy(x) => create(ns_api(client, &*x), *x).await,
        Object::KongIngress(x) => create(ns_api(client, &*x), *x).await,
        Object::KongVault(x) => create(cluster_api(client), *x).await,
        Object::KongServiceFacade(x) => create(ns_api(client, &*x), *x).await,
        Object::KongCustomEntity(x) => create(ns_api(client, &*x), *x).await,
        Object::KongPlugin(x) => create(ns_api(client, &*x), *x).await,
        Object::KongClusterPlugin(x) => create(cluster_api(client), *x).await,
        Object::KongConsumer(x) => create(ns_api(client, &*x), *x).await,
        Object::KongConsumerGroup(x) => create(ns_api(client, &*x), *x).await,
        Object::Secret(x) => create(ns_api(client, &*x), *x).await,
        Object::ConfigMap(x) => create(ns_api(client, &*x), *x).await,
        Object::Namespace(x) => create(cluster_api(client), *x).await,
        Object::BackendTlsPolicy(x) => create(ns_api(client, &*x), *x).await,
    }
}

/// Creates the objects of Services `from..spec.services` (and their namespaces' shared
/// objects; the cluster-scoped ones when `from` is 0). Returns the objects created.
pub async fn load(client: &Client, spec: &Spec, from: usize) -> usize {
    let started = Instant::now();
    let all = synthetic::objects(spec);
    let first_ns = from.div_ceil(SERVICES_PER_NAMESPACE);
    let namespaces: Api<Namespace> = Api::all(client.clone());
    for ns in first_ns..spec.namespaces() {
        let n = Namespace {
            metadata: ObjectMeta {
                name: Some(Spec::namespace_name(ns)),
                ..ObjectMeta::default()
            },
            ..Namespace::default()
        };
        match namespaces.create(&PostParams::default(), &n).await {
            Ok(_) => {}
            Err(kube::Error::Api(e)) if e.code == 409 => {}
            Err(e) => panic!("creating namespace {ns}: {e}"),
        }
    }
    let wanted = |o: &Object| -> bool {
        let meta = match o {
            Object::Service(x) => x.meta(),
            Object::EndpointSlice(x) => x.meta(),
            Object::Ingress(x) => x.meta(),
            Object::HttpRoute(x) => x.meta(),
            Object::Gateway(x) => x.meta(),
            Object::KongUpstreamPolicy(x) => x.meta(),
            Object::KongPlugin(x) => x.meta(),
            _ => return from == 0,
        };
        let ns = meta.namespace.as_deref().unwrap_or_default();
        let ns_index: usize = ns
            .strip_prefix("bench-")
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        ns_index >= first_ns
    };
    // Cluster-scoped and per-namespace objects first: routes need their Gateway.
    let (shared, per_service): (Vec<Object>, Vec<Object>) =
        all.into_iter().filter(wanted).partition(|o| {
            !matches!(
                o,
                Object::Service(_)
                    | Object::EndpointSlice(_)
                    | Object::Ingress(_)
                    | Object::HttpRoute(_)
            )
        });
    let count = shared.len() + per_service.len();
    for batch in [shared, per_service] {
        let results: Vec<Result<(), String>> = stream::iter(batch)
            .map(|o| create_object(client, o))
            .buffer_unordered(PARALLEL)
            .collect()
            .await;
        if let Some(Err(e)) = results.into_iter().find(Result::is_err) {
            panic!("{e}");
        }
    }
    eprintln!(
        "e2e: created {count} objects for Services {from}..{} in {:.1}s",
        spec.services,
        started.elapsed().as_secs_f64()
    );
    count
}

/// Server-side apply (forced) of one object, as `kubectl apply --server-side` would.
pub async fn apply<K>(client: &Client, o: K)
where
    K: Resource<DynamicType = (), Scope = NamespaceResourceScope>
        + Clone
        + Debug
        + Serialize
        + DeserializeOwned,
{
    let o = clear_uid(o);
    let params = PatchParams::apply(MANAGER).force();
    ns_api(client, &o)
        .patch(&o.name_any(), &params, &Patch::Apply(&o))
        .await
        .unwrap_or_else(|e| panic!("applying {} {}: {e}", K::kind(&()), o.name_any()));
}
