//! Synthetic clusters: deterministic, seeded sets of Kubernetes objects of any size, for
//! benchmarks, scale tests and trying `kingress translate` at scale
//! (`cargo run --release --example bench-cluster -- --services 10000 --out c.yaml`).
//!
//! Shape of a cluster of N Services with E endpoints each. Every choice about Service `i` is
//! drawn from a hash of `(seed, i)`, so with the same seed a small cluster is the prefix of a
//! bigger one, and the same `Spec` always gives the same objects, byte for byte.
//!
//! - Namespaces `bench-0000`, … of [`SERVICES_PER_NAMESPACE`] Services each. Each namespace
//!   has a Gateway `kong`, two KongUpstreamPolicies (`hash-by-user`: consistent hashing on a
//!   header; `least-conn`: least-connections with passive health checks) and two KongPlugins
//!   (`svc-limit`, `route-limit`: rate limiting).
//! - Service `svc-00042`: port 80 `http` → 8080, and E ready endpoints spread over
//!   EndpointSlices of at most [`MAX_ENDPOINTS_PER_SLICE`], written as the EndpointSlice
//!   controller writes them (targetRef, nodeName, zone, conditions, owner reference).
//! - About 70% of Services are routed by an Ingress (one host, two paths), 30% by an HTTPRoute;
//!   a third of the HTTPRoutes split 90/10 with the next Service of the namespace.
//! - About 10% of Services name a KongUpstreamPolicy, 5% a service-scoped KongPlugin, and 5%
//!   of the routes a route-scoped KongPlugin; one KongClusterPlugin is global.
//! - One GatewayClass and one IngressClass, both `kong`.

mod build;
mod yaml;

use std::collections::BTreeMap;

pub use build::{endpoint_slices, upstream_policy};
pub use yaml::write_yaml;

use crate::api::EndpointSlice;
use crate::snapshot::{Object, Snapshot};

/// Services per namespace.
pub const SERVICES_PER_NAMESPACE: usize = 100;
/// The EndpointSlice controller's default `--max-endpoints-per-slice`.
pub const MAX_ENDPOINTS_PER_SLICE: usize = 100;
/// The Service port every synthetic Service exposes, and the Pods' port.
pub const SERVICE_PORT: i32 = 80;
pub const POD_PORT: i32 = 8080;

/// How big, and which random choices.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Spec {
    pub services: usize,
    /// Ready endpoints per Service.
    pub endpoints: usize,
    pub seed: u64,
}

/// What routes traffic to a Service.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Routing {
    Ingress,
    HttpRoute,
    /// An HTTPRoute sending 90% to this Service and 10% to `canary` (a Service index).
    SplitHttpRoute {
        canary: usize,
    },
}

/// The choices made for one Service.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Traits {
    pub routing: Routing,
    /// Index into [`POLICIES`] of the KongUpstreamPolicy the Service names.
    pub policy: Option<usize>,
    /// The Service names the KongPlugin `svc-limit`.
    pub service_plugin: bool,
    /// Its Ingress or HTTPRoute names the KongPlugin `route-limit`.
    pub route_plugin: bool,
}

/// The KongUpstreamPolicies of every namespace.
pub const POLICIES: [&str; 2] = ["hash-by-user", "least-conn"];

/// SplitMix64: a tiny, fixed PRNG step, so outputs never change with a dependency's version.
pub(crate) fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

impl Spec {
    pub fn new(services: usize, endpoints: usize, seed: u64) -> Spec {
        Spec {
            services,
            endpoints,
            seed,
        }
    }

    /// A hash of `(seed, a, b)`.
    pub(crate) fn hash(&self, a: u64, b: u64) -> u64 {
        mix(mix(self.seed ^ mix(a)) ^ b)
    }

    pub fn namespaces(&self) -> usize {
        self.services.div_ceil(SERVICES_PER_NAMESPACE)
    }

    pub fn namespace_name(ns: usize) -> String {
        format!("bench-{ns:04}")
    }

    /// The namespace of Service `i`.
    pub fn namespace_of(&self, i: usize) -> String {
        Self::namespace_name(i / SERVICES_PER_NAMESPACE)
    }

    pub fn service_name(i: usize) -> String {
        format!("svc-{i:05}")
    }

    /// EndpointSlices per Service (at least one, which may be empty).
    pub fn slices_per_service(&self) -> usize {
        self.endpoints.div_ceil(MAX_ENDPOINTS_PER_SLICE).max(1)
    }

    /// Ingresses + HTTPRoutes: one per Service.
    pub fn routes(&self) -> usize {
        self.services
    }

    /// The KongUpstreamPolicy Service `i` names (an index into [`POLICIES`]), if any.
    pub fn policy(&self, i: usize) -> Option<usize> {
        let h = self.hash(i as u64, 0x706f_6c69_6379);
        h.is_multiple_of(10)
            .then(|| ((h >> 8) % POLICIES.len() as u64) as usize)
    }

    /// Whether Service `i` names the KongPlugin `svc-limit` (one in twenty).
    fn service_plugin(&self, i: usize) -> bool {
        let h = self.hash(i as u64, 0x7472_6169_7473);
        (h >> 24).is_multiple_of(20)
    }

    pub fn traits(&self, i: usize) -> Traits {
        let h = self.hash(i as u64, 0x7472_6169_7473);
        let pick = |shift: u32, modulus: u64| (h >> shift) % modulus;
        let first = i - i % SERVICES_PER_NAMESPACE;
        let in_namespace = (self.services - first).min(SERVICES_PER_NAMESPACE);
        let canary = first + (i - first + 1) % in_namespace;
        let policy = self.policy(i);
        let routing = match pick(0, 10) {
            0..=6 => Routing::Ingress,
            // A split needs a second Service in the namespace, and both must name the same
            // policy (else Kong gets none: an error kingress reports) and the same plugins
            // (else KIC, and kingress, leave the Kong service out).
            7 if canary != i
                && self.policy(canary) == policy
                && self.service_plugin(canary) == self.service_plugin(i) =>
            {
                Routing::SplitHttpRoute { canary }
            }
            _ => Routing::HttpRoute,
        };
        Traits {
            routing,
            policy,
            service_plugin: self.service_plugin(i),
            route_plugin: pick(32, 20) == 0,
        }
    }

    /// The address of endpoint `k` of Service `i`: distinct across the cluster (up to 16M
    /// endpoints), scattered over 10.0.0.0/8 by the seed.
    pub fn pod_ip(&self, i: usize, k: usize) -> String {
        let p = (i as u64) * (self.endpoints.max(1) as u64) + k as u64;
        // An odd multiplier is a bijection modulo 2^24.
        let v = (p.wrapping_mul(0x9e_3779).wrapping_add(self.seed)) & 0x00ff_ffff;
        format!("10.{}.{}.{}", v >> 16, (v >> 8) & 0xff, v & 0xff)
    }
}

/// Every object of the cluster, cluster-scoped ones first, then namespace by namespace
/// (Gateway, policies, plugins, then per Service: Service, EndpointSlices, route object).
pub fn objects(spec: &Spec) -> Vec<Object> {
    let mut out = Vec::new();
    for_each_object(spec, |o| out.push(o));
    out
}

/// [`objects`] one at a time, without holding them all.
pub fn for_each_object(spec: &Spec, mut f: impl FnMut(Object)) {
    build::cluster_scoped(spec).into_iter().for_each(&mut f);
    for ns in 0..spec.namespaces() {
        build::namespace_objects(spec, ns)
            .into_iter()
            .for_each(&mut f);
        let first = ns * SERVICES_PER_NAMESPACE;
        let last = (first + SERVICES_PER_NAMESPACE).min(spec.services);
        for i in first..last {
            build::service_objects(spec, i).into_iter().for_each(&mut f);
        }
    }
}

/// The cluster as the controller's store would hold it: objects are applied as they are
/// made, as watch events arrive, so the heap looks like a controller's after its first list.
pub fn snapshot(spec: &Spec) -> Snapshot {
    let mut snapshot = Snapshot::new();
    for_each_object(spec, |o| snapshot.apply(o));
    snapshot
}

/// Object counts by kind, for summaries.
pub fn summary(objects: &[Object]) -> BTreeMap<&'static str, usize> {
    let mut counts = BTreeMap::new();
    for o in objects {
        *counts.entry(o.kind().as_str()).or_default() += 1;
    }
    counts
}

/// Total ready endpoints in the slices given.
pub fn endpoint_count<'a>(slices: impl IntoIterator<Item = &'a EndpointSlice>) -> usize {
    slices.into_iter().map(|s| s.endpoints.len()).sum()
}

#[cfg(test)]
mod tests;
