//! What Kong would hold after accepting a configuration: the `entities`
//! table of Kong 3.10 kong/db/schema/others/declarative_config.lua
//! (`flatten`, 904-950). No validation rules live here.

use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// An accepted declarative configuration, flattened like Kong stores it:
/// every entity (nested ones included) in its own list, with defaults,
/// ids, `{"id": ...}` foreign keys, normalized targets and the upstream
/// algorithm Kong actually runs.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ValidConfig {
    /// `_format_version` as given.
    pub format_version: String,
    /// Silent rewrites worth knowing about (e.g. algorithm overrides).
    /// The double's own report; Kong's response has no such field.
    pub warnings: Vec<String>,
    entities: BTreeMap<String, Vec<Value>>,
}

impl ValidConfig {
    pub(crate) fn new(format_version: String) -> ValidConfig {
        ValidConfig {
            format_version,
            ..ValidConfig::default()
        }
    }

    pub(crate) fn push(&mut self, ty: &str, e: Value) {
        self.entities.entry(ty.to_string()).or_default().push(e);
    }

    /// Entities of a type (`"services"`, `"routes"`, ...), in Kong's order.
    pub fn entities(&self, ty: &str) -> &[Value] {
        self.entities.get(ty).map_or(&[], Vec::as_slice)
    }

    pub fn services(&self) -> &[Value] {
        self.entities("services")
    }
    pub fn routes(&self) -> &[Value] {
        self.entities("routes")
    }
    pub fn upstreams(&self) -> &[Value] {
        self.entities("upstreams")
    }
    pub fn targets(&self) -> &[Value] {
        self.entities("targets")
    }
    pub fn plugins(&self) -> &[Value] {
        self.entities("plugins")
    }
    pub fn consumers(&self) -> &[Value] {
        self.entities("consumers")
    }

    /// The entity of `ty` whose `name` (or `username`) is `name`.
    pub fn find(&self, ty: &str, name: &str) -> Option<&Value> {
        self.entities(ty).iter().find(|e| {
            e.get("name").and_then(Value::as_str) == Some(name)
                || e.get("username").and_then(Value::as_str) == Some(name)
        })
    }

    pub fn upstream(&self, name: &str) -> Option<&Value> {
        self.find("upstreams", name)
    }
    pub fn service(&self, name: &str) -> Option<&Value> {
        self.find("services", name)
    }
    pub fn route(&self, name: &str) -> Option<&Value> {
        self.find("routes", name)
    }

    /// Targets attached to the named upstream.
    pub fn targets_of(&self, upstream: &str) -> Vec<&Value> {
        let Some(id) = self.upstream(upstream).and_then(|u| u.get("id")) else {
            return Vec::new();
        };
        self.targets()
            .iter()
            .filter(|t| t.get("upstream").and_then(|u| u.get("id")) == Some(id))
            .collect()
    }

    /// Number of entities across all types.
    pub fn len(&self) -> usize {
        self.entities.values().map(Vec::len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The `201` body of `POST /config`: entities keyed by type, then id
    /// (declarative_config.lua:911, 950; Kong 3.10 kong/api/routes/config.lua
    /// 188-189 after `sanitize_output`, kong/db/declarative/export.lua:354-362,
    /// drops `workspaces` and `ws_id`).
    pub fn to_kong_json(&self) -> Value {
        let mut out = Map::new();
        for (ty, list) in &self.entities {
            let mut by_id = Map::new();
            for e in list {
                let id = e.get("id").and_then(Value::as_str).unwrap_or_default();
                by_id.insert(id.to_string(), e.clone());
            }
            out.insert(ty.clone(), Value::Object(by_id));
        }
        Value::Object(out)
    }
}
