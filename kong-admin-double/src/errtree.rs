//! Kong's nested error table (`err_t`), as produced by `kong.db.schema`.
//!
//! Kong builds errors as Lua tables: records map field names to messages,
//! arrays map 1-based indices to element errors, and entity checks add an
//! `@entity` list. cjson turns integer-keyed tables into JSON arrays (holes
//! become `null`) and anything with a string key into an object; we mirror
//! that so the `fields` body is byte-compatible in shape.
//!
//! Sources (Kong 3.10): tables built by kong/db/schema/init.lua (validate
//! 2133-2172, insert_entity_error 1243-1248, set_field 488-501); encoded by
//! lua-cjson with `encode_sparse_array(nil, nil, 2^15)` (kong/tools/cjson.lua:9)
//! and, for `message`, Penlight 1.14.0 `pretty.write` (kong-latest.rockspec:18,
//! called at kong/db/errors.lua:500-501).

use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// A key of an error table: an array index (1-based, as in Lua) or a name.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Key {
    /// 1-based array position.
    Int(usize),
    /// Field name, `@entity`, or an entity's endpoint key/id.
    Str(String),
}

impl From<&str> for Key {
    fn from(s: &str) -> Self {
        Key::Str(s.to_string())
    }
}

impl From<usize> for Key {
    fn from(i: usize) -> Self {
        Key::Int(i)
    }
}

/// One node of Kong's error table.
#[derive(Clone, Debug, PartialEq)]
pub enum Node {
    /// A single message for a field or a whole entity.
    Msg(String),
    /// A list of messages (`@entity` errors, unresolved references).
    List(Vec<String>),
    /// Nested errors of a record, array, or config section.
    Table(BTreeMap<Key, Node>),
}

impl Default for Node {
    fn default() -> Self {
        Node::table()
    }
}

impl Node {
    pub(crate) fn msg(s: impl Into<String>) -> Node {
        Node::Msg(s.into())
    }

    pub(crate) fn table() -> Node {
        Node::Table(BTreeMap::new())
    }

    /// Child table at `key`, created when missing (a message there is replaced).
    pub(crate) fn child(&mut self, key: Key) -> &mut Node {
        if !matches!(self, Node::Table(_)) {
            *self = Node::table();
        }
        match self {
            Node::Table(t) => {
                let e = t.entry(key).or_insert_with(Node::table);
                if !matches!(e, Node::Table(_)) {
                    *e = Node::table();
                }
                e
            }
            _ => unreachable!("converted to a table above"),
        }
    }

    pub(crate) fn set(&mut self, key: Key, node: Node) {
        if let Node::Table(t) = self {
            t.insert(key, node);
        }
    }

    /// A dotted path, creating tables on the way: Kong's `set_field`
    /// (init.lua:488-501), used by `conditional` (747, 757).
    pub(crate) fn set_path(&mut self, path: &str, node: Node) {
        let mut parts: Vec<&str> = path.split('.').collect();
        let last = parts.pop().unwrap_or(path);
        let mut cur = self;
        for p in parts {
            cur = cur.child(Key::from(p));
        }
        cur.set(Key::from(last), node);
    }

    /// Append to the `@entity` list, as Kong's entity checks do
    /// (insert_entity_error, init.lua:1243-1248).
    pub(crate) fn push_entity(&mut self, msg: impl Into<String>) {
        if let Node::Table(t) = self {
            match t
                .entry(Key::from("@entity"))
                .or_insert_with(|| Node::List(Vec::new()))
            {
                Node::List(l) => l.push(msg.into()),
                other => *other = Node::List(vec![msg.into()]),
            }
        }
    }

    pub(crate) fn has(&self, key: &str) -> bool {
        match self {
            Node::Table(t) => t.contains_key(&Key::from(key)),
            _ => false,
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        match self {
            Node::Table(t) => t.is_empty(),
            Node::List(l) => l.is_empty(),
            Node::Msg(_) => false,
        }
    }

    /// The cjson encoding Kong sends in `fields`: integer-keyed tables are
    /// arrays with `null` holes, anything else an object, `{}` for empty.
    /// (cjson refuses arrays sparser than 2:1 past index 32768,
    /// kong/tools/cjson.lua:9; not modelled.)
    pub fn to_json(&self) -> Value {
        match self {
            Node::Msg(s) => Value::String(s.clone()),
            Node::List(l) => Value::Array(l.iter().cloned().map(Value::String).collect()),
            Node::Table(t) => {
                let all_int = t.keys().all(|k| matches!(k, Key::Int(_)));
                if all_int && !t.is_empty() {
                    let max = t
                        .keys()
                        .map(|k| match k {
                            Key::Int(i) => *i,
                            Key::Str(_) => 0,
                        })
                        .max()
                        .unwrap_or(0);
                    let mut arr = vec![Value::Null; max];
                    for (k, v) in t {
                        if let Key::Int(i) = k {
                            arr[i - 1] = v.to_json();
                        }
                    }
                    Value::Array(arr)
                } else {
                    let mut m = Map::new();
                    for (k, v) in t {
                        let name = match k {
                            Key::Int(i) => i.to_string(),
                            Key::Str(s) => s.clone(),
                        };
                        m.insert(name, v.to_json());
                    }
                    Value::Object(m)
                }
            }
        }
    }

    /// Penlight's `pretty.write(t, "")`, which Kong uses for `message`
    /// (kong/db/errors.lua:500-501; Penlight 1.14.0 per kong-latest.rockspec:18).
    /// Keys are written array part first (`ipairs`), then the rest (`pairs`):
    /// here sorted names; Lua's hash order can differ in real Kong, so tests
    /// should assert on `fields`.
    pub fn to_lua(&self) -> String {
        match self {
            Node::Msg(s) => lua_quote(s),
            Node::List(l) => format!(
                "{{{}}}",
                l.iter().map(|s| lua_quote(s)).collect::<Vec<_>>().join(",")
            ),
            Node::Table(t) => {
                let mut parts = Vec::new();
                let mut next = 1;
                while let Some(v) = t.get(&Key::Int(next)) {
                    parts.push(v.to_lua());
                    next += 1;
                }
                for (k, v) in t {
                    match k {
                        Key::Int(i) if *i < next => {}
                        Key::Int(i) => parts.push(format!("[{i}]={}", v.to_lua())),
                        Key::Str(s) if is_lua_ident(s) => parts.push(format!("{s}={}", v.to_lua())),
                        Key::Str(s) => parts.push(format!("[{}]={}", lua_quote(s), v.to_lua())),
                    }
                }
                format!("{{{}}}", parts.join(","))
            }
        }
    }
}

/// Penlight pretty.lua `is_identifier`: `^[%a_][%w_]*$` and not a keyword
/// of `pl.lexer.get_keywords` (which lacks `goto`; listed here).
fn is_lua_ident(s: &str) -> bool {
    const KEYWORDS: &[&str] = &[
        "and", "break", "do", "else", "elseif", "end", "false", "for", "function", "goto", "if",
        "in", "local", "nil", "not", "or", "repeat", "return", "then", "true", "until", "while",
    ];
    let mut chars = s.chars();
    match chars.next() {
        Some(c) if c.is_ascii_alphabetic() || c == '_' => {}
        _ => return false,
    }
    chars.all(|c| c.is_ascii_alphanumeric() || c == '_') && !KEYWORDS.contains(&s)
}

/// Lua's `%q` quoting (Penlight `stringx.quote_string` falls back to it for
/// strings without a newline or a `[[`/`]]`-like sequence; those get long
/// brackets there, not here). LuaJIT's `%q` writes other control bytes as
/// `\ddd` (e.g. `\13` for CR); this writes `\r` and passes them through.
fn lua_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\\n"),
            '\r' => out.push_str("\\r"),
            '\0' => out.push_str("\\0"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arrays_with_holes_encode_like_cjson() {
        let mut n = Node::table();
        n.child(Key::from("upstreams"))
            .child(Key::Int(2))
            .set(Key::from("name"), Node::msg("required field missing"));
        assert_eq!(
            n.to_json(),
            serde_json::json!({"upstreams": [null, {"name": "required field missing"}]})
        );
        assert_eq!(
            n.to_lua(),
            r#"{upstreams={[2]={name="required field missing"}}}"#
        );
    }

    #[test]
    fn entity_key_is_bracketed_in_lua() {
        let mut n = Node::table();
        n.push_entity("x");
        n.set(Key::from("path"), Node::msg("value must be null"));
        assert_eq!(
            n.to_lua(),
            r#"{["@entity"]={"x"},path="value must be null"}"#
        );
    }
}
