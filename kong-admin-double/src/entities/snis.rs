//! `kong/db/schema/entities/snis.lua`: a TLS server name (wildcards
//! allowed) bound to a certificate. `name` is the endpoint key and unique
//! across all certificates; nested under a certificate, `certificate` is
//! implied (see `fullschema` for the `certificate: {id}` KIC writes there).
//! Kong 3.10 (master 22246ef28c) kong/db/schema/entities/snis.lua:11-18
//! (`endpoint_key = "name"` at line 6).

use crate::schema::Record;
use crate::typedefs as td;

pub(crate) fn record() -> Record {
    Record::new(vec![
        ("id", td::uuid()),
        // snis.lua:13 (unique, unique_across_ws: checked by the loader)
        ("name", td::wildcard_host().required()),
        ("created_at", td::timestamp()),
        ("updated_at", td::timestamp()),
        ("tags", td::tags()),
        // snis.lua:17 (foreign, required)
        ("certificate", td::foreign().required()),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::validate_record;
    use serde_json::json;

    #[test]
    fn name_rules() {
        let errs =
            |v: serde_json::Value| validate_record(&record(), v.as_object().unwrap()).to_json();
        assert_eq!(
            errs(json!({"name": "*.a.com", "certificate": "c"})),
            json!({})
        );
        assert_eq!(
            errs(json!({"name": "a.*.com"})),
            json!({"name": "wildcard must be leftmost or rightmost character",
                   "certificate": "required field missing"})
        );
    }
}
