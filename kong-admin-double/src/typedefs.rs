//! `kong.db.schema.typedefs`: the shared field definitions entities reuse.

use crate::net;
use crate::schema::{Check, Field};
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

pub(crate) fn timestamp() -> Field {
    Field::integer().check(Check::Gt(-1.0))
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

/// A foreign key as written at the top level of a declarative config: the
/// referenced entity's endpoint key or id.
pub(crate) fn foreign() -> Field {
    Field::string()
}
