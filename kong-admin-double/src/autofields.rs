//! `process_auto_fields(data, "insert")`: shorthand expansion and defaults,
//! applied before validation like Kong does for nested declarative records
//! (validate_field's record branch, Kong 3.10 kong/db/schema/init.lua:956).
//!
//! Sources: Kong 3.10 kong/db/schema/init.lua (`init.lua:N` below):
//! `process_auto_fields` 1805-2053, `adjust_field_for_context` 1645-1690,
//! `handle_missing_field` 1037-1073.

use crate::errtree::{Key, Node};
use crate::schema::{Record, Ty, validate_field};
use serde_json::{Map, Value};

/// Kong's `process_auto_fields(data, "insert")`: shorthands and defaults.
/// Shorthand type errors are reported into `errs` at the shorthand's name
/// (init.lua:1823-1826). Kong then returns `nil, errs` (1880-1882), which
/// validate_field discards (956-958). Not done: auto `id`/timestamps
/// (1908-1940), set de-duplication (make_set, 1606-1633 via 1670).
pub(crate) fn process(
    r: &Record,
    input: &Map<String, Value>,
    errs: &mut Node,
) -> Map<String, Value> {
    let mut data = input.clone();
    for sh in &r.shorthands {
        // only when present (init.lua:1821-1822)
        let Some(val) = data.remove(sh.name) else {
            continue;
        };
        // init.lua:1823-1826
        if let Err(e) = validate_field(&sh.field, &val) {
            errs.set(Key::from(sh.name), e);
            continue;
        }
        // Kong calls `func` with null too (1834-1835); skipped here.
        // Not done: validate_deprecation_exclusiveness (1828-1832, 1745-1788).
        if val.is_null() {
            continue;
        }
        // init.lua:1835-1857
        for (k, new) in (sh.expand)(&val) {
            let cur = data.get(&k).cloned().unwrap_or(Value::Null);
            let merged = match (new, cur) {
                // tables: deprecated -> null_aware_table_merge(v, source),
                // else table_merge(source, v) (init.lua:1845-1851; Kong 3.10
                // kong/tools/table.lua:32-68). null_aware_table_merge keeps
                // the shorthand's value over a null in the real field; here
                // the null wins.
                (Value::Object(n), Value::Object(c)) => {
                    let mut out = if sh.deprecated { n.clone() } else { c.clone() };
                    let top = if sh.deprecated { c } else { n };
                    for (kk, vv) in top {
                        out.insert(kk, vv);
                    }
                    Value::Object(out)
                }
                // scalars: init.lua:1853-1854
                (new, Value::Null) => new,
                (new, cur) => {
                    if sh.deprecated {
                        cur
                    } else {
                        new
                    }
                }
            };
            data.insert(k, merged);
        }
    }
    // fields: adjust_field_for_context (init.lua:1943, 1645-1690)
    for (name, f) in &r.fields {
        let cur = data.get(*name).cloned();
        let next = match (cur, &f.ty) {
            // missing record: default, else its own defaults
            // (handle_missing_field, init.lua:1039-1048, 1066-1069). Kong
            // expands only `required` records, otherwise null (1056-1058);
            // entity records are required by default (Kong 3.10
            // kong/db/schema/entity.lua:15-24).
            (None, Ty::Record(sub)) => match &f.default {
                Some(d) => Some(d.clone()),
                None => {
                    let mut sink = Node::table();
                    Some(Value::Object(process(sub, &Map::new(), &mut sink)))
                }
            },
            // init.lua:1039-1048; Kong sets null when there is no default
            // (1056-1058), here the field stays absent
            (None, _) => f.default.clone(),
            // init.lua:1654-1661
            (Some(Value::Object(o)), Ty::Record(sub)) => {
                let mut sub_errs = Node::table();
                let out = process(sub, &o, &mut sub_errs);
                if !sub_errs.is_empty() {
                    errs.set(Key::from(*name), sub_errs);
                }
                Some(Value::Object(out))
            }
            // elements: init.lua:1663-1682 (Kong also recurses into map values)
            (Some(Value::Array(items)), Ty::Array(e) | Ty::Set(e)) => match &e.ty {
                Ty::Record(sub) => Some(Value::Array(
                    items
                        .iter()
                        .map(|it| match it {
                            Value::Object(o) => Value::Object(process(sub, o, &mut Node::table())),
                            other => other.clone(),
                        })
                        .collect(),
                )),
                _ => Some(Value::Array(items)),
            },
            (Some(v), _) => Some(v),
        };
        if let Some(v) = next {
            data.insert((*name).to_string(), v);
        }
    }
    data
}

/// Merge errors found while processing into validation errors (validation
/// wins). No Kong counterpart: Kong discards process_auto_fields errors
/// (init.lua:956) and `validate(nil)` then raises (2140 / 1196).
pub(crate) fn merge(into: &mut Node, from: Node) {
    if let (Node::Table(a), Node::Table(b)) = (into, from) {
        for (k, v) in b {
            a.entry(k).or_insert(v);
        }
    }
}
