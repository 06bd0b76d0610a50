//! Status subresources and Events written by `kingress run`, against a real kube-apiserver
//! (tests/support) and the Kong admin API test double. Each test has its own namespace and
//! its own controller watching only it.

mod support;

use std::time::Duration;

use k8s_openapi::api::events::v1::Event;
use k8s_openapi::api::networking::v1::{Ingress, IngressLoadBalancerIngress};
use kingress::api::{HttpRoute, KongUpstreamPolicy};
use kingress::controller::ControllerOptions;
use kingress::controller::status::StatusOptions;
use kingress::translate::DEFAULT_CONTROLLER_NAME;
use kube::api::{Api, Patch, PatchParams};
use serde_json::{Value, json};
use support::controlplane;
use support::observe::{condition, eventually, is};
use support::run::{Env, WAIT};

/// A controller whose status options `status` gives (from the test's namespace), with a short
/// status debounce.
async fn start(prefix: &str, status: impl FnOnce(&str) -> StatusOptions) -> Env {
    support::run::start_with(prefix, |options| {
        let ns = options.scope.namespaces[0].clone();
        ControllerOptions {
            status: StatusOptions {
                debounce: Duration::from_millis(20),
                ..status(&ns)
            },
            ..options
        }
    })
    .await
}

impl Env {
    async fn policy(&self, name: &str) -> KongUpstreamPolicy {
        Api::<KongUpstreamPolicy>::namespaced(self.client.clone(), &self.ns)
            .get(name)
            .await
            .unwrap_or_else(|e| panic!("get KongUpstreamPolicy {name}: {e}"))
    }

    /// `status.ancestors` of a policy, as JSON.
    async fn ancestors(&self, name: &str) -> Vec<Value> {
        let p = self.policy(name).await;
        p.status
            .map(|s| serde_json::to_value(s.ancestors).expect("ancestors serialize"))
            .and_then(|v| v.as_array().cloned())
            .unwrap_or_default()
    }

    async fn route(&self, name: &str) -> HttpRoute {
        Api::<HttpRoute>::namespaced(self.client.clone(), &self.ns)
            .get(name)
            .await
            .unwrap_or_else(|e| panic!("get HTTPRoute {name}: {e}"))
    }

    /// `status.parents` of an HTTPRoute, as JSON.
    async fn parents(&self, name: &str) -> Vec<Value> {
        let r = self.route(name).await;
        r.status
            .map(|s| serde_json::to_value(s.parents).expect("parents serialize"))
            .and_then(|v| v.as_array().cloned())
            .unwrap_or_default()
    }

    async fn ingress(&self, name: &str) -> Ingress {
        Api::<Ingress>::namespaced(self.client.clone(), &self.ns)
            .get(name)
            .await
            .unwrap_or_else(|e| panic!("get Ingress {name}: {e}"))
    }

    /// `status.loadBalancer.ingress` of an Ingress (empty when unset).
    async fn load_balancer(&self, name: &str) -> Vec<IngressLoadBalancerIngress> {
        self.ingress(name)
            .await
            .status
            .and_then(|s| s.load_balancer)
            .and_then(|lb| lb.ingress)
            .unwrap_or_default()
    }

    /// Events with `reason` about the object `kind`/`name`.
    async fn events(&self, kind: &str, name: &str, reason: &str) -> Vec<Event> {
        support::observe::events(&self.client, &self.ns, kind, name, reason).await
    }
}

/// Our entry for Service `name` in a policy's ancestors.
fn ancestor_for<'a>(ancestors: &'a [Value], ns: &str, service: &str) -> Option<&'a Value> {
    ancestors.iter().find(|a| {
        a["controllerName"] == DEFAULT_CONTROLLER_NAME
            && a["ancestorRef"]
                == json!({"group": "core", "kind": "Service", "namespace": ns, "name": service})
    })
}

/// Our entry for parent Gateway `gateway` in an HTTPRoute's parents.
fn parent_for<'a>(parents: &'a [Value], gateway: &str) -> Option<&'a Value> {
    parents.iter().find(|p| {
        p["controllerName"] == DEFAULT_CONTROLLER_NAME && p["parentRef"]["name"] == gateway
    })
}

fn service(name: &str, policy: Option<&str>) -> String {
    let annotations = policy
        .map(|p| format!("  annotations: {{konghq.com/upstream-policy: {p}}}\n"))
        .unwrap_or_default();
    format!(
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: {name}\n{annotations}spec:\n  ports: [{{name: http, port: 80, targetPort: 1027}}]\n"
    )
}

fn slice(service: &str, endpoints: usize) -> String {
    let eps: String = (1..=endpoints)
        .map(|i| format!("- addresses: [10.1.0.{i}]\n  conditions: {{ready: true}}\n"))
        .collect();
    format!(
        "apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata:\n  name: {service}-1\n  labels: {{kubernetes.io/service-name: {service}}}\naddressType: IPv4\nports: [{{name: http, port: 1027, protocol: TCP}}]\nendpoints:\n{eps}"
    )
}

fn policy(name: &str) -> String {
    format!(
        "apiVersion: configuration.konghq.com/v1beta1\nkind: KongUpstreamPolicy\nmetadata: {{name: {name}}}\nspec:\n  algorithm: consistent-hashing\n  hashOn: {{header: x-lb}}\n  hashOnFallback: {{input: ip}}\n"
    )
}

/// Accepted by the CRD's rules, rejected by Kong: consumer cannot fall back to itself.
const BAD_POLICY: &str = "apiVersion: configuration.konghq.com/v1beta1\nkind: KongUpstreamPolicy\nmetadata: {name: sample-customization}\nspec:\n  algorithm: consistent-hashing\n  hashOn: {input: consumer}\n  hashOnFallback: {input: consumer}\n";

fn ingress(name: &str, backend: &str) -> String {
    format!(
        "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {{name: {name}}}\nspec:\n  ingressClassName: kong\n  rules:\n  - http:\n      paths:\n      - {{path: /{name}, pathType: Prefix, backend: {{service: {{name: {backend}, port: {{number: 80}}}}}}}}\n"
    )
}

/// A GatewayClass of ours (unique name: it is cluster-scoped) and Gateway `kong`.
fn gateway(ns: &str) -> String {
    let class = controlplane::shared().unique_name("kong-class");
    format!(
        "apiVersion: gateway.networking.k8s.io/v1\nkind: GatewayClass\nmetadata: {{name: {class}}}\nspec: {{controllerName: {DEFAULT_CONTROLLER_NAME}}}\n---\napiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {{name: kong, namespace: {ns}}}\nspec:\n  gatewayClassName: {class}\n  listeners: [{{name: http, port: 80, protocol: HTTP}}]\n"
    )
}

fn httproute(name: &str, backends: &[&str]) -> String {
    let refs: String = backends
        .iter()
        .map(|b| format!("    - {{name: {b}, port: 80}}\n"))
        .collect();
    format!(
        "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {{name: {name}}}\nspec:\n  parentRefs: [{{name: kong}}]\n  rules:\n  - backendRefs:\n{refs}"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upstream_policy_ancestors_are_accepted_programmed_or_conflicted() {
    let env = start("policy-status", |_| StatusOptions::default()).await;
    let ns = env.ns.clone();
    env.apply(&format!(
        "{}---\n{}---\n{}---\n{}",
        service("echo", Some("sample-customization")),
        slice("echo", 2),
        policy("sample-customization"),
        ingress("echo", "echo")
    ))
    .await;
    let a = eventually(
        "sample-customization Programmed for Service echo",
        async || {
            let ancestors = env.ancestors("sample-customization").await;
            match ancestor_for(&ancestors, &ns, "echo") {
                Some(a) if is(a, "Programmed", "True", "Programmed") => Ok(a.clone()),
                _ => Err(format!("{ancestors:?}")),
            }
        },
    )
    .await;
    assert!(is(&a, "Accepted", "True", "Accepted"), "{a}");
    let generation = env.policy("sample-customization").await.metadata.generation;
    assert_eq!(
        a["conditions"][0]["observedGeneration"].as_i64(),
        generation
    );
    assert!(a["conditions"][0]["lastTransitionTime"].is_string(), "{a}");

    // A second Service with another policy behind the same HTTPRoute rule: a conflict.
    env.apply(&format!(
        "{}---\n{}---\n{}---\n{}",
        service("other", Some("other-policy")),
        policy("other-policy"),
        gateway(&ns),
        httproute("both", &["echo", "other"])
    ))
    .await;
    for (policy, svc) in [("sample-customization", "echo"), ("other-policy", "other")] {
        let a = eventually(
            &format!("{policy} Conflicted on Service {svc}"),
            async || {
                let ancestors = env.ancestors(policy).await;
                match ancestor_for(&ancestors, &ns, svc) {
                    Some(a) if is(a, "Accepted", "False", "Conflicted") => Ok(a.clone()),
                    _ => Err(format!("{ancestors:?}")),
                }
            },
        )
        .await;
        let (_, _, message) = condition(&a, "Accepted").unwrap_or_default();
        assert!(message.contains("HTTPRoute"), "{message}");
        assert!(is(&a, "Programmed", "False", "Pending"), "{a}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_policy_kong_rejects_says_why_in_status_and_an_event_until_fixed() {
    let env = start("policy-rejected", |_| StatusOptions::default()).await;
    let ns = env.ns.clone();
    env.apply(&format!(
        "{}---\n{}---\n{BAD_POLICY}---\n{}",
        service("echo", Some("sample-customization")),
        slice("echo", 2),
        ingress("echo", "echo")
    ))
    .await;
    let a = eventually("the rejected policy Accepted=False/Invalid", async || {
        let ancestors = env.ancestors("sample-customization").await;
        match ancestor_for(&ancestors, &ns, "echo") {
            Some(a) if is(a, "Accepted", "False", "Invalid") => Ok(a.clone()),
            _ => Err(format!("{ancestors:?}")),
        }
    })
    .await;
    let (_, _, message) = condition(&a, "Accepted").unwrap_or_default();
    assert!(
        message.contains("hash_fallback"),
        "Kong's message names the field: {message}"
    );
    let events = eventually("a KongConfigurationApplyFailed Event", async || {
        let events = env
            .events(
                "KongUpstreamPolicy",
                "sample-customization",
                "KongConfigurationApplyFailed",
            )
            .await;
        if events.is_empty() {
            Err("no Event".into())
        } else {
            Ok(events)
        }
    })
    .await;
    let e = &events[0];
    assert_eq!(e.type_.as_deref(), Some("Warning"));
    assert_eq!(e.reporting_controller.as_deref(), Some("kingress"));
    assert!(
        e.note
            .as_deref()
            .unwrap_or_default()
            .contains("hash_fallback"),
        "{:?}",
        e.note
    );

    // Fixing the policy brings it back: accepted and programmed.
    env.apply(&policy("sample-customization")).await;
    eventually("the fixed policy Accepted and Programmed", async || {
        let ancestors = env.ancestors("sample-customization").await;
        match ancestor_for(&ancestors, &ns, "echo") {
            Some(a)
                if is(a, "Accepted", "True", "Accepted")
                    && is(a, "Programmed", "True", "Programmed") =>
            {
                Ok(())
            }
            _ => Err(format!("{ancestors:?}")),
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn httproute_resolved_refs_follow_the_backend_and_other_controllers_entries_stay() {
    let env = start("route-status", |_| StatusOptions::default()).await;
    env.apply(&format!(
        "{}---\n{}",
        gateway(&env.ns),
        httproute("web", &["ghost"])
    ))
    .await;
    let p = eventually("ResolvedRefs=False/BackendNotFound", async || {
        let parents = env.parents("web").await;
        match parent_for(&parents, "kong") {
            Some(p) if is(p, "ResolvedRefs", "False", "BackendNotFound") => Ok(p.clone()),
            _ => Err(format!("{parents:?}")),
        }
    })
    .await;
    assert!(is(&p, "Accepted", "True", "Accepted"), "{p}");
    let (_, _, message) = condition(&p, "ResolvedRefs").unwrap_or_default();
    assert!(
        message.contains("spec.rules[0].backendRefs[0].name"),
        "{message}"
    );
    let accepted_since = p["conditions"][0]["lastTransitionTime"].clone();

    // Another controller's entry for another parent is kept.
    let theirs = json!({
        "parentRef": {"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": "theirs"},
        "controllerName": "example.com/other",
        "conditions": [{"type": "Accepted", "status": "True", "reason": "Accepted", "message": "",
                        "lastTransitionTime": "2024-01-01T00:00:00Z"}],
    });
    let mut all = env.parents("web").await;
    all.push(theirs.clone());
    Api::<HttpRoute>::namespaced(env.client.clone(), &env.ns)
        .patch_status(
            "web",
            &PatchParams::default(),
            &Patch::Merge(json!({"status": {"parents": all}})),
        )
        .await
        .expect("write another controller's entry");

    env.apply(&format!(
        "{}---\n{}",
        service("ghost", None),
        slice("ghost", 1)
    ))
    .await;
    let parents = eventually("ResolvedRefs=True and Programmed=True", async || {
        let parents = env.parents("web").await;
        match parent_for(&parents, "kong") {
            Some(p)
                if is(p, "ResolvedRefs", "True", "ResolvedRefs")
                    && is(p, "Programmed", "True", "Programmed") =>
            {
                Ok(parents.clone())
            }
            _ => Err(format!("{parents:?}")),
        }
    })
    .await;
    assert!(
        parents
            .iter()
            .any(|p| p["controllerName"] == "example.com/other"),
        "the other controller's entry survives: {parents:?}"
    );
    let ours = parent_for(&parents, "kong").expect("our entry");
    assert_eq!(
        ours["conditions"][0]["lastTransitionTime"], accepted_since,
        "Accepted never flipped, so its lastTransitionTime stays"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ingress_load_balancer_status_comes_from_the_publish_service() {
    let env = start("ingress-status", |ns| StatusOptions {
        publish_service: Some((ns.to_string(), "kong-proxy".into())),
        ..StatusOptions::default()
    })
    .await;
    let stored = env
        .apply("apiVersion: v1\nkind: Service\nmetadata: {name: kong-proxy}\nspec:\n  ports: [{name: proxy, port: 80}]\n")
        .await;
    let cluster_ip = stored[0].data["spec"]["clusterIP"]
        .as_str()
        .expect("the apiserver allocates a ClusterIP")
        .to_string();
    env.apply(&format!(
        "{}---\n{}---\n{}",
        service("echo", None),
        slice("echo", 1),
        ingress("echo", "echo")
    ))
    .await;
    eventually("the Ingress shows the ClusterIP", async || {
        let lb = env.load_balancer("echo").await;
        match lb.first().and_then(|e| e.ip.clone()) {
            Some(ip) if ip == cluster_ip && lb.len() == 1 => Ok(()),
            _ => Err(format!("{lb:?}")),
        }
    })
    .await;
}

/// KIC's `--update-status=false` (v3.5.13 `cli.go` 140-141): no status is written, though
/// the Ingress reaches Kong and addresses are known.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_update_status_off_no_status_is_written() {
    let env = start("no-status", |_| StatusOptions {
        update_status: false,
        publish_status_addresses: vec!["10.9.9.9".into()],
        ..StatusOptions::default()
    })
    .await;
    env.apply(&format!(
        "{}---\n{}---\n{}",
        service("echo", None),
        slice("echo", 1),
        ingress("echo", "echo")
    ))
    .await;
    env.wait("the Ingress's route", |c| !c.routes().is_empty())
        .await;
    // Many status rounds (20 ms debounce each) after Kong holds the route.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let lb = env.load_balancer("echo").await;
    assert!(lb.is_empty(), "{lb:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_translation_error_is_announced_once_as_an_event() {
    let env = start("translation-event", |_| StatusOptions::default()).await;
    env.apply(&ingress("web", "ghost")).await;
    let events = eventually("a KongConfigurationTranslationFailed Event", async || {
        let events = env
            .events("Ingress", "web", "KongConfigurationTranslationFailed")
            .await;
        if events.is_empty() {
            Err("no Event".into())
        } else {
            Ok(events)
        }
    })
    .await;
    let note = events[0].note.clone().unwrap_or_default();
    assert!(
        note.contains("spec.rules[0].http.paths[0].backend.service.name"),
        "{note}"
    );
    assert_eq!(events[0].type_.as_deref(), Some("Warning"));

    // More translations with the same problem: no new Event.
    for n in 1..=3 {
        env.apply(&format!(
            "{}---\n{}",
            service("unrelated", None),
            slice("unrelated", n)
        ))
        .await;
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let again = env
        .events("Ingress", "web", "KongConfigurationTranslationFailed")
        .await;
    assert_eq!(again.len(), 1, "{again:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settled_statuses_are_not_rewritten() {
    let env = start("no-churn", |_| StatusOptions {
        publish_status_addresses: vec!["192.0.2.10".into(), "kong.example.com".into()],
        ..StatusOptions::default()
    })
    .await;
    let ns = env.ns.clone();
    env.apply(&format!(
        "{}---\n{}---\n{}---\n{}---\n{}---\n{}",
        service("echo", Some("sample-customization")),
        slice("echo", 2),
        policy("sample-customization"),
        ingress("echo", "echo"),
        gateway(&ns),
        httproute("web", &["echo"])
    ))
    .await;
    eventually("every status settled", async || {
        let ancestors = env.ancestors("sample-customization").await;
        let parents = env.parents("web").await;
        let lb = env.load_balancer("echo").await;
        let policy_ok = ancestor_for(&ancestors, &ns, "echo")
            .is_some_and(|a| is(a, "Programmed", "True", "Programmed"));
        let route_ok =
            parent_for(&parents, "kong").is_some_and(|p| is(p, "Programmed", "True", "Programmed"));
        if policy_ok && route_ok && lb.len() == 2 {
            Ok(())
        } else {
            Err(format!("{ancestors:?} {parents:?} {lb:?}"))
        }
    })
    .await;
    // Let in-flight rounds finish, and a second pass, so any rewritten time would differ.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let versions = async || {
        (
            env.policy("sample-customization")
                .await
                .metadata
                .resource_version,
            env.route("web").await.metadata.resource_version,
            env.ingress("echo").await.metadata.resource_version,
        )
    };
    let before = versions().await;
    // A change that makes a new Kong config but no status change.
    env.apply(&slice("echo", 3)).await;
    let upstream = format!("echo.{ns}.80.svc");
    env.kong
        .wait_for_config(|c| c.targets_of(&upstream).len() == 3, WAIT)
        .await
        .expect("Kong gets the third target");
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(
        versions().await,
        before,
        "statuses were rewritten while idle"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ring_kong_cannot_build_shows_in_status_and_an_event() {
    let env = start("ring-capacity", |_| StatusOptions::default()).await;
    let ns = env.ns.clone();
    // Six equal targets need 960 points; slots 100 means a 1000-slot wheel: Kong gives up.
    let tiny = "apiVersion: configuration.konghq.com/v1beta1\nkind: KongUpstreamPolicy\nmetadata: {name: tiny}\nspec:\n  algorithm: consistent-hashing\n  slots: 100\n  hashOn: {header: x-lb}\n";
    env.apply(&format!(
        "{}---\n{}---\n{tiny}---\n{}",
        service("echo", Some("tiny")),
        slice("echo", 6),
        ingress("echo", "echo")
    ))
    .await;
    let a = eventually("Programmed=False/RingCapacity", async || {
        let ancestors = env.ancestors("tiny").await;
        match ancestor_for(&ancestors, &ns, "echo") {
            Some(a) if is(a, "Programmed", "False", "RingCapacity") => Ok(a.clone()),
            _ => Err(format!("{ancestors:?}")),
        }
    })
    .await;
    let (_, _, message) = condition(&a, "Programmed").unwrap_or_default();
    assert!(message.contains("set spec.slots to at least"), "{message}");
    assert!(is(&a, "Accepted", "True", "Accepted"));
    eventually(
        "a KongConfigurationWarning Event on the policy",
        async || {
            let events = env
                .events("KongUpstreamPolicy", "tiny", "KongConfigurationWarning")
                .await;
            match events.iter().find(|e| {
                e.note
                    .as_deref()
                    .is_some_and(|n| n.starts_with("spec.slots: Kong cannot build"))
            }) {
                Some(_) => Ok(()),
                None => Err(format!(
                    "{:?}",
                    events.iter().map(|e| &e.note).collect::<Vec<_>>()
                )),
            }
        },
    )
    .await;

    // Enough slots: the ring builds and the policy is programmed.
    env.apply(&tiny.replace("slots: 100", "slots: 2000")).await;
    eventually("Programmed=True", async || {
        let ancestors = env.ancestors("tiny").await;
        match ancestor_for(&ancestors, &ns, "echo") {
            Some(a) if is(a, "Programmed", "True", "Programmed") => Ok(()),
            _ => Err(format!("{ancestors:?}")),
        }
    })
    .await;
}

/// An HTTPRoute's backendRef to a Service of another namespace: left out (ResolvedRefs False,
/// RefNotPermitted) until a ReferenceGrant there permits it, back out when the grant goes; its
/// rule's header filter reaches Kong as KIC's request-transformer throughout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reference_grant_opens_a_cross_namespace_backend_and_its_removal_closes_it() {
    let cp = controlplane::shared();
    let other = cp.namespace("grant-db").await;
    let watched = other.clone();
    let env = support::run::start_with("grant", |options| {
        let mut scope = options.scope.clone();
        scope.namespaces.push(watched);
        ControllerOptions {
            scope,
            status: StatusOptions {
                debounce: Duration::from_millis(20),
                ..StatusOptions::default()
            },
            ..options
        }
    })
    .await;
    let route = format!(
        "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {{name: shop}}\nspec:\n  parentRefs: [{{name: kong}}]\n  rules:\n  - filters:\n    - type: RequestHeaderModifier\n      requestHeaderModifier: {{set: [{{name: X-Env, value: test}}]}}\n    backendRefs:\n    - {{name: web, port: 80}}\n    - {{name: db, namespace: {other}, port: 80}}\n"
    );
    env.apply(&format!(
        "{}---\n{}---\n{}---\n{route}",
        gateway(&env.ns),
        service("web", None),
        slice("web", 1)
    ))
    .await;
    let db_slice = "apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata:\n  name: db-1\n  labels: {kubernetes.io/service-name: db}\naddressType: IPv4\nports: [{name: http, port: 1027, protocol: TCP}]\nendpoints:\n- addresses: [10.9.0.1]\n  conditions: {ready: true}\n";
    support::apply::apply_yaml(
        &env.client,
        Some(&other),
        &format!("{}---\n{db_slice}", service("db", None)),
    )
    .await;
    let upstream = format!("httproute.{}.shop.0", env.ns);
    let route_name = format!("httproute.{}.shop.0.0", env.ns);
    let targets = |c: &kong_admin_double::ValidConfig| -> Vec<String> {
        let mut t: Vec<String> = c
            .targets_of(&upstream)
            .iter()
            .filter_map(|t| t["target"].as_str().map(str::to_string))
            .collect();
        t.sort();
        t
    };
    let config = env
        .wait("only web's endpoint is a target", |c| {
            targets(c) == ["10.1.0.1:1027"]
        })
        .await;
    let route_id = config.route(&route_name).expect("the route")["id"].clone();
    let transformer = config
        .plugins()
        .iter()
        .find(|p| p["name"] == "request-transformer" && p["route"]["id"] == route_id)
        .expect("the filter's request-transformer on the route");
    assert_eq!(
        transformer["config"]["replace"]["headers"],
        json!(["X-Env:test"])
    );
    assert_eq!(
        transformer["config"]["add"]["headers"],
        json!(["X-Env:test"])
    );
    eventually("ResolvedRefs=False/RefNotPermitted", async || {
        let parents = env.parents("shop").await;
        match parent_for(&parents, "kong") {
            Some(p) if is(p, "ResolvedRefs", "False", "RefNotPermitted") => Ok(()),
            _ => Err(format!("{parents:?}")),
        }
    })
    .await;

    let grant = format!(
        "apiVersion: gateway.networking.k8s.io/v1beta1\nkind: ReferenceGrant\nmetadata: {{name: shop-to-db}}\nspec:\n  from: [{{group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: {}}}]\n  to: [{{group: \"\", kind: Service, name: db}}]\n",
        env.ns
    );
    support::apply::apply_yaml(&env.client, Some(&other), &grant).await;
    env.wait("the grant lets db's endpoint in", |c| {
        targets(c) == ["10.1.0.1:1027", "10.9.0.1:1027"]
    })
    .await;
    eventually("ResolvedRefs=True", async || {
        let parents = env.parents("shop").await;
        match parent_for(&parents, "kong") {
            Some(p) if is(p, "ResolvedRefs", "True", "ResolvedRefs") => Ok(()),
            _ => Err(format!("{parents:?}")),
        }
    })
    .await;

    Api::<kingress::api::ReferenceGrant>::namespaced(env.client.clone(), &other)
        .delete("shop-to-db", &Default::default())
        .await
        .expect("delete the grant");
    env.wait("without the grant db is left out again", |c| {
        targets(c) == ["10.1.0.1:1027"]
    })
    .await;
}

/// A GatewayClass of ours is Accepted; its Gateway is Accepted and Programmed with the publish
/// Service's address, an HTTP listener (the Service's port 80 reaches Kong's proxy listener 8000)
/// counts the HTTPRoute attached to it, and a TCP listener takes TCPRoutes (none attached) but is
/// not accepted, Kong having no stream listener. observedGeneration follows an edit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gateway_class_and_gateway_status_with_listeners_and_addresses() {
    let env = start("gateway-status", |ns| StatusOptions {
        publish_service: Some((ns.to_string(), "kong-proxy".into())),
        ..StatusOptions::default()
    })
    .await;
    let stored = env
        .apply("apiVersion: v1\nkind: Service\nmetadata: {name: kong-proxy}\nspec:\n  ports: [{name: proxy, port: 80, targetPort: 8000}]\n")
        .await;
    let cluster_ip = stored[0].data["spec"]["clusterIP"]
        .as_str()
        .expect("the apiserver allocates a ClusterIP")
        .to_string();
    let class = controlplane::shared().unique_name("kong-class");
    let gateway = |tcp_port: u16| {
        format!(
            "apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {{name: kong}}\nspec:\n  gatewayClassName: {class}\n  listeners:\n  - {{name: http, port: 80, protocol: HTTP}}\n  - {{name: tcp, port: {tcp_port}, protocol: TCP}}\n"
        )
    };
    env.apply(&format!(
        "apiVersion: gateway.networking.k8s.io/v1\nkind: GatewayClass\nmetadata: {{name: {class}}}\nspec: {{controllerName: {DEFAULT_CONTROLLER_NAME}}}\n---\n{}---\n{}---\n{}---\n{}",
        gateway(9000),
        service("web", None),
        slice("web", 1),
        httproute("web", &["web"])
    ))
    .await;
    let classes: Api<kingress::api::GatewayClass> = Api::all(env.client.clone());
    eventually("the GatewayClass is Accepted", async || {
        let c = classes.get(&class).await.map_err(|e| e.to_string())?;
        let conditions =
            serde_json::to_value(c.status.and_then(|s| s.conditions)).unwrap_or_default();
        match conditions.as_array().and_then(|a| a.first()) {
            Some(a) if is(&json!({"conditions": [a]}), "Accepted", "True", "Accepted") => Ok(()),
            _ => Err(conditions.to_string()),
        }
    })
    .await;
    let gateways: Api<kingress::api::Gateway> = Api::namespaced(env.client.clone(), &env.ns);
    let status = |generation: i64| {
        let gateways = gateways.clone();
        let cluster_ip = cluster_ip.clone();
        async move {
            let g = gateways.get("kong").await.map_err(|e| e.to_string())?;
            let s = serde_json::to_value(g.status).unwrap_or_default();
            let listener = |name: &str| {
                s["listeners"]
                    .as_array()
                    .and_then(|l| l.iter().find(|l| l["name"] == name))
                    .cloned()
                    .unwrap_or_default()
            };
            let (http, tcp) = (listener("http"), listener("tcp"));
            // Accepted with one listener (tcp) not: the spec's ListenersNotValid.
            let ok = is(&s, "Accepted", "True", "ListenersNotValid")
                && is(&s, "Programmed", "True", "Programmed")
                && s["conditions"][0]["observedGeneration"] == generation
                && s["addresses"] == json!([{"type": "IPAddress", "value": cluster_ip}])
                && http["attachedRoutes"] == 1
                && is(&http, "Programmed", "True", "Programmed")
                // Kong (the double, with Kong's default stream_listen = off) serves no TCP.
                && is(&tcp, "Accepted", "False", "UnsupportedProtocol")
                && tcp["supportedKinds"][0]["kind"] == "TCPRoute"
                && tcp["attachedRoutes"] == 0;
            if ok { Ok(()) } else { Err(s.to_string()) }
        }
    };
    eventually("the Gateway's status", async || status(1).await).await;
    // An edit bumps the generation; the conditions follow it.
    env.apply(&gateway(9001)).await;
    eventually("observedGeneration 2", async || status(2).await).await;
}

/// A BackendTLSPolicy on the Service an attached HTTPRoute sends to: the Kong service speaks
/// verified https with the labelled CA ConfigMap's certificate, and the policy's ancestor (the
/// Gateway) says Accepted; a second policy on the Service makes both Conflicted and neither
/// applies.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backend_tls_policy_is_applied_and_reported_on_its_gateway() {
    let env = start("backend-tls", |_| StatusOptions::default()).await;
    let ca = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ca\n  labels: {konghq.com/ca-cert: \"true\"}\ndata:\n  id: 11111111-1111-4111-8111-111111111111\n  cert: |\n    -----BEGIN CERTIFICATE-----\n    MIIBjjCCATOgAwIBAgIUVU2jrZx4A8vxlZN6WKhciGNxzP0wCgYIKoZIzj0EAwIw\n    EzERMA8GA1UEAwwIY2ExLXJvb3QwIBcNMjYxMjA2MTA0OTMwWhgPMjEyNjExMTIx\n    MDQ5MzBaMBMxETAPBgNVBAMMCGNhMS1yb290MFkwEwYHKoZIzj0CAQYIKoZIzj0D\n    AQcDQgAE4yH2JC5DuFlhS83yDp7zhCZSrG12t2nMoeh27lGUKKpmIl+AUowDK2Lv\n    Ynyd8mXxZmeK34bmeSbYcPedUq9Ao6NjMGEwHQYDVR0OBBYEFPwLLDfw4S9D7Hgq\n    tVITCmBVW7KtMB8GA1UdIwQYMBaAFPwLLDfw4S9D7HgqtVITCmBVW7KtMA8GA1Ud\n    EwEB/wQFMAMBAf8wDgYDVR0PAQH/BAQDAgEGMAoGCCqGSM49BAMCA0kAMEYCIQCp\n    t/itkuGHP4p60+MsldZsChZlAB+XCe5Nh5rWyAxQ4wIhAI9NRhL/G8A+2bY/+3Jc\n    so0mBtu9UnHJTmcfN9v+mkpZ\n    -----END CERTIFICATE-----\n";
    let policy = |name: &str| {
        format!(
            "apiVersion: gateway.networking.k8s.io/v1\nkind: BackendTLSPolicy\nmetadata: {{name: {name}}}\nspec:\n  targetRefs: [{{group: \"\", kind: Service, name: web}}]\n  validation:\n    hostname: web.internal\n    caCertificateRefs: [{{group: \"\", kind: ConfigMap, name: ca}}]\n"
        )
    };
    env.apply(&format!(
        "{}---\n{}---\n{}---\n{}---\n{ca}---\n{}",
        gateway(&env.ns),
        service("web", None),
        slice("web", 1),
        httproute("web", &["web"]),
        policy("web-tls")
    ))
    .await;
    let kong_service = format!("httproute.{}.web.0", env.ns);
    let config = env
        .wait("the Kong service verifies TLS with the CA", |c| {
            c.service(&kong_service).is_some_and(|s| {
                s["protocol"] == "https"
                    && s["tls_verify"] == true
                    && s["ca_certificates"] == json!(["11111111-1111-4111-8111-111111111111"])
            })
        })
        .await;
    assert_eq!(
        config.upstream(&kong_service).expect("upstream")["host_header"],
        "web.internal"
    );
    assert_eq!(config.entities("ca_certificates").len(), 1);
    let policies: Api<kingress::api::BackendTlsPolicy> =
        Api::namespaced(env.client.clone(), &env.ns);
    let ancestor = |name: &'static str, reason: &'static str| {
        let policies = policies.clone();
        async move {
            let p = policies.get(name).await.map_err(|e| e.to_string())?;
            let s = serde_json::to_value(p.status).unwrap_or_default();
            let ours = s["ancestors"]
                .as_array()
                .and_then(|a| {
                    a.iter()
                        .find(|a| a["controllerName"] == DEFAULT_CONTROLLER_NAME)
                        .cloned()
                })
                .unwrap_or_default();
            let ok = ours["ancestorRef"]["name"] == "kong"
                && is(
                    &ours,
                    "Accepted",
                    if reason == "Accepted" {
                        "True"
                    } else {
                        "False"
                    },
                    reason,
                );
            if ok { Ok(()) } else { Err(s.to_string()) }
        }
    };
    eventually("the policy is Accepted on Gateway kong", async || {
        ancestor("web-tls", "Accepted").await
    })
    .await;

    env.apply(&policy("web-tls-2")).await;
    env.wait("two policies: neither applies", |c| {
        c.service(&kong_service).is_some_and(|s| {
            s["protocol"] == "http" && s.get("tls_verify").is_none_or(|v| v.is_null())
        })
    })
    .await;
    eventually("both are Conflicted", async || {
        ancestor("web-tls", "Conflicted").await?;
        ancestor("web-tls-2", "Conflicted").await
    })
    .await;
}

/// A cluster that serves TCPRoute only at `v1alpha2` (experimental installs, and Gateway API
/// before v1.5): kingress watches the version served, tags the route with it as KIC does
/// (`k8s-version:v1alpha2`), and writes `status.parents` through it. The CRD change is made in
/// this test binary's apiserver; no other test here creates TCPRoutes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tcproutes_served_only_at_v1alpha2_are_read_and_get_status() {
    use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
    let cp = controlplane::shared();
    let admin = cp.client().await;
    let crds: Api<CustomResourceDefinition> = Api::all(admin.clone());
    let mut crd = crds
        .get("tcproutes.gateway.networking.k8s.io")
        .await
        .expect("the TCPRoute CRD");
    for v in &mut crd.spec.versions {
        let alpha = v.name == "v1alpha2";
        v.served = alpha;
        v.storage = alpha;
    }
    crd.metadata.managed_fields = None;
    crds.replace(
        "tcproutes.gateway.networking.k8s.io",
        &Default::default(),
        &crd,
    )
    .await
    .expect("serve TCPRoute at v1alpha2 only");
    let served = async |version: &str| {
        admin
            .list_api_group_resources(&format!("gateway.networking.k8s.io/{version}"))
            .await
            .is_ok_and(|l| l.resources.iter().any(|r| r.name == "tcproutes"))
    };
    eventually(
        "discovery serves TCPRoute at v1alpha2 only",
        async || match (served("v1").await, served("v1alpha2").await) {
            (false, true) => Ok(()),
            other => Err(format!("(v1, v1alpha2) served: {other:?}")),
        },
    )
    .await;

    let env = start("tcproute-alpha", |_| StatusOptions::default()).await;
    let class = cp.unique_name("kong-class");
    env.apply(&format!(
        "apiVersion: gateway.networking.k8s.io/v1\nkind: GatewayClass\nmetadata: {{name: {class}}}\nspec: {{controllerName: {DEFAULT_CONTROLLER_NAME}}}\n---\napiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {{name: kong}}\nspec:\n  gatewayClassName: {class}\n  listeners: [{{name: tcp, port: 5432, protocol: TCP}}]\n---\n{}---\n{}---\napiVersion: gateway.networking.k8s.io/v1alpha2\nkind: TCPRoute\nmetadata: {{name: db}}\nspec:\n  parentRefs: [{{name: kong, sectionName: tcp}}]\n  rules:\n  - backendRefs: [{{name: web, port: 80}}]\n",
        service("web", None),
        slice("web", 1),
    ))
    .await;
    let route = format!("tcproute.{}.db.0.0", env.ns);
    let c = env
        .wait("the TCPRoute read at v1alpha2", |c| {
            c.route(&route).is_some()
        })
        .await;
    let tags = c.route(&route).expect("route")["tags"].clone();
    assert!(
        tags.as_array()
            .is_some_and(|t| t.iter().any(|t| t == "k8s-version:v1alpha2")),
        "{tags}"
    );
    let resource = kube::discovery::ApiResource {
        group: "gateway.networking.k8s.io".into(),
        version: "v1alpha2".into(),
        api_version: "gateway.networking.k8s.io/v1alpha2".into(),
        kind: "TCPRoute".into(),
        plural: "tcproutes".into(),
    };
    let routes: Api<kube::api::DynamicObject> =
        Api::namespaced_with(env.client.clone(), &env.ns, &resource);
    eventually("the TCPRoute's status, written at v1alpha2", async || {
        let r = routes.get("db").await.map_err(|e| e.to_string())?;
        let parents = r.data["status"]["parents"].clone();
        let ours = parents.as_array().and_then(|p| p.first()).cloned();
        match ours {
            Some(p) if is(&p, "Accepted", "True", "Accepted") => Ok(()),
            _ => Err(parents.to_string()),
        }
    })
    .await;
}
