//! Files and folders of Kubernetes YAML → a [`Snapshot`].
//!
//! Each document is read on its own: a malformed one is reported with its file and
//! 1-based document index and skipped, never stopping the others. Unknown fields are
//! reported (the apiserver would prune them, so they usually mean a typo).

use std::fmt;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde_yaml::Value;

use crate::kinds::{Kind, KindSpec, Object, with_kind};
use crate::snapshot::Snapshot;

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

/// Kinds that often sit beside ingress manifests and are irrelevant to translation.
const IRRELEVANT_KINDS: &[&str] = &[
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "ReplicaSet",
    "Pod",
    "Job",
    "CronJob",
    "ConfigMap",
    "Namespace",
    "ServiceAccount",
    "Role",
    "RoleBinding",
    "ClusterRole",
    "ClusterRoleBinding",
    "HorizontalPodAutoscaler",
    "PodDisruptionBudget",
    "NetworkPolicy",
    "CustomResourceDefinition",
    "ReferenceGrant",
    "PersistentVolumeClaim",
];

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
    let mut loaded = Loaded::default();
    for file in manifest_files(paths)? {
        let text = std::fs::read_to_string(&file).map_err(|source| ManifestError::Read {
            path: file.clone(),
            source,
        })?;
        load_str(&text, &file, &mut loaded);
    }
    Ok(loaded)
}

/// Reads one multi-document YAML text; `file` is only used in messages.
pub fn load_str(text: &str, file: &Path, loaded: &mut Loaded) {
    for (i, doc) in serde_yaml::Deserializer::from_str(text).enumerate() {
        let document = i + 1;
        let value = match <Value as serde::Deserialize>::deserialize(doc) {
            Ok(v) => v,
            Err(e) => {
                loaded.problems.push(DocumentProblem {
                    file: file.to_path_buf(),
                    document,
                    object: None,
                    message: format!("malformed YAML: {e}"),
                    fatal: true,
                });
                // The YAML stream cannot be resynchronised after a syntax error.
                return;
            }
        };
        load_value(value, file, document, loaded);
    }
}

fn load_value(value: Value, file: &Path, document: usize, loaded: &mut Loaded) {
    let problem = |object: Option<String>, message: String, fatal: bool| DocumentProblem {
        file: file.to_path_buf(),
        document,
        object,
        message,
        fatal,
    };
    if value.is_null() {
        return;
    }
    let Some(map) = value.as_mapping() else {
        loaded.problems.push(problem(
            None,
            "expected a Kubernetes object (a mapping with apiVersion and kind)".into(),
            true,
        ));
        return;
    };
    let api_version = map
        .get("apiVersion")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let kind = map
        .get("kind")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    if api_version.is_empty() || kind.is_empty() {
        loaded
            .problems
            .push(problem(None, "missing apiVersion or kind".into(), true));
        return;
    }
    if kind == "List" && api_version == "v1" {
        let items = map
            .get("items")
            .and_then(Value::as_sequence)
            .cloned()
            .unwrap_or_default();
        for item in items {
            load_value(item, file, document, loaded);
        }
        return;
    }
    let name = map
        .get("metadata")
        .and_then(|m| m.get("name"))
        .and_then(Value::as_str)
        .unwrap_or("<unnamed>")
        .to_string();
    let label = format!("{kind} {name}");
    if IRRELEVANT_KINDS.contains(&kind.as_str()) {
        loaded.ignored += 1;
        return;
    }
    let Some(known) = Kind::by_name(&kind) else {
        loaded.problems.push(problem(
            Some(label),
            format!("kind {kind} ({api_version}) is not read by kingress; ignored"),
            false,
        ));
        loaded.ignored += 1;
        return;
    };
    let info = known.info();
    if !info
        .versions
        .iter()
        .any(|v| info.api_version(v) == api_version)
    {
        loaded.problems.push(problem(
            Some(label),
            format!(
                "apiVersion {api_version} is not supported for {kind}; use {}",
                info.preferred_api_version()
            ),
            true,
        ));
        return;
    }
    if let Some(field) = missing_required(known, &value) {
        loaded.problems.push(problem(
            Some(label),
            format!("invalid {kind}: missing required field {field}"),
            true,
        ));
        return;
    }
    let parsed = with_kind!(known, |K| {
        parse::<K>(value).map(|(o, unknown)| (K::wrap(Box::new(o)), unknown))
    });
    match parsed {
        Ok((mut object, unknown)) => {
            for field in unknown {
                loaded.problems.push(problem(
                    Some(label.clone()),
                    format!("unknown field {field} (ignored; the apiserver would drop it)"),
                    false,
                ));
            }
            default_namespace(&mut object);
            loaded.snapshot.apply(object);
            loaded.objects += 1;
        }
        Err(e) => loaded
            .problems
            .push(problem(Some(label), format!("invalid {kind}: {e}"), true)),
    }
}

/// Required fields the Kubernetes types read leniently (k8s-openapi takes a missing required
/// string as ""), which the apiserver would insist on: the first one missing, as a path.
fn missing_required(kind: Kind, value: &Value) -> Option<String> {
    let absent = |v: Option<&Value>| v.and_then(Value::as_str).is_none_or(str::is_empty);
    if absent(value.get("metadata").and_then(|m| m.get("name"))) {
        return Some("metadata.name".into());
    }
    match kind {
        Kind::EndpointSlice if absent(value.get("addressType")) => Some("addressType".into()),
        Kind::Ingress => {
            let rules = value
                .get("spec")
                .and_then(|s| s.get("rules"))
                .and_then(Value::as_sequence)?;
            for (i, rule) in rules.iter().enumerate() {
                let paths = rule
                    .get("http")
                    .and_then(|h| h.get("paths"))
                    .and_then(Value::as_sequence);
                for (j, path) in paths.into_iter().flatten().enumerate() {
                    if absent(path.get("pathType")) {
                        return Some(format!("spec.rules[{i}].http.paths[{j}].pathType"));
                    }
                }
            }
            None
        }
        _ => None,
    }
}

/// Deserialises `value`, collecting the paths of fields the type does not know.
fn parse<T: DeserializeOwned>(value: Value) -> Result<(T, Vec<String>), String> {
    let mut unknown = Vec::new();
    let obj = serde_ignored::deserialize(value, |path| {
        let p = field_path(&path);
        // `status` is written by controllers; apiVersion/kind were matched already
        // (some derived types do not keep them).
        if !p.starts_with("status") && p != "apiVersion" && p != "kind" {
            unknown.push(p);
        }
    })
    .map_err(|e: serde_yaml::Error| e.to_string())?;
    Ok((obj, unknown))
}

/// A field path as the translator's problems write it: `spec.rules[0].backendRefs[1].x`
/// (serde_ignored's own display is `spec.rules.0.backendRefs.1.x`, with `?` for Options).
fn field_path(path: &serde_ignored::Path<'_>) -> String {
    use serde_ignored::Path;
    match path {
        Path::Root => String::new(),
        Path::Seq { parent, index } => format!("{}[{index}]", field_path(parent)),
        Path::Map { parent, key } => match field_path(parent) {
            p if p.is_empty() => key.clone(),
            p => format!("{p}.{key}"),
        },
        Path::Some { parent }
        | Path::NewtypeStruct { parent }
        | Path::NewtypeVariant { parent } => field_path(parent),
    }
}

/// Namespaced objects without a namespace land in `default`, as with `kubectl apply`.
fn default_namespace(object: &mut Object) {
    if !object.kind().info().namespaced {
        return;
    }
    let meta = object.meta_mut();
    if meta.namespace.as_deref().is_none_or(str::is_empty) {
        meta.namespace = Some("default".to_string());
    }
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
