//! The field validators of `kong.db.schema` (`Schema.validators`), run by
//! `schema::validate_field` in `validators_order`.
//!
//! Sources: Kong 3.10 (22246ef28c) `kong/db/schema/init.lua` (`init.lua:N`):
//! `validation_errors` 63-141, `Schema.validators` 212-385.

use crate::schema::{Check, as_seq, lua_str, quoted_list};
use serde_json::Value;

/// `#value` of make_length_validator (init.lua:162-174): bytes for strings,
/// length for arrays (map fields, which add their pairs, are not handled).
pub(crate) fn len_of(v: &Value) -> Option<usize> {
    match v {
        Value::String(s) => Some(s.len()),
        _ => as_seq(v).map(|a| a.len()),
    }
}

/// One validator; messages from `validation_errors` (init.lua:63-141).
pub(crate) fn run_check(c: &Check, v: &Value) -> Result<(), String> {
    match c {
        // init.lua:221-227, EQ at 78
        Check::Eq(x) if v != x => Err(format!("value must be {}", lua_str(x))),
        // init.lua:229-235, NE at 79
        Check::Ne(x) if v == x => Err(format!("value must not be {}", lua_str(x))),
        // init.lua:316-323, ONE_OF at 92
        Check::OneOf(vals) if !vals.iter().any(|x| num_or_eq(x, v)) => Err(format!(
            "expected one of: {}",
            vals.iter().map(lua_str).collect::<Vec<_>>().join(", ")
        )),
        // init.lua:237-242, GT at 80
        Check::Gt(n) if v.as_f64().is_some_and(|f| f <= *n) => Err(format!(
            "value must be greater than {}",
            lua_str(&Value::from(*n))
        )),
        // init.lua:334-336 returns no message: fallback TIMESTAMP (95) via 1020-1022
        Check::Timestamp if v.as_f64().is_some_and(|f| f <= 0.0) => {
            Err("expected a valid timestamp".into())
        }
        // init.lua:338-343, no message: fallback UUID (96) via 1020-1022
        Check::Uuid if !v.as_str().is_some_and(crate::net::is_uuid) => {
            Err("expected a valid UUID".into())
        }
        // init.lua:214-219, BETWEEN at 81 (`%d`: truncated)
        Check::Between(lo, hi) if v.as_f64().is_some_and(|f| f < *lo || f > *hi) => Err(format!(
            "value should be between {} and {}",
            *lo as i64, *hi as i64
        )),
        // init.lua:244-246, LEN_EQ at 82
        Check::LenEq(n) if len_of(v).is_some_and(|l| l != *n) => Err(format!("length must be {n}")),
        // init.lua:248-250, LEN_MIN at 83
        Check::LenMin(n) if len_of(v).is_some_and(|l| l < *n) => {
            Err(format!("length must be at least {n}"))
        }
        // init.lua:308-314, STARTS_WITH at 90
        Check::StartsWith(p) if v.as_str().is_some_and(|s| !s.starts_with(p)) => {
            Err(format!("should start with: {p}"))
        }
        // init.lua:287-295: the pattern's own `err`
        Check::MatchNone(list) => match v.as_str() {
            Some(s) => match list.iter().find(|(p, _)| p(s)) {
                Some((_, e)) => Err((*e).to_string()),
                None => Ok(()),
            },
            None => Ok(()),
        },
        // init.lua:256-262, MATCH at 85
        Check::Match(p) => match v.as_str() {
            Some(s) if !p(s) => Err(format!("invalid value: {s}")),
            _ => Ok(()),
        },
        // init.lua:297-306: `arg.err`
        Check::MatchAny(ps, e) => match v.as_str() {
            Some(s) if !ps.iter().any(|p| p(s)) => Err((*e).to_string()),
            _ => Ok(()),
        },
        // init.lua:381-383 (Kong: any type; here strings only)
        Check::Custom(f) => match v.as_str() {
            Some(s) => f(s),
            None => Ok(()),
        },
        // init.lua:355-379
        Check::MutuallyExclusiveSubsets(subsets) => mutually_exclusive(subsets, v),
        _ => Ok(()),
    }
}

/// Lua `==` as used by one_of (init.lua:318): numbers compare by value.
fn num_or_eq(a: &Value, b: &Value) -> bool {
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => x == y,
        _ => a == b,
    }
}

/// `mutually_exclusive_subsets` (init.lua:355-379), MUTUALLY_EXCLUSIVE_SETS
/// at 116, sets listed in first-seen order via quoted_list (185-196).
fn mutually_exclusive(subsets: &[&[&str]], v: &Value) -> Result<(), String> {
    let mut member_of: Vec<&[&str]> = Vec::new();
    for item in as_seq(v).unwrap_or_default() {
        let Some(s) = item.as_str() else { continue };
        if let Some(set) = subsets.iter().find(|set| set.contains(&s))
            && !member_of.iter().any(|m| std::ptr::eq(*m, *set))
        {
            member_of.push(set);
        }
    }
    if member_of.len() <= 1 {
        return Ok(());
    }
    let parts: Vec<String> = member_of
        .iter()
        .map(|set| format!("({})", quoted_list(set)))
        .collect();
    Err(format!(
        "these sets are mutually exclusive: {}",
        parts.join(", ")
    ))
}
