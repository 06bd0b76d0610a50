//! The RBAC the chart grants, checked against the real kube-apiserver by impersonating the
//! chart's ServiceAccount: least privilege cluster-wide and with `watchNamespaces`.

mod support;

use k8s_openapi::api::authorization::v1::{
    ResourceAttributes, SubjectAccessReview, SubjectAccessReviewSpec,
};
use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::api::core::v1::Event as CoreEvent;
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::api::events::v1::Event;
use k8s_openapi::api::networking::v1::{Ingress, IngressClass};
use kube::Client;
use kube::api::{
    Api, DeleteParams, DynamicObject, ListParams, ObjectMeta, Patch, PatchParams, PostParams,
};
use serde_json::json;
use support::apply::{apply_yaml, parse_yaml};
use support::controlplane::{self, ControlPlane};
use support::helm::*;

struct Access {
    client: Client,
    user: String,
    groups: Vec<String>,
}

impl Access {
    async fn new(cp: &ControlPlane, ns: &str, service_account: &str) -> Access {
        Access {
            client: cp.client().await,
            user: format!("system:serviceaccount:{ns}:{service_account}"),
            groups: vec![
                "system:serviceaccounts".into(),
                format!("system:serviceaccounts:{ns}"),
                "system:authenticated".into(),
            ],
        }
    }

    /// Whether the ServiceAccount may `verb` `resource` (`"group/resource[/subresource]"`,
    /// group empty for core) in `namespace` (empty: all namespaces or cluster-scoped),
    /// optionally the object `name`.
    async fn allowed(
        &self,
        verb: &str,
        resource: &str,
        namespace: &str,
        name: Option<&str>,
    ) -> bool {
        let mut parts = resource.splitn(3, '/');
        let group = parts.next().unwrap_or_default();
        let resource_name = parts.next().unwrap_or_default();
        let subresource = parts.next();
        let review = SubjectAccessReview {
            spec: SubjectAccessReviewSpec {
                user: Some(self.user.clone()),
                groups: Some(self.groups.clone()),
                resource_attributes: Some(ResourceAttributes {
                    verb: Some(verb.into()),
                    group: Some(group.into()),
                    resource: Some(resource_name.into()),
                    subresource: subresource.map(str::to_string),
                    namespace: (!namespace.is_empty()).then(|| namespace.to_string()),
                    name: name.map(str::to_string),
                    ..ResourceAttributes::default()
                }),
                ..SubjectAccessReviewSpec::default()
            },
            ..SubjectAccessReview::default()
        };
        let reviews: Api<SubjectAccessReview> = Api::all(self.client.clone());
        let answer = reviews
            .create(&PostParams::default(), &review)
            .await
            .unwrap_or_else(|e| panic!("SubjectAccessReview {verb} {resource}: {e}"));
        answer.status.is_some_and(|s| s.allowed)
    }

    /// Asserts every `(verb, resource, namespace, name)` is allowed (or denied), listing all
    /// the mismatches at once.
    async fn check(&self, want: bool, cases: &[(&str, &str, &str, Option<&str>)]) {
        let mut wrong = Vec::new();
        for &(verb, resource, ns, name) in cases {
            if self.allowed(verb, resource, ns, name).await != want {
                wrong.push(format!("{verb} {resource} in {ns:?} name {name:?}"));
            }
        }
        let word = if want { "allowed" } else { "denied" };
        assert!(
            wrong.is_empty(),
            "{} should be {word}:\n  {}",
            self.user,
            wrong.join("\n  ")
        );
    }
}

/// What the controller watches, as `group/resource`.
const NAMESPACED: &[&str] = &[
    "/services",
    "discovery.k8s.io/endpointslices",
    "networking.k8s.io/ingresses",
    "gateway.networking.k8s.io/httproutes",
    "gateway.networking.k8s.io/gateways",
    "configuration.konghq.com/kongupstreampolicies",
    "configuration.konghq.com/kongingresses",
    "configuration.konghq.com/ingressclassparameterses",
    "configuration.konghq.com/kongplugins",
    "configuration.konghq.com/kongcustomentities",
    "incubator.ingress-controller.konghq.com/kongservicefacades",
    "gateway.networking.k8s.io/referencegrants",
    "gateway.networking.k8s.io/backendtlspolicies",
    "/secrets",
    "/configmaps",
];
const CLUSTER_SCOPED: &[&str] = &[
    "networking.k8s.io/ingressclasses",
    "gateway.networking.k8s.io/gatewayclasses",
    "configuration.konghq.com/kongclusterplugins",
    "configuration.konghq.com/kongvaults",
];
/// The status subresources it writes.
const STATUS: &[&str] = &[
    "networking.k8s.io/ingresses/status",
    "gateway.networking.k8s.io/httproutes/status",
    "gateway.networking.k8s.io/gateways/status",
    "gateway.networking.k8s.io/backendtlspolicies/status",
    "configuration.konghq.com/kongupstreampolicies/status",
    "configuration.konghq.com/kongplugins/status",
    "incubator.ingress-controller.konghq.com/kongservicefacades/status",
];
const CLUSTER_STATUS: &[&str] = &[
    "gateway.networking.k8s.io/gatewayclasses/status",
    "configuration.konghq.com/kongclusterplugins/status",
    "configuration.konghq.com/kongvaults/status",
];
const LEASES: &str = "coordination.k8s.io/leases";
const WRITES: &[&str] = &["create", "update", "patch", "delete", "deletecollection"];

fn forbidden<T: std::fmt::Debug>(what: &str, result: Result<T, kube::Error>) {
    match result {
        Err(kube::Error::Api(status)) if status.code == 403 => {}
        other => panic!("{what}: expected 403 Forbidden, got {other:?}"),
    }
}

fn allowed<T>(what: &str, result: Result<T, kube::Error>) -> T {
    result.unwrap_or_else(|e| panic!("{what}: expected it to be allowed, got {e}"))
}

#[tokio::test]
async fn rbac_is_least_privilege_cluster_wide() {
    let cp = controlplane::shared();
    let ns = cp.namespace("helm-rbac").await;
    let other = cp.namespace("helm-rbac-other").await;
    let release = cp.unique_name("rel");
    install_rendered(cp, &release, &ns, &[]).await;
    let sa = format!("{release}-kingress");
    let access = Access::new(cp, &ns, &sa).await;

    // Reads of every watched kind, in all namespaces.
    let mut reads = Vec::new();
    for resource in NAMESPACED {
        for verb in ["list", "watch"] {
            reads.push((verb, *resource, "", None));
            reads.push((verb, *resource, other.as_str(), None));
        }
        // Secrets and ConfigMaps: list and watch only (their watches are enough).
        if !matches!(*resource, "/secrets" | "/configmaps") {
            reads.push(("get", *resource, other.as_str(), Some("x")));
        }
    }
    for resource in CLUSTER_SCOPED {
        for verb in ["get", "list", "watch"] {
            reads.push((verb, *resource, "", None));
        }
    }
    // Namespaces: their labels, for allowedRoutes selectors.
    for verb in ["list", "watch"] {
        reads.push((verb, "/namespaces", "", None));
    }
    access.check(true, &reads).await;

    // Status writes, Events, its own Lease.
    let mut writes = Vec::new();
    for resource in STATUS {
        for verb in ["update", "patch"] {
            writes.push((verb, *resource, other.as_str(), Some("x")));
        }
    }
    for resource in CLUSTER_STATUS {
        for verb in ["update", "patch"] {
            writes.push((verb, *resource, "", Some("x")));
        }
    }
    for resource in ["/events", "events.k8s.io/events"] {
        for verb in ["create", "patch"] {
            writes.push((verb, resource, other.as_str(), None));
        }
    }
    writes.push(("create", LEASES, ns.as_str(), None));
    for verb in ["get", "update", "patch"] {
        writes.push((verb, LEASES, ns.as_str(), Some(ELECTION_ID)));
    }
    access.check(true, &writes).await;

    // Everything else is denied: writes to watched objects (specs included), Secret get,
    // other Leases, Leases elsewhere, and kinds it has no business with.
    let mut denied = Vec::new();
    for resource in NAMESPACED.iter().chain(CLUSTER_SCOPED) {
        let scope = if CLUSTER_SCOPED.contains(resource) {
            ""
        } else {
            other.as_str()
        };
        for verb in WRITES {
            denied.push((*verb, *resource, scope, Some("x")));
        }
    }
    for resource in STATUS {
        denied.push(("delete", *resource, other.as_str(), Some("x")));
    }
    denied.extend([
        ("get", "/secrets", other.as_str(), Some("x")),
        ("get", "/secrets", ns.as_str(), Some("x")),
        ("patch", "/services/status", other.as_str(), Some("x")),
        ("delete", "/events", other.as_str(), Some("x")),
        ("get", LEASES, ns.as_str(), Some("other-lease")),
        ("update", LEASES, ns.as_str(), Some("other-lease")),
        ("list", LEASES, ns.as_str(), None),
        ("delete", LEASES, ns.as_str(), Some(ELECTION_ID)),
        ("create", LEASES, other.as_str(), None),
        ("get", LEASES, other.as_str(), Some(ELECTION_ID)),
        ("update", LEASES, other.as_str(), Some(ELECTION_ID)),
        ("list", "/pods", "", None),
        ("get", "/configmaps", other.as_str(), Some("x")),
        ("get", "/namespaces", "", Some("x")),
        ("list", "/nodes", "", None),
        ("create", "/serviceaccounts/token", ns.as_str(), Some(&sa)),
        (
            "create",
            "rbac.authorization.k8s.io/clusterrolebindings",
            "",
            None,
        ),
        (
            "escalate",
            "rbac.authorization.k8s.io/clusterroles",
            "",
            Some(&release),
        ),
        ("update", "apps/deployments", ns.as_str(), Some("x")),
        (
            "create",
            "apiextensions.k8s.io/customresourcedefinitions",
            "",
            None,
        ),
    ]);
    access.check(false, &denied).await;

    // The same through real requests, impersonating the ServiceAccount.
    let admin = cp.client().await;
    apply_yaml(
        &admin,
        Some(&other),
        r#"
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: web}
spec:
  rules:
  - http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
---
apiVersion: configuration.konghq.com/v1beta1
kind: KongUpstreamPolicy
metadata: {name: policy}
spec: {algorithm: round-robin}
---
apiVersion: v1
kind: Secret
metadata: {name: creds}
stringData: {password: hunter2}
---
apiVersion: coordination.k8s.io/v1
kind: Lease
metadata: {name: other-lease}
spec: {holderIdentity: someone-else}
"#,
    )
    .await;
    let as_sa = cp.client_as_service_account(&ns, &sa).await;

    let ingresses: Api<Ingress> = Api::all(as_sa.clone());
    allowed(
        "list Ingresses in all namespaces",
        ingresses.list(&ListParams::default()).await,
    );
    let ingresses: Api<Ingress> = Api::namespaced(as_sa.clone(), &other);
    let status = json!({"status": {"loadBalancer": {"ingress": [{"ip": "192.0.2.1"}]}}});
    allowed(
        "patch ingresses/status",
        ingresses
            .patch_status("web", &PatchParams::default(), &Patch::Merge(&status))
            .await,
    );
    forbidden(
        "patch an Ingress's spec",
        ingresses
            .patch(
                "web",
                &PatchParams::default(),
                &Patch::Merge(json!({"spec": {"defaultBackend": null}})),
            )
            .await,
    );
    let mut ingress = allowed("get an Ingress", ingresses.get("web").await);
    ingress.metadata.labels = Some([("tampered".to_string(), "yes".to_string())].into());
    forbidden(
        "update an Ingress",
        ingresses
            .replace("web", &PostParams::default(), &ingress)
            .await,
    );
    forbidden(
        "delete an Ingress",
        ingresses.delete("web", &DeleteParams::default()).await,
    );

    let policy_object = parse_yaml(
        "apiVersion: configuration.konghq.com/v1beta1\nkind: KongUpstreamPolicy\nmetadata: {name: policy}\n",
    )
    .expect("policy YAML")
    .remove(0);
    let policies: Api<DynamicObject> =
        support::apply::api_for(&as_sa, &policy_object, Some(&other))
            .await
            .unwrap_or_else(|e| panic!("discovering KongUpstreamPolicy: {e}"));
    allowed(
        "patch kongupstreampolicies/status",
        policies
            .patch_status(
                "policy",
                &PatchParams::default(),
                &Patch::Merge(json!({"status": {"ancestors": []}})),
            )
            .await,
    );
    forbidden(
        "patch a KongUpstreamPolicy's spec",
        policies
            .patch(
                "policy",
                &PatchParams::default(),
                &Patch::Merge(json!({"spec": {"slots": 100}})),
            )
            .await,
    );
    forbidden(
        "delete a KongUpstreamPolicy",
        policies.delete("policy", &DeleteParams::default()).await,
    );

    // Secrets: listed and watched (TLS certificates), never fetched by name nor written.
    let secrets: Api<Secret> = Api::namespaced(as_sa.clone(), &other);
    allowed(
        "list Secrets",
        secrets
            .list(&ListParams::default().fields("type=kubernetes.io/tls"))
            .await,
    );
    forbidden("get a Secret", secrets.get("creds").await);
    forbidden(
        "delete a Secret",
        secrets.delete("creds", &DeleteParams::default()).await,
    );
    let secret = Secret {
        metadata: ObjectMeta {
            name: Some("planted".into()),
            ..ObjectMeta::default()
        },
        ..Secret::default()
    };
    forbidden(
        "create a Secret",
        secrets.create(&PostParams::default(), &secret).await,
    );

    // Events (events.k8s.io, and the core kind older tools write).
    let regarding = json!({
        "apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "name": "web", "namespace": other,
    });
    let event: Event = serde_json::from_value(json!({
        "metadata": {"generateName": "web-"},
        "eventTime": "2025-01-01T00:00:00.000000Z",
        "action": "Sync",
        "reason": "KongConfigurationSucceeded",
        "note": "configuration pushed to Kong",
        "type": "Normal",
        "reportingController": "kingress",
        "reportingInstance": "kingress-0",
        "regarding": regarding,
    }))
    .expect("events.k8s.io Event");
    let events: Api<Event> = Api::namespaced(as_sa.clone(), &other);
    allowed(
        "create an Event",
        events.create(&PostParams::default(), &event).await,
    );
    let core_event: CoreEvent = serde_json::from_value(json!({
        "metadata": {"generateName": "web-"},
        "involvedObject": regarding,
        "reason": "KongConfigurationSucceeded",
        "message": "configuration pushed to Kong",
        "type": "Normal",
    }))
    .expect("core Event");
    let core_events: Api<CoreEvent> = Api::namespaced(as_sa.clone(), &other);
    allowed(
        "create a core Event",
        core_events
            .create(&PostParams::default(), &core_event)
            .await,
    );
    forbidden("list Events", events.list(&ListParams::default()).await);

    // The leader-election Lease: its own in its namespace, nothing else.
    let leases: Api<Lease> = Api::namespaced(as_sa.clone(), &ns);
    let lease = Lease {
        metadata: ObjectMeta {
            name: Some(ELECTION_ID.into()),
            ..ObjectMeta::default()
        },
        spec: Some(LeaseSpec {
            holder_identity: Some("kingress-0".into()),
            lease_duration_seconds: Some(15),
            ..LeaseSpec::default()
        }),
    };
    allowed(
        "create the Lease",
        leases.create(&PostParams::default(), &lease).await,
    );
    let mut held = allowed("get the Lease", leases.get(ELECTION_ID).await);
    held.spec
        .get_or_insert_with(Default::default)
        .holder_identity = Some("kingress-1".into());
    allowed(
        "update the Lease",
        leases
            .replace(ELECTION_ID, &PostParams::default(), &held)
            .await,
    );
    forbidden(
        "delete the Lease",
        leases.delete(ELECTION_ID, &DeleteParams::default()).await,
    );
    forbidden("list Leases", leases.list(&ListParams::default()).await);
    let elsewhere: Api<Lease> = Api::namespaced(as_sa.clone(), &other);
    forbidden(
        "get a Lease in another namespace",
        elsewhere.get("other-lease").await,
    );
    forbidden(
        "create a Lease in another namespace",
        elsewhere.create(&PostParams::default(), &lease).await,
    );
    let mut theirs = allowed(
        "admin gets other-lease",
        Api::<Lease>::namespaced(admin.clone(), &other)
            .get("other-lease")
            .await,
    );
    theirs
        .spec
        .get_or_insert_with(Default::default)
        .holder_identity = Some("kingress-0".into());
    forbidden(
        "take over a Lease in another namespace",
        elsewhere
            .replace("other-lease", &PostParams::default(), &theirs)
            .await,
    );
}

#[tokio::test]
async fn rbac_with_watch_namespaces_reads_only_those_namespaces() {
    let cp = controlplane::shared();
    let ns = cp.namespace("helm-scoped").await;
    let (a, b) = (
        cp.namespace("helm-scoped-a").await,
        cp.namespace("helm-scoped-b").await,
    );
    let outside = cp.namespace("helm-scoped-c").await;
    let release = cp.unique_name("rel");
    let set = format!("watchNamespaces={{{a},{b}}}");
    install_rendered(cp, &release, &ns, &[&set]).await;
    let access = Access::new(cp, &ns, &format!("{release}-kingress")).await;

    let mut inside = Vec::new();
    let mut elsewhere = Vec::new();
    for resource in NAMESPACED {
        for verb in ["list", "watch"] {
            inside.push((verb, *resource, a.as_str(), None));
            inside.push((verb, *resource, b.as_str(), None));
            elsewhere.push((verb, *resource, outside.as_str(), None));
            elsewhere.push((verb, *resource, "", None));
        }
    }
    for resource in STATUS {
        inside.push(("patch", *resource, a.as_str(), Some("x")));
        elsewhere.push(("patch", *resource, outside.as_str(), Some("x")));
    }
    for resource in CLUSTER_SCOPED {
        inside.push(("list", *resource, "", None));
        inside.push(("watch", *resource, "", None));
    }
    // Discovery of the Kong replicas and the proxy Service, in the release namespace.
    for resource in ["/services", "discovery.k8s.io/endpointslices"] {
        inside.push(("list", resource, ns.as_str(), None));
        inside.push(("watch", resource, ns.as_str(), None));
    }
    inside.push(("update", LEASES, ns.as_str(), Some(ELECTION_ID)));
    elsewhere.push(("list", "/secrets", ns.as_str(), None));
    elsewhere.push(("create", "/events", outside.as_str(), None));
    access.check(true, &inside).await;
    access.check(false, &elsewhere).await;

    // Real requests.
    let as_sa = cp
        .client_as_service_account(&ns, &format!("{release}-kingress"))
        .await;
    allowed(
        "list Ingresses in a watched namespace",
        Api::<Ingress>::namespaced(as_sa.clone(), &a)
            .list(&ListParams::default())
            .await,
    );
    forbidden(
        "list Ingresses in another namespace",
        Api::<Ingress>::namespaced(as_sa.clone(), &outside)
            .list(&ListParams::default())
            .await,
    );
    forbidden(
        "list Ingresses in all namespaces",
        Api::<Ingress>::all(as_sa.clone())
            .list(&ListParams::default())
            .await,
    );
    forbidden(
        "list Secrets in another namespace",
        Api::<Secret>::namespaced(as_sa.clone(), &outside)
            .list(&ListParams::default())
            .await,
    );
    allowed(
        "list IngressClasses",
        Api::<IngressClass>::all(as_sa.clone())
            .list(&ListParams::default())
            .await,
    );
}
