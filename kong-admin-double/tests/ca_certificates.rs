//! CA certificates (Kong 3.10 kong/db/schema/entities/ca_certificates.lua)
//! and the services that trust them, with certificates made by `openssl`
//! (tests/fixtures/ca, see its README).

mod common;

use common::{dc, fields};
use kong_admin_double::validate;
use serde_json::{Value, json};

/// EC P-256, `basicConstraints = critical,CA:TRUE`, valid until 2126.
const CA: &str = include_str!("fixtures/ca/ca.crt");
/// Signed by CA: `basicConstraints = critical,CA:FALSE`.
const LEAF: &str = include_str!("fixtures/ca/leaf.crt");
/// No extensions at all (an X.509 v1 certificate).
const NO_BC: &str = include_str!("fixtures/ca/no-basic-constraints.crt");
/// `CA:TRUE`, notAfter 2001-01-01T00:00:00Z.
const EXPIRED: &str = include_str!("fixtures/ca/expired-ca.crt");
/// An RSA `CA:TRUE` certificate from the certificates fixtures.
const RSA_CA: &str = include_str!("fixtures/tls/rsa.crt");

const CA_ID: &str = "0b5e3f3c-3c1e-4a4e-9d6a-3b7f1c2d4e5f";
const CA_ID2: &str = "7d9c1b0a-5e4f-4c3b-8a29-1f0e9d8c7b6a";

// ca_certificates.lua:46, 55, 59-60
const ONE_AT_A_TIME: &str = "please submit only one certificate at a time";
const EXPIRED_MSG: &str = "certificate expired, \"Not After\" time is in the past";
const NOT_CA: &str =
    "certificate does not appear to be a CA because it is missing the \"CA\" basic constraint";

fn accepted(cfg: Value) -> kong_admin_double::ValidConfig {
    match validate(&cfg) {
        Ok(v) => v,
        Err(e) => panic!("Kong accepts {cfg}, the double said {}", e.fields_json()),
    }
}

/// Errors of the first ca_certificate.
fn ca_errs(c: Value) -> Value {
    fields(dc(json!({ "ca_certificates": [c] })))["ca_certificates"][0].clone()
}

#[test]
fn a_ca_certificate_is_accepted() {
    let v = accepted(dc(json!({"ca_certificates": [
        {"cert": CA, "tags": ["kingress"], "_comment": "c"},
        {"cert": RSA_CA, "id": CA_ID},
    ]})));
    let cas = v.entities("ca_certificates");
    assert_eq!(cas.len(), 2);
    assert_eq!(cas[0]["cert"], CA);
    assert_eq!(cas[0]["tags"], json!(["kingress"]));
    // no endpoint or cache key: Kong picks a random id (init.lua:1910-1913)
    assert!(cas[0]["id"].as_str().is_some_and(|s| s.len() == 36));
    assert!(cas[0].get("_comment").is_none());
    assert_eq!(cas[1]["id"], CA_ID);
    // cert_digest is computed only when Kong loads the config into LMDB
    // (import.lua:468-478), not in flatten's output
    assert!(cas[0].get("cert_digest").is_none());
    // text around the block is skipped, as OpenSSL does; a following
    // `X509 CERTIFICATE` block is not the tag ca_certificates.lua:8 looks for
    let noisy = format!(
        "subject=CN = test CA\r\n{}{}",
        CA.replace('\n', "\r\n"),
        LEAF.replace(" CERTIFICATE-----", " X509 CERTIFICATE-----")
    );
    accepted(dc(json!({"ca_certificates": [{"cert": noisy}]})));
}

/// ca_certificates.lua:39-65, in its order: one certificate, not expired, CA.
#[test]
fn the_entity_check() {
    let entity = |m: &str| json!({"@entity": [m]});
    assert_eq!(ca_errs(json!({"cert": LEAF})), entity(NOT_CA));
    assert_eq!(ca_errs(json!({"cert": NO_BC})), entity(NOT_CA));
    assert_eq!(ca_errs(json!({"cert": EXPIRED})), entity(EXPIRED_MSG));
    // a chain, even of CAs, is refused before anything is parsed
    assert_eq!(
        ca_errs(json!({"cert": format!("{CA}{RSA_CA}")})),
        entity(ONE_AT_A_TIME)
    );
    assert_eq!(
        ca_errs(json!({"cert": format!("{EXPIRED}{LEAF}")})),
        entity(ONE_AT_A_TIME)
    );
    // the tag counts anywhere, even in text after the block
    assert_eq!(
        ca_errs(json!({"cert": format!("{CA}-----BEGIN CERTIFICATE-----")})),
        entity(ONE_AT_A_TIME)
    );
    // beside field errors (it runs: only `cert` gates it, init.lua:1317-1329)
    assert_eq!(
        ca_errs(json!({"cert": LEAF, "tags": ["a/b"], "key": "k"})),
        json!({
            "@entity": [NOT_CA],
            "key": "unknown field",
            "tags": ["invalid tag 'a/b': expected printable ascii (except `,` and `/`) or valid utf-8 sequences"]
        })
    );
}

#[test]
fn field_rules() {
    // ca_certificates.lua:20 (required); the check does not run without cert
    // (init.lua:1331-1334)
    assert_eq!(
        ca_errs(json!({})),
        json!({"cert": "required field missing"})
    );
    assert_eq!(
        ca_errs(json!({"cert": null})),
        json!({"cert": "required field missing"})
    );
    assert_eq!(
        ca_errs(json!({"cert": "", "cert_digest": 1, "id": "x", "created_at": 0})),
        json!({
            "cert": "length must be at least 1",
            "cert_digest": "expected a string",
            "id": "expected a valid UUID",
            "created_at": "expected a valid timestamp"
        })
    );
    // typedefs.lua:224-231, 435-439; an invalid cert skips the entity check
    assert_eq!(
        ca_errs(json!({"cert": "not a certificate"})),
        json!({"cert": "invalid certificate: x509.new: no start line"})
    );
    // typedefs.certificate is not referenceable (unlike certificates.lua:19):
    // a vault reference is parsed as a certificate, and fails
    assert_eq!(
        ca_errs(json!({"cert": "{vault://env/ca}"})),
        json!({"cert": "invalid certificate: x509.new: no start line"})
    );
    let not_der = "-----BEGIN CERTIFICATE-----\nAQIDBA==\n-----END CERTIFICATE-----\n";
    let msg = ca_errs(json!({"cert": not_der}))["cert"].clone();
    assert!(
        msg.as_str()
            .unwrap()
            .starts_with("invalid certificate: x509.new: asn1"),
        "{msg}"
    );
    // a `cert_digest` of its own is any string (line 21)
    accepted(dc(json!({"ca_certificates": [
        {"cert": CA, "cert_digest": "not-a-digest", "created_at": 1, "updated_at": "x"}
    ]})));
}

/// flatten's uniqueness pass (declarative_config.lua:928-943) sees only the
/// digests the config gives; Kong computes them later (import.lua:468-478)
/// and overwrites LMDB's unique index without complaint (351-362).
#[test]
fn cert_digest_uniqueness() {
    let v = accepted(dc(json!({"ca_certificates": [{"cert": CA}, {"cert": CA}]})));
    assert_eq!(v.entities("ca_certificates").len(), 2);
    let d = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    accepted(dc(json!({"ca_certificates": [
        {"cert": CA, "cert_digest": d}, {"cert": CA}
    ]})));
    let e = fields(dc(json!({"ca_certificates": [
        {"cert": CA, "cert_digest": d},
        {"cert": CA, "cert_digest": d, "id": CA_ID},
        {"cert": RSA_CA, "cert_digest": d, "id": CA_ID2},
    ]})));
    // keyed by id (no endpoint_key, 936-937), and only the last hit is kept
    // (errs[entity] is rebuilt for each one, 935)
    assert_eq!(
        e,
        json!({"ca_certificates": {CA_ID2: format!(
            "uniqueness violation: 'ca_certificates' entity with cert_digest set to '{d}' already declared"
        )}})
    );
    // not reached when validate_references fails (declarative_config.lua:890-893)
    let e = fields(dc(json!({
        "ca_certificates": [{"cert": CA, "cert_digest": d}, {"cert": CA, "cert_digest": d}],
        "routes": [{"name": "r", "paths": ["/"], "service": "missing"}]
    })));
    assert_eq!(
        e,
        json!({"routes": {"r": ["invalid reference 'service: missing' (no such entry in 'services')"]}})
    );
    // primary keys: declarative_config.lua:426-436
    let e = fields(dc(json!({"ca_certificates": [
        {"cert": CA, "id": CA_ID}, {"cert": RSA_CA, "id": CA_ID}
    ]})));
    assert_eq!(
        e,
        json!({"ca_certificates": [null, format!(
            "uniqueness violation: 'ca_certificates' entity with primary key set to '{CA_ID}' already declared"
        )]})
    );
}

/// services.lua:47: `ca_certificates` is an array of uuids, not a `foreign`
/// field, so `/config` never resolves it (declarative_config.lua:438-452 and
/// 918-922 handle `foreign` fields only); a missing CA surfaces when a
/// request needs the store (kong/runloop/certificate.lua:395-414).
#[test]
fn services_trust_ca_certificates_by_id() {
    let svc = |ids: Value| {
        json!({"name": "s", "host": "h", "protocol": "https", "tls_verify": true,
               "tls_verify_depth": 2, "ca_certificates": ids})
    };
    let v = accepted(dc(json!({
        "ca_certificates": [{"cert": CA, "id": CA_ID}, {"cert": RSA_CA, "id": CA_ID2}],
        "services": [svc(json!([CA_ID, CA_ID2]))]
    })));
    assert_eq!(v.services()[0]["ca_certificates"], json!([CA_ID, CA_ID2]));
    assert_eq!(v.entities("ca_certificates")[0]["id"], CA_ID);
    // a uuid no ca_certificate has is accepted all the same
    let v = accepted(dc(json!({"services": [svc(json!([CA_ID]))]})));
    assert_eq!(v.services()[0]["ca_certificates"], json!([CA_ID]));
    // the field's own rules: uuids (services.lua:47), only for https/tls
    // services (services.lua:69-72)
    let e = fields(dc(json!({"services": [svc(json!(["not-a-uuid"]))]})));
    assert_eq!(
        e["services"][0],
        json!({"ca_certificates": [ "expected a valid UUID"]})
    );
    let mut http = svc(json!([CA_ID]));
    http["protocol"] = json!("http");
    http.as_object_mut().unwrap().remove("tls_verify");
    http.as_object_mut().unwrap().remove("tls_verify_depth");
    let e = fields(dc(json!({"services": [http]})));
    assert_eq!(
        e["services"][0],
        json!({
            "@entity": ["failed conditional validation given value of field 'protocol'"],
            "ca_certificates": "value must be null"
        })
    );
    // a ca_certificate cannot be nested in a service
    let nested = svc(json!([{"cert": CA}]));
    let e = fields(dc(json!({"services": [nested]})));
    assert_eq!(
        e["services"][0],
        json!({"ca_certificates": ["expected a string"]})
    );
}

#[test]
fn flattened_ca_certificate_errors() {
    let err = validate(&dc(json!({"ca_certificates": [
        {"cert": LEAF, "id": CA_ID, "tags": ["t"]}
    ]})))
    .unwrap_err();
    let flat = err.flattened_errors();
    assert_eq!(flat.len(), 1, "{flat:?}");
    assert_eq!(flat[0]["entity_type"], "ca_certificate");
    assert_eq!(flat[0]["entity_id"], CA_ID);
    assert_eq!(flat[0]["entity_tags"], json!(["t"]));
    assert_eq!(
        flat[0]["errors"],
        json!([{"type": "entity", "message": NOT_CA}])
    );
}
