//! The error bodies `POST /config` answers with (`kong/db/errors.lua`):
//! `declarative_config` and `declarative_config_flattened`.
//!
//! Sources: Kong 3.10 kong/db/errors.lua (`errors.lua:N` below);
//! kong/api/routes/config.lua:141-148 picks the body (`flatten_errors`
//! query flag, 71) and answers 400.

use crate::errtree::{Key, Node};
use serde_json::{Map, Value, json};

/// Kong's error code for an invalid declarative configuration
/// (errors.lua:52, `DECLARATIVE_CONFIG = 14`).
pub const DECLARATIVE_CONFIG_CODE: i64 = 14;

/// A declarative configuration Kong would refuse.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("declarative config is invalid: {}", .fields.to_lua())]
pub struct ConfigError {
    /// Kong's nested error table (`err_t`), as in the `fields` body.
    pub fields: Node,
    /// The (migrated) input, used to correlate flattened errors.
    input: Value,
}

impl ConfigError {
    pub(crate) fn new(fields: Node, input: Value) -> ConfigError {
        ConfigError { fields, input }
    }

    /// `fields` as JSON (cjson encoding).
    pub fn fields_json(&self) -> Value {
        self.fields.to_json()
    }

    /// Body without `flatten_errors`: `{code, name, message, fields}`.
    pub fn to_kong_json(&self) -> Value {
        body(&self.fields)
    }

    /// Body with `flatten_errors=1`: errors correlated with entities.
    /// Like Kong, errors it cannot attach to an entity by index stay in
    /// `fields` only when their section is not an entity list; reference
    /// errors (keyed by name/id) are dropped from the body, as Kong does.
    pub fn to_kong_flattened_json(&self) -> Value {
        let mut remaining = self.fields.clone();
        let flattened = flatten(&self.input, &mut remaining);
        let mut b = body(&remaining);
        if let Value::Object(m) = &mut b {
            m.insert("flattened_errors".into(), Value::Array(flattened));
        }
        b
    }

    /// Just the `flattened_errors` array.
    pub fn flattened_errors(&self) -> Vec<Value> {
        let mut remaining = self.fields.clone();
        flatten(&self.input, &mut remaining)
    }
}

/// `_M:declarative_config` (errors.lua:495-504) through `new_err_t`
/// (123-166): no `strategy` key, as config.lua uses the module itself.
fn body(fields: &Node) -> Value {
    let fields_json = match fields.to_json() {
        Value::Array(a) if a.is_empty() => json!({}),
        v => v,
    };
    json!({
        "code": DECLARATIVE_CONFIG_CODE,
        // errors.lua:80 (ERRORS_NAMES) and 500-501 (message)
        "name": "invalid declarative configuration",
        "message": format!("declarative config is invalid: {}", fields.to_lua()),
        "fields": fields_json,
    })
}

/// (entity, fk field, referenced entity) — Kong's `each_foreign_field`
/// (errors.lua:570-642): built from every DAO's `foreign` fields (578-617),
/// in `pairs(kong.db.daos)` order; only the double's entities are listed.
const RELATIONS: &[(&str, &str, &str)] = &[
    ("services", "client_certificate", "certificates"),
    ("routes", "service", "services"),
    ("plugins", "service", "services"),
    ("plugins", "route", "routes"),
    ("plugins", "consumer", "consumers"),
    ("upstreams", "client_certificate", "certificates"),
    ("targets", "upstream", "upstreams"),
    ("snis", "certificate", "certificates"),
    ("acls", "consumer", "consumers"),
    ("basicauth_credentials", "consumer", "consumers"),
    ("keyauth_credentials", "consumer", "consumers"),
    ("hmacauth_credentials", "consumer", "consumers"),
    ("jwt_secrets", "consumer", "consumers"),
    ("oauth2_credentials", "consumer", "consumers"),
];

/// errors.lua:550-555.
fn singular(noun: &str) -> String {
    noun.strip_suffix('s').unwrap_or(noun).to_string()
}

/// Kong's `drain`: keys sorted, then popped from the end (reverse order)
/// (errors.lua:684-733: `sort` 730, `remove(state)` 685).
fn drain(t: &mut std::collections::BTreeMap<Key, Node>) -> Vec<(Key, Node)> {
    let mut all: Vec<(Key, Node)> = std::mem::take(t).into_iter().collect();
    all.reverse();
    all
}

fn key_str(k: &Key) -> String {
    match k {
        Key::Int(i) => i.to_string(),
        Key::Str(s) => s.clone(),
    }
}

/// errors.lua:803-807 (`validate_id`, 775-780: `uuid.is_valid_uuid`).
fn make_pk(v: &Value) -> Option<Value> {
    v.get("id")
        .and_then(Value::as_str)
        .filter(|s| crate::net::is_uuid(s))
        .map(|id| json!({"id": id}))
}

/// `categorize_errors` (errors.lua:739-760): `@entity` -> entity errors
/// (647-659), strings -> field errors at the dotted path (665-678, join
/// 558-563), tables recurse. (A list at a field key would recurse as
/// `field.1` in Kong; the double never builds one.)
fn categorize(errs: Node, ns: &str, out: &mut Vec<Value>) {
    let Node::Table(mut t) = errs else { return };
    for (k, err) in drain(&mut t) {
        let field = key_str(&k);
        let path = if ns.is_empty() {
            field.clone()
        } else {
            format!("{ns}.{field}")
        };
        match (field.as_str(), err) {
            ("@entity", Node::List(l)) => out.extend(
                l.into_iter()
                    .map(|m| json!({"type": "entity", "message": m})),
            ),
            ("@entity", Node::Msg(m)) => out.push(json!({"type": "entity", "message": m})),
            (_, Node::Msg(m)) => out.push(json!({"type": "field", "field": path, "message": m})),
            (_, Node::List(l)) => out.extend(
                l.into_iter()
                    .map(|m| json!({"type": "field", "field": path, "message": m})),
            ),
            (_, t @ Node::Table(_)) => categorize(t, &path, out),
        }
    }
}

/// `add_entity_errors` (errors.lua:814-1033).
fn add_entity_errors(ty: &str, mut entity: Value, err: Node, out: &mut Vec<Value>) {
    // a string becomes `@entity` (errors.lua:818-823)
    let mut err = match err {
        Node::Msg(m) => {
            let mut t = Node::table();
            t.set(Key::from("@entity"), Node::Msg(m));
            t
        }
        t @ Node::Table(_) if !t.is_empty() => t,
        _ => return,
    };
    let Some(obj) = entity.as_object_mut() else {
        return;
    };
    let pk = make_pk(&Value::Object(obj.clone()));
    for (ent, fk, reference) in RELATIONS {
        let Node::Table(t) = &mut err else { break };
        if *ent == ty {
            // own foreign key: errors.lua:882-899
            if let Some(fv) = obj.get(*fk).filter(|v| v.is_object()).cloned() {
                match make_pk(&fv) {
                    Some(p) => obj.insert((*fk).to_string(), p),
                    None => obj.remove(*fk),
                };
                if let Some(fe) = t.remove(&Key::from(*fk)) {
                    add_entity_errors(reference, fv, fe, out);
                }
            }
        } else if *reference == ty {
            // nested children: errors.lua:980-1003 (Kong takes any table,
            // an object too; fk filled only when nil, 996-998)
            let Some(children) = obj.get(*ent).and_then(Value::as_array).cloned() else {
                continue;
            };
            obj.remove(*ent);
            let Some(Node::Table(mut ce)) = t.remove(&Key::from(*ent)) else {
                continue;
            };
            for (i, mut child) in children.into_iter().enumerate() {
                if let (Some(c), Some(p)) = (child.as_object_mut(), &pk)
                    && !c.contains_key(*fk)
                {
                    c.insert((*fk).to_string(), p.clone());
                }
                if let Some(e) = ce.remove(&Key::Int(i + 1)) {
                    add_entity_errors(ent, child, e, out);
                }
            }
        }
    }
    // errors.lua:1009-1011
    if err.is_empty() {
        return;
    }
    let mut errors = Vec::new();
    categorize(err, "", &mut errors);
    if errors.is_empty() {
        return;
    }
    // errors.lua:1013-1027 (entity_name 765-771, entity_id 775-780,
    // entity_tags 785-795)
    let mut e = Map::new();
    e.insert("entity".into(), entity.clone());
    if let Some(id) = entity
        .get("id")
        .and_then(Value::as_str)
        .filter(|s| crate::net::is_uuid(s))
    {
        e.insert("entity_id".into(), json!(id));
    }
    if let Some(n) = entity
        .get("name")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
    {
        e.insert("entity_name".into(), json!(n));
    }
    if let Some(tags) = entity.get("tags").and_then(Value::as_array)
        && tags.iter().all(Value::is_string)
    {
        e.insert("entity_tags".into(), Value::Array(tags.clone()));
    }
    e.insert("entity_type".into(), json!(singular(ty)));
    e.insert("errors".into(), Value::Array(errors));
    out.push(Value::Object(e));
}

/// Kong's `flatten_errors` (errors.lua:1039-1074), called by
/// `declarative_config_flattened` (1170-1186): moves every error it can pin
/// on an entity of `input` into the returned list; the rest stays in
/// `fields`. Non-table sections/inputs are put back (1043-1055).
fn flatten(input: &Value, fields: &mut Node) -> Vec<Value> {
    let mut out = Vec::new();
    let Node::Table(t) = fields else { return out };
    let mut keep = std::collections::BTreeMap::new();
    for (k, section) in drain(t) {
        let entities = input.get(key_str(&k)).and_then(Value::as_array);
        let (Node::Table(mut st), Some(entities)) = (section.clone(), entities) else {
            keep.insert(k, section);
            continue;
        };
        for (i, e) in drain(&mut st) {
            // errors keyed by name or id cannot be resolved and are lost:
            // Kong puts them back into the already drained section table
            // (errors.lua:1062-1066), which is no longer in `err_t`
            if let Key::Int(i) = i
                && let Some(entity) = entities.get(i - 1).filter(|v| v.is_object())
            {
                add_entity_errors(&key_str(&k), entity.clone(), e, &mut out);
            }
        }
    }
    *t = keep;
    out
}
