//! `kong/db/schema/entities/consumers.lua` (Kong 3.10, master 22246ef28c):
//! fields at lines 9-30 (`username`/`custom_id` are `unique`, lines 18 and
//! 26, which the declarative loader checks), entity check at line 33.

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
    // consumers.lua:33
    r.checks = vec![EntityCheck::AtLeastOneOf(&["custom_id", "username"])];
    r
}
