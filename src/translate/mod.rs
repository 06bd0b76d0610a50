//! Snapshot in → Kong declarative config and problems out. Pure: no async, no client.
//!
//! Output is deterministic: services, routes, upstreams and targets are sorted by name,
//! descending as KIC's deck output is, so the same objects give byte-identical config
//! whatever order they arrived in, and the same text as KIC.
//!
//! The rooms, in the order a request meets them (docs/ARCHITECTURE.md):
//! - [`routes`]: one module per route kind (Ingress, HTTPRoute), each producing Kong
//!   services and routes;
//! - [`gateway`]: whether and where a Gateway API route attaches;
//! - [`backends`]: Services → upstreams and targets, exact weights, KongUpstreamPolicy and
//!   the ring-capacity check;
//! - [`plugins`]: KongPlugin/KongClusterPlugin scoping and their configuration;
//! - beside them: [`names`] (KIC's entity names, IDs and tags), [`annotations`],
//!   [`problems`], and [`incremental`] translation.

pub mod annotations;
pub mod backends;
pub mod certificates;
pub mod configured;
pub mod consumers;
pub mod custom_entities;
mod derived;
mod facts;
pub mod fallback;
pub mod feature_gates;
pub mod gateway;
pub mod incremental;
pub mod ingress_class;
pub mod names;
pub mod plugins;
pub mod problems;
pub mod round_cache;
pub mod routes;
pub mod secret_values;
pub mod vaults;

use std::collections::BTreeMap;

use crate::kong::config::{Certificate, KongConfig, Service, Upstream};
use crate::snapshot::Snapshot;
pub use configured::Configured;
pub use derived::Derived;
use facts::configured_objects;
pub(crate) use facts::object_of_tags;
pub use facts::{Facts, NamespacedName, PolicyConflict};
pub use problems::{Problem, Problems, Reason, Severity};

/// KIC's defaults, so existing IngressClasses and GatewayClasses keep working.
pub const DEFAULT_INGRESS_CLASS: &str = "kong";
pub const DEFAULT_CONTROLLER_NAME: &str = "konghq.com/kic-gateway-controller";

pub use crate::kinds::{Kind, ObjectKey};

/// The key of an object of `kind` (namespace empty if cluster-scoped).
pub fn object_key(kind: Kind, namespace: &str, name: &str) -> ObjectKey {
    ObjectKey::new(kind, namespace, name)
}

#[derive(Clone, Debug, PartialEq)]
pub struct Options {
    pub ingress_class: String,
    /// GatewayClasses with this `spec.controllerName` are ours.
    pub controller_name: String,
    /// Offline mode: when the input holds no Gateway or GatewayClass at all, treat every
    /// HTTPRoute as attached to one of our Gateways (as KIC's golden tests do).
    pub assume_attached_without_gateways: bool,
    /// Objects to leave out because Kong rejected what they produced (the controller's
    /// fallback): they, and every object that depends on them ([`fallback::Excluded`]),
    /// are translated as if absent.
    pub excluded: std::collections::BTreeSet<ObjectKey>,
    /// Kong replicas being configured: rate limits with `policy: local` count per replica.
    pub kong_replicas: usize,
    /// KIC's `--feature-gates`.
    pub feature_gates: feature_gates::FeatureGates,
    /// KIC's `--enable-drain-support`: terminating endpoints stay at weight 0 so Kong drains
    /// them. On in kingress (off in KIC, which then drops them).
    pub enable_drain_support: bool,
    /// The Kong version translated for (KIC's version gates).
    pub kong_version: crate::kong::version::KongVersion,
    /// KIC's `--cluster-domain`: the suffix of service-upstream targets
    /// (`<name>.<namespace>.svc.<domain>`); empty (KIC's default) adds none.
    pub cluster_domain: String,
    /// KIC's `--combined-services-from-different-httproutes`: rules of different HTTPRoutes
    /// of a namespace with the same backends share one Kong service.
    pub combined_services_from_different_httproutes: bool,
    /// Kong's `router_flavor`: with `expressions`, routes are expressions with priorities.
    pub router_flavor: crate::kong::router_flavor::RouterFlavor,
    /// KIC's `--gateway-to-reconcile` (namespace, name): the snapshot holds only that Gateway,
    /// and routes whose parentRefs do not name it are ignored without a word, as KIC's
    /// controllers never see them.
    pub gateway_to_reconcile: Option<(String, String)>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            ingress_class: DEFAULT_INGRESS_CLASS.to_string(),
            controller_name: DEFAULT_CONTROLLER_NAME.to_string(),
            assume_attached_without_gateways: false,
            excluded: Default::default(),
            kong_replicas: 1,
            feature_gates: Default::default(),
            enable_drain_support: true,
            kong_version: crate::kong::version::DEFAULT,
            cluster_domain: String::new(),
            combined_services_from_different_httproutes: false,
            router_flavor: Default::default(),
            gateway_to_reconcile: None,
        }
    }
}

#[derive(Debug)]
pub struct Translation {
    pub config: KongConfig,
    pub problems: Vec<Problem>,
    /// The KongUpstreamPolicy applied to each upstream, by upstream name: Kong reports
    /// rejected upstreams by name and tags, which name the Service, not the policy.
    pub upstream_policies: BTreeMap<String, names::ObjectRef>,
    /// Structured facts for status reporting.
    pub facts: Facts,
    /// Of the global scope alone: plugins consumers name, each with its plugin key, to leave
    /// out where some route or service of any scope references the key.
    pub consumer_plugins: Vec<((String, String), crate::kong::config::Plugin)>,
}

impl Translation {
    pub fn errors(&self) -> impl Iterator<Item = &Problem> {
        self.problems
            .iter()
            .filter(|p| p.severity == Severity::Error)
    }
}

/// The objects one translation covers.
///
/// A namespace is the unit of incremental translation: an Ingress or HTTPRoute reaches
/// Services, EndpointSlices, KongUpstreamPolicies, KongPlugins and Secrets of its own
/// namespace (and an HTTPRoute the Services of others that a ReferenceGrant opens to it), and
/// every Kong entity it produces is named after that namespace. What crosses namespaces
/// (IngressClasses, Gateways, GatewayClasses, ReferenceGrants, KongClusterPlugins, Secrets that
/// KongClusterPlugins read) is handled by [`incremental::Changes`], which retranslates
/// everything when one of those changes; a namespace whose HTTPRoutes send to another is
/// retranslated with it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope<'s> {
    All,
    /// The Ingresses and HTTPRoutes of one namespace.
    Namespace(&'s str),
    /// The global plugins (KongClusterPlugins labelled `global: "true"`).
    Global,
}

/// Translation state shared by the per-kind translators.
pub struct Context<'a> {
    pub snapshot: &'a Snapshot,
    pub options: &'a Options,
    /// `options.excluded` and what depends on it.
    pub excluded: &'a fallback::Excluded,
    /// The CA certificates of the whole cluster (services reference them by object).
    pub ca_certificates: &'a backends::ca_certificates::CaCertificates,
    /// The certificates of the whole cluster (services reference client certificates).
    pub cluster_certificates: &'a certificates::Certificates,
    /// The consumers of the whole cluster (plugins they name apply per consumer).
    pub cluster_consumers: &'a consumers::Consumers,
    /// Our IngressClass's parameters (service upstreams, legacy regex paths).
    pub class_parameters: &'a crate::crd::IngressClassParametersSpec,
    /// The Ingress whose default backend is the catch-all ([`Derived::catch_all`]).
    pub catch_all: &'a Option<NamespacedName>,
    /// [`Derived::httproute_orders`].
    pub httproute_orders: &'a routes::gateway_api::httproute::expressions::Orders,
    /// [`Derived::grpcroute_orders`].
    pub grpcroute_orders: &'a routes::gateway_api::grpc_expressions::Orders,
    scope: Scope<'a>,
    pub problems: &'a mut Problems,
    /// Kong services, each with its upstream (routes are added as found), in the order
    /// made; `service_index` finds them by name. Sorted once at the end: kept in a sorted
    /// map, every insertion would move these large values around.
    services: Vec<(Service, Upstream)>,
    service_index: std::collections::HashMap<String, usize>,
    certificates: BTreeMap<String, Certificate>,
    upstream_policies: BTreeMap<String, names::ObjectRef>,
    plugins: Vec<crate::kong::config::Plugin>,
    /// IDs of `plugins`, for de-duplication without a scan per plugin.
    plugin_ids: std::collections::HashSet<String>,
    facts: Facts,
    /// Kong services to remove after translation (see [`Context::leave_out_service`]).
    left_out_services: Vec<String>,
    /// Upstreams without a Kong service (what KIC keeps of a Kong service it leaves out).
    bare_upstreams: Vec<Upstream>,
}

impl<'a> Context<'a> {
    /// The Service a backend names, or None after reporting why: left out (Kong rejected
    /// what it produced) or missing. `field` is the path of the backend's name; `then` says
    /// what becomes of the backend (e.g. "backend left out").
    pub fn backend_service(
        &mut self,
        obj: &names::ObjectRef,
        field: String,
        namespace: &str,
        name: &str,
        then: &str,
    ) -> Option<&'a crate::api::Service> {
        if let Some(why) = self.excluded.reason(Kind::Service, namespace, name) {
            let message = format!("Service {namespace}/{name} is {why}; {then}");
            self.problems
                .error(obj, Reason::Excluded, Some(field), message);
            return None;
        }
        let service = self.snapshot.service(namespace, name);
        if service.is_none() {
            self.problems.error(
                obj,
                Reason::ServiceNotFound,
                Some(field),
                format!("Service {namespace}/{name} not found; {then}"),
            );
        }
        service
    }
}

impl<'a> Context<'a> {
    /// The namespace whose routes this translation covers: `Some(None)` for all of them,
    /// None for none (the global scope).
    fn route_namespace(&self) -> Option<Option<&'a str>> {
        match self.scope {
            Scope::All => Some(None),
            Scope::Namespace(ns) => Some(Some(ns)),
            Scope::Global => None,
        }
    }

    /// The objects of `select`'s map this translation covers (routes and ingresses of its
    /// namespace, or of all).
    pub fn in_scope<T: 'a>(
        &self,
        select: fn(&'a Snapshot) -> &'a BTreeMap<crate::snapshot::Key, Box<T>>,
    ) -> impl Iterator<Item = &'a T> + use<'a, T> {
        let map = select(self.snapshot);
        let ns = self.route_namespace();
        ns.into_iter()
            .flat_map(move |ns| crate::snapshot::in_namespace(map, ns))
    }

    /// The Ingresses this translation covers.
    pub fn ingresses(&self) -> impl Iterator<Item = &'a crate::api::Ingress> + use<'a> {
        self.in_scope(|s| &s.ingresses)
    }

    /// The HTTPRoutes this translation covers.
    pub fn httproutes(&self) -> impl Iterator<Item = &'a crate::api::HttpRoute> + use<'a> {
        self.in_scope(|s| &s.httproutes)
    }
}

impl Context<'_> {
    /// Adds a top-level plugin; the same plugin on the same scope is kept once.
    pub fn add_plugin(&mut self, plugin: crate::kong::config::Plugin) {
        if !self.plugin_ids.contains(&plugin.id) {
            self.plugin_ids.insert(plugin.id.clone());
            self.plugins.push(plugin);
        }
    }

    pub fn record_policy(&mut self, upstream: &str, policy: names::ObjectRef) {
        self.upstream_policies.insert(upstream.to_string(), policy);
    }

    /// Records that `policy` configures the upstream of each of `services`.
    pub fn record_policy_services(
        &mut self,
        policy: NamespacedName,
        services: impl IntoIterator<Item = NamespacedName>,
    ) {
        self.facts
            .policy_services
            .entry(policy)
            .or_default()
            .extend(services);
    }

    /// Marks Kong service `name` to be removed with its routes and plugins once every route
    /// is translated ([`Context::remove_service`]).
    pub fn leave_out_service(&mut self, name: &str) {
        self.left_out_services.push(name.to_string());
    }

    pub fn record_policy_conflict(&mut self, conflict: PolicyConflict) {
        self.facts.policy_conflicts.push(conflict);
    }

    pub fn has_service(&self, name: &str) -> bool {
        self.service_index.contains_key(name)
    }

    /// Adds a Kong service; the first one added under a name is kept.
    pub fn add_service(&mut self, service: Service, upstream: Upstream) {
        if let std::collections::hash_map::Entry::Vacant(slot) =
            self.service_index.entry(service.name.clone())
        {
            slot.insert(self.services.len());
            self.services.push((service, upstream));
        }
    }

    /// Removes Kong service `name` with its upstream and the plugins of it and its routes;
    /// returns the objects its routes were made from (by their tags), in order, once each.
    pub fn remove_service(&mut self, name: &str) -> Vec<names::ObjectRef> {
        let Some(i) = self.service_index.remove(name) else {
            return Vec::new();
        };
        let (service, _) = self.services.remove(i);
        for index in self.service_index.values_mut() {
            if *index > i {
                *index -= 1;
            }
        }
        let routes: std::collections::HashSet<&str> =
            service.routes.iter().map(|r| r.name.as_str()).collect();
        self.plugins.retain(|p| {
            p.service.as_deref() != Some(name)
                && p.route.as_deref().is_none_or(|r| !routes.contains(r))
        });
        self.plugin_ids = self.plugins.iter().map(|p| p.id.clone()).collect();
        let mut owners: Vec<names::ObjectRef> = Vec::new();
        for key in service
            .routes
            .iter()
            .filter_map(|r| object_of_tags(&r.tags))
        {
            let owner = names::ObjectRef::new(key.kind, Some(&key.namespace), &key.name);
            if !owners.contains(&owner) {
                owners.push(owner);
            }
        }
        owners
    }

    pub fn service_mut(&mut self, name: &str) -> Option<&mut Service> {
        let i = *self.service_index.get(name)?;
        self.services.get_mut(i).map(|(s, _)| s)
    }

    /// Records that a Kong service or route references plugin `namespace`/`name`.
    pub fn record_plugin_key(&mut self, namespace: &str, name: &str) {
        self.facts
            .plugin_keys
            .insert((namespace.to_string(), name.to_string()));
    }

    pub fn plugins_len(&self) -> usize {
        self.plugins.len()
    }

    /// Takes back the plugins added since there were `len`.
    pub fn take_plugins_from(&mut self, len: usize) -> Vec<crate::kong::config::Plugin> {
        let taken = self.plugins.split_off(len);
        for p in &taken {
            self.plugin_ids.remove(&p.id);
        }
        taken
    }

    /// Adds a certificate, merging SNIs when several objects use the same Secret.
    pub fn add_certificate(&mut self, cert: Certificate) {
        add_certificate(&mut self.certificates, cert);
    }
}

fn add_certificate(certificates: &mut BTreeMap<String, Certificate>, cert: Certificate) {
    match certificates.get_mut(&cert.id) {
        Some(existing) => {
            for sni in cert.snis {
                if !existing.snis.contains(&sni) {
                    existing.snis.push(sni);
                }
            }
        }
        None => {
            certificates.insert(cert.id.clone(), cert);
        }
    }
}

/// Certificates by ID, as the config lists them: SNIs by name, certificates by PEM descending.
fn sorted_certificates(certificates: BTreeMap<String, Certificate>) -> Vec<Certificate> {
    let mut certificates: Vec<Certificate> = certificates.into_values().collect();
    for cert in &mut certificates {
        cert.snis.sort_by(|a, b| a.name.cmp(&b.name));
    }
    certificates.sort_by(|a, b| b.cert.cmp(&a.cert));
    certificates
}

/// Descending, as KIC's deck output orders global plugins.
fn sort_plugins(plugins: &mut [crate::kong::config::Plugin]) {
    plugins.sort_by(|a, b| plugin_order(b).cmp(&plugin_order(a)));
}

/// The key plugins are sorted by (descending), in full and incremental translations alike.
pub(crate) fn plugin_order(
    p: &crate::kong::config::Plugin,
) -> (
    &str,
    &Option<String>,
    &Option<String>,
    &Option<String>,
    &str,
) {
    (&p.name, &p.service, &p.route, &p.consumer, &p.id)
}

/// Marks the start of a translation for the caches translations share (Kong's wheels,
/// key-pair checks).
fn new_round() {
    backends::ring_capacity::new_round();
    certificates::key_pair::new_round();
}

pub fn translate(snapshot: &Snapshot, options: &Options) -> Translation {
    new_round();
    let derived = Derived::new(snapshot, options);
    let mut translation = translate_scope(snapshot, options, &derived, Scope::All);
    let config = &mut translation.config;
    if config.certificates.is_empty()
        && config.ca_certificates.is_empty()
        && config.consumers.is_empty()
        && config.vaults.is_empty()
        && config.plugins.is_empty()
        && config.services.is_empty()
        && config.upstreams.is_empty()
    {
        config.upstreams.push(stub_upstream());
    }
    translation
}

/// KIC's stub for a config with no entities (v3.5.13 internal/dataplane/deckgen/generate.go
/// lines 18-19 and 214-220, on in DB-less mode: kong_client.go line 796): an upstream named
/// `kong`. An empty config leaves Kong's `/status/ready` failing and its configuration_hash
/// all zeros (Kong 3.10 kong/db/declarative/import.lua lines 441-443), so a replica holding
/// it could not be told from one holding nothing.
pub fn stub_upstream() -> Upstream {
    Upstream {
        name: "kong".into(),
        ..Upstream::default()
    }
}

/// Translates the objects of `scope` only; the config is complete and sorted for them.
pub fn translate_scope(
    snapshot: &Snapshot,
    options: &Options,
    derived: &Derived,
    scope: Scope<'_>,
) -> Translation {
    let mut problems = Problems::default();
    let (services, routes) = match scope {
        Scope::All => (
            snapshot.services.len(),
            snapshot.httproutes.len()
                + snapshot.grpcroutes.len()
                + snapshot.tcproutes.len()
                + snapshot.udproutes.len()
                + snapshot.tlsroutes.len(),
        ),
        Scope::Namespace(_) | Scope::Global => (0, 0),
    };
    let mut ctx = Context {
        snapshot,
        options,
        excluded: &derived.excluded,
        ca_certificates: &derived.ca_certificates,
        cluster_certificates: &derived.certificates,
        cluster_consumers: &derived.consumers,
        class_parameters: &derived.class_parameters.spec,
        catch_all: &derived.catch_all,
        httproute_orders: &derived.httproute_orders,
        grpcroute_orders: &derived.grpcroute_orders,
        scope,
        problems: &mut problems,
        // Sized up front (at most one Kong service per Service port or HTTPRoute rule group,
        // usually about one per Service): growing a large Vec frees its old block, which
        // makes glibc's malloc consolidate every small free chunk.
        services: Vec::with_capacity(services + routes),
        service_index: std::collections::HashMap::with_capacity(services + routes),
        certificates: BTreeMap::new(),
        upstream_policies: BTreeMap::new(),
        plugins: Vec::new(),
        plugin_ids: Default::default(),
        facts: Facts::default(),
        left_out_services: Vec::new(),
        bare_upstreams: Vec::new(),
    };
    routes::ingress::translate_all(&mut ctx);
    routes::gateway_api::httproute::translate_all(&mut ctx);
    routes::gateway_api::grpcroute::translate_all(&mut ctx);
    routes::gateway_api::stream::translate_all(&mut ctx);
    routes::l4_ingress::translate_all(&mut ctx);
    // KIC skips such a Kong service but keeps a bare upstream of its name (no targets or
    // tags: `populateServices` skips it before its tags, `ingressrules.go` 74-90).
    for name in std::mem::take(&mut ctx.left_out_services) {
        if let Some(i) = ctx.service_index.get(&name).copied() {
            let upstream = &ctx.services[i].1;
            ctx.bare_upstreams.push(Upstream {
                name: upstream.name.clone(),
                algorithm: Some("round-robin".into()),
                ..Upstream::default()
            });
        }
        ctx.remove_service(&name);
    }
    if matches!(scope, Scope::All | Scope::Global) {
        plugins::globals(&mut ctx);
    }
    // Plugins consumers alone name: known only once every route is translated, so the
    // global scope of an incremental translation hands them all to its assembly.
    let consumer_plugins = match scope {
        Scope::All => {
            let attached = ctx.facts.plugin_keys.clone();
            plugins::consumer_only(&mut ctx, Some(&attached));
            Vec::new()
        }
        Scope::Global => plugins::consumer_only(&mut ctx, None),
        Scope::Namespace(_) => Vec::new(),
    };
    // Every labelled CA certificate, used or not (KIC: translator.go line 285), and the
    // Ingress and Gateway certificates (lines 266-271): computed for the whole cluster.
    let (ca_certificates, consumers) = match scope {
        Scope::All | Scope::Global => {
            derived.consumers.report(ctx.problems);
            derived.vaults.report(ctx.problems);
            derived.class_parameters.report(ctx.problems);
            custom_entities::report(snapshot, options, &derived.excluded, ctx.problems);
            derived.ca_certificates.report(ctx.problems);
            derived.certificates.report(ctx.problems);
            for cert in derived.certificates.entities() {
                ctx.add_certificate(cert.clone());
            }
            (
                derived.ca_certificates.entities(),
                derived.consumers.entities().to_vec(),
            )
        }
        Scope::Namespace(_) => (Vec::new(), Vec::new()),
    };

    let mut config = KongConfig::new();
    let mut services = std::mem::take(&mut ctx.services);
    // By name, ascending (names are unique): the order a map by name iterates in.
    services.sort_unstable_by(|a, b| a.0.name.cmp(&b.0.name));
    let mut upstreams: Vec<Upstream> = std::mem::take(&mut ctx.bare_upstreams);
    upstreams.reserve(services.len());
    config.services.reserve(services.len());
    for (mut service, mut upstream) in services {
        service.routes.sort_by(|a, b| b.name.cmp(&a.name));
        service.plugins.sort_by(|a, b| b.name.cmp(&a.name));
        upstream.targets.sort_by(|a, b| b.target.cmp(&a.target));
        config.services.push(service);
        upstreams.push(upstream);
    }
    config.services.reverse();
    // One upstream per name, the first in service order (stable sort, then dedup keeps the
    // first of equals), descending by name.
    upstreams.sort_by(|a, b| a.name.cmp(&b.name));
    upstreams.dedup_by(|later, first| later.name == first.name);
    upstreams.reverse();
    config.upstreams = upstreams;
    config.certificates = sorted_certificates(std::mem::take(&mut ctx.certificates));
    config.ca_certificates = ca_certificates;
    config.consumers = consumers;
    if matches!(scope, Scope::All | Scope::Global) {
        config.vaults = derived.vaults.entities().to_vec();
    }
    config.plugins = std::mem::take(&mut ctx.plugins);
    sort_plugins(&mut config.plugins);
    let upstream_policies = std::mem::take(&mut ctx.upstream_policies);
    let mut facts = std::mem::take(&mut ctx.facts);
    facts.configured = configured_objects(&config);
    facts
        .policy_conflicts
        .sort_by(|a, b| a.upstream.cmp(&b.upstream));
    facts.policy_conflicts.dedup();
    Translation {
        config,
        problems: problems.into_sorted(),
        upstream_policies,
        facts,
        consumer_plugins,
    }
}
