//! Kong's entity checkers (`Schema.entity_checkers`); failures go to the
//! record's `@entity` list (or to the checked field for `conditional`).
//!
//! Sources: Kong 3.10 kong/db/schema/init.lua (`init.lua:N` below):
//! checkers 590-822, `run_entity_check` 1262-1363, messages 105-116.

use crate::errtree::Node;
use crate::schema::{
    EntityCheck, REQUIRED, Then, Transformation, err_at_path, get_path, is_nonempty, quoted_list,
    run_check,
};
use serde_json::{Map, Value};

/// `run_entity_checks` (init.lua:1435-1461): the record's checks in order.
pub(crate) fn run_entity_checks(checks: &[EntityCheck], v: &Map<String, Value>, errs: &mut Node) {
    for c in checks {
        // fields of the check: `field_sources` or the argument list
        // (init.lua:1267-1292)
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
        // "Don't run check if any of its fields has errors" (init.lua:1323-1329)
        // holds only for checkers without run_with_invalid_fields:
        // custom_entity_check (773) and mutually_required (781-784).
        // at_least_one_of (594), distinct (700) and conditional (727) run anyway.
        // Not implemented: REQUIRED_FOR_ENTITY_CHECK for nil fields
        // (1294-1307, 1337-1342) and the vault-reference skip (1312-1315).
        let gated = matches!(
            c,
            EntityCheck::MutuallyRequired(_) | EntityCheck::Custom { .. }
        );
        if gated && fields.iter().any(|f| err_at_path(errs, f)) {
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
                // init.lua:731-744: if_match (inheriting the if_field's own
                // definition via __index, 737-739) must validate if_value
                let if_value = get_path(v, if_field).cloned().unwrap_or(Value::Null);
                // Kong validates null against `if_match`, which passes
                // (init.lua:877-887) unless if_match/the field has a
                // non-null `eq` or `required`
                if !if_value.is_null() && !if_match(&if_value) {
                    continue;
                }
                let then_value = get_path(v, then_field).cloned().unwrap_or(Value::Null);
                // The then_field's own error: then_match inherits its definition
                // (init.lua:751-758), so a value that failed it fails here too, and
                // `set_field` (757) writes the same error again.
                let own_error = err_at_path(errs, then_field);
                let failed = match then {
                    // init.lua:746-749 (REQUIRED at 100)
                    Then::Required | Then::RequiredAnd(_) if then_value.is_null() => {
                        Some(Some(REQUIRED.to_string()))
                    }
                    Then::Required => own_error.then_some(None),
                    // null passes then_match unless it has `eq`/`required`
                    // (init.lua:877-887, via 755)
                    Then::Checks(_) if then_value.is_null() => None,
                    // the field's own failure comes first: its type check
                    // (init.lua:986-989) and inherited validators rank before
                    // the `custom_validator` (rank 19) that RequiredAnd adds
                    // (jwt/daos.lua:65), e.g. "" fails the implicit len_min
                    Then::RequiredAnd(_) if own_error => Some(None),
                    // init.lua:751-766
                    Then::Checks(cs) | Then::RequiredAnd(cs) => cs
                        .iter()
                        .find_map(|c| run_check(c, &then_value).err())
                        .map(Some)
                        .or(own_error.then_some(None)),
                };
                if let Some(message) = failed {
                    // set_field(errors, then_field, err): init.lua:747, 757
                    if let Some(fe) = message {
                        errs.set_path(then_field, Node::Msg(fe));
                    }
                    // then_err (init.lua:759-764; Kong formats it with
                    // if_field and ignores it in the `required` branch, 748)
                    // else CONDITIONAL (109) via 1354-1355
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
            // init.lua:592-605, AT_LEAST_ONE_OF at 110
            EntityCheck::AtLeastOneOf(names) => {
                if !names.iter().any(|n| is_nonempty(get_path(v, n))) {
                    errs.push_entity(format!(
                        "at least one of these fields must be non-empty: {}",
                        quoted_list(names)
                    ));
                }
            }
            // init.lua:698-713, DISTINCT at 113 (Kong skips values that are
            // not is_nonempty, 705, and compares tables by identity, 706)
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
            // init.lua:520-535 via 781-784, MUTUALLY_REQUIRED at 114
            EntityCheck::MutuallyRequired(names) => {
                if let Some(e) = mutually_required(v, names) {
                    errs.push_entity(e);
                }
            }
            // custom_entity_check (init.lua:771-779): its message as is
            // (no CUSTOM_ENTITY_CHECK format, 1354-1355). Kong passes only
            // the `field_sources` projection (1320); this passes the record.
            EntityCheck::Custom { f, .. } => {
                if let Err(e) = f(v) {
                    errs.push_entity(e);
                }
            }
        }
    }
}

/// `mutually_required` (init.lua:520-535): `None` when all or none of the
/// fields are non-empty, else MUTUALLY_REQUIRED (114) over all of them.
fn mutually_required(v: &Map<String, Value>, names: &[&str]) -> Option<String> {
    let set = names.iter().filter(|n| is_nonempty(get_path(v, n))).count();
    (set != 0 && set != names.len()).then(|| {
        format!(
            "all or none of these fields must be set: {}",
            quoted_list(names)
        )
    })
}

/// `run_transformation_checks` (init.lua:1465-1524) as `validate` calls it
/// (2166: no `original_input`, no read-before-write entity): when any
/// `input` field is non-empty, `input` and `needs` together must be all set
/// or all unset, then `input` alone (1503-1512). A dotted `needs` such as
/// `consumer.id` reads through the foreign key (`get_field`, 472-482): a
/// string there has no `id`.
pub(crate) fn run_transformation_checks(
    ts: &[Transformation],
    v: &Map<String, Value>,
    errs: &mut Node,
) {
    for t in ts {
        // init.lua:1473-1481
        if !t.input.iter().any(|n| is_nonempty(get_path(v, n))) {
            continue;
        }
        let args: Vec<&str> = t.input.iter().chain(t.needs).copied().collect();
        // init.lua:1503-1512 (MUTUALLY_REQUIRED, 114)
        if let Some(e) = mutually_required(v, &args).or_else(|| mutually_required(v, t.input)) {
            errs.push_entity(e);
        }
    }
}
