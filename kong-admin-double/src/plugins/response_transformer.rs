//! `kong/plugins/response-transformer/schema.lua` (Kong 3.10, commit
//! 22246ef28c; line numbers below refer to that file). Its
//! `validate_headers` / `validate_colon_headers` (lines 5-22) are the same
//! code as request-transformer's, shared from `request_transformer.rs`.

use super::request_transformer::{colon_headers_array, has_colon_pair, record};
use crate::schema::{Check, Field, Record};
use serde_json::json;

// schema.lua:24-29
fn string_array() -> Field {
    Field::array(Field::string()).required().default(json!([]))
}

// schema.lua:32-37 (`match = "^[^:]+:.*$"`, no custom validator)
fn colon_string_array() -> Field {
    Field::array(Field::string().check(Check::Match(has_colon_pair)))
        .required()
        .default(json!([]))
}

// schema.lua:53-60
fn json_types() -> Field {
    Field::array(Field::string().one_of(&["boolean", "number", "string"]))
        .required()
        .default(json!([]))
}

// schema.lua:65-70 (`colon_headers_array`) and records: the same definitions as
// request-transformer's.
// schema.lua:49-63 colon_string_record
fn colon_string_record() -> Field {
    record(vec![
        ("json", colon_string_array()),
        ("json_types", json_types()),
        ("headers", colon_string_array()),
    ])
}

// schema.lua:86-95 (config record fields, in order).
pub(crate) fn config() -> Record {
    Record::new(vec![
        // schema.lua:89 string_record (40-46)
        (
            "remove",
            record(vec![("json", string_array()), ("headers", string_array())]),
        ),
        // schema.lua:90 colon_rename_strings_array_record (73-79)
        (
            "rename",
            record(vec![
                ("json", colon_string_array()),
                ("headers", colon_headers_array()),
            ]),
        ),
        ("replace", colon_string_record()), // schema.lua:91
        ("add", colon_string_record()),     // schema.lua:92
        ("append", colon_string_record()),  // schema.lua:93
    ])
}
