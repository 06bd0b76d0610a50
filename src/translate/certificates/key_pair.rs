//! Whether a Secret's `tls.crt` and `tls.key` make a key pair, as KIC v3.5.13 decides it
//! before making a Kong certificate of them (`getCertFromSecret`,
//! `internal/dataplane/translator/translate_certs.go` lines 23-41): both trimmed, then Go's
//! `crypto/tls.X509KeyPair` (Go 1.24 `src/crypto/tls/tls.go` `X509KeyPair` and
//! `parsePrivateKey`): every `CERTIFICATE` PEM block of the certificate input (the first is
//! the leaf), the first block of the key input whose type is `PRIVATE KEY` or ends in
//! ` PRIVATE KEY`, the key parsed as PKCS #1, else PKCS #8 (RSA, ECDSA, Ed25519), else SEC 1,
//! and the leaf's public key equal to the private key's.
//!
//! The equality is checked with the key's own numbers where they suffice (RSA's modulus) and
//! by deriving the public key from the private one with `ring` (ECDSA P-256/P-384, Ed25519).
//! Curves `ring` lacks (P-224, P-521) are compared with the public point the key carries, and
//! accepted when it carries none: Kong compares them again (its certificates entity check), so
//! the worst case is a Kong refusal, reported on the Secret by the fallback.
//!
//! Error texts are kingress's own and never quote key material.

use base64::Engine;
use ring::rand::SystemRandom;
use ring::signature::{self, EcdsaKeyPair, Ed25519KeyPair};
use x509_cert::Certificate;
use x509_cert::der::Decode;
use x509_cert::der::asn1::{ObjectIdentifier, OctetStringRef};

const RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
const EC: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const ED25519: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.112");
const P256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
const P384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.34");

/// A PEM block: its type and decoded body.
struct Block {
    label: String,
    der: Vec<u8>,
}

/// The PEM blocks of `text`, in order, as Go's `encoding/pem.Decode` finds them (headers
/// such as `Proc-Type:` are skipped; a body that does not decode drops its block).
fn blocks(text: &str) -> Vec<Block> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("-----BEGIN ") {
        let after = &rest[start + "-----BEGIN ".len()..];
        let Some(label_end) = after.find("-----") else {
            break;
        };
        let label = &after[..label_end];
        let body_start = &after[label_end + 5..];
        let end_marker = format!("-----END {label}-----");
        let Some(end) = body_start.find(&end_marker) else {
            rest = body_start;
            continue;
        };
        let body: String = body_start[..end]
            .lines()
            .filter(|l| !l.contains(':'))
            .flat_map(|l| l.chars().filter(|c| !c.is_whitespace()))
            .collect();
        if let Ok(der) = base64::engine::general_purpose::STANDARD.decode(body) {
            out.push(Block {
                label: label.to_string(),
                der,
            });
        }
        rest = &body_start[end + end_marker.len()..];
    }
    out
}

/// A private key's public half, as far as it can be told from the key.
enum PrivateKey {
    Rsa {
        modulus: Vec<u8>,
    },
    Ec {
        curve: Option<ObjectIdentifier>,
        scalar: Vec<u8>,
        point: Option<Vec<u8>>,
    },
    Ed25519 {
        seed: Vec<u8>,
    },
}

fn unsigned(bytes: &[u8]) -> &[u8] {
    let zeros = bytes.iter().take_while(|b| **b == 0).count();
    &bytes[zeros..]
}

fn sec1(der: &[u8], outer: Option<ObjectIdentifier>) -> Option<PrivateKey> {
    let k = sec1::EcPrivateKey::from_der(der).ok()?;
    Some(PrivateKey::Ec {
        curve: outer.or_else(|| k.parameters.and_then(|p| p.named_curve())),
        scalar: k.private_key.to_vec(),
        point: k.public_key.map(<[u8]>::to_vec),
    })
}

/// Go's `parsePrivateKey`: PKCS #1, then PKCS #8, then SEC 1.
fn private_key(der: &[u8]) -> Result<PrivateKey, String> {
    if let Ok(k) = pkcs1::RsaPrivateKeyRef::from_der(der) {
        return Ok(PrivateKey::Rsa {
            modulus: unsigned(k.modulus.as_bytes()).to_vec(),
        });
    }
    if let Ok(info) = pkcs8::PrivateKeyInfoRef::from_der(der) {
        let body = info.private_key.as_bytes();
        let parsed = match info.algorithm.oid {
            RSA => pkcs1::RsaPrivateKeyRef::from_der(body)
                .ok()
                .map(|k| PrivateKey::Rsa {
                    modulus: unsigned(k.modulus.as_bytes()).to_vec(),
                }),
            EC => {
                let curve = info
                    .algorithm
                    .parameters
                    .and_then(|p| p.decode_as::<ObjectIdentifier>().ok());
                sec1(body, curve)
            }
            ED25519 => <&OctetStringRef>::from_der(body)
                .ok()
                .filter(|s| s.as_bytes().len() == 32)
                .map(|s| PrivateKey::Ed25519 {
                    seed: s.as_bytes().to_vec(),
                }),
            _ => return Err("the key's PKCS #8 wrapping holds an unknown key type".into()),
        };
        return parsed.ok_or_else(|| "the key's PKCS #8 body is malformed".into());
    }
    sec1(der, None).ok_or_else(|| "the key is not a PKCS #1, PKCS #8 or SEC 1 private key".into())
}

/// `Ok` when `cert` and `key` (PEM) make a key pair Go's `tls.X509KeyPair` accepts, else why
/// not. Remembered from one translation to the next: deriving a P-384 public key costs
/// ~0.4 ms, and every translation checks every TLS Secret in use.
pub fn check(cert: &str, key: &str) -> Result<(), String> {
    cache::check(cert, key)
}

/// Starts a translation: answers not asked for since the last one are forgotten.
pub fn new_round() {
    cache::new_round();
}

mod cache {
    use std::sync::LazyLock;

    use sha2::{Digest, Sha256};

    use crate::translate::round_cache::RoundCache;

    static CHECKS: LazyLock<RoundCache<[u8; 32], Result<(), String>>> =
        LazyLock::new(RoundCache::default);

    pub(super) fn new_round() {
        CHECKS.new_round();
    }

    pub(super) fn check(cert: &str, key: &str) -> Result<(), String> {
        // A digest, so no key material is kept; SHA-256 so no crafted pair can pass for another.
        let mut h = Sha256::new();
        h.update((cert.len() as u64).to_le_bytes());
        h.update(cert);
        h.update(key);
        CHECKS.get(h.finalize().into(), |_| super::uncached(cert, key))
    }
}

fn uncached(cert: &str, key: &str) -> Result<(), String> {
    let certs: Vec<Block> = blocks(cert)
        .into_iter()
        .filter(|b| b.label == "CERTIFICATE")
        .collect();
    let leaf = certs
        .first()
        .ok_or("tls.crt holds no PEM CERTIFICATE block")?;
    let key_block = blocks(key)
        .into_iter()
        .find(|b| b.label == "PRIVATE KEY" || b.label.ends_with(" PRIVATE KEY"))
        .ok_or("tls.key holds no PEM PRIVATE KEY block")?;
    let leaf = Certificate::from_der(&leaf.der)
        .map_err(|e| format!("tls.crt's first certificate does not parse: {e}"))?;
    let private = private_key(&key_block.der).map_err(|e| format!("tls.key: {e}"))?;
    let spki = &leaf.tbs_certificate().subject_public_key_info();
    let public = spki
        .subject_public_key
        .as_bytes()
        .ok_or("tls.crt's public key is malformed")?;
    let mismatch = || Err("tls.key is not the private key of tls.crt's certificate".to_string());
    match (spki.algorithm.oid, private) {
        (RSA, PrivateKey::Rsa { modulus }) => {
            let cert_key = pkcs1::RsaPublicKeyRef::from_der(public)
                .map_err(|e| format!("tls.crt's RSA public key is malformed: {e}"))?;
            match unsigned(cert_key.modulus.as_bytes()) == modulus.as_slice() {
                true => Ok(()),
                false => mismatch(),
            }
        }
        (
            EC,
            PrivateKey::Ec {
                curve,
                scalar,
                point,
            },
        ) => {
            let cert_curve = spki
                .algorithm
                .parameters
                .as_ref()
                .and_then(|p| p.decode_as::<ObjectIdentifier>().ok());
            if curve.is_some() && cert_curve.is_some() && curve != cert_curve {
                return mismatch();
            }
            let ring_curve = match cert_curve {
                Some(P256) => Some((&signature::ECDSA_P256_SHA256_ASN1_SIGNING, 32)),
                Some(P384) => Some((&signature::ECDSA_P384_SHA384_ASN1_SIGNING, 48)),
                _ => None,
            };
            match ring_curve {
                Some((alg, len)) => {
                    let scalar = unsigned(&scalar);
                    if scalar.len() > len {
                        return mismatch();
                    }
                    let mut padded = vec![0u8; len - scalar.len()];
                    padded.extend_from_slice(scalar);
                    EcdsaKeyPair::from_private_key_and_public_key(
                        alg,
                        &padded,
                        public,
                        &SystemRandom::new(),
                    )
                    .map(|_| ())
                    .or_else(|_| mismatch())
                }
                None => match point {
                    Some(p) if p != public => mismatch(),
                    _ => Ok(()),
                },
            }
        }
        (ED25519, PrivateKey::Ed25519 { seed }) => {
            Ed25519KeyPair::from_seed_and_public_key(&seed, public)
                .map(|_| ())
                .or_else(|_| mismatch())
        }
        (RSA | EC | ED25519, _) => mismatch(),
        (other, _) => Err(format!(
            "tls.crt's public key algorithm {other} is not RSA, ECDSA or Ed25519"
        )),
    }
}

#[cfg(test)]
#[path = "key_pair_tests.rs"]
mod tests;
