//! `kong/plugins/redirect/schema.lua` (Kong 3.10, commit 22246ef28c; line
//! numbers below refer to that file). Kong 3.10 has no `incoming_path`
//! field (commit 030454704e replaced it by `keep_incoming_path`): it is an
//! unknown field here as in Kong.

use crate::schema::{Field, Record};
use crate::typedefs as td;
use serde_json::json;

// schema.lua:10-36 (config record fields, in order).
pub(crate) fn config() -> Record {
    Record::new(vec![
        // schema.lua:14-20
        (
            "status_code",
            Field::integer()
                .required()
                .default(json!(301))
                .between(100.0, 599.0),
        ),
        // schema.lua:23-26: typedefs.url { required = true }
        ("location", td::url().required()),
        // schema.lua:29-33 (not required: an explicit null stays null)
        ("keep_incoming_path", Field::boolean().default(json!(false))),
    ])
}
