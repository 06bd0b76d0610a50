//! `kong.db.schema.typedefs`: the shared field definitions entities reuse.
//! Line references are to Kong 3.10 (master 22246ef28c) unless noted.

use crate::net;
use crate::schema::{Check, Field};
use crate::tls;
use serde_json::Value;

/// Kong 3.10 OSS `constants.PROTOCOLS` (sorted, as in its messages):
/// kong/constants.lua:77-91 (keys of `protocols_with_subsystem`, sorted).
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

/// Protocols of the `http` subsystem (plugins' `protocols_http`):
/// kong/db/schema/typedefs.lua:466-472.
pub(crate) const HTTP_PROTOCOLS: &[&str] = &["grpc", "grpcs", "http", "https"];

/// `typedefs.uuid`: kong/db/schema/typedefs.lua:359-364; the check is
/// kong/db/schema/init.lua:159,338-343 (36 chars, hex 8-4-4-4-12, "ioj").
pub(crate) fn uuid() -> Field {
    Field::string().check(Check::Uuid)
}

/// `typedefs.auto_timestamp_s`: kong/db/schema/typedefs.lua:367-372
/// (`timestamp` = value > 0, kong/db/schema/init.lua:334-336).
pub(crate) fn timestamp() -> Field {
    Field::integer().check(Check::Timestamp)
}

/// `typedefs.auto_timestamp_ms`: kong/db/schema/typedefs.lua:375-380.
pub(crate) fn timestamp_ms() -> Field {
    Field::number().check(Check::Timestamp)
}

/// `typedefs.tags` / `typedefs.tag` (required elements, `validate_tag`):
/// kong/db/schema/typedefs.lua:448-459.
pub(crate) fn tags() -> Field {
    Field::set(Field::string().required().custom(net::validate_tag))
}

/// `typedefs.utf8_name`: kong/db/schema/typedefs.lua:415-420 (`unique` is
/// enforced by the declarative loader, not here).
pub(crate) fn utf8_name() -> Field {
    Field::string().custom(net::validate_utf8_name)
}

/// `typedefs.host`: kong/db/schema/typedefs.lua:262-266.
pub(crate) fn host() -> Field {
    Field::string().custom(net::validate_host)
}

/// `typedefs.host_with_optional_port`: kong/db/schema/typedefs.lua:275-279.
pub(crate) fn host_with_optional_port() -> Field {
    Field::string().custom(net::validate_host_with_optional_port)
}

/// `typedefs.port`: kong/db/schema/typedefs.lua:311-315.
pub(crate) fn port() -> Field {
    Field::integer().between(0.0, 65535.0)
}

/// `typedefs.timeout` (0 .. 2^31-2): kong/db/schema/typedefs.lua:352-356.
pub(crate) fn timeout() -> Field {
    Field::integer().between(0.0, 2_147_483_646.0)
}

/// `typedefs.path`'s `match_none` pattern `//`: kong/db/schema/typedefs.lua:321-325.
fn has_empty_segment(s: &str) -> bool {
    s.contains("//")
}

/// `validate_path` used as a plain custom validator (its third return, the
/// error code, only matters to routes): kong/db/schema/typedefs.lua:71-93.
fn path_custom(p: &str) -> Result<(), String> {
    net::validate_path(p).map_err(|e| match e {
        net::PathErr::Rfc3986(m) | net::PathErr::Percent(m) => m,
    })
}

/// `typedefs.path`: kong/db/schema/typedefs.lua:318-328. Validator order
/// (starts_with, match_none, custom_validator) is kong/db/schema/init.lua:388-420.
pub(crate) fn path() -> Field {
    Field::string()
        .check(Check::StartsWith("/"))
        .check(Check::MatchNone(vec![(
            has_empty_segment,
            "must not have empty segments",
        )]))
        .custom(path_custom)
}

/// `typedefs.http_method`: `match = "^%u+$"` (Lua's `%u` is A-Z):
/// kong/db/schema/typedefs.lua:247-251.
pub(crate) fn http_method() -> Field {
    Field::string().check(Check::Match(|s| {
        !s.is_empty() && s.bytes().all(|b| b.is_ascii_uppercase())
    }))
}

/// `typedefs.url`: a URL that luasocket's `url.parse` finds a host and a
/// scheme in. kong/db/schema/typedefs.lua:205-221 (validate_url), 331-335.
pub(crate) fn url() -> Field {
    Field::string().custom(net::validate_url)
}

/// `typedefs.header_name`: kong/db/schema/typedefs.lua:345-349
/// (`tools_http.validate_header_name`, kong/tools/http.lua:281-292).
pub(crate) fn header_name() -> Field {
    Field::string().custom(net::validate_header_name)
}

/// `typedefs.sni`: kong/db/schema/typedefs.lua:422-426.
pub(crate) fn sni() -> Field {
    Field::string().custom(net::validate_sni)
}

/// `typedefs.protocol`: kong/db/schema/typedefs.lua:254-259.
pub(crate) fn protocol() -> Field {
    Field::string().one_of(PROTOCOLS)
}

/// `typedefs.protocols` (request-transformer's): every protocol, defaulting
/// to the http ones. kong/db/schema/typedefs.lua:466-480.
pub(crate) fn protocols() -> Field {
    Field::set(protocol())
        .required()
        .default(Value::from(HTTP_PROTOCOLS.to_vec()))
}

/// `typedefs.protocols_http`, which most supported plugins use:
/// kong/db/schema/typedefs.lua:482-488.
pub(crate) fn protocols_http() -> Field {
    Field::set(Field::string().one_of(HTTP_PROTOCOLS))
        .required()
        .default(Value::from(HTTP_PROTOCOLS.to_vec()))
}

/// `typedefs.wildcard_host` (SNI names): one `*`, as the first or last
/// character, then the host must be a name without a port. Kong does not
/// lower-case it. kong/db/schema/typedefs.lua:282-286.
pub(crate) fn wildcard_host() -> Field {
    Field::string().custom(net::validate_wildcard_host)
}

/// Not Kong: Kong skips validation of a reference in a `referenceable`
/// field (kong/db/schema/init.lua:995-997; certificates.lua:19-22 mark
/// cert/key referenceable) and resolves it later. The double refuses.
fn no_reference(s: &str) -> Result<(), String> {
    if tls::is_reference(s) {
        // referenceable fields: Kong resolves `{vault://…}` at run time
        return Err("vault references are not supported by the Kong admin API test double".into());
    }
    Ok(())
}

/// kong/db/schema/typedefs.lua:224-231 (`validate_certificate`):
/// "invalid certificate: " .. x509.new's error.
fn validate_certificate(s: &str) -> Result<(), String> {
    tls::parse_certificate(s)
        .map(|_| ())
        .map_err(|e| format!("invalid certificate: {e}"))
}

/// `validate_certificate` of a field marked `referenceable`.
fn validate_referenceable_certificate(s: &str) -> Result<(), String> {
    no_reference(s)?;
    validate_certificate(s)
}

/// kong/db/schema/typedefs.lua:234-241 (`validate_key`): "invalid key: " ..
/// pkey.new's error (prefix added by `KeyError::message`).
fn validate_key(s: &str) -> Result<(), String> {
    no_reference(s)?;
    tls::parse_private_key(s)
        .map(|_| ())
        .map_err(|e| e.message())
}

/// `typedefs.certificate`: a PEM certificate `x509.new` loads.
/// kong/db/schema/typedefs.lua:435-439. The typedef is not referenceable,
/// so a `{vault://…}` string is validated as a certificate (and fails):
/// ca_certificates.lua:20 uses it so.
pub(crate) fn certificate() -> Field {
    Field::string().custom(validate_certificate)
}

/// `typedefs.certificate { referenceable = true }`: certificates.lua:19, 21.
/// Kong skips validating a reference there (init.lua:995-997); the double
/// refuses it (`no_reference`).
pub(crate) fn referenceable_certificate() -> Field {
    Field::string().custom(validate_referenceable_certificate)
}

/// `typedefs.key`: a PEM private key `pkey.new` loads.
/// kong/db/schema/typedefs.lua:442-446 (referenceable via certificates.lua:20,22).
pub(crate) fn key() -> Field {
    Field::string().custom(validate_key)
}

/// A foreign key as written at the top level of a declarative config: the
/// referenced entity's endpoint key or id. Kong turns `foreign` fields into
/// strings there: kong/db/schema/others/declarative_config.lua:228-250.
pub(crate) fn foreign() -> Field {
    Field::string()
}
