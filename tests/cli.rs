//! The `kingress` binary as users run it.

use std::path::Path;
use std::process::Command;

use kingress::kong::config::KongConfig;

fn kingress(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_kingress"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run kingress")
}

fn translate(args: &[&str]) -> (KongConfig, String, bool) {
    let mut all = vec!["translate"];
    all.extend_from_slice(args);
    let out = kingress(&all);
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    let config = if args.contains(&"json") {
        serde_json::from_slice(&out.stdout).expect("JSON config on stdout")
    } else {
        serde_norway::from_slice(&out.stdout).expect("YAML config on stdout")
    };
    (config, stderr, out.status.success())
}

#[test]
fn examples_translate_as_documented() {
    let (config, stderr, ok) = translate(&["-f", "examples/"]);
    assert!(ok, "translate failed: {stderr}");
    assert!(!stderr.contains("error"), "{stderr}");

    let echo = config
        .upstream("echo.default.80.svc")
        .expect("echo upstream");
    assert_eq!(echo.algorithm.as_deref(), Some("consistent-hashing"));
    assert_eq!(echo.hash_on.as_deref(), Some("header"));
    assert_eq!(echo.hash_on_header.as_deref(), Some("x-lb"));
    assert_eq!(echo.hash_fallback.as_deref(), Some("ip"));
    assert_eq!(echo.targets.len(), 3);

    // 50/50 over 4 + 2 endpoints: every v2 target weighs exactly twice a v1 target.
    let split = config
        .upstream("httproute.default.shop.0")
        .expect("split upstream");
    let weight = |prefix: &str| -> Vec<u32> {
        split
            .targets
            .iter()
            .filter(|t| t.target.starts_with(prefix))
            .map(|t| t.effective_weight())
            .collect()
    };
    let (v1, v2) = (weight("10.244.1."), weight("10.244.2."));
    assert_eq!(v1.len(), 4);
    assert_eq!(v2.len(), 2);
    assert!(v1.iter().all(|&w| w == v1[0]) && v2.iter().all(|&w| w == v2[0]));
    assert_eq!(v2[0], 2 * v1[0]);
    assert_eq!(v1.iter().sum::<u32>(), v2.iter().sum::<u32>());
}

#[test]
fn output_is_byte_identical_across_runs_and_formats_agree() {
    let a = kingress(&["translate", "-f", "examples/"]);
    let b = kingress(&[
        "translate",
        "-f",
        "examples/split",
        "-f",
        "examples/rate-limit-redis",
        "-f",
        "examples/echo",
    ]);
    assert_eq!(
        a.stdout, b.stdout,
        "argument order must not change the output"
    );
    let (yaml, _, _) = translate(&["-f", "examples/"]);
    let (json, _, _) = translate(&["-f", "examples/", "-o", "json"]);
    assert_eq!(yaml, json);
}

#[test]
fn errors_go_to_stderr_and_exit_code_follows_the_rules() {
    let dir = std::env::temp_dir().join(format!("kingress-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let broken = dir.join("broken.yaml");
    std::fs::write(
        &broken,
        "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: i}\nspec:\n  ingressClassName: kong\n  rules: [{http: {paths: [{path: /, pathType: Prefix, backend: {resource: {apiGroup: example.com, kind: Bucket, name: b}}}]}}]\n",
    )
    .expect("write");
    let b = broken.to_str().expect("utf-8 path");
    // Nothing valid remains: non-zero, and the error names the object and field.
    let (_, stderr, ok) = translate(&["-f", b]);
    assert!(!ok);
    assert!(
        stderr.contains("Ingress default/i: spec.rules[0].http.paths[0].backend.resource: unknown resource type example.com/Bucket"),
        "{stderr}"
    );
    // Something valid remains: success unless --strict.
    let (config, _, ok) = translate(&["-f", b, "-f", "examples/echo"]);
    assert!(ok);
    assert!(config.upstream("echo.default.80.svc").is_some());
    let (_, _, ok) = translate(&["-f", b, "-f", "examples/echo", "--strict"]);
    assert!(!ok);
    // A file that does not exist is a clear error, not a panic.
    let out = kingress(&["translate", "-f", "no/such/file.yaml"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read no/such/file.yaml"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn crds_command_prints_the_committed_crds() {
    let out = kingress(&["crds"]);
    assert!(out.status.success());
    let printed = String::from_utf8(out.stdout).expect("utf-8");
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("crds");
    let mut files: Vec<_> = std::fs::read_dir(&root)
        .expect("crds/")
        .map(|e| e.expect("entry").path())
        .collect();
    files.sort();
    let committed: String = files
        .iter()
        .map(|f| std::fs::read_to_string(f).expect("read crd"))
        .collect();
    assert_eq!(printed, committed);
}

#[test]
fn examples_produce_a_config_kong_accepts() {
    let out = kingress(&["translate", "-f", "examples/", "-o", "json"]);
    assert!(out.status.success());
    let config: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    if let Err(e) = kong_admin_double::validate(&config) {
        panic!(
            "Kong would reject the examples' config:\n{}",
            serde_json::to_string_pretty(&e.to_kong_flattened_json()).unwrap_or_default()
        );
    }
    // The rate-limiting example is attached to the echo service, with a shared counter.
    let plugins = config["plugins"].as_array().expect("plugins");
    assert!(plugins.iter().any(|p| p["name"] == "rate-limiting"
        && p["service"] == "default.echo.80"
        && p["config"]["policy"] == "redis"));
}

/// `--exclude` leaves an object out as the controller's fallback does after Kong's 400, and
/// refuses a form that does not fit the kind's scope.
#[test]
fn exclude_leaves_an_object_out_and_names_the_form_it_wants() {
    let (all, _, ok) = translate(&["-f", "examples/", "-o", "json"]);
    assert!(ok);
    let ingress = all
        .services
        .iter()
        .flat_map(|s| &s.routes)
        .find(|r| r.tags.iter().any(|t| t == "k8s-kind:Ingress"))
        .expect("the examples have an Ingress route");
    let tag = |p: &str| {
        ingress
            .tags
            .iter()
            .find_map(|t| t.strip_prefix(p))
            .expect("KIC's tags")
            .to_string()
    };
    let key = format!("Ingress/{}/{}", tag("k8s-namespace:"), tag("k8s-name:"));
    let (without, _, ok) = translate(&["-f", "examples/", "-o", "json", "--exclude", &key]);
    assert!(ok);
    let names = |c: &KongConfig| -> Vec<String> {
        c.services
            .iter()
            .flat_map(|s| &s.routes)
            .map(|r| r.name.clone())
            .collect()
    };
    assert!(names(&all).contains(&ingress.name));
    assert!(!names(&without).contains(&ingress.name), "{key} left out");
    assert_eq!(names(&without).len(), names(&all).len() - 1);
    for (bad, want) in [
        (
            "Ingress/only-a-name",
            "Ingress is namespaced: Ingress/<namespace>/<name>",
        ),
        (
            "IngressClass/ns/kong",
            "IngressClass is cluster-scoped: IngressClass/<name>",
        ),
        ("Widget/ns/w", "unknown kind \"Widget\""),
        (
            "KongVault/ns/v",
            "KongVault is cluster-scoped: KongVault/<name>",
        ),
    ] {
        let out = kingress(&["translate", "-f", "examples/", "--exclude", bad]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            !out.status.success() && stderr.contains(want),
            "{bad}: {stderr}"
        );
    }
    // A KongServiceFacade that does not exist: accepted, and the config is the same.
    let (same, stderr, ok) = translate(&[
        "-f",
        "examples/",
        "-o",
        "json",
        "--exclude",
        "KongServiceFacade/default/echo",
    ]);
    assert!(ok, "{stderr}");
    assert_eq!(names(&same), names(&all));
}

/// KIC's version gate: a sticky-sessions policy applies from Kong 3.11 (`--kong-version`); the
/// default (3.10) refuses it with KIC's error.
#[test]
fn kong_version_gates_sticky_sessions() {
    let input = "tests/golden/upstream-policy-sticky-sessions/in.yaml";
    let algorithm = |config: &KongConfig| {
        config
            .upstreams
            .iter()
            .find(|u| u.name == "cart.default.80.svc")
            .and_then(|u| u.algorithm.clone())
    };
    let (old, stderr, _) = translate(&["-f", input, "-o", "json"]);
    assert_eq!(algorithm(&old).as_deref(), Some("round-robin"), "{stderr}");
    assert!(
        stderr.contains("not supported with Kong Gateway versions < 3.11.0"),
        "{stderr}"
    );
    let (new, stderr, _) = translate(&["-f", input, "-o", "json", "--kong-version", "3.11.0"]);
    assert_eq!(
        algorithm(&new).as_deref(),
        Some("sticky-sessions"),
        "{stderr}"
    );
    assert!(!stderr.contains("sticky sessions algorithm"), "{stderr}");
}
