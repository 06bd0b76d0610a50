//! The hosts Ingress and TCPIngress TLS sections claim for their Secrets, in KIC's order: the
//! first section naming a host claims it (`addUniqueHosts`, KIC v3.5.13 `ingressrules.go`
//! 189-221); later claims of the host for another Secret are recorded as lost.

use std::collections::BTreeMap;

use kube::ResourceExt;

use super::{Asker, SecretKey, by_age};
use crate::api::{Ingress, TcpIngress};
use crate::kinds::Kind;
use crate::snapshot::Snapshot;
use crate::translate::fallback::Excluded;
use crate::translate::ingress_class;
use crate::translate::names::{self, ObjectRef};
use crate::translate::problems::{Problems, Reason};

/// A Secret's Ingress claims: the hosts it took, and the TLS sections that name it.
#[derive(Default)]
pub(super) struct IngressClaim {
    pub(super) hosts: Vec<String>,
    pub(super) by: Vec<Asker>,
}

/// Each Ingress TLS section's claims, in KIC's order: Secret → (hosts it serves, who asked).
/// Hosts already claimed for another Secret are recorded as lost.
pub(super) struct Lost {
    pub(super) by: ObjectRef,
    pub(super) field: String,
    pub(super) host: String,
    pub(super) secret: SecretKey,
    pub(super) winner: SecretKey,
    pub(super) winner_by: ObjectRef,
}

/// A TLS section: its hosts and Secret name (empty when absent).
type TlsSection<'a> = (&'a [String], &'a str);

/// The TLS sections that claim hosts, in KIC's order: Ingresses of our class oldest first, then
/// TCPIngresses of our class oldest first (KIC merges the Ingresses' claims first,
/// translator.go lines 193-202; `translate_kong_l4.go` lines 26-33), each with the object and
/// its namespace. Objects left out for another are skipped.
fn tls_sections<'s>(
    snapshot: &'s Snapshot,
    class: &str,
    excluded: &Excluded,
) -> Vec<(ObjectRef, String, Vec<TlsSection<'s>>)> {
    let kept = |kind: Kind, meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta| {
        let ns = meta.namespace.as_deref().unwrap_or_default();
        !excluded.contains(kind, ns, meta.name.as_deref().unwrap_or_default())
    };
    // Most Ingresses have no TLS: they are skipped before anything else is looked at.
    let ingresses = snapshot.ingresses_in(None).filter(|i| {
        i.spec
            .as_ref()
            .is_some_and(|s| s.tls.as_ref().is_some_and(|t| !t.is_empty()))
            && ingress_class::ours(snapshot, class, i)
            && kept(Kind::Ingress, &i.metadata)
    });
    let mut out = Vec::new();
    for ing in by_age::<Ingress>(ingresses) {
        let sections = ing.spec.as_ref().and_then(|s| s.tls.as_deref());
        let sections = sections.unwrap_or_default().iter().map(|t| {
            let hosts = t.hosts.as_deref().unwrap_or_default();
            (hosts, t.secret_name.as_deref().unwrap_or_default())
        });
        let ns = ing.namespace().unwrap_or_default();
        out.push((ObjectRef::of(ing), ns, sections.collect()));
    }
    let tcp = snapshot.tcp_ingresses.values().map(|i| &**i).filter(|i| {
        i.spec.as_ref().is_some_and(|s| !s.tls.is_empty())
            && ingress_class::annotated(snapshot, class, *i)
            && kept(Kind::TcpIngress, &i.metadata)
    });
    for ing in by_age::<TcpIngress>(tcp) {
        let sections = ing.spec.iter().flat_map(|s| &s.tls).map(|t| {
            (
                t.hosts.as_slice(),
                t.secret_name.as_deref().unwrap_or_default(),
            )
        });
        let ns = ing.namespace().unwrap_or_default();
        out.push((ObjectRef::of(ing), ns, sections.collect()));
    }
    out
}

pub(super) fn ingress_claims(
    snapshot: &Snapshot,
    class: &str,
    excluded: &Excluded,
    problems: &mut Problems,
) -> (Vec<(SecretKey, IngressClaim)>, Vec<Lost>) {
    let mut order: Vec<SecretKey> = Vec::new();
    let mut claims: BTreeMap<SecretKey, IngressClaim> = BTreeMap::new();
    let mut seen: BTreeMap<String, (SecretKey, ObjectRef)> = BTreeMap::new();
    let mut lost = Vec::new();
    for (obj, ns, sections) in tls_sections(snapshot, class, excluded) {
        for (i, (hosts, secret_name)) in sections.into_iter().enumerate() {
            if hosts.is_empty() || secret_name.is_empty() {
                if !secret_name.is_empty() {
                    problems.warning(
                        &obj,
                        Reason::Ignored,
                        Some(format!("spec.tls[{i}].hosts")),
                        format!(
                            "no hosts: Kong serves a certificate by SNI and this section names none, so Secret {ns}/{secret_name} serves no host (KIC makes no certificate of it either)"
                        ),
                    );
                }
                continue;
            }
            let key = (ns.clone(), secret_name.to_string());
            let entry = claims.entry(key.clone()).or_insert_with(|| {
                order.push(key.clone());
                Default::default()
            });
            entry
                .by
                .push((obj.clone(), format!("spec.tls[{i}].secretName")));
            for (j, host) in hosts.iter().enumerate() {
                if let Some(msg) = names::hostname_error(host) {
                    problems.error(
                        &obj,
                        Reason::InvalidValue,
                        Some(format!("spec.tls[{i}].hosts[{j}]")),
                        format!("{msg}; left out of the certificate's SNIs"),
                    );
                    continue;
                }
                match seen.get(host) {
                    Some((owner, _)) if *owner == key => {}
                    Some((owner, by)) => lost.push(Lost {
                        by: obj.clone(),
                        field: format!("spec.tls[{i}].hosts[{j}]"),
                        host: host.clone(),
                        secret: key.clone(),
                        winner: owner.clone(),
                        winner_by: by.clone(),
                    }),
                    None => {
                        seen.insert(host.clone(), (key.clone(), obj.clone()));
                        entry.hosts.push(host.clone());
                    }
                }
            }
        }
    }
    let out = order
        .into_iter()
        .filter_map(|k| claims.remove(&k).map(|c| (k, c)))
        .collect();
    (out, lost)
}
