//! `kong/db/schema/entities/certificates.lua` (Kong 3.x): a cert/key pair
//! (plus an optional alternative pair of another key type) that SNIs point
//! to. The typedefs parse `cert`/`key` (see [`crate::tls`]); the entity
//! checks compare the certificate's public key with the key's.
//! Kong 3.10 (master 22246ef28c) kong/db/schema/entities/certificates.lua.

use crate::schema::{EntityCheck, Record};
use crate::tls;
use crate::typedefs as td;
use serde_json::{Map, Value};

// certificates.lua:66-68
const TYPE_CLASH: &str = "certificate and alternative certificate need to have \
                          different type (e.g. RSA and ECDSA), the provided \
                          certificates were both of the same type";

/// `cert:get_pubkey():to_PEM() ~= key:to_PEM("public")`. Both fields
/// passed their typedefs (the check is skipped otherwise, kong/db/schema/
/// init.lua:1323-1329), so they parse. certificates.lua:32-35, 46-49.
fn pair_matches(cert: &str, key: &str) -> bool {
    match (tls::parse_certificate(cert), tls::parse_private_key(key)) {
        (Ok(c), Ok(k)) => tls::matches(&c, &k),
        _ => false,
    }
}

fn strings<'a>(e: &'a Map<String, Value>, a: &str, b: &str) -> Option<(&'a str, &'a str)> {
    Some((e.get(a)?.as_str()?, e.get(b)?.as_str()?))
}

/// certificates.lua:29-41.
fn check_pair(e: &Map<String, Value>) -> Result<(), String> {
    match strings(e, "cert", "key") {
        Some((c, k)) if !pair_matches(c, k) => Err("certificate does not match key".into()),
        _ => Ok(()),
    }
}

/// certificates.lua:42-56 (runs only when both are strings, line 45).
fn check_alt_pair(e: &Map<String, Value>) -> Result<(), String> {
    match strings(e, "cert_alt", "key_alt") {
        Some((c, k)) if !pair_matches(c, k) => {
            Err("alternative certificate does not match key".into())
        }
        _ => Ok(()),
    }
}

/// `get_key_type().id` of both certificates must differ (RSA vs EC, ...).
/// certificates.lua:57-74; the double compares the SPKI algorithm OID, which
/// maps 1:1 to the EVP_PKEY base id for the key types it models.
fn check_types(e: &Map<String, Value>) -> Result<(), String> {
    let Some((c, alt)) = strings(e, "cert", "cert_alt") else {
        return Ok(());
    };
    match (tls::parse_certificate(c), tls::parse_certificate(alt)) {
        (Ok(a), Ok(b)) if a.algorithm == b.algorithm => Err(TYPE_CLASH.into()),
        _ => Ok(()),
    }
}

pub(crate) fn record() -> Record {
    // fields: certificates.lua:15-25 (the transient `snis` array of
    // wildcard_host, line 24, is not modelled here: in a declarative config
    // `snis` under a certificate are nested SNI entities, see entities::DEFS)
    let mut r = Record::new(vec![
        ("id", td::uuid()),
        ("created_at", td::timestamp()),
        ("updated_at", td::timestamp()),
        ("cert", td::referenceable_certificate().required()),
        ("key", td::key().required()),
        ("cert_alt", td::referenceable_certificate()),
        ("key_alt", td::key()),
        ("tags", td::tags()),
    ]);
    r.checks = vec![
        // certificates.lua:28
        EntityCheck::MutuallyRequired(&["cert_alt", "key_alt"]),
        EntityCheck::Custom {
            fields: &["cert", "key"],
            f: check_pair,
        },
        EntityCheck::Custom {
            fields: &["cert_alt", "key_alt"],
            f: check_alt_pair,
        },
        EntityCheck::Custom {
            fields: &["cert", "cert_alt"],
            f: check_types,
        },
    ];
    r
}
