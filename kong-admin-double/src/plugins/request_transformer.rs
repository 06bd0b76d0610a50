//! `kong/plugins/request-transformer/schema.lua` (Kong 3.10, commit
//! 22246ef28c; line numbers below refer to that file). Its header checks
//! (`validate_headers`, `validate_colon_headers`) are the same functions as
//! response-transformer's and live here for both.

use super::luajit;
use crate::schema::{Check, Field, Record};
use crate::typedefs as td;
use serde_json::{Value, json};

/// `pair:match("^([^:]+):*(.-)$")` (schema.lua:14, 30): the name runs to the
/// first colon, the value starts after the run of colons that follows it
/// (`""` without a colon). `None` (Lua's nil) when the pair starts with a
/// colon. Lua patterns work on bytes; `:` is ASCII, so the UTF-8 split is
/// the same.
pub(super) fn split_pair(s: &str) -> Option<(&str, &str)> {
    if s.is_empty() || s.starts_with(':') {
        return None;
    }
    let end = s.find(':').unwrap_or(s.len());
    Some((&s[..end], s[end..].trim_start_matches(':')))
}

/// Whether Kong 3.10 `kong.tools.http.validate_header_name`
/// (kong/tools/http.lua:281-292) returns a name: not empty, and
/// `ngx.re.match(name, "^[a-zA-Z0-9-_]+$", "jo")`, whose PCRE `$` also
/// matches before a final newline.
fn is_header_name(name: &str) -> bool {
    let core = name.strip_suffix('\n').unwrap_or(name);
    !core.is_empty()
        && core
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// `validate_headers(pair, validate_value)`: schema.lua:29-41 (and
/// response-transformer/schema.lua:5-17, the same code). `tostring(nil)` is
/// "nil" (a pair starting with a colon has no name).
pub(super) fn validate_headers(pair: &str, validate_value: bool) -> Result<(), String> {
    let parts = split_pair(pair);
    let name = parts.map(|(n, _)| n);
    // schema.lua:31-33
    if !name.is_some_and(is_header_name) {
        return Err(format!("'{}' is not a valid header", name.unwrap_or("nil")));
    }
    // schema.lua:35-39
    if validate_value {
        let value = parts.map(|(_, v)| v);
        if !value.is_some_and(is_header_name) {
            return Err(format!(
                "'{}' is not a valid header",
                value.unwrap_or("nil")
            ));
        }
    }
    Ok(())
}

/// `custom_validator = validate_headers` called with the value only
/// (init.lua:381-383), so `validate_value` is nil.
pub(super) fn validate_header_pair(pair: &str) -> Result<(), String> {
    validate_headers(pair, false)
}

/// `validate_colon_headers`: schema.lua:44-46 (response-transformer/schema.lua:20-22).
pub(super) fn validate_colon_headers(pair: &str) -> Result<(), String> {
    validate_headers(pair, true)
}

/// `match = "^[^:]+:.*$"` (schema.lua:87, 105; response-transformer/schema.lua:36,
/// 69): a first character that is not a colon, and a colon somewhere.
pub(super) fn has_colon_pair(s: &str) -> bool {
    !s.starts_with(':') && s.contains(':')
}

/// LuaJIT's `string.format("%q", s)` (src/lj_strfmt.c:209-234
/// strfmt_putquotedlen): `"`, `\` and newline escaped with a backslash,
/// other control bytes (0-31, 127) as decimal escapes, three digits when a
/// digit follows.
fn lua_q(s: &[u8], out: &mut Vec<u8>) {
    out.push(b'"');
    for (i, &c) in s.iter().enumerate() {
        if c == b'"' || c == b'\\' || c == b'\n' {
            out.push(b'\\');
            out.push(c);
        } else if c < 32 || c == 127 {
            out.push(b'\\');
            let next_digit = s.get(i + 1).is_some_and(u8::is_ascii_digit);
            if c >= 100 || next_digit {
                out.extend(format!("{c:03}").bytes());
            } else {
                out.extend(c.to_string().bytes());
            }
        } else {
            out.push(c);
        }
    }
    out.push(b'"');
}

/// The Lua code Penlight 1.14.0 (kong-latest.rockspec:18) `pl.template.compile`
/// loads for `value` with `{ escape = "\xff" }` (schema.lua:7-9, 19):
/// lua/pl/template.lua:36 (APPENDER), 41-61 (parseDollarParen), 63-99
/// (parseHashLines). `None` is the "single static string" case (template.lua
/// 89-95), `return "<%q>";`, which always loads. The `\xff` line escape never
/// matches: JSON strings are UTF-8, which has no 0xFF byte.
fn template_code(value: &[u8]) -> Option<Vec<u8>> {
    const APPENDER: &[u8] = b" __R_size = __R_size + 1; __R_table[__R_size] = ";
    let mut code =
        b"return function() local __R_size, __R_table, __tostring = 0, {}, __tostring; ".to_vec();
    // `for term, executed, e in chunk:gmatch("()%$(%b())()")`
    let (mut s, mut i, mut matched) = (0, 0, false);
    while i < value.len() {
        let end = if value[i] == b'$' && value.get(i + 1) == Some(&b'(') {
            balanced(value, i + 1)
        } else {
            None
        };
        let Some(end) = end else {
            i += 1;
            continue;
        };
        matched = true;
        // template.lua:44-46 (`'(' .. strsub(executed, 2, -2) .. ')'` is
        // `executed` itself)
        code.extend_from_slice(APPENDER);
        lua_q(&value[s..i], &mut code);
        code.push(b';');
        code.extend_from_slice(APPENDER);
        code.extend_from_slice(b"__tostring(");
        code.extend_from_slice(&value[i + 1..end]);
        code.extend_from_slice(b" or '');");
        s = end;
        i = end;
    }
    if !matched {
        return None;
    }
    // template.lua:49-57 (`newline` is not set)
    if s < value.len() {
        code.extend_from_slice(APPENDER);
        lua_q(&value[s..], &mut code);
        code.push(b';');
    }
    code.extend_from_slice(b"return __R_table; end"); // template.lua:87
    Some(code)
}

/// Lua's `%b()` from the `(` at `open`: the index after its matching `)`.
fn balanced(s: &[u8], open: usize) -> Option<usize> {
    let mut depth = 0usize;
    for (j, &c) in s.iter().enumerate().skip(open) {
        if c == b'(' {
            depth += 1;
        } else if c == b')' {
            depth -= 1;
            if depth == 0 {
                return Some(j + 1);
            }
        }
    }
    None
}

/// `check_for_value`: schema.lua:13-26.
fn check_for_value(entry: &str) -> Result<(), String> {
    // schema.lua:14
    let Some((name, value)) = split_pair(entry) else {
        // No Kong message: schema.lua:16 concatenates the nil `name` and Lua
        // raises "attempt to concatenate a nil value", which no code catches
        // on the way to the admin API (kong/api/routes/config.lua:137).
        return Err(format!(
            "'{entry}' has no key: Kong 3.10 fails with a Lua error here (request-transformer schema.lua:16), not a field error"
        ));
    };
    // schema.lua:15-17
    if value.is_empty() {
        return Err(format!("key '{name}' has no value"));
    }
    // schema.lua:19-24: `pl_template.compile` returns nil plus LuaJIT's load
    // error (template.lua:196-197, chunk name "TMP" from 189), quoted after
    // "error:". Code that would run while compiling (the chunk is called,
    // template.lua:215) is not run here (README).
    if let Some(code) = template_code(value.as_bytes())
        && let Some(err) = luajit::load_error(&code, "TMP")
    {
        return Err(format!(
            "value '{value}' is not in supported format, error:{err}"
        ));
    }
    Ok(())
}

// schema.lua:49-54
fn strings_array() -> Field {
    Field::array(Field::string()).required().default(json!([]))
}

// schema.lua:57-62
fn headers_array() -> Field {
    Field::array(Field::string().custom(validate_header_pair))
        .required()
        .default(json!([]))
}

// schema.lua:75-80
fn colon_strings_array() -> Field {
    Field::array(Field::string().custom(check_for_value))
        .required()
        .default(json!([]))
}

// schema.lua:83-88
fn colon_header_value_array() -> Field {
    Field::array(
        Field::string()
            .check(Check::Match(has_colon_pair))
            .custom(validate_header_pair),
    )
    .required()
    .default(json!([]))
}

// schema.lua:101-106 (response-transformer's schema.lua:65-70 is the same)
pub(super) fn colon_headers_array() -> Field {
    Field::array(
        Field::string()
            .check(Check::Match(has_colon_pair))
            .custom(validate_colon_headers),
    )
    .required()
    .default(json!([]))
}

/// Records of a plugin config are required (Kong 3.10
/// kong/db/schema/entity.lua:15-24), so a missing one is built from its
/// fields' defaults and an explicit null is "required field missing".
pub(super) fn record(fields: Vec<(&'static str, Field)>) -> Field {
    Field::entity_record(Record::new(fields))
}

// schema.lua:124-141 (config record fields, in order).
pub(crate) fn config() -> Record {
    Record::new(vec![
        // schema.lua:131: typedefs.http_method, no default: Kong fills
        // null (init.lua:1055-1058 handle_missing_field)
        ("http_method", td::http_method().default(Value::Null)),
        // schema.lua:132 strings_array_record (65-72)
        (
            "remove",
            record(vec![
                ("body", strings_array()),
                ("headers", headers_array()),
                ("querystring", strings_array()),
            ]),
        ),
        // schema.lua:133 colon_rename_strings_array_record (109-116)
        (
            "rename",
            record(vec![
                ("body", colon_strings_array()),
                ("headers", colon_headers_array()),
                ("querystring", colon_strings_array()),
            ]),
        ),
        // schema.lua:134 colon_strings_array_record_plus_uri (119-121): the
        // record of 91-98 plus `uri = { type = "string" }`, null when missing
        // (init.lua:1055-1058)
        (
            "replace",
            record(vec![
                ("body", colon_strings_array()),
                ("headers", colon_header_value_array()),
                ("querystring", colon_strings_array()),
                ("uri", Field::string().default(Value::Null)),
            ]),
        ),
        // schema.lua:135 colon_strings_array_record (91-98)
        ("add", colon_strings_array_record()),
        // schema.lua:136 colon_strings_array_record (91-98)
        ("append", colon_strings_array_record()),
    ])
}

// schema.lua:91-98
fn colon_strings_array_record() -> Field {
    record(vec![
        ("body", colon_strings_array()),
        ("headers", colon_header_value_array()),
        ("querystring", colon_strings_array()),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_split_like_the_lua_pattern() {
        assert_eq!(split_pair("a:b"), Some(("a", "b")));
        assert_eq!(split_pair("a::b:c"), Some(("a", "b:c")));
        assert_eq!(split_pair("a"), Some(("a", "")));
        assert_eq!(split_pair("a:"), Some(("a", "")));
        assert_eq!(split_pair(":a"), None);
    }

    #[test]
    fn template_code_is_penlights() {
        assert_eq!(template_code(b"plain"), None);
        assert_eq!(template_code(b"$(unbalanced"), None);
        let code = template_code(b"a\"\x01$(x)1\x012").unwrap();
        assert_eq!(
            String::from_utf8(code).unwrap(),
            "return function() local __R_size, __R_table, __tostring = 0, {}, __tostring;  \
             __R_size = __R_size + 1; __R_table[__R_size] = \"a\\\"\\1\"; \
             __R_size = __R_size + 1; __R_table[__R_size] = __tostring((x) or ''); \
             __R_size = __R_size + 1; __R_table[__R_size] = \"1\\0012\";return __R_table; end"
        );
    }

    #[test]
    fn header_names_allow_a_final_newline_like_pcre() {
        assert!(is_header_name("X-Foo_1"));
        assert!(is_header_name("X-Foo\n"));
        assert!(!is_header_name("\n"));
        assert!(!is_header_name("X Foo"));
        assert_eq!(
            validate_colon_headers("a:b c"),
            Err("'b c' is not a valid header".into())
        );
        assert_eq!(
            validate_header_pair(":a"),
            Err("'nil' is not a valid header".into())
        );
    }
}
