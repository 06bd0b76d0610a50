//! The chart tests' helm: the real binary (built by `tests/helm/ensure.sh`, or
//! `KINGRESS_HELM_BIN`) run in a clean environment, and the rendered objects read back.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};

use kube::ResourceExt;
use serde_json::Value;

use super::apply::{apply_yaml, parse_yaml};
use super::controlplane::ControlPlane;

pub use super::controlplane::repo_path;

pub fn chart_dir() -> PathBuf {
    repo_path("charts/kingress")
}

/// The Lease the chart's leader election uses (`controller.leaderElection.electionId`).
pub const ELECTION_ID: &str = "5b374a9e.konghq.com";

/// Env var naming a prebuilt helm binary (skips `tests/helm/ensure.sh`).
pub const HELM_BIN_ENV: &str = "KINGRESS_HELM_BIN";
/// Renders the GatewayClass in `helm template` (a live cluster's discovery tells `install`).
pub const GATEWAY_API: &str = "gateway.networking.k8s.io/v1/GatewayClass";

// ---------------------------------------------------------------------------------------------
// The helm binary

static HELM: OnceLock<Result<PathBuf, String>> = OnceLock::new();

/// The helm binary, built on first use (once per machine; minutes on a cold cache).
pub fn helm_bin() -> &'static Path {
    match HELM.get_or_init(find_helm) {
        Ok(path) => path,
        Err(e) => panic!("the helm binary is not available:\n{e}"),
    }
}

pub fn find_helm() -> Result<PathBuf, String> {
    let path = super::process::ensured(HELM_BIN_ENV, &repo_path("tests/helm/ensure.sh"))?;
    if !path.is_file() {
        let source = match std::env::var_os(HELM_BIN_ENV) {
            Some(_) => format!(" (from {HELM_BIN_ENV})"),
            None => " (printed by tests/helm/ensure.sh)".to_string(),
        };
        return Err(format!("{}{source} is not a file", path.display()));
    }
    Ok(path)
}

/// What one helm run printed.
pub struct HelmRun {
    pub ok: bool,
    pub stdout: String,
    pub stderr: String,
}

/// Runs helm with a clean environment: its own scratch home (no repositories, plugins or
/// registry logins of the machine), no ambient KUBECONFIG or HELM_* settings.
pub fn helm_run(args: &[&str]) -> HelmRun {
    static RUNS: AtomicU32 = AtomicU32::new(0);
    let n = RUNS.fetch_add(1, Ordering::Relaxed);
    let home = std::env::temp_dir().join(format!("kingress-helm-{}-{n}", std::process::id()));
    fs::create_dir_all(&home).unwrap_or_else(|e| panic!("creating {}: {e}", home.display()));
    let out = Command::new(helm_bin())
        .args(args)
        .env_clear()
        .env("HOME", &home)
        .env("HELM_CACHE_HOME", home.join("cache"))
        .env("HELM_CONFIG_HOME", home.join("config"))
        .env("HELM_DATA_HOME", home.join("data"))
        .env("KUBECONFIG", "/dev/null")
        .current_dir(repo_path(""))
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("running {}: {e}", helm_bin().display()));
    let _ = fs::remove_dir_all(&home);
    HelmRun {
        ok: out.status.success(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Runs helm and returns its stdout, panicking with its output when it fails.
pub fn helm(args: &[&str]) -> String {
    let run = helm_run(args);
    assert!(
        run.ok,
        "helm {} failed:\n{}\n{}",
        args.join(" "),
        run.stderr,
        run.stdout
    );
    run.stdout
}

/// `helm template <release> charts/kingress --namespace <ns>` with `--set` values (and
/// `extra` flags).
pub fn template(release: &str, namespace: &str, sets: &[&str], extra: &[&str]) -> String {
    let chart = chart_dir();
    let chart = chart.to_str().expect("chart path is UTF-8");
    let mut args = vec!["template", release, chart, "--namespace", namespace];
    for set in sets {
        args.extend(["--set", set]);
    }
    args.extend(extra);
    helm(&args)
}

// ---------------------------------------------------------------------------------------------
// Rendered objects

/// Rendered manifests as JSON values, keyed `Kind/namespace/name` (namespace empty when
/// cluster-scoped). Parsing with serde_norway rejects duplicate keys, which Kubernetes would
/// otherwise resolve silently.
pub fn objects(yaml: &str) -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    let parsed = parse_yaml(yaml).unwrap_or_else(|e| panic!("rendered YAML: {e}\n{yaml}"));
    for object in parsed {
        let kind = object
            .types
            .as_ref()
            .map(|t| t.kind.clone())
            .unwrap_or_default();
        let key = format!(
            "{kind}/{}/{}",
            object.namespace().unwrap_or_default(),
            object.name_any()
        );
        let value = serde_json::to_value(&object).expect("object to JSON");
        assert!(
            out.insert(key.clone(), value).is_none(),
            "{key} is rendered twice"
        );
    }
    out
}

pub fn get<'a>(objects: &'a BTreeMap<String, Value>, key: &str) -> &'a Value {
    objects.get(key).unwrap_or_else(|| {
        panic!(
            "{key} is not rendered; rendered: {:?}",
            objects.keys().collect::<Vec<_>>()
        )
    })
}

pub fn kinds(objects: &BTreeMap<String, Value>) -> Vec<String> {
    let mut kinds: Vec<String> = objects
        .keys()
        .map(|k| k.split('/').next().unwrap_or_default().to_string())
        .collect();
    kinds.sort();
    kinds
}

/// The elements of a JSON array (none when it is not one).
pub fn items(value: &Value) -> &[Value] {
    value.as_array().map(Vec::as_slice).unwrap_or_default()
}

pub fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// The first container of a Deployment.
pub fn container(deployment: &Value) -> &Value {
    &deployment["spec"]["template"]["spec"]["containers"][0]
}

pub fn env_value<'a>(container: &'a Value, name: &str) -> &'a Value {
    container["env"]
        .as_array()
        .and_then(|env| env.iter().find(|e| e["name"] == name))
        .unwrap_or_else(|| panic!("no env {name} in {container:#}"))
}

pub fn assert_hardened(what: &str, pod: &Value, container: &Value) {
    let pod_sc = &pod["securityContext"];
    let sc = &container["securityContext"];
    assert_eq!(pod_sc["runAsNonRoot"], true, "{what}: pod runAsNonRoot");
    assert!(
        pod_sc["runAsUser"].as_i64().unwrap_or(0) > 0,
        "{what}: numeric non-root user"
    );
    assert_eq!(
        pod_sc["seccompProfile"]["type"], "RuntimeDefault",
        "{what}: seccomp"
    );
    assert_eq!(sc["runAsNonRoot"], true, "{what}: runAsNonRoot");
    assert_eq!(
        sc["readOnlyRootFilesystem"], true,
        "{what}: readOnlyRootFilesystem"
    );
    assert_eq!(
        sc["allowPrivilegeEscalation"], false,
        "{what}: allowPrivilegeEscalation"
    );
    assert_eq!(
        strings(&sc["capabilities"]["drop"]),
        ["ALL"],
        "{what}: capabilities"
    );
    assert!(
        container["resources"]["requests"]["cpu"].is_string()
            && container["resources"]["requests"]["memory"].is_string(),
        "{what}: resource requests"
    );
    assert!(
        container["livenessProbe"].is_object(),
        "{what}: liveness probe"
    );
    assert!(
        container["readinessProbe"].is_object(),
        "{what}: readiness probe"
    );
}

/// Renders the chart for `release` into namespace `ns` (with the Gateway API available, CRDs
/// included, and class names unique to the release so tests do not share cluster objects) and
/// applies every object server-side as admin. Returns the rendered objects.
pub async fn install_rendered(
    cp: &ControlPlane,
    release: &str,
    ns: &str,
    sets: &[&str],
) -> BTreeMap<String, Value> {
    let class_names = [
        format!("ingressClass.name={release}"),
        format!("gatewayClass.name={release}"),
    ];
    let mut all_sets: Vec<&str> = class_names.iter().map(String::as_str).collect();
    all_sets.extend(sets);
    let yaml = template(
        release,
        ns,
        &all_sets,
        &["--api-versions", GATEWAY_API, "--include-crds"],
    );
    let client = cp.client().await;
    let stored = apply_yaml(&client, Some(ns), &yaml).await;
    let rendered = objects(&yaml);
    assert_eq!(
        stored.len(),
        rendered.len(),
        "every rendered object is stored"
    );
    rendered
}
