//! Every Kong replica configured: replicas discovered from the EndpointSlices of the Kong
//! admin Service in a real kube-apiserver, each one a Kong admin API test double.

mod support;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kingress::controller::sync::SyncState;
use kingress::controller::{self, AdminService, ControllerOptions, Running};
use kingress::crd::KongPlugin;
use kingress::kong::admin_api::AdminApiOptions;
use kingress::translate::{Reason, Severity};
use kong_admin_double::{Fault, KongAdminDouble, ValidConfig};
use support::apply::apply_yaml;
use support::controlplane;

const WAIT: Duration = Duration::from_secs(30);

struct Env {
    ns: String,
    client: kube::Client,
    kongs: Vec<KongAdminDouble>,
    controller: Running,
}

/// The doubles listen on loopback, which the apiserver refuses in IP EndpointSlices, so
/// each replica is an FQDN slice for `kong.kingress.test` (resolved to loopback by the
/// admin API client's `resolve` option) on its own port.
fn admin_slice(ns: &str, index: usize, kong: &KongAdminDouble) -> String {
    format!(
        "apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata:\n  name: kong-admin-{index}\n  namespace: {ns}\n  labels: {{kubernetes.io/service-name: kong-admin}}\naddressType: FQDN\nports: [{{name: admin, port: {}, protocol: TCP}}]\nendpoints:\n- addresses: [kong.kingress.test]\n  conditions: {{ready: true}}\n",
        kong.addr().port()
    )
}

async fn start(prefix: &str, replicas: usize) -> Env {
    let cp = controlplane::shared();
    let ns = cp.namespace(prefix).await;
    let client = cp.client().await;
    let mut kongs = Vec::new();
    for _ in 0..replicas {
        kongs.push(KongAdminDouble::start().await.expect("admin API double"));
    }
    let mut yaml = "apiVersion: v1\nkind: Service\nmetadata: {name: kong-admin}\nspec:\n  clusterIP: None\n  ports: [{name: admin, port: 8001}]\n".to_string();
    for (i, k) in kongs.iter().enumerate() {
        yaml.push_str("---\n");
        yaml.push_str(&admin_slice(&ns, i, k));
    }
    apply_yaml(&client, Some(&ns), &yaml).await;
    let options = ControllerOptions {
        admin_service: Some(AdminService {
            namespace: ns.clone(),
            name: "kong-admin".into(),
            port_name: None,
            template: AdminApiOptions {
                resolve: vec![(
                    "kong.kingress.test".into(),
                    std::net::Ipv4Addr::LOCALHOST.into(),
                )],
                ..support::run::admin_api(String::new())
            },
        }),
        ..support::run::options_with(&ns, vec![])
    };
    let controller = controller::start(client.clone(), options)
        .await
        .expect("start the controller");
    Env {
        ns,
        client,
        kongs,
        controller,
    }
}

impl Env {
    async fn apply(&self, yaml: &str) {
        apply_yaml(&self.client, Some(&self.ns), yaml).await;
    }

    async fn wait_on(
        &self,
        kong: &KongAdminDouble,
        what: &str,
        pred: impl Fn(&ValidConfig) -> bool,
    ) {
        if kong.wait_for_config(pred, WAIT).await.is_none() {
            panic!("replica {} never got a config where {what}", kong.url());
        }
    }

    /// Waits until the KongPlugin's `ReplicaConsistentLimits` condition satisfies `pred`.
    async fn wait_plugin_condition(
        &self,
        name: &str,
        pred: impl Fn(Option<&Condition>) -> bool,
    ) -> Option<Condition> {
        let api: kube::Api<KongPlugin> = kube::Api::namespaced(self.client.clone(), &self.ns);
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let plugin = api.get(name).await.expect("get KongPlugin");
            let conditions = plugin.status.map(|s| s.conditions).unwrap_or_default();
            let c = conditions
                .iter()
                .find(|c| c.type_ == "ReplicaConsistentLimits");
            if pred(c) {
                return c.cloned();
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "KongPlugin {name} conditions never matched: {conditions:#?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits for an Event with `reason` about `kind`/`name` whose note contains `text`.
    async fn wait_event(&self, reason: &str, kind: &str, name: &str, text: &str) {
        let api: kube::Api<k8s_openapi::api::events::v1::Event> =
            kube::Api::namespaced(self.client.clone(), &self.ns);
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let events = api.list(&Default::default()).await.expect("list events");
            let found = events.items.iter().any(|e| {
                e.reason.as_deref() == Some(reason)
                    && e.regarding.as_ref().is_some_and(|r| {
                        r.kind.as_deref() == Some(kind) && r.name.as_deref() == Some(name)
                    })
                    && e.note.as_deref().is_some_and(|n| n.contains(text))
            });
            if found {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "no {reason} Event about {kind} {name}: {:#?}",
                events
                    .items
                    .iter()
                    .map(|e| (&e.reason, &e.note))
                    .collect::<Vec<_>>()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn wait_state(&self, what: &str, pred: impl Fn(&SyncState) -> bool) -> Arc<SyncState> {
        let mut rx = self.controller.state.clone();
        match tokio::time::timeout(WAIT, rx.wait_for(|s| pred(s))).await {
            Ok(Ok(s)) => s.clone(),
            _ => panic!(
                "the controller never reached a state where {what}: {:#?}",
                self.controller.state.borrow()
            ),
        }
    }
}

fn echo(endpoints: usize, plugin: &str) -> String {
    let eps: String = (1..=endpoints)
        .map(|i| format!("- addresses: [10.1.0.{i}]\n"))
        .collect();
    format!(
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: echo\n  annotations: {{konghq.com/plugins: {plugin}}}\nspec:\n  ports: [{{name: http, port: 80}}]\n---\napiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata:\n  name: echo-1\n  labels: {{kubernetes.io/service-name: echo}}\naddressType: IPv4\nports: [{{name: http, port: 8080, protocol: TCP}}]\nendpoints:\n{eps}---\napiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {{name: echo}}\nspec:\n  ingressClassName: kong\n  rules: [{{http: {{paths: [{{path: /, pathType: Prefix, backend: {{service: {{name: echo, port: {{number: 80}}}}}}}}]}}}}]\n"
    )
}

fn limit(name: &str, config: &str, replica_aware: bool) -> String {
    let annotations = if replica_aware {
        "\n  annotations: {kingress.io/replica-aware-limits: \"true\"}"
    } else {
        ""
    };
    format!(
        "apiVersion: configuration.konghq.com/v1\nkind: KongPlugin\nmetadata:\n  name: {name}{annotations}\nplugin: rate-limiting\nconfig: {config}\n"
    )
}

fn minute_limit(c: &ValidConfig) -> Option<u64> {
    c.plugins()
        .iter()
        .find(|p| p["name"] == "rate-limiting")
        .and_then(|p| p["config"]["minute"].as_u64())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn all_replicas_get_the_config_and_a_returning_one_catches_up() {
    let mut env = start("replicas", 3).await;
    env.apply(&echo(2, "none")).await;
    let upstream = format!("echo.{}.80.svc", env.ns);
    for k in &env.kongs {
        env.wait_on(k, "echo has 2 targets", |c| {
            c.targets_of(&upstream).len() == 2
        })
        .await;
    }
    let hashes: BTreeSet<String> = env.kongs.iter().map(|k| k.current_hash()).collect();
    assert_eq!(hashes.len(), 1, "all replicas hold the same config");

    // One replica down: the others still get the change; it catches up when back.
    env.kongs[1].inject(Fault::Down);
    env.apply(&echo(3, "none")).await;
    env.wait_on(&env.kongs[0], "echo has 3 targets", |c| {
        c.targets_of(&upstream).len() == 3
    })
    .await;
    env.wait_on(&env.kongs[2], "echo has 3 targets", |c| {
        c.targets_of(&upstream).len() == 3
    })
    .await;
    env.kongs[1].clear_faults().await;
    env.wait_on(&env.kongs[1], "echo has 3 targets", |c| {
        c.targets_of(&upstream).len() == 3
    })
    .await;

    // A fourth replica appears: it is configured at once.
    let fourth = KongAdminDouble::start().await.expect("fourth double");
    env.apply(&admin_slice(&env.ns, 3, &fourth)).await;
    env.wait_on(&fourth, "echo has 3 targets", |c| {
        c.targets_of(&upstream).len() == 3
    })
    .await;
    env.kongs.push(fourth);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_rate_limits_warn_per_replica_count() {
    let env = start("ratelimit", 3).await;
    env.apply(&format!(
        "{}---\n{}",
        echo(1, "limit"),
        limit("limit", "{minute: 5, policy: local}", false)
    ))
    .await;
    let warned = |s: &SyncState| {
        s.problems.iter().any(|p| {
            p.reason == Reason::RateLimitPerReplica
                && p.severity == Severity::Warning
                && p.message.contains("3 Kong replicas")
                && p.message.contains("up to 15 requests/minute")
        })
    };
    env.wait_state("the local policy warns about 3 replicas", warned)
        .await;
    // In the cluster: a Warning Event on the KongPlugin and a status condition.
    let condition = env
        .wait_plugin_condition("limit", |c| c.is_some_and(|c| c.status == "False"))
        .await
        .expect("condition");
    assert_eq!(condition.reason, "PerReplicaCounters");
    assert!(
        condition.message.contains("up to 15 requests/minute"),
        "{}",
        condition.message
    );
    env.wait_event(
        "KongConfigurationWarning",
        "KongPlugin",
        "limit",
        "policy: redis",
    )
    .await;

    // policy redis: one shared counter, no warning.
    env.apply(&limit(
        "limit",
        "{minute: 5, policy: redis, redis: {host: redis, port: 6379}}",
        false,
    ))
    .await;
    env.wait_state("no per-replica warning with redis", |s| {
        s.desired_hash.is_some()
            && !s
                .problems
                .iter()
                .any(|p| p.reason == Reason::RateLimitPerReplica)
    })
    .await;
    env.wait_plugin_condition("limit", |c| c.is_none()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replica_aware_limits_follow_the_replica_count() {
    let env = start("aware", 3).await;
    env.apply(&format!(
        "{}---\n{}",
        echo(1, "limit"),
        limit("limit", "{minute: 6, policy: local}", true)
    ))
    .await;
    for k in &env.kongs {
        env.wait_on(k, "minute is 6/3 = 2", |c| minute_limit(c) == Some(2))
            .await;
    }
    let condition = env
        .wait_plugin_condition("limit", |c| c.is_some_and(|c| c.status == "True"))
        .await
        .expect("condition");
    assert_eq!(condition.reason, "LimitsDividedPerReplica");
    assert!(
        condition.message.contains("minute: 6 → 2"),
        "{}",
        condition.message
    );
    // Scale Kong to 2 replicas: 6/2 = 3 on each remaining replica.
    let slices: kube::Api<k8s_openapi::api::discovery::v1::EndpointSlice> =
        kube::Api::namespaced(env.client.clone(), &env.ns);
    slices
        .delete("kong-admin-2", &Default::default())
        .await
        .expect("delete a replica's slice");
    for k in &env.kongs[..2] {
        env.wait_on(k, "minute is 6/2 = 3", |c| minute_limit(c) == Some(3))
            .await;
    }
}
