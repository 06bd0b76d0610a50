//! Apply multi-document YAML to the test control plane with server-side apply, like
//! `kubectl apply --server-side --force-conflicts`.

use std::path::Path;

use kube::api::{Api, DynamicObject, Patch, PatchParams, PostParams};
use kube::core::GroupVersionKind;
use kube::discovery::{self, Scope};
use kube::{Client, ResourceExt};

use super::controlplane::FIELD_MANAGER;

/// Why [`try_apply_yaml`] failed.
#[derive(Debug)]
pub enum ApplyError {
    /// The YAML or an object in it is malformed; nothing was sent for it.
    Invalid(String),
    /// Discovery or the request failed; `kube::Error::Api` carries the apiserver's answer.
    Kube(kube::Error),
}

impl std::fmt::Display for ApplyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ApplyError::Invalid(msg) => f.write_str(msg),
            ApplyError::Kube(e) => write!(f, "{e}"),
        }
    }
}

impl From<kube::Error> for ApplyError {
    fn from(e: kube::Error) -> Self {
        ApplyError::Kube(e)
    }
}

/// Splits multi-document YAML into objects, skipping empty documents.
pub fn parse_yaml(yaml: &str) -> Result<Vec<DynamicObject>, String> {
    let mut objects = Vec::new();
    for (i, doc) in serde_norway::Deserializer::from_str(yaml).enumerate() {
        let value: serde_norway::Value =
            serde::Deserialize::deserialize(doc).map_err(|e| format!("YAML document {i}: {e}"))?;
        if value.is_null() {
            continue;
        }
        let object: DynamicObject = serde_norway::from_value(value)
            .map_err(|e| format!("YAML document {i} is not a Kubernetes object: {e}"))?;
        objects.push(object);
    }
    Ok(objects)
}

/// How to send each object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Server-side apply, forcing conflicts, as field manager `kingress-tests`.
    Apply,
    /// Plain create (fails if the object exists).
    Create,
}

/// The `Api` for `object`, found through discovery. Namespaced objects without
/// `metadata.namespace` go to `namespace` (an error if that is `None`).
pub async fn api_for(
    client: &Client,
    object: &DynamicObject,
    namespace: Option<&str>,
) -> Result<Api<DynamicObject>, ApplyError> {
    let types = object.types.clone().unwrap_or_default();
    let gvk = GroupVersionKind::try_from(&types)
        .map_err(|e| ApplyError::Invalid(format!("apiVersion {:?}: {e}", types.api_version)))?;
    let (resource, caps) = discovery::pinned_kind(client, &gvk).await?;
    Ok(match caps.scope {
        Scope::Cluster => Api::all_with(client.clone(), &resource),
        Scope::Namespaced => {
            let ns = object.namespace().or(namespace.map(str::to_string));
            let ns = ns.ok_or_else(|| {
                ApplyError::Invalid(format!(
                    "{} {} is namespaced, but no namespace was given",
                    types.kind,
                    object.name_any()
                ))
            })?;
            Api::namespaced_with(client.clone(), &ns, &resource)
        }
    })
}

/// Sends every object in `yaml`, in order, and returns what the apiserver stored. Stops at the
/// first error (`ApplyError::Kube(kube::Error::Api(..))` when the apiserver rejects an object).
pub async fn try_apply_yaml(
    client: &Client,
    namespace: Option<&str>,
    yaml: &str,
    mode: Mode,
) -> Result<Vec<DynamicObject>, ApplyError> {
    let objects = parse_yaml(yaml).map_err(ApplyError::Invalid)?;
    let mut stored = Vec::with_capacity(objects.len());
    for object in objects {
        let api = api_for(client, &object, namespace).await?;
        let result = match mode {
            Mode::Apply => {
                let params = PatchParams::apply(FIELD_MANAGER).force();
                api.patch(&object.name_any(), &params, &Patch::Apply(&object))
                    .await?
            }
            Mode::Create => api.create(&PostParams::default(), &object).await?,
        };
        stored.push(result);
    }
    Ok(stored)
}

/// [`try_apply_yaml`] with server-side apply, panicking with the object and error on failure.
pub async fn apply_yaml(
    client: &Client,
    namespace: Option<&str>,
    yaml: &str,
) -> Vec<DynamicObject> {
    try_apply_yaml(client, namespace, yaml, Mode::Apply)
        .await
        .unwrap_or_else(|e| panic!("applying YAML failed: {e}\n{yaml}"))
}

/// [`apply_yaml`] on a file.
pub async fn apply_file(
    client: &Client,
    namespace: Option<&str>,
    path: impl AsRef<Path>,
) -> Vec<DynamicObject> {
    let path = path.as_ref();
    let yaml =
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    apply_yaml(client, namespace, &yaml).await
}

/// The apiserver's message for a rejected request, or a panic describing what happened instead.
pub fn api_error_message<T: std::fmt::Debug>(result: Result<T, ApplyError>) -> String {
    match result {
        Err(ApplyError::Kube(kube::Error::Api(status))) => status.message,
        Err(other) => panic!("expected the apiserver to reject the request, got error: {other}"),
        Ok(value) => panic!("expected the apiserver to reject the request, it stored: {value:?}"),
    }
}
