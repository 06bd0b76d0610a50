//! Upstream TLS from a Service's annotations, as KIC v3.5.13 reads them
//! (`internal/dataplane/kongstate/service.go` lines 149-169, `translator/ingressrules.go`
//! lines 223-296): `konghq.com/tls-verify` → the Kong service's `tls_verify`,
//! `konghq.com/tls-verify-depth` → `tls_verify_depth`, and `konghq.com/ca-certificates-secrets`
//! / `-configmaps` (Secrets, then ConfigMaps, of the Service's namespace) → `ca_certificates`,
//! by the `id` of each (which must be a CA certificate, [`super::ca_certificates`]).
//!
//! `konghq.com/client-cert` names a TLS Secret of the Service's namespace that becomes a Kong
//! certificate and the service's `client_certificate` (`ingressrules.go` lines 189-221; the
//! certificate is merged with identical ones, [`crate::translate::certificates`]).
//!
//! KIC sets `tls_verify` whatever the protocol and references CA objects Kong never gets;
//! Kong refuses both (a TLS field on a non-TLS service, Kong 3.10 `services.lua` lines 62-70;
//! an ID no `ca_certificates` entity has). kingress reports them and leaves them out.

use std::collections::BTreeMap;

use super::ca_certificates::CaCertificates;
use crate::kong::config::Service as KongService;
use crate::translate::names::ObjectRef;
use crate::translate::problems::{Problems, Reason};

const PREFIX: &str = "konghq.com/";
const TLS_VERIFY: &str = "tls-verify";
const TLS_VERIFY_DEPTH: &str = "tls-verify-depth";
const CA_SECRETS: &str = "ca-certificates-secrets";
const CA_CONFIG_MAPS: &str = "ca-certificates-configmaps";

/// Protocols Kong takes TLS fields on (KIC's `isNonTLSProtocol` is the complement).
fn tls_protocol(protocol: &str) -> bool {
    matches!(protocol, "https" | "grpcs" | "tls" | "wss")
}

/// Go's `strconv.ParseBool`, which KIC reads `tls-verify` with.
fn parse_bool(v: &str) -> Option<bool> {
    match v {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

fn field(key: &str) -> String {
    format!("metadata.annotations[{PREFIX}{key}]")
}

/// Applies one backend Service's TLS annotations to `service`; `namespace` is the Service's.
pub fn apply(
    annotations: Option<&BTreeMap<String, String>>,
    namespace: &str,
    object: &ObjectRef,
    cas: &CaCertificates,
    problems: &mut Problems,
    service: &mut KongService,
) {
    let Some(annotations) = annotations else {
        return;
    };
    let get = |key: &str| annotations.get(&format!("{PREFIX}{key}")).map(|v| v.trim());
    let verify = match get(TLS_VERIFY) {
        None => None,
        Some(v) => match parse_bool(v) {
            Some(b) => Some(b),
            None => {
                problems.warning(
                    object,
                    Reason::InvalidAnnotation,
                    Some(field(TLS_VERIFY)),
                    format!("{v:?} is not true or false; ignored"),
                );
                None
            }
        },
    };
    let depth = match get(TLS_VERIFY_DEPTH) {
        None => None,
        Some(v) => match v.parse::<i64>() {
            // Kong's range (services.lua: tls_verify_depth between 0 and 64).
            Ok(n) if (0..=64).contains(&n) => Some(n),
            _ => {
                problems.warning(
                    object,
                    Reason::InvalidAnnotation,
                    Some(field(TLS_VERIFY_DEPTH)),
                    format!("{v:?} is not an integer from 0 to 64; ignored"),
                );
                None
            }
        },
    };
    if verify.is_some() || depth.is_some() {
        if tls_protocol(&service.protocol) {
            service.tls_verify = verify.or(service.tls_verify);
            service.tls_verify_depth = depth.or(service.tls_verify_depth);
        } else {
            problems.warning(
                object,
                Reason::InvalidAnnotation,
                Some(field(if verify.is_some() { TLS_VERIFY } else { TLS_VERIFY_DEPTH })),
                format!(
                    "TLS verification needs a TLS protocol (https, grpcs, tls); the Kong service {} speaks {}: ignored (Kong refuses it)",
                    service.name, service.protocol
                ),
            );
        }
    }
    let list = |key: &str| -> Vec<String> {
        get(key)
            .map(|v| {
                v.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default()
    };
    let refs: Vec<(&str, &str, String)> = list(CA_SECRETS)
        .into_iter()
        .map(|n| ("Secret", CA_SECRETS, n))
        .chain(
            list(CA_CONFIG_MAPS)
                .into_iter()
                .map(|n| ("ConfigMap", CA_CONFIG_MAPS, n)),
        )
        .collect();
    if refs.is_empty() {
        return;
    }
    // KIC (ingressrules.go lines 237-253): CA certificates only with verification on, over TLS.
    if verify != Some(true) || !tls_protocol(&service.protocol) {
        problems.error(
            object,
            Reason::InvalidAnnotation,
            Some(field(refs[0].1)),
            format!(
                "CA certificates need {PREFIX}{TLS_VERIFY}: \"true\" and a TLS protocol (the Kong service {} speaks {}); not applied",
                service.name, service.protocol
            ),
        );
        return;
    }
    for (kind, key, name) in refs {
        match cas.of(kind, namespace, &name) {
            Some(Ok(ca)) => service.ca_certificates.push(ca.id.clone()),
            Some(Err(why)) => problems.error(
                object,
                Reason::InvalidValue,
                Some(field(key)),
                format!(
                    "{kind} {namespace}/{name} is not a usable CA certificate: {why}; left out"
                ),
            ),
            None => problems.error(
                object,
                Reason::SecretNotFound,
                Some(field(key)),
                format!(
                    "no {kind} {namespace}/{name} labelled {}: \"true\"; left out",
                    super::ca_certificates::LABEL
                ),
            ),
        }
    }
}
/// The client certificate a Service's `konghq.com/client-cert` asks for, set on `service`
/// (over TLS protocols only, as KIC's `isNonTLSProtocol` allows); the certificate entity is
/// returned for the config. What stops it is reported on the Service.
pub fn client_certificate(
    ctx_snapshot: &crate::snapshot::Snapshot,
    excluded: &crate::translate::fallback::Excluded,
    certs: &crate::translate::certificates::Certificates,
    k8s_service: &crate::api::Service,
    object: &ObjectRef,
    problems: &mut Problems,
    service: &mut KongService,
) -> Option<crate::kong::config::Certificate> {
    use crate::translate::certificates::{CLIENT_CERT_ANNOTATION, key_pair_of};
    let name = k8s_service
        .metadata
        .annotations
        .as_ref()?
        .get(CLIENT_CERT_ANNOTATION)?;
    let namespace = k8s_service
        .metadata
        .namespace
        .as_deref()
        .unwrap_or_default();
    let field = Some(format!("metadata.annotations[{CLIENT_CERT_ANNOTATION}]"));
    let why = if let Some(why) = excluded.reason(crate::kinds::Kind::Secret, namespace, name) {
        Some((
            Reason::Excluded,
            format!("Secret {namespace}/{name} is {why}"),
        ))
    } else {
        match ctx_snapshot.secret(namespace, name) {
            None => Some((
                Reason::SecretNotFound,
                format!("Secret {namespace}/{name} not found"),
            )),
            Some(secret) => key_pair_of(secret).err().map(|e| {
                (
                    Reason::InvalidCertificate,
                    format!("Secret {namespace}/{name} is not a TLS key pair ({e})"),
                )
            }),
        }
    };
    if let Some((reason, message)) = why {
        problems.error(
            object,
            reason,
            field,
            format!(
                "{message}; the Kong service {} gets no client certificate",
                service.name
            ),
        );
        return None;
    }
    if !tls_protocol(&service.protocol) {
        problems.error(
            object,
            Reason::InvalidAnnotation,
            field,
            format!(
                "a client certificate needs a TLS protocol (https, grpcs, tls, wss); the Kong service {} speaks {}: not applied",
                service.name, service.protocol
            ),
        );
        return None;
    }
    let cert = certs.client_certificate(namespace, name)?;
    service.client_certificate = Some(cert.id.clone());
    Some(cert.clone())
}
