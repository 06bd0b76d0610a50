//! `kong/db/schema/entities/consumers.lua`.

use crate::schema::{EntityCheck, Field, Record};
use crate::typedefs as td;

pub(crate) fn record() -> Record {
    let mut r = Record::new(vec![
        ("id", td::uuid()),
        ("created_at", td::timestamp()),
        ("updated_at", td::timestamp()),
        ("username", Field::string()),
        ("custom_id", Field::string()),
        ("tags", td::tags()),
    ]);
    r.checks = vec![EntityCheck::AtLeastOneOf(&["custom_id", "username"])];
    r
}
