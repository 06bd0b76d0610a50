//! The Gateway API conformance suite (`sigs.k8s.io/gateway-api/conformance` v1.6.1, unmodified;
//! `conformance/`) against `kingress run`, as a process, on a real cluster: the shared
//! kube-apiserver and etcd, kube-controller-manager, kube-scheduler and a kwok node
//! (tests/support/cluster.rs), so the suite's backends become ready as they would anywhere.
//! kingress pushes to the Kong admin API test double, so a Gateway is `Programmed` when a replica
//! took its configuration, as in production. Tests that send traffic through the Gateway need a
//! Kong data plane and are skipped by name (`conformance/skip-tests.txt`); every other test of
//! the profiles below must pass, and the ConformanceReport the suite writes must equal
//! `conformance/report.yaml` but for its date (`UPDATE_CONFORMANCE=1` rewrites it).

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use kong_admin_double::KongAdminDouble;
use serde_json::Value;
use support::process::{log_tail, spawn_tied};
use support::{apply::apply_yaml, cluster, controlplane};

/// The GatewayClass the suite's Gateways use.
const CLASS: &str = "kingress";
/// The address kingress publishes on Gateways (`--publish-status-address`; TEST-NET-1): the
/// suite's helpers wait for one, and no traffic is sent to it.
const ADDRESS: &str = "192.0.2.10";
/// What kingress translates and reports status for. The profiles add their core features.
const FEATURES: &[&str] = &[
    "Gateway",
    "ReferenceGrant",
    "HTTPRoute",
    "HTTPRouteParentRefPort",
    "BackendTLSPolicy",
    "GRPCRoute",
    "TLSRoute",
    "TCPRoute",
    "UDPRoute",
];
const PROFILES: &str = "GATEWAY-HTTP,GATEWAY-TLS,GATEWAY-GRPC,GATEWAY-TCP,GATEWAY-UDP";
/// The whole run (the suite waits up to minutes for each condition that does not hold).
const SUITE_TIMEOUT: Duration = Duration::from_secs(30 * 60);

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

/// The directory with `conformance.test` and `kwok`: `KINGRESS_CONFORMANCE_BIN`, else what
/// `conformance/ensure.sh` builds (once per machine).
fn suite_binaries() -> PathBuf {
    if let Some(dir) = std::env::var_os("KINGRESS_CONFORMANCE_BIN") {
        return PathBuf::from(dir);
    }
    let out = Command::new("bash")
        .arg(repo("conformance/ensure.sh"))
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .expect("run conformance/ensure.sh");
    assert!(
        out.status.success(),
        "conformance/ensure.sh failed ({}); its errors are printed above",
        out.status
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    PathBuf::from(stdout.lines().last().unwrap_or_default().trim())
}

/// The test names of `conformance/skip-tests.txt`.
fn skipped() -> Vec<String> {
    let text = std::fs::read_to_string(repo("conformance/skip-tests.txt")).expect("skip-tests.txt");
    text.lines()
        .map(|l| l.split('#').next().unwrap_or_default().trim())
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

/// The report with its profiles in name order (the suite writes them in map order).
fn normalized(report: &str) -> Value {
    let mut v: Value = serde_norway::from_str(report).expect("the report is YAML");
    if let Some(profiles) = v.get_mut("profiles").and_then(Value::as_array_mut) {
        profiles.sort_by_key(|p| p["name"].as_str().unwrap_or_default().to_string());
    }
    v
}

/// The report without what changes from run to run (its date).
fn comparable(report: &str) -> Value {
    let mut v = normalized(report);
    if let Some(m) = v.as_object_mut() {
        m.remove("date");
    }
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gateway_api_conformance_v1_6_1() {
    let cp = controlplane::shared();
    let suite = suite_binaries();
    let cluster = cluster::start(cp, &suite)
        .await
        .unwrap_or_else(|e| panic!("the cluster around the control plane: {e}"));
    let client = cp.client().await;

    let kong = KongAdminDouble::start()
        .await
        .expect("the admin API double");
    let kingress_log = cp.dir.join("kingress.log");
    let mut kingress = Command::new(env!("CARGO_BIN_EXE_kingress"));
    kingress
        .args([
            "run",
            "--kong-admin-url",
            &kong.url(),
            "--leader-elect=false",
        ])
        .args(["--publish-status-address", ADDRESS])
        .args(["--health-probe-bind-address", "127.0.0.1:0"])
        .args(["--metrics-bind-address", "127.0.0.1:0"])
        .env("KUBECONFIG", &cp.kubeconfig)
        .env("RUST_LOG", "info");
    let mut kingress = spawn_tied(kingress, &kingress_log).expect("start kingress run");
    apply_yaml(
        &client,
        None,
        &format!(
            "apiVersion: gateway.networking.k8s.io/v1\nkind: GatewayClass\nmetadata: {{name: {CLASS}}}\nspec: {{controllerName: {}}}\n",
            kingress::translate::DEFAULT_CONTROLLER_NAME
        ),
    )
    .await;

    let report = cp.dir.join("conformance-report.yaml");
    let suite_log = cp.dir.join("conformance.log");
    let mut run = Command::new(suite.join("conformance.test"));
    run.arg("-test.run=^TestConformance$")
        .arg("-test.v")
        .arg(format!("-test.timeout={}s", SUITE_TIMEOUT.as_secs()))
        .arg(format!("--gateway-class={CLASS}"))
        .arg(format!("--supported-features={}", FEATURES.join(",")))
        .arg(format!("--conformance-profiles={PROFILES}"))
        .arg(format!("--skip-tests={}", skipped().join(",")))
        .arg(format!("--report-output={}", report.display()))
        .arg("--organization=kingress")
        .arg("--project=kingress")
        .arg("--url=https://github.com/kingress/kingress")
        .arg(format!("--version=v{}", env!("CARGO_PKG_VERSION")))
        .arg("--contact=kingress maintainers")
        .env("KUBECONFIG", &cp.kubeconfig)
        // The suite's own scratch files.
        .current_dir(&cp.dir);
    let mut child = spawn_tied(run, &suite_log).expect("start the conformance suite");
    let deadline = Instant::now() + SUITE_TIMEOUT + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().expect("poll the suite") {
            break status;
        }
        if let Ok(Some(status)) = kingress.try_wait() {
            panic!(
                "kingress run exited during the suite: {status}\n{}",
                log_tail(&kingress_log, 60)
            );
        }
        assert!(
            Instant::now() < deadline,
            "the suite did not finish in {SUITE_TIMEOUT:?}\n{}",
            log_tail(&suite_log, 80)
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    let log = std::fs::read_to_string(&suite_log).unwrap_or_default();
    let failed: Vec<&str> = log
        .lines()
        .filter(|l| l.trim_start().starts_with("--- FAIL"))
        .collect();
    assert!(
        status.success() && failed.is_empty(),
        "the conformance suite failed ({status}): {failed:#?}\n{}\n{}\n{}",
        log_tail(&suite_log, 120),
        log_tail(&kingress_log, 40),
        cluster.log_tails(10)
    );

    let written = std::fs::read_to_string(&report).expect("the suite wrote its report");
    let committed = repo("conformance/report.yaml");
    if std::env::var("UPDATE_CONFORMANCE").as_deref() == Ok("1") {
        let text = serde_norway::to_string(&normalized(&written)).expect("the report as YAML");
        std::fs::write(&committed, text).expect("write conformance/report.yaml");
        return;
    }
    let expected = std::fs::read_to_string(&committed).unwrap_or_default();
    assert_eq!(
        comparable(&written),
        comparable(&expected),
        "the ConformanceReport differs from conformance/report.yaml (run with UPDATE_CONFORMANCE=1 \
         to rewrite it, and commit it with what changed):\n{written}"
    );
}
