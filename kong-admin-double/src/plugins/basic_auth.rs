//! `kong/plugins/basic-auth/schema.lua` (Kong 3.10). No custom validator, no entity checks.
//! Its `basicauth_credentials` entity (daos.lua) is in `entities::credentials`.

use crate::schema::{Field, Record};
use serde_json::{Value, json};

// schema.lua: config record fields, in order.
pub(crate) fn config() -> Record {
    Record::new(vec![
        // a plain string, no default: null when left out (init.lua 1055-1058)
        ("anonymous", Field::string().default(Value::Null)),
        (
            "hide_credentials",
            Field::boolean().required().default(json!(false)),
        ),
        (
            "realm",
            Field::string().required().default(json!("service")),
        ),
    ])
}
