//! `validate_references` and flatten's final uniqueness pass of Kong's
//! declarative loader: endpoint-key and primary-key collisions, foreign
//! keys that name no entity, and other `unique` fields.
//!
//! Line references are to Kong 3.10 (master 22246ef28c)
//! kong/db/schema/others/declarative_config.lua unless noted.

use crate::declarative::{Ctx, Item};
use crate::entities;
use crate::errtree::{Key, Node};
use serde_json::Value;
use std::collections::HashMap;

/// `unique = true` fields that are not unique endpoint keys, which only
/// flatten's final pass checks (declarative_config.lua:928-943): `custom_id`
/// (consumers.lua:26) and `cert_digest` (ca_certificates.lua:21). `username`
/// (consumers.lua:18) and the other endpoint keys collide earlier (414-424).
const UNIQUE_FIELDS: &[(&str, &str)] = &[
    ("consumers", "custom_id"),
    ("ca_certificates", "cert_digest"),
];

/// `uniqueness_error_msg`: declarative_config.lua:360-363.
fn uniqueness_msg(entity: &str, key: &str, value: &str) -> String {
    format!("uniqueness violation: '{entity}' entity with {key} set to '{value}' already declared")
}

pub(crate) struct Refs {
    by_key: HashMap<(&'static str, String), usize>,
    by_id: HashMap<(&'static str, String), usize>,
    /// (entity, fk, target, key to look up, the value as Kong prints it)
    expected: Vec<(usize, &'static str, &'static str, Option<String>, String)>,
}

/// `add_error` (declarative_config.lua:365-380): a nested entity's error
/// goes under its parent, `errs[parent][i][entity][j]`, else `errs[entity][j]`.
fn add_error(ctx: &mut Ctx, idx: usize, msg: String) {
    let it = &ctx.items[idx];
    let (name, index) = (it.def.name, it.index);
    let node = match it.parent {
        Some(p) => {
            let parent = &ctx.items[p];
            ctx.errs
                .child(Key::from(parent.def.name))
                .child(Key::Int(parent.index))
                .child(Key::from(name))
        }
        None => ctx.errs.child(Key::from(name)),
    };
    node.set(Key::Int(index), Node::Msg(msg));
}

/// `populate_references`: post-order (children first, declarative_config.lua:411),
/// like Kong (382-461).
fn populate(ctx: &mut Ctx, idx: usize, refs: &mut Refs) {
    for c in ctx.items[idx].children.clone() {
        populate(ctx, c, refs);
    }
    let it = &ctx.items[idx];
    let name = it.def.name;
    let mut failed = false;
    // endpoint key, when unique: declarative_config.lua:405-406, 414-424
    // (add_to_by_key 342-357)
    if let Some(k) = it.def.unique_key
        && let Some(val) = it.data.get(k).and_then(Value::as_str)
    {
        if let std::collections::hash_map::Entry::Vacant(slot) =
            refs.by_key.entry((name, val.to_string()))
        {
            slot.insert(idx);
        } else {
            let msg = uniqueness_msg(name, k, val);
            add_error(ctx, idx, msg);
            failed = true;
        }
    }
    let it = &ctx.items[idx];
    // primary key: declarative_config.lua:426-436 (Kong records the item in
    // by_id even when the endpoint key failed, 432-434; not here)
    if !failed && refs.by_id.contains_key(&(name, it.id.clone())) {
        let msg = uniqueness_msg(name, "primary key", &it.id);
        add_error(ctx, idx, msg);
    } else if !failed {
        refs.by_id.insert((name, it.id.clone()), idx);
    }
    let it = &ctx.items[idx];
    // foreign keys to resolve later: declarative_config.lua:438-452 (null skipped, 441)
    for (fk, target) in it.def.fks {
        match it.data.get(*fk) {
            Some(Value::String(v)) => {
                refs.expected
                    .push((idx, fk, target, Some(v.clone()), v.clone()));
            }
            // a primary key (`{id = ...}`): looked up by its id, shown as JSON
            Some(v @ Value::Object(o)) => {
                let key = o.get("id").and_then(Value::as_str).map(str::to_string);
                refs.expected.push((idx, fk, target, key, v.to_string()));
            }
            _ => {}
        }
    }
}

/// Where Kong files a reference error: `at = key or item_id or i`
/// (declarative_config.lua:448). Kong's `key` is the processed endpoint key,
/// which is ngx.null when unset (process_auto_fields, init.lua:1056-1058),
/// so Kong files under null there; here the id is used.
fn at_key(it: &Item) -> String {
    it.def
        .unique_key
        .and_then(|k| it.data.get(k))
        .and_then(Value::as_str)
        .map_or_else(|| it.id.clone(), str::to_string)
}

/// `find_entity`: declarative_config.lua:464-467 (by key, then by id).
pub(crate) fn resolve(refs: &Refs, target: &str, v: &str) -> Option<usize> {
    let t = entities::def(target)?.name;
    refs.by_key
        .get(&(t, v.to_string()))
        .or_else(|| refs.by_id.get(&(t, v.to_string())))
        .copied()
}

/// `validate_references`: declarative_config.lua:470-507.
pub(crate) fn check_references(ctx: &mut Ctx) -> Refs {
    let mut refs = Refs {
        by_key: HashMap::new(),
        by_id: HashMap::new(),
        expected: Vec::new(),
    };
    for r in ctx.roots.clone() {
        populate(ctx, r, &mut refs);
    }
    for (idx, fk, target, key, v) in refs.expected.clone() {
        if key.and_then(|k| resolve(&refs, target, &k)).is_none() {
            let it = &ctx.items[idx];
            // declarative_config.lua:489-497 (tables shown with cjson_encode, 494)
            let msg = format!("invalid reference '{fk}: {v}' (no such entry in '{target}')");
            let key = at_key(it);
            let node = ctx.errs.child(Key::from(it.def.name)).child(Key::Str(key));
            match node {
                Node::Table(t) if t.is_empty() => *node = Node::List(vec![msg]),
                Node::List(l) => l.push(msg),
                _ => *node = Node::List(vec![msg]),
            }
        }
    }
    // flatten returns validate_references' errors first, without reaching
    // its final pass (declarative_config.lua:890-893)
    if !ctx.errs.is_empty() {
        return refs;
    }
    // unique fields besides endpoint keys (flatten's final pass,
    // declarative_config.lua:928-943), compared by value (get_unique_key,
    // 839-848: ws-prefixed or not, equal values collide either way). Kong
    // keys the error by the endpoint key or id (936-938) but rebuilds
    // errs[entity] for each hit (935, `errors[entity]` is nil: `errors` is
    // the Errors object, line 31), so only the entity's last hit is kept.
    let mut seen: HashMap<(&str, &str, String), usize> = HashMap::new();
    let mut last: Vec<(&'static str, String, String)> = Vec::new();
    for idx in 0..ctx.items.len() {
        let it = &ctx.items[idx];
        let name = it.def.name;
        for field in UNIQUE_FIELDS
            .iter()
            .filter(|(e, _)| *e == name)
            .map(|(_, f)| *f)
        {
            // `flat_value and flat_value ~= null` (930): strings only here,
            // both fields being `type = "string"`
            let Some(v) = it.data.get(field).and_then(Value::as_str) else {
                continue;
            };
            if seen.insert((name, field, v.to_string()), idx).is_some() {
                let msg = uniqueness_msg(name, field, v);
                last.retain(|(e, _, _)| *e != name);
                last.push((name, at_key(it), msg));
            }
        }
    }
    for (name, key, msg) in last {
        ctx.errs
            .child(Key::from(name))
            .set(Key::Str(key), Node::Msg(msg));
    }
    refs
}
