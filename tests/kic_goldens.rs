//! KIC v3.5.13's own golden corpus (`tests/kic-golden/v3.5.13/`, copied unchanged from KIC's
//! `internal/dataplane/testdata/golden`), every Kong OSS case and settings variant, run through
//! `kingress translate` and compared with KIC's output as Kong entities: the same entities with
//! the same fields and values, list order ignored only where Kong ignores it (the rules of
//! `../shared/tools/kic-goldens.py`).
//!
//! docs/KIC-GOLDENS.md is the table of every case and variant: reproduced exactly, or owned by a
//! named later piece of work. The test fails when a case the table calls reproduced differs, and
//! when one it calls owned elsewhere is reproduced (so the table always says what this measures).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Map, Value};

/// Lists whose order Kong ignores (as kic-goldens.py).
const UNORDERED: &[&str] = &[
    "paths",
    "hosts",
    "methods",
    "tags",
    "protocols",
    "snis",
    "http_statuses",
    "targets",
    "routes",
    "headers",
    "services",
    "upstreams",
    "plugins",
    "certificates",
    "ca_certificates",
    "consumers",
    "sources",
    "destinations",
    "keyauth_credentials",
    "basicauth_credentials",
    "jwt_secrets",
    "hmacauth_credentials",
    "acls",
    "oauth2_credentials",
    "vaults",
    "mtls_auth_credentials",
];
const CLUSTER_SCOPED: &[&str] = &[
    "IngressClass",
    "KongClusterPlugin",
    "GatewayClass",
    "KongVault",
];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/kic-golden")
}

fn yaml(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_norway::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn canon(v: Value, key: Option<&str>) -> Value {
    match v {
        Value::Object(m) => {
            let mut out = Map::new();
            let mut entries: Vec<(String, Value)> = m.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            for (k, v) in entries {
                if !v.is_null() {
                    let c = canon(v, Some(&k));
                    out.insert(k, c);
                }
            }
            Value::Object(out)
        }
        Value::Array(items) => {
            let mut items: Vec<Value> = items.into_iter().map(|v| canon(v, None)).collect();
            if key.is_some_and(|k| UNORDERED.contains(&k)) {
                items.sort_by_key(|v| v.to_string());
            }
            Value::Array(items)
        }
        other => other,
    }
}

/// The first place where kingress's `a` differs from KIC's `b`.
fn first_diff(a: &Value, b: &Value, path: &str) -> Option<String> {
    let short = |v: &Value| v.to_string().chars().take(80).collect::<String>();
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let mut keys: Vec<&String> = x.keys().chain(y.keys()).collect();
            keys.sort();
            keys.dedup();
            keys.into_iter().find_map(|k| match (x.get(k), y.get(k)) {
                (None, Some(v)) => Some(format!("{path}.{k}: missing (KIC: {})", short(v))),
                (Some(v), None) => Some(format!("{path}.{k}: extra ({})", short(v))),
                (Some(p), Some(q)) => first_diff(p, q, &format!("{path}.{k}")),
                (None, None) => None,
            })
        }
        (Value::Array(x), Value::Array(y)) if x.len() != y.len() => {
            Some(format!("{path}: {} items, KIC {}", x.len(), y.len()))
        }
        (Value::Array(x), Value::Array(y)) => x
            .iter()
            .zip(y)
            .enumerate()
            .find_map(|(i, (p, q))| first_diff(p, q, &format!("{path}[{i}]"))),
        _ if a == b => None,
        _ => Some(format!("{path}: {} != KIC {}", short(a), short(b))),
    }
}

/// A variant's settings as `kingress translate` flags.
fn flags_for(settings: &Path) -> Vec<String> {
    let Ok(text) = std::fs::read_to_string(settings) else {
        return Vec::new();
    };
    let v: Value = serde_norway::from_str(&text).expect("settings parse");
    let mut flags = Vec::new();
    let gates = v.get("feature_flags").and_then(Value::as_object);
    let mut gates: Vec<(&String, &Value)> = gates.into_iter().flatten().collect();
    gates.sort_by(|a, b| a.0.cmp(b.0));
    for (name, on) in gates {
        let on = on.as_bool().unwrap_or(false);
        if name == "SupportRedirectPlugin" {
            // KIC derives it from Kong's version (`run.go` 209: 3.9.0 and later); kingress too.
            flags.push("--kong-version".to_string());
            flags.push(if on { "3.9.0" } else { "3.8.0" }.to_string());
        } else if name == "CombinedServicesFromDifferentHTTPRoutes" {
            flags.push(format!(
                "--combined-services-from-different-httproutes={on}"
            ));
        } else if name == "ExpressionRoutes" {
            flags.push("--router-flavor".to_string());
            flags.push(
                if on {
                    "expressions"
                } else {
                    "traditional_compatible"
                }
                .to_string(),
            );
        } else {
            flags.push("--feature-gates".to_string());
            flags.push(format!("{name}={on}"));
        }
    }
    flags
}

/// `--exclude` for the objects KIC's mock Kong refuses in the fallback cases.
fn excluded(in_yaml: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(in_yaml).expect("in.yaml");
    let mut out = Vec::new();
    for doc in serde_norway::Deserializer::from_str(&text) {
        let Ok(d) = <Value as serde::Deserialize>::deserialize(doc) else {
            continue;
        };
        let meta = &d["metadata"];
        if meta["annotations"]["test.konghq.com/broken"] == "true" {
            let kind = d["kind"].as_str().unwrap_or_default();
            let name = meta["name"].as_str().unwrap_or_default();
            let ns = meta["namespace"].as_str().unwrap_or("default");
            out.push("--exclude".to_string());
            out.push(match CLUSTER_SCOPED.contains(&kind) {
                true => format!("{kind}/{name}"),
                false => format!("{kind}/{ns}/{name}"),
            });
        }
    }
    out
}

/// The Kong router flavor `flags` translate for.
fn flavor_of(flags: &[String]) -> kong_admin_double::RouterFlavor {
    match flags
        .windows(2)
        .any(|w| w[0] == "--router-flavor" && w[1] == "expressions")
    {
        true => kong_admin_double::RouterFlavor::Expressions,
        false => kong_admin_double::RouterFlavor::TraditionalCompatible,
    }
}

/// (case, variant) -> the first difference, or None when reproduced exactly.
fn measure() -> BTreeMap<(String, String), Option<String>> {
    let corpus = root().join("v3.5.13");
    let defaulted = root().join("v3.5.13-apiserver-defaults");
    let mut names: Vec<String> = std::fs::read_dir(&corpus)
        .expect("corpus")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| !n.ends_with("-ee") && corpus.join(n).is_dir())
        .collect();
    names.sort();
    let mut out = BTreeMap::new();
    for name in names {
        let dir = corpus.join(&name);
        let mut files: Vec<String> = std::fs::read_dir(&dir)
            .expect("case dir")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .filter(|f| f.ends_with("_golden.yaml"))
            .collect();
        files.sort();
        for file in files {
            let variant = file.trim_end_matches("_golden.yaml").to_string();
            let in_yaml = dir.join("in.yaml");
            let mut flags = flags_for(&dir.join(format!("{variant}_settings.yaml")));
            flags.extend(excluded(&in_yaml));
            let golden = match defaulted.join(&name).join(&file) {
                d if d.is_file() => d,
                _ => dir.join(&file),
            };
            let run = Command::new(env!("CARGO_BIN_EXE_kingress"))
                .args(["translate", "-o", "json", "-f"])
                .arg(&in_yaml)
                .args(&flags)
                .output()
                .expect("run kingress translate");
            let diff = match serde_json::from_slice::<Value>(&run.stdout) {
                Ok(Value::Object(mut got)) => {
                    got.remove("_info");
                    let got = Value::Object(got);
                    // What kingress writes must be what Kong accepts, KIC's output or not, with
                    // the router flavor it was translated for.
                    let refused = kong_admin_double::validate_for(&got, flavor_of(&flags))
                        .err()
                        .map(|e| {
                            format!(
                                "Kong would refuse it: {}",
                                Value::Array(e.flattened_errors())
                            )
                        });
                    refused
                        .or_else(|| first_diff(&canon(got, None), &canon(yaml(&golden), None), ""))
                }
                _ => Some(format!(
                    "no config (exit {:?}): {}",
                    run.status.code(),
                    String::from_utf8_lossy(&run.stderr)
                        .lines()
                        .last()
                        .unwrap_or_default()
                )),
            };
            out.insert((name.clone(), variant), diff);
        }
    }
    out
}

/// The table in docs/KIC-GOLDENS.md: (case, variant) -> reproduced?
fn table() -> BTreeMap<(String, String), bool> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/KIC-GOLDENS.md");
    let text = std::fs::read_to_string(&path).expect("docs/KIC-GOLDENS.md");
    let mut out = BTreeMap::new();
    // The corpus table comes first; later sections have tables of their own.
    for line in text.lines().take_while(|l| !l.starts_with("## ")) {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        // | `case` | `variant` | status | note |
        if cells.len() < 5 || !cells[1].starts_with('`') {
            continue;
        }
        let case = cells[1].trim_matches('`').to_string();
        let variant = cells[2].trim_matches('`').to_string();
        if case.ends_with("-ee") {
            continue;
        }
        out.insert((case, variant), cells[3] == "reproduced");
    }
    out
}

#[test]
fn kic_v3_5_13_goldens_match_the_table() {
    let measured = measure();
    let table = table();
    let listed: Vec<_> = table.keys().collect();
    let run: Vec<_> = measured.keys().collect();
    assert_eq!(
        listed, run,
        "docs/KIC-GOLDENS.md lists other cases or variants than the corpus holds"
    );
    let mut wrong = Vec::new();
    for ((case, variant), diff) in &measured {
        let reproduced = diff.is_none();
        let claimed = table[&(case.clone(), variant.clone())];
        if reproduced != claimed {
            wrong.push(match diff {
                Some(d) => format!("{case} [{variant}]: the table says reproduced, but {d}"),
                None => format!("{case} [{variant}]: reproduced now; mark it so in the table"),
            });
        }
    }
    let count = measured.values().filter(|d| d.is_none()).count();
    eprintln!(
        "KIC v3.5.13 golden cases reproduced exactly (Kong OSS): {count}/{}",
        measured.len()
    );
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// Cases of our own (`tests/kic-oracle/<case>/in.yaml`), each with `kic.yaml`: what KIC v3.5.13's
/// own translator produced for it (`../shared/tools/kic-oracle`, `kic-translate -skip-unsupported
/// in.yaml`, with `-settings settings.yaml` when the case has one), compared the same way. Every one is reproduced exactly, and Kong's schemas (the
/// admin API test double) accept every one.
#[test]
fn kic_oracle_cases_are_reproduced() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/kic-oracle");
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("tests/kic-oracle")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.is_dir())
        .collect();
    cases.sort();
    assert!(!cases.is_empty(), "no oracle cases");
    // A case is never skipped: one without KIC's output is a failure, not a pass.
    let unrun: Vec<String> = cases
        .iter()
        .filter(|c| !c.join("kic.yaml").is_file() || !c.join("in.yaml").is_file())
        .map(|c| c.display().to_string())
        .collect();
    assert!(
        unrun.is_empty(),
        "oracle cases without in.yaml or KIC's kic.yaml (run the oracle, README.md): {unrun:?}"
    );
    let mut wrong = Vec::new();
    for case in cases {
        // `settings.yaml`: the oracle ran with `-settings` (KIC's feature flags);
        // `kingress-flags.txt`: kingress flags that give KIC's default where kingress's differs.
        let extra = std::fs::read_to_string(case.join("kingress-flags.txt")).unwrap_or_default();
        let flags = flags_for(&case.join("settings.yaml"));
        let run = Command::new(env!("CARGO_BIN_EXE_kingress"))
            .args(["translate", "-o", "json", "-f"])
            .arg(case.join("in.yaml"))
            .args(&flags)
            .args(extra.split_whitespace())
            .output()
            .expect("run kingress translate");
        let mut got: Value = serde_json::from_slice(&run.stdout).expect("a config");
        if let Value::Object(m) = &mut got {
            m.remove("_info");
        }
        // Every one is a config Kong accepts (the test double holds Kong 3.10's schemas).
        if let Err(e) = kong_admin_double::validate_for(&got, flavor_of(&flags)) {
            wrong.push(format!(
                "{}: Kong would refuse it: {}",
                case.display(),
                serde_json::Value::Array(e.flattened_errors())
            ));
        }
        if let Some(d) = first_diff(
            &canon(got, None),
            &canon(yaml(&case.join("kic.yaml")), None),
            "",
        ) {
            wrong.push(format!("{}: {d}", case.display()));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
