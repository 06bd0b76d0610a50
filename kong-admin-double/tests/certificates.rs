//! Certificates and SNIs, with real keys made by `openssl` (tests/fixtures/tls).

mod common;

use common::{dc, fields};
use kong_admin_double::validate;
use serde_json::{Value, json};

const RSA_CRT: &str = include_str!("fixtures/tls/rsa.crt");
const RSA_KEY: &str = include_str!("fixtures/tls/rsa.key");
const RSA_PKCS1_KEY: &str = include_str!("fixtures/tls/rsa-pkcs1.key");
const RSA_ENCRYPTED_KEY: &str = include_str!("fixtures/tls/rsa-encrypted.key");
const RSA_PUBLIC: &str = include_str!("fixtures/tls/rsa-public.pem");
const OTHER_RSA_KEY: &str = include_str!("fixtures/tls/other-rsa.key");
const EC_CRT: &str = include_str!("fixtures/tls/ec.crt");
const EC_KEY: &str = include_str!("fixtures/tls/ec.key");
const EC_SEC1_KEY: &str = include_str!("fixtures/tls/ec-sec1.key");
const OTHER_EC_KEY: &str = include_str!("fixtures/tls/other-ec.key");
const EC384_CRT: &str = include_str!("fixtures/tls/ec384.crt");
const EC384_KEY: &str = include_str!("fixtures/tls/ec384.key");
const ED_CRT: &str = include_str!("fixtures/tls/ed25519.crt");
const ED_KEY: &str = include_str!("fixtures/tls/ed25519.key");

const CERT_ID: &str = "8aade13c-1470-46bd-9849-9a74e349214f";

fn cert(c: &str, k: &str) -> Value {
    json!({"cert": c, "key": k})
}

/// Errors of the first certificate.
fn cert_errs(c: Value) -> Value {
    fields(dc(json!({ "certificates": [c] })))["certificates"][0].clone()
}

fn accepted(cfg: Value) -> kong_admin_double::ValidConfig {
    match validate(&cfg) {
        Ok(v) => v,
        Err(e) => panic!("Kong accepts {cfg}, the double said {}", e.fields_json()),
    }
}

#[test]
fn matching_pairs_in_every_supported_encoding() {
    for (c, k) in [
        (RSA_CRT, RSA_KEY),
        (RSA_CRT, RSA_PKCS1_KEY),
        (EC_CRT, EC_KEY),
        (EC_CRT, EC_SEC1_KEY),
        (EC384_CRT, EC384_KEY),
    ] {
        accepted(dc(json!({ "certificates": [cert(c, k)] })));
    }
    // a chain: the leaf (first) certificate is the one compared
    let chain = format!("{EC_CRT}{RSA_CRT}");
    accepted(dc(json!({ "certificates": [cert(&chain, EC_KEY)] })));
    // text around the PEM blocks is skipped, as OpenSSL does
    let noisy = format!("subject=CN = rsa\r\n{}", RSA_CRT.replace('\n', "\r\n"));
    accepted(dc(json!({ "certificates": [cert(&noisy, RSA_KEY)] })));
}

#[test]
fn mismatched_pairs() {
    let mismatch = json!({"@entity": ["certificate does not match key"]});
    assert_eq!(cert_errs(cert(RSA_CRT, OTHER_RSA_KEY)), mismatch);
    assert_eq!(cert_errs(cert(RSA_CRT, EC_KEY)), mismatch);
    assert_eq!(cert_errs(cert(EC_CRT, EC384_KEY)), mismatch);
    assert_eq!(cert_errs(cert(EC_CRT, OTHER_EC_KEY)), mismatch);
    // a supported key against a certificate of another key type
    assert_eq!(cert_errs(cert(ED_CRT, RSA_KEY)), mismatch);
}

#[test]
fn garbage_pem() {
    let e = cert_errs(cert("not a certificate", "not a key"));
    assert_eq!(e["cert"], "invalid certificate: x509.new: no start line");
    assert_eq!(e["key"], "invalid key: pkey.new:load_key: no start line");
    // the old golden fixture: a PEM frame around something that is not base64 DER
    let fake =
        "-----BEGIN CERTIFICATE-----\nMIIBtest-certificate-not-real\n-----END CERTIFICATE-----\n";
    let e = cert_errs(cert(fake, RSA_KEY));
    let msg = e["cert"].as_str().unwrap();
    assert!(msg.starts_with("invalid certificate: x509.new: "), "{msg}");
    assert_eq!(e.as_object().unwrap().len(), 1, "{e}");
    // valid base64, not a certificate
    let not_der = "-----BEGIN CERTIFICATE-----\nAQIDBA==\n-----END CERTIFICATE-----\n";
    let msg = cert_errs(cert(not_der, RSA_KEY))["cert"].clone();
    assert!(
        msg.as_str()
            .unwrap()
            .starts_with("invalid certificate: x509.new: asn1")
    );
    // a truncated key
    let cut = &RSA_KEY[..RSA_KEY.len() / 2];
    let msg = cert_errs(cert(RSA_CRT, cut))["key"].clone();
    assert!(
        msg.as_str()
            .unwrap()
            .starts_with("invalid key: pkey.new:load_key: ")
    );
    // a certificate where the key goes
    let msg = cert_errs(cert(RSA_CRT, RSA_CRT))["key"].clone();
    assert_eq!(msg, "invalid key: pkey.new:load_key: no start line");
}

#[test]
fn keys_kong_cannot_load_or_the_double_cannot_judge() {
    let e = cert_errs(cert(RSA_CRT, RSA_ENCRYPTED_KEY));
    assert_eq!(
        e["key"],
        "invalid key: pkey.new:load_key: encrypted key without a passphrase"
    );
    let e = cert_errs(cert(RSA_CRT, RSA_PUBLIC));
    assert_eq!(
        e["key"],
        "a public key as a certificate's key is not supported by the Kong admin API test double"
    );
    let e = cert_errs(cert(ED_CRT, ED_KEY));
    assert_eq!(
        e["key"],
        "key type 1.3.101.112 is not supported by the Kong admin API test double"
    );
    let e = cert_errs(cert("{vault://env/cert}", "{vault://env/key}"));
    let refused = "vault references are not supported by the Kong admin API test double";
    assert_eq!(e, json!({"cert": refused, "key": refused}));
}

#[test]
fn required_and_typed_fields() {
    assert_eq!(
        cert_errs(json!({})),
        json!({"cert": "required field missing", "key": "required field missing"})
    );
    assert_eq!(
        cert_errs(json!({"cert": "", "key": 1, "id": "x", "tags": ["a,b"]})),
        json!({
            "cert": "length must be at least 1",
            "key": "expected a string",
            "id": "expected a valid UUID",
            "tags": ["invalid tag 'a,b': expected printable ascii (except `,` and `/`) or valid utf-8 sequences"]
        })
    );
}

#[test]
fn alternative_pair() {
    let mut c = cert(RSA_CRT, RSA_KEY);
    c["cert_alt"] = json!(EC_CRT);
    c["key_alt"] = json!(EC_KEY);
    accepted(dc(json!({ "certificates": [c.clone()] })));
    c["key_alt"] = json!(EC384_KEY);
    assert_eq!(
        cert_errs(c.clone()),
        json!({"@entity": ["alternative certificate does not match key"]})
    );
    c.as_object_mut().unwrap().remove("key_alt");
    assert_eq!(
        cert_errs(c.clone()),
        json!({"@entity": ["all or none of these fields must be set: 'cert_alt', 'key_alt'"]})
    );
    let mut same = cert(EC_CRT, EC_KEY);
    same["cert_alt"] = json!(EC384_CRT);
    same["key_alt"] = json!(EC384_KEY);
    assert_eq!(
        cert_errs(same),
        json!({"@entity": ["certificate and alternative certificate need to have different type (e.g. RSA and ECDSA), the provided certificates were both of the same type"]})
    );
}

#[test]
fn nested_snis_with_and_without_the_certificate_back_reference() {
    let snis = json!([
        {"name": "a.example.com", "certificate": {"id": CERT_ID}},
        {"name": "*.example.com", "tags": ["t"]}
    ]);
    let mut c = cert(EC_CRT, EC_KEY);
    c["id"] = json!(CERT_ID);
    c["snis"] = snis;
    let v = accepted(dc(json!({ "certificates": [c] })));
    let snis = v.entities("snis");
    assert_eq!(snis.len(), 2);
    for s in snis {
        assert_eq!(s["certificate"], json!({"id": CERT_ID}));
    }
    // ids come from the name (endpoint key), like Kong's UUIDv5 scheme
    let again = accepted(dc(json!({"certificates": [{
        "cert": EC_CRT, "key": EC_KEY, "snis": [{"name": "a.example.com"}]
    }]})));
    assert_eq!(again.entities("snis")[0]["id"], snis[0]["id"]);
    let cert_out = &v.entities("certificates")[0];
    assert!(cert_out.get("snis").is_none());
    assert_eq!(cert_out["id"], CERT_ID);
}

#[test]
fn bad_nested_back_references() {
    let mut c = cert(EC_CRT, EC_KEY);
    c["snis"] = json!([{"name": "a.com", "certificate": "a-string"}]);
    assert_eq!(
        cert_errs(c.clone()),
        json!({"snis": [{"certificate": "value must be null"}]})
    );
    c["snis"] = json!([{"name": "a.com", "certificate": {"id": "nope"}}]);
    assert_eq!(
        cert_errs(c.clone()),
        json!({"snis": [{"certificate": "value must be null"}]})
    );
    // with another error, Kong merges the first pass's null errors back in
    c["snis"] = json!([
        {"name": "a.com", "certificate": {"id": CERT_ID}},
        {"name": "a b"}
    ]);
    assert_eq!(
        cert_errs(c.clone()),
        json!({"snis": [{"certificate": "value must be null"}, {"name": "invalid value: a b"}]})
    );
    // a back-reference to a certificate that is not declared
    c["snis"] = json!([{"name": "a.com", "certificate": {"id": CERT_ID}}]);
    assert_eq!(
        fields(dc(json!({ "certificates": [c] })))["snis"],
        json!({"a.com": [format!(
            "invalid reference 'certificate: {{\"id\":\"{CERT_ID}\"}}' (no such entry in 'certificates')"
        )]})
    );
}

#[test]
fn top_level_snis() {
    let mut c = cert(RSA_CRT, RSA_KEY);
    c["id"] = json!(CERT_ID);
    let ok = |sni: Value| accepted(dc(json!({"certificates": [c.clone()], "snis": [sni]})));
    let v = ok(json!({"name": "a.com", "certificate": CERT_ID}));
    assert_eq!(v.entities("snis")[0]["certificate"], json!({"id": CERT_ID}));
    // a primary key record passes Kong's second (full-schema) validation
    ok(json!({"name": "a.com", "certificate": {"id": CERT_ID}}));
    let e = fields(dc(
        json!({"certificates": [c.clone()], "snis": [{"name": "a.com"}]}),
    ));
    assert_eq!(
        e,
        json!({"snis": [{"certificate": "required field missing"}]})
    );
    let e = fields(dc(
        json!({"snis": [{"name": "a.com", "certificate": "8aade13c-0000-46bd-9849-9a74e349214f"}]}),
    ));
    assert_eq!(
        e,
        json!({"snis": {"a.com": ["invalid reference 'certificate: 8aade13c-0000-46bd-9849-9a74e349214f' (no such entry in 'certificates')"]}})
    );
    let e = fields(dc(
        json!({"snis": [{"name": "a.com", "certificate": {"name": "x"}}]}),
    ));
    assert_eq!(
        e,
        json!({"snis": [{"certificate": {"id": "missing primary key"}}]})
    );
}

/// A nested duplicate is filed under its parent (`add_error`,
/// declarative_config.lua:365-380, called at 420).
#[test]
fn sni_names_are_unique_across_certificates() {
    let mut c1 = cert(RSA_CRT, RSA_KEY);
    c1["snis"] = json!([{"name": "a.com"}]);
    let mut c2 = cert(EC_CRT, EC_KEY);
    c2["snis"] = json!([{"name": "b.com"}, {"name": "a.com"}]);
    let e = fields(dc(json!({ "certificates": [c1, c2] })));
    assert_eq!(
        e,
        json!({"certificates": [null, {"snis": [null, "uniqueness violation: 'snis' entity with name set to 'a.com' already declared"]}]})
    );
}

#[test]
fn sni_name_rules_at_nested_paths() {
    let mut c = cert(RSA_CRT, RSA_KEY);
    c["snis"] = json!([
        {"name": "a.*.com"}, {"name": "*.a.*"}, {"name": "a.com:443"}, {"name": "10.0.0.1"},
        {"name": "*.Mixed.Case.COM"}, {}
    ]);
    assert_eq!(
        cert_errs(c)["snis"],
        json!([
            {"name": "wildcard must be leftmost or rightmost character"},
            {"name": "only one wildcard must be specified"},
            {"name": "must not have a port"},
            {"name": "must not be an IP"},
            null,
            {"name": "required field missing"}
        ])
    );
}

#[test]
fn services_and_upstreams_reference_client_certificates() {
    let mut c = cert(RSA_CRT, RSA_KEY);
    c["id"] = json!(CERT_ID);
    let v = accepted(dc(json!({
        "certificates": [c.clone()],
        "services": [{"name": "s", "host": "h", "protocol": "https", "client_certificate": CERT_ID}],
        "upstreams": [{"name": "u", "client_certificate": CERT_ID}]
    })));
    assert_eq!(
        v.services()[0]["client_certificate"],
        json!({"id": CERT_ID})
    );
    assert_eq!(
        v.upstreams()[0]["client_certificate"],
        json!({"id": CERT_ID})
    );
    // nested the other way round: the service gets the certificate
    c["services"] = json!([{"name": "s", "host": "h", "protocol": "https"}]);
    let v = accepted(dc(json!({ "certificates": [c] })));
    assert_eq!(
        v.services()[0]["client_certificate"],
        json!({"id": CERT_ID})
    );
}

#[test]
fn flattened_certificate_errors() {
    let err = validate(&dc(json!({"certificates": [
        {"cert": RSA_CRT, "key": OTHER_RSA_KEY, "tags": ["t"], "snis": [{"name": "a b"}]}
    ]})))
    .unwrap_err();
    let flat = err.flattened_errors();
    let types: Vec<&str> = flat
        .iter()
        .map(|e| e["entity_type"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(types, ["sni", "certificate"], "{flat:?}");
    assert_eq!(
        flat[1]["errors"],
        json!([{"type": "entity", "message": "certificate does not match key"}])
    );
    assert_eq!(flat[0]["entity"]["name"], "a b");
}
