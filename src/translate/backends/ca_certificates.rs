//! CA certificates: Secrets and ConfigMaps labelled `konghq.com/ca-cert: "true"` become Kong
//! `ca_certificates`, which services verify their upstreams' certificates with. As KIC v3.5.13
//! does (`internal/dataplane/translator/translate_cacerts.go` lines 24-164): the ID is the
//! object's `id` key; of two objects with one ID the oldest wins (then namespace, then name);
//! the certificate is the `cert` key, else `ca.crt`, one PEM CERTIFICATE block, written back
//! as one block. What Kong refuses (Kong 3.10 `kong/db/schema/entities/ca_certificates.lua`
//! lines 38-62: more than one certificate, expired, no CA basic constraint) is reported on
//! the object and left out, and so are the services' references to it.

use std::collections::BTreeMap;

use base64::Engine;
use kube::ResourceExt;
use x509_cert::Certificate;
use x509_cert::der::Decode;
use x509_cert::ext::pkix::BasicConstraints;

use crate::kong::config::CaCertificate;
use crate::snapshot::Snapshot;
use crate::translate::fallback::Excluded;
use crate::translate::names::{self, ObjectRef};
use crate::translate::problems::{Problems, Reason};

pub const LABEL: &str = "konghq.com/ca-cert";

/// One labelled object.
struct Source<'a> {
    object: ObjectRef,
    annotations: &'a BTreeMap<String, String>,
    created: Option<String>,
    data: BTreeMap<String, String>,
}

fn labelled(labels: &BTreeMap<String, String>) -> bool {
    labels.get(LABEL).is_some_and(|v| v == "true")
}

fn sources(snapshot: &Snapshot) -> Vec<Source<'_>> {
    let created = |m: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta| {
        m.creation_timestamp.as_ref().map(|t| t.0.to_string())
    };
    let secrets = snapshot
        .secrets
        .values()
        .filter(|s| labelled(s.labels()))
        .map(|s| Source {
            object: ObjectRef::of(&**s),
            annotations: s.annotations(),
            created: created(&s.metadata),
            data: s
                .data
                .iter()
                .flatten()
                .map(|(k, v)| (k.clone(), String::from_utf8_lossy(&v.0).into_owned()))
                .collect(),
        });
    let config_maps = snapshot
        .config_maps
        .values()
        .filter(|c| labelled(c.labels()))
        .map(|c| Source {
            object: ObjectRef::of(&**c),
            annotations: c.annotations(),
            created: created(&c.metadata),
            data: c.data.clone().unwrap_or_default(),
        });
    secrets.chain(config_maps).collect()
}

/// Every labelled object's CA certificate, or why it is left out, by object; in KIC's output
/// order (certificates descending, `deckgen/generate.go` lines 135-141) through
/// [`CaCertificates::entities`].
/// (kind, namespace, name) of a Secret or ConfigMap.
type ObjectId = (String, String, String);

#[derive(Debug, Default, PartialEq)]
pub struct CaCertificates {
    by_object: BTreeMap<ObjectId, (ObjectRef, Result<CaCertificate, String>)>,
}

impl CaCertificates {
    /// The labelled objects of `snapshot`; those `excluded` are left out as absent.
    pub fn new(snapshot: &Snapshot, excluded: &Excluded) -> Self {
        let mut sources = sources(snapshot);
        // The winner of an ID: the oldest, then by namespace and name (lines 52-71).
        sources.sort_by(|a, b| {
            (
                a.created.is_none(),
                &a.created,
                &a.object.namespace,
                &a.object.name,
            )
                .cmp(&(
                    b.created.is_none(),
                    &b.created,
                    &b.object.namespace,
                    &b.object.name,
                ))
        });
        let mut out = CaCertificates::default();
        let mut owners: BTreeMap<String, ObjectRef> = BTreeMap::new();
        for s in sources {
            let key = (
                s.object.kind.as_str().to_string(),
                s.object.namespace.clone().unwrap_or_default(),
                s.object.name.clone(),
            );
            let left_out = excluded.reason(s.object.kind, &key.1, &key.2);
            let result = match s.data.get("id") {
                _ if left_out.is_some() => Err(left_out.unwrap_or_default()),
                None => Err("no `id` key: a CA certificate needs one (its Kong ID)".to_string()),
                Some(id) => match owners.get(id) {
                    Some(owner) => Err(format!("`id` {id} is already the ID of {owner}")),
                    None => {
                        owners.insert(id.clone(), s.object.clone());
                        entity(&s, id)
                    }
                },
            };
            out.by_object.insert(key, (s.object.clone(), result));
        }
        out
    }

    /// The entity of a Secret or ConfigMap, if it is a valid labelled CA certificate.
    pub fn of(
        &self,
        kind: &str,
        namespace: &str,
        name: &str,
    ) -> Option<&Result<CaCertificate, String>> {
        self.by_object
            .get(&(kind.to_string(), namespace.to_string(), name.to_string()))
            .map(|(_, r)| r)
    }

    /// Reports each labelled object that gives no CA certificate, on it.
    pub fn report(&self, problems: &mut Problems) {
        for (object, result) in self.by_object.values() {
            if let Err(why) = result {
                problems.error(
                    object,
                    Reason::InvalidValue,
                    Some("data".into()),
                    format!("not a CA certificate Kong takes: {why}; left out"),
                );
            }
        }
    }

    /// The valid entities, as the config lists them.
    pub fn entities(&self) -> Vec<CaCertificate> {
        let mut out: Vec<CaCertificate> = self
            .by_object
            .values()
            .filter_map(|(_, r)| r.clone().ok())
            .collect();
        out.sort_by(|a, b| b.cert.cmp(&a.cert));
        out
    }
}

fn entity(s: &Source<'_>, id: &str) -> Result<CaCertificate, String> {
    let pem = s
        .data
        .get("cert")
        .or_else(|| s.data.get("ca.crt"))
        .ok_or("neither `cert` nor `ca.crt` key: no certificate")?;
    let der = single_certificate(pem.trim())?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    check_ca(&der, now)?;
    Ok(CaCertificate {
        cert: encode(&der),
        id: id.to_string(),
        tags: names::tags(&s.object, Some(s.annotations)),
    })
}

const BEGIN: &str = "-----BEGIN CERTIFICATE-----";
const END: &str = "-----END CERTIFICATE-----";

/// The DER of the one PEM CERTIFICATE block `pem` holds.
fn single_certificate(pem: &str) -> Result<Vec<u8>, String> {
    if !pem.starts_with("-----BEGIN ") {
        return Err("the certificate is not PEM".into());
    }
    if pem.matches("-----BEGIN ").count() > 1 {
        return Err(
            "more than one PEM block: Kong takes one certificate per CA certificate".into(),
        );
    }
    let body = pem
        .strip_prefix(BEGIN)
        .and_then(|rest| rest.split(END).next())
        .filter(|_| pem.trim_end().ends_with(END))
        .ok_or("the PEM block is not a CERTIFICATE")?;
    let b64: String = body.chars().filter(|c| !c.is_whitespace()).collect();
    base64::engine::general_purpose::STANDARD
        .decode(b64)
        .map_err(|e| format!("the PEM block is not base64: {e}"))
}

/// A CA (basic constraints CA) that has not expired at `now` (since the Unix epoch), as Kong
/// requires: Kong checks against its clock when it loads the config, so does kingress.
fn check_ca(der: &[u8], now: std::time::Duration) -> Result<(), String> {
    let cert = Certificate::from_der(der).map_err(|e| format!("not an X.509 certificate: {e}"))?;
    let tbs = cert.tbs_certificate();
    let not_after = tbs.validity().not_after.to_unix_duration();
    if not_after < now {
        return Err(
            "the certificate has expired (\"Not After\" is in the past); Kong refuses it".into(),
        );
    }
    let ca = tbs
        .get_extension::<BasicConstraints>()
        .ok()
        .flatten()
        .is_some_and(|(_, bc)| bc.ca);
    if !ca {
        return Err(
            "the certificate is not a CA (no \"CA\" basic constraint); Kong refuses it".into(),
        );
    }
    Ok(())
}

/// PEM of one certificate, base64 in 64-column lines with a final newline (Go's
/// `pem.EncodeToMemory`, as KIC writes it).
fn encode(der: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = String::with_capacity(b64.len() + b64.len() / 64 + 64);
    out.push_str(BEGIN);
    out.push('\n');
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(chunk).unwrap_or_default());
        out.push('\n');
    }
    out.push_str(END);
    out.push('\n');
    out
}

#[cfg(test)]
#[path = "ca_certificates_tests.rs"]
mod tests;
