//! Kong certificates and their SNIs, from Ingress TLS sections, Gateway listeners and the
//! `konghq.com/client-cert` Service annotation, as KIC v3.5.13 makes them
//! (`internal/dataplane/translator/translator.go` lines 266-282, `translate_certs.go`,
//! `ingressrules.go` lines 189-221 and 348-432, `translate_ingress.go` lines 22-47):
//!
//! - Each host goes to one Secret. Ingresses are read oldest first (ties by namespace/name,
//!   `translate_ingress.go` 34-37 over `store.go` 222-225), then TCPIngresses oldest first
//!   (`translate_kong_l4.go` 26-33); the first TLS section naming a host claims it for its
//!   Secret, whether or not that Secret exists or holds a key pair (`addUniqueHosts`). A section
//!   without hosts or without `secretName` claims nothing.
//! - One Kong certificate per distinct `tls.crt` + `tls.key` (both trimmed): the ID, and here
//!   the tags, of the oldest of its Secrets (then the smallest UID); SNIs sorted
//!   (`mergeCerts`). Ingress certificates come first, then each valid HTTPS listener's
//!   (Gateways oldest first), whose SNI is its hostname, `*` without one: a listener host an
//!   Ingress, or an earlier listener, already serves with another certificate is not its.
//! - A Service's client certificate (TLS protocols only) is one more Secret of the merge,
//!   without SNIs; its Kong service references the merged ID.
//!
//! KIC drops a losing claim with at most a log line; kingress reports it on the Ingress or
//! Gateway whose claim lost, naming the host and the Secret that serves it. Departures, each
//! because KIC's output is not what the manifest asks or what Kong takes: a Secret that is
//! missing or no key pair is reported on the objects naming it (and on the Secret), and
//! a Service whose client certificate is unusable gets no `client_certificate` (KIC sends
//! an empty ID Kong refuses); KIC picks the tags of an identical pair's Secrets in map order
//! (random), kingress those of the Secret whose ID it uses; every Service carrying the
//! annotation takes part in choosing an identical pair's ID, while KIC counts only those
//! some route uses (a difference only for two Secrets holding one key pair byte for byte).

mod ingress_claims;
pub mod key_pair;

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::ResourceExt;

use crate::api::{Gateway, Secret};
use crate::kinds::Kind;
use crate::kong::config::{Certificate, CertificateRef, Sni};
use crate::snapshot::Snapshot;
use crate::translate::fallback::Excluded;
use crate::translate::gateway::listeners;
use crate::translate::names::{self, ObjectRef};
use crate::translate::problems::{Problem, Problems, Reason};
use crate::translate::secret_values;
use ingress_claims::{IngressClaim, Lost, ingress_claims};

pub const CLIENT_CERT_ANNOTATION: &str = "konghq.com/client-cert";

/// A TLS Secret's trimmed certificate and key, if they make a key pair (else why not).
pub fn key_pair_of(secret: &Secret) -> Result<(String, String), String> {
    let cert = secret_values::text(secret, "tls.crt").map(|c| c.trim().to_string());
    let key = secret_values::text(secret, "tls.key").map(|k| k.trim().to_string());
    let (Some(cert), Some(key)) = (cert, key) else {
        return Err("no tls.crt and tls.key".into());
    };
    key_pair::check(&cert, &key)?;
    Ok((cert, key))
}

/// (namespace, name) of a Secret.
type SecretKey = (String, String);

/// An object and the field of it that asked for something.
type Asker = (ObjectRef, String);

fn secret_ref(secret: &Secret) -> ObjectRef {
    ObjectRef::of(secret)
}

/// One Secret's part in the merge (KIC's `certWrapper`).
struct Claim {
    secret: SecretKey,
    cert: String,
    key: String,
    id: String,
    /// None for manifests without one (Go's zero time: oldest).
    created: Option<Time>,
    tags: Vec<String>,
    snis: Vec<String>,
    /// Who asked for the SNIs: the object and the field, for a lost claim.
    by: Vec<Asker>,
}

fn claim(secret: &Secret, cert: String, key: String) -> Claim {
    let namespace = secret.namespace().unwrap_or_default();
    let name = secret.name_any();
    // KIC uses the Secret's UID; manifests read offline may lack one.
    let id = secret.metadata.uid.clone().unwrap_or_else(|| {
        uuid::Uuid::new_v5(
            &uuid::Uuid::NAMESPACE_OID,
            format!("{namespace}/{name}").as_bytes(),
        )
        .to_string()
    });
    Claim {
        cert,
        key,
        id,
        created: secret.metadata.creation_timestamp.clone(),
        tags: names::tags(&secret_ref(secret), None::<&BTreeMap<String, String>>),
        snis: Vec::new(),
        by: Vec::new(),
        secret: (namespace, name),
    }
}

/// The certificates of a whole cluster, computed once per translation.
#[derive(Debug, Default, PartialEq)]
pub struct Certificates {
    /// Ingress and Gateway certificates, merged, SNIs sorted.
    entities: Vec<Certificate>,
    /// The merged certificate of each Secret a client-cert annotation names, when it holds a
    /// key pair (SNIs left out).
    by_secret: BTreeMap<SecretKey, Certificate>,
    problems: Vec<Problem>,
}

struct Builder<'a> {
    snapshot: &'a Snapshot,
    excluded: &'a Excluded,
    problems: Problems,
}

impl Builder<'_> {
    /// The Secret's key pair, or None after reporting why on `by` (and on the Secret when its
    /// contents are at fault).
    fn load(&mut self, key: &SecretKey, by: &[(ObjectRef, String)], what: &str) -> Option<Claim> {
        let (ns, name) = key;
        let report = |problems: &mut Problems, reason, message: String| {
            for (object, field) in by {
                problems.error(object, reason, Some(field.clone()), message.clone());
            }
        };
        if let Some(why) = self.excluded.reason(Kind::Secret, ns, name) {
            let message = format!("Secret {ns}/{name} is {why}; {what}");
            report(&mut self.problems, Reason::Excluded, message);
            return None;
        }
        let Some(secret) = self.snapshot.secret(ns, name) else {
            let message = format!("Secret {ns}/{name} not found; {what}");
            report(&mut self.problems, Reason::SecretNotFound, message);
            return None;
        };
        match key_pair_of(secret) {
            Ok((cert, key)) => Some(claim(secret, cert, key)),
            Err(why) => {
                let message = format!("Secret {ns}/{name} is not a TLS key pair ({why}); {what}");
                report(&mut self.problems, Reason::InvalidCertificate, message);
                self.problems.error(
                    &secret_ref(secret),
                    Reason::InvalidCertificate,
                    Some("data".into()),
                    format!("not a TLS key pair Kong can serve: {why}"),
                );
                None
            }
        }
    }
}

/// Oldest first, then by namespace and name (KIC's stable sort by creation time over a list
/// sorted by namespace/name).
fn by_age<'a, T: kube::Resource + 'a>(objects: impl Iterator<Item = &'a T>) -> Vec<&'a T> {
    let mut v: Vec<&T> = objects.collect();
    v.sort_by(|a, b| {
        let key = |o: &'a T| {
            let m = o.meta();
            (
                m.creation_timestamp.as_ref().map(|t| t.0),
                m.namespace.as_deref(),
                m.name.as_deref(),
            )
        };
        key(a).cmp(&key(b))
    });
    v
}

impl Certificates {
    pub fn new(snapshot: &Snapshot, options: &super::Options, excluded: &Excluded) -> Self {
        let mut b = Builder {
            snapshot,
            excluded,
            problems: Problems::default(),
        };
        let mut claims: Vec<Claim> = Vec::new();

        // Ingress TLS (KIC: getCerts over SecretNameToSNIs).
        let (ingress, lost) =
            ingress_claims(snapshot, &options.ingress_class, excluded, &mut b.problems);
        for (key, IngressClaim { hosts, by }) in ingress {
            let what = match hosts.is_empty() {
                true => "no certificate made of it".to_string(),
                false => format!("no certificate for {}", hosts.join(", ")),
            };
            if let Some(mut c) = b.load(&key, &by, &what) {
                c.snis = hosts;
                c.by = by;
                claims.push(c);
            }
        }

        // Gateway listeners (KIC: getGatewayCerts).
        let ours = |g: &&Gateway| {
            snapshot
                .gateway_class(&g.spec.gateway_class_name)
                .is_some_and(|c| c.spec.controller_name == options.controller_name)
        };
        let with_certificates = |g: &&Gateway| {
            g.spec.listeners.iter().any(|l| {
                l.tls
                    .as_ref()
                    .and_then(|t| t.certificate_refs.as_ref())
                    .is_some_and(|r| !r.is_empty())
            })
        };
        let gateways = snapshot.gateways_in(None).filter(with_certificates);
        for gateway in by_age::<Gateway>(gateways.filter(ours)) {
            let checks = listeners::check(snapshot, gateway);
            for (k, (l, check)) in gateway.spec.listeners.iter().zip(checks).enumerate() {
                let has_refs = l
                    .tls
                    .as_ref()
                    .and_then(|t| t.certificate_refs.as_ref())
                    .is_some_and(|r| !r.is_empty());
                if !has_refs {
                    continue;
                }
                // KIC takes no certificate from a listener that is not Programmed.
                if !check.valid() {
                    let why = [&check.accepted, &check.resolved]
                        .into_iter()
                        .find_map(|r| r.as_ref().err())
                        .map(|(reason, message)| format!("{reason}: {message}"))
                        .or(check.conflict.map(|c| format!("Conflicted: {c}")))
                        .unwrap_or_default();
                    b.problems.error(
                        &ObjectRef::of(gateway),
                        Reason::InvalidCertificate,
                        Some(format!("spec.listeners[{k}]")),
                        format!(
                            "listener {} is not valid ({why}); Kong gets no certificate from it",
                            l.name
                        ),
                    );
                    continue;
                }
                let Ok(secret) = listeners::certificate_secret(snapshot, gateway, l, 0) else {
                    continue;
                };
                let key = (secret.namespace().unwrap_or_default(), secret.name_any());
                let by = vec![(
                    ObjectRef::of(gateway),
                    format!("spec.listeners[{k}].tls.certificateRefs[0]"),
                )];
                let sni = l.hostname.clone().unwrap_or_else(|| "*".to_string());
                if let Some(mut c) = b.load(
                    &key,
                    &by,
                    &format!("listener {} gets no certificate", l.name),
                ) {
                    c.snis = vec![sni];
                    c.by = vec![(
                        ObjectRef::of(gateway),
                        format!("spec.listeners[{k}].hostname"),
                    )];
                    claims.push(c);
                }
            }
        }
        let with_snis = claims.len();

        // Client certificates of Services (KIC: handleServiceClientCertificates), and of
        // KongServiceFacades, whose annotations KIC merges over their Service's
        // (`ingressrules.go` 97-100, 503-525); the protocol and a missing Secret are reported
        // where the Service is translated.
        let facades = snapshot
            .kong_service_facades
            .values()
            .filter(|_| options.feature_gates.service_facade())
            .filter(|f| super::ingress_class::annotated(snapshot, &options.ingress_class, &***f))
            .map(|f| &f.metadata);
        let metas = snapshot
            .services_in(None)
            .map(|s| &s.metadata)
            .chain(facades);
        for meta in metas {
            let Some(name) = meta
                .annotations
                .as_ref()
                .and_then(|a| a.get(CLIENT_CERT_ANNOTATION))
            else {
                continue;
            };
            let ns = meta.namespace.clone().unwrap_or_default();
            if b.excluded.contains(Kind::Secret, &ns, name) {
                continue;
            }
            if let Some(secret) = snapshot.secret(&ns, name)
                && let Ok((cert, key)) = key_pair_of(secret)
            {
                claims.push(claim(secret, cert, key));
            }
        }

        let mut out = Certificates::default();
        out.merge(claims, with_snis, lost, &mut b);
        out.problems = b.problems.into_sorted();
        out
    }

    /// KIC's `mergeCerts`: the first `with_snis` claims make entities; the rest (client
    /// certificates) only take part in choosing IDs.
    fn merge(
        &mut self,
        claims: Vec<Claim>,
        with_snis: usize,
        lost: Vec<Lost>,
        b: &mut Builder<'_>,
    ) {
        // By cert + key: (index of the entity, its ID owner's created, ID, tags, first Secret).
        let mut merged: Vec<(Certificate, Option<Time>, bool)> = Vec::new();
        let mut index: BTreeMap<(String, String), usize> = BTreeMap::new();
        let mut sni_owner: BTreeMap<String, (usize, SecretKey)> = BTreeMap::new();
        let mut secret_entity: BTreeMap<SecretKey, usize> = BTreeMap::new();
        let client_secrets: std::collections::BTreeSet<SecretKey> = claims[with_snis..]
            .iter()
            .map(|c| c.secret.clone())
            .collect();
        for (n, c) in claims.into_iter().enumerate() {
            let pair = (c.cert.clone(), c.key.clone());
            let at = match index.get(&pair) {
                Some(&at) => {
                    let (entity, created, _) = &mut merged[at];
                    // Oldest first (a zero time is oldest), then the smallest ID.
                    let older = match (&c.created, &*created) {
                        (a, b) if a == b => c.id < entity.id,
                        (None, _) => true,
                        (_, None) => false,
                        (Some(a), Some(b)) => a < b,
                    };
                    if older {
                        entity.id = c.id.clone();
                        entity.tags = c.tags.clone();
                        *created = c.created.clone();
                    }
                    at
                }
                None => {
                    index.insert(pair, merged.len());
                    merged.push((
                        Certificate {
                            cert: c.cert.clone(),
                            id: c.id.clone(),
                            key: c.key.clone(),
                            snis: Vec::new(),
                            tags: c.tags.clone(),
                        },
                        c.created.clone(),
                        false,
                    ));
                    merged.len() - 1
                }
            };
            secret_entity.insert(c.secret.clone(), at);
            if n >= with_snis {
                continue;
            }
            merged[at].2 = true;
            for (sni, by) in c.snis.iter().zip(c.by.iter().cycle()) {
                match sni_owner.get(sni) {
                    None => {
                        sni_owner.insert(sni.clone(), (at, c.secret.clone()));
                        merged[at].0.snis.push(Sni {
                            certificate: CertificateRef::default(),
                            name: sni.clone(),
                        });
                    }
                    Some((owner, _)) if *owner == at => {}
                    Some((_, (wns, wname))) => b.problems.warning(
                        &by.0,
                        Reason::SniConflict,
                        Some(by.1.clone()),
                        format!(
                            "host {sni} is already served by Secret {wns}/{wname}; Secret {}/{}'s certificate is not used for it",
                            c.secret.0, c.secret.1
                        ),
                    ),
                }
            }
        }
        // Ingress hosts lost to another Secret: a warning unless both hold the same key pair.
        for l in lost {
            let same = secret_entity
                .get(&l.winner)
                .is_some_and(|w| secret_entity.get(&l.secret) == Some(w));
            if !same {
                let served = match secret_entity.contains_key(&l.winner) {
                    true => "Kong serves that Secret's certificate for it".to_string(),
                    false => "that Secret gives no certificate (see its error), so none serves it"
                        .to_string(),
                };
                b.problems.warning(
                    &l.by,
                    Reason::SniConflict,
                    Some(l.field),
                    format!(
                        "host {} is already claimed by Secret {}/{} of {} (read first: {}); {served}, not Secret {}/{}'s",
                        l.host,
                        l.winner.0,
                        l.winner.1,
                        l.winner_by,
                        match l.winner_by.kind == l.by.kind {
                            true => "older, or first by namespace/name",
                            false => "Ingresses are read before TCPIngresses",
                        },
                        l.secret.0,
                        l.secret.1
                    ),
                );
            }
        }
        for (entity, _, _) in &mut merged {
            entity.snis.sort_by(|a, b| a.name.cmp(&b.name));
            for sni in &mut entity.snis {
                sni.certificate.id = entity.id.clone();
            }
        }
        self.by_secret = secret_entity
            .into_iter()
            .filter(|(secret, _)| client_secrets.contains(secret))
            .map(|(secret, at)| {
                let entity = &merged[at].0;
                let bare = Certificate {
                    snis: Vec::new(),
                    ..entity.clone()
                };
                (secret, bare)
            })
            .collect();
        self.entities = merged
            .into_iter()
            .filter(|(_, _, has_claim)| *has_claim)
            .map(|(e, _, _)| e)
            .collect();
    }

    /// Reports what the certificates' sources got wrong (once per translation).
    pub fn report(&self, problems: &mut Problems) {
        problems.extend(&self.problems);
    }

    /// The Ingress and Gateway certificates.
    pub fn entities(&self) -> &[Certificate] {
        &self.entities
    }

    /// Whether the client certificates (which namespaces' services reference) differ.
    pub fn client_certificates_differ(&self, other: &Self) -> bool {
        self.by_secret != other.by_secret
    }

    /// The certificate a Service's `konghq.com/client-cert` Secret becomes (without SNIs; its
    /// ID is the merged one), if it holds a key pair.
    pub fn client_certificate(&self, namespace: &str, name: &str) -> Option<&Certificate> {
        self.by_secret
            .get(&(namespace.to_string(), name.to_string()))
    }
}

#[cfg(test)]
#[path = "tests.rs"]
mod tests;
