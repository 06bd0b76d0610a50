//! ReferenceGrant: whether an object may refer to one in another namespace.
//!
//! A reference from objects of a group and kind in one namespace to an object of another
//! namespace is granted when a ReferenceGrant in the target's namespace lists exactly that
//! group, kind and namespace in `spec.from` and the target's group and kind (and its name,
//! when it gives one) in `spec.to`. Whether a reference within one namespace needs a grant is
//! the caller's rule (a backendRef does not; a `konghq.com/plugins` entry naming a namespace
//! does, even its own). KIC v3.5.13 checks it so:
//! `internal/gatewayapi/references.go` lines 48-132, 141-188 and 193-246 (translation; a `from` entry
//! must equal the referrer's group, kind and namespace) and
//! `internal/controllers/gateway/route_utils.go` lines 701-725 (status).

use crate::snapshot::Snapshot;

/// The referrer: objects of a group (empty for the core group) and kind in one namespace.
#[derive(Clone, Copy, Debug)]
pub struct From<'a> {
    pub group: &'a str,
    pub kind: &'a str,
    pub namespace: &'a str,
}

/// The object referred to; `group` is empty for the core group.
#[derive(Clone, Copy, Debug)]
pub struct To<'a> {
    pub group: &'a str,
    pub kind: &'a str,
    pub namespace: &'a str,
    pub name: &'a str,
}

pub fn granted(snapshot: &Snapshot, from: From<'_>, to: To<'_>) -> bool {
    snapshot.reference_grants_in(to.namespace).any(|grant| {
        grant
            .spec
            .from
            .iter()
            .any(|f| f.group == from.group && f.kind == from.kind && f.namespace == from.namespace)
            && grant.spec.to.iter().any(|t| {
                t.group == to.group
                    && t.kind == to.kind
                    && t.name.as_deref().is_none_or(|n| n == to.name)
            })
    })
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::manifests::{Loaded, load_str};

    fn snapshot(yaml: &str) -> Snapshot {
        let mut loaded = Loaded::default();
        load_str(yaml, Path::new("grants.yaml"), &mut loaded);
        assert!(loaded.problems.is_empty(), "{:?}", loaded.problems);
        loaded.snapshot
    }

    const ROUTE: From<'static> = From {
        group: "gateway.networking.k8s.io",
        kind: "HTTPRoute",
        namespace: "apps",
    };

    fn service(namespace: &'static str, name: &'static str) -> To<'static> {
        To {
            group: "",
            kind: "Service",
            namespace,
            name,
        }
    }

    #[test]
    fn nothing_is_granted_without_a_grant() {
        assert!(!granted(&Snapshot::new(), ROUTE, service("apps", "web")));
        assert!(!granted(&Snapshot::new(), ROUTE, service("db", "web")));
    }

    #[test]
    fn a_grant_in_the_target_namespace_names_referrer_and_target() {
        let s = snapshot(
            r#"
apiVersion: gateway.networking.k8s.io/v1beta1
kind: ReferenceGrant
metadata: {name: any-service, namespace: db}
spec:
  from: [{group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: apps}]
  to: [{group: "", kind: Service}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: ReferenceGrant
metadata: {name: one-service, namespace: cache}
spec:
  from:
  - {group: gateway.networking.k8s.io, kind: GRPCRoute, namespace: apps}
  - {group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: apps}
  to: [{group: "", kind: Service, name: redis}]
---
apiVersion: gateway.networking.k8s.io/v1beta1
kind: ReferenceGrant
metadata: {name: elsewhere, namespace: apps}
spec:
  from: [{group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: web}]
  to: [{group: "", kind: Service}]
"#,
        );
        assert!(granted(&s, ROUTE, service("db", "postgres")));
        assert!(granted(&s, ROUTE, service("cache", "redis")));
        assert!(!granted(&s, ROUTE, service("cache", "memcached")), "name");
        // A grant lives in the namespace it opens, not the referrer's.
        assert!(!granted(&s, ROUTE, service("web", "ui")));
        let other_kind = From {
            kind: "TLSRoute",
            ..ROUTE
        };
        assert!(
            !granted(&s, other_kind, service("db", "postgres")),
            "from kind"
        );
        let other_ns = From {
            namespace: "batch",
            ..ROUTE
        };
        assert!(
            !granted(&s, other_ns, service("db", "postgres")),
            "from namespace"
        );
        let import = To {
            group: "multicluster.x-k8s.io",
            kind: "ServiceImport",
            ..service("db", "postgres")
        };
        assert!(!granted(&s, ROUTE, import), "to kind");
    }
}
