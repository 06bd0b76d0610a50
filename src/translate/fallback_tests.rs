use std::path::Path;

use super::*;
use crate::manifests::{Loaded, load_str};

fn snapshot(yaml: &str) -> Snapshot {
    let mut loaded = Loaded::default();
    load_str(yaml, Path::new("test.yaml"), &mut loaded);
    assert!(loaded.problems.is_empty(), "{:?}", loaded.problems);
    loaded.snapshot
}

fn key(text: &str) -> ObjectKey {
    let parts: Vec<&str> = text.split('/').collect();
    let kind = Kind::by_name(parts[0]).expect("kind");
    match parts.as_slice() {
        [_, ns, name] => ObjectKey::new(kind, ns, name),
        [_, name] => ObjectKey::new(kind, "", name),
        _ => panic!("bad key {text}"),
    }
}

/// The objects left out when `rejected` are, as `Kind/ns/name`, sorted.
fn left_out(snapshot: &Snapshot, rejected: &[&str]) -> Vec<String> {
    let rejected = rejected.iter().map(|k| key(k)).collect();
    let mut out: Vec<String> = Excluded::new(snapshot, &rejected)
        .keys()
        .map(text)
        .collect();
    out.sort();
    out
}

/// `Kind/ns/name`, or `Kind/name` when cluster-scoped: what [`key`] reads.
fn text(k: &ObjectKey) -> String {
    match k.namespace.as_str() {
        "" => format!("{}/{}", k.kind, k.name),
        ns => format!("{}/{ns}/{}", k.kind, k.name),
    }
}

const CLUSTER: &str = r#"
apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata: {name: kong}
spec: {controller: ingress-controllers.konghq.com/kong}
---
apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata: {name: other}
spec: {controller: example.com/other}
---
apiVersion: v1
kind: Secret
metadata: {name: creds, namespace: a}
data: {key: dmFsdWU=}
---
apiVersion: v1
kind: Secret
metadata: {name: shared, namespace: b}
data: {key: dmFsdWU=}
---
apiVersion: configuration.konghq.com/v1
kind: KongPlugin
metadata: {name: auth, namespace: a}
plugin: key-auth
configFrom: {secretKeyRef: {name: creds, key: key}}
---
apiVersion: configuration.konghq.com/v1
kind: KongPlugin
metadata: {name: patched, namespace: a}
plugin: key-auth
configPatches:
- path: /key_names
  valueFrom: {secretKeyRef: {name: creds, key: key}}
---
apiVersion: configuration.konghq.com/v1
kind: KongClusterPlugin
metadata: {name: auth}
plugin: key-auth
---
apiVersion: configuration.konghq.com/v1
kind: KongClusterPlugin
metadata: {name: limits}
plugin: rate-limiting
configFrom: {secretKeyRef: {name: shared, namespace: b, key: key}}
---
apiVersion: configuration.konghq.com/v1beta1
kind: KongUpstreamPolicy
metadata: {name: sticky, namespace: a}
spec: {algorithm: consistent-hashing, hashOn: {header: x-user}}
---
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: a
  annotations: {konghq.com/upstream-policy: sticky}
spec: {ports: [{port: 80}]}
---
apiVersion: v1
kind: Service
metadata:
  name: api
  namespace: a
  annotations: {konghq.com/plugins: "patched"}
spec: {ports: [{port: 80}]}
---
apiVersion: v1
kind: Service
metadata: {name: fallback, namespace: a}
spec: {ports: [{port: 80}]}
---
apiVersion: v1
kind: Service
metadata: {name: db, namespace: b}
spec: {ports: [{port: 80}]}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: shop
  namespace: a
  annotations: {konghq.com/plugins: " auth , limits,"}
spec:
  ingressClassName: kong
  defaultBackend: {service: {name: fallback, port: {number: 80}}}
  rules:
  - http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: legacy
  namespace: a
  annotations: {kubernetes.io/ingress.class: other, konghq.com/upstream-policy: sticky}
spec:
  rules:
  - http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: missing, port: {number: 80}}}}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: store, namespace: a}
spec:
  rules:
  - backendRefs:
    - {name: api, port: 80}
    - {name: db, namespace: b, port: 80}
    - {name: web, kind: ServiceImport, group: multicluster.x-k8s.io, port: 80}
"#;

#[test]
fn nothing_rejected_leaves_nothing_out() {
    assert!(left_out(&snapshot(CLUSTER), &[]).is_empty());
}

#[test]
fn an_ingress_class_takes_the_ingresses_of_its_spec_field_or_annotation() {
    let s = snapshot(CLUSTER);
    assert_eq!(
        left_out(&s, &["IngressClass/kong"]),
        ["Ingress/a/shop", "IngressClass/kong"]
    );
    assert_eq!(
        left_out(&s, &["IngressClass/other"]),
        ["Ingress/a/legacy", "IngressClass/other"]
    );
}

#[test]
fn a_service_takes_the_routes_that_send_to_it_but_not_an_ingress_default_backend() {
    let s = snapshot(CLUSTER);
    assert_eq!(
        left_out(&s, &["Service/a/web"]),
        ["Ingress/a/shop", "Service/a/web"]
    );
    assert_eq!(
        left_out(&s, &["Service/a/fallback"]),
        ["Service/a/fallback"]
    );
    // Across namespaces, from the backendRef's namespace.
    assert_eq!(
        left_out(&s, &["Service/b/db"]),
        ["HTTPRoute/a/store", "Service/b/db"]
    );
}

#[test]
fn a_plugin_of_the_namespace_is_preferred_to_a_cluster_plugin_of_the_same_name() {
    let s = snapshot(CLUSTER);
    assert_eq!(
        left_out(&s, &["KongPlugin/a/auth"]),
        ["Ingress/a/shop", "KongPlugin/a/auth"]
    );
    assert_eq!(
        left_out(&s, &["KongClusterPlugin/auth"]),
        ["KongClusterPlugin/auth"]
    );
    assert_eq!(
        left_out(&s, &["KongClusterPlugin/limits"]),
        ["Ingress/a/shop", "KongClusterPlugin/limits"]
    );
}

#[test]
fn a_secret_takes_its_plugins_and_everything_that_uses_them() {
    let s = snapshot(CLUSTER);
    // creds -> auth (configFrom) -> Ingress shop; creds -> patched (configPatches) ->
    // Service api -> HTTPRoute store.
    assert_eq!(
        left_out(&s, &["Secret/a/creds"]),
        [
            "HTTPRoute/a/store",
            "Ingress/a/shop",
            "KongPlugin/a/auth",
            "KongPlugin/a/patched",
            "Secret/a/creds",
            "Service/a/api"
        ]
    );
    // A KongClusterPlugin's Secret is in the namespace it names.
    assert_eq!(
        left_out(&s, &["Secret/b/shared"]),
        [
            "Ingress/a/shop",
            "KongClusterPlugin/limits",
            "Secret/b/shared"
        ]
    );
}

#[test]
fn a_policy_takes_its_services_their_routes_and_ingresses_naming_it() {
    let s = snapshot(CLUSTER);
    assert_eq!(
        left_out(&s, &["KongUpstreamPolicy/a/sticky"]),
        [
            "Ingress/a/legacy",
            "Ingress/a/shop",
            "KongUpstreamPolicy/a/sticky",
            "Service/a/web"
        ]
    );
}

#[test]
fn each_object_is_left_out_for_the_rejected_object_it_depends_on() {
    let s = snapshot(CLUSTER);
    let rejected = [key("Secret/a/creds"), key("Service/a/web")].into();
    let excluded = Excluded::new(&s, &rejected);
    let cause = |k: &str| {
        let k = key(k);
        excluded
            .cause(k.kind, &k.namespace, &k.name)
            .map(|c| format!("{}/{}/{}", c.kind, c.namespace, c.name))
    };
    // A rejected object is its own cause, even when it also depends on another.
    assert_eq!(cause("Service/a/web").as_deref(), Some("Service/a/web"));
    assert_eq!(
        cause("HTTPRoute/a/store").as_deref(),
        Some("Secret/a/creds")
    );
    assert_eq!(cause("Service/b/db"), None);
    assert_eq!(
        excluded.reason(Kind::HttpRoute, "a", "store").as_deref(),
        Some("left out: it depends on Secret a/creds, whose configuration Kong rejected")
    );
    assert_eq!(
        excluded.reason(Kind::Service, "a", "web").as_deref(),
        Some("left out: Kong rejected the configuration built from it")
    );
}

#[test]
fn an_object_not_in_the_cluster_takes_nothing_with_it() {
    let s = snapshot(CLUSTER);
    // Ingress legacy names Service a/missing; with no such Service there is no edge.
    assert_eq!(left_out(&s, &["Service/a/missing"]), ["Service/a/missing"]);
}

/// The objects of KIC's `TestGenerator_GenerateBackfillingBrokenObjects` (v3.5.13
/// `internal/dataplane/fallback/fallback_test.go` lines 149-344) with real dependencies: a
/// plugin the Service names, an Ingress of class kong on that Service, and an Ingress the
/// last valid snapshot did not have yet.
const NOW: &str = r#"
apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata: {name: kong}
spec: {controller: ingress-controllers.konghq.com/kong}
---
apiVersion: configuration.konghq.com/v1
kind: KongPlugin
metadata: {name: auth, namespace: a}
plugin: key-auth
---
apiVersion: v1
kind: Service
metadata: {name: echo, namespace: a, annotations: {konghq.com/plugins: auth}}
spec: {ports: [{port: 80}]}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: web, namespace: a}
spec:
  ingressClassName: kong
  rules: [{http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: echo, port: {number: 80}}}}]}}]
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: new, namespace: a}
spec:
  ingressClassName: kong
  rules: [{http: {paths: [{path: /new, pathType: Prefix, backend: {service: {name: echo, port: {number: 80}}}}]}}]
"#;

/// The same cluster as Kong last accepted it: each object marked (its resourceVersion),
/// without Ingress a/new.
fn last_valid() -> Snapshot {
    let marked = NOW
        .split("\n---\n")
        .filter(|doc| !doc.contains("name: new,"))
        .map(|doc| {
            doc.replace(
                "metadata: {name: ",
                "metadata: {resourceVersion: last-valid, name: ",
            )
        })
        .collect::<Vec<_>>()
        .join("\n---\n");
    snapshot(&marked)
}

/// Each object of the backfilled snapshot, `Kind/ns/name` with ` (last valid)` when it is
/// the last valid snapshot's version; and what is left out.
fn backfilled(rejected: &[&str]) -> (Vec<String>, Vec<String>) {
    let rejected = rejected.iter().map(|k| key(k)).collect();
    let b = Backfill::new(&snapshot(NOW), &rejected, &last_valid());
    let mut objects = Vec::new();
    for name in [
        "IngressClass/kong",
        "KongPlugin/a/auth",
        "Service/a/echo",
        "Ingress/a/web",
        "Ingress/a/new",
    ] {
        let k = key(name);
        if !b.snapshot.contains(&k) {
            continue;
        }
        let old = b.snapshot.resource_version(&k) == Some("last-valid");
        objects.push(format!("{name}{}", if old { " (last valid)" } else { "" }));
        assert_eq!(old, b.restored.contains(&k), "{name}");
    }
    let left_out = b.left_out.iter().map(text).collect();
    (objects, left_out)
}

#[test]
fn a_rejected_service_and_its_dependents_come_back_as_kong_last_accepted_them() {
    // KIC's "service is broken": the Service and what depended on it then, in their last valid
    // versions; what it depends on stays as it is now; what is new is left out.
    let (objects, left_out) = backfilled(&["Service/a/echo"]);
    assert_eq!(
        objects,
        [
            "IngressClass/kong",
            "KongPlugin/a/auth",
            "Service/a/echo (last valid)",
            "Ingress/a/web (last valid)"
        ]
    );
    assert_eq!(left_out, ["Ingress/a/new"]);
}

#[test]
fn a_rejected_plugin_brings_back_everything_that_depended_on_it() {
    // KIC's "plugin is broken" and "ingressClass is broken": the whole subgraph, as it was.
    let (objects, left_out) = backfilled(&["KongPlugin/a/auth"]);
    assert_eq!(
        objects,
        [
            "IngressClass/kong",
            "KongPlugin/a/auth (last valid)",
            "Service/a/echo (last valid)",
            "Ingress/a/web (last valid)"
        ]
    );
    assert_eq!(left_out, ["Ingress/a/new"]);
    let (objects, _) = backfilled(&["IngressClass/kong"]);
    assert_eq!(
        objects,
        [
            "IngressClass/kong (last valid)",
            "KongPlugin/a/auth",
            "Service/a/echo",
            "Ingress/a/web (last valid)"
        ]
    );
}

#[test]
fn a_rejected_object_kong_never_accepted_is_left_out_alone() {
    // KIC's "serviceFacade is broken": not in the last valid snapshot, so nothing comes back.
    let (objects, left_out) = backfilled(&["Ingress/a/new"]);
    assert_eq!(
        objects,
        [
            "IngressClass/kong",
            "KongPlugin/a/auth",
            "Service/a/echo",
            "Ingress/a/web"
        ]
    );
    assert_eq!(left_out, ["Ingress/a/new"]);
}
