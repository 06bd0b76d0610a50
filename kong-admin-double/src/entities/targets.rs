//! `kong/db/schema/entities/targets.lua` and the target normalization the
//! targets DAO applies (`format_target`, default port 8000).

use crate::net;
use crate::schema::{Field, Record};
use crate::typedefs as td;
use serde_json::json;

pub(crate) const DEFAULT_PORT: u32 = 8000;

fn validate_target(t: &str) -> Result<(), String> {
    net::normalize_ip(t)
        .map(|_| ())
        .map_err(|_| format!("Invalid target ('{t}'); not a valid hostname or ip address"))
}

/// `utils.format_host(normalize_ip(target), 8000)`.
pub(crate) fn normalize_target(t: &str) -> String {
    match net::normalize_ip(t) {
        Ok(a) => format!("{}:{}", a.host, a.port.unwrap_or(DEFAULT_PORT)),
        Err(_) => t.to_string(),
    }
}

pub(crate) fn record() -> Record {
    Record::new(vec![
        ("id", td::uuid()),
        ("created_at", td::timestamp_ms()),
        ("updated_at", td::timestamp_ms()),
        ("upstream", td::foreign().required()),
        ("target", Field::string().required().custom(validate_target)),
        (
            "weight",
            Field::integer().default(json!(100)).between(0.0, 65535.0),
        ),
        ("tags", td::tags()),
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
