//! Reads one upstream, with its targets, from a Kong declarative config.

use std::path::Path;

use serde_json::Value;

use super::ExplainError;
use super::select::Selected;
use crate::kong::config::{FORMAT_VERSION, Upstream};

/// The upstream `name` in the Kong config at `path`. Targets may be nested in the
/// upstream or listed at the top level with an `upstream` reference (name or id).
pub(super) fn select(
    path: &Path,
    name: &str,
    notes: &mut Vec<String>,
) -> Result<Vec<Selected>, ExplainError> {
    let doc = read(path)?;
    let upstream = upstream_in(&doc, path, name, notes)?;
    Ok(vec![Selected {
        source: format!("Kong config {}", path.display()),
        pair_key: upstream.name.clone(),
        upstream,
    }])
}

/// The upstream `name` of the Kong config `doc` (read from `path`), with its targets.
pub(super) fn upstream_in(
    doc: &Value,
    path: &Path,
    name: &str,
    notes: &mut Vec<String>,
) -> Result<Upstream, ExplainError> {
    let shape = |message: &str| ExplainError::KongConfigShape {
        path: path.to_path_buf(),
        message: message.to_string(),
    };
    match doc.get("_format_version").and_then(Value::as_str) {
        Some(FORMAT_VERSION) => {}
        Some(other) => notes.push(format!(
            "note: {}: _format_version is {other:?}; read as {FORMAT_VERSION}",
            path.display()
        )),
        None if doc.is_object() => notes.push(format!(
            "note: {}: no _format_version; read as {FORMAT_VERSION}",
            path.display()
        )),
        None => return Err(shape("expected a mapping at the top level")),
    }
    let upstreams = match doc.get("upstreams") {
        None | Some(Value::Null) => &[][..],
        Some(Value::Array(list)) => list.as_slice(),
        Some(_) => return Err(shape("`upstreams` is not a list")),
    };
    let Some(found) = upstreams
        .iter()
        .find(|u| u.get("name").and_then(Value::as_str) == Some(name))
    else {
        let known: Vec<&str> = upstreams
            .iter()
            .filter_map(|u| u.get("name").and_then(Value::as_str))
            .collect();
        return Err(ExplainError::UpstreamNotFound {
            name: name.to_string(),
            path: path.to_path_buf(),
            known: match known.is_empty() {
                true => "none".to_string(),
                false => known.join(", "),
            },
        });
    };
    let mut found = found.clone();
    let id = found.get("id").and_then(Value::as_str).map(str::to_string);
    if let Some(fields) = found.as_object_mut() {
        // Not needed here, and Kong allows shapes (fractional intervals) the typed
        // config does not, so they must not make the read fail.
        fields.remove("healthchecks");
        let top = doc.get("targets").and_then(Value::as_array);
        let extra = top.into_iter().flatten().filter(|t| {
            let refs = |v: Option<&Value>| {
                v.and_then(Value::as_str)
                    .is_some_and(|r| r == name || Some(r) == id.as_deref())
            };
            let upstream = t.get("upstream");
            refs(upstream)
                || refs(upstream.and_then(|u| u.get("id")))
                || refs(upstream.and_then(|u| u.get("name")))
        });
        let extra: Vec<Value> = extra.cloned().collect();
        if !extra.is_empty() {
            let targets = fields
                .entry("targets")
                .or_insert_with(|| Value::Array(Vec::new()));
            match targets.as_array_mut() {
                Some(list) => list.extend(extra),
                None => return Err(shape("upstream `targets` is not a list")),
            }
        }
    }
    serde_json::from_value(found).map_err(|source| ExplainError::KongConfigUpstream {
        path: path.to_path_buf(),
        name: name.to_string(),
        source,
    })
}

/// JSON when the text starts like JSON, else YAML (deck and Kong write both).
pub(super) fn read(path: &Path) -> Result<Value, ExplainError> {
    let text = std::fs::read_to_string(path).map_err(|source| ExplainError::ReadKongConfig {
        path: path.to_path_buf(),
        source,
    })?;
    match text.trim_start().starts_with(['{', '[']) {
        true => serde_json::from_str(&text).map_err(|source| ExplainError::KongConfigJson {
            path: path.to_path_buf(),
            source,
        }),
        false => crate::yaml::from_str(&text).map_err(|source| ExplainError::KongConfigYaml {
            path: path.to_path_buf(),
            source,
        }),
    }
}
