//! Property tests of the translator over generated clusters: Services with ports,
//! EndpointSlices with ready/not-ready/terminating endpoints, Ingresses, HTTPRoutes with
//! weighted backendRefs and KongUpstreamPolicies.
//!
//! Invariants checked on every generated cluster:
//! - the output (config and problems) is deterministic and does not depend on object order;
//! - every serving endpoint of every referenced Service port is exactly one target of the
//!   upstream (draining ones at weight 0, not-ready ones absent);
//! - per HTTPRoute rule, each Service's aggregate target weight is exactly proportional to its
//!   backendRef weight, or (scaled, with a `WeightRounded` warning) within the bound that
//!   `src/translate/backends/weights.rs` documents; no weight leaves 0..=65535;
//! - every config passes the Kong admin API double's validation (Kong 3.10's rules);
//! - removing one object changes no Kong entity unrelated to it.
//!
//! The model below is the oracle: it knows which Service each backend names, which endpoints
//! serve, and which Kong entities an object can influence, independently of `src/translate`.
//! `sticky-sessions` (which Kong 3.10 rejects, with a warning) is not generated.

use std::collections::{BTreeMap, BTreeSet};

use kingress::kinds::ObjectKey;
use kingress::kong::config::{KongConfig, Upstream};
use kingress::snapshot::{Kind, Object, Snapshot};
use kingress::translate::{self, Options, Reason, Translation};
use proptest::prelude::*;
use serde_json::{Value, json};

const NAMESPACES: [&str; 2] = ["default", "apps"];
const SERVICE_NAMES: [&str; 4] = ["alpha", "beta", "gamma", "delta"];
/// Backends may also name this Service, which never exists.
const MISSING_SERVICE: usize = SERVICE_NAMES.len();
const POLICY_NAMES: [&str; 2] = ["p1", "p2"];
/// Services may also name this policy, which never exists.
const MISSING_POLICY: usize = POLICY_NAMES.len();
const MAX_WEIGHT: u64 = 65535;

// ---------------------------------------------------------------------------------------------
// The model

#[derive(Clone, Debug)]
struct SvcPort {
    name: Option<&'static str>,
    port: i32,
    /// The port endpoints listen on (the EndpointSlice port of the same name).
    target: i32,
}

#[derive(Clone, Debug)]
struct Svc {
    ns: usize,
    name: usize,
    ports: Vec<SvcPort>,
    policy: Option<usize>,
}

#[derive(Clone, Debug)]
struct Ep {
    /// Host part; unique per Service (addresses may repeat within a Service, across slices).
    addr: String,
    ready: Option<bool>,
    terminating: Option<bool>,
}

impl Ep {
    fn serving(&self) -> bool {
        self.terminating != Some(true) && self.ready != Some(false)
    }
    fn draining(&self) -> bool {
        self.terminating == Some(true)
    }
}

#[derive(Clone, Debug)]
struct Slice {
    ns: usize,
    service: usize,
    index: usize,
    /// Port name; `Some("other")` never matches a Service port.
    port_name: Option<&'static str>,
    port: i32,
    endpoints: Vec<Ep>,
}

#[derive(Clone, Debug)]
struct BRef {
    service: usize,
    /// None: implicit (valid only for single-port Services); 9999 never exists.
    port: Option<i32>,
    weight: Option<i32>,
}

#[derive(Clone, Debug)]
struct Rule {
    refs: Vec<BRef>,
}

#[derive(Clone, Debug)]
struct Route {
    ns: usize,
    name: usize,
    hostname: Option<&'static str>,
    rules: Vec<Rule>,
}

#[derive(Clone, Debug)]
struct IngPath {
    service: usize,
    port: i32,
}

#[derive(Clone, Debug)]
struct Ing {
    ns: usize,
    name: usize,
    host: Option<&'static str>,
    paths: Vec<IngPath>,
}

#[derive(Clone, Debug)]
struct Policy {
    ns: usize,
    name: usize,
    spec: Value,
}

#[derive(Clone, Debug)]
struct Cluster {
    services: Vec<Svc>,
    slices: Vec<Slice>,
    routes: Vec<Route>,
    ingresses: Vec<Ing>,
    policies: Vec<Policy>,
}

fn ns(i: usize) -> &'static str {
    NAMESPACES[i]
}

fn svc_name(i: usize) -> &'static str {
    SERVICE_NAMES.get(i).copied().unwrap_or("ghost")
}

fn policy_name(i: usize) -> &'static str {
    POLICY_NAMES.get(i).copied().unwrap_or("no-such-policy")
}

fn route_name(i: usize) -> String {
    format!("route{i}")
}

fn ingress_name(i: usize) -> String {
    format!("ing{i}")
}

fn slice_name(s: &Slice) -> String {
    format!("{}-{}", svc_name(s.service), s.index)
}

/// One object of the cluster, identified as the snapshot identifies it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum ObjId {
    Service(usize, usize),
    Slice(usize, String),
    Route(usize, usize),
    Ingress(usize, usize),
    Policy(usize, usize),
}

impl Cluster {
    fn service(&self, ns: usize, name: usize) -> Option<&Svc> {
        self.services.iter().find(|s| s.ns == ns && s.name == name)
    }

    fn ids(&self) -> Vec<ObjId> {
        let mut ids: Vec<ObjId> = self
            .services
            .iter()
            .map(|s| ObjId::Service(s.ns, s.name))
            .collect();
        ids.extend(
            self.slices
                .iter()
                .map(|s| ObjId::Slice(s.ns, slice_name(s))),
        );
        ids.extend(self.routes.iter().map(|r| ObjId::Route(r.ns, r.name)));
        ids.extend(self.ingresses.iter().map(|i| ObjId::Ingress(i.ns, i.name)));
        ids.extend(self.policies.iter().map(|p| ObjId::Policy(p.ns, p.name)));
        ids
    }

    fn without(&self, id: &ObjId) -> Cluster {
        let mut c = self.clone();
        match id {
            ObjId::Service(n, s) => c.services.retain(|x| !(x.ns == *n && x.name == *s)),
            ObjId::Slice(n, name) => c.slices.retain(|x| !(x.ns == *n && slice_name(x) == *name)),
            ObjId::Route(n, r) => c.routes.retain(|x| !(x.ns == *n && x.name == *r)),
            ObjId::Ingress(n, i) => c.ingresses.retain(|x| !(x.ns == *n && x.name == *i)),
            ObjId::Policy(n, p) => c.policies.retain(|x| !(x.ns == *n && x.name == *p)),
        }
        c
    }

    /// The Service port a backend resolves to, as KIC resolves it.
    fn resolve(&self, ns: usize, service: usize, port: Option<i32>) -> Option<(&Svc, &SvcPort)> {
        let svc = self.service(ns, service)?;
        let p = match port {
            Some(n) => svc.ports.iter().find(|p| p.port == n)?,
            None if svc.ports.len() == 1 => &svc.ports[0],
            None => return None,
        };
        Some((svc, p))
    }

    /// target → draining, for one Service port: serving wins over draining; not-ready
    /// endpoints are left out.
    fn endpoints(&self, svc: &Svc, port: &SvcPort) -> BTreeMap<String, bool> {
        let mut out: BTreeMap<String, bool> = BTreeMap::new();
        for s in &self.slices {
            if s.ns != svc.ns || s.service != svc.name || s.port_name != port.name {
                continue;
            }
            for ep in &s.endpoints {
                if !ep.serving() && !ep.draining() {
                    continue;
                }
                let target = if ep.addr.contains(':') {
                    format!("[{}]:{}", ep.addr, s.port)
                } else {
                    format!("{}:{}", ep.addr, s.port)
                };
                let draining = ep.draining();
                out.entry(target)
                    .and_modify(|d| *d = *d && draining)
                    .or_insert(draining);
            }
        }
        out
    }

    /// Names of the Kong services/upstreams whose content may depend on `id`.
    fn related(&self, id: &ObjId) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        let for_service = |n: usize, s: usize, out: &mut BTreeSet<String>| {
            for p in [80, 443, 8080, 9999] {
                out.insert(format!("{}.{}.{p}", ns(n), svc_name(s)));
                out.insert(format!("{}.{}.{p}.svc", svc_name(s), ns(n)));
            }
            for r in self.routes.iter().filter(|r| r.ns == n) {
                for (i, rule) in r.rules.iter().enumerate() {
                    if rule.refs.iter().any(|b| b.service == s) {
                        out.insert(rule_service(r, i, &r.rules));
                    }
                }
            }
        };
        match id {
            ObjId::Service(n, s) => for_service(*n, *s, &mut out),
            ObjId::Slice(n, name) => {
                let slice = self
                    .slices
                    .iter()
                    .find(|x| x.ns == *n && slice_name(x) == *name)
                    .expect("slice in cluster");
                for_service(*n, slice.service, &mut out);
            }
            ObjId::Policy(n, p) => {
                for s in self
                    .services
                    .iter()
                    .filter(|s| s.ns == *n && s.policy == Some(*p))
                {
                    for_service(s.ns, s.name, &mut out);
                }
            }
            ObjId::Route(n, r) => {
                let route = self
                    .routes
                    .iter()
                    .find(|x| x.ns == *n && x.name == *r)
                    .expect("route in cluster");
                for i in 0..route.rules.len() {
                    out.insert(rule_service(route, i, &route.rules));
                }
            }
            ObjId::Ingress(n, i) => {
                let ing = self
                    .ingresses
                    .iter()
                    .find(|x| x.ns == *n && x.name == *i)
                    .expect("ingress in cluster");
                // Ingress Kong services are shared by every Ingress using the same backend.
                for p in &ing.paths {
                    out.insert(format!("{}.{}.{}", ns(*n), svc_name(p.service), p.port));
                    out.insert(format!("{}.{}.{}.svc", svc_name(p.service), ns(*n), p.port));
                }
            }
        }
        out
    }
}

/// Rules with equal backendRefs share the Kong service of the first of them.
fn rule_service(route: &Route, rule: usize, rules: &[Rule]) -> String {
    let key = |r: &Rule| {
        let mut k: Vec<String> = r
            .refs
            .iter()
            .map(|b| format!("{}:{:?}:{:?}", b.service, b.port, b.weight))
            .collect();
        k.sort();
        k
    };
    let mine = key(&rules[rule]);
    let first = rules
        .iter()
        .position(|r| key(r) == mine)
        .expect("the rule itself matches");
    format!(
        "httproute.{}.{}.{first}",
        ns(route.ns),
        route_name(route.name)
    )
}

// ---------------------------------------------------------------------------------------------
// Model → Kubernetes objects

fn object<T: serde::de::DeserializeOwned>(v: Value) -> T {
    serde_json::from_value(v.clone()).unwrap_or_else(|e| panic!("{e}: {v:#}"))
}

fn objects(c: &Cluster) -> Vec<Object> {
    let mut out = Vec::new();
    for s in &c.services {
        let ports: Vec<Value> = s
            .ports
            .iter()
            .map(|p| {
                let mut v = json!({"port": p.port, "targetPort": p.target, "protocol": "TCP"});
                if let Some(n) = p.name {
                    v["name"] = n.into();
                }
                v
            })
            .collect();
        let mut meta = json!({"name": svc_name(s.name), "namespace": ns(s.ns)});
        if let Some(p) = s.policy {
            meta["annotations"] = json!({"konghq.com/upstream-policy": policy_name(p)});
        }
        out.push(Object::Service(Box::new(object(json!({
            "apiVersion": "v1", "kind": "Service", "metadata": meta,
            "spec": {"ports": ports},
        })))));
    }
    for s in &c.slices {
        let endpoints: Vec<Value> = s
            .endpoints
            .iter()
            .map(|e| {
                let mut cond = serde_json::Map::new();
                if let Some(r) = e.ready {
                    cond.insert("ready".into(), r.into());
                }
                if let Some(t) = e.terminating {
                    cond.insert("terminating".into(), t.into());
                }
                json!({"addresses": [e.addr], "conditions": cond})
            })
            .collect();
        let mut port = json!({"port": s.port, "protocol": "TCP"});
        if let Some(n) = s.port_name {
            port["name"] = n.into();
        }
        let v6 = s.endpoints.first().is_some_and(|e| e.addr.contains(':'));
        out.push(Object::EndpointSlice(Box::new(object(json!({
            "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
            "metadata": {"name": slice_name(s), "namespace": ns(s.ns),
                         "labels": {"kubernetes.io/service-name": svc_name(s.service)}},
            "addressType": if v6 { "IPv6" } else { "IPv4" },
            "ports": [port],
            "endpoints": endpoints,
        })))));
    }
    for r in &c.routes {
        let rules: Vec<Value> = r
            .rules
            .iter()
            .enumerate()
            .map(|(i, rule)| {
                let refs: Vec<Value> = rule
                    .refs
                    .iter()
                    .map(|b| {
                        let mut v = json!({"name": svc_name(b.service)});
                        if let Some(p) = b.port {
                            v["port"] = p.into();
                        }
                        if let Some(w) = b.weight {
                            v["weight"] = w.into();
                        }
                        v
                    })
                    .collect();
                json!({
                    "matches": [{"path": {"type": "PathPrefix", "value": format!("/r{}/rule{i}", r.name)}}],
                    "backendRefs": refs,
                })
            })
            .collect();
        let mut spec = json!({"parentRefs": [{"name": "kong"}], "rules": rules});
        if let Some(h) = r.hostname {
            spec["hostnames"] = json!([h]);
        }
        out.push(Object::HttpRoute(Box::new(object(json!({
            "apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
            "metadata": {"name": route_name(r.name), "namespace": ns(r.ns)},
            "spec": spec,
        })))));
    }
    for i in &c.ingresses {
        let paths: Vec<Value> = i
            .paths
            .iter()
            .enumerate()
            .map(|(k, p)| {
                json!({"path": format!("/i{}/{k}", i.name), "pathType": "Prefix",
                       "backend": {"service": {"name": svc_name(p.service), "port": {"number": p.port}}}})
            })
            .collect();
        let mut rule = json!({"http": {"paths": paths}});
        if let Some(h) = i.host {
            rule["host"] = h.into();
        }
        out.push(Object::Ingress(Box::new(object(json!({
            "apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
            "metadata": {"name": ingress_name(i.name), "namespace": ns(i.ns)},
            "spec": {"ingressClassName": "kong", "rules": [rule]},
        })))));
    }
    for p in &c.policies {
        out.push(Object::KongUpstreamPolicy(Box::new(object(json!({
            "apiVersion": "configuration.konghq.com/v1beta1", "kind": "KongUpstreamPolicy",
            "metadata": {"name": policy_name(p.name), "namespace": ns(p.ns)},
            "spec": p.spec,
        })))));
    }
    out
}

fn options() -> Options {
    Options {
        assume_attached_without_gateways: true,
        ..Options::default()
    }
}

fn translate_objects(objects: Vec<Object>) -> Translation {
    let mut snapshot = Snapshot::new();
    for o in objects {
        snapshot.apply(o);
    }
    translate::translate(&snapshot, &options())
}

fn translate_cluster(c: &Cluster) -> Translation {
    translate_objects(objects(c))
}

fn render(t: &Translation) -> (String, Vec<String>) {
    let json = serde_json::to_string(&t.config).expect("config serialises");
    (json, t.problems.iter().map(|p| p.to_string()).collect())
}

// ---------------------------------------------------------------------------------------------
// Strategies

fn svc_port_strategy() -> impl Strategy<Value = Vec<SvcPort>> {
    prop_oneof![
        // One port, named or not.
        (prop::sample::select(vec![80, 443, 8080]), any::<bool>()).prop_map(|(port, named)| {
            vec![SvcPort {
                name: named.then_some("http"),
                port,
                target: 8080,
            }]
        }),
        // Two named ports.
        Just(vec![
            SvcPort {
                name: Some("http"),
                port: 80,
                target: 8080,
            },
            SvcPort {
                name: Some("admin"),
                port: 443,
                target: 9090,
            },
        ]),
    ]
}

fn services_strategy() -> impl Strategy<Value = Vec<Svc>> {
    let one = (
        0..NAMESPACES.len(),
        0..SERVICE_NAMES.len(),
        svc_port_strategy(),
        prop::option::weighted(0.4, 0..=MISSING_POLICY),
    )
        .prop_map(|(ns, name, ports, policy)| Svc {
            ns,
            name,
            ports,
            policy,
        });
    prop::collection::vec(one, 0..=6).prop_map(|mut v| {
        let mut seen = BTreeSet::new();
        v.retain(|s| seen.insert((s.ns, s.name)));
        v
    })
}

fn endpoint_strategy(ns: usize, service: usize, v6: bool) -> impl Strategy<Value = Ep> {
    (
        0u8..12,
        prop::option::of(any::<bool>()),
        prop::option::weighted(0.25, any::<bool>()),
    )
        .prop_map(move |(host, ready, terminating)| Ep {
            // Unique per (namespace, Service), repeated within one: shared addresses are
            // exercised by repeats across a Service's slices.
            addr: if v6 {
                format!("fd00:{ns}:{service}::{host:x}")
            } else {
                format!("10.{ns}.{service}.{host}")
            },
            ready,
            terminating,
        })
}

fn slices_strategy(services: &[Svc]) -> BoxedStrategy<Vec<Slice>> {
    if services.is_empty() {
        return Just(Vec::new()).boxed();
    }
    let one = (
        prop::sample::select(services.to_vec()),
        0usize..3,
        prop::bool::weighted(0.2),
        0usize..10,
    )
        .prop_flat_map(|(svc, index, v6, pick)| {
            // Mostly a port of the Service (by name), sometimes one that matches none.
            let (port_name, port) = match svc.ports.get(pick % 3) {
                Some(p) if pick < 9 => (p.name, p.target),
                _ => (Some("other"), 7070),
            };
            let (ns, service) = (svc.ns, svc.name);
            prop::collection::vec(endpoint_strategy(ns, service, v6), 0..=9).prop_map(
                move |endpoints| Slice {
                    ns,
                    service,
                    index,
                    port_name,
                    port,
                    endpoints,
                },
            )
        });
    prop::collection::vec(one, 0..=8)
        .prop_map(|mut v| {
            let mut seen = BTreeSet::new();
            v.retain(|s| seen.insert((s.ns, slice_name(s))));
            v
        })
        .boxed()
}

fn weight_strategy() -> impl Strategy<Value = Option<i32>> {
    prop_oneof![
        2 => Just(None),
        1 => Just(Some(0)),
        4 => (1i32..=100).prop_map(Some),
        2 => (1i32..=1_000_000).prop_map(Some),
    ]
}

/// A backend of a route in namespace `ns`: mostly an existing Service there with one of its
/// ports (or implicitly), sometimes a missing Service or port.
fn bref_strategy(services: &[Svc], ns: usize) -> BoxedStrategy<BRef> {
    let local: Vec<Svc> = services.iter().filter(|s| s.ns == ns).cloned().collect();
    let broken = (
        0..=MISSING_SERVICE,
        prop_oneof![Just(None), Just(Some(80)), Just(Some(9999))],
        weight_strategy(),
    )
        .prop_map(|(service, port, weight)| BRef {
            service,
            port,
            weight,
        });
    if local.is_empty() {
        return broken.boxed();
    }
    let good = (prop::sample::select(local), 0usize..3, weight_strategy()).prop_map(
        |(svc, pick, weight)| BRef {
            service: svc.name,
            port: svc.ports.get(pick).map(|p| p.port),
            weight,
        },
    );
    prop_oneof![6 => good, 1 => broken].boxed()
}

fn routes_strategy(services: &[Svc]) -> BoxedStrategy<Vec<Route>> {
    let services = services.to_vec();
    let one = (0..NAMESPACES.len(), 0usize..3).prop_flat_map(move |(ns, name)| {
        // One backendRef per Service: a Service named twice in a rule is its own fixed case
        // below (`a_service_named_twice_in_a_rule_*`), which kingress gets wrong today.
        let rule =
            prop::collection::vec(bref_strategy(&services, ns), 1..=4).prop_map(|mut refs| {
                let mut seen = BTreeSet::new();
                refs.retain(|b| seen.insert(b.service));
                Rule { refs }
            });
        (
            prop::option::of(prop::sample::select(vec!["example.com", "*.example.org"])),
            prop::collection::vec(rule, 1..=3),
        )
            .prop_map(move |(hostname, rules)| Route {
                ns,
                name,
                hostname,
                rules,
            })
    });
    prop::collection::vec(one, 0..=3)
        .prop_map(|mut v| {
            let mut seen = BTreeSet::new();
            v.retain(|r| seen.insert((r.ns, r.name)));
            v
        })
        .boxed()
}

fn ingresses_strategy(services: &[Svc]) -> BoxedStrategy<Vec<Ing>> {
    let services = services.to_vec();
    let one = (0..NAMESPACES.len(), 0usize..2).prop_flat_map(move |(ns, name)| {
        let path = bref_strategy(&services, ns).prop_map(|b| IngPath {
            service: b.service,
            port: b.port.unwrap_or(9999),
        });
        (
            prop::option::of(prop::sample::select(vec!["a.example.com", "b.example.com"])),
            prop::collection::vec(path, 1..=3),
        )
            .prop_map(move |(host, paths)| Ing {
                ns,
                name,
                host,
                paths,
            })
    });
    prop::collection::vec(one, 0..=2)
        .prop_map(|mut v| {
            let mut seen = BTreeSet::new();
            v.retain(|i| seen.insert((i.ns, i.name)));
            v
        })
        .boxed()
}

/// Specs the CRD's CEL rules admit and Kong 3.10 accepts (no sticky-sessions).
fn policy_spec_strategy() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(json!({})),
        Just(json!({"algorithm": "round-robin"})),
        Just(json!({"algorithm": "least-connections"})),
        Just(json!({"algorithm": "latency"})),
        (10i32..=65536).prop_map(|slots| json!({"algorithm": "round-robin", "slots": slots})),
        Just(json!({"algorithm": "consistent-hashing", "hashOn": {"header": "x-user"}})),
        Just(
            json!({"algorithm": "consistent-hashing", "hashOn": {"input": "ip"},
                    "hashOnFallback": {"header": "x-fallback"}})
        ),
        Just(json!({"algorithm": "consistent-hashing",
                    "hashOn": {"cookie": "session", "cookiePath": "/"}})),
        Just(
            json!({"algorithm": "consistent-hashing", "hashOn": {"uriCapture": "id"},
                    "slots": 1000})
        ),
        (1i32..=254, 1i32..=254).prop_map(|(ok, bad)| json!({
            "healthchecks": {
                "active": {"type": "http", "httpPath": "/healthz",
                           "healthy": {"interval": 5, "successes": ok},
                           "unhealthy": {"interval": 5, "httpFailures": bad}},
                "passive": {"healthy": {"successes": ok}, "unhealthy": {"timeouts": bad}},
            }
        })),
    ]
}

fn policies_strategy() -> impl Strategy<Value = Vec<Policy>> {
    let one = (
        0..NAMESPACES.len(),
        0..POLICY_NAMES.len(),
        policy_spec_strategy(),
    )
        .prop_map(|(ns, name, spec)| Policy { ns, name, spec });
    prop::collection::vec(one, 0..=3).prop_map(|mut v| {
        let mut seen = BTreeSet::new();
        v.retain(|p| seen.insert((p.ns, p.name)));
        v
    })
}

fn cluster_strategy() -> impl Strategy<Value = Cluster> {
    services_strategy().prop_flat_map(|services| {
        (
            slices_strategy(&services),
            routes_strategy(&services),
            ingresses_strategy(&services),
            policies_strategy(),
        )
            .prop_map(move |(slices, routes, ingresses, policies)| Cluster {
                services: services.clone(),
                slices,
                routes,
                ingresses,
                policies,
            })
    })
}

/// A fixed seed, so CI runs are reproducible; set `PROPTEST_RNG_SEED=<n>` to explore others
/// (and `PROPTEST_CASES=<n>` for more cases).
const SEED: u64 = 0x6b696e67;

fn config() -> ProptestConfig {
    let defaults = ProptestConfig::default();
    let mut config = ProptestConfig {
        cases: if std::env::var_os("PROPTEST_CASES").is_some() {
            defaults.cases
        } else {
            128
        },
        // Shrinking large clusters can take long; the failing case is printed either way.
        max_shrink_iters: 4000,
        max_shrink_time: 20_000,
        failure_persistence: None,
        ..defaults
    };
    if std::env::var_os("PROPTEST_RNG_SEED").is_none() {
        config.rng_seed = proptest::test_runner::RngSeed::Fixed(SEED);
    }
    config
}

// ---------------------------------------------------------------------------------------------
// Checks

fn upstream<'a>(config: &'a KongConfig, name: &str) -> Option<&'a Upstream> {
    config.upstreams.iter().find(|u| u.name == name)
}

/// target → weight (Kong's default 100 when unset).
fn targets(u: &Upstream) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    for t in &u.targets {
        let previous = out.insert(t.target.clone(), u64::from(t.weight.unwrap_or(100)));
        assert!(
            previous.is_none(),
            "upstream {}: target {} appears twice",
            u.name,
            t.target
        );
    }
    out
}

fn gcd(a: u128, b: u128) -> u128 {
    if b == 0 { a } else { gcd(b, a % b) }
}

/// Checks the targets and weights of every HTTPRoute rule's upstream against the model.
fn check_httproute_upstreams(c: &Cluster, t: &Translation) -> Result<(), TestCaseError> {
    for r in &c.routes {
        for (i, rule) in r.rules.iter().enumerate() {
            let name = rule_service(r, i, &r.rules);
            if !name.ends_with(&format!(".{i}")) {
                continue; // shares the upstream of an earlier rule
            }
            let u = upstream(&t.config, &name);
            prop_assert!(u.is_some(), "no upstream {name}");
            let got = targets(u.expect("checked"));
            // (service, port) → summed backendRef weight; and the serving/draining endpoints.
            let mut weight: BTreeMap<(usize, i32), u128> = BTreeMap::new();
            let mut eps: BTreeMap<(usize, i32), BTreeMap<String, bool>> = BTreeMap::new();
            for b in &rule.refs {
                if let Some((svc, port)) = c.resolve(r.ns, b.service, b.port) {
                    let w = u128::try_from(b.weight.unwrap_or(1)).unwrap_or(0);
                    *weight.entry((svc.name, port.port)).or_default() += w;
                    eps.insert((svc.name, port.port), c.endpoints(svc, port));
                }
            }
            // Exactly the model's targets: serving and draining, nothing else.
            let mut want: BTreeMap<String, bool> = BTreeMap::new();
            for e in eps.values() {
                for (target, draining) in e {
                    want.entry(target.clone())
                        .and_modify(|d| *d = *d && *draining)
                        .or_insert(*draining);
                }
            }
            let got_set: BTreeSet<&String> = got.keys().collect();
            let want_set: BTreeSet<&String> = want.keys().collect();
            prop_assert_eq!(got_set, want_set, "targets of {}", name);
            for (target, w) in &got {
                prop_assert!(*w <= MAX_WEIGHT, "{name}: {target} weight {w} > 65535");
                if want[target] {
                    prop_assert_eq!(*w, 0, "{}: draining {} must have weight 0", name, target);
                }
            }
            // Aggregates per Service port over its serving targets (distinct per Service).
            let mut live: Vec<(u128, u128, u128)> = Vec::new(); // (w, n, aggregate)
            for (key, e) in &eps {
                let serving: Vec<&String> =
                    e.iter().filter(|(_, d)| !**d).map(|(t, _)| t).collect();
                let w = weight[key];
                let agg: u128 = serving.iter().map(|t| u128::from(got[*t])).sum();
                if w == 0 {
                    prop_assert_eq!(agg, 0, "{}: weight-0 backend {:?} gets traffic", name, key);
                    continue;
                }
                if serving.is_empty() {
                    continue;
                }
                // All endpoints of one backend get the same weight.
                let per: BTreeSet<u64> = serving.iter().map(|t| got[*t]).collect();
                prop_assert_eq!(
                    per.len(),
                    1,
                    "{}: backend {:?} has unequal weights {:?}",
                    name,
                    key,
                    per
                );
                live.push((w, serving.len() as u128, agg));
            }
            let rounded = t.problems.iter().any(|p| {
                p.reason == Reason::WeightRounded
                    && p.message.contains(&format!("upstream {name} "))
            });
            // The exact split: t_b = w_b·L/n_b with L = lcm(n_b / gcd(w_b, n_b)).
            let mut l: u128 = 1;
            for (w, n, _) in &live {
                let need = n / gcd(*w, *n);
                l = l / gcd(l, need) * need;
                l = l.min(u128::from(u64::MAX));
            }
            let exact_fits = live
                .iter()
                .all(|(w, n, _)| w * l / n <= u128::from(MAX_WEIGHT));
            if !rounded {
                prop_assert!(
                    exact_fits || live.is_empty(),
                    "{name}: exact split needs > 65535 but no WeightRounded warning"
                );
                for (wa, _, aa) in &live {
                    for (wb, _, ab) in &live {
                        prop_assert_eq!(
                            aa * wb,
                            ab * wa,
                            "{}: aggregates {:?} not proportional to weights",
                            name,
                            live
                        );
                    }
                }
            } else {
                prop_assert!(
                    !exact_fits,
                    "{name}: rounded although the exact split fits: {live:?}"
                );
                // Scaled so the largest per-endpoint share is 65535, rounded to nearest, never
                // below 1: each aggregate is within 1/(2·t_b) of the ideal, relative.
                let max_share = live
                    .iter()
                    .map(|(w, n, _)| *w as f64 / *n as f64)
                    .fold(0.0, f64::max);
                let scale = MAX_WEIGHT as f64 / max_share;
                for (w, n, agg) in &live {
                    let t_b = *agg as f64 / *n as f64;
                    let ideal = *w as f64 / *n as f64 * scale;
                    if ideal < 0.5 {
                        prop_assert_eq!(t_b, 1.0, "{}: tiny share rounds up to 1", name);
                        continue;
                    }
                    let rel = (t_b - ideal).abs() / t_b;
                    prop_assert!(
                        rel <= 1.0 / (2.0 * t_b) + 1e-9,
                        "{name}: backend (w {w}, n {n}) weight {t_b} vs ideal {ideal}: relative error {rel} > 1/(2·{t_b})"
                    );
                }
            }
        }
    }
    Ok(())
}

/// Ingress upstreams: every serving endpoint once (Kong's default weight), draining at 0.
fn check_ingress_upstreams(c: &Cluster, t: &Translation) -> Result<(), TestCaseError> {
    for i in &c.ingresses {
        for p in &i.paths {
            let Some((svc, port)) = c.resolve(i.ns, p.service, Some(p.port)) else {
                continue;
            };
            let name = format!("{}.{}.{}.svc", svc_name(svc.name), ns(svc.ns), port.port);
            let u = upstream(&t.config, &name);
            prop_assert!(u.is_some(), "no upstream {name}");
            let got = targets(u.expect("checked"));
            let want = c.endpoints(svc, port);
            prop_assert_eq!(
                got.keys().collect::<Vec<_>>(),
                want.keys().collect::<Vec<_>>(),
                "targets of {}",
                name
            );
            for (target, draining) in &want {
                let w = got[target];
                prop_assert_eq!(w, if *draining { 0 } else { 100 }, "{} {}", name, target);
            }
        }
    }
    Ok(())
}

fn check_kong_accepts(t: &Translation) -> Result<(), TestCaseError> {
    let value = serde_json::to_value(&t.config).expect("config as JSON");
    if let Err(e) = kong_admin_double::validate(&value) {
        let flat = serde_json::to_string_pretty(&e.flattened_errors()).unwrap_or_default();
        return Err(TestCaseError::fail(format!(
            "Kong rejects the config: {flat}\n{}",
            serde_json::to_string_pretty(&value).unwrap_or_default()
        )));
    }
    Ok(())
}

/// Kong entities by kind and name, as compared across a removal: a Kong service with its
/// routes (and service plugins), an upstream with its targets, a global plugin, a certificate.
fn entities(config: &KongConfig) -> BTreeMap<(String, String), String> {
    let mut out = BTreeMap::new();
    for s in &config.services {
        let plugins: Vec<_> = config
            .plugins
            .iter()
            .filter(|p| {
                p.service.as_deref() == Some(s.name.as_str())
                    || p.route
                        .as_deref()
                        .is_some_and(|r| s.routes.iter().any(|x| x.name == r))
            })
            .collect();
        let text = serde_json::to_string(&(s, plugins)).expect("json");
        out.insert(("service".into(), s.name.clone()), text);
    }
    for u in &config.upstreams {
        out.insert(
            ("upstream".into(), u.name.clone()),
            serde_json::to_string(u).expect("json"),
        );
    }
    for p in config
        .plugins
        .iter()
        .filter(|p| p.service.is_none() && p.route.is_none())
    {
        out.insert(
            ("plugin".into(), p.id.clone()),
            serde_json::to_string(p).expect("json"),
        );
    }
    for c in &config.certificates {
        out.insert(
            ("certificate".into(), c.id.clone()),
            serde_json::to_string(c).expect("json"),
        );
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Properties

proptest! {
    #![proptest_config(config())]

    #[test]
    fn output_is_deterministic_and_independent_of_object_order(
        (c, order) in cluster_strategy().prop_flat_map(|c| {
            let n = objects(&c).len();
            let order: Vec<usize> = (0..n).collect();
            (Just(c), Just(order).prop_shuffle())
        })
    ) {
        let first = render(&translate_cluster(&c));
        let again = render(&translate_cluster(&c));
        prop_assert_eq!(&first, &again, "two translations of the same objects differ");
        let objs = objects(&c);
        let shuffled: Vec<Object> = order.iter().map(|&i| objs[i].clone()).collect();
        let reordered = render(&translate_objects(shuffled));
        prop_assert_eq!(&first.0, &reordered.0, "config depends on object order");
        prop_assert_eq!(&first.1, &reordered.1, "problems depend on object order");
    }

    #[test]
    fn targets_and_weights_follow_endpoints_and_backend_weights(c in cluster_strategy()) {
        let t = translate_cluster(&c);
        check_httproute_upstreams(&c, &t)?;
        check_ingress_upstreams(&c, &t)?;
        for u in &t.config.upstreams {
            for target in &u.targets {
                prop_assert!(target.weight.is_none_or(|w| u64::from(w) <= MAX_WEIGHT));
            }
        }
    }

    #[test]
    fn kong_accepts_every_config(c in cluster_strategy()) {
        check_kong_accepts(&translate_cluster(&c))?;
    }

    #[test]
    fn removing_an_object_changes_only_entities_related_to_it(
        (c, pick) in cluster_strategy().prop_flat_map(|c| {
            let n = c.ids().len().max(1);
            (Just(c), 0..n)
        })
    ) {
        let ids = c.ids();
        prop_assume!(!ids.is_empty());
        let id = &ids[pick];
        let related = c.related(id);
        let before = entities(&translate_cluster(&c).config);
        let after_translation = translate_cluster(&c.without(id));
        check_kong_accepts(&after_translation)?;
        let after = entities(&after_translation.config);
        let keys: BTreeSet<&(String, String)> = before.keys().chain(after.keys()).collect();
        for key in keys {
            // KIC's stub upstream stands for "no entities": it comes and goes with the whole
            // config, not with any one object.
            if related.contains(&key.1) || (key.0 == "upstream" && key.1 == "kong") {
                continue;
            }
            prop_assert_eq!(
                before.get(key),
                after.get(key),
                "removing {:?} changed unrelated {} {}",
                id,
                key.0,
                key.1
            );
        }
    }

    /// The fallback leaves an object out as if it and what depends on it were not in the
    /// cluster: the same config as translating the cluster with them deleted, which is what
    /// KIC's fallback does to its cache (v3.5.13 internal/dataplane/fallback/fallback.go
    /// lines 31-61).
    #[test]
    fn excluding_an_object_is_deleting_it_and_its_dependents(
        (c, pick) in cluster_strategy().prop_flat_map(|c| {
            let n = c.ids().len().max(1);
            (Just(c), 0..n)
        })
    ) {
        let ids = c.ids();
        prop_assume!(!ids.is_empty());
        let key = match &ids[pick] {
            ObjId::Service(n, s) => ObjectKey::new(Kind::Service, ns(*n), svc_name(*s)),
            ObjId::Slice(n, name) => ObjectKey::new(Kind::EndpointSlice, ns(*n), name),
            ObjId::Route(n, r) => ObjectKey::new(Kind::HttpRoute, ns(*n), &route_name(*r)),
            ObjId::Ingress(n, i) => ObjectKey::new(Kind::Ingress, ns(*n), &ingress_name(*i)),
            ObjId::Policy(n, p) => ObjectKey::new(Kind::KongUpstreamPolicy, ns(*n), policy_name(*p)),
        };
        let mut snapshot = Snapshot::new();
        for o in objects(&c) {
            snapshot.apply(o);
        }
        let rejected: BTreeSet<ObjectKey> = [key].into();
        let excluding = Options { excluded: rejected.clone(), ..options() };
        let excluded = translate::translate(&snapshot, &excluding);
        let left_out = translate::fallback::Excluded::new(&snapshot, &rejected);
        for k in left_out.keys() {
            snapshot.remove(k.kind, &k.namespace, &k.name);
        }
        let deleted = translate::translate(&snapshot, &options());
        let (a, b) = (render(&excluded).0, render(&deleted).0);
        let at = a.bytes().zip(b.bytes()).take_while(|(x, y)| x == y).count();
        prop_assert!(
            a == b,
            "left out {:?}; excluding gives ...{} where deleting gives ...{}",
            left_out.keys().collect::<Vec<_>>(),
            &a[at.saturating_sub(300)..(at + 300).min(a.len())],
            &b[at.saturating_sub(300)..(at + 300).min(b.len())]
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Fixed cases the properties found or that random generation rarely reaches

fn slice(ns_: usize, service: usize, n: u8) -> Slice {
    Slice {
        ns: ns_,
        service,
        index: 0,
        port_name: Some("http"),
        port: 8080,
        endpoints: (0..n)
            .map(|h| Ep {
                addr: format!("10.{ns_}.{service}.{h}"),
                ready: Some(true),
                terminating: None,
            })
            .collect(),
    }
}

fn http_service(ns_: usize, name: usize) -> Svc {
    Svc {
        ns: ns_,
        name,
        ports: vec![SvcPort {
            name: Some("http"),
            port: 80,
            target: 8080,
        }],
        policy: None,
    }
}

fn one_rule(refs: Vec<BRef>) -> Cluster {
    Cluster {
        services: vec![http_service(0, 0), http_service(0, 1)],
        slices: vec![slice(0, 0, 1), slice(0, 1, 1)],
        routes: vec![Route {
            ns: 0,
            name: 0,
            hostname: None,
            rules: vec![Rule { refs }],
        }],
        ingresses: vec![],
        policies: vec![],
    }
}

fn run_checks(c: &Cluster) {
    let t = translate_cluster(c);
    let result = check_httproute_upstreams(c, &t).and_then(|_| check_kong_accepts(&t));
    if let Err(e) = result {
        panic!("{e}\nproblems: {:#?}", render(&t).1);
    }
}

#[test]
fn large_coprime_split_is_scaled_within_the_documented_bound() {
    // Endpoint counts 7 and 9 with weights 1_000_000 and 1: the exact L is far above 65535.
    let mut c = one_rule(vec![
        BRef {
            service: 0,
            port: Some(80),
            weight: Some(1_000_000),
        },
        BRef {
            service: 1,
            port: Some(80),
            weight: Some(3),
        },
    ]);
    c.slices = vec![slice(0, 0, 7), slice(0, 1, 9)];
    run_checks(&c);
    let t = translate_cluster(&c);
    assert!(
        t.problems.iter().any(|p| p.reason == Reason::WeightRounded),
        "{:#?}",
        t.problems
    );
}

/// The same Service named twice in one rule (Gateway API allows it; the weights add up):
/// kingress distributes per backendRef and then sums the two targets' weights, clamping the sum
/// at 65535 without a warning. 60000 + 60000 for `alpha` against 60000 for `beta` (one endpoint
/// each) asks for 2:1 and gets 65535:60000, about 52:48.
#[test]
fn a_service_named_twice_in_a_rule_keeps_the_split() {
    let c = one_rule(vec![
        BRef {
            service: 0,
            port: Some(80),
            weight: Some(60_000),
        },
        BRef {
            service: 0,
            port: Some(80),
            weight: Some(60_000),
        },
        BRef {
            service: 1,
            port: Some(80),
            weight: Some(60_000),
        },
    ]);
    run_checks(&c);
}

/// A Service named twice whose summed split is exact within 65535 must not be rounded:
/// 100000 + 50000 over 3 endpoints is 50000 per endpoint, exactly.
#[test]
fn a_service_named_twice_in_a_rule_is_not_rounded_needlessly() {
    let mut c = one_rule(vec![
        BRef {
            service: 0,
            port: Some(80),
            weight: Some(100_000),
        },
        BRef {
            service: 0,
            port: None,
            weight: Some(50_000),
        },
    ]);
    c.slices = vec![slice(0, 0, 3), slice(0, 1, 1)];
    run_checks(&c);
}

#[test]
fn removing_a_slice_only_touches_its_services_upstreams() {
    let mut c = one_rule(vec![BRef {
        service: 0,
        port: None,
        weight: None,
    }]);
    c.ingresses = vec![Ing {
        ns: 0,
        name: 0,
        host: None,
        paths: vec![IngPath {
            service: 1,
            port: 80,
        }],
    }];
    let id = ObjId::Slice(0, "alpha-0".into());
    let related = c.related(&id);
    let before = entities(&translate_cluster(&c).config);
    let after = entities(&translate_cluster(&c.without(&id)).config);
    assert_ne!(
        before.get(&("upstream".into(), "httproute.default.route0.0".into())),
        after.get(&("upstream".into(), "httproute.default.route0.0".into())),
        "the slice's targets go"
    );
    assert!(related.contains("httproute.default.route0.0"));
    for (key, value) in &before {
        if !related.contains(&key.1) {
            assert_eq!(Some(value), after.get(key), "{key:?}");
        }
    }
    // Sanity: the snapshot kinds the model produces are the ones translation reads.
    let mut s = Snapshot::new();
    for o in objects(&c) {
        s.apply(o);
    }
    assert_eq!(s.count(Kind::EndpointSlice), 2);
}
