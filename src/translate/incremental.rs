//! Incremental translation: a change retranslates only the namespaces it touches.
//!
//! Each namespace's Ingresses and HTTPRoutes are translated on their own ([`Scope`]) and
//! kept as JSON fragments, one per Kong service and per upstream. A change retranslates the
//! namespaces it touched; the config text is then spliced from the fragments. At 10k
//! Services a full translation and serialisation costs ~160 ms; one namespace of 100
//! Services costs ~2 ms plus the splice.
//!
//! The text is byte-identical to serialising [`translate`](super::translate)'s config, and
//! problems, facts and policies are equal too (tested on every golden case and on random
//! sequences of changes).

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::sync::Arc;

use super::names::ObjectRef;
use super::plugins;
use super::{Derived, Facts, Options, Problem, Scope, Translation, translate_scope};
use crate::kinds::ObjectKey;
use crate::kinds::Reach;
use crate::kong::config::{CaCertificate, Certificate, Consumer, FORMAT_VERSION, Vault};
use crate::kong::config_text::{ConfigText, Fragment};
use crate::snapshot::{Kind, Snapshot};

/// What changed since the last [`Incremental::update`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Changes {
    all: bool,
    namespaces: BTreeSet<String>,
    /// Namespaces with a changed Secret: KongClusterPlugins may read it from anywhere.
    secrets: bool,
}

impl Changes {
    /// Everything must be retranslated.
    pub fn everything() -> Self {
        Changes {
            all: true,
            ..Default::default()
        }
    }

    /// An object of `kind` in `namespace` was added, changed or removed.
    pub fn record(&mut self, kind: Kind, namespace: &str) {
        match kind.info().reach {
            Reach::Namespace => self.record_namespace(namespace),
            Reach::Secret => {
                self.secrets = true;
                self.record_namespace(namespace);
            }
            Reach::Everything => {
                self.all = true;
                self.namespaces.clear();
            }
        }
    }

    fn record_namespace(&mut self, namespace: &str) {
        if !self.all && !self.namespaces.contains(namespace) {
            self.namespaces.insert(namespace.to_string());
        }
    }
}

/// (name, service, route, consumer, id): what plugins are sorted by (`plugin_order`).
type PluginKey = (
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    String,
);

/// A plugin of consumers alone: (plugin key, sort key, the object its tags name, JSON).
type ConsumerPlugin = (
    (String, String),
    PluginKey,
    Option<ObjectKey>,
    Arc<Fragment>,
);

fn plugin_key(p: &crate::kong::config::Plugin) -> PluginKey {
    let (name, service, route, consumer, id) = super::plugin_order(p);
    (
        name.to_string(),
        service.clone(),
        route.clone(),
        consumer.clone(),
        id.to_string(),
    )
}

/// One scope's translation, serialised where the config needs no merging.
#[derive(Default)]
struct Part {
    /// `(name, JSON)`, descending by name as the config lists them.
    services: Vec<(String, Arc<Fragment>)>,
    upstreams: Vec<(String, Arc<Fragment>)>,
    ca_certificates: Vec<CaCertificate>,
    certificates: Vec<Certificate>,
    consumers: Vec<Consumer>,
    vaults: Vec<Vault>,
    /// Top-level plugins: (name, service, route, consumer, id) as the config sorts them, and JSON.
    plugins: Vec<(PluginKey, Arc<Fragment>)>,
    /// The global part's plugins of consumers alone: included unless some part's routes or
    /// services reference the plugin key. With the object its tags name, for status.
    consumer_plugins: Vec<ConsumerPlugin>,
    problems: Vec<Problem>,
    upstream_policies: BTreeMap<String, ObjectRef>,
    facts: Facts,
    /// Other namespaces its HTTPRoutes send to (backendRefs with a namespace, permitted by a
    /// ReferenceGrant or not): a change there retranslates this part too.
    foreign: BTreeSet<String>,
}

/// `(name, JSON fragment)` of each entity.
fn fragments<T: serde::Serialize>(
    entities: &[T],
    name: fn(&T) -> &str,
) -> Result<Vec<(String, Arc<Fragment>)>, serde_json::Error> {
    entities
        .iter()
        .map(|e| {
            Ok((
                name(e).to_string(),
                Fragment::new(serde_json::to_string(e)?),
            ))
        })
        .collect()
}

impl Part {
    fn new(t: Translation) -> Result<Part, serde_json::Error> {
        let config = t.config;
        let plugins = config
            .plugins
            .iter()
            .map(|p| Ok((plugin_key(p), Fragment::new(serde_json::to_string(p)?))))
            .collect::<Result<_, serde_json::Error>>()?;
        let consumer_plugins = t
            .consumer_plugins
            .iter()
            .map(|(key, p)| {
                Ok((
                    key.clone(),
                    plugin_key(p),
                    super::object_of_tags(&p.tags),
                    Fragment::new(serde_json::to_string(p)?),
                ))
            })
            .collect::<Result<_, serde_json::Error>>()?;
        Ok(Part {
            services: fragments(&config.services, |s| &s.name)?,
            upstreams: fragments(&config.upstreams, |u| &u.name)?,
            ca_certificates: config.ca_certificates,
            certificates: config.certificates,
            consumers: config.consumers,
            vaults: config.vaults,
            plugins,
            consumer_plugins,
            problems: t.problems,
            upstream_policies: t.upstream_policies,
            facts: t.facts,
            foreign: BTreeSet::new(),
        })
    }

    /// The part of namespace `ns`, with the other namespaces it reaches: those of its Gateway
    /// API routes' backendRefs and of `<namespace>:<name>` plugins on its Ingresses, routes and
    /// Services.
    fn of_namespace(
        t: Translation,
        snapshot: &Snapshot,
        ns: &str,
    ) -> Result<Part, serde_json::Error> {
        let mut part = Part::new(t)?;
        let http = snapshot
            .httproutes_in(Some(ns))
            .flat_map(|r| r.spec.rules.iter().flatten())
            .flat_map(|rule| rule.backend_refs.iter().flatten())
            .filter_map(|r| r.namespace.as_deref());
        let grpc = snapshot
            .grpcroutes_in(Some(ns))
            .flat_map(|r| r.spec.rules.iter().flatten())
            .flat_map(|rule| rule.backend_refs.iter().flatten())
            .filter_map(|r| r.namespace.as_deref());
        let (tcp, udp, tls) = snapshot.stream_routes_in(Some(ns));
        let tcp = tcp.flat_map(|r| &r.spec.rules);
        let streams = tcp
            .chain(udp.flat_map(|r| &r.spec.rules))
            .chain(tls.flat_map(|r| &r.spec.rules))
            .flat_map(|rule| &rule.backend_refs)
            .filter_map(|r| r.namespace.as_deref());
        let backends = http.chain(grpc).chain(streams);
        let annotations = snapshot
            .ingresses_in(Some(ns))
            .map(|i| &i.metadata)
            .chain(snapshot.gateway_routes_in(Some(ns)).map(|r| r.meta))
            .chain(
                crate::snapshot::in_namespace(&snapshot.tcp_ingresses, Some(ns))
                    .map(|i| &i.metadata),
            )
            .chain(
                crate::snapshot::in_namespace(&snapshot.udp_ingresses, Some(ns))
                    .map(|i| &i.metadata),
            )
            .chain(snapshot.services_in(Some(ns)).map(|s| &s.metadata))
            .chain(
                crate::snapshot::in_namespace(&snapshot.kong_service_facades, Some(ns))
                    .map(|f| &f.metadata),
            )
            .filter_map(|m| m.annotations.as_ref()?.get(plugins::ANNOTATION));
        let plugin_namespaces = annotations.flat_map(|list| {
            plugins::entries(list).filter_map(|e| match e {
                plugins::Entry::Remote(other, _) => Some(other),
                plugins::Entry::Local(_) => None,
            })
        });
        part.foreign = backends
            .chain(plugin_namespaces)
            .filter(|other| *other != ns)
            .map(str::to_string)
            .collect();
        Ok(part)
    }
}

/// The result of an update: what [`Translation`] holds, with the config as JSON text.
#[derive(Debug)]
pub struct Output {
    /// Compact JSON, equal to `serde_json::to_string(&translate(..).config)`, in pieces
    /// shared with this translator's fragments.
    pub config: ConfigText,
    pub problems: Vec<Problem>,
    pub upstream_policies: BTreeMap<String, ObjectRef>,
    pub facts: Facts,
    /// Scopes translated by this update (namespaces, plus one for the global plugins).
    pub retranslated: usize,
}

/// Which objects a [`Part`] covers; namespaces first, as translate adds their entities.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum PartKey {
    Namespace(String),
    Global,
}

/// Translation state kept between updates.
#[derive(Default)]
pub struct Incremental {
    /// The options of the last update; None before the first.
    options: Option<Options>,
    /// What the last update left out: a change to it (an object now depending on a rejected
    /// one, or no longer) can reach across namespaces, so it retranslates everything.
    /// What the last update derived from the whole snapshot: a change in what is left out
    /// can reach across namespaces, so it retranslates everything (as does a change in the
    /// client certificates services reference); a change in the CA or other certificates
    /// retranslates the global scope, which lists them.
    derived: Derived,
    parts: BTreeMap<PartKey, Part>,
    /// Every part's Kong services and upstreams by name, kept in step with `parts` so the
    /// config's order costs no sort per update. Names carry their namespace: parts never
    /// share one.
    services: BTreeMap<String, Arc<Fragment>>,
    upstreams: BTreeMap<String, Arc<Fragment>>,
}

impl Incremental {
    pub fn new() -> Self {
        Self::default()
    }

    /// Brings the translation up to date with `snapshot`, given what changed since the
    /// last update (the first update, or new options, retranslate everything).
    pub fn update(
        &mut self,
        snapshot: &Snapshot,
        options: &Options,
        changes: &Changes,
    ) -> Result<Output, serde_json::Error> {
        let derived = Derived::new(snapshot, options);
        let all = changes.all
            || self.options.as_ref() != Some(options)
            || derived.excluded != self.derived.excluded
            // Every Ingress with a default backend names the catch-all in its warning.
            || derived.catch_all != self.derived.catch_all
            || derived
                .certificates
                .client_certificates_differ(&self.derived.certificates)
            || derived
                .consumers
                .plugin_refs_differ(&self.derived.consumers)
            || (changes.secrets && !snapshot.kong_cluster_plugins.is_empty());
        super::new_round();
        let mut retranslated = 0;
        if all {
            // Left empty if a part fails: the next update starts over.
            self.options = None;
            self.parts.clear();
            self.services.clear();
            self.upstreams.clear();
            for ns in snapshot.route_namespaces() {
                let t = translate_scope(snapshot, options, &derived, Scope::Namespace(ns));
                let part = Part::of_namespace(t, snapshot, ns)?;
                self.set(PartKey::Namespace(ns.to_string()), Some(part));
                retranslated += 1;
            }
            let part = Part::new(translate_scope(snapshot, options, &derived, Scope::Global))?;
            self.set(PartKey::Global, Some(part));
            retranslated += 1;
            self.options = Some(options.clone());
        } else {
            // The changed namespaces, and those whose HTTPRoutes send to one of them.
            let mut namespaces = changes.namespaces.clone();
            // Under the expressions router, those whose HTTPRoute priorities moved (their
            // relative order reaches across namespaces).
            let (old, new) = (&self.derived.httproute_orders, &derived.httproute_orders);
            for ns in old.keys().chain(new.keys()) {
                if old.get(ns) != new.get(ns) {
                    namespaces.insert(ns.clone());
                }
            }
            let (old, new) = (&self.derived.grpcroute_orders, &derived.grpcroute_orders);
            for ns in old.keys().chain(new.keys()) {
                if old.get(ns) != new.get(ns) {
                    namespaces.insert(ns.clone());
                }
            }
            // Whether a BackendTLSPolicy applies depends on the HTTPRoutes of any namespace
            // (its ancestors): a change anywhere retranslates the namespaces that have one.
            if !namespaces.is_empty() {
                namespaces.extend(
                    snapshot
                        .backend_tls_policies
                        .keys()
                        .map(|k| k.0.to_string()),
                );
            }
            for (key, part) in &self.parts {
                if let PartKey::Namespace(ns) = key
                    && part.foreign.iter().any(|f| changes.namespaces.contains(f))
                {
                    namespaces.insert(ns.clone());
                }
            }
            for ns in &namespaces {
                let has_routes = snapshot.ingresses_in(Some(ns)).next().is_some()
                    || snapshot.gateway_routes_in(Some(ns)).next().is_some()
                    || crate::snapshot::in_namespace(&snapshot.tcp_ingresses, Some(ns))
                        .next()
                        .is_some()
                    || crate::snapshot::in_namespace(&snapshot.udp_ingresses, Some(ns))
                        .next()
                        .is_some();
                let part = if has_routes {
                    retranslated += 1;
                    let t = translate_scope(snapshot, options, &derived, Scope::Namespace(ns));
                    Some(Part::of_namespace(t, snapshot, ns)?)
                } else {
                    None
                };
                self.set(PartKey::Namespace(ns.clone()), part);
            }
            if derived.ca_certificates != self.derived.ca_certificates
                || derived.certificates != self.derived.certificates
                || derived.consumers != self.derived.consumers
                || derived.vaults != self.derived.vaults
                || derived.class_parameters != self.derived.class_parameters
                // The plugins consumers name live in these namespaces (with their Secrets).
                || derived
                    .consumers
                    .plugin_refs()
                    .keys()
                    .any(|(ns, _)| changes.namespaces.contains(ns))
            {
                let part = Part::new(translate_scope(snapshot, options, &derived, Scope::Global))?;
                self.set(PartKey::Global, Some(part));
                retranslated += 1;
            }
        }
        self.derived = derived;
        let mut output = self.assemble()?;
        output.retranslated = retranslated;
        Ok(output)
    }

    /// Replaces (or removes) a part, keeping the name maps in step.
    fn set(&mut self, key: PartKey, part: Option<Part>) {
        if let Some(old) = self.parts.remove(&key) {
            for (name, _) in &old.services {
                self.services.remove(name);
            }
            for (name, _) in &old.upstreams {
                self.upstreams.remove(name);
            }
        }
        if let Some(part) = part {
            for (name, json) in &part.services {
                self.services.insert(name.clone(), json.clone());
            }
            for (name, json) in &part.upstreams {
                self.upstreams.insert(name.clone(), json.clone());
            }
            self.parts.insert(key, part);
        }
    }

    /// Merges the parts as [`translate`](super::translate) merges its entities.
    fn assemble(&self) -> Result<Output, serde_json::Error> {
        let parts: Vec<&Part> = self.parts.values().collect();

        let mut certificates = BTreeMap::new();
        let mut ca_certificates: Vec<&CaCertificate> = Vec::new();
        // Only the global part has consumers, already sorted.
        let mut consumers: Vec<&Consumer> = Vec::new();
        // Only the global part has vaults, already sorted.
        let mut vaults: Vec<&Vault> = Vec::new();
        let mut plugins: Vec<(&PluginKey, &Arc<Fragment>)> = Vec::new();
        let mut plugin_ids = HashSet::new();
        let mut problems = Vec::new();
        let mut upstream_policies = BTreeMap::new();
        let mut facts = Facts::default();
        for part in &parts {
            for cert in &part.certificates {
                super::add_certificate(&mut certificates, cert.clone());
            }
            ca_certificates.extend(&part.ca_certificates);
            consumers.extend(&part.consumers);
            vaults.extend(&part.vaults);
            for (key, json) in &part.plugins {
                if plugin_ids.insert(key.4.as_str()) {
                    plugins.push((key, json));
                }
            }
            problems.extend(part.problems.iter().cloned());
            upstream_policies.extend(
                part.upstream_policies
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone())),
            );
            facts.configured.merge(&part.facts.configured);
            for (policy, services) in &part.facts.policy_services {
                facts
                    .policy_services
                    .entry(policy.clone())
                    .or_default()
                    .extend(services.iter().cloned());
            }
            facts
                .policy_conflicts
                .extend(part.facts.policy_conflicts.iter().cloned());
            facts
                .plugin_keys
                .extend(part.facts.plugin_keys.iter().cloned());
        }
        // Plugins consumers alone name, where no route or service references them (translate
        // adds them after every scope's routes).
        let attached: BTreeSet<&(String, String)> =
            parts.iter().flat_map(|p| &p.facts.plugin_keys).collect();
        for part in &parts {
            for (plugin, key, object, json) in &part.consumer_plugins {
                if !attached.contains(plugin) && plugin_ids.insert(key.4.as_str()) {
                    plugins.push((key, json));
                    if let Some(object) = object {
                        facts.configured.insert(object.clone());
                    }
                }
            }
        }
        let certificates = super::sorted_certificates(certificates);
        ca_certificates.sort_by(|a, b| b.cert.cmp(&a.cert));
        // Descending, as translate sorts them (stable: the first of equal keys stays first).
        plugins.sort_by(|a, b| b.0.cmp(a.0));
        problems.sort();
        problems.dedup();
        facts
            .policy_conflicts
            .sort_by(|a, b| a.upstream.cmp(&b.upstream));
        facts.policy_conflicts.dedup();

        // Descending by name, as translate orders them.
        let services: Vec<&Arc<Fragment>> = self.services.values().rev().collect();
        let mut upstreams: Vec<&Arc<Fragment>> = self.upstreams.values().rev().collect();
        // translate's stub upstream for a config with no entities.
        let stub;
        if certificates.is_empty()
            && ca_certificates.is_empty()
            && consumers.is_empty()
            && vaults.is_empty()
            && plugins.is_empty()
            && self.services.is_empty()
            && upstreams.is_empty()
        {
            stub = Fragment::new(serde_json::to_string(&super::stub_upstream())?);
            upstreams.push(&stub);
        }
        let plugins: Vec<&Arc<Fragment>> = plugins.into_iter().map(|(_, json)| json).collect();
        let mut text = ConfigText::default();
        // Key order as KongConfig serialises: _format_version, ca_certificates, certificates,
        // consumers, plugins, services, upstreams, vaults; empty lists left out. The glue is written escaped, as
        // ConfigText keeps its pieces.
        text.push_owned(format!(
            "{{\"_format_version\":{}",
            serde_json::to_string(FORMAT_VERSION)?
        ));
        if !ca_certificates.is_empty() {
            text.push_owned(format!(
                ",\"ca_certificates\":{}",
                serde_json::to_string(&ca_certificates)?
            ));
        }
        if !certificates.is_empty() {
            text.push_owned(format!(
                ",\"certificates\":{}",
                serde_json::to_string(&certificates)?
            ));
        }
        if !consumers.is_empty() {
            text.push_owned(format!(
                ",\"consumers\":{}",
                serde_json::to_string(&consumers)?
            ));
        }
        let lists: [(&'static str, &'static str, &Vec<&Arc<Fragment>>); 3] = [
            (",\\\"plugins\\\":[", ",\"plugins\":[", &plugins),
            (",\\\"services\\\":[", ",\"services\":[", &services),
            (",\\\"upstreams\\\":[", ",\"upstreams\":[", &upstreams),
        ];
        for (escaped, start, list) in lists {
            if list.is_empty() {
                continue;
            }
            text.push_escaped(escaped, start.len());
            for (i, json) in list.iter().enumerate() {
                if i > 0 {
                    text.push_plain(",");
                }
                text.push_shared(Arc::clone(json));
            }
            text.push_plain("]");
        }
        if !vaults.is_empty() {
            text.push_owned(format!(",\"vaults\":{}", serde_json::to_string(&vaults)?));
        }
        text.push_plain("}");
        Ok(Output {
            config: text,
            problems,
            upstream_policies,
            facts,
            retranslated: 0,
        })
    }
}
