//! `kong/db/schema/entities/vaults.lua` (Kong 3.10): a vault a `{vault://<prefix>/...}`
//! reference names. `name` selects the vault implementation (`subschema_key`); Kong OSS
//! bundles only `env` (kong/constants.lua `BUNDLED_VAULTS`; vaults.lua:3-40 build the
//! `not_one_of` list from it), whose config is kong/vaults/env/schema.lua. Other backends
//! (aws, gcp, hcv, azure, conjur) are Kong Enterprise: "vault '<name>' is not installed"
//! (vaults.lua:50).

use crate::schema::{Check, Field, Record};
use crate::typedefs as td;

/// Kong OSS's bundled vaults.
pub(crate) const BUNDLED: &[&str] = &["env"];

/// vaults.lua:50 `subschema_error`.
pub(crate) fn not_installed(name: &str) -> String {
    format!("vault '{name}' is not installed")
}

/// The Lua pattern `^[a-z][a-z%d-]-[a-z%d]+$` (vaults.lua:57): a lowercase letter, then
/// letters, digits and hyphens, ending with a letter or digit (two characters at least).
fn prefix_pattern(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 2
        && b[0].is_ascii_lowercase()
        && b[1..]
            .iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        && b[b.len() - 1] != b'-'
}

/// vaults.lua:58 `not_one_of = VAULTS` (init.lua:93, 325-330).
fn not_a_vault_name(s: &str) -> Result<(), String> {
    if BUNDLED.contains(&s) {
        return Err(format!("must not be one of: {}", BUNDLED.join(", ")));
    }
    Ok(())
}

/// kong/vaults/env/schema.lua: `prefix` matching `^[%a_-][%a%d_-]*$`.
fn env_prefix(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == '-')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// The record of a vault whose `name` is one Kong OSS has (else None: not installed).
pub(crate) fn record_for(name: &str) -> Option<Record> {
    let config = match name {
        "env" => Record::new(vec![(
            "prefix",
            Field::string().check(Check::Match(env_prefix)),
        )]),
        _ => return None,
    };
    Some(Record::new(vec![
        ("id", td::uuid()),
        (
            "prefix",
            Field::string()
                .required()
                .check(Check::Match(prefix_pattern))
                .custom(not_a_vault_name),
        ),
        ("name", Field::string().required()),
        ("description", Field::string()),
        ("config", Field::record(config)),
        ("created_at", td::timestamp()),
        ("updated_at", td::timestamp()),
        ("tags", td::tags()),
    ]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::validate_record;
    use serde_json::json;

    #[test]
    fn prefix_and_env_config_rules() {
        let errs = |v: serde_json::Value| {
            validate_record(&record_for("env").unwrap(), v.as_object().unwrap()).to_json()
        };
        assert_eq!(
            errs(json!({"prefix": "my-env", "name": "env", "config": {"prefix": "SECRET_"}})),
            json!({})
        );
        assert_eq!(
            errs(json!({"prefix": "env", "name": "env"})),
            json!({"prefix": "must not be one of: env"})
        );
        assert_eq!(
            errs(json!({"prefix": "My_Env", "name": "env", "config": {"prefix": "1x"}})),
            json!({"prefix": "invalid value: My_Env", "config": {"prefix": "invalid value: 1x"}})
        );
        assert!(record_for("aws").is_none());
        assert!(prefix_pattern("a1") && !prefix_pattern("a") && !prefix_pattern("ab-"));
    }
}
