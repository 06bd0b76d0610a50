//! Snapshot in → Kong declarative config and problems out. Pure: no async, no client.
//!
//! Output is deterministic: services, routes, upstreams and targets are sorted by name,
//! descending as KIC's deck output is, so the same objects give byte-identical config
//! whatever order they arrived in, and the same text as KIC.

pub mod annotations;
pub mod httproute;
pub mod ingress;
pub mod names;
pub mod plugins;
pub mod problems;
pub mod ring_capacity;
pub mod targets;
pub mod upstream_policy;
pub mod upstreams;
pub mod weights;

use std::collections::BTreeMap;

use crate::kong::config::{Certificate, KongConfig, Service, Upstream};
use crate::snapshot::Snapshot;
pub use problems::{Problem, Problems, Reason, Severity};

/// KIC's defaults, so existing IngressClasses and GatewayClasses keep working.
pub const DEFAULT_INGRESS_CLASS: &str = "kong";
pub const DEFAULT_CONTROLLER_NAME: &str = "konghq.com/kic-gateway-controller";

/// A Kubernetes object by kind, namespace (empty if cluster-scoped) and name.
pub type ObjectKey = (String, String, String);

pub fn object_key(kind: &str, namespace: &str, name: &str) -> ObjectKey {
    (kind.to_string(), namespace.to_string(), name.to_string())
}

#[derive(Clone, Debug)]
pub struct Options {
    pub ingress_class: String,
    /// GatewayClasses with this `spec.controllerName` are ours.
    pub controller_name: String,
    /// Offline mode: when the input holds no Gateway or GatewayClass at all, treat every
    /// HTTPRoute as attached to one of our Gateways (as KIC's golden tests do).
    pub assume_attached_without_gateways: bool,
    /// Objects to leave out because Kong rejected what they produced (the controller's
    /// fallback): their routes, backends or policy are translated as if absent.
    pub excluded: std::collections::BTreeSet<ObjectKey>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            ingress_class: DEFAULT_INGRESS_CLASS.to_string(),
            controller_name: DEFAULT_CONTROLLER_NAME.to_string(),
            assume_attached_without_gateways: false,
            excluded: Default::default(),
        }
    }
}

impl Options {
    pub fn is_excluded(&self, kind: &str, namespace: &str, name: &str) -> bool {
        !self.excluded.is_empty() && self.excluded.contains(&object_key(kind, namespace, name))
    }
}

#[derive(Debug)]
pub struct Translation {
    pub config: KongConfig,
    pub problems: Vec<Problem>,
    /// The KongUpstreamPolicy applied to each upstream, by upstream name: Kong reports
    /// rejected upstreams by name and tags, which name the Service, not the policy.
    pub upstream_policies: BTreeMap<String, names::ObjectRef>,
}

impl Translation {
    pub fn errors(&self) -> impl Iterator<Item = &Problem> {
        self.problems
            .iter()
            .filter(|p| p.severity == Severity::Error)
    }
}

/// Translation state shared by the per-kind translators.
pub struct Context<'a> {
    pub snapshot: &'a Snapshot,
    pub options: &'a Options,
    pub problems: &'a mut Problems,
    /// Kong services by name, each with its upstream (routes are added as found).
    services: BTreeMap<String, (Service, Upstream)>,
    certificates: BTreeMap<String, Certificate>,
    upstream_policies: BTreeMap<String, names::ObjectRef>,
}

impl Context<'_> {
    pub fn record_policy(&mut self, upstream: &str, policy: names::ObjectRef) {
        self.upstream_policies.insert(upstream.to_string(), policy);
    }

    pub fn has_service(&self, name: &str) -> bool {
        self.services.contains_key(name)
    }

    pub fn add_service(&mut self, service: Service, upstream: Upstream) {
        self.services
            .entry(service.name.clone())
            .or_insert((service, upstream));
    }

    pub fn service_mut(&mut self, name: &str) -> Option<&mut Service> {
        self.services.get_mut(name).map(|(s, _)| s)
    }

    /// Adds a certificate, merging SNIs when several objects use the same Secret.
    pub fn add_certificate(&mut self, cert: Certificate) {
        match self.certificates.get_mut(&cert.id) {
            Some(existing) => {
                for sni in cert.snis {
                    if !existing.snis.contains(&sni) {
                        existing.snis.push(sni);
                    }
                }
            }
            None => {
                self.certificates.insert(cert.id.clone(), cert);
            }
        }
    }
}

pub fn translate(snapshot: &Snapshot, options: &Options) -> Translation {
    let mut problems = Problems::default();
    let mut ctx = Context {
        snapshot,
        options,
        problems: &mut problems,
        services: BTreeMap::new(),
        certificates: BTreeMap::new(),
        upstream_policies: BTreeMap::new(),
    };
    ingress::translate_all(&mut ctx);
    httproute::translate_all(&mut ctx);

    let mut config = KongConfig::new();
    let mut upstreams: BTreeMap<String, Upstream> = BTreeMap::new();
    for (_, (mut service, mut upstream)) in std::mem::take(&mut ctx.services) {
        service.routes.sort_by(|a, b| b.name.cmp(&a.name));
        service.plugins.sort_by(|a, b| b.name.cmp(&a.name));
        upstream.targets.sort_by(|a, b| b.target.cmp(&a.target));
        config.services.push(service);
        upstreams.entry(upstream.name.clone()).or_insert(upstream);
    }
    config.services.reverse();
    config.upstreams = upstreams.into_values().rev().collect();
    config.certificates = std::mem::take(&mut ctx.certificates)
        .into_values()
        .collect();
    for cert in &mut config.certificates {
        cert.snis.sort_by(|a, b| a.name.cmp(&b.name));
    }
    config.certificates.sort_by(|a, b| b.cert.cmp(&a.cert));
    let upstream_policies = std::mem::take(&mut ctx.upstream_policies);
    Translation {
        config,
        problems: problems.into_sorted(),
        upstream_policies,
    }
}
