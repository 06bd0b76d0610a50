//! `kong/plugins/rate-limiting/schema.lua` as loaded in DB-less mode
//! (policy `cluster` is not offered there) with the shared Redis record of
//! `kong/tools/redis/schema.lua` and the deprecated flat `redis_*` fields.

use crate::schema::{Check, EntityCheck, Field, Record, Shorthand, Then};
use crate::typedefs as td;
use serde_json::{Map, Value, json};

const PERIODS: &[&str] = &["second", "minute", "hour", "day", "month", "year"];

fn validate_periods_order(c: &Map<String, Value>) -> Result<(), String> {
    for (i, lower) in PERIODS.iter().enumerate() {
        let Some(v1) = c.get(*lower).and_then(Value::as_f64) else {
            continue;
        };
        for upper in &PERIODS[i + 1..] {
            if let Some(v2) = c.get(*upper).and_then(Value::as_f64)
                && v2 < v1
            {
                return Err(format!(
                    "The limit for {upper}({v2:.1}) cannot be lower than the limit for {lower}({v1:.1})"
                ));
            }
        }
    }
    let policy = c.get("policy").and_then(Value::as_str);
    let sync_rate = c.get("sync_rate").and_then(Value::as_f64).unwrap_or(-1.0);
    if policy != Some("redis") && sync_rate != -1.0 {
        return Err("sync_rate can only be used with the redis policy".into());
    }
    if policy == Some("redis") && sync_rate != -1.0 && sync_rate < 0.02 {
        return Err("sync_rate must be greater than 0.02, or -1 to disable".into());
    }
    Ok(())
}

fn redis() -> Field {
    let mut r = Record::new(vec![
        ("host", td::host()),
        ("port", td::port()),
        ("timeout", td::timeout().default(json!(2000))),
        ("username", Field::string()),
        ("password", Field::string().check(Check::LenMin(0))),
        ("database", Field::integer().default(json!(0))),
        ("ssl", Field::boolean().default(json!(false))),
        ("ssl_verify", Field::boolean().default(json!(false))),
        ("server_name", td::sni()),
    ]);
    r.checks = vec![EntityCheck::MutuallyRequired(&["host", "port"])];
    Field::record(r)
}

macro_rules! legacy {
    ($name:literal, $key:literal, $field:expr) => {
        Shorthand {
            name: $name,
            field: $field,
            expand: |v| {
                let mut m = Map::new();
                m.insert("redis".into(), json!({ $key: v }));
                m
            },
            deprecated: true,
        }
    };
}

fn period() -> Field {
    Field::number().check(Check::Gt(0.0))
}

pub(crate) fn config() -> Record {
    let mut r = Record::new(vec![
        ("second", period()),
        ("minute", period()),
        ("hour", period()),
        ("day", period()),
        ("month", period()),
        ("year", period()),
        (
            "limit_by",
            Field::string().default(json!("consumer")).one_of(&[
                "consumer",
                "credential",
                "ip",
                "service",
                "header",
                "path",
            ]),
        ),
        ("header_name", td::header_name()),
        ("path", td::path()),
        (
            "policy",
            Field::string()
                .default(json!("local"))
                .check(Check::LenMin(0))
                .one_of(&["local", "redis"]),
        ),
        (
            "fault_tolerant",
            Field::boolean().required().default(json!(true)),
        ),
        ("redis", redis()),
        (
            "hide_client_headers",
            Field::boolean().required().default(json!(false)),
        ),
        (
            "error_code",
            Field::number().default(json!(429)).check(Check::Gt(0.0)),
        ),
        (
            "error_message",
            Field::string().default(json!("API rate limit exceeded")),
        ),
        ("sync_rate", Field::number().required().default(json!(-1))),
    ]);
    r.custom = Some(validate_periods_order);
    r.shorthands = vec![
        legacy!("redis_host", "host", Field::string()),
        legacy!("redis_port", "port", Field::integer()),
        legacy!(
            "redis_password",
            "password",
            Field::string().check(Check::LenMin(0))
        ),
        legacy!("redis_username", "username", Field::string()),
        legacy!("redis_ssl", "ssl", Field::boolean()),
        legacy!("redis_ssl_verify", "ssl_verify", Field::boolean()),
        legacy!("redis_server_name", "server_name", Field::string()),
        legacy!("redis_timeout", "timeout", Field::integer()),
        legacy!("redis_database", "database", Field::integer()),
    ];
    r
}

fn is_redis(v: &Value) -> bool {
    v == "redis"
}

fn cond(if_field: &'static str, m: fn(&Value) -> bool, then_field: &'static str) -> EntityCheck {
    EntityCheck::Conditional {
        if_field,
        if_match: m,
        then_field,
        then: Then::Required,
        then_err: None,
    }
}

/// Checks declared on the plugin entity itself.
pub(crate) fn entity_checks() -> Vec<EntityCheck> {
    vec![
        EntityCheck::AtLeastOneOf(&[
            "config.second",
            "config.minute",
            "config.hour",
            "config.day",
            "config.month",
            "config.year",
        ]),
        cond("config.policy", is_redis, "config.redis.host"),
        cond("config.policy", is_redis, "config.redis.port"),
        cond("config.policy", is_redis, "config.redis.timeout"),
        cond("config.limit_by", |v| v == "header", "config.header_name"),
        cond("config.limit_by", |v| v == "path", "config.path"),
    ]
}
