//! Backends (Kubernetes Service ports) → one Kong service and its upstream with targets.

use crate::kinds::Kind;
use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::ServicePort;
use kube::ResourceExt;

use super::targets::{self, Endpoint};
use super::weights::{self, MAX_TARGET_WEIGHT};
use super::{ring_capacity, upstream_policy};
use crate::api::Service;
use crate::kong::config::{self, DEFAULT_TARGET_WEIGHT, Target, Upstream};
use crate::translate::names::{self, Entity, ObjectRef};
use crate::translate::problems::Reason;
use crate::translate::{Context, NamespacedName, PolicyConflict, annotations};

/// One resolved backend of a Kong service.
pub struct Backend<'a> {
    pub service: &'a Service,
    pub port: &'a ServicePort,
    /// False when the Service lacks the port: the backend gets no targets (KIC).
    pub port_found: bool,
    /// The route's weight; `None` for Ingress backends, which have none.
    pub weight: Option<u32>,
    /// The object problems with its annotations are reported on, when not the Service (a
    /// KongServiceFacade, whose annotations are merged over its Service's).
    pub reported_as: Option<ObjectRef>,
}

impl Backend<'_> {
    pub fn object(&self) -> ObjectRef {
        match &self.reported_as {
            Some(o) => o.clone(),
            None => ObjectRef::of(self.service),
        }
    }
}

fn service_key(service: &Service) -> NamespacedName {
    (service.namespace().unwrap_or_default(), service.name_any())
}

/// What to call the Kong service and upstream, and whose tags they carry.
pub struct Naming {
    pub service_name: String,
    pub upstream_name: String,
    /// Tags used when there are several backends (those of the route object).
    pub owner_tags: Vec<String>,
    pub owner: ObjectRef,
    /// The service protocol before the Services' `konghq.com/protocol` (KIC sets it at
    /// creation and overrides it from annotations later).
    pub protocol: &'static str,
    /// An HTTPRoute rule's `timeouts.backendRequest` (ms): the service's connect, read and
    /// write timeouts, under the Services' annotations.
    pub timeout_ms: Option<i64>,
}

/// Builds the Kong service (without routes) and its upstream.
pub fn build(
    ctx: &mut Context<'_>,
    mut naming: Naming,
    backends: &[Backend<'_>],
) -> (config::Service, Upstream) {
    let objects: Vec<ObjectRef> = backends.iter().map(|b| b.object()).collect();
    // One distinct Service: its tags; several: the route object's (KIC).
    let tags = match objects.first() {
        Some(one) if objects.iter().all(|o| o == one) => {
            names::tags(one, backends[0].service.metadata.annotations.as_ref())
        }
        _ => std::mem::take(&mut naming.owner_tags),
    };
    // KIC overwrites the port per backend, so the last one wins.
    let port = backends.last().map(|b| i64::from(b.port.port));
    let mut service = config::Service {
        connect_timeout: Some(60_000),
        host: naming.upstream_name.clone(),
        id: names::entity_id(Entity::Service, &naming.service_name),
        name: naming.service_name.clone(),
        path: None,
        port,
        protocol: naming.protocol.into(),
        read_timeout: Some(60_000),
        retries: Some(5),
        tags: tags.clone(),
        write_timeout: Some(60_000),
        ..Default::default()
    };
    // Under the Services' timeout annotations, as KIC (checked with its translator:
    // tests/kic-oracle/httproute-timeouts).
    if let Some(ms) = naming.timeout_ms {
        service.connect_timeout = Some(ms);
        service.read_timeout = Some(ms);
        service.write_timeout = Some(ms);
    }

    let mut upstream = Upstream {
        algorithm: Some("round-robin".into()),
        name: naming.upstream_name.clone(),
        tags,
        ..Default::default()
    };
    // KIC's order: KongIngress, then the Services' annotations, then KongUpstreamPolicy.
    super::kong_ingress::apply(ctx, &naming, backends, &mut upstream);
    for (b, object) in backends.iter().zip(&objects) {
        // The Service's annotations, with those its BackendTLSPolicy sets (as KIC reads them).
        let effective = super::backend_tls_policy::annotations(
            ctx.snapshot,
            ctx.options,
            ctx.ca_certificates,
            ctx.problems,
            b.service,
        );
        annotations::apply_to_service(
            effective.as_deref(),
            object,
            ctx.problems,
            &mut service,
            &mut upstream,
        );
        super::upstream_tls::apply(
            effective.as_deref(),
            b.service.metadata.namespace.as_deref().unwrap_or_default(),
            object,
            ctx.ca_certificates,
            ctx.problems,
            &mut service,
        );
        if let Some(cert) = super::upstream_tls::client_certificate(
            ctx.snapshot,
            ctx.excluded,
            ctx.cluster_certificates,
            b.service,
            object,
            ctx.problems,
            &mut service,
        ) {
            ctx.add_certificate(cert);
        }
    }
    let policy = apply_policy(ctx, &naming, backends, &mut upstream);
    if !super::consistency::check(backends, &naming.service_name, ctx.problems) {
        // Left out once its routes are in (they go with it).
        ctx.leave_out_service(&naming.service_name);
    }
    upstream.targets = build_targets(ctx, &naming, backends);
    if let Some(finding) = ring_capacity::check(&upstream) {
        // Reported on the policy (whose slots fix it) and on each Service behind it.
        let mut on: Vec<ObjectRef> = policy.into_iter().collect();
        on.extend(objects.iter().cloned());
        on.dedup();
        for object in &on {
            ctx.problems.warning(
                object,
                Reason::RingCapacity,
                Some("spec.slots".into()).filter(|_| object.kind == Kind::KongUpstreamPolicy),
                finding.message.clone(),
            );
        }
    }
    // Plugins named on the Kubernetes Services apply to every Kong service built from them.
    for (b, object) in backends.iter().zip(&objects) {
        let ns = object.namespace.as_deref().unwrap_or_default();
        crate::translate::plugins::attach(
            ctx,
            object,
            ns,
            b.service.metadata.annotations.as_ref(),
            crate::translate::plugins::Scope::Service(naming.service_name.clone()),
        );
    }
    (service, upstream)
}

fn policy_name(service: &Service) -> Option<&str> {
    service
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(upstream_policy::ANNOTATION))
        .map(String::as_str)
}

/// Applies the KongUpstreamPolicy all backends name; several Services behind one upstream
/// must agree (KIC: "inconsistent KongUpstreamPolicy configuration"), or none applies.
/// Returns the policy applied, if any.
fn apply_policy(
    ctx: &mut Context<'_>,
    naming: &Naming,
    backends: &[Backend<'_>],
    upstream: &mut Upstream,
) -> Option<ObjectRef> {
    let named: Vec<Option<&str>> = backends.iter().map(|b| policy_name(b.service)).collect();
    let first = named.first().copied()?;
    if named.iter().any(|n| *n != first) {
        let listing: Vec<String> = backends
            .iter()
            .zip(&named)
            .map(|(b, n)| {
                format!(
                    "Service {}/{} ({})",
                    b.service.namespace().unwrap_or_default(),
                    b.service.name_any(),
                    n.map_or("no policy".to_string(), |n| format!("policy {n}"))
                )
            })
            .collect();
        ctx.record_policy_conflict(PolicyConflict {
            upstream: naming.upstream_name.clone(),
            owner: naming.owner.clone(),
            backends: backends
                .iter()
                .zip(&named)
                .map(|(b, n)| (service_key(b.service), n.map(str::to_string)))
                .collect(),
        });
        ctx.problems.error(
            &naming.owner,
            Reason::PolicyConflict,
            None,
            format!(
                "inconsistent KongUpstreamPolicy configuration: backends of upstream {} must all name the same {} annotation, but: {}; no policy applied",
                naming.upstream_name,
                upstream_policy::ANNOTATION,
                listing.join(", ")
            ),
        );
        return None;
    }
    let policy_name = first?;
    let backend = &backends[0];
    let namespace = backend.service.namespace().unwrap_or_default();
    if ctx
        .excluded
        .contains(Kind::KongUpstreamPolicy, &namespace, policy_name)
    {
        return None;
    }
    let Some(policy) = ctx.snapshot.upstream_policy(&namespace, policy_name) else {
        ctx.problems.error(
            &backend.object(),
            Reason::PolicyNotFound,
            Some(format!("metadata.annotations[{}]", upstream_policy::ANNOTATION)),
            format!(
                "KongUpstreamPolicy {namespace}/{policy_name} not found; upstream {} keeps Kong's defaults",
                naming.upstream_name
            ),
        );
        return None;
    };
    let policy_ref = ObjectRef::new(Kind::KongUpstreamPolicy, Some(&namespace), policy_name);
    // A policy the apiserver or Kong would refuse is left out whole: half of it could
    // change what the rest means (e.g. hashOn without its algorithm).
    let violations = upstream_policy::validate(&policy.spec);
    if !violations.is_empty() {
        for v in violations {
            ctx.problems.error(
                &policy_ref,
                Reason::InvalidPolicy,
                Some(v.field),
                format!(
                    "{}{} The policy is not applied: upstream {} keeps Kong's defaults",
                    v.message,
                    if v.message.ends_with('.') { "" } else { "." },
                    naming.upstream_name
                ),
            );
        }
        return None;
    }
    // KIC's version gate (kongstate.go 304-315): on Kong older than 3.11 a sticky-sessions
    // policy is not applied, with a failure on every Service of the upstream.
    let sticky = crate::kong::version::STICKY_SESSIONS;
    if policy.spec.algorithm == Some(crate::crd::Algorithm::StickySessions)
        && ctx.options.kong_version < sticky
    {
        for b in backends {
            ctx.problems.error(
                &b.object(),
                Reason::InvalidPolicy,
                Some(format!("metadata.annotations[{}]", upstream_policy::ANNOTATION)),
                format!(
                    "sticky sessions algorithm specified in KongUpstreamPolicy '{policy_name}' is not supported with Kong Gateway versions < {sticky} (translating for Kong {}); the policy is not applied",
                    ctx.options.kong_version
                ),
            );
        }
        return None;
    }
    for w in upstream_policy::apply(&policy.spec, upstream) {
        ctx.problems
            .warning(&policy_ref, Reason::InvalidPolicy, Some(w.field), w.message);
    }
    ctx.record_policy(&naming.upstream_name, policy_ref.clone());
    ctx.record_policy_services(
        (namespace.clone(), policy_name.to_string()),
        backends.iter().map(|b| service_key(b.service)),
    );
    Some(policy_ref)
}

fn build_targets(ctx: &mut Context<'_>, naming: &Naming, backends: &[Backend<'_>]) -> Vec<Target> {
    let endpoints: Vec<Vec<Endpoint>> = backends
        .iter()
        .map(|b| match b.port_found {
            true => targets::endpoints(
                ctx.snapshot,
                ctx.excluded,
                targets::Settings {
                    drain: ctx.options.enable_drain_support,
                    cluster_domain: &ctx.options.cluster_domain,
                    service_upstream: ctx.class_parameters.service_upstream,
                },
                b.service,
                b.port,
            ),
            false => Vec::new(),
        })
        .collect();
    // Without route weights (Ingress) KIC leaves target weights to Kong's default.
    let per_endpoint: Vec<Option<u32>> = if backends.iter().all(|b| b.weight.is_none()) {
        vec![None; backends.len()]
    } else {
        let shares: Vec<weights::Backend> = backends
            .iter()
            .zip(&endpoints)
            .map(|(b, eps)| weights::Backend {
                weight: b.weight.unwrap_or(1),
                endpoints: eps.iter().filter(|e| !e.draining).count(),
            })
            .collect();
        let dist = weights::distribute(&shares);
        if !dist.exact {
            ctx.problems.warning(
                &naming.owner,
                Reason::WeightRounded,
                None,
                format!(
                    "the exact split of upstream {} needs target weights above Kong's {MAX_TARGET_WEIGHT}; weights were scaled and rounded (error under 1/(2·weight) per backend)",
                    naming.upstream_name
                ),
            );
        }
        dist.per_endpoint.into_iter().map(Some).collect()
    };
    // One backend: its endpoints are already distinct and sorted by target.
    if endpoints.len() == 1 {
        let weight = per_endpoint.first().copied().flatten();
        return endpoints
            .into_iter()
            .flatten()
            .map(|ep| Target {
                weight: if ep.draining { Some(0) } else { weight },
                target: ep.target,
            })
            .collect();
    }
    // Same ip:port from several backends is one Kong target: weights add up, an unset
    // weight counting as Kong's default (KIC).
    let mut merged: BTreeMap<String, Option<u32>> = BTreeMap::new();
    for (eps, weight) in endpoints.iter().zip(per_endpoint) {
        for ep in eps {
            let w = if ep.draining { Some(0) } else { weight };
            merged
                .entry(ep.target.clone())
                .and_modify(|old| {
                    let sum = old
                        .unwrap_or(DEFAULT_TARGET_WEIGHT)
                        .saturating_add(w.unwrap_or(DEFAULT_TARGET_WEIGHT));
                    *old = Some(sum.min(MAX_TARGET_WEIGHT));
                })
                .or_insert(w);
        }
    }
    merged
        .into_iter()
        .map(|(target, weight)| Target { target, weight })
        .collect()
}
