//! `kong/db/schema/entities/plugins.lua` and the plugin config schemas the
//! double implements. Any other plugin is rejected: bundled ones with a
//! message naming the double, unknown ones with Kong's own message.

mod rate_limiting;
mod request_termination;

use crate::schema::{Field, Record};
use crate::typedefs as td;
use serde_json::json;

/// Plugins whose schemas the double enforces (what `GET /` reports).
pub const SUPPORTED_PLUGINS: &[&str] = &["rate-limiting", "request-termination"];

/// Plugins bundled with Kong Gateway 3.10 OSS.
pub(crate) const BUNDLED_PLUGINS: &[&str] = &[
    "acl",
    "acme",
    "ai-prompt-decorator",
    "ai-prompt-guard",
    "ai-prompt-template",
    "ai-proxy",
    "ai-request-transformer",
    "ai-response-transformer",
    "aws-lambda",
    "azure-functions",
    "basic-auth",
    "bot-detection",
    "correlation-id",
    "cors",
    "datadog",
    "file-log",
    "grpc-gateway",
    "grpc-web",
    "hmac-auth",
    "http-log",
    "ip-restriction",
    "jwt",
    "key-auth",
    "ldap-auth",
    "loggly",
    "oauth2",
    "opentelemetry",
    "post-function",
    "pre-function",
    "prometheus",
    "proxy-cache",
    "rate-limiting",
    "redirect",
    "request-size-limiting",
    "request-termination",
    "request-transformer",
    "response-ratelimiting",
    "response-transformer",
    "session",
    "standard-webhooks",
    "statsd",
    "syslog",
    "tcp-log",
    "udp-log",
    "zipkin",
];

/// Message for a plugin name the double cannot validate.
pub(crate) fn unsupported(name: &str) -> String {
    if BUNDLED_PLUGINS.contains(&name) {
        format!(
            "plugin '{name}' is not supported by the Kong admin API test double (it cannot validate its config schema)"
        )
    } else {
        format!("plugin '{name}' not enabled; add it to the 'plugins' configuration property")
    }
}

/// The plugin entity record for `name`, or `None` when unsupported.
pub(crate) fn record_for(name: &str) -> Option<Record> {
    let (config, protocols, checks) = match name {
        "rate-limiting" => (
            rate_limiting::config(),
            td::protocols_http(),
            rate_limiting::entity_checks(),
        ),
        "request-termination" => (
            request_termination::config(),
            td::protocols_http(),
            Vec::new(),
        ),
        _ => return None,
    };
    let mut r = Record::new(vec![
        ("id", td::uuid()),
        ("name", Field::string().required()),
        ("instance_name", td::utf8_name()),
        ("created_at", td::timestamp()),
        ("updated_at", td::timestamp()),
        ("route", td::foreign()),
        ("service", td::foreign()),
        ("consumer", td::foreign()),
        ("config", Field::record(config)),
        ("protocols", protocols),
        ("enabled", Field::boolean().default(json!(true))),
        ("tags", td::tags()),
    ]);
    r.checks = checks;
    Some(r)
}
