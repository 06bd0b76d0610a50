//! RFC 6902 `add` as KIC applies a `configPatches` entry: evanphx/json-patch v5.9.11 with
//! `EnsurePathExistsOnAdd` (KIC v3.5.13 `internal/dataplane/kongstate/plugin.go` 173-196).
//! The path `""` replaces the whole configuration (KIC uses `replace` there); a missing
//! container on the way is created, an array when the next part is an index or `-` (padded
//! with nulls up to that index), an object otherwise (`ensurePathExists`, patch.go 825-905);
//! the last part adds to an object's member, or inserts into an array (`-` appends).

use serde_json::{Map, Value};

/// Why a patch does not apply: the part of the path at fault.
#[derive(Debug, PartialEq, Eq)]
pub enum AddError {
    /// The path is neither `""` nor starts with `/`.
    NotAbsolute,
    /// A part is not a member or index of what it reaches.
    Unreachable(String),
    /// The result is not an object (only the path `""` can make it so).
    NotAnObject,
}

/// `config` with `value` added at the JSON pointer `path`.
pub fn add(
    config: Map<String, Value>,
    path: &str,
    value: Value,
) -> Result<Map<String, Value>, AddError> {
    if path.is_empty() {
        return match value {
            Value::Object(m) => Ok(m),
            _ => Err(AddError::NotAnObject),
        };
    }
    let parts: Vec<String> = path
        .strip_prefix('/')
        .ok_or(AddError::NotAbsolute)?
        .split('/')
        .map(|p| p.replace("~1", "/").replace("~0", "~"))
        .collect();
    let mut root = Value::Object(config);
    let mut node = &mut root;
    let last = parts.len() - 1;
    for (i, part) in parts.iter().enumerate() {
        let unreachable = || AddError::Unreachable(part.clone());
        if i == last {
            match node {
                Value::Object(m) => {
                    m.insert(part.clone(), value);
                }
                Value::Array(a) if part == "-" => a.push(value),
                Value::Array(a) => match part.parse::<usize>() {
                    Ok(at) if at <= a.len() => a.insert(at, value),
                    _ => return Err(unreachable()),
                },
                _ => return Err(unreachable()),
            }
            break;
        }
        let fresh = || container_for(&parts[i + 1]);
        node = match node {
            Value::Object(m) => {
                if !m.contains_key(part) {
                    m.insert(part.clone(), fresh().ok_or_else(unreachable)?);
                }
                m.get_mut(part).ok_or_else(unreachable)?
            }
            Value::Array(a) => {
                let at: usize = part.parse().map_err(|_| unreachable())?;
                if at >= a.len() {
                    a.resize(at, Value::Null);
                    a.push(fresh().ok_or_else(unreachable)?);
                }
                &mut a[at]
            }
            _ => return Err(unreachable()),
        };
        if !node.is_object() && !node.is_array() {
            return Err(AddError::Unreachable(parts[i + 1].clone()));
        }
    }
    match root {
        Value::Object(m) => Ok(m),
        _ => Err(AddError::NotAnObject),
    }
}

/// The container `ensurePathExists` makes before `next`: an array (with `next` nulls) for an
/// index or `-`, else an object; None for a negative index.
fn container_for(next: &str) -> Option<Value> {
    if next == "-" {
        return Some(Value::Array(Vec::new()));
    }
    match next.parse::<i64>() {
        Ok(n) if n < 0 => None,
        Ok(n) => Some(Value::Array(vec![Value::Null; n as usize])),
        Err(_) => Some(Value::Object(Map::new())),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn patched(config: Value, path: &str, value: Value) -> Result<Value, AddError> {
        let Value::Object(config) = config else {
            panic!("an object");
        };
        add(config, path, value).map(Value::Object)
    }

    #[test]
    fn adds_as_evanphx_json_patch_with_ensure_path_exists() {
        // A new array before an index is padded with nulls up to it (patch.go 880-887).
        assert_eq!(
            patched(json!({}), "/a/2", json!("v")),
            Ok(json!({"a": [null, null, "v"]}))
        );
        assert_eq!(
            patched(json!({"a": {"b": 1}}), "/a/c~1d~0e", json!(2)),
            Ok(json!({"a": {"b": 1, "c/d~e": 2}}))
        );
        assert_eq!(
            patched(json!({"a": ["x"]}), "/a/1", json!("y")),
            Ok(json!({"a": ["x", "y"]}))
        );
        // An index past the end of an existing array, through a string, a negative index,
        // and a whole config that is no object do not apply.
        let no = |config: Value, path: &str, value: Value| {
            assert!(patched(config, path, value).is_err(), "{path}");
        };
        no(json!({"a": ["x"]}), "/a/3", json!("y"));
        no(json!({"a": "s"}), "/a/b", json!(1));
        no(json!({}), "/a/-1/b", json!(1));
        no(json!({}), "", json!(["not", "an", "object"]));
        no(json!({}), "a", json!(1));
    }
}
