//! `kong/plugins/key-auth/schema.lua` (Kong 3.10, commit 22246ef28c; line
//! numbers below refer to that file). The plugin has no custom validator
//! and no entity checks. Its `keyauth_credentials` entity (daos.lua) is in
//! `entities::credentials`.

use crate::schema::{Check, Field, Record};
use crate::typedefs as td;
use serde_json::{Value, json};

/// schema.lua:7 `consumer = typedefs.no_consumer`: a `foreign` field with
/// `eq = null` (kong/db/schema/typedefs.lua:400-405). The subschema field
/// replaces the plugin entity's `consumer` (resolve_field,
/// kong/db/schema/init.lua:1120-1131), and it is loaded before the
/// declarative loader turns top-level foreign keys into strings
/// (declarative_config.lua:1015, 1028-1030), so it stays `eq = null` in
/// both of Kong's passes. Any non-null value of any type is "value must be
/// null": the `eq == null` test comes before the type checks
/// (init.lua:890-892, EQ at 78); null is accepted (877-888).
pub(crate) fn consumer() -> Field {
    Field::any().check(Check::Eq(Value::Null))
}

fn flag(default: bool) -> Field {
    Field::boolean().required().default(json!(default))
}

// schema.lua:9-25 (config record fields, in order).
pub(crate) fn config() -> Record {
    Record::new(vec![
        // schema.lua:12-16: an array (no len_min: `[]` is valid) of
        // typedefs.header_name (typedefs.lua:345-349, kong/tools/http.lua:281-292)
        (
            "key_names",
            Field::array(td::header_name())
                .required()
                .default(json!(["apikey"])),
        ),
        ("hide_credentials", flag(false)), // schema.lua:17
        // schema.lua:18: a plain string, no default: Kong stores null when
        // it is left out (init.lua:1055-1058 handle_missing_field)
        ("anonymous", Field::string().default(Value::Null)),
        ("key_in_header", flag(true)),    // schema.lua:19
        ("key_in_query", flag(true)),     // schema.lua:20
        ("key_in_body", flag(false)),     // schema.lua:21
        ("run_on_preflight", flag(true)), // schema.lua:22
        // schema.lua:23 (`required = false`): null when left out, as `anonymous`
        ("realm", Field::string().default(Value::Null)),
    ])
}
