//! A plugin's configuration: inline, from a Secret (`configFrom`), with Secret values set at
//! JSON pointers (`configPatches`). Secret contents never reach a message.

use serde_json::{Map, Value};

use super::json_patch::AddError;

use crate::snapshot::Snapshot;

/// Why a plugin's configuration cannot be built. Messages never hold a Secret's content.
#[derive(Clone, Debug, thiserror::Error)]
pub enum PluginConfigError {
    #[error("Secret {namespace}/{name} not found")]
    SecretNotFound { namespace: String, name: String },
    #[error("Secret {namespace}/{name} has no key {key}")]
    SecretKeyMissing {
        namespace: String,
        name: String,
        key: String,
    },
    #[error("Secret {namespace}/{name} key {key} is not a JSON or YAML object")]
    NotAnObject {
        namespace: String,
        name: String,
        key: String,
    },
    #[error("Secret {namespace}/{name} key {key} is not UTF-8")]
    NotUtf8 {
        namespace: String,
        name: String,
        key: String,
    },
    #[error(
        "Secret {namespace}/{name} key {key} is not a JSON value: configPatches sets the value as JSON, so a string needs its quotes (\"s3cret\", not s3cret)"
    )]
    PatchValueNotJson {
        namespace: String,
        name: String,
        key: String,
    },
    #[error("config must be an object")]
    InlineNotAnObject,
    /// One of `configPatches`, by index.
    #[error("{source}")]
    Patch {
        index: usize,
        source: Box<PluginConfigError>,
    },
    #[error("configPatches path {0:?} must be empty or start with /")]
    PatchPathNotAbsolute(String),
    #[error("configPatches path {path:?}: {part:?} is no member or index of what it reaches")]
    PatchThroughNonObject { path: String, part: String },
    #[error("configPatches path {0:?} replaces the whole config, so its value must be an object")]
    PatchNotAnObject(String),
}

/// The configuration of a plugin: `inline`, or the object in the Secret key `from`
/// (namespace, name, key), then each of `patches` (path, namespace, name, key) applied.
pub(super) fn build<'a>(
    snapshot: &Snapshot,
    inline: Option<&Value>,
    from: Option<(&str, &str, &str)>,
    patches: impl Iterator<Item = (&'a str, &'a str, &'a str, &'a str)>,
) -> Result<Map<String, Value>, PluginConfigError> {
    let mut config = resolve_config(snapshot, inline, from)?;
    for (index, (path, ns, name, key)) in patches.enumerate() {
        config = apply_patch(snapshot, config, path, ns, name, key).map_err(|e| {
            PluginConfigError::Patch {
                index,
                source: Box::new(e),
            }
        })?;
    }
    Ok(config)
}

impl PluginConfigError {
    /// The KongPlugin field the error is about.
    pub fn field(&self) -> String {
        match self {
            PluginConfigError::InlineNotAnObject => "config".into(),
            PluginConfigError::Patch { index, .. } => format!("configPatches[{index}]"),
            _ => "configFrom".into(),
        }
    }
}

/// A Secret value; its content is never put into messages.
fn secret_value(
    snapshot: &Snapshot,
    ns: &str,
    name: &str,
    key: &str,
) -> Result<Vec<u8>, PluginConfigError> {
    let secret = snapshot
        .secret(ns, name)
        .ok_or_else(|| PluginConfigError::SecretNotFound {
            namespace: ns.into(),
            name: name.into(),
        })?;
    crate::translate::secret_values::value(secret, key).ok_or_else(|| {
        PluginConfigError::SecretKeyMissing {
            namespace: ns.into(),
            name: name.into(),
            key: key.into(),
        }
    })
}

fn resolve_config(
    snapshot: &Snapshot,
    inline: Option<&Value>,
    from: Option<(&str, &str, &str)>,
) -> Result<Map<String, Value>, PluginConfigError> {
    if let Some((ns, name, key)) = from {
        let raw = secret_value(snapshot, ns, name, key)?;
        let not_an_object = || PluginConfigError::NotAnObject {
            namespace: ns.into(),
            name: name.into(),
            key: key.into(),
        };
        // JSON is YAML, so one parser reads both formats KIC accepts.
        let value: Value = crate::yaml::from_slice(&raw).map_err(|_| not_an_object())?;
        return match value {
            Value::Object(m) => Ok(m),
            _ => Err(not_an_object()),
        };
    }
    match inline {
        None | Some(Value::Null) => Ok(Map::new()),
        Some(Value::Object(m)) => Ok(m.clone()),
        Some(_) => Err(PluginConfigError::InlineNotAnObject),
    }
}

/// `configPatches`: sets the JSON pointer `path` to the Secret's value, read as JSON. KIC
/// v3.5.13 puts the value into an RFC 6902 `add` as it is, so a value that is not JSON fails
/// the patch and the plugin (`internal/dataplane/kongstate/plugin.go` lines 152-198); missing
/// containers on the way are created (`EnsurePathExistsOnAdd`; [`super::json_patch`]).
fn apply_patch(
    snapshot: &Snapshot,
    config: Map<String, Value>,
    path: &str,
    ns: &str,
    name: &str,
    key: &str,
) -> Result<Map<String, Value>, PluginConfigError> {
    let raw = secret_value(snapshot, ns, name, key)?;
    let text = String::from_utf8(raw).map_err(|_| PluginConfigError::NotUtf8 {
        namespace: ns.into(),
        name: name.into(),
        key: key.into(),
    })?;
    let value: Value =
        serde_json::from_str(&text).map_err(|_| PluginConfigError::PatchValueNotJson {
            namespace: ns.into(),
            name: name.into(),
            key: key.into(),
        })?;
    super::json_patch::add(config, path, value).map_err(|e| match e {
        AddError::NotAbsolute => PluginConfigError::PatchPathNotAbsolute(path.into()),
        AddError::Unreachable(part) => PluginConfigError::PatchThroughNonObject {
            path: path.into(),
            part,
        },
        AddError::NotAnObject => PluginConfigError::PatchNotAnObject(path.into()),
    })
}
