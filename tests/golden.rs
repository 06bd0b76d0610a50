//! Golden tests: `tests/golden/<case>/in.yaml` → `out.yaml` (the Kong config) and
//! `problems.txt` (what `kingress translate` reports; absent when there are none).
//!
//! Regenerate after an intended change with `UPDATE_GOLDEN=1 cargo test --test golden`,
//! then review the diff like code.

mod support;

use std::fs;
use std::path::{Path, PathBuf};

use kingress::manifests::{self, Loaded};
use kingress::translate::{self, Options};
use support::golden::{assert_matched, check, diff};

fn cases() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let mut dirs: Vec<PathBuf> = fs::read_dir(&root)
        .expect("tests/golden exists")
        .map(|e| e.expect("readable dir entry").path())
        .filter(|p| p.join("in.yaml").is_file())
        .collect();
    dirs.sort();
    assert!(
        !dirs.is_empty(),
        "no golden cases found under {}",
        root.display()
    );
    dirs
}

/// `kingress translate`'s options, with a case's `options.yaml` (`kong_replicas: N`,
/// `feature_gates: "Name=true,..."`) applied.
fn options(dir: &Path) -> Options {
    let mut options = Options {
        assume_attached_without_gateways: true,
        ..Options::default()
    };
    if let Ok(text) = fs::read_to_string(dir.join("options.yaml")) {
        let v: serde_norway::Value = serde_norway::from_str(&text).expect("options.yaml parses");
        if let Some(n) = v.get("kong_replicas").and_then(serde_norway::Value::as_u64) {
            options.kong_replicas = n as usize;
        }
        if let Some(f) = v.get("router_flavor").and_then(serde_norway::Value::as_str) {
            options.router_flavor = f.parse().expect("options.yaml router_flavor");
        }
        if let Some(gates) = v.get("feature_gates").and_then(serde_norway::Value::as_str) {
            options.feature_gates = gates.parse().expect("options.yaml feature_gates");
        }
    }
    options
}

/// Translates a manifest text the way `kingress translate` does: (config YAML, problems).
fn render(dir: &Path, text: &str) -> (String, String) {
    let mut loaded = Loaded::default();
    manifests::load_str(text, Path::new("in.yaml"), &mut loaded);
    let translation = translate::translate(&loaded.snapshot, &options(dir));
    let mut problems = String::new();
    for p in &loaded.problems {
        problems.push_str(&format!("{p}\n"));
    }
    for p in &translation.problems {
        problems.push_str(&format!("{p}\n"));
    }
    let yaml = translation.config.to_yaml().expect("config serialises");
    (yaml, problems)
}
#[test]
fn golden_cases_match() {
    let update = support::golden::update_golden();
    let mut failures = Vec::new();
    for dir in cases() {
        let input = fs::read_to_string(dir.join("in.yaml")).expect("read in.yaml");
        let (yaml, problems) = render(&dir, &input);
        check(&dir.join("out.yaml"), &yaml, update, &mut failures);
        check(&dir.join("problems.txt"), &problems, update, &mut failures);
    }
    assert_matched(&failures);
}

/// Splits a multi-document YAML text into its documents, re-serialised.
fn documents(text: &str) -> Vec<String> {
    serde_norway::Deserializer::from_str(text)
        .map(|d| {
            let v =
                <serde_norway::Value as serde::Deserialize>::deserialize(d).expect("valid YAML");
            serde_norway::to_string(&v).expect("re-serialise")
        })
        .filter(|d| d.trim() != "null")
        .collect()
}

#[test]
fn output_does_not_depend_on_object_order() {
    for dir in cases() {
        let input = fs::read_to_string(dir.join("in.yaml")).expect("read in.yaml");
        let docs = documents(&input);
        let (reference, _) = render(&dir, &docs.join("---\n"));
        let mut reversed = docs.clone();
        reversed.reverse();
        let mut rotated = docs.clone();
        if !rotated.is_empty() {
            rotated.rotate_left(docs.len() / 2);
        }
        for (how, order) in [("reversed", reversed), ("rotated", rotated)] {
            let (yaml, _) = render(&dir, &order.join("---\n"));
            assert!(
                yaml == reference,
                "{}: output changes when documents are {how}:\n{}",
                dir.display(),
                diff(&reference, &yaml)
            );
        }
    }
}

/// kingress must never emit what Kong rejects: every golden config goes through the Kong
/// admin API test double's validation (Kong 3.10's schema rules). A case that deliberately
/// produces something Kong rejects (and warns about it) lists Kong's flattened errors in
/// `kong-rejects.json`.
#[test]
fn golden_configs_pass_kong_validation() {
    let update = support::golden::update_golden();
    let mut failures = Vec::new();
    for dir in cases() {
        let input = fs::read_to_string(dir.join("in.yaml")).expect("read in.yaml");
        let (yaml, _) = render(&dir, &input);
        let config: serde_json::Value = serde_norway::from_str(&yaml).expect("config parses");
        // With the router flavor the case is translated for (its options.yaml).
        let flavor = match options(&dir).router_flavor.expressions() {
            true => kong_admin_double::RouterFlavor::Expressions,
            false => kong_admin_double::RouterFlavor::TraditionalCompatible,
        };
        let rejects = match kong_admin_double::validate_for(&config, flavor) {
            Ok(_) => String::new(),
            Err(e) => {
                let flat = serde_json::Value::Array(e.flattened_errors());
                serde_json::to_string_pretty(&flat).expect("json") + "\n"
            }
        };
        check(
            &dir.join("kong-rejects.json"),
            &rejects,
            update,
            &mut failures,
        );
    }
    assert!(
        failures.is_empty(),
        "Kong validation differs from the expected rejections:\n{}",
        failures.join("\n")
    );
}
