//! Kong's entity checkers (`Schema.entity_checkers`); failures go to the
//! record's `@entity` list (or to the checked field for `conditional`).

use crate::errtree::Node;
use crate::schema::{
    EntityCheck, REQUIRED, Then, err_at_path, get_path, is_nonempty, quoted_list, run_check,
};
use serde_json::{Map, Value};

pub(crate) fn run_entity_checks(checks: &[EntityCheck], v: &Map<String, Value>, errs: &mut Node) {
    for c in checks {
        let fields: Vec<&str> = match c {
            EntityCheck::Conditional {
                if_field,
                then_field,
                ..
            } => vec![if_field, then_field],
            EntityCheck::AtLeastOneOf(f)
            | EntityCheck::Distinct(f)
            | EntityCheck::MutuallyRequired(f) => f.to_vec(),
            EntityCheck::Custom { fields, .. } => fields.to_vec(),
        };
        if fields.iter().any(|f| err_at_path(errs, f)) {
            continue;
        }
        match c {
            EntityCheck::Conditional {
                if_field,
                if_match,
                then_field,
                then,
                then_err,
            } => {
                let if_value = get_path(v, if_field).cloned().unwrap_or(Value::Null);
                // Kong validates null against `if_match`, which passes
                if !if_value.is_null() && !if_match(&if_value) {
                    continue;
                }
                let then_value = get_path(v, then_field).cloned().unwrap_or(Value::Null);
                let field_err = match then {
                    Then::Required if then_value.is_null() => Some(REQUIRED.to_string()),
                    Then::Required => None,
                    Then::Checks(_) if then_value.is_null() => None,
                    Then::Checks(cs) => cs.iter().find_map(|c| run_check(c, &then_value).err()),
                };
                if let Some(fe) = field_err {
                    errs.set_path(then_field, Node::Msg(fe));
                    errs.push_entity(match then_err {
                        Some(e) => (*e).to_string(),
                        None => {
                            format!(
                                "failed conditional validation given value of field '{if_field}'"
                            )
                        }
                    });
                }
            }
            EntityCheck::AtLeastOneOf(names) => {
                if !names.iter().any(|n| is_nonempty(get_path(v, n))) {
                    errs.push_entity(format!(
                        "at least one of these fields must be non-empty: {}",
                        quoted_list(names)
                    ));
                }
            }
            EntityCheck::Distinct(names) => {
                let vals: Vec<&Value> = names
                    .iter()
                    .filter_map(|n| get_path(v, n))
                    .filter(|x| !x.is_null())
                    .collect();
                let dup = vals
                    .iter()
                    .enumerate()
                    .any(|(i, a)| vals[i + 1..].iter().any(|b| a == b));
                if dup {
                    errs.push_entity(format!(
                        "values of these fields must be distinct: {}",
                        quoted_list(names)
                    ));
                }
            }
            EntityCheck::MutuallyRequired(names) => {
                let set = names.iter().filter(|n| is_nonempty(get_path(v, n))).count();
                if set != 0 && set != names.len() {
                    errs.push_entity(format!(
                        "all or none of these fields must be set: {}",
                        quoted_list(names)
                    ));
                }
            }
            EntityCheck::Custom { f, .. } => {
                if let Err(e) = f(v) {
                    errs.push_entity(e);
                }
            }
        }
    }
}
