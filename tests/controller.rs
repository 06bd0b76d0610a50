//! `kingress run` end to end: a real kube-apiserver (tests/support) and the Kong admin API
//! test double. Each test has its own namespace and its own controller watching only it.

mod support;

use std::time::Duration;

use kingress::controller::{self, ControllerOptions};
use kong_admin_double::{Fault, KongAdminDouble, ValidConfig};
use serde_json::Value;
use support::apply::apply_yaml;
use support::controlplane;
use support::run::{WAIT, start, start_with};

fn field<'a>(entity: Option<&'a Value>, name: &str) -> Option<&'a str> {
    entity.and_then(|e| e.get(name)).and_then(Value::as_str)
}

fn weights(config: &ValidConfig, upstream: &str) -> Vec<(String, u64)> {
    let mut w: Vec<(String, u64)> = config
        .targets_of(upstream)
        .into_iter()
        .map(|t| {
            (
                t["target"].as_str().unwrap_or_default().to_string(),
                t["weight"].as_u64().unwrap_or(100),
            )
        })
        .collect();
    w.sort();
    w
}

fn echo_service(with_policy: bool) -> String {
    let annotations = if with_policy {
        "  annotations: {konghq.com/upstream-policy: sample-customization}\n"
    } else {
        ""
    };
    format!(
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: echo\n{annotations}spec:\n  ports: [{{name: http, port: 80, targetPort: 1027}}]\n"
    )
}

fn echo_slice(endpoints: usize) -> String {
    let eps: String = (1..=endpoints)
        .map(|i| format!("- addresses: [10.1.0.{i}]\n  conditions: {{ready: true}}\n"))
        .collect();
    format!(
        "apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata:\n  name: echo-1\n  labels: {{kubernetes.io/service-name: echo}}\naddressType: IPv4\nports: [{{name: http, port: 1027, protocol: TCP}}]\nendpoints:\n{eps}"
    )
}

const POLICY: &str = "apiVersion: configuration.konghq.com/v1beta1\nkind: KongUpstreamPolicy\nmetadata: {name: sample-customization}\nspec:\n  algorithm: consistent-hashing\n  hashOn: {header: x-lb}\n  hashOnFallback: {input: ip}\n";

const INGRESS: &str = "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: echo}\nspec:\n  ingressClassName: kong\n  rules:\n  - http:\n      paths:\n      - {path: /echo, pathType: Prefix, backend: {service: {name: echo, port: {number: 80}}}}\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn echo_policy_annotation_and_scaling_reach_kong() {
    let env = start("echo").await;
    env.apply(&format!(
        "{}---\n{}---\n{POLICY}---\n{INGRESS}",
        echo_service(true),
        echo_slice(2)
    ))
    .await;
    let upstream = format!("echo.{}.80.svc", env.ns);
    let config = env
        .wait("the echo upstream hashes on x-lb", |c| {
            field(c.upstream(&upstream), "hash_on") == Some("header")
        })
        .await;
    let u = config.upstream(&upstream);
    assert_eq!(field(u, "algorithm"), Some("consistent-hashing"));
    assert_eq!(field(u, "hash_on_header"), Some("x-lb"));
    assert_eq!(field(u, "hash_fallback"), Some("ip"));
    assert_eq!(weights(&config, &upstream).len(), 2);
    let route = format!("{}.echo.echo..80", env.ns);
    assert!(config.route(&route).is_some(), "route {route} present");

    // Removing the annotation removes the hashing settings.
    env.apply(&echo_service(false)).await;
    let config = env
        .wait("the echo upstream no longer hashes", |c| {
            c.upstream(&upstream).is_some()
                && field(c.upstream(&upstream), "hash_on") == Some("none")
        })
        .await;
    assert_eq!(
        field(config.upstream(&upstream), "algorithm"),
        Some("round-robin")
    );

    // Scaling the EndpointSlice from 2 to 3 endpoints adds a target.
    env.apply(&echo_slice(3)).await;
    env.wait("echo has 3 targets", |c| c.targets_of(&upstream).len() == 3)
        .await;
}

fn split_route(ns: &str, class: &str, w1: u32, w2: u32) -> String {
    let mut yaml = format!(
        "apiVersion: gateway.networking.k8s.io/v1\nkind: GatewayClass\nmetadata: {{name: {class}}}\nspec: {{controllerName: konghq.com/kic-gateway-controller}}\n---\napiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {{name: kong, namespace: {ns}}}\nspec:\n  gatewayClassName: {class}\n  listeners: [{{name: http, port: 80, protocol: HTTP}}]\n"
    );
    for (svc, n) in [("blue", 4), ("green", 2)] {
        let eps: String = (1..=n)
            .map(|i| {
                format!(
                    "- addresses: [10.2.{}.{i}]\n",
                    if svc == "blue" { 1 } else { 2 }
                )
            })
            .collect();
        yaml.push_str(&format!(
            "---\napiVersion: v1\nkind: Service\nmetadata: {{name: {svc}, namespace: {ns}}}\nspec: {{ports: [{{name: http, port: 80}}]}}\n---\napiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {{name: {svc}-1, namespace: {ns}, labels: {{kubernetes.io/service-name: {svc}}}}}\naddressType: IPv4\nports: [{{name: http, port: 8080, protocol: TCP}}]\nendpoints:\n{eps}"
        ));
    }
    yaml.push_str(&format!(
        "---\napiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {{name: split, namespace: {ns}}}\nspec:\n  parentRefs: [{{name: kong}}]\n  rules:\n  - backendRefs:\n    - {{name: blue, port: 80, weight: {w1}}}\n    - {{name: green, port: 80, weight: {w2}}}\n"
    ));
    yaml
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn httproute_split_gives_exact_per_endpoint_weights() {
    let env = start("split").await;
    let class = controlplane::shared().unique_name("kong-class");
    env.apply(&split_route(&env.ns, &class, 50, 50)).await;
    let upstream = format!("httproute.{}.split.0", env.ns);
    let config = env
        .wait("the split upstream has 6 targets", |c| {
            c.targets_of(&upstream).len() == 6
        })
        .await;
    let w = weights(&config, &upstream);
    let blue: Vec<u64> = w
        .iter()
        .filter(|(t, _)| t.starts_with("10.2.1."))
        .map(|x| x.1)
        .collect();
    let green: Vec<u64> = w
        .iter()
        .filter(|(t, _)| t.starts_with("10.2.2."))
        .map(|x| x.1)
        .collect();
    assert_eq!(blue, vec![25; 4]);
    assert_eq!(green, vec![50; 2], "1:2 per endpoint, 100:100 per Service");

    env.apply(&split_route(&env.ns, &class, 75, 25)).await;
    let total = |w: &[(String, u64)], prefix: &str| -> u64 {
        w.iter()
            .filter(|(t, _)| t.starts_with(prefix))
            .map(|x| x.1)
            .sum()
    };
    let config = env
        .wait("the split follows 75/25", |c| {
            let w = weights(c, &upstream);
            total(&w, "10.2.1.") == 3 * total(&w, "10.2.2.")
        })
        .await;
    // Exact: 75·L/4 and 25·L/2 with L = 4 → 75 per blue endpoint, 50 per green one.
    let w = weights(&config, &upstream);
    assert!(
        w.iter()
            .all(|(t, x)| *x == if t.starts_with("10.2.1.") { 75 } else { 50 }),
        "{w:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_policy_kong_rejects_is_left_out_and_comes_back_when_fixed() {
    let env = start("fallback").await;
    // Accepted by the CRD's rules, rejected by Kong: consumer cannot fall back to itself.
    let bad = "apiVersion: configuration.konghq.com/v1beta1\nkind: KongUpstreamPolicy\nmetadata: {name: sample-customization}\nspec:\n  algorithm: consistent-hashing\n  hashOn: {input: consumer}\n  hashOnFallback: {input: consumer}\n";
    let other = "apiVersion: v1\nkind: Service\nmetadata: {name: other}\nspec: {ports: [{port: 80}]}\n---\napiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: other}\nspec:\n  ingressClassName: kong\n  rules: [{http: {paths: [{path: /other, pathType: Prefix, backend: {service: {name: other, port: {number: 80}}}}]}}]\n";
    env.apply(&format!(
        "{}---\n{}---\n{bad}---\n{INGRESS}---\n{other}",
        echo_service(true),
        echo_slice(2)
    ))
    .await;
    let echo = format!("echo.{}.80.svc", env.ns);
    let other_upstream = format!("other.{}.80.svc", env.ns);
    // The policy's watch may deliver it after the Service's: wait for Kong's rejection, not
    // for a config that merely predates the policy. As KIC's fallback does, what depends on
    // the policy goes with it: Service echo (its annotation names the policy) and the Ingress
    // routing to echo; other stays.
    env.wait(
        "Kong rejected the policy; echo and its Ingress are left out, other is in Kong",
        |c| {
            !env.kong.rejected().is_empty()
                && c.upstream(&echo).is_none()
                && c.upstream(&other_upstream).is_some()
        },
    )
    .await;

    env.apply(POLICY).await;
    let config = env
        .wait("the fixed policy is applied", |c| {
            field(c.upstream(&echo), "hash_on") == Some("header")
        })
        .await;
    assert_eq!(
        config.targets_of(&echo).len(),
        2,
        "echo is back with its targets"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_last_valid_fallback_a_rejected_policy_keeps_what_kong_accepted() {
    // KIC's --use-last-valid-config-for-fallback: the policy, Service echo and its Ingress are
    // configured as Kong last accepted them (v3.5.13 fallback.go lines 64-127); endpoints
    // are not part of that graph and keep following the cluster.
    let env = start_with("last-valid", |options| ControllerOptions {
        last_valid_fallback: true,
        ..options
    })
    .await;
    env.apply(&format!(
        "{}---\n{}---\n{POLICY}---\n{INGRESS}",
        echo_service(true),
        echo_slice(2)
    ))
    .await;
    let echo = format!("echo.{}.80.svc", env.ns);
    env.wait("the policy is applied", |c| {
        field(c.upstream(&echo), "hash_on") == Some("header")
    })
    .await;
    // Accepted by the CRD's rules, rejected by Kong: consumer cannot fall back to itself.
    let bad = "apiVersion: configuration.konghq.com/v1beta1\nkind: KongUpstreamPolicy\nmetadata: {name: sample-customization}\nspec:\n  algorithm: consistent-hashing\n  hashOn: {input: consumer}\n  hashOnFallback: {input: consumer}\n";
    env.apply(bad).await;
    support::observe::eventually("Kong rejecting the policy", async || {
        match env.kong.rejected().len() {
            0 => Err("no rejection yet".to_string()),
            _ => Ok(()),
        }
    })
    .await;
    // Translated after the rejection: without the flag echo would be left out.
    env.apply(&echo_slice(3)).await;
    let config = env
        .wait(
            "echo keeps the accepted policy and gets its third endpoint",
            |c| c.targets_of(&echo).len() == 3,
        )
        .await;
    assert_eq!(field(config.upstream(&echo), "hash_on"), Some("header"));
    assert_eq!(field(config.upstream(&echo), "hash_fallback"), Some("ip"));
    let note = support::observe::event_note(
        &env.client,
        &env.ns,
        "KongUpstreamPolicy",
        "sample-customization",
        "KongConfigurationApplyFailed",
    )
    .await;
    assert!(
        note.contains("the version Kong last accepted stays configured"),
        "{note}"
    );

    // Fixed: the policy as it is now.
    env.apply(&POLICY.replace("x-lb", "x-user")).await;
    env.wait("the fixed policy is applied", |c| {
        field(c.upstream(&echo), "hash_on_header") == Some("x-user")
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changes_during_an_admin_api_outage_are_not_lost() {
    let env = start("outage").await;
    env.apply(&format!(
        "{}---\n{}---\n{INGRESS}",
        echo_service(false),
        echo_slice(1)
    ))
    .await;
    let upstream = format!("echo.{}.80.svc", env.ns);
    env.wait("echo has 1 target", |c| c.targets_of(&upstream).len() == 1)
        .await;
    env.kong.inject(Fault::Down);
    for n in 2..=4 {
        env.apply(&echo_slice(n)).await;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    env.kong.clear_faults().await;
    env.wait("echo has the latest 4 targets", |c| {
        c.targets_of(&upstream).len() == 4
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_leader_pushes_and_a_standby_takes_over() {
    use kingress::controller::leader::LeaderOptions;
    let cp = controlplane::shared();
    let ns = cp.namespace("leader").await;
    let client = cp.client().await;
    let kong = KongAdminDouble::start().await.expect("double");
    let options = |identity: &str| ControllerOptions {
        leader_election: Some(LeaderOptions {
            namespace: ns.clone(),
            name: "kingress-leader".into(),
            identity: identity.into(),
            lease_duration: Duration::from_secs(3),
            renew: Duration::from_millis(500),
        }),
        ..support::run::options(&ns, &kong)
    };
    let first = controller::start(client.clone(), options("first"))
        .await
        .expect("first controller");
    let mut first_leads = first.leader.clone();
    tokio::time::timeout(WAIT, first_leads.wait_for(|l| *l))
        .await
        .expect("the first candidate leads")
        .expect("leader channel");
    let second = controller::start(client.clone(), options("second"))
        .await
        .expect("second controller");
    apply_yaml(
        &client,
        Some(&ns),
        &format!(
            "{}---\n{}---\n{INGRESS}",
            echo_service(false),
            echo_slice(1)
        ),
    )
    .await;
    let upstream = format!("echo.{ns}.80.svc");
    kong.wait_for_config(|c| c.targets_of(&upstream).len() == 1, WAIT)
        .await
        .expect("the leader pushed");
    assert!(
        !*second.leader.borrow(),
        "the second candidate is a standby"
    );

    // The leader dies without releasing the Lease: the standby takes over once it expires.
    drop(first);
    let mut second_leads = second.leader.clone();
    tokio::time::timeout(WAIT, second_leads.wait_for(|l| *l))
        .await
        .expect("the standby takes over")
        .expect("leader channel");
    apply_yaml(&client, Some(&ns), &echo_slice(2)).await;
    kong.wait_for_config(|c| c.targets_of(&upstream).len() == 2, WAIT)
        .await
        .expect("the new leader pushes");
    let lease: kube::Api<k8s_openapi::api::coordination::v1::Lease> =
        kube::Api::namespaced(client.clone(), &ns);
    let held = lease.get("kingress-leader").await.expect("lease");
    assert_eq!(
        held.spec.and_then(|s| s.holder_identity).as_deref(),
        Some("second")
    );
}

async fn get(addr: std::net::SocketAddr, path: &str) -> (u16, String) {
    let resp = reqwest::get(format!("http://{addr}{path}"))
        .await
        .expect("probe request");
    let status = resp.status().as_u16();
    (status, resp.text().await.unwrap_or_default())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ready_once_a_replica_holds_the_config_and_metrics_say_so() {
    let env = start("probes").await;
    let addr = env.controller.listening[0];
    assert_eq!(get(addr, "/healthz").await.0, 200);
    env.kong.inject(Fault::Down);
    env.apply(&format!(
        "{}---\n{}---\n{INGRESS}",
        echo_service(false),
        echo_slice(1)
    ))
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (status, body) = get(addr, "/readyz").await;
    assert_eq!(
        status, 503,
        "not ready while no replica holds the config: {body}"
    );
    env.kong.clear_faults().await;
    let upstream = format!("echo.{}.80.svc", env.ns);
    env.wait("echo is pushed", |c| c.upstream(&upstream).is_some())
        .await;
    let ready = async {
        loop {
            let (status, body) = get(addr, "/readyz").await;
            if status == 200 {
                return body;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    };
    let body = tokio::time::timeout(WAIT, ready).await.expect("ready");
    assert!(body.contains("1 Kong replica(s) hold"), "{body}");
    let (_, metrics) = get(addr, "/metrics").await;
    for line in [
        "kingress_translation_duration_seconds_count",
        "kingress_objects{kind=\"Ingress\"} 1",
        "kingress_replica_in_sync{replica=",
        "kingress_pushes_total{replica=",
        "kingress_leader 1",
        // At 0 before any rejection, so the first one is an increase the alert sees.
        ",result=\"rejected\"} 0",
        "kingress_replica_config_info{replica=",
    ] {
        assert!(metrics.contains(line), "metrics lack {line}:\n{metrics}");
    }
}

/// A listener that admits namespaces by label: the HTTPRoute reaches Kong once its Namespace
/// carries the label, and leaves when the label goes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_namespace_label_admits_and_drops_routes_of_a_selector_listener() {
    use kube::api::{Api, Patch, PatchParams};
    let env = start("ns-selector").await;
    let class = controlplane::shared().unique_name("kong-class");
    env.apply(&format!(
        "apiVersion: gateway.networking.k8s.io/v1\nkind: GatewayClass\nmetadata: {{name: {class}}}\nspec: {{controllerName: konghq.com/kic-gateway-controller}}\n---\napiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {{name: kong}}\nspec:\n  gatewayClassName: {class}\n  listeners:\n  - name: http\n    port: 80\n    protocol: HTTP\n    allowedRoutes:\n      namespaces:\n        from: Selector\n        selector: {{matchLabels: {{team: blue}}}}\n---\napiVersion: v1\nkind: Service\nmetadata: {{name: web}}\nspec: {{ports: [{{name: http, port: 80}}]}}\n---\napiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {{name: web}}\nspec:\n  parentRefs: [{{name: kong}}]\n  rules: [{{backendRefs: [{{name: web, port: 80}}]}}]\n"
    ))
    .await;
    let service = format!("httproute.{}.web.0", env.ns);
    env.wait("a config without the route (no label yet)", |c| {
        c.service(&service).is_none()
    })
    .await;
    let accepted = async |status: &'static str, reason: &'static str| {
        let routes: Api<kingress::api::HttpRoute> = Api::namespaced(env.client.clone(), &env.ns);
        support::observe::eventually(
            &format!("the route Accepted={status}/{reason}"),
            async || {
                let route = routes.get("web").await.map_err(|e| e.to_string())?;
                let parents =
                    serde_json::to_value(route.status.map(|s| s.parents)).unwrap_or_default();
                let ours = parents
                    .as_array()
                    .and_then(|p| p.iter().find(|p| p["parentRef"]["name"] == "kong"))
                    .cloned()
                    .unwrap_or_default();
                match support::observe::is(&ours, "Accepted", status, reason) {
                    true => Ok(()),
                    false => Err(ours.to_string()),
                }
            },
        )
        .await
    };
    accepted("False", "NotAllowedByListeners").await;
    let namespaces: Api<k8s_openapi::api::core::v1::Namespace> = Api::all(env.client.clone());
    let label = |value: serde_json::Value| {
        let namespaces = namespaces.clone();
        let ns = env.ns.clone();
        async move {
            namespaces
                .patch(
                    &ns,
                    &PatchParams::default(),
                    &Patch::Merge(serde_json::json!({"metadata": {"labels": {"team": value}}})),
                )
                .await
                .expect("label the namespace");
        }
    };
    label(serde_json::json!("blue")).await;
    env.wait("the labelled namespace's route is in Kong", |c| {
        c.service(&service).is_some()
    })
    .await;
    accepted("True", "Accepted").await;
    label(serde_json::Value::Null).await;
    env.wait("without the label the route leaves Kong", |c| {
        c.service(&service).is_none()
    })
    .await;
}
