//! KongIngress `upstream` settings through the Service annotation `konghq.com/override`, as KIC
//! v3.5.13 still applies them (`internal/dataplane/kongstate/kongstate.go` 283-319
//! `FillUpstreamOverrides`, `upstream.go` 42-95 `overrideByKongIngress` and 150-177
//! `override`, `util.go` 18-47 `getKongIngressForServices`):
//!
//! - the first Service of the upstream's group that names one decides (KIC takes the first of a
//!   Go map, so in no fixed order; kingress takes the first backend);
//! - its set fields replace the upstream's, `healthchecks` whole; then the Services'
//!   `konghq.com/host-header` and the KongUpstreamPolicy apply over them, field by field;
//! - not for Services behind Gateway API routes (KIC skips those);
//! - a missing KongIngress is an error on every Service of the group, and nothing applies;
//! - `proxy` and `route` are refused by the CRD and no longer read.
//!
//! Each Service naming one gets KIC's deprecation message as a warning (KIC logs it).

use crate::api::GATEWAY_GROUP;
use crate::crd::kong_ingress::{
    KongIngressActiveHealthcheck, KongIngressHealthchecks, KongIngressHealthy,
    KongIngressPassiveHealthcheck, KongIngressUnhealthy, KongIngressUpstream,
};
use crate::kinds::Kind;
use crate::kong::config::{
    ActiveHealthcheck, Healthchecks, Healthy, PassiveHealthcheck, Unhealthy, Upstream,
};
use crate::translate::Context;
use crate::translate::names::ObjectRef;
use crate::translate::problems::Reason;

use super::upstream_policy;
use super::upstreams::{Backend, Naming};

/// The Service annotation naming a KongIngress of the Service's namespace.
pub const ANNOTATION: &str = "konghq.com/override";

fn named<'b>(backend: &Backend<'b>) -> Option<&'b str> {
    backend
        .service
        .metadata
        .annotations
        .as_ref()?
        .get(ANNOTATION)
        .map(String::as_str)
        .filter(|n| !n.is_empty())
}

/// Applies the KongIngress the backends name to `upstream`; call before the Services'
/// annotations and the KongUpstreamPolicy, which apply over it.
pub fn apply(
    ctx: &mut Context<'_>,
    naming: &Naming,
    backends: &[Backend<'_>],
    upstream: &mut Upstream,
) {
    let field = Some(format!("metadata.annotations[{ANNOTATION}]"));
    for b in backends.iter().filter(|b| named(b).is_some()) {
        let also_policy = b
            .service
            .metadata
            .annotations
            .as_ref()
            .is_some_and(|a| a.contains_key(upstream_policy::ANNOTATION));
        let message = if also_policy {
            format!(
                "Service uses both {ANNOTATION} and {p} annotations, should use only {p} annotation. Settings from {p} will take precedence",
                p = upstream_policy::ANNOTATION
            )
        } else {
            format!(
                "Service uses deprecated {ANNOTATION} annotation and KongIngress, migrate to {} and KongUpstreamPolicy",
                upstream_policy::ANNOTATION
            )
        };
        ctx.problems
            .warning(&b.object(), Reason::Deprecated, field.clone(), message);
    }
    let Some((backend, name)) = backends.iter().find_map(|b| Some((b, named(b)?))) else {
        return;
    };
    if naming.owner.kind.info().group == GATEWAY_GROUP {
        for b in backends.iter().filter(|b| named(b).is_some()) {
            ctx.problems.warning(
                &b.object(),
                Reason::Ignored,
                field.clone(),
                format!(
                    "ignored for {}: a KongIngress does not apply to the backends of Gateway API routes (KIC v3.5.13 skips them too); use {}",
                    naming.owner,
                    upstream_policy::ANNOTATION
                ),
            );
        }
        return;
    }
    let namespace = backend
        .service
        .metadata
        .namespace
        .as_deref()
        .unwrap_or_default();
    if ctx.excluded.contains(Kind::KongIngress, namespace, name) {
        return;
    }
    let Some(kong_ingress) = ctx.snapshot.kong_ingress(namespace, name) else {
        for b in backends {
            ctx.problems.error(
                &b.object(),
                Reason::PolicyNotFound,
                field.clone(),
                format!(
                    "failed to get KongIngress: KongIngress {namespace}/{name} not found; upstream {} keeps the settings of the Services' other annotations and policy",
                    naming.upstream_name
                ),
            );
        }
        return;
    };
    if let Some(settings) = &kong_ingress.upstream {
        override_upstream(settings, upstream);
    }
    // Kong refusing the upstream leaves this KongIngress out (unless a policy applies after it).
    ctx.record_policy(
        &naming.upstream_name,
        ObjectRef::new(Kind::KongIngress, Some(namespace), name),
    );
}

/// `overrideByKongIngress`: each set field replaces the upstream's.
fn override_upstream(k: &KongIngressUpstream, u: &mut Upstream) {
    let set = |from: &Option<String>, to: &mut Option<String>| {
        if from.is_some() {
            to.clone_from(from);
        }
    };
    set(&k.host_header, &mut u.host_header);
    if let Some(algorithm) = k.algorithm {
        u.algorithm = Some(algorithm.as_str().to_string());
    }
    if k.slots.is_some() {
        u.slots = k.slots;
    }
    if let Some(hc) = &k.healthchecks {
        u.healthchecks = Some(healthchecks(hc));
    }
    set(&k.hash_on, &mut u.hash_on);
    set(&k.hash_fallback, &mut u.hash_fallback);
    set(&k.hash_on_header, &mut u.hash_on_header);
    set(&k.hash_fallback_header, &mut u.hash_fallback_header);
    set(&k.hash_on_cookie, &mut u.hash_on_cookie);
    set(&k.hash_on_cookie_path, &mut u.hash_on_cookie_path);
    set(&k.hash_on_query_arg, &mut u.hash_on_query_arg);
    set(&k.hash_fallback_query_arg, &mut u.hash_fallback_query_arg);
    set(&k.hash_on_uri_capture, &mut u.hash_on_uri_capture);
    set(
        &k.hash_fallback_uri_capture,
        &mut u.hash_fallback_uri_capture,
    );
}

/// KongIngress health checks are Kong's own (go-kong's `Healthcheck`), copied as they are.
fn healthchecks(h: &KongIngressHealthchecks) -> Healthchecks {
    Healthchecks {
        active: h.active.as_ref().map(active),
        passive: h.passive.as_ref().map(passive),
        threshold: h.threshold,
    }
}

fn active(a: &KongIngressActiveHealthcheck) -> ActiveHealthcheck {
    ActiveHealthcheck {
        concurrency: a.concurrency,
        headers: a.headers.clone(),
        healthy: a.healthy.as_ref().map(healthy),
        http_path: a.http_path.clone(),
        https_sni: a.https_sni.clone(),
        https_verify_certificate: a.https_verify_certificate,
        timeout: a.timeout,
        kind: a.type_.clone(),
        unhealthy: a.unhealthy.as_ref().map(unhealthy),
    }
}

fn passive(p: &KongIngressPassiveHealthcheck) -> PassiveHealthcheck {
    PassiveHealthcheck {
        healthy: p.healthy.as_ref().map(healthy),
        kind: p.type_.clone(),
        unhealthy: p.unhealthy.as_ref().map(unhealthy),
    }
}

fn healthy(h: &KongIngressHealthy) -> Healthy {
    Healthy {
        http_statuses: h.http_statuses.clone(),
        interval: h.interval,
        successes: h.successes,
    }
}

fn unhealthy(u: &KongIngressUnhealthy) -> Unhealthy {
    Unhealthy {
        http_failures: u.http_failures,
        http_statuses: u.http_statuses.clone(),
        interval: u.interval,
        tcp_failures: u.tcp_failures,
        timeouts: u.timeouts,
    }
}
