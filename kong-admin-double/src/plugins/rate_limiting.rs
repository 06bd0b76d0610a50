//! `kong/plugins/rate-limiting/schema.lua` as loaded in DB-less mode
//! (policy `cluster` is not offered there) with the shared Redis record of
//! `kong/tools/redis/schema.lua` and the deprecated flat `redis_*` fields.
//! Sources: Kong 3.10 (commit 22246ef28c) kong/plugins/rate-limiting/schema.lua
//! and kong/tools/redis/schema.lua.

use crate::schema::{Check, EntityCheck, Field, Record, Shorthand, Then};
use crate::typedefs as td;
use serde_json::{Map, Value, json};

// schema.lua:7 ORDERED_PERIODS
const PERIODS: &[&str] = &["second", "minute", "hour", "day", "month", "year"];

// schema.lua:10-36 validate_periods_order (the config record's
// custom_validator, schema.lua:100).
fn validate_periods_order(c: &Map<String, Value>) -> Result<(), String> {
    // schema.lua:11-23; message schema.lua:18
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
    // -1 is SYNC_RATE_REALTIME (schema.lua:4)
    let sync_rate = c.get("sync_rate").and_then(Value::as_f64).unwrap_or(-1.0);
    // schema.lua:25-27
    if policy != Some("redis") && sync_rate != -1.0 {
        return Err("sync_rate can only be used with the redis policy".into());
    }
    // schema.lua:29-33
    if policy == Some("redis") && sync_rate != -1.0 && sync_rate < 0.02 {
        return Err("sync_rate must be greater than 0.02, or -1 to disable".into());
    }
    Ok(())
}

// schema.lua:94 `redis = redis_schema.config_schema`, i.e. Kong 3.10
// kong/tools/redis/schema.lua:5-35; required by entity.lua:15-24.
fn redis() -> Field {
    let r = Record::new(vec![
        ("host", td::host()),                      // redis/schema.lua:9
        ("port", td::port().default(json!(6379))), // redis/schema.lua:10
        // redis/schema.lua:11 (DEFAULT_TIMEOUT, line 2)
        ("timeout", td::timeout().default(json!(2000))),
        ("username", Field::string()), // redis/schema.lua:12-14
        // redis/schema.lua:15-19 (len_min = 0)
        ("password", Field::string().check(Check::LenMin(0))),
        ("database", Field::integer().default(json!(0))), // redis/schema.lua:20-22
        ("ssl", Field::boolean().default(json!(false))),  // redis/schema.lua:23-27
        ("ssl_verify", Field::boolean().default(json!(false))), // redis/schema.lua:28-32
        ("server_name", td::sni()),                       // redis/schema.lua:33
    ]);
    // No entity checks: Kong 3.10's redis schema has none (commit cb1a3c1c0b, an ancestor,
    // replaced `mutually_required = { "host", "port" }` with the port default).
    Field::entity_record(r)
}

// schema.lua:101-194 shorthand_fields: each `func` returns
// `{ redis = { <key> = value } }`; `deprecation` makes the real field win
// (kong/db/schema/init.lua:1834-1856). Kong first refuses a deprecated value
// that mismatches a non-null new field (init.lua:1745-1768, called at
// 1828-1832); not done here (README).
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

// schema.lua:80-85 (`type = "number", gt = 0`)
fn period() -> Field {
    Field::number().check(Check::Gt(0.0))
}

// schema.lua:77-99 (config record fields, in order).
pub(crate) fn config() -> Record {
    let mut r = Record::new(vec![
        ("second", period()),
        ("minute", period()),
        ("hour", period()),
        ("day", period()),
        ("month", period()),
        ("year", period()),
        // schema.lua:86-89
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
        ("header_name", td::header_name()), // schema.lua:90
        ("path", td::path()),               // schema.lua:91
        // schema.lua:92, DB-less variant schema.lua:50-58 (no "cluster")
        (
            "policy",
            Field::string()
                .default(json!("local"))
                .check(Check::LenMin(0))
                .one_of(&["local", "redis"]),
        ),
        // schema.lua:93
        (
            "fault_tolerant",
            Field::boolean().required().default(json!(true)),
        ),
        ("redis", redis()), // schema.lua:94
        // schema.lua:95
        (
            "hide_client_headers",
            Field::boolean().required().default(json!(false)),
        ),
        // schema.lua:96
        (
            "error_code",
            Field::number().default(json!(429)).check(Check::Gt(0.0)),
        ),
        // schema.lua:97
        (
            "error_message",
            Field::string().default(json!("API rate limit exceeded")),
        ),
        ("sync_rate", Field::number().required().default(json!(-1))), // schema.lua:98
    ]);
    r.custom = Some(validate_periods_order); // schema.lua:100
    r.shorthands = vec![
        legacy!("redis_host", "host", Field::string()), // schema.lua:103-112
        legacy!("redis_port", "port", Field::integer()), // schema.lua:113-122
        // schema.lua:123-133
        legacy!(
            "redis_password",
            "password",
            Field::string().check(Check::LenMin(0))
        ),
        legacy!("redis_username", "username", Field::string()), // schema.lua:134-143
        legacy!("redis_ssl", "ssl", Field::boolean()),          // schema.lua:144-153
        legacy!("redis_ssl_verify", "ssl_verify", Field::boolean()), // schema.lua:154-163
        legacy!("redis_server_name", "server_name", Field::string()), // schema.lua:164-173
        legacy!("redis_timeout", "timeout", Field::integer()),  // schema.lua:174-183
        legacy!("redis_database", "database", Field::integer()), // schema.lua:184-193
    ];
    r
}

fn is_redis(v: &Value) -> bool {
    v == "redis"
}

// A `conditional` entity check with `if_match = { eq = ... }` and
// `then_match = { required = true }` (schema.lua:200-219).
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
// schema.lua:198-220 entity_checks.
pub(crate) fn entity_checks() -> Vec<EntityCheck> {
    vec![
        // schema.lua:199
        EntityCheck::AtLeastOneOf(&[
            "config.second",
            "config.minute",
            "config.hour",
            "config.day",
            "config.month",
            "config.year",
        ]),
        cond("config.policy", is_redis, "config.redis.host"), // schema.lua:200-203
        cond("config.policy", is_redis, "config.redis.port"), // schema.lua:204-207
        cond("config.policy", is_redis, "config.redis.timeout"), // schema.lua:208-211
        cond("config.limit_by", |v| v == "header", "config.header_name"), // schema.lua:212-215
        cond("config.limit_by", |v| v == "path", "config.path"), // schema.lua:216-219
    ]
}
