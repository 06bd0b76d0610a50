//! `kong.db.schema.typedefs`: the shared field definitions entities reuse.

use crate::net;
use crate::schema::{Check, Field};
use crate::tls;
use serde_json::Value;

/// Kong 3.10 OSS `constants.PROTOCOLS` (sorted, as in its messages).
pub(crate) const PROTOCOLS: &[&str] = &[
    "grpc",
    "grpcs",
    "http",
    "https",
    "tcp",
    "tls",
    "tls_passthrough",
    "udp",
];

/// Protocols of the `http` subsystem (plugins' `protocols_http`).
pub(crate) const HTTP_PROTOCOLS: &[&str] = &["grpc", "grpcs", "http", "https"];

pub(crate) fn uuid() -> Field {
    Field::string().check(Check::Uuid)
}

/// `typedefs.auto_timestamp_s`.
pub(crate) fn timestamp() -> Field {
    Field::integer().check(Check::Timestamp)
}

/// `typedefs.auto_timestamp_ms`.
pub(crate) fn timestamp_ms() -> Field {
    Field::number().check(Check::Timestamp)
}

pub(crate) fn tags() -> Field {
    Field::set(Field::string().required().custom(net::validate_tag))
}

pub(crate) fn utf8_name() -> Field {
    Field::string().custom(net::validate_utf8_name)
}

pub(crate) fn host() -> Field {
    Field::string().custom(net::validate_host)
}

pub(crate) fn host_with_optional_port() -> Field {
    Field::string().custom(net::validate_host_with_optional_port)
}

pub(crate) fn port() -> Field {
    Field::integer().between(0.0, 65535.0)
}

pub(crate) fn timeout() -> Field {
    Field::integer().between(0.0, 2_147_483_646.0)
}

fn has_empty_segment(s: &str) -> bool {
    s.contains("//")
}

fn path_custom(p: &str) -> Result<(), String> {
    net::validate_path(p).map_err(|e| match e {
        net::PathErr::Rfc3986(m) | net::PathErr::Percent(m) => m,
    })
}

pub(crate) fn path() -> Field {
    Field::string()
        .check(Check::StartsWith("/"))
        .check(Check::MatchNone(vec![(
            has_empty_segment,
            "must not have empty segments",
        )]))
        .custom(path_custom)
}

pub(crate) fn header_name() -> Field {
    Field::string().custom(net::validate_header_name)
}

pub(crate) fn sni() -> Field {
    Field::string().custom(net::validate_sni)
}

pub(crate) fn protocol() -> Field {
    Field::string().one_of(PROTOCOLS)
}

/// `typedefs.protocols_http`, which the two supported plugins use.
pub(crate) fn protocols_http() -> Field {
    Field::set(Field::string().one_of(HTTP_PROTOCOLS))
        .required()
        .default(Value::from(HTTP_PROTOCOLS.to_vec()))
}

/// `typedefs.wildcard_host` (SNI names): one `*`, as the first or last
/// character, then the host must be a name without a port. Kong does not
/// lower-case it.
pub(crate) fn wildcard_host() -> Field {
    Field::string().custom(net::validate_wildcard_host)
}

fn no_reference(s: &str) -> Result<(), String> {
    if tls::is_reference(s) {
        // referenceable fields: Kong resolves `{vault://…}` at run time
        return Err("vault references are not supported by the Kong admin API test double".into());
    }
    Ok(())
}

fn validate_certificate(s: &str) -> Result<(), String> {
    no_reference(s)?;
    tls::parse_certificate(s)
        .map(|_| ())
        .map_err(|e| format!("invalid certificate: {e}"))
}

fn validate_key(s: &str) -> Result<(), String> {
    no_reference(s)?;
    tls::parse_private_key(s)
        .map(|_| ())
        .map_err(|e| e.message())
}

/// `typedefs.certificate` (referenceable): a PEM certificate `x509.new` loads.
pub(crate) fn certificate() -> Field {
    Field::string().custom(validate_certificate)
}

/// `typedefs.key` (referenceable): a PEM private key `pkey.new` loads.
pub(crate) fn key() -> Field {
    Field::string().custom(validate_key)
}

/// A foreign key as written at the top level of a declarative config: the
/// referenced entity's endpoint key or id.
pub(crate) fn foreign() -> Field {
    Field::string()
}
