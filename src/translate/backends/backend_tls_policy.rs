//! BackendTLSPolicy: the TLS a Kong service speaks to the Services a policy targets, as KIC
//! v3.5.13 applies it. KIC's translator writes annotations on the Service it targets and reads
//! them as the Service's own (`internal/dataplane/translator/ingressrules.go` lines 130-187):
//! `konghq.com/tls-verify: "true"`, `host-header` (the upstream's, from
//! `validation.hostname`), `protocol: https` (all three replacing the Service's), the CA
//! references appended to `ca-certificates-configmaps` / `-secrets`, and `tls-verify-depth`
//! from the `tls-verify-depth` option when it is an integer of at least 0; so every Kong
//! service with the Service among its backends speaks verified TLS, whatever route made it.
//!
//! KIC's controller admits a policy first (`internal/controllers/gateway/
//! backendtlspolicy_utils.go` lines 54-113 and 210-283), and so does kingress: an HTTPRoute
//! attached to one of our Gateways must send to the Service (its ancestor); a Service two
//! policies target gets neither (`Conflicted`, `sectionName` not told apart); a CA reference
//! that is not a core ConfigMap or Secret of the policy's namespace, `subjectAltNames` and
//! `wellKnownCACertificates` make it `Invalid`. KIC reads `v1alpha3` behind its GatewayAlpha
//! gate; kingress reads the standard `v1` (and `v1alpha3` manifests) without one.

use std::borrow::Cow;
use std::collections::BTreeMap;

use kube::ResourceExt;

use super::ca_certificates::CaCertificates;
use crate::api::{BackendTlsPolicy, Service};
use crate::snapshot::Snapshot;
use crate::translate::Options;
use crate::translate::gateway::attachment;
use crate::translate::gateway::route::GatewayRoute;
use crate::translate::names::ObjectRef;
use crate::translate::problems::{Problems, Reason};

const PREFIX: &str = "konghq.com/";
/// KIC's option key (internal/gatewayapi/consts.go line 10).
const DEPTH_OPTION: &str = "tls-verify-depth";

/// Whether `policy` targets Service `name` of its own namespace (KIC's store index,
/// internal/store/store.go lines 362-380: group "" or "core", kind Service; no sectionName).
fn targets(policy: &BackendTlsPolicy, name: &str) -> bool {
    policy
        .spec
        .target_refs
        .iter()
        .any(|t| matches!(t.group.as_str(), "" | "core") && t.kind == "Service" && t.name == name)
}

/// Why a policy cannot be applied, if it cannot.
fn invalid(snapshot: &Snapshot, policy: &BackendTlsPolicy) -> Option<String> {
    let ns = policy.namespace().unwrap_or_default();
    let mut why = Vec::new();
    let refs = policy.spec.validation.ca_certificate_refs.iter().flatten();
    for r in refs {
        if !matches!(r.group.as_str(), "" | "core")
            || !matches!(r.kind.as_str(), "ConfigMap" | "Secret")
        {
            why.push(
                "CACertificateRefs must reference ConfigMaps or Secrets in the core group"
                    .to_string(),
            );
            break;
        }
        // kingress sees only ConfigMaps labelled as CA certificates (least privilege), so an
        // unlabelled one cannot be told from a missing one: the policy applies and the
        // reference is reported and left out (upstream_tls), where KIC writes an ID Kong
        // never gets.
        if r.kind == "Secret" && snapshot.secret(&ns, &r.name).is_none() {
            why.push(format!(
                "Secret {ns}/{} (a caCertificateRef) not found",
                r.name
            ));
            break;
        }
    }
    if policy
        .spec
        .validation
        .subject_alt_names
        .as_ref()
        .is_some_and(|s| !s.is_empty())
    {
        why.push("subjectAltNames are not supported (KIC: not supported either)".into());
    }
    if policy.spec.validation.well_known_ca_certificates.is_some() {
        why.push("wellKnownCACertificates are not supported (KIC: not supported either)".into());
    }
    (!why.is_empty()).then(|| why.join(" - "))
}

/// The `Accepted` verdict of KIC's controller on `policy`: `Err((reason, message))` when it is
/// `Conflicted` (another policy targets one of its Services) or `Invalid`.
pub fn verdict(
    snapshot: &Snapshot,
    policy: &BackendTlsPolicy,
) -> Result<(), (&'static str, String)> {
    let ns = policy.namespace().unwrap_or_default();
    let me = policy.name_any();
    let conflicted = policy.spec.target_refs.iter().any(|t| {
        snapshot
            .backend_tls_policies_in(&ns)
            .any(|other| other.name_any() != me && targets(other, &t.name))
    });
    if conflicted {
        return Err((
            "Conflicted",
            "Multiple BackendTLSPolicies target the same service".into(),
        ));
    }
    match invalid(snapshot, policy) {
        Some(why) => Err(("Invalid", why)),
        None => Ok(()),
    }
}

/// Whether `route` has a backendRef to Service `ns`/`name` (kind Service in the core group,
/// as the apiserver defaults them; the route's namespace unless the ref names one).
fn sends_to(route: &crate::api::HttpRoute, ns: &str, name: &str) -> bool {
    let route_ns = route.namespace().unwrap_or_default();
    route
        .spec
        .rules
        .iter()
        .flatten()
        .flat_map(|r| r.backend_refs.iter().flatten())
        .any(|r| {
            r.kind.as_deref().unwrap_or("Service") == "Service"
                && r.group.as_deref().unwrap_or_default().is_empty()
                && r.namespace.as_deref().unwrap_or(&route_ns) == ns
                && r.name == name
        })
}

/// The HTTPRoutes attached to one of our Gateways that send to Service `ns`/`name`.
pub fn routes_to<'s>(
    snapshot: &'s Snapshot,
    controller_name: &str,
    ns: &str,
    name: &str,
) -> Vec<&'s crate::api::HttpRoute> {
    snapshot
        .httproutes_in(None)
        .filter(|route| {
            sends_to(route, ns, name)
                && attachment::attached(snapshot, &GatewayRoute::from(*route), controller_name)
        })
        .collect()
}

/// Whether an HTTPRoute attached to one of our Gateways (any, offline without Gateways)
/// sends to Service `ns`/`name`.
fn has_ancestor(snapshot: &Snapshot, options: &Options, ns: &str, name: &str) -> bool {
    let assume = crate::translate::routes::gateway_api::assumes_attached_to(snapshot, options);
    snapshot.httproutes_in(None).any(|route| {
        sends_to(route, ns, name)
            && (assume
                || attachment::attached(
                    snapshot,
                    &GatewayRoute::from(route),
                    &options.controller_name,
                ))
    })
}

/// The annotations `service` is translated with: its own, with those of the policy that
/// applies to it set as KIC sets them. Policies that target it and do not apply are reported
/// on themselves.
pub fn annotations<'s>(
    snapshot: &Snapshot,
    options: &Options,
    cas: &CaCertificates,
    problems: &mut Problems,
    service: &'s Service,
) -> Option<Cow<'s, BTreeMap<String, String>>> {
    let own = service.metadata.annotations.as_ref();
    let ns = service.namespace().unwrap_or_default();
    let name = service.name_any();
    let policies: Vec<&BackendTlsPolicy> = snapshot
        .backend_tls_policies_in(&ns)
        .filter(|p| targets(p, &name))
        .collect();
    let [policy] = policies.as_slice() else {
        for p in &policies {
            problems.error(
                &ObjectRef::of(*p),
                Reason::InvalidPolicy,
                Some("spec.targetRefs".into()),
                format!(
                    "{} BackendTLSPolicies target Service {ns}/{name}: none is applied (Conflicted)",
                    policies.len()
                ),
            );
        }
        return own.map(Cow::Borrowed);
    };
    if let Some(why) = invalid(snapshot, policy) {
        problems.error(
            &ObjectRef::of(*policy),
            Reason::InvalidPolicy,
            Some("spec.validation".into()),
            format!("{why}; not applied (Invalid)"),
        );
        return own.map(Cow::Borrowed);
    }
    if !has_ancestor(snapshot, options, &ns, &name) {
        // KIC's controller leaves a policy without an ancestor out of translation.
        problems.warning(
            &ObjectRef::of(*policy),
            Reason::Ignored,
            Some("spec.targetRefs".into()),
            format!(
                "no HTTPRoute attached to a Gateway of {} sends to Service {ns}/{name}: not applied (as KIC)",
                options.controller_name
            ),
        );
        return own.map(Cow::Borrowed);
    }
    // A CA reference Kong gets no certificate for is reported on the policy (the service
    // verifies without it).
    let refs = policy.spec.validation.ca_certificate_refs.iter().flatten();
    for (k, r) in refs.enumerate() {
        let why = match cas.of(&r.kind, &ns, &r.name) {
            Some(Ok(_)) => continue,
            Some(Err(why)) => why.clone(),
            None => format!(
                "not found with the label {}: \"true\"",
                super::ca_certificates::LABEL
            ),
        };
        problems.error(
            &ObjectRef::of(*policy),
            Reason::InvalidPolicy,
            Some(format!("spec.validation.caCertificateRefs[{k}]")),
            format!(
                "{} {ns}/{}: {why}; Kong verifies Service {ns}/{name} without it",
                r.kind, r.name
            ),
        );
    }
    let mut merged = own.cloned().unwrap_or_default();
    let mut set = |key: &str, value: String| {
        merged.insert(format!("{PREFIX}{key}"), value);
    };
    set("tls-verify", "true".into());
    set("host-header", policy.spec.validation.hostname.clone());
    set("protocol", "https".into());
    for (kind, key) in [
        ("ConfigMap", "ca-certificates-configmaps"),
        ("Secret", "ca-certificates-secrets"),
    ] {
        let names: Vec<&str> = policy
            .spec
            .validation
            .ca_certificate_refs
            .iter()
            .flatten()
            .filter(|r| r.kind == kind)
            .map(|r| r.name.as_str())
            .collect();
        if names.is_empty() {
            continue;
        }
        let full = format!("{PREFIX}{key}");
        let value = match merged.get(&full).filter(|v| !v.trim().is_empty()) {
            Some(existing) => format!("{existing},{}", names.join(",")),
            None => names.join(","),
        };
        merged.insert(full, value);
    }
    let depth = policy
        .spec
        .options
        .as_ref()
        .and_then(|o| o.get(DEPTH_OPTION))
        .and_then(|v| v.parse::<i64>().ok())
        .filter(|d| *d >= 0);
    if let Some(depth) = depth {
        merged.insert(format!("{PREFIX}tls-verify-depth"), depth.to_string());
    }
    Some(Cow::Owned(merged))
}
