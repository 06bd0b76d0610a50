//! A small port of `kong.db.schema`: typed fields, validators run in Kong's
//! order, defaults and shorthands (`process_auto_fields`), and entity checks.
//! Only the features the supported entities use are implemented.
//!
//! Sources: Kong 3.10 (22246ef28c) `kong/db/schema/init.lua`, cited below
//! as `init.lua:N`: `validation_errors` 63-141, `Schema.validators` 212-385,
//! `validators_order` 388-420, `validate_field` 874-1030, `validate_fields`
//! 1195-1240, `Schema:validate` 2133-2172.

use crate::errtree::{Key, Node};
use serde_json::{Map, Value};

pub(crate) const REQUIRED: &str = "required field missing"; // init.lua:100 (REQUIRED)
pub(crate) const UNKNOWN: &str = "unknown field"; // init.lua:102 (UNKNOWN), raised at 1123

pub(crate) type StrFn = fn(&str) -> Result<(), String>;
pub(crate) type RecordFn = fn(&Map<String, Value>) -> Result<(), String>;
pub(crate) type Pat = fn(&str) -> bool;

/// Field types of Kong schemas: `Schema.valid_types` (init.lua:144-156);
/// `Any` is Kong's internal "any" type, validators only (init.lua:1009-1012).
/// No `foreign`/`json`/`function`: foreign keys are handled by the callers.
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

/// Validators: the field attributes of Kong's metaschema (Kong 3.10
/// kong/db/schema/metaschema.lua:47-69), implemented in `Schema.validators`
/// (init.lua:212-385); `rank` mirrors `Schema.validators_order`.
/// Not implemented as `Check`s: not_one_of (only in `if_match`, a predicate
/// here), is_regex, len_max, not_match, contains; `match_all` (routes `hosts`,
/// Kong 3.10 typedefs.lua:579) is written as a negated `MatchNone` (rank 14
/// instead of 16; same outcome there as the field has no `match`).
#[derive(Clone)]
pub(crate) enum Check {
    Eq(Value),         // init.lua:221-227 (+ null handling 881-892)
    Ne(Value),         // init.lua:229-235
    OneOf(Vec<Value>), // init.lua:316-323
    Gt(f64),           // init.lua:237-242
    /// `timestamp = true`: a number greater than 0 (init.lua:334-336).
    Timestamp,
    Uuid,                     // init.lua:338-343 (uuid_regex 159, case-insensitive "ioj")
    Between(f64, f64),        // init.lua:214-219
    LenEq(usize),             // init.lua:244-246 (make_length_validator 162-174)
    LenMin(usize),            // init.lua:248-250
    StartsWith(&'static str), // init.lua:308-314
    /// `match_none = {{pattern, err}}`: the first matching pattern's `err` (init.lua:287-295).
    MatchNone(Vec<(Pat, &'static str)>),
    /// `match`: a Lua pattern, here a predicate (init.lua:256-262).
    Match(Pat),
    /// `match_any = {patterns, err}` (init.lua:297-306).
    MatchAny(Vec<Pat>, &'static str),
    /// `custom_validator` (init.lua:381-383); Kong calls it for any type,
    /// the double only for strings (see `run_check`).
    Custom(StrFn),
    MutuallyExclusiveSubsets(&'static [&'static [&'static str]]), // init.lua:355-379
}

impl Check {
    /// 0-based index in `Schema.validators_order` (init.lua:389-419).
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
    /// Kong's `err` (metaschema.lua:191): replaces the message of a failing
    /// validator (init.lua:1024; also the `eq = null` failure, 891).
    pub err: Option<&'static str>,
    /// `auto = true` on a string field: `process_auto_fields` fills a random
    /// string when the value is nil (init.lua:1917-1920); see `declarative`.
    pub auto: bool,
}

impl Field {
    fn of(ty: Ty) -> Field {
        Field {
            ty,
            required: false,
            default: None,
            checks: Vec::new(),
            err: None,
            auto: false,
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
    /// A record field of an entity (or a plugin's config): required unless it says
    /// otherwise, as `make_records_required` makes every nested record (Kong 3.10
    /// kong/db/schema/entity.lua:15-24, applied by Entity.new and new_subschema).
    pub fn entity_record(r: Record) -> Field {
        Field::record(r).required()
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
    pub fn auto(mut self) -> Field {
        self.auto = true;
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

/// Kong's `shorthand_fields` (metaschema.lua:401-415, 694-728): accepted on
/// input, expanded into real fields by `process_auto_fields` (init.lua:1815-1882).
#[derive(Clone)]
pub(crate) struct Shorthand {
    pub name: &'static str,
    pub field: Field,
    pub expand: fn(&Value) -> Map<String, Value>,
    /// Deprecated shorthands never override a value set on the real field
    /// (init.lua:1843-1855).
    pub deprecated: bool,
}

/// Kong's `then_match` of a `conditional` check (init.lua:746-766):
/// `required = true` (746-749) or validators (751-766).
#[derive(Clone)]
pub(crate) enum Then {
    Required,
    Checks(Vec<Check>),
    /// `required = true` beside validators that rank after the field's own
    /// (a `custom_validator`): the `required` branch first (746-749), then
    /// the field's own failure, then these validators (751-766).
    RequiredAnd(Vec<Check>),
}

/// Entity checks (`Schema.entity_checkers`, init.lua:590-822; metaschema.lua
/// 326-374), reported under `@entity` (insert_entity_error, init.lua:1243-1248).
#[derive(Clone)]
pub(crate) enum EntityCheck {
    /// `conditional` (init.lua:725-769).
    Conditional {
        if_field: &'static str,
        if_match: fn(&Value) -> bool,
        then_field: &'static str,
        then: Then,
        then_err: Option<&'static str>,
    },
    AtLeastOneOf(&'static [&'static str]), // init.lua:592-605
    Distinct(&'static [&'static str]),     // init.lua:698-713
    MutuallyRequired(&'static [&'static str]), // init.lua:781-784 (fn 520-535)
    /// `custom_entity_check` (init.lua:771-779): `fields` are its
    /// `field_sources`; skipped when one of them already has an error
    /// (run_with_invalid_fields = false, 773; gate at 1317-1329). Kong's
    /// `conditional_at_least_one_of` is NOT gated that way (609).
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
    /// A record field's `custom_validator`, run once its fields are valid
    /// (init.lua:949-961, then the validator loop 1014-1027).
    pub custom: Option<RecordFn>,
    /// `ttl = true` (e.g. key-auth/daos.lua:5): a `ttl` key is never
    /// validated (`unvalidated_fields`, init.lua:2610-2613, skipped at 1221).
    pub ttl: bool,
    /// `transformations` with `input`/`needs`, checked by
    /// `run_transformation_checks` (init.lua:1465-1524, called at 2166).
    pub transformations: Vec<Transformation>,
}

/// One entry of a schema's `transformations` (metaschema.lua:259-280): the
/// fields it reads. `on_write` itself runs when Kong loads the entities
/// (kong/db/declarative/import.lua:468-478), not during validation.
#[derive(Clone)]
pub(crate) struct Transformation {
    pub input: &'static [&'static str],
    pub needs: &'static [&'static str],
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
    /// Replace (or add) a field, as Kong subschemas do (resolve_field,
    /// init.lua:1120-1131).
    pub fn with_field(mut self, name: &'static str, f: Field) -> Record {
        match self.fields.iter_mut().find(|(n, _)| *n == name) {
            Some(slot) => slot.1 = f,
            None => self.fields.push((name, f)),
        }
        self
    }
}

/// Read a dotted path (`config.redis.host`): Kong's `get_field` (init.lua:472-482).
pub(crate) fn get_path<'a>(v: &'a Map<String, Value>, path: &str) -> Option<&'a Value> {
    let mut parts = path.split('.');
    let mut cur = v.get(parts.next()?)?;
    for p in parts {
        cur = cur.as_object()?.get(p)?;
    }
    Some(cur)
}

/// Entity-check gate: "does this field already have an error". Kong's gate
/// is the flat lookup `errors[fname]` (init.lua:1317), so a dotted name
/// (`config.x`) never gates there; this walks the path.
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

/// Kong's `is_nonempty` (init.lua:429-438): not nil/null, not an empty table,
/// not `""`.
pub(crate) fn is_nonempty(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null) => false,
        Some(Value::Array(a)) => !a.is_empty(),
        Some(Value::Object(o)) => !o.is_empty(),
        Some(Value::String(s)) => !s.is_empty(), // init.lua:433
        Some(_) => true,
    }
}

/// init.lua:185-196 (`'a', 'b'`).
pub(crate) fn quoted_list(names: &[&str]) -> String {
    names
        .iter()
        .map(|n| format!("'{n}'"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Lua's `tostring` of a JSON scalar, for messages (EQ uses tostring,
/// init.lua:225; GT 241; ONE_OF `concat`, 322).
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

/// Kong's integer test (init.lua:978-984).
pub(crate) fn as_int(v: &Value) -> Option<i64> {
    match v.as_f64() {
        Some(f) if f.fract() == 0.0 && f.is_finite() => Some(f as i64),
        _ => None,
    }
}

/// An empty JSON object is an empty Lua table, which Kong accepts as an
/// array (`is_sequence`, init.lua:444-466).
pub(crate) fn as_seq(v: &Value) -> Option<Vec<Value>> {
    match v {
        Value::Array(a) => Some(a.clone()),
        Value::Object(o) if o.is_empty() => Some(Vec::new()),
        _ => None,
    }
}

/// Kong only requires a table (init.lua:950): a non-empty JSON array is
/// accepted there (then fails as unknown fields `1`, `2`...); here it is
/// "expected a record".
fn as_record(v: &Value) -> Option<Map<String, Value>> {
    match v {
        Value::Object(o) => Some(o.clone()),
        Value::Array(a) if a.is_empty() => Some(Map::new()),
        _ => None,
    }
}

/// Kong's `Schema:validate_field` (init.lua:874-1030).
pub(crate) fn validate_field(f: &Field, v: &Value) -> Result<(), Node> {
    // null: init.lua:877-888 (`ne = null` at 878-880 is not implemented)
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
        // init.lua:986-989, STRING at 72 (`referenceable` skip, 995-997, not here)
        Ty::Str if !v.is_string() => return Err(Node::msg("expected a string")),
        // init.lua:978-984, INTEGER at 75
        Ty::Int if as_int(v).is_none() => return Err(Node::msg("expected an integer")),
        // init.lua:1004-1007, NUMBER at 73
        Ty::Num if !v.is_number() => return Err(Node::msg("expected a number")),
        // init.lua:1004-1007, BOOLEAN at 74
        Ty::Bool if !v.is_boolean() => return Err(Node::msg("expected a boolean")),
        // init.lua:909-928 (ARRAY 68, SET 69), elements: validate_elements 838-855
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
                // elements are required (init.lua:839, 924): null is a missing element
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
        // init.lua:930-947, MAP at 70. Kong also forces keys/values
        // `required` (935-936) and accepts any table; here only objects/[].
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
        // init.lua:949-961, RECORD at 71 (Kong runs process_auto_fields
        // first, 956; the double's callers already did)
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
    // strings must be non-empty unless the field sets its own length rule:
    // init.lua:991-993 (Kong only looks at `len_min`, not `len_eq`)
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
    // validator loop in validators_order, `field.err` wins: init.lua:1014-1027
    for c in &checks {
        if let Err(e) = run_check(c, v) {
            return Err(Node::Msg(f.err.map(str::to_string).unwrap_or(e)));
        }
    }
    Ok(())
}

/// Kong's `Schema:validate` for one record (init.lua:2133-2172): field
/// errors, required fields, then entity checks. Returns an empty table when
/// valid.
pub(crate) fn validate_record(r: &Record, v: &Map<String, Value>) -> Node {
    let mut errs = Node::table();
    // validate_fields (init.lua:1195-1240). Kong never validates
    // `updated_at`, in any record (1221 + unvalidated_fields 2610-2617).
    for (k, val) in v {
        if k == "updated_at" || (r.ttl && k == "ttl") {
            continue;
        }
        match r.field(k) {
            Some(f) => {
                if let Err(e) = validate_field(f, val) {
                    errs.set(Key::from(k.as_str()), e);
                }
            }
            None => errs.set(Key::from(k.as_str()), Node::msg(UNKNOWN)),
        }
    }
    // init.lua:2157-2163 (Kong overwrites any earlier error of the field)
    for (name, f) in &r.fields {
        if f.required && is_null(v.get(*name)) && !errs.has(name) {
            errs.set(Key::from(*name), Node::msg(REQUIRED));
        }
    }
    run_entity_checks(&r.checks, v, &mut errs); // init.lua:2165
    run_transformation_checks(&r.transformations, v, &mut errs); // init.lua:2166
    errs
}

pub(crate) use crate::autofields::{merge, process};
pub(crate) use crate::checks::run_check;
pub(crate) use crate::entity_checks::{run_entity_checks, run_transformation_checks};

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
