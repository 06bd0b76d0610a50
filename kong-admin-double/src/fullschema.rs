//! The second validation pass of Kong's declarative `flatten`.
//!
//! When the config fails validation, Kong validates it again against a
//! "full" schema (`DeclarativeConfig.load(..., include_foreign = true)`)
//! after `populate_ids_for_validation`: foreign keys are real `foreign`
//! fields there, nested entities get their parent's primary key when they
//! name none, and string references (top-level or nested) are swapped for
//! the primary key of the entity they name. If that pass succeeds the config is
//! accepted; otherwise Kong answers the full pass's errors merged with the
//! first pass's `value must be null` errors (`extract_null_errors`).
//!
//! Only foreign keys differ between the passes (and the transformation
//! checks that read them, such as basic-auth's `consumer.id`), so the double
//! derives the second pass from the first: this is how a nested
//! `snis[].certificate: {id}` (what KIC writes) or a top-level `certificate:
//! {id: …}` is accepted although the first pass says `value must be null` /
//! `expected a string`, and a basic-auth credential although the first
//! pass finds no `consumer.id`.
//!
//! Sources: Kong 3.10 kong/db/schema/others/declarative_config.lua
//! (`dc.lua:N` below): `flatten` 851-880, `copy_record` 162-184,
//! `populate_ids_for_validation` 721-789, `extract_null_errors` 792-812;
//! `init.lua:N` is kong/db/schema/init.lua.

use crate::entities::Def;
use crate::errtree::{Key, Node};
use serde_json::{Map, Value};

// EQ with "null" (init.lua:78, 891): nested foreign keys get `eq = null`
// in the first pass (dc.lua:172); the string extract_null_errors keeps (804).
const NULL_ERR: &str = "value must be null";

/// A reference the full schema resolves: (entity, endpoint key or id).
type Ref = (&'static str, String);

/// What the first pass learnt of an entity's foreign keys.
#[derive(Default)]
pub(crate) struct FkInfo {
    /// Foreign keys the entity schema marks `required`.
    pub required: Vec<&'static str>,
    /// Per foreign key, the first pass's transformation errors that a
    /// primary key there would silence.
    pub msgs: Vec<(&'static str, Vec<String>)>,
}

/// What the full schema thinks of each foreign key, gathered per entity.
#[derive(Default)]
pub(crate) struct Pass2 {
    /// First-pass errors the full schema does not report.
    drop: Vec<Vec<Key>>,
    /// The full schema's own errors for foreign keys.
    replace: Vec<(Vec<Key>, Node)>,
    /// Top-level string references: the full schema needs them resolved.
    refs: Vec<(Vec<Key>, &'static str, String)>,
    /// Nested string references: resolved, the first pass's error goes.
    nested_refs: Vec<(Vec<Key>, &'static str, String)>,
    /// `@entity` messages (at an entity's path) that the full schema does not
    /// report once a foreign key has a primary key: always (`None`) or when
    /// a reference resolves.
    msg_drops: Vec<(Vec<Key>, String, Option<Ref>)>,
}

/// `validate_primary_key(value, true)` of a `foreign` field (primary key
/// `id`, a UUID): Kong 3.10 kong/db/schema/init.lua:1532-1566, from the
/// foreign branch of validate_field (963-976). Kong then validates the
/// whole table against the foreign schema (`validate(value, false)`,
/// 967-972) and answers those errors if any; not done here.
fn pk_error(v: &Value) -> Option<Node> {
    let msg = match v.as_object()?.get("id") {
        // init.lua:1543-1544 (MISSING_PK, 125)
        None => "missing primary key",
        // init.lua:1546-1547 (REQUIRED, 100)
        Some(Value::Null) => "required field missing",
        Some(Value::String(s)) if crate::net::is_uuid(s) => return None,
        // init.lua:1551 -> uuid validator 338-343 (UUID, 96)
        Some(Value::String(_)) => "expected a valid UUID",
        // init.lua:1551 -> 986-989 (STRING, 72); Kong: `false` is MISSING_PK (1543)
        Some(_) => "expected a string",
    };
    let mut n = Node::table();
    n.set(Key::from("id"), Node::msg(msg));
    Some(n)
}

impl Pass2 {
    /// Record the foreign keys of one entity at `path`. `parent` is the
    /// parent entity's raw record and the foreign key naming it.
    pub(crate) fn note(
        &mut self,
        def: &Def,
        obj: &Map<String, Value>,
        parent: Option<(&Map<String, Value>, &str)>,
        path: &[Key],
        info: &FkInfo,
    ) {
        for (fk, target) in def.fks {
            let mut fpath = path.to_vec();
            fpath.push(Key::from(*fk));
            let msgs = info
                .msgs
                .iter()
                .filter(|(f, _)| f == fk)
                .flat_map(|(_, m)| m.iter());
            let mut drop_msgs = |cond: Option<Ref>| {
                for m in msgs.clone() {
                    self.msg_drops
                        .push((path.to_vec(), m.clone(), cond.clone()));
                }
            };
            // a nested entity's explicit null is not populated (`not
            // item[child_key]` is false for ngx.null, dc.lua:766), so the
            // full schema's required foreign key is missing (init.lua:884-886)
            if parent.is_some_and(|(_, k)| k == *fk)
                && obj.get(*fk).is_some_and(Value::is_null)
                && info.required.contains(fk)
            {
                self.replace
                    .push((fpath, Node::msg("required field missing")));
                continue;
            }
            let value = obj.get(*fk).filter(|v| !v.is_null());
            // A plugin schema's `consumer = typedefs.no_consumer` (`eq = null`,
            // typedefs.lua:400-405) is loaded before foreign keys are rewritten
            // (dc.lua:1015, 1028-1030), so it holds in the full pass too: the
            // first pass's error stays, and a consumer's nested plugin, whose
            // `consumer` is populated (dc.lua:766-768), fails it (init.lua:890-892).
            if def.name == "plugins"
                && *fk == "consumer"
                && obj
                    .get("name")
                    .and_then(Value::as_str)
                    .is_some_and(crate::plugins::no_consumer)
            {
                if value.is_none() && parent.is_some_and(|(_, k)| k == *fk) {
                    self.replace.push((fpath, Node::msg(NULL_ERR)));
                }
                continue;
            }
            match (parent, value) {
                (Some(_), Some(v)) => {
                    // first pass: `value must be null` (dc.lua:172); full
                    // pass: a foreign key (copy_record keeps it, dc.lua:164-166),
                    // a string resolved to the primary key of the entity it
                    // names (dc.lua:776-784 walks every by_id entry)
                    if v.is_object() && pk_error(v).is_none() {
                        self.drop.push(fpath);
                    } else if let Value::String(s) = v {
                        drop_msgs(Some((target, s.clone())));
                        self.nested_refs.push((fpath, target, s.clone()));
                    }
                }
                (Some((praw, child_key)), None) if child_key == *fk => {
                    // populated with the parent's primary key (dc.lua:766-768)
                    drop_msgs(None);
                    if let Some(pid) = praw.get("id") {
                        let pk = Value::Object(Map::from_iter([("id".to_string(), pid.clone())]));
                        if let Some(e) = pk_error(&pk) {
                            self.replace.push((fpath, e));
                        }
                    }
                }
                (Some(_), None) => {}
                // top-level string reference, resolved to a pk (dc.lua:776-784)
                (None, Some(Value::String(s))) => {
                    drop_msgs(Some((target, s.clone())));
                    self.refs.push((fpath, target, s.clone()));
                }
                (None, Some(v)) if v.is_object() => match pk_error(v) {
                    None => self.drop.push(fpath),
                    Some(e) => self.replace.push((fpath, e)),
                },
                (None, _) => {}
            }
        }
    }

    /// Kong's fallback (dc.lua:860-880): `None` when the full schema accepts
    /// the config,
    /// else the errors Kong answers. `first` is the first pass's error
    /// table; `resolves(entity, key)` tells whether a top-level reference
    /// names an entity (by endpoint key or id).
    pub(crate) fn revalidate(
        &self,
        first: &Node,
        resolves: impl Fn(&str, &str) -> bool,
    ) -> Option<Node> {
        let mut errs = first.clone();
        for p in &self.drop {
            remove(&mut errs, p);
        }
        for (p, e) in &self.replace {
            set(&mut errs, p, e.clone());
        }
        for (p, target, v) in &self.refs {
            if !resolves(target, v) {
                // still a string: validate_primary_key finds no `id`
                // (init.lua:1541-1544, MISSING_PK 125)
                let mut n = Node::table();
                n.set(Key::from("id"), Node::msg("missing primary key"));
                set(&mut errs, p, n);
            }
        }
        // unresolved, the full pass says "missing primary key" there, which
        // the merge below turns back into "value must be null"
        for (p, target, v) in &self.nested_refs {
            if resolves(target, v) {
                remove(&mut errs, p);
            }
        }
        for (p, msg, cond) in &self.msg_drops {
            if cond.as_ref().is_none_or(|(t, v)| resolves(t, v)) {
                remove_msg(&mut errs, p, msg);
            }
        }
        if errs.is_empty() {
            return None;
        }
        // cycle_aware_deep_merge(err2, extract_null_errors(err)) (dc.lua:875)
        let mut nulls = Vec::new();
        null_errors(first, &mut Vec::new(), &mut nulls);
        for p in nulls {
            set(&mut errs, &p, Node::msg(NULL_ERR));
        }
        Some(errs)
    }
}

/// Remove the error at `path`, pruning tables it leaves empty.
fn remove(node: &mut Node, path: &[Key]) {
    let Node::Table(t) = node else { return };
    match path {
        [] => {}
        [last] => {
            t.remove(last);
        }
        [head, rest @ ..] => {
            if let Some(child) = t.get_mut(head) {
                remove(child, rest);
                if matches!(child, Node::Table(c) if c.is_empty()) {
                    t.remove(head);
                }
            }
        }
    }
}

/// Remove one `@entity` message of the entity at `path`, pruning what it
/// leaves empty.
fn remove_msg(node: &mut Node, path: &[Key], msg: &str) {
    let mut at = path.to_vec();
    at.push(Key::from("@entity"));
    let mut cur = &mut *node;
    for k in &at {
        match cur {
            Node::Table(t) => match t.get_mut(k) {
                Some(n) => cur = n,
                None => return,
            },
            _ => return,
        }
    }
    if let Node::List(l) = cur {
        if let Some(i) = l.iter().position(|m| m == msg) {
            l.remove(i);
        }
        if l.is_empty() {
            remove(node, &at);
        }
    }
}

/// `cycle_aware_deep_merge` (Kong 3.10 kong/tools/table.lua:281-296): set
/// `n` at `path`, creating tables on the way.
fn set(node: &mut Node, path: &[Key], n: Node) {
    if let Some((last, parents)) = path.split_last() {
        let mut cur = node;
        for k in parents {
            cur = cur.child(k.clone());
        }
        cur.set(last.clone(), n);
    }
}

/// `extract_null_errors` (dc.lua:792-812): paths of every `value must be
/// null` message.
fn null_errors(node: &Node, path: &mut Vec<Key>, out: &mut Vec<Vec<Key>>) {
    match node {
        Node::Msg(m) if m == NULL_ERR => out.push(path.clone()),
        Node::Table(t) => {
            for (k, v) in t {
                path.push(k.clone());
                null_errors(v, path, out);
                path.pop();
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn primary_keys() {
        assert!(pk_error(&json!({"id": "8aade13c-1470-46bd-9849-9a74e349214f"})).is_none());
        assert!(pk_error(&json!({"id": "8aade13c-1470-46bd-9849-9a74e349214f", "x": 1})).is_none());
        let msg = |v: Value| pk_error(&v).map(|n| n.to_json());
        assert_eq!(msg(json!({})), Some(json!({"id": "missing primary key"})));
        assert_eq!(
            msg(json!({"id": "x"})),
            Some(json!({"id": "expected a valid UUID"}))
        );
        assert_eq!(
            msg(json!({"id": 1})),
            Some(json!({"id": "expected a string"}))
        );
        assert_eq!(msg(json!("x")), None);
    }

    #[test]
    fn remove_prunes_and_nulls_come_back() {
        let mut first = Node::table();
        let p = [Key::from("a"), Key::Int(1), Key::from("fk")];
        set(&mut first, &p, Node::msg(NULL_ERR));
        let mut pass = Pass2::default();
        pass.drop.push(p.to_vec());
        assert_eq!(pass.revalidate(&first, |_, _| true), None);
        set(
            &mut first,
            &[Key::from("b"), Key::Int(2), Key::from("x")],
            Node::msg("bad"),
        );
        let errs = pass.revalidate(&first, |_, _| true).unwrap();
        assert_eq!(errs, first);
    }
}
