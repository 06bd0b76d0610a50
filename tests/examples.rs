//! The examples as users apply them. `examples/rate-limit-redis/`: its translation (goldens in
//! `tests/examples/`, regenerated with `UPDATE_GOLDEN=1 cargo test --test examples`), KIC's
//! translation of the same files (the oracle case `example-rate-limit-redis`, compared in
//! `tests/kic_goldens.rs`), and the files applied unchanged to a real apiserver with a
//! controller configuring three Kong replicas.

mod support;

use std::fs;
use std::path::Path;
use std::process::Command;

use kingress::controller::{self, ControllerOptions};
use kong_admin_double::{KongAdminDouble, ValidConfig};
use serde_json::Value;
use support::apply::apply_yaml;
use support::controlplane;
use support::golden::{assert_matched, check, update_golden};
use support::observe::event_note;
use support::run::{WAIT, admin_api, options_with};

const RATE_LIMIT: &str = "examples/rate-limit-redis";
/// Its files, in the order the README applies them.
const FILES: [&str; 4] = ["redis.yaml", "app.yaml", "local.yaml", "endpoints.yaml"];
/// The password in `redis.yaml`'s Secret, as Redis and Kong's plugins read it.
const PASSWORD: &str = "change-me-7d1f0c2a9b";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn read(file: &str) -> String {
    let path = root().join(RATE_LIMIT).join(file);
    fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn the_kic_oracle_case_is_the_rate_limit_example_as_shipped() {
    let joined = FILES.map(read).join("---\n");
    let case = root().join("tests/kic-oracle/example-rate-limit-redis/in.yaml");
    let oracle = fs::read_to_string(&case).expect("the oracle case");
    assert!(
        oracle == joined,
        "{} is not examples/rate-limit-redis/{{{}}} joined with ---: regenerate it and run KIC's \
         translator on it again (tests/kic-oracle/README.md)",
        case.display(),
        FILES.join(",")
    );
}

/// `kingress translate` on `files` of the example with 3 Kong replicas: (config, problems).
fn translate(files: &[&str]) -> (String, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kingress"));
    cmd.current_dir(root())
        .args(["translate", "--kong-replicas", "3"]);
    for file in files {
        cmd.args(["-f", &format!("{RATE_LIMIT}/{file}")]);
    }
    let out = cmd.output().expect("run kingress translate");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (
        String::from_utf8(out.stdout).expect("UTF-8 config"),
        String::from_utf8(out.stderr).expect("UTF-8 problems"),
    )
}

#[test]
fn the_rate_limit_example_translates_as_its_goldens() {
    let update = update_golden();
    let dir = root().join("tests/examples/rate-limit-redis");
    let mut wrong = Vec::new();
    // Policy redis alone: one shared counter, nothing to warn about. With local.yaml: the
    // warning that 3 replicas let up to 15 requests a minute through.
    let redis_only = ["redis.yaml", "app.yaml", "endpoints.yaml"];
    for (case, files) in [("redis", &redis_only[..]), ("local", &FILES[..])] {
        let (config, problems) = translate(files);
        check(
            &dir.join(format!("{case}.yaml")),
            &config,
            update,
            &mut wrong,
        );
        check(
            &dir.join(format!("{case}.problems.txt")),
            &problems,
            update,
            &mut wrong,
        );
    }
    assert_matched(&wrong);
}

/// The rate-limiting plugin of `config` counting by `limit_by`.
fn rate_limit<'c>(config: &'c ValidConfig, limit_by: &str) -> Option<&'c Value> {
    config
        .plugins()
        .iter()
        .find(|p| p["name"] == "rate-limiting" && p["config"]["limit_by"] == limit_by)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rate_limit_example_applies_unchanged_and_configures_every_replica() {
    let cp = controlplane::shared();
    let client = cp.client().await;
    // This test binary has its own apiserver: the example's namespace and GatewayClass are free.
    for file in FILES {
        apply_yaml(&client, None, &read(file)).await;
    }
    let mut replicas = Vec::new();
    for _ in 0..3 {
        replicas.push(
            KongAdminDouble::start()
                .await
                .expect("start a Kong replica"),
        );
    }
    let admin_apis = replicas.iter().map(|k| admin_api(k.url())).collect();
    let options: ControllerOptions = options_with("rate-limit", admin_apis);
    let _controller = controller::start(client.clone(), options)
        .await
        .expect("start the controller");
    for (i, kong) in replicas.iter().enumerate() {
        let config = kong
            .wait_for_config(
                |c| {
                    rate_limit(c, "ip").is_some()
                        && rate_limit(c, "consumer").is_some()
                        && !c.consumers().is_empty()
                },
                WAIT,
            )
            .await
            .unwrap_or_else(|| panic!("replica {i} never got the example's plugins"));
        // The password reached Kong from the Secret, not from the KongPlugin.
        for limit_by in ["ip", "consumer"] {
            let plugin = rate_limit(&config, limit_by).expect("plugin");
            assert_eq!(plugin["config"]["policy"], "redis", "{plugin}");
            assert_eq!(plugin["config"]["minute"], 5, "{plugin}");
            assert_eq!(plugin["config"]["redis"]["password"], PASSWORD, "{plugin}");
            assert_eq!(
                plugin["config"]["redis"]["host"],
                "redis.rate-limit.svc.cluster.local"
            );
        }
    }
    // Policy local with 3 replicas: the Event says how many requests really get through.
    let note = event_note(
        &client,
        "rate-limit",
        "KongPlugin",
        "rate-limit-local",
        "KongConfigurationWarning",
    )
    .await;
    assert!(
        note.contains("3 Kong replicas") && note.contains("up to 15 requests/minute"),
        "{note}"
    );
    // No Event anywhere in the namespace quotes the password.
    let all = kube::Api::<k8s_openapi::api::events::v1::Event>::namespaced(client, "rate-limit")
        .list(&Default::default())
        .await
        .expect("list Events");
    for e in all.items {
        let note = e.note.unwrap_or_default();
        assert!(!note.contains(PASSWORD), "{note}");
    }
}
