//! `kong/db/schema/entities/ca_certificates.lua` (Kong 3.10, master
//! 22246ef28c): one PEM CA certificate that services (`ca_certificates`, an
//! array of ids, services.lua:47) and some plugins trust. Fields at lines
//! 16-23, the entity check at 38-66.
//!
//! `cert_digest` (line 21, `unique`) is filled by a transformation (25-36)
//! that Kong runs only when it loads the flattened config into LMDB
//! (kong/db/declarative/import.lua:468-478), after `flatten` has checked
//! uniqueness (declarative_config.lua:928-943). So `/config` compares only
//! digests the config itself gives (see `declarative::check_references`), and
//! two entries with the same `cert` and no `cert_digest` are accepted (LMDB's
//! unique index is overwritten, import.lua:351-362). The double, like
//! Kong's 201 body, does not compute the digest.

use crate::schema::{EntityCheck, Field, Record};
use crate::tls;
use crate::typedefs as td;
use serde_json::{Map, Value};

// ca_certificates.lua:8-9
const CERT_TAG: &[u8] = b"-----BEGIN CERTIFICATE-----";

/// Lua's `find(s, tag, init, true)` with a 0-based `from` (Lua's `init - 1`):
/// `None` when `from` is past the end, as Lua's find returns nil there.
fn find_from(s: &[u8], from: usize) -> Option<usize> {
    let hay = s.get(from..)?;
    hay.windows(CERT_TAG.len())
        .position(|w| w == CERT_TAG)
        .map(|p| p + from)
}

/// ca_certificates.lua:44-47: a second `-----BEGIN CERTIFICATE-----` is
/// searched from `seen + CERT_TAG_LEN + 1` (1-based), i.e. one byte after the
/// first tag ends. Plain text search: the tag inside text around the block
/// counts, an `X509 CERTIFICATE` block does not.
fn more_than_one(cert: &str) -> bool {
    let b = cert.as_bytes();
    find_from(b, 0).is_some_and(|seen| find_from(b, seen + CERT_TAG.len() + 1).is_some())
}

/// `ngx.time()` (ca_certificates.lua:52).
fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The custom_entity_check, ca_certificates.lua:39-65. It only runs once
/// `cert` passed its typedef (init.lua:773, 1317-1329), so `x509.new`
/// succeeds here as it does in Kong (line 49).
fn check(e: &Map<String, Value>) -> Result<(), String> {
    let Some(cert) = e.get("cert").and_then(Value::as_str) else {
        // all fields nil: not run (init.lua:1331-1334)
        return Ok(());
    };
    if more_than_one(cert) {
        // ca_certificates.lua:46
        return Err("please submit only one certificate at a time".into());
    }
    let Ok(view) = tls::ca_view(cert) else {
        return Ok(());
    };
    // ca_certificates.lua:51-56 (`not_after < now`: a certificate expiring
    // this very second is still accepted)
    if view.not_after < now() {
        return Err("certificate expired, \"Not After\" time is in the past".into());
    }
    // ca_certificates.lua:58-61 (notBefore is not checked)
    if !view.ca {
        return Err("certificate does not appear to be a CA because \
                    it is missing the \"CA\" basic constraint"
            .into());
    }
    Ok(())
}

pub(crate) fn record() -> Record {
    // ca_certificates.lua:16-23
    let mut r = Record::new(vec![
        ("id", td::uuid()),
        ("created_at", td::timestamp()),
        ("updated_at", td::timestamp()),
        // line 20: typedefs.certificate, required, not referenceable
        ("cert", td::certificate().required()),
        // line 21: any string (uniqueness: declarative_config.lua:928-943)
        ("cert_digest", Field::string()),
        ("tags", td::tags()),
    ]);
    // ca_certificates.lua:38-66 (field_sources = { "cert" }, line 40)
    r.checks = vec![EntityCheck::Custom {
        fields: &["cert"],
        f: check,
    }];
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_tag_search_starts_one_byte_after_the_first() {
        let tag = "-----BEGIN CERTIFICATE-----";
        assert!(!more_than_one(tag));
        assert!(!more_than_one("no tag at all"));
        assert!(more_than_one(&format!("{tag}\n{tag}")));
        // directly adjacent: Lua's init skips the first byte of the second tag
        assert!(!more_than_one(&format!("{tag}{tag}")));
        assert!(more_than_one(&format!("junk {tag} x {tag}")));
        // multi-byte text before the tags is counted in bytes, as Lua does
        assert!(more_than_one(&format!("é{tag}é{tag}")));
        assert!(!more_than_one(&format!("{tag}é")));
    }
}
