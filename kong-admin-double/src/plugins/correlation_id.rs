//! `kong/plugins/correlation-id/schema.lua` (Kong 3.10, commit 22246ef28c;
//! line numbers below refer to that file). No custom validator, no entity
//! checks.

use crate::schema::{Field, Record};
use serde_json::json;

// schema.lua:8-16 (config record fields, in order).
pub(crate) fn config() -> Record {
    Record::new(vec![
        // schema.lua:11: a plain string, not typedefs.header_name, so any
        // non-empty string passes (the string type's default `len_min = 1`,
        // init.lua:990-993); not required: an explicit null stays null.
        (
            "header_name",
            Field::string().default(json!("Kong-Request-ID")),
        ),
        // schema.lua:12-13
        (
            "generator",
            Field::string()
                .required()
                .default(json!("uuid#counter"))
                .one_of(&["uuid", "uuid#counter", "tracker"]),
        ),
        // schema.lua:14
        (
            "echo_downstream",
            Field::boolean().required().default(json!(false)),
        ),
    ])
}
