//! `kong/db/schema/entities/targets.lua` and the target normalization the
//! targets DAO applies (`format_target`, default port 8000).
//! Line references are to Kong 3.10 (master 22246ef28c).

use crate::net;
use crate::schema::{Field, Record};
use crate::typedefs as td;
use serde_json::json;

pub(crate) const DEFAULT_PORT: u32 = 8000; // kong/db/dao/targets.lua:17

/// `validate_target`: targets.lua:6-17 (message 14; the non-UTF-8 message at
/// 9-12 cannot occur for a JSON string).
fn validate_target(t: &str) -> Result<(), String> {
    net::normalize_ip(t)
        .map(|_| ())
        .map_err(|_| format!("Invalid target ('{t}'); not a valid hostname or ip address"))
}

/// `utils.format_host(normalize_ip(target), 8000)`: `format_target`,
/// kong/db/dao/targets.lua:31-37 (format_host: kong/tools/ip.lua:292-314).
/// DB-less stores the raw target; the DAO formats it when read (select,
/// dao/targets.lua:98-113).
pub(crate) fn normalize_target(t: &str) -> String {
    match net::normalize_ip(t) {
        Ok(a) => format!("{}:{}", a.host, a.port.unwrap_or(DEFAULT_PORT)),
        Err(_) => t.to_string(),
    }
}

/// The `targets` entity: targets.lua:20-36 (fields 27-35).
pub(crate) fn record() -> Record {
    Record::new(vec![
        ("id", td::uuid()),                                             // targets.lua:28
        ("created_at", td::timestamp_ms()),                             // targets.lua:29
        ("updated_at", td::timestamp_ms()),                             // targets.lua:30
        ("upstream", td::foreign().required()),                         // targets.lua:31
        ("target", Field::string().required().custom(validate_target)), // targets.lua:32
        // targets.lua:33
        (
            "weight",
            Field::integer().default(json!(100)).between(0.0, 65535.0),
        ),
        ("tags", td::tags()), // targets.lua:34
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_get_default_port() {
        assert_eq!(normalize_target("10.0.0.1"), "10.0.0.1:8000");
        assert_eq!(normalize_target("svc.ns:80"), "svc.ns:80");
        assert_eq!(
            validate_target("hostname:1.0").unwrap_err(),
            "Invalid target ('hostname:1.0'); not a valid hostname or ip address"
        );
    }
}
