//! Incremental translation (`translate::incremental`) against full translation: after every
//! change, the spliced config text must be byte-identical to serialising a full
//! translation, and problems, facts and policies equal.

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

use kingress::manifests::{self, Loaded};
use kingress::snapshot::{Kind, Object, Snapshot};
use kingress::synthetic::{self, Spec};
use kingress::translate::incremental::{Changes, Incremental};
use kingress::translate::{self, ObjectKey, Options};

/// Our golden cases, KIC's (v3.5.13) and the KIC oracle's.
fn golden_cases() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    let mut dirs: Vec<PathBuf> = ["golden", "kic-golden/v3.5.13", "kic-oracle"]
        .iter()
        .flat_map(|d| fs::read_dir(root.join(d)).expect("golden folder exists"))
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.join("in.yaml").is_file())
        .collect();
    dirs.sort();
    assert!(dirs.len() > 50, "golden cases found: {}", dirs.len());
    dirs
}

fn offline_options() -> Options {
    Options {
        assume_attached_without_gateways: true,
        ..Options::default()
    }
}

/// A case's options as its golden test runs it: our cases' `options.yaml`, the KIC cases'
/// `<variant>_settings.yaml` is not read here (their default variant), the oracle cases'
/// `settings.yaml` (KIC's feature flags) and `kingress-flags.txt`.
fn case_options(dir: &Path) -> Options {
    let mut options = offline_options();
    let yaml = |file: &str| -> Option<serde_norway::Value> {
        let text = fs::read_to_string(dir.join(file)).ok()?;
        Some(serde_norway::from_str(&text).expect("options parse"))
    };
    if let Some(v) = yaml("options.yaml") {
        if let Some(n) = v.get("kong_replicas").and_then(serde_norway::Value::as_u64) {
            options.kong_replicas = n as usize;
        }
        if let Some(f) = v.get("router_flavor").and_then(serde_norway::Value::as_str) {
            options.router_flavor = f.parse().expect("options.yaml router_flavor");
        }
        if let Some(g) = v.get("feature_gates").and_then(serde_norway::Value::as_str) {
            options.feature_gates = g.parse().expect("feature_gates");
        }
    }
    if let Some(flags) = yaml("settings.yaml")
        .and_then(|v| v.get("feature_flags").cloned())
        .and_then(|f| f.as_mapping().cloned())
    {
        let mut gates = Vec::new();
        for (name, on) in flags {
            let (name, on) = (
                name.as_str().unwrap_or_default(),
                on.as_bool() == Some(true),
            );
            match name {
                "SupportRedirectPlugin" => {
                    options.kong_version =
                        if on { "3.9.0" } else { "3.8.0" }.parse().expect("version");
                }
                "CombinedServicesFromDifferentHTTPRoutes" => {
                    options.combined_services_from_different_httproutes = on;
                }
                "ExpressionRoutes" if on => {
                    options.router_flavor = "expressions".parse().expect("flavor");
                }
                "ExpressionRoutes" => {}
                _ => gates.push(format!("{name}={on}")),
            }
        }
        options.feature_gates = gates.join(",").parse().expect("gates");
    }
    let flags = fs::read_to_string(dir.join("kingress-flags.txt")).unwrap_or_default();
    for flag in flags.split_whitespace() {
        match flag.split_once('=') {
            Some(("--enable-drain-support", v)) => options.enable_drain_support = v == "true",
            Some(("--cluster-domain", v)) => options.cluster_domain = v.to_string(),
            _ => panic!(
                "{}: kingress-flags.txt: {flag} not known here",
                dir.display()
            ),
        }
    }
    options
}

/// Compares an incremental update with a full translation of the same snapshot.
fn check(
    inc: &mut Incremental,
    snapshot: &Snapshot,
    options: &Options,
    changes: &Changes,
    what: &str,
) -> Result<usize, String> {
    let out = inc
        .update(snapshot, options, changes)
        .map_err(|e| format!("{what}: serialising: {e}"))?;
    let full = translate::translate(snapshot, options);
    let text = serde_json::to_string(&full.config).expect("serialises");
    let out_text = out.config.concat();
    if out_text != text {
        let at = out_text
            .bytes()
            .zip(text.bytes())
            .position(|(a, b)| a != b)
            .unwrap_or(out_text.len().min(text.len()));
        let from = at.saturating_sub(200);
        return Err(format!(
            "{what}: config text differs at byte {at}\n incremental: …{}\n full:        …{}",
            out_text
                .get(from..(at + 200).min(out_text.len()))
                .unwrap_or(""),
            text.get(from..(at + 200).min(text.len())).unwrap_or("")
        ));
    }
    if out.problems != full.problems {
        return Err(format!(
            "{what}: problems differ\n incremental: {:#?}\n full: {:#?}",
            out.problems, full.problems
        ));
    }
    if out.facts != full.facts {
        return Err(format!(
            "{what}: facts differ\n incremental: {:#?}\n full: {:#?}",
            out.facts, full.facts
        ));
    }
    if out.upstream_policies != full.upstream_policies {
        return Err(format!("{what}: upstream policies differ"));
    }
    Ok(out.retranslated)
}

/// One YAML document of a golden input, with what `Changes::record` needs.
struct Document {
    text: String,
    kind: Option<Kind>,
    namespace: String,
}

fn documents(text: &str) -> Vec<Document> {
    text.split("\n---")
        .filter(|d| !d.trim().is_empty())
        .map(|d| {
            let value: serde_norway::Value = serde_norway::from_str(d).unwrap_or_default();
            let kind = value
                .get("kind")
                .and_then(|k| k.as_str())
                .and_then(Kind::by_name);
            let namespace = value
                .get("metadata")
                .and_then(|m| m.get("namespace"))
                .and_then(|n| n.as_str())
                .unwrap_or("default")
                .to_string();
            Document {
                text: d.to_string(),
                kind,
                namespace,
            }
        })
        .collect()
}

fn load(docs: &[Document], present: &[bool]) -> Snapshot {
    let mut text = String::new();
    for (doc, _) in docs.iter().zip(present).filter(|(_, p)| **p) {
        let _ = write!(text, "{}\n---\n", doc.text);
    }
    let mut loaded = Loaded::default();
    manifests::load_str(&text, Path::new("in.yaml"), &mut loaded);
    loaded.snapshot
}

/// SplitMix64, so the sequences are the same on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self, below: usize) -> usize {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut x = self.0;
        x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        ((x ^ (x >> 31)) % below as u64) as usize
    }
}

/// Every golden case from scratch, then documents removed and added back at random, one or
/// several per update: each state must translate as a full translation does.
#[test]
fn golden_cases_under_random_changes_match_full_translation() {
    let mut failures = Vec::new();
    let mut steps = 0;
    for dir in golden_cases() {
        let name = dir
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .to_string();
        let text = fs::read_to_string(dir.join("in.yaml")).expect("in.yaml");
        let docs = documents(&text);
        let options = case_options(&dir);
        let mut present = vec![true; docs.len()];
        let mut inc = Incremental::new();
        if let Err(e) = check(
            &mut inc,
            &load(&docs, &present),
            &options,
            &Changes::everything(),
            &name,
        ) {
            failures.push(e);
            continue;
        }
        let mut rng = Rng(name.len() as u64);
        for step in 0..4 * docs.len() {
            let mut changes = Changes::default();
            let mut toggled = Vec::new();
            for _ in 0..1 + rng.next(3) {
                let i = rng.next(docs.len());
                present[i] = !present[i];
                toggled.push(i);
                if let Some(kind) = docs[i].kind {
                    changes.record(kind, &docs[i].namespace);
                }
            }
            steps += 1;
            let what = format!("{name} step {step} (toggled documents {toggled:?})");
            if let Err(e) = check(&mut inc, &load(&docs, &present), &options, &changes, &what) {
                failures.push(e);
                break;
            }
        }
    }
    assert!(steps > 200, "only {steps} steps ran");
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// A synthetic cluster of three namespaces: endpoint scaling, policy edits, Service and
/// route removal, a global plugin and a change of options, each retranslating only what
/// it must.
#[test]
fn synthetic_cluster_changes_match_full_translation_and_stay_local() {
    let spec = Spec::new(250, 4, 7);
    let mut snapshot = synthetic::snapshot(&spec);
    let mut options = Options::default();
    let mut inc = Incremental::new();
    let all = check(
        &mut inc,
        &snapshot,
        &options,
        &Changes::everything(),
        "first",
    )
    .expect("first update");
    assert_eq!(all, 4, "three namespaces and the global scope");

    let mut rng = Rng(3);
    for step in 0..60 {
        let mut changes = Changes::default();
        let what = match step % 5 {
            0 | 1 => {
                let i = rng.next(spec.services);
                for slice in synthetic::endpoint_slices(&spec, i, rng.next(6)) {
                    let object = Object::EndpointSlice(Box::new(slice));
                    changes.record(object.kind(), object.namespace());
                    snapshot.apply(object);
                }
                format!("step {step}: Service {i} scaled")
            }
            2 => {
                let ns = rng.next(spec.namespaces());
                let policy = synthetic::upstream_policy(&spec, ns, rng.next(2), step);
                let object = Object::KongUpstreamPolicy(Box::new(policy));
                changes.record(object.kind(), object.namespace());
                snapshot.apply(object);
                format!("step {step}: policy in namespace {ns} edited")
            }
            3 => {
                let i = rng.next(spec.services);
                let ns = spec.namespace_of(i);
                let name = Spec::service_name(i);
                snapshot.remove(Kind::Service, &ns, &name);
                changes.record(Kind::Service, &ns);
                format!("step {step}: Service {ns}/{name} removed")
            }
            _ => {
                let ns = spec.namespace_of(rng.next(spec.services));
                let victim = snapshot
                    .ingresses_in(Some(&ns))
                    .nth(rng.next(5))
                    .and_then(|i| i.metadata.name.clone());
                if let Some(name) = victim {
                    snapshot.remove(Kind::Ingress, &ns, &name);
                    changes.record(Kind::Ingress, &ns);
                }
                format!("step {step}: an Ingress of {ns} removed")
            }
        };
        let n =
            check(&mut inc, &snapshot, &options, &changes, &what).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(n, 1, "{what}: one namespace retranslated, not {n}");
    }

    // Every namespace emptied of routes: its part goes.
    for ns in 0..spec.namespaces() {
        let namespace = Spec::namespace_name(ns);
        let mut changes = Changes::default();
        let names: Vec<(Kind, String)> = snapshot
            .ingresses_in(Some(&namespace))
            .map(|i| (Kind::Ingress, i.metadata.name.clone().unwrap_or_default()))
            .chain(
                snapshot
                    .httproutes_in(Some(&namespace))
                    .map(|r| (Kind::HttpRoute, r.metadata.name.clone().unwrap_or_default())),
            )
            .collect();
        for (kind, name) in names {
            snapshot.remove(kind, &namespace, &name);
            changes.record(kind, &namespace);
        }
        check(
            &mut inc,
            &snapshot,
            &options,
            &changes,
            &format!("{namespace} emptied"),
        )
        .unwrap_or_else(|e| panic!("{e}"));
    }

    // New options retranslate everything even without a recorded change.
    let mut snapshot = synthetic::snapshot(&spec);
    check(
        &mut inc,
        &snapshot,
        &options,
        &Changes::everything(),
        "rebuilt",
    )
    .expect("rebuilt");
    options.kong_replicas = 3;
    let n = check(
        &mut inc,
        &snapshot,
        &options,
        &Changes::default(),
        "replicas 3",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(n, 4, "new options retranslate every scope");

    // A KongClusterPlugin reaches every namespace.
    let yaml = "apiVersion: configuration.konghq.com/v1\nkind: KongClusterPlugin\n\
                metadata: {name: global-cors, labels: {global: \"true\"}}\nplugin: cors\n";
    let mut loaded = Loaded::default();
    manifests::load_str(yaml, Path::new("plugin.yaml"), &mut loaded);
    let plugin = loaded
        .snapshot
        .kong_cluster_plugins
        .values()
        .next()
        .expect("plugin read")
        .clone();
    snapshot.apply(Object::KongClusterPlugin(plugin));
    let mut changes = Changes::default();
    changes.record(Kind::KongClusterPlugin, "");
    let n = check(&mut inc, &snapshot, &options, &changes, "cluster plugin")
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(n, 4, "a KongClusterPlugin retranslates every scope");

    // The fallback: a Service Kong rejected takes the Ingresses that route to it along.
    let (namespace, ingress, service) = snapshot
        .ingresses
        .values()
        .find_map(|i| {
            let backend = i.spec.as_ref()?.rules.as_ref()?.first()?.http.as_ref()?;
            let service = backend
                .paths
                .first()?
                .backend
                .service
                .as_ref()?
                .name
                .clone();
            Some((
                i.metadata.namespace.clone()?,
                i.metadata.name.clone()?,
                service,
            ))
        })
        .expect("an Ingress with a Service backend");
    options.excluded = [ObjectKey::new(Kind::Service, &namespace, &service)].into();
    let n = check(
        &mut inc,
        &snapshot,
        &options,
        &Changes::default(),
        "Service rejected",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(n, 4, "new exclusions retranslate every scope");
    // Scaling an unrelated Service leaves what is left out as it was: one namespace.
    let other = (0..spec.services)
        .find(|&i| Spec::service_name(i) != service)
        .expect("another Service");
    let mut changes = Changes::default();
    for slice in synthetic::endpoint_slices(&spec, other, 3) {
        let object = Object::EndpointSlice(Box::new(slice));
        changes.record(object.kind(), object.namespace());
        snapshot.apply(object);
    }
    let n = check(
        &mut inc,
        &snapshot,
        &options,
        &changes,
        "other Service scaled",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(n, 1, "what is left out did not change: one namespace");
    // Removing a dependent changes what is left out: every scope, as an exclusion can reach
    // across namespaces (a cross-namespace backendRef, a KongClusterPlugin's Secret).
    snapshot.remove(Kind::Ingress, &namespace, &ingress);
    let mut changes = Changes::default();
    changes.record(Kind::Ingress, &namespace);
    let n = check(&mut inc, &snapshot, &options, &changes, "dependent removed")
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(n, 4, "what is left out changed: every scope");
}

/// An update with no recorded change and the same options retranslates nothing and gives
/// the same text; a change that is not recorded is not seen (the caller must record every
/// change, which the controller's store does).
#[test]
fn unrecorded_changes_are_not_retranslated() {
    let spec = Spec::new(150, 2, 1);
    let mut snapshot = synthetic::snapshot(&spec);
    let options = Options::default();
    let mut inc = Incremental::new();
    let first = inc
        .update(&snapshot, &options, &Changes::everything())
        .expect("first");
    let again = inc
        .update(&snapshot, &options, &Changes::default())
        .expect("again");
    assert_eq!(again.retranslated, 0);
    assert_eq!(again.config.concat(), first.config.concat());
    for slice in synthetic::endpoint_slices(&spec, 0, 0) {
        snapshot.apply(Object::EndpointSlice(Box::new(slice)));
    }
    let unseen = inc
        .update(&snapshot, &options, &Changes::default())
        .expect("unseen");
    assert_eq!(unseen.config.concat(), first.config.concat());
    let mut changes = Changes::default();
    changes.record(Kind::EndpointSlice, &spec.namespace_of(0));
    let seen = inc.update(&snapshot, &options, &changes).expect("seen");
    assert_ne!(
        seen.config.concat(),
        first.config.concat(),
        "the scaled Service's targets are gone"
    );
    assert_eq!(seen.retranslated, 1);
}
