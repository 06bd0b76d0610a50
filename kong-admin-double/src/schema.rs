//! A small port of `kong.db.schema`: typed fields, validators run in Kong's
//! order, defaults and shorthands (`process_auto_fields`), and entity checks.
//! Only the features the supported entities use are implemented.

use crate::errtree::{Key, Node};
use serde_json::{Map, Value};

pub(crate) const REQUIRED: &str = "required field missing";
pub(crate) const UNKNOWN: &str = "unknown field";

pub(crate) type StrFn = fn(&str) -> Result<(), String>;
pub(crate) type RecordFn = fn(&Map<String, Value>) -> Result<(), String>;
pub(crate) type Pat = fn(&str) -> bool;

/// Field types of Kong schemas.
#[derive(Clone)]
pub(crate) enum Ty {
    Str,
    Int,
    Num,
    Bool,
    Any,
    Array(Box<Field>),
    Set(Box<Field>),
    Map(Box<Field>, Box<Field>),
    Record(Box<Record>),
}

/// Validators; `rank` mirrors `Schema.validators_order`.
#[derive(Clone)]
pub(crate) enum Check {
    Eq(Value),
    Ne(Value),
    OneOf(Vec<Value>),
    Gt(f64),
    /// `timestamp = true`: a number greater than 0.
    Timestamp,
    Uuid,
    Between(f64, f64),
    LenEq(usize),
    LenMin(usize),
    StartsWith(&'static str),
    MatchNone(Vec<(Pat, &'static str)>),
    Match(Pat),
    MatchAny(Vec<Pat>, &'static str),
    Custom(StrFn),
    MutuallyExclusiveSubsets(&'static [&'static [&'static str]]),
}

impl Check {
    fn rank(&self) -> u8 {
        match self {
            Check::Eq(_) => 0,
            Check::Ne(_) => 1,
            Check::OneOf(_) => 3,
            Check::Gt(_) => 4,
            Check::Timestamp => 5,
            Check::Uuid => 6,
            Check::Between(..) => 8,
            Check::LenEq(_) => 9,
            Check::LenMin(_) => 10,
            Check::StartsWith(_) => 12,
            Check::MatchNone(_) => 14,
            Check::Match(_) => 15,
            Check::MatchAny(..) => 17,
            Check::Custom(_) => 19,
            Check::MutuallyExclusiveSubsets(_) => 20,
        }
    }
}

/// One schema field.
#[derive(Clone)]
pub(crate) struct Field {
    pub ty: Ty,
    pub required: bool,
    pub default: Option<Value>,
    pub checks: Vec<Check>,
    /// Kong's `err`: replaces the message of a failing validator.
    pub err: Option<&'static str>,
}

impl Field {
    fn of(ty: Ty) -> Field {
        Field {
            ty,
            required: false,
            default: None,
            checks: Vec::new(),
            err: None,
        }
    }
    pub fn string() -> Field {
        Field::of(Ty::Str)
    }
    pub fn integer() -> Field {
        Field::of(Ty::Int)
    }
    pub fn number() -> Field {
        Field::of(Ty::Num)
    }
    pub fn boolean() -> Field {
        Field::of(Ty::Bool)
    }
    pub fn any() -> Field {
        Field::of(Ty::Any)
    }
    pub fn array(elem: Field) -> Field {
        Field::of(Ty::Array(Box::new(elem)))
    }
    pub fn set(elem: Field) -> Field {
        Field::of(Ty::Set(Box::new(elem)))
    }
    pub fn map(keys: Field, values: Field) -> Field {
        Field::of(Ty::Map(Box::new(keys), Box::new(values)))
    }
    pub fn record(r: Record) -> Field {
        Field::of(Ty::Record(Box::new(r)))
    }
    pub fn required(mut self) -> Field {
        self.required = true;
        self
    }
    pub fn default(mut self, v: Value) -> Field {
        self.default = Some(v);
        self
    }
    pub fn check(mut self, c: Check) -> Field {
        self.checks.push(c);
        self.checks.sort_by_key(Check::rank);
        self
    }
    pub fn err(mut self, e: &'static str) -> Field {
        self.err = Some(e);
        self
    }
    pub fn one_of(self, vals: &[&str]) -> Field {
        self.check(Check::OneOf(vals.iter().map(|s| Value::from(*s)).collect()))
    }
    pub fn between(self, lo: f64, hi: f64) -> Field {
        self.check(Check::Between(lo, hi))
    }
    pub fn custom(self, f: StrFn) -> Field {
        self.check(Check::Custom(f))
    }
}

/// Kong's `shorthand_fields`: accepted on input, expanded into real fields.
#[derive(Clone)]
pub(crate) struct Shorthand {
    pub name: &'static str,
    pub field: Field,
    pub expand: fn(&Value) -> Map<String, Value>,
    /// Deprecated shorthands never override a value set on the real field.
    pub deprecated: bool,
}

/// Kong's `then_match`.
#[derive(Clone)]
pub(crate) enum Then {
    Required,
    Checks(Vec<Check>),
}

/// Entity checks (keyed `@entity` in errors).
#[derive(Clone)]
pub(crate) enum EntityCheck {
    Conditional {
        if_field: &'static str,
        if_match: fn(&Value) -> bool,
        then_field: &'static str,
        then: Then,
        then_err: Option<&'static str>,
    },
    AtLeastOneOf(&'static [&'static str]),
    Distinct(&'static [&'static str]),
    MutuallyRequired(&'static [&'static str]),
    /// `custom_entity_check`/`conditional_at_least_one_of`: `fields` gate it
    /// like Kong (skipped when one of them already has an error).
    Custom {
        fields: &'static [&'static str],
        f: RecordFn,
    },
}

/// A record schema (an entity or a nested record field).
#[derive(Clone, Default)]
pub(crate) struct Record {
    pub fields: Vec<(&'static str, Field)>,
    pub checks: Vec<EntityCheck>,
    pub shorthands: Vec<Shorthand>,
    /// A record field's `custom_validator`, run once its fields are valid.
    pub custom: Option<RecordFn>,
}

impl Record {
    pub fn new(fields: Vec<(&'static str, Field)>) -> Record {
        Record {
            fields,
            ..Record::default()
        }
    }
    pub fn field(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|(n, _)| *n == name).map(|(_, f)| f)
    }
    /// Replace (or add) a field, as Kong subschemas do.
    pub fn with_field(mut self, name: &'static str, f: Field) -> Record {
        match self.fields.iter_mut().find(|(n, _)| *n == name) {
            Some(slot) => slot.1 = f,
            None => self.fields.push((name, f)),
        }
        self
    }
}

/// Read a dotted path (`config.redis.host`).
pub(crate) fn get_path<'a>(v: &'a Map<String, Value>, path: &str) -> Option<&'a Value> {
    let mut parts = path.split('.');
    let mut cur = v.get(parts.next()?)?;
    for p in parts {
        cur = cur.as_object()?.get(p)?;
    }
    Some(cur)
}

pub(crate) fn err_at_path(errs: &Node, path: &str) -> bool {
    let mut cur = errs;
    for p in path.split('.') {
        match cur {
            Node::Table(t) => match t.get(&Key::from(p)) {
                Some(n) => cur = n,
                None => return false,
            },
            _ => return false,
        }
    }
    true
}

pub(crate) fn is_null(v: Option<&Value>) -> bool {
    v.is_none_or(Value::is_null)
}

/// Kong's `is_nonempty`: not nil/null and not an empty table.
pub(crate) fn is_nonempty(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null) => false,
        Some(Value::Array(a)) => !a.is_empty(),
        Some(Value::Object(o)) => !o.is_empty(),
        Some(_) => true,
    }
}

pub(crate) fn quoted_list(names: &[&str]) -> String {
    names
        .iter()
        .map(|n| format!("'{n}'"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Lua's `tostring` of a JSON scalar, for messages.
pub(crate) fn lua_str(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::String(s) => s.clone(),
        Value::Number(n) => match n.as_f64() {
            Some(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", f as i64),
            _ => n.to_string(),
        },
        other => other.to_string(),
    }
}

pub(crate) fn as_int(v: &Value) -> Option<i64> {
    match v.as_f64() {
        Some(f) if f.fract() == 0.0 && f.is_finite() => Some(f as i64),
        _ => None,
    }
}

/// An empty JSON object is an empty Lua table, which Kong accepts as an array.
fn as_seq(v: &Value) -> Option<Vec<Value>> {
    match v {
        Value::Array(a) => Some(a.clone()),
        Value::Object(o) if o.is_empty() => Some(Vec::new()),
        _ => None,
    }
}

fn as_record(v: &Value) -> Option<Map<String, Value>> {
    match v {
        Value::Object(o) => Some(o.clone()),
        Value::Array(a) if a.is_empty() => Some(Map::new()),
        _ => None,
    }
}

fn len_of(v: &Value) -> Option<usize> {
    match v {
        Value::String(s) => Some(s.len()),
        _ => as_seq(v).map(|a| a.len()),
    }
}

pub(crate) fn run_check(c: &Check, v: &Value) -> Result<(), String> {
    match c {
        Check::Eq(x) if v != x => Err(format!("value must be {}", lua_str(x))),
        Check::Ne(x) if v == x => Err(format!("value must not be {}", lua_str(x))),
        Check::OneOf(vals) if !vals.iter().any(|x| num_or_eq(x, v)) => Err(format!(
            "expected one of: {}",
            vals.iter().map(lua_str).collect::<Vec<_>>().join(", ")
        )),
        Check::Gt(n) if v.as_f64().is_some_and(|f| f <= *n) => Err(format!(
            "value must be greater than {}",
            lua_str(&Value::from(*n))
        )),
        Check::Timestamp if v.as_f64().is_some_and(|f| f <= 0.0) => {
            Err("expected a valid timestamp".into())
        }
        Check::Uuid if !v.as_str().is_some_and(crate::net::is_uuid) => {
            Err("expected a valid UUID".into())
        }
        Check::Between(lo, hi) if v.as_f64().is_some_and(|f| f < *lo || f > *hi) => Err(format!(
            "value should be between {} and {}",
            *lo as i64, *hi as i64
        )),
        Check::LenEq(n) if len_of(v).is_some_and(|l| l != *n) => Err(format!("length must be {n}")),
        Check::LenMin(n) if len_of(v).is_some_and(|l| l < *n) => {
            Err(format!("length must be at least {n}"))
        }
        Check::StartsWith(p) if v.as_str().is_some_and(|s| !s.starts_with(p)) => {
            Err(format!("should start with: {p}"))
        }
        Check::MatchNone(list) => match v.as_str() {
            Some(s) => match list.iter().find(|(p, _)| p(s)) {
                Some((_, e)) => Err((*e).to_string()),
                None => Ok(()),
            },
            None => Ok(()),
        },
        Check::Match(p) => match v.as_str() {
            Some(s) if !p(s) => Err(format!("invalid value: {s}")),
            _ => Ok(()),
        },
        Check::MatchAny(ps, e) => match v.as_str() {
            Some(s) if !ps.iter().any(|p| p(s)) => Err((*e).to_string()),
            _ => Ok(()),
        },
        Check::Custom(f) => match v.as_str() {
            Some(s) => f(s),
            None => Ok(()),
        },
        Check::MutuallyExclusiveSubsets(subsets) => mutually_exclusive(subsets, v),
        _ => Ok(()),
    }
}

fn num_or_eq(a: &Value, b: &Value) -> bool {
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => x == y,
        _ => a == b,
    }
}

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

/// Kong's `Schema:validate_field`.
pub(crate) fn validate_field(f: &Field, v: &Value) -> Result<(), Node> {
    if v.is_null() {
        if let Some(Check::Eq(x)) = f.checks.iter().find(|c| matches!(c, Check::Eq(_)))
            && !x.is_null()
        {
            return Err(Node::msg(format!("value must be {}", lua_str(x))));
        }
        if f.required {
            return Err(Node::msg(REQUIRED));
        }
        return Ok(());
    }
    match &f.ty {
        Ty::Str if !v.is_string() => return Err(Node::msg("expected a string")),
        Ty::Int if as_int(v).is_none() => return Err(Node::msg("expected an integer")),
        Ty::Num if !v.is_number() => return Err(Node::msg("expected a number")),
        Ty::Bool if !v.is_boolean() => return Err(Node::msg("expected a boolean")),
        Ty::Array(e) | Ty::Set(e) => {
            let Some(items) = as_seq(v) else {
                let what = if matches!(f.ty, Ty::Set(_)) {
                    "set"
                } else {
                    "array"
                };
                return Err(Node::msg(format!(
                    "expected a{} {what}",
                    if what == "array" { "n" } else { "" }
                )));
            };
            let mut errs = Node::table();
            for (i, item) in items.iter().enumerate() {
                // elements are required: a null hole is a missing element
                let res = if item.is_null() {
                    Err(Node::msg(REQUIRED))
                } else {
                    validate_field(e, item)
                };
                if let Err(n) = res {
                    errs.set(Key::Int(i + 1), n);
                }
            }
            if !errs.is_empty() {
                return Err(errs);
            }
        }
        Ty::Map(k, val) => {
            let obj = match v {
                Value::Object(o) => o.clone(),
                Value::Array(a) if a.is_empty() => Map::new(),
                _ => return Err(Node::msg("expected a map")),
            };
            for (key, item) in &obj {
                validate_field(k, &Value::String(key.clone()))?;
                validate_field(val, item)?;
            }
        }
        Ty::Record(r) => {
            let Some(obj) = as_record(v) else {
                return Err(Node::msg("expected a record"));
            };
            let errs = validate_record(r, &obj);
            if !errs.is_empty() {
                return Err(errs);
            }
            if let Some(c) = r.custom {
                c(&obj).map_err(Node::Msg)?;
            }
        }
        _ => {}
    }
    // strings must be non-empty unless the field sets its own length rule
    let implicit_len = matches!(f.ty, Ty::Str)
        && !f
            .checks
            .iter()
            .any(|c| matches!(c, Check::LenMin(_) | Check::LenEq(_)));
    let mut checks = f.checks.clone();
    if implicit_len {
        checks.push(Check::LenMin(1));
        checks.sort_by_key(Check::rank);
    }
    for c in &checks {
        if let Err(e) = run_check(c, v) {
            return Err(Node::Msg(f.err.map(str::to_string).unwrap_or(e)));
        }
    }
    Ok(())
}

/// Kong's `Schema:validate` for one record: field errors, required fields,
/// then entity checks. Returns an empty table when valid.
pub(crate) fn validate_record(r: &Record, v: &Map<String, Value>) -> Node {
    let mut errs = Node::table();
    for (k, val) in v {
        match r.field(k) {
            Some(f) => {
                if let Err(e) = validate_field(f, val) {
                    errs.set(Key::from(k.as_str()), e);
                }
            }
            None => errs.set(Key::from(k.as_str()), Node::msg(UNKNOWN)),
        }
    }
    for (name, f) in &r.fields {
        if f.required && is_null(v.get(*name)) && !errs.has(name) {
            errs.set(Key::from(*name), Node::msg(REQUIRED));
        }
    }
    run_entity_checks(&r.checks, v, &mut errs);
    errs
}

pub(crate) use crate::autofields::{merge, process};
pub(crate) use crate::entity_checks::run_entity_checks;

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rec() -> Record {
        Record::new(vec![
            ("name", Field::string().required()),
            ("n", Field::integer().between(1.0, 5.0)),
            ("p", Field::string().one_of(&["a", "b"]).default(json!("a"))),
            ("tags", Field::set(Field::string())),
        ])
    }

    #[test]
    fn field_errors_in_kong_words() {
        let v = json!({"n": 9, "p": "", "tags": ["x", 1], "zzz": true});
        let errs = validate_record(&rec(), v.as_object().unwrap());
        assert_eq!(
            errs.to_json(),
            json!({
                "name": "required field missing",
                "n": "value should be between 1 and 5",
                "p": "expected one of: a, b",
                "tags": [null, "expected a string"],
                "zzz": "unknown field"
            })
        );
    }

    #[test]
    fn defaults_and_empty_strings() {
        let mut sink = Node::table();
        let out = process(&rec(), json!({"name": ""}).as_object().unwrap(), &mut sink);
        assert_eq!(out.get("p"), Some(&json!("a")));
        let errs = validate_record(&rec(), &out);
        assert_eq!(errs.to_json(), json!({"name": "length must be at least 1"}));
    }
}
