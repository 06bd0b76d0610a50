//! `kong/db/schema/entities/plugins.lua` and the plugin config schemas the
//! double implements. Any other plugin is rejected: bundled ones with a
//! message naming the double, unknown ones with Kong's own message.

mod basic_auth;
mod correlation_id;
mod key_auth;
mod luajit;
mod rate_limiting;
mod redirect;
mod request_termination;
mod request_transformer;
mod response_transformer;

use crate::schema::{Field, Record};
use crate::typedefs as td;
use serde_json::json;

/// Plugins whose schemas the double enforces (what `GET /` reports).
// Double-specific subset: Kong 3.10 loads every bundled plugin by default
// (kong/templates/kong_defaults.lua:15 `plugins = bundled`).
pub const SUPPORTED_PLUGINS: &[&str] = &[
    "basic-auth",
    "correlation-id",
    "key-auth",
    "rate-limiting",
    "redirect",
    "request-termination",
    "request-transformer",
    "response-transformer",
];

/// Plugins bundled with Kong Gateway 3.10 OSS.
// Kong 3.10 kong/constants.lua:1-47 (same 44 names, sorted here).
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

/// Plugins whose schema sets `consumer = typedefs.no_consumer`: of the
/// modelled ones, key-auth and basic-auth (Kong 3.10
/// kong/plugins/key-auth/schema.lua:7, kong/plugins/basic-auth/schema.lua:7).
/// `fullschema.rs` keeps its `eq = null` in Kong's second pass.
pub(crate) fn no_consumer(name: &str) -> bool {
    matches!(name, "key-auth" | "basic-auth")
}

/// Message for a plugin name the double cannot validate.
pub(crate) fn unsupported(name: &str, release: crate::KongRelease) -> String {
    if BUNDLED_PLUGINS.contains(&name) && release.bundles(name) {
        // No Kong source: Kong 3.10 would validate this plugin's own schema
        // (kong/plugins/<name>/schema.lua); the double refuses it instead.
        format!(
            "plugin '{name}' is not supported by the Kong admin API test double (it cannot validate its config schema)"
        )
    } else {
        // Kong 3.10 kong/db/schema/entities/plugins.lua:14 (subschema_error),
        // raised at kong/db/schema/init.lua:2147-2150.
        format!("plugin '{name}' not enabled; add it to the 'plugins' configuration property")
    }
}

/// The plugin entity record for `name`, or `None` when unsupported.
pub(crate) fn record_for(name: &str) -> Option<Record> {
    // Kong 3.10 kong/db/schema/plugin_loader.lua:16-43 (load_subschema): the
    // plugin's schema.lua specializes `config` and `protocols`, and adds
    // its entity_checks.
    let (config, protocols, checks) = match name {
        "rate-limiting" => (
            rate_limiting::config(),
            // Kong 3.10 kong/plugins/rate-limiting/schema.lua:76
            td::protocols_http(),
            rate_limiting::entity_checks(),
        ),
        "request-termination" => (
            request_termination::config(),
            // Kong 3.10 kong/plugins/request-termination/schema.lua:12
            td::protocols_http(),
            Vec::new(),
        ),
        "request-transformer" => (
            request_transformer::config(),
            // Kong 3.10 kong/plugins/request-transformer/schema.lua:127
            // (typedefs.protocols: every protocol is accepted)
            td::protocols(),
            Vec::new(),
        ),
        "response-transformer" => (
            response_transformer::config(),
            // Kong 3.10 kong/plugins/response-transformer/schema.lua:85
            td::protocols_http(),
            Vec::new(),
        ),
        "redirect" => (
            redirect::config(),
            // Kong 3.10 kong/plugins/redirect/schema.lua:7
            td::protocols_http(),
            Vec::new(),
        ),
        "key-auth" => (
            key_auth::config(),
            // Kong 3.10 kong/plugins/key-auth/schema.lua:8
            td::protocols_http(),
            Vec::new(),
        ),
        "basic-auth" => (
            basic_auth::config(),
            // Kong 3.10 kong/plugins/basic-auth/schema.lua:8
            td::protocols_http(),
            Vec::new(),
        ),
        "correlation-id" => (
            correlation_id::config(),
            // Kong 3.10 kong/plugins/correlation-id/schema.lua:7
            td::protocols_http(),
            Vec::new(),
        ),
        _ => return None,
    };
    // Kong 3.10 kong/db/schema/entities/plugins.lua:16-29 (fields, in order).
    let mut r = Record::new(vec![
        ("id", td::uuid()),                   // plugins.lua:17
        ("name", Field::string().required()), // plugins.lua:18
        ("instance_name", td::utf8_name()),   // plugins.lua:19
        ("created_at", td::timestamp()),      // plugins.lua:20
        ("updated_at", td::timestamp()),      // plugins.lua:21
        // plugins.lua:22-24; foreign keys are plain strings (name or id) in
        // declarative entries: kong/db/schema/others/declarative_config.lua:243
        ("route", td::foreign()),
        ("service", td::foreign()),
        ("consumer", td::foreign()),
        // plugins.lua:25 (abstract, specialized by the plugin's schema).
        ("config", Field::entity_record(config)),
        ("protocols", protocols), // plugins.lua:26
        ("enabled", Field::boolean().required().default(json!(true))), // plugins.lua:27
        ("tags", td::tags()),     // plugins.lua:28
    ]);
    if no_consumer(name) {
        // the subschema's `consumer` replaces the entity's (init.lua:1120-1131)
        r = r.with_field("consumer", key_auth::consumer());
    }
    r.checks = checks;
    Some(r)
}
