//! `kong/plugins/request-termination/schema.lua` (Kong 3.10, commit
//! 22246ef28c; line numbers below refer to that file).

use crate::schema::{Field, Record};
use crate::typedefs as td;
use serde_json::{Map, Value, json};

// schema.lua:4-6 is_present
fn present(c: &Map<String, Value>, k: &str) -> bool {
    c.get(k)
        .and_then(Value::as_str)
        .is_some_and(|s| !s.is_empty())
}

// schema.lua:27-43 (the config record's custom_validator)
fn validate(c: &Map<String, Value>) -> Result<(), String> {
    // schema.lua:28-32
    if present(c, "message") && (present(c, "content_type") || present(c, "body")) {
        return Err("message cannot be used with content_type or body".into());
    }
    // schema.lua:33-36
    if present(c, "content_type") && !present(c, "body") {
        return Err("content_type requires a body".into());
    }
    // schema.lua:37-41
    let echo = c.get("echo").and_then(Value::as_bool).unwrap_or(false);
    if echo && (present(c, "content_type") || present(c, "body")) {
        return Err("echo cannot be used with content_type and body".into());
    }
    Ok(())
}

// schema.lua:13-26 (config record fields, in order).
pub(crate) fn config() -> Record {
    let mut r = Record::new(vec![
        // schema.lua:16-20 (`required = true`, line 17)
        (
            "status_code",
            Field::integer()
                .required()
                .default(json!(503))
                .between(100.0, 599.0),
        ),
        ("message", Field::string()),      // schema.lua:21
        ("content_type", Field::string()), // schema.lua:22
        ("body", Field::string()),         // schema.lua:23
        ("echo", Field::boolean().required().default(json!(false))), // schema.lua:24
        ("trigger", td::header_name()),    // schema.lua:25
    ]);
    r.custom = Some(validate); // schema.lua:27
    r
}
