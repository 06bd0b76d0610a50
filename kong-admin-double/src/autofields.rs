//! `process_auto_fields(data, "insert")`: shorthand expansion and defaults,
//! applied before validation like Kong does for nested declarative records.

use crate::errtree::{Key, Node};
use crate::schema::{Record, Ty, validate_field};
use serde_json::{Map, Value};

/// Kong's `process_auto_fields(data, "insert")`: shorthands and defaults.
/// Shorthand type errors are reported into `errs` at the shorthand's name.
pub(crate) fn process(
    r: &Record,
    input: &Map<String, Value>,
    errs: &mut Node,
) -> Map<String, Value> {
    let mut data = input.clone();
    for sh in &r.shorthands {
        let Some(val) = data.remove(sh.name) else {
            continue;
        };
        if let Err(e) = validate_field(&sh.field, &val) {
            errs.set(Key::from(sh.name), e);
            continue;
        }
        if val.is_null() {
            continue;
        }
        for (k, new) in (sh.expand)(&val) {
            let cur = data.get(&k).cloned().unwrap_or(Value::Null);
            let merged = match (new, cur) {
                (Value::Object(n), Value::Object(c)) => {
                    let mut out = if sh.deprecated { n.clone() } else { c.clone() };
                    let top = if sh.deprecated { c } else { n };
                    for (kk, vv) in top {
                        out.insert(kk, vv);
                    }
                    Value::Object(out)
                }
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
    for (name, f) in &r.fields {
        let cur = data.get(*name).cloned();
        let next = match (cur, &f.ty) {
            (None, Ty::Record(sub)) => match &f.default {
                Some(d) => Some(d.clone()),
                None => {
                    let mut sink = Node::table();
                    Some(Value::Object(process(sub, &Map::new(), &mut sink)))
                }
            },
            (None, _) => f.default.clone(),
            (Some(Value::Object(o)), Ty::Record(sub)) => {
                let mut sub_errs = Node::table();
                let out = process(sub, &o, &mut sub_errs);
                if !sub_errs.is_empty() {
                    errs.set(Key::from(*name), sub_errs);
                }
                Some(Value::Object(out))
            }
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

/// Merge errors found while processing into validation errors (validation wins).
pub(crate) fn merge(into: &mut Node, from: Node) {
    if let (Node::Table(a), Node::Table(b)) = (into, from) {
        for (k, v) in b {
            a.entry(k).or_insert(v);
        }
    }
}
