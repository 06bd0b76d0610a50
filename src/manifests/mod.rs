//! Files and folders of Kubernetes YAML → a [`Snapshot`].
//!
//! Each document is read on its own ([`documents`] splits a stream, [`decode`] reads one),
//! on every core: a malformed one is reported with its file, 1-based document index and line
//! and skipped, never stopping the others. Unknown fields are reported (the apiserver would
//! prune them, so they usually mean a typo). Objects reach the snapshot in document order,
//! so the result does not depend on the threads. Parsing goes through [`crate::yaml`], which
//! refuses nesting past [`crate::yaml::MAX_DEPTH`] in linear time.

mod decode;
mod documents;
mod one_pass;

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;

use crate::snapshot::Snapshot;
use decode::Decoded;
use documents::Document;

#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// A document that could not be used, or was used with a caveat.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DocumentProblem {
    pub file: PathBuf,
    /// 1-based index of the YAML document in the file.
    pub document: usize,
    /// `Kind namespace/name` when known.
    pub object: Option<String>,
    pub message: String,
    /// False for notes (the document was still used, or deliberately ignored).
    pub fatal: bool,
}

impl fmt::Display for DocumentProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let level = if self.fatal { "error" } else { "note" };
        write!(
            f,
            "{level}: {} (document {})",
            self.file.display(),
            self.document
        )?;
        if let Some(obj) = &self.object {
            write!(f, ": {obj}")?;
        }
        write!(f, ": {}", self.message)
    }
}

#[derive(Debug, Default)]
pub struct Loaded {
    pub snapshot: Snapshot,
    pub problems: Vec<DocumentProblem>,
    /// Objects added to the snapshot.
    pub objects: usize,
    /// Documents of kinds translation does not read (Deployments, ConfigMaps, …).
    pub ignored: usize,
}

impl Loaded {
    /// Adds what one document of `file` gave.
    fn add(&mut self, file: &Path, document: usize, decoded: Decoded) {
        for found in decoded.problems {
            self.problems.push(DocumentProblem {
                file: file.to_path_buf(),
                document,
                object: found.object,
                message: found.message,
                fatal: found.fatal,
            });
        }
        self.ignored += decoded.ignored;
        for object in decoded.objects {
            self.snapshot.apply(object);
            self.objects += 1;
        }
    }
}

/// Lists the manifest files under `paths` (folders recursively), sorted for determinism.
pub fn manifest_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, ManifestError> {
    let mut files = Vec::new();
    for path in paths {
        collect(path, &mut files, true)?;
    }
    files.sort();
    files.dedup();
    Ok(files)
}

fn collect(path: &Path, files: &mut Vec<PathBuf>, explicit: bool) -> Result<(), ManifestError> {
    let meta = std::fs::metadata(path).map_err(|source| ManifestError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    if meta.is_dir() {
        let entries = std::fs::read_dir(path).map_err(|source| ManifestError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        for entry in entries {
            let entry = entry.map_err(|source| ManifestError::Read {
                path: path.to_path_buf(),
                source,
            })?;
            collect(&entry.path(), files, false)?;
        }
    } else if explicit
        || matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("yaml" | "yml" | "json")
        )
    {
        files.push(path.to_path_buf());
    }
    Ok(())
}

/// Reads every manifest under `paths` into one snapshot.
pub fn load(paths: &[PathBuf]) -> Result<Loaded, ManifestError> {
    let mut texts = Vec::new();
    for file in manifest_files(paths)? {
        let text = std::fs::read_to_string(&file).map_err(|source| ManifestError::Read {
            path: file.clone(),
            source,
        })?;
        texts.push((file, text));
    }
    let mut loaded = Loaded::default();
    let docs: Vec<(&Path, Document<'_>)> = texts
        .iter()
        .flat_map(|(file, text)| {
            documents::split(text)
                .into_iter()
                .map(move |d| (file.as_path(), d))
        })
        .collect();
    decode_all(&docs, &mut loaded);
    Ok(loaded)
}

/// Reads one multi-document YAML text; `file` is only used in messages.
pub fn load_str(text: &str, file: &Path, loaded: &mut Loaded) {
    let docs: Vec<(&Path, Document<'_>)> = documents::split(text)
        .into_iter()
        .map(|d| (file, d))
        .collect();
    decode_all(&docs, loaded);
}

/// Documents each thread takes at a time: enough to make taking them cheap, few enough
/// that decoded objects waiting for their turn stay few.
const BATCH: usize = 16;

/// Decodes `docs` on every core and adds them to `loaded` in order.
fn decode_all(docs: &[(&Path, Document<'_>)], loaded: &mut Loaded) {
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(docs.len().div_ceil(BATCH));
    if threads <= 1 {
        for (file, doc) in docs {
            loaded.add(file, doc.index, decode::decode(doc));
        }
        return;
    }
    let next = AtomicUsize::new(0);
    // Bounded, so workers wait rather than pile up decoded objects ahead of the snapshot.
    let (tx, rx) = mpsc::sync_channel::<(usize, Vec<Decoded>)>(threads * 2);
    std::thread::scope(|scope| {
        for _ in 0..threads {
            let (tx, next) = (tx.clone(), &next);
            scope.spawn(move || {
                loop {
                    let start = next.fetch_add(BATCH, Ordering::Relaxed);
                    if start >= docs.len() {
                        return;
                    }
                    let end = (start + BATCH).min(docs.len());
                    let batch = docs[start..end]
                        .iter()
                        .map(|(_, d)| decode::decode(d))
                        .collect();
                    if tx.send((start, batch)).is_err() {
                        return;
                    }
                }
            });
        }
        drop(tx);
        // Batches arrive out of order; each is added once those before it are.
        let mut waiting: BTreeMap<usize, Vec<Decoded>> = BTreeMap::new();
        let mut added = 0;
        for (start, batch) in rx {
            waiting.insert(start, batch);
            while let Some(batch) = waiting.remove(&added) {
                for (i, decoded) in batch.into_iter().enumerate() {
                    let (file, doc) = &docs[added + i];
                    loaded.add(file, doc.index, decoded);
                }
                added = (added + BATCH).min(docs.len());
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load_text(text: &str) -> Loaded {
        let mut loaded = Loaded::default();
        load_str(text, Path::new("in.yaml"), &mut loaded);
        loaded
    }

    #[test]
    fn reads_services_and_defaults_namespace() {
        let l = load_text(
            "apiVersion: v1\nkind: Service\nmetadata: {name: echo}\nspec: {ports: [{port: 80}]}\n",
        );
        assert_eq!(l.objects, 1);
        assert!(l.snapshot.service("default", "echo").is_some());
        assert!(l.problems.is_empty(), "{:?}", l.problems);
    }

    /// The one pass takes documents that lead with apiVersion and kind; every other order, and
    /// every document it hands back half-read (unknown kind, other apiVersion, irrelevant kind,
    /// a List), must come out as the general path reads it (serde_norway panics on a mapping
    /// left half-read: KIC's own manifests put metadata first).
    #[test]
    fn key_order_never_changes_the_result() {
        let service = |order: &[&str]| {
            let parts: Vec<String> = order
                .iter()
                .map(|k| match *k {
                    "a" => "apiVersion: v1".to_string(),
                    "k" => "kind: Service".to_string(),
                    "m" => "metadata: {name: echo, namespace: ns}".to_string(),
                    _ => "spec: {ports: [{port: 80}], selectr: {}}".to_string(),
                })
                .collect();
            parts.join("\n") + "\n"
        };
        for order in [
            ["a", "k", "m", "s"],
            ["k", "a", "m", "s"],
            ["m", "a", "k", "s"],
            ["a", "m", "k", "s"],
            ["s", "m", "k", "a"],
        ] {
            let l = load_text(&service(&order));
            assert_eq!(l.objects, 1, "{order:?}");
            assert!(l.snapshot.service("ns", "echo").is_some(), "{order:?}");
            let problems: Vec<&str> = l.problems.iter().map(|p| p.message.as_str()).collect();
            assert_eq!(
                problems,
                ["unknown field spec.selectr (ignored; the apiserver would drop it)"],
                "{order:?}"
            );
        }
        let l = load_text(concat!(
            "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\nspec: {a: [1, {b: 2}]}\n---\n",
            "apiVersion: v2\nkind: Service\nmetadata: {name: s}\nspec: {}\n---\n",
            "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: n}\nsecrets: [{name: x}]\n---\n",
            "apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: Service, metadata: {name: i}}\n---\n",
            "apiVersion: v1\nkind: Service\nmetadata: {name: ok}\n",
        ));
        assert_eq!((l.objects, l.ignored), (2, 2), "{:?}", l.problems);
        assert!(l.snapshot.service("default", "i").is_some());
        assert!(l.snapshot.service("default", "ok").is_some());
        let problems: Vec<(usize, &str)> = l
            .problems
            .iter()
            .map(|p| (p.document, p.message.as_str()))
            .collect();
        assert_eq!(
            problems,
            [
                (
                    1,
                    "kind Widget (example.com/v1) is not read by kingress; ignored"
                ),
                (2, "apiVersion v2 is not supported for Service; use v1"),
            ]
        );
    }

    /// A KongLicense is reported as Kong Enterprise's, and its license string never appears.
    #[test]
    fn a_kong_license_is_reported_as_enterprise_without_its_key() {
        let l = load_text(
            "apiVersion: configuration.konghq.com/v1alpha1\nkind: KongLicense\nmetadata: {name: l}\nrawLicenseString: SECRET-LICENSE\nenabled: true\n",
        );
        assert_eq!((l.objects, l.ignored), (0, 1));
        let messages: Vec<&str> = l.problems.iter().map(|p| p.message.as_str()).collect();
        assert_eq!(
            messages,
            [
                "kind KongLicense (configuration.konghq.com/v1alpha1) is a Kong Enterprise license: kingress configures Kong OSS, which has no licenses; ignored"
            ]
        );
        assert!(!format!("{:?}", l.problems).contains("SECRET-LICENSE"));
    }

    /// The apiserver's base64 (Go's encoding/base64) ignores line breaks; KIC's own corpus
    /// writes certificates that way.
    #[test]
    fn secret_data_may_break_its_base64_across_lines() {
        let l = load_text(concat!(
            "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ndata:\n",
            "  a: |\n    aGVsbG8g\n    d29ybGQ=\n  b: aGk=\n",
        ));
        assert!(l.problems.is_empty(), "{:?}", l.problems);
        let secret = l.snapshot.secret("default", "s").expect("the Secret");
        let data = secret.data.as_ref().expect("data");
        assert_eq!(data["a"].0, b"hello world");
        assert_eq!(data["b"].0, b"hi");
    }

    /// Gateway API v1.6.1 still serves v1beta1 for these kinds, with v1's schema.
    #[test]
    fn gateway_api_objects_are_read_at_v1beta1_too() {
        let text = |version: &str| {
            format!(
                "apiVersion: gateway.networking.k8s.io/{version}\nkind: GatewayClass\nmetadata: {{name: kong}}\nspec: {{controllerName: example.com/c}}\n---\n\
                 apiVersion: gateway.networking.k8s.io/{version}\nkind: Gateway\nmetadata: {{name: gw}}\nspec: {{gatewayClassName: kong, listeners: [{{name: http, port: 80, protocol: HTTP}}]}}\n---\n\
                 apiVersion: gateway.networking.k8s.io/{version}\nkind: HTTPRoute\nmetadata: {{name: r}}\nspec: {{parentRefs: [{{name: gw}}], rules: [{{backendRefs: [{{name: s, port: 80}}]}}]}}\n"
            )
        };
        let v1 = load_text(&text("v1"));
        let beta = load_text(&text("v1beta1"));
        assert!(beta.problems.is_empty(), "{:?}", beta.problems);
        assert_eq!((beta.objects, v1.objects), (3, 3));
        let routes = |l: &Loaded| -> Vec<serde_json::Value> {
            let all = l.snapshot.httproutes.values();
            all.map(|r| serde_json::to_value(r).expect("JSON"))
                .collect()
        };
        assert_eq!(routes(&beta).len(), 1);
        // The same route, marked as read at v1beta1 (its tags name that version).
        let mut marked = routes(&beta);
        let annotations = marked[0]["metadata"]
            .as_object_mut()
            .and_then(|m| m.remove("annotations"));
        assert_eq!(
            annotations,
            Some(serde_json::json!({crate::kinds::READ_VERSION: "v1beta1"}))
        );
        assert_eq!(marked, routes(&v1));
        let route = beta.snapshot.httproutes.values().next().expect("route");
        let obj = crate::translate::names::ObjectRef::of(&**route);
        assert_eq!(obj.version, "v1beta1");
        assert!(beta.snapshot.gateway("default", "gw").is_some());
        assert!(beta.snapshot.gateway_class("kong").is_some());
    }

    #[test]
    fn malformed_yaml_names_file_and_document() {
        let l =
            load_text("apiVersion: v1\nkind: Service\nmetadata: {name: a}\n---\nkind: [unclosed\n");
        assert_eq!(l.objects, 1);
        assert_eq!(l.problems.len(), 1);
        let p = &l.problems[0];
        assert!(p.fatal);
        assert_eq!(p.document, 2);
        assert!(
            p.to_string()
                .starts_with("error: in.yaml (document 2): malformed YAML"),
            "{p}"
        );
    }

    #[test]
    fn invalid_field_type_is_an_error_naming_the_object() {
        let l = load_text(
            "apiVersion: v1\nkind: Service\nmetadata: {name: a}\nspec: {ports: [{port: eighty}]}\n",
        );
        assert_eq!(l.objects, 0);
        let msg = l.problems[0].to_string();
        assert!(msg.contains("Service a: invalid Service"), "{msg}");
    }

    #[test]
    fn unknown_fields_are_noted_with_their_path() {
        let l =
            load_text("apiVersion: v1\nkind: Service\nmetadata: {name: a}\nspec: {portz: []}\n");
        assert_eq!(l.objects, 1);
        assert_eq!(l.problems.len(), 1);
        assert!(!l.problems[0].fatal);
        assert!(
            l.problems[0].message.contains("unknown field spec.portz"),
            "{}",
            l.problems[0]
        );
    }

    #[test]
    fn unknown_fields_in_lists_are_written_with_indices() {
        let l = load_text(
            "apiVersion: v1\nkind: Service\nmetadata: {name: a}\nspec: {ports: [{port: 80}, {port: 81, nmae: x}]}\n",
        );
        assert_eq!(l.problems.len(), 1);
        assert!(
            l.problems[0]
                .message
                .contains("unknown field spec.ports[1].nmae "),
            "{}",
            l.problems[0]
        );
    }

    #[test]
    fn missing_required_fields_are_errors() {
        let l = load_text(
            "apiVersion: v1\nkind: Service\nspec: {ports: [{port: 80}]}\n---\napiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: i}\nspec: {rules: [{http: {paths: [{path: /, backend: {service: {name: s}}}]}}]}\n",
        );
        assert_eq!(l.objects, 0);
        let msgs: Vec<String> = l.problems.iter().map(|p| p.to_string()).collect();
        assert_eq!(
            msgs,
            [
                "error: in.yaml (document 1): Service <unnamed>: invalid Service: missing required field metadata.name",
                "error: in.yaml (document 2): Ingress i: invalid Ingress: missing required field spec.rules[0].http.paths[0].pathType",
            ]
        );
    }

    #[test]
    fn unknown_and_irrelevant_kinds() {
        let l = load_text(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\n---\napiVersion: x.io/v1\nkind: Widget\nmetadata: {name: w}\n---\napiVersion: extensions/v1beta1\nkind: Ingress\nmetadata: {name: old}\n",
        );
        assert_eq!(l.ignored, 2);
        assert_eq!(l.problems.len(), 2);
        assert!(l.problems[0].message.contains("Widget"));
        assert!(!l.problems[0].fatal);
        assert!(l.problems[1].fatal);
        assert!(
            l.problems[1].message.contains("use networking.k8s.io/v1"),
            "{}",
            l.problems[1]
        );
    }

    #[test]
    fn lists_are_expanded_and_non_objects_rejected() {
        let l = load_text(
            "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Service\n  metadata: {name: a}\n---\n- just a list\n---\nkind: Service\n",
        );
        assert_eq!(l.objects, 1);
        assert_eq!(l.problems.len(), 2);
        assert!(
            l.problems[0]
                .message
                .contains("expected a Kubernetes object")
        );
        assert!(l.problems[1].message.contains("missing apiVersion"));
    }
}
