//! Fault drills: `kingress run` against the real control plane (tests/support) and Kong admin API
//! doubles, while things break.
//!
//! - the kube-apiserver is killed mid-stream (with a Lease held and a change in flight), etcd is
//!   compacted while it is down, and it comes back: watches resume (relisting after 410 Gone),
//!   leadership is lost and regained, and changes made right after the restart arrive;
//! - an admin API replica hangs longer than the request timeout, answers 500 for a while, or
//!   rejects one entity: the push to it is bounded by the timeout, the other replicas are not
//!   delayed, and the rejected object is left out for every replica;
//! - SIGTERM while a push is in flight: `kingress run` exits promptly and cleanly, and Kong holds
//!   either the old or the new config, never a mix.
//!
//! After every drill every replica holds exactly the config the cluster's final state
//! translates to: the test lists the namespace's objects itself, translates them offline and
//! compares the md5 (Kong's `configuration_hash`) with what each double reports.
//!
//! The drills share one apiserver, and one of them restarts it: each test holds [`LOCK`] (the
//! restart exclusively), so no drill sees another's outage.

mod support;

use std::collections::BTreeSet;
use std::process::Stdio;
use std::time::{Duration, Instant};

use kingress::api::*;
use kingress::controller::{self, ControllerOptions, Running};
use kingress::kinds::Kind;
use kingress::kong::admin_api::{AdminApiOptions, config_hash};
use kingress::snapshot::{Object, Snapshot};
use kingress::translate::{self, Options, object_key};
use kong_admin_double::{Fault, KongAdminDouble};
use kube::api::{Api, ListParams};
use kube::{Client, Resource};
use serde::de::DeserializeOwned;
use support::apply::apply_yaml;
use support::controlplane::{self, ControlPlane};
use support::restart;
use tokio::sync::RwLock;

const WAIT: Duration = Duration::from_secs(60);

/// Held shared by every drill, exclusively by the one that restarts the apiserver.
static LOCK: RwLock<()> = RwLock::const_new(());

fn admin(url: String, timeout: Duration) -> AdminApiOptions {
    AdminApiOptions {
        timeout,
        ..support::run::admin_api(url)
    }
}

struct Env {
    cp: &'static ControlPlane,
    ns: String,
    client: Client,
    kongs: Vec<KongAdminDouble>,
    controller: Running,
}

async fn start(prefix: &str, replicas: usize, timeout: Duration, leader: bool) -> Env {
    let cp = controlplane::shared();
    let ns = cp.namespace(prefix).await;
    let client = cp.client().await;
    let mut kongs = Vec::new();
    for _ in 0..replicas {
        kongs.push(KongAdminDouble::start().await.expect("admin API double"));
    }
    let admin_apis = kongs.iter().map(|k| admin(k.url(), timeout)).collect();
    let options = ControllerOptions {
        leader_election: leader.then(|| controller::leader::LeaderOptions {
            namespace: ns.clone(),
            name: "kingress-drill".into(),
            identity: "drill".into(),
            lease_duration: Duration::from_secs(3),
            renew: Duration::from_millis(500),
        }),
        ..support::run::options_with(&ns, admin_apis)
    };
    let controller = controller::start(client.clone(), options)
        .await
        .expect("start the controller");
    Env {
        cp,
        ns,
        client,
        kongs,
        controller,
    }
}

fn service(name: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Service\nmetadata: {{name: {name}}}\nspec: {{ports: [{{name: http, port: 80}}]}}\n"
    )
}

fn slice(service: &str, endpoints: usize, subnet: u8) -> String {
    let eps: String = (1..=endpoints)
        .map(|i| format!("- addresses: [10.{subnet}.0.{i}]\n"))
        .collect();
    format!(
        "apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {{name: {service}-1, labels: {{kubernetes.io/service-name: {service}}}}}\naddressType: IPv4\nports: [{{name: http, port: 8080, protocol: TCP}}]\nendpoints:\n{eps}"
    )
}

fn ingress(name: &str) -> String {
    format!(
        "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {{name: {name}}}\nspec:\n  ingressClassName: kong\n  rules: [{{http: {{paths: [{{path: /{name}, pathType: Prefix, backend: {{service: {{name: {name}, port: {{number: 80}}}}}}}}]}}}}]\n"
    )
}

/// A Service with `endpoints` endpoints exposed by an Ingress of the same name.
fn app(name: &str, endpoints: usize, subnet: u8) -> String {
    format!(
        "{}---\n{}---\n{}",
        service(name),
        slice(name, endpoints, subnet),
        ingress(name)
    )
}

async fn list<K>(api: Api<K>, params: &ListParams) -> Vec<K>
where
    K: Resource + Clone + DeserializeOwned + std::fmt::Debug,
{
    api.list(params).await.expect("list objects").items
}

/// The cluster's current objects, as the controller's watches see them.
async fn cluster_snapshot(client: &Client, ns: &str) -> Snapshot {
    let all = ListParams::default();
    let mut objects: Vec<Object> = Vec::new();
    let nsd = |c: &Client| c.clone();
    for o in list(Api::<Service>::namespaced(nsd(client), ns), &all).await {
        objects.push(Object::Service(Box::new(o)));
    }
    let sliced = ListParams::default().labels("kubernetes.io/service-name");
    for o in list(Api::<EndpointSlice>::namespaced(nsd(client), ns), &sliced).await {
        objects.push(Object::EndpointSlice(Box::new(o)));
    }
    for o in list(Api::<Ingress>::namespaced(nsd(client), ns), &all).await {
        objects.push(Object::Ingress(Box::new(o)));
    }
    for o in list(Api::<IngressClass>::all(nsd(client)), &all).await {
        objects.push(Object::IngressClass(Box::new(o)));
    }
    for o in list(Api::<HttpRoute>::namespaced(nsd(client), ns), &all).await {
        objects.push(Object::HttpRoute(Box::new(o)));
    }
    for o in list(Api::<Gateway>::namespaced(nsd(client), ns), &all).await {
        objects.push(Object::Gateway(Box::new(o)));
    }
    for o in list(Api::<GatewayClass>::all(nsd(client)), &all).await {
        objects.push(Object::GatewayClass(Box::new(o)));
    }
    for o in list(Api::<KongUpstreamPolicy>::namespaced(nsd(client), ns), &all).await {
        objects.push(Object::KongUpstreamPolicy(Box::new(o)));
    }
    for o in list(Api::<KongPlugin>::namespaced(nsd(client), ns), &all).await {
        objects.push(Object::KongPlugin(Box::new(o)));
    }
    for o in list(Api::<KongClusterPlugin>::all(nsd(client)), &all).await {
        objects.push(Object::KongClusterPlugin(Box::new(o)));
    }
    let tls = ListParams::default().fields("type=kubernetes.io/tls");
    for o in list(Api::<Secret>::namespaced(nsd(client), ns), &tls).await {
        objects.push(Object::Secret(Box::new(o)));
    }
    let mut snapshot = Snapshot::new();
    for o in objects {
        snapshot.apply(o);
    }
    snapshot
}

impl Env {
    async fn apply(&self, yaml: &str) {
        apply_yaml(&self.client, Some(&self.ns), yaml).await;
    }

    async fn delete<K>(&self, name: &str)
    where
        K: Resource<DynamicType = (), Scope = k8s_openapi::NamespaceResourceScope>
            + Clone
            + DeserializeOwned
            + std::fmt::Debug,
    {
        Api::<K>::namespaced(self.client.clone(), &self.ns)
            .delete(name, &Default::default())
            .await
            .expect("delete");
    }

    /// The hash of the config the cluster's current state translates to (with `excluded`
    /// objects left out, as the controller's fallback does).
    async fn expected_hash(&self, excluded: &[(Kind, &str)]) -> (String, String) {
        let snapshot = cluster_snapshot(&self.client, &self.ns).await;
        let options = Options {
            kong_replicas: self.kongs.len(),
            excluded: excluded
                .iter()
                .map(|(kind, name)| object_key(*kind, &self.ns, name))
                .collect(),
            ..Options::default()
        };
        let t = translate::translate(&snapshot, &options);
        let text = serde_json::to_string(&t.config).expect("config as JSON");
        (config_hash(&text), text)
    }

    /// Waits until every replica holds exactly the config of the cluster's final state.
    async fn all_replicas_match(&self, excluded: &[(Kind, &str)]) {
        let (want, text) = self.expected_hash(excluded).await;
        let deadline = Instant::now() + WAIT;
        loop {
            let held: Vec<String> = self.kongs.iter().map(|k| k.current_hash()).collect();
            if held.iter().all(|h| *h == want) {
                return;
            }
            if Instant::now() > deadline {
                let state = self.controller.state.borrow().clone();
                panic!(
                    "replicas hold {held:?}, the cluster's final state is {want}:\n{text}\n\
                     controller: errors {:?}, exclusions {:?}\nreplica configs:\n{}",
                    state.errors,
                    state.exclusions,
                    self.kongs
                        .iter()
                        .map(|k| k
                            .current()
                            .map(|c| serde_json::to_string(&c.to_kong_json()).unwrap_or_default())
                            .unwrap_or_else(|| "nothing".into()))
                        .collect::<Vec<_>>()
                        .join("\n")
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    fn targets(&self, replica: usize, upstream: &str) -> usize {
        self.kongs[replica]
            .current()
            .map_or(0, |c| c.targets_of(upstream).len())
    }
}

async fn wait_leader(running: &Running, want: bool, within: Duration) {
    let mut rx = running.leader.clone();
    tokio::time::timeout(within, rx.wait_for(|l| *l == want))
        .await
        .unwrap_or_else(|_| panic!("leadership never became {want} within {within:?}"))
        .expect("leader channel");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kube_apiserver_restart_mid_stream_with_etcd_compaction_and_lease_loss() {
    let _exclusive = LOCK.write().await;
    let env = start("drill-apiserver", 2, Duration::from_secs(5), true).await;
    wait_leader(&env.controller, true, WAIT).await;
    env.apply(&format!(
        "{}---\n{}",
        app("echo", 2, 1),
        app("doomed", 1, 2)
    ))
    .await;
    env.all_replicas_match(&[]).await;
    let echo = format!("echo.{}.80.svc", env.ns);
    assert_eq!(env.targets(0, &echo), 2);

    // A change, and the apiserver dies while it is being delivered.
    env.apply(&slice("echo", 3, 1)).await;
    let stopped = restart::stop_apiserver(env.cp).expect("stop the apiserver");
    let down_at = Instant::now();
    let revision = stopped.compact_etcd().await.expect("compact etcd");
    assert!(revision > 0);
    // The Lease cannot be renewed: the leader steps down before it could expire (3 s).
    wait_leader(&env.controller, false, Duration::from_secs(15)).await;
    let stepped_down = down_at.elapsed();
    assert!(
        stepped_down < Duration::from_secs(8),
        "stepped down only after {stepped_down:?}"
    );
    stopped.start(env.cp).await.expect("restart the apiserver");

    // Changes right after the restart, before the watches have reconnected: an update, a
    // deletion (only a relist can notice it after the compaction) and new objects.
    env.apply(&slice("echo", 4, 1)).await;
    env.delete::<Service>("doomed").await;
    env.delete::<Ingress>("doomed").await;
    env.apply(&app("late", 1, 3)).await;

    wait_leader(&env.controller, true, WAIT).await;
    env.all_replicas_match(&[]).await;
    for replica in 0..2 {
        assert_eq!(env.targets(replica, &echo), 4, "replica {replica}");
        let c = env.kongs[replica].current().expect("config");
        assert!(c.upstream(&format!("doomed.{}.80.svc", env.ns)).is_none());
        assert!(c.upstream(&format!("late.{}.80.svc", env.ns)).is_some());
    }
    // And the watches keep working afterwards.
    env.apply(&slice("late", 2, 3)).await;
    env.all_replicas_match(&[]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hanging_replica_is_bounded_by_the_timeout_and_delays_no_other() {
    let _shared = LOCK.read().await;
    let timeout = Duration::from_secs(2);
    let env = start("drill-slow", 3, timeout, false).await;
    env.apply(&app("echo", 1, 1)).await;
    env.all_replicas_match(&[]).await;

    // Replica 2 answers nothing for far longer than the request timeout.
    env.kongs[2].inject(Fault::Slow(Duration::from_secs(120)));
    let slow_url = env.kongs[2].url();
    let changed_at = Instant::now();
    env.apply(&slice("echo", 3, 1)).await;
    let echo = format!("echo.{}.80.svc", env.ns);
    for replica in 0..2 {
        env.kongs[replica]
            .wait_for_config(|c| c.targets_of(&echo).len() == 3, WAIT)
            .await
            .unwrap_or_else(|| panic!("replica {replica} never got the change"));
    }
    let healthy_took = changed_at.elapsed();
    assert!(
        healthy_took < timeout,
        "the healthy replicas waited for the hanging one: {healthy_took:?}"
    );
    // The hanging replica's requests fail after the timeout, and are reported.
    let mut state = env.controller.state.clone();
    let failed = tokio::time::timeout(
        timeout * 4,
        state.wait_for(|s| s.errors.contains_key(&slow_url)),
    )
    .await
    // `wait_for` answers with a read guard of the controller's state: never keep it.
    .is_ok();
    assert!(failed, "no error reported for the hanging replica");
    let failed_after = changed_at.elapsed();
    assert!(
        failed_after >= timeout && failed_after < timeout * 4,
        "the hanging request was not cut at the timeout: {failed_after:?}"
    );
    assert_eq!(
        env.targets(2, &echo),
        1,
        "the hanging replica kept the old config"
    );

    // More changes while it hangs; then it recovers and catches up with the latest.
    env.apply(&slice("echo", 4, 1)).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    env.kongs[2].clear_faults().await;
    env.all_replicas_match(&[]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_answering_500_for_a_while_catches_up() {
    let _shared = LOCK.read().await;
    let env = start("drill-500", 2, Duration::from_secs(5), false).await;
    env.apply(&app("echo", 1, 1)).await;
    env.all_replicas_match(&[]).await;

    env.kongs[1].inject(Fault::FailAlways { status: 500 });
    let echo = format!("echo.{}.80.svc", env.ns);
    for n in 2..=4 {
        env.apply(&slice("echo", n, 1)).await;
        env.kongs[0]
            .wait_for_config(|c| c.targets_of(&echo).len() == n, WAIT)
            .await
            .unwrap_or_else(|| panic!("the healthy replica never got {n} targets"));
    }
    assert_eq!(
        env.targets(1, &echo),
        1,
        "the failing replica kept the old config"
    );
    let pushes = env.controller.metrics.encode();
    assert!(
        pushes.contains("result=\"status\""),
        "failed pushes are counted:\n{pushes}"
    );
    // A burst of 500s, then the replica recovers: it gets the latest config.
    env.kongs[1].clear_faults().await;
    env.kongs[1].inject(Fault::FailNext {
        status: 500,
        count: 3,
    });
    env.all_replicas_match(&[]).await;
    assert_eq!(env.targets(1, &echo), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_entity_one_replica_rejects_is_left_out_everywhere_until_fixed() {
    let _shared = LOCK.read().await;
    let env = start("drill-reject", 2, Duration::from_secs(5), false).await;
    let ns = env.ns.clone();
    // Only replica 1 rejects the upstream of Service `picky`.
    env.kongs[1].inject(Fault::RejectEntity {
        entity_type: "upstreams".into(),
        name: format!("picky.{ns}.80.svc"),
    });
    env.apply(&format!("{}---\n{}", app("echo", 2, 1), app("picky", 1, 2)))
        .await;
    // Every replica converges on the config without `picky`: one config for all.
    env.all_replicas_match(&[(Kind::Service, "picky")]).await;
    assert!(!env.kongs[1].rejected().is_empty(), "replica 1 did reject");
    let state = env.controller.state.borrow().clone();
    assert_eq!(
        state
            .exclusions
            .iter()
            .map(|e| e.object.clone())
            .collect::<BTreeSet<_>>(),
        BTreeSet::from([object_key(Kind::Service, &ns, "picky")])
    );
    // Other changes still flow while `picky` is out.
    env.apply(&slice("echo", 3, 1)).await;
    env.all_replicas_match(&[(Kind::Service, "picky")]).await;

    // Once Kong accepts it again, an edit that changes what it translates to brings it back
    // (an edit giving the same, already rejected, config would be left out at once).
    env.kongs[1].clear_faults().await;
    env.apply(
        "apiVersion: v1\nkind: Service\nmetadata: {name: picky, annotations: {konghq.com/retries: \"3\"}}\nspec: {ports: [{name: http, port: 80}]}\n",
    )
    .await;
    env.all_replicas_match(&[]).await;
    assert!(
        env.kongs[1]
            .current()
            .is_some_and(|c| c.upstream(&format!("picky.{ns}.80.svc")).is_some())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_during_a_push_exits_promptly_and_kong_holds_a_whole_config() {
    let _shared = LOCK.read().await;
    let cp = controlplane::shared();
    let ns = cp.namespace("drill-sigterm").await;
    let client = cp.client().await;
    let kong = KongAdminDouble::start().await.expect("double");
    apply_yaml(&client, Some(&ns), &app("echo", 2, 1)).await;
    // Every answer takes 3 s: the push is in flight for a while.
    kong.inject(Fault::Slow(Duration::from_secs(3)));
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_kingress"))
        .args([
            "run",
            "--kong-admin-url",
            &kong.url(),
            "--leader-elect=false",
            "--watch-namespace",
            &ns,
            "--health-probe-bind-address",
            "127.0.0.1:0",
            "--metrics-bind-address",
            "127.0.0.1:0",
            "--debounce-ms",
            "5",
        ])
        .env("KUBECONFIG", &cp.kubeconfig)
        .env("RUST_LOG", "info")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("start kingress run");
    // GET /status, then POST /config: the second request is the push.
    let deadline = Instant::now() + WAIT;
    while kong.request_count() < 2 {
        assert!(Instant::now() < deadline, "kingress never pushed");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let pid = child.id().expect("pid") as i32;
    // SAFETY: a plain kill(2) of the child this test started.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
    let signalled = Instant::now();
    let status = tokio::time::timeout(Duration::from_secs(5), child.wait())
        .await
        .expect("kingress run exits within 5 s of SIGTERM")
        .expect("wait");
    let output = child.wait_with_output().await.expect("output");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        status.success(),
        "exit status {status} after {:?}:\n{stderr}",
        signalled.elapsed()
    );
    assert!(stderr.contains("shutting down"), "{stderr}");

    // The interrupted push either landed whole or not at all.
    tokio::time::sleep(Duration::from_secs(4)).await;
    kong.clear_faults().await;
    if let Some(c) = kong.current() {
        assert_eq!(c.targets_of(&format!("echo.{ns}.80.svc")).len(), 2);
    }
    // A new controller brings Kong to the cluster's state from whatever it holds.
    let options = support::run::options_with(&ns, vec![admin(kong.url(), Duration::from_secs(5))]);
    let env = Env {
        cp,
        ns: ns.clone(),
        client: client.clone(),
        kongs: vec![kong],
        controller: controller::start(client, options)
            .await
            .expect("controller"),
    };
    env.apply(&slice("echo", 3, 1)).await;
    env.all_replicas_match(&[]).await;
}
