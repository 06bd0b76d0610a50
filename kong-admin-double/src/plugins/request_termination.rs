//! `kong/plugins/request-termination/schema.lua` (Kong 3.x).

use crate::schema::{Field, Record};
use crate::typedefs as td;
use serde_json::{Map, Value, json};

fn present(c: &Map<String, Value>, k: &str) -> bool {
    c.get(k)
        .and_then(Value::as_str)
        .is_some_and(|s| !s.is_empty())
}

fn validate(c: &Map<String, Value>) -> Result<(), String> {
    if present(c, "message") && (present(c, "content_type") || present(c, "body")) {
        return Err("message cannot be used with content_type or body".into());
    }
    if present(c, "content_type") && !present(c, "body") {
        return Err("content_type requires a body".into());
    }
    let echo = c.get("echo").and_then(Value::as_bool).unwrap_or(false);
    if echo && (present(c, "content_type") || present(c, "body")) {
        return Err("echo cannot be used with content_type and body".into());
    }
    Ok(())
}

pub(crate) fn config() -> Record {
    let mut r = Record::new(vec![
        (
            "status_code",
            Field::integer().default(json!(503)).between(100.0, 599.0),
        ),
        ("message", Field::string()),
        ("content_type", Field::string()),
        ("body", Field::string()),
        ("echo", Field::boolean().required().default(json!(false))),
        ("trigger", td::header_name()),
    ]);
    r.custom = Some(validate);
    r
}
