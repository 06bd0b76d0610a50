//! What Kong 3.10 checks of a certificate's `cert` and `key` (typedefs
//! `certificate`/`key` call lua-resty-openssl's `x509.new`/`pkey.new`; the
//! certificates entity check compares `cert:get_pubkey():to_PEM()` with
//! `key:to_PEM("public")`), in pure Rust.
//!
//! Kong's parse errors end with OpenSSL's error queue (`error:…:asn1
//! encoding routines:…:tasn_dec.c:349:`); the double keeps Kong's prefixes
//! (`x509.new: `, `pkey.new:load_key: `) and describes the failure in its
//! own words. Keys it cannot compare faithfully are refused with a message
//! saying so, never accepted blindly: only RSA (PKCS#1 or PKCS#8) and ECDSA
//! P-256/P-384 (SEC1 or PKCS#8, with their public point) are modelled.
//!
//! Sources (Kong 3.10, master 22246ef28c): kong/db/schema/typedefs.lua:224-241
//! (`validate_certificate`/`validate_key`), kong/db/schema/entities/
//! certificates.lua:29-74 (entity checks); lua-resty-openssl 1.5.1 pinned by
//! kong-latest.rockspec:37: lib/resty/openssl/x509/init.lua:71-130 (`new`),
//! lib/resty/openssl/pkey.lua:566-622 (`new`), 466-514 (loaders tried),
//! 1022-1024 (`to_PEM`), 628-630 (`get_key_type`), lib/resty/openssl/err.lua:43-109
//! (`format_error`, the OpenSSL text the double does not reproduce).

use crate::pem;
use ring::agreement;
use ring::rand::SystemRandom;
use ring::signature::{self, EcdsaKeyPair};
use x509_cert::certificate::{CertificateInner, Raw};
use x509_cert::der::Decode;
use x509_cert::der::asn1::ObjectIdentifier;

const RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
const EC: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const P256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
const P384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.34");
const ED25519: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.112");
const ED448: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.113");

/// `kong.pdk.vault.is_reference`: `{vault://…}`. kong/pdk/vault.lua:79-91.
pub(crate) fn is_reference(s: &str) -> bool {
    s.starts_with("{vault://") && s.ends_with('}')
}

/// Not Kong: the double's refusal for inputs it cannot judge (Kong, through
/// OpenSSL, may accept them).
fn unsupported(what: &str) -> String {
    format!("{what} is not supported by the Kong admin API test double")
}

/// A public key as OpenSSL would print it: equal values give equal PEM.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum PublicKey {
    Rsa {
        n: Vec<u8>,
        e: Vec<u8>,
    },
    Ec {
        curve: ObjectIdentifier,
        point: Vec<u8>,
    },
}

/// The subject public key of a certificate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct CertKey {
    /// SPKI algorithm (OpenSSL's key type: RSA, EC, ED25519, ...).
    pub algorithm: ObjectIdentifier,
    /// `None` for key types the double does not model, or a malformed key
    /// (which OpenSSL only notices when `get_pubkey` is called).
    pub key: Option<PublicKey>,
}

fn rsa_public(der: &[u8]) -> Option<PublicKey> {
    let k = pkcs1::RsaPublicKeyRef::from_der(der).ok()?;
    Some(PublicKey::Rsa {
        n: k.modulus.as_bytes().to_vec(),
        e: k.public_exponent.as_bytes().to_vec(),
    })
}

/// `x509.new(cert)`: the first PEM certificate of the chain, parsed.
/// lua-resty-openssl 1.5.1 x509/init.lua:87-117: PEM_read_bio_X509 (labels
/// CERTIFICATE / X509 CERTIFICATE), then a DER retry the double does not
/// model; errors are `format_error("x509.new")` (init.lua:116), whose OpenSSL
/// text the double replaces with its own words after the same prefix.
fn load_certificate(text: &str) -> Result<CertificateInner<Raw>, String> {
    let blocks = pem::blocks(text);
    let block = pem::first(&blocks, &["CERTIFICATE", "X509 CERTIFICATE"])
        .map_err(|e| format!("x509.new: {e}"))?;
    let der = block.der.as_ref().map_err(|e| format!("x509.new: {e}"))?;
    CertificateInner::<Raw>::from_der(der)
        // own words; OpenSSL would report an ASN1 routines reason here
        .map_err(|e| format!("x509.new: asn1 parse error: {e}"))
}

/// `x509.new(cert)` (see [`load_certificate`]) and the certificate's public key.
pub(crate) fn parse_certificate(text: &str) -> Result<CertKey, String> {
    let cert = load_certificate(text)?;
    let spki = cert.tbs_certificate().subject_public_key_info();
    let algorithm = spki.algorithm.oid;
    let bits = spki.subject_public_key.as_bytes();
    let key = match algorithm {
        RSA => bits.and_then(rsa_public),
        EC => {
            let curve = spki
                .algorithm
                .parameters
                .as_ref()
                .and_then(|p| p.decode_as::<ObjectIdentifier>().ok());
            match (curve, bits) {
                (Some(curve), Some(point)) => Some(PublicKey::Ec {
                    curve,
                    point: point.to_vec(),
                }),
                _ => None,
            }
        }
        _ => None,
    };
    Ok(CertKey { algorithm, key })
}

/// What the `ca_certificates` entity check reads of `x509.new(cert)`
/// (Kong 3.10 kong/db/schema/entities/ca_certificates.lua:49-61).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct CaView {
    /// `cert:get_not_after()`, Unix seconds: lua-resty-openssl 1.5.1
    /// x509/init.lua:542-551 converts `X509_get0_notAfter` with
    /// lib/resty/openssl/asn1.lua:26-87 (UTCTime years < 50 are 20xx, else 19xx; x509-cert
    /// reads both Time forms the same way).
    pub not_after: u64,
    /// `cert:get_basic_constraints("CA")`, see [`basic_constraints_ca`].
    pub ca: bool,
}

// id-ce-basicConstraints (RFC 5280 4.2.1.9); OpenSSL's NID_basic_constraints
const BASIC_CONSTRAINTS: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.19");

/// lua-resty-openssl 1.5.1 x509/init.lua:780-812 (`get_basic_constraints`):
/// `X509_get_ext_d2i(NID_basic_constraints)`; no such extension (crit -1,
/// 786-787) returns nil; two of them (-2, 788-790) or one OpenSSL cannot
/// decode (791-792) return nil and an error; otherwise `ctx.ca == 0xFF`
/// (797). Kong only tests the first return for truth
/// (ca_certificates.lua:58), so every one of those cases is "not a CA".
/// OpenSSL's d2i keeps a BOOLEAN's content octet as is, so a BER TRUE other
/// than 0xFF is not a CA either; the `der` crate refuses such a BOOLEAN,
/// which lands on the same answer. Where `der` is stricter than OpenSSL
/// (BER lengths, an explicit DEFAULT FALSE, bytes after the SEQUENCE inside
/// the OCTET STRING, which OpenSSL's X509V3_EXT_d2i may not look at; OpenSSL
/// source not checked) the double says "not a CA" where Kong may say CA:
/// stricter, never looser.
fn basic_constraints_ca(value: &[u8]) -> bool {
    use x509_cert::der::asn1::IntRef;
    use x509_cert::der::{Reader, SliceReader};
    let Ok(mut r) = SliceReader::new(value) else {
        return false;
    };
    // BasicConstraints ::= SEQUENCE { cA BOOLEAN DEFAULT FALSE,
    //   pathLenConstraint INTEGER (0..MAX) OPTIONAL } (RFC 5280 4.2.1.9);
    // OpenSSL's BASIC_CONSTRAINTS keeps any INTEGER as pathlen (v3_bcons.c)
    let ca = r.sequence(|s| {
        let ca = s.decode::<Option<bool>>()?.unwrap_or(false);
        s.decode::<Option<IntRef<'_>>>()?;
        Ok::<bool, x509_cert::der::Error>(ca)
    });
    matches!(ca, Ok(true)) && r.is_finished()
}

/// `x509.new(cert)` read as the `ca_certificates` entity check reads it.
pub(crate) fn ca_view(text: &str) -> Result<CaView, String> {
    let cert = load_certificate(text)?;
    let tbs = cert.tbs_certificate();
    let not_after = tbs.validity().not_after.to_unix_duration().as_secs();
    let mut found = tbs
        .extensions()
        .into_iter()
        .flatten()
        .filter(|e| e.extn_id == BASIC_CONSTRAINTS);
    let ca = match (found.next(), found.next()) {
        (Some(one), None) => basic_constraints_ca(one.extn_value.as_bytes()),
        _ => false,
    };
    Ok(CaView { not_after, ca })
}

/// Why `pkey.new(key)` would fail, or why the double will not judge it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum KeyError {
    /// Kong rejects it too (`invalid key: pkey.new:load_key: …`).
    Invalid(String),
    /// Kong may accept it; the double cannot model it.
    Unsupported(String),
}

impl KeyError {
    pub(crate) fn message(&self) -> String {
        match self {
            // typedefs.lua:237 "invalid key: " .. err, err prefixed
            // "pkey.new:load_key: " by lua-resty-openssl pkey.lua:580-582
            KeyError::Invalid(e) => format!("invalid key: pkey.new:load_key: {e}"),
            KeyError::Unsupported(e) => e.clone(),
        }
    }
}

fn invalid(e: impl std::fmt::Display) -> KeyError {
    KeyError::Invalid(e.to_string())
}

/// RSA private key (PKCS#1). Refusal reasons are the `pkcs1` crate's words.
fn rsa_private(der: &[u8]) -> Result<PublicKey, KeyError> {
    let k = pkcs1::RsaPrivateKeyRef::from_der(der).map_err(invalid)?;
    Ok(PublicKey::Rsa {
        n: k.modulus.as_bytes().to_vec(),
        e: k.public_exponent.as_bytes().to_vec(),
    })
}

/// An EC private key: its curve must be P-256 or P-384 and its public point
/// present, on the curve and derived from the private scalar (checked with
/// ring, so nothing OpenSSL would refuse gets through).
fn ec_private(der: &[u8], outer: Option<ObjectIdentifier>) -> Result<PublicKey, KeyError> {
    let k = sec1::EcPrivateKey::from_der(der).map_err(invalid)?;
    let inner = k.parameters.and_then(|p| p.named_curve());
    let curve = match (outer, inner) {
        // no Kong/OpenSSL source checked for either rule: the double's guess
        (Some(a), Some(b)) if a != b => return Err(invalid("EC parameters disagree")),
        (Some(c), _) | (None, Some(c)) => c,
        (None, None) => return Err(invalid("missing EC parameters")),
    };
    let (alg, len): (&'static signature::EcdsaSigningAlgorithm, usize) = match curve {
        P256 => (&signature::ECDSA_P256_SHA256_ASN1_SIGNING, 32),
        P384 => (&signature::ECDSA_P384_SHA384_ASN1_SIGNING, 48),
        other => {
            return Err(KeyError::Unsupported(unsupported(&format!(
                "EC curve {other}"
            ))));
        }
    };
    let Some(point) = k.public_key else {
        return Err(KeyError::Unsupported(unsupported(
            "an EC private key without its public key",
        )));
    };
    if point.first() != Some(&4) {
        return Err(KeyError::Unsupported(unsupported(
            "a compressed EC public point",
        )));
    }
    if k.private_key.len() > len {
        // the double's guess (no OpenSSL text reproduced)
        return Err(invalid("EC private key too long"));
    }
    let mut scalar = vec![0u8; len - k.private_key.len()];
    scalar.extend_from_slice(k.private_key);
    EcdsaKeyPair::from_private_key_and_public_key(alg, &scalar, point, &SystemRandom::new())
        .map_err(|e| {
            KeyError::Unsupported(unsupported(&format!(
                "an EC key whose public point is not that of its private scalar ({e})"
            )))
        })?;
    Ok(PublicKey::Ec {
        curve,
        point: point.to_vec(),
    })
}

fn pkcs8(der: &[u8]) -> Result<PublicKey, KeyError> {
    let info = pkcs8::PrivateKeyInfoRef::from_der(der).map_err(invalid)?;
    let body = info.private_key.as_bytes();
    match info.algorithm.oid {
        RSA => rsa_private(body),
        EC => {
            let curve = info
                .algorithm
                .parameters
                .and_then(|p| p.decode_as::<ObjectIdentifier>().ok());
            if curve.is_none() {
                return Err(KeyError::Unsupported(unsupported(
                    "an EC key with explicit curve parameters",
                )));
            }
            ec_private(body, curve)
        }
        other => Err(KeyError::Unsupported(unsupported(&format!(
            "key type {other}"
        )))),
    }
}

/// `pkey.new(key)` for a private key, and the public key it carries.
/// lua-resty-openssl 1.5.1 pkey.lua:566-582 with `load_key_try_funcs["*"]["*"]`
/// (pkey.lua:491-510): PEM private key, PEM public key, DER and JWK are all
/// tried. Only PEM private keys are modelled here.
pub(crate) fn parse_private_key(text: &str) -> Result<PublicKey, KeyError> {
    const LABELS: &[&str] = &[
        "PRIVATE KEY",
        "RSA PRIVATE KEY",
        "EC PRIVATE KEY",
        "ENCRYPTED PRIVATE KEY",
        "DSA PRIVATE KEY",
    ];
    let blocks = pem::blocks(text);
    let block = match pem::first(&blocks, LABELS) {
        Ok(b) => b,
        Err(e) => {
            // lua-resty-openssl falls back to loading a public key
            // (PEM_read_bio_PUBKEY, pkey.lua:476-480); Kong then compares it
            // with the certificate's (certificates.lua:35)
            if blocks
                .iter()
                .any(|b| b.label == "PUBLIC KEY" || b.label == "RSA PUBLIC KEY")
            {
                return Err(KeyError::Unsupported(unsupported(
                    "a public key as a certificate's key",
                )));
            }
            // NB Kong also tries DER and JWK here (pkey.lua:482-488); a JWK
            // string Kong accepts is reported as invalid by the double
            return Err(invalid(e));
        }
    };
    let der = block.der.as_ref().map_err(invalid)?;
    match block.label.as_str() {
        "PRIVATE KEY" => pkcs8(der),
        "RSA PRIVATE KEY" => rsa_private(der),
        "EC PRIVATE KEY" => ec_private(der, None),
        // Kong passes no passphrase (typedefs.lua:235); message is own words
        "ENCRYPTED PRIVATE KEY" => Err(invalid("encrypted key without a passphrase")),
        _ => Err(KeyError::Unsupported(unsupported("a DSA key"))),
    }
}

/// Whether Kong's `to_PEM` comparison would find `cert` and `key` equal:
/// `cert:get_pubkey():to_PEM() ~= key:to_PEM("public")`,
/// kong/db/schema/entities/certificates.lua:35, 49.
pub(crate) fn matches(cert: &CertKey, key: &PublicKey) -> bool {
    cert.key.as_ref() == Some(key)
}

/// A PEM `PUBLIC KEY` (SubjectPublicKeyInfo) as `PEM_read_bio_PUBKEY` loads
/// it. Modelled: RSA; EC P-256/P-384 with an uncompressed point, which
/// OpenSSL's `EC_POINT_oct2point` requires on the curve (ring's ECDH checks
/// it the same way); Ed25519/Ed448, whose loader only checks for absent
/// parameters and the key length (OpenSSL `ossl_ecx_key_op`). Other key
/// types and encodings are refused as not supported.
fn public_key_info(der: &[u8]) -> Result<(), KeyError> {
    let info = pkcs8::SubjectPublicKeyInfoRef::from_der(der).map_err(invalid)?;
    let bits = info
        .subject_public_key
        .as_bytes()
        .ok_or_else(|| invalid("public key bit string with unused bits"))?;
    match info.algorithm.oid {
        RSA => rsa_public(bits)
            .map(|_| ())
            .ok_or_else(|| invalid("malformed RSA public key")),
        EC => {
            let curve = info
                .algorithm
                .parameters
                .and_then(|p| p.decode_as::<ObjectIdentifier>().ok());
            let alg = match curve {
                Some(P256) => &agreement::ECDH_P256,
                Some(P384) => &agreement::ECDH_P384,
                Some(other) => {
                    return Err(KeyError::Unsupported(unsupported(&format!(
                        "EC curve {other}"
                    ))));
                }
                None => {
                    return Err(KeyError::Unsupported(unsupported(
                        "an EC key with explicit curve parameters",
                    )));
                }
            };
            if bits.first() != Some(&4) {
                return Err(KeyError::Unsupported(unsupported(
                    "a compressed EC public point",
                )));
            }
            let rng = SystemRandom::new();
            let mine = agreement::EphemeralPrivateKey::generate(alg, &rng).map_err(|_| {
                KeyError::Unsupported(unsupported("an EC check without randomness"))
            })?;
            agreement::agree_ephemeral(mine, &agreement::UnparsedPublicKey::new(alg, bits), |_| ())
                .map_err(|_| invalid("EC point is not on the curve"))
        }
        ED25519 | ED448 => {
            let len = if info.algorithm.oid == ED25519 {
                32
            } else {
                57
            };
            if info.algorithm.parameters.is_some() || bits.len() != len {
                return Err(invalid("invalid encoding"));
            }
            Ok(())
        }
        other => Err(KeyError::Unsupported(unsupported(&format!(
            "key type {other}"
        )))),
    }
}

/// `pkey.new(key)` with no options, which jwt/daos.lua:4-11
/// (`validate_ssl_key`) calls: lua-resty-openssl 1.5.1 pkey.lua:566-582 tries
/// every loader of `load_key_try_funcs["*"]["*"]` (466-514): PEM private key,
/// PEM public key, DER private/public key, JWK. Modelled: PEM private keys
/// (as [`parse_private_key`]) and PEM `PUBLIC KEY` blocks. `RSA PUBLIC KEY`
/// (PKCS#1) and JWK are refused as not supported; other text is invalid.
pub(crate) fn load_any_key(text: &str) -> Result<(), KeyError> {
    const PRIVATE: &[&str] = &[
        "PRIVATE KEY",
        "RSA PRIVATE KEY",
        "EC PRIVATE KEY",
        "ENCRYPTED PRIVATE KEY",
        "DSA PRIVATE KEY",
    ];
    let blocks = pem::blocks(text);
    if blocks.iter().any(|b| PRIVATE.contains(&b.label.as_str())) {
        return parse_private_key(text).map(|_| ());
    }
    match pem::first(&blocks, &["PUBLIC KEY"]) {
        Ok(b) => public_key_info(b.der.as_ref().map_err(invalid)?),
        Err(_) if blocks.iter().any(|b| b.label == "RSA PUBLIC KEY") => Err(KeyError::Unsupported(
            unsupported("a PKCS#1 RSA public key (RSA PUBLIC KEY)"),
        )),
        Err(_) if text.trim_start().starts_with('{') => {
            Err(KeyError::Unsupported(unsupported("a JWK key")))
        }
        // NB a DER key in a JSON string is not modelled (reported invalid)
        Err(e) => Err(invalid(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;

    const RSA_CRT: &str = include_str!("../tests/fixtures/tls/rsa.crt");
    const RSA_KEY: &str = include_str!("../tests/fixtures/tls/rsa.key");
    const EC_SEC1_KEY: &str = include_str!("../tests/fixtures/tls/ec-sec1.key");
    const OTHER_EC_KEY: &str = include_str!("../tests/fixtures/tls/other-ec.key");

    fn der_of(text: &str) -> Vec<u8> {
        pem::blocks(text)[0].der.clone().unwrap()
    }

    /// A SEC1 key whose public point belongs to another private key: OpenSSL
    /// would load it (and Kong compare that point), ring refuses it, so the
    /// double does too rather than guess.
    #[test]
    fn inconsistent_ec_key_is_refused() {
        use x509_cert::der::Encode;
        let der = der_of(EC_SEC1_KEY);
        let mine = sec1::EcPrivateKey::from_der(&der).unwrap();
        let other_der = der_of(OTHER_EC_KEY);
        let info = pkcs8::PrivateKeyInfoRef::from_der(&other_der).unwrap();
        let other = sec1::EcPrivateKey::from_der(info.private_key.as_bytes()).unwrap();
        let spliced = sec1::EcPrivateKey {
            public_key: other.public_key,
            ..mine.clone()
        }
        .to_der()
        .unwrap();
        assert!(ec_private(&der, None).is_ok());
        let err = ec_private(&spliced, None).unwrap_err();
        assert!(matches!(err, KeyError::Unsupported(_)), "{err:?}");
        assert!(
            err.message()
                .ends_with("is not supported by the Kong admin API test double")
        );
    }

    #[test]
    fn basic_constraints_as_openssl_reads_them() {
        // SEQUENCE {} : cA DEFAULT FALSE
        assert!(!basic_constraints_ca(&[0x30, 0x00]));
        assert!(basic_constraints_ca(&[0x30, 0x03, 0x01, 0x01, 0xff]));
        // pathlen 0, 256 (beyond x509-cert's u8), -1: any INTEGER
        assert!(basic_constraints_ca(&[0x30, 0x06, 1, 1, 0xff, 2, 1, 0]));
        assert!(basic_constraints_ca(&[0x30, 0x07, 1, 1, 0xff, 2, 2, 1, 0]));
        assert!(basic_constraints_ca(&[0x30, 0x06, 1, 1, 0xff, 2, 1, 0xff]));
        // BER TRUE: OpenSSL keeps 0x01, which is not 0xFF (x509/init.lua:797)
        assert!(!basic_constraints_ca(&[0x30, 0x03, 0x01, 0x01, 0x01]));
        // an explicit FALSE, trailing bytes, not a SEQUENCE, empty
        assert!(!basic_constraints_ca(&[0x30, 0x03, 0x01, 0x01, 0x00]));
        assert!(!basic_constraints_ca(&[0x30, 0x03, 0x01, 0x01, 0xff, 0x00]));
        assert!(!basic_constraints_ca(&[0x30, 0x04, 0x01, 0x01, 0xff, 0x00]));
        assert!(!basic_constraints_ca(&[0x01, 0x01, 0xff]));
        assert!(!basic_constraints_ca(&[]));
    }

    #[test]
    fn ca_views_of_the_fixtures() {
        let ca = ca_view(include_str!("../tests/fixtures/ca/ca.crt")).unwrap();
        assert!(ca.ca);
        let expired = ca_view(include_str!("../tests/fixtures/ca/expired-ca.crt")).unwrap();
        // notAfter=Jan  1 00:00:00 2001 GMT
        assert_eq!(
            expired,
            CaView {
                not_after: 978_307_200,
                ca: true
            }
        );
        assert!(
            !ca_view(include_str!("../tests/fixtures/ca/leaf.crt"))
                .unwrap()
                .ca
        );
        let v1 = ca_view(include_str!(
            "../tests/fixtures/ca/no-basic-constraints.crt"
        ))
        .unwrap();
        assert!(!v1.ca);
        // the CA fixture with its `cA TRUE` octet re-encoded as BER 0x01
        let der = der_of(include_str!("../tests/fixtures/ca/ca.crt"));
        let bc = [0x06, 0x03, 0x55, 0x1d, 0x13]; // OID 2.5.29.19
        let at = der.windows(5).position(|w| w == bc).unwrap();
        let mut ber = der.clone();
        // the extension's value (not its `critical` flag): SEQUENCE { TRUE }
        let seq = [0x30, 0x03, 0x01, 0x01, 0xff];
        let t = ber[at..].windows(5).position(|w| w == seq).unwrap();
        ber[at + t + 4] = 0x01;
        let pem = format!(
            "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
            base64::engine::general_purpose::STANDARD.encode(&ber)
        );
        assert!(!ca_view(&pem).unwrap().ca);
    }

    #[test]
    fn jwt_keys_as_pkey_new_loads_them() {
        let unsupported = |r: Result<(), KeyError>| matches!(r, Err(KeyError::Unsupported(_)));
        let invalid = |r: Result<(), KeyError>| matches!(r, Err(KeyError::Invalid(_)));
        assert!(load_any_key(include_str!("../tests/fixtures/tls/rsa-public.pem")).is_ok());
        assert!(load_any_key(include_str!("../tests/fixtures/tls/ec-public.pem")).is_ok());
        assert!(load_any_key(include_str!("../tests/fixtures/tls/ed25519-public.pem")).is_ok());
        assert!(load_any_key(RSA_KEY).is_ok());
        assert!(invalid(load_any_key("not a key")));
        assert!(unsupported(load_any_key(r#"{"kty":"RSA"}"#)));
        // an EC point moved off the curve: OpenSSL refuses it
        let der = der_of(include_str!("../tests/fixtures/tls/ec-public.pem"));
        let mut bad = der.clone();
        let last = bad.len() - 1;
        bad[last] ^= 1;
        assert!(invalid(public_key_info(&bad)));
        assert!(public_key_info(&der).is_ok());
    }

    #[test]
    fn old_certificate_label_and_references() {
        let old = RSA_CRT.replace(" CERTIFICATE-----", " X509 CERTIFICATE-----");
        let a = parse_certificate(&old).unwrap();
        assert_eq!(a.algorithm, RSA);
        let key = parse_private_key(RSA_KEY).unwrap();
        assert!(matches(&a, &key));
        assert!(is_reference("{vault://env/x}"));
        assert!(!is_reference("{vault://env/x"));
        let trusted = RSA_CRT.replace(" CERTIFICATE-----", " TRUSTED CERTIFICATE-----");
        assert_eq!(
            parse_certificate(&trusted).unwrap_err(),
            "x509.new: no start line"
        );
    }
}
