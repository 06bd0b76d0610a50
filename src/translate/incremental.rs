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

use super::names::ObjectRef;
use super::{Facts, Options, Problem, Scope, Translation, ring_capacity, translate_scope};
use crate::kong::config::{Certificate, FORMAT_VERSION, Plugin};
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
        match kind {
            Kind::Service
            | Kind::EndpointSlice
            | Kind::Ingress
            | Kind::HttpRoute
            | Kind::KongUpstreamPolicy
            | Kind::KongPlugin => {
                if !self.all && !self.namespaces.contains(namespace) {
                    self.namespaces.insert(namespace.to_string());
                }
            }
            Kind::Secret => {
                self.secrets = true;
                if !self.all && !self.namespaces.contains(namespace) {
                    self.namespaces.insert(namespace.to_string());
                }
            }
            // Read across namespaces: HTTPRoutes attach to Gateways anywhere, classes and
            // cluster plugins apply to every namespace.
            Kind::IngressClass | Kind::Gateway | Kind::GatewayClass | Kind::KongClusterPlugin => {
                self.all = true;
                self.namespaces.clear();
            }
        }
    }

    /// Every object of a kind was replaced (a relist).
    pub fn record_all(&mut self) {
        *self = Changes::everything();
    }

    pub fn is_empty(&self) -> bool {
        !self.all && self.namespaces.is_empty()
    }

    /// Adds `other`'s changes to these.
    pub fn merge(&mut self, other: Changes) {
        if other.all {
            *self = other;
        } else if !self.all {
            self.namespaces.extend(other.namespaces);
            self.secrets |= other.secrets;
        }
    }
}

/// One scope's translation, serialised where the config needs no merging.
#[derive(Default)]
struct Part {
    /// `(name, JSON)`, descending by name as the config lists them.
    services: Vec<(String, Box<str>)>,
    upstreams: Vec<(String, Box<str>)>,
    certificates: Vec<Certificate>,
    plugins: Vec<Plugin>,
    problems: Vec<Problem>,
    upstream_policies: BTreeMap<String, ObjectRef>,
    facts: Facts,
}

impl Part {
    fn new(t: Translation) -> Result<Part, serde_json::Error> {
        let fragments = |items: Vec<(String, String)>| -> Vec<(String, Box<str>)> {
            items
                .into_iter()
                .map(|(name, json)| (name, json.into_boxed_str()))
                .collect()
        };
        let config = t.config;
        let services = config
            .services
            .iter()
            .map(|s| Ok((s.name.clone(), serde_json::to_string(s)?)))
            .collect::<Result<_, serde_json::Error>>()?;
        let upstreams = config
            .upstreams
            .iter()
            .map(|u| Ok((u.name.clone(), serde_json::to_string(u)?)))
            .collect::<Result<_, serde_json::Error>>()?;
        Ok(Part {
            services: fragments(services),
            upstreams: fragments(upstreams),
            certificates: config.certificates,
            plugins: config.plugins,
            problems: t.problems,
            upstream_policies: t.upstream_policies,
            facts: t.facts,
        })
    }
}

/// The result of an update: what [`Translation`] holds, with the config as JSON text.
#[derive(Debug)]
pub struct Output {
    /// Compact JSON, equal to `serde_json::to_string(&translate(..).config)`.
    pub text: String,
    pub problems: Vec<Problem>,
    pub upstream_policies: BTreeMap<String, ObjectRef>,
    pub facts: Facts,
    /// Scopes translated by this update (namespaces, plus one for the global plugins).
    pub retranslated: usize,
}

/// Translation state kept between updates.
#[derive(Default)]
pub struct Incremental {
    /// The options of the last update; None before the first.
    options: Option<Options>,
    namespaces: BTreeMap<String, Part>,
    global: Part,
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
        let all = changes.all
            || self.options.as_ref() != Some(options)
            || (changes.secrets && !snapshot.kong_cluster_plugins.is_empty());
        ring_capacity::new_round();
        let mut retranslated = 0;
        if all {
            self.options = Some(options.clone());
            let present = snapshot.route_namespaces();
            self.namespaces
                .retain(|ns, _| present.contains(ns.as_str()));
            for ns in present {
                let part = Part::new(translate_scope(snapshot, options, Scope::Namespace(ns)))?;
                self.namespaces.insert(ns.to_string(), part);
                retranslated += 1;
            }
            self.global = Part::new(translate_scope(snapshot, options, Scope::Global))?;
            retranslated += 1;
        } else {
            for ns in &changes.namespaces {
                let has_routes = snapshot.ingresses_in(Some(ns)).next().is_some()
                    || snapshot.httproutes_in(Some(ns)).next().is_some();
                if has_routes {
                    let part = Part::new(translate_scope(snapshot, options, Scope::Namespace(ns)))?;
                    self.namespaces.insert(ns.clone(), part);
                    retranslated += 1;
                } else {
                    self.namespaces.remove(ns);
                }
            }
        }
        let mut output = self.assemble()?;
        output.retranslated = retranslated;
        Ok(output)
    }

    /// Merges the parts as [`translate`](super::translate) merges its entities.
    fn assemble(&self) -> Result<Output, serde_json::Error> {
        let parts: Vec<&Part> = self
            .namespaces
            .values()
            .chain(std::iter::once(&self.global))
            .collect();

        let mut certificates = BTreeMap::new();
        let mut plugins: Vec<Plugin> = Vec::new();
        let mut plugin_ids = HashSet::new();
        let mut problems = Vec::new();
        let mut upstream_policies = BTreeMap::new();
        let mut facts = Facts::default();
        for part in &parts {
            for cert in &part.certificates {
                super::add_certificate(&mut certificates, cert.clone());
            }
            for plugin in &part.plugins {
                if plugin_ids.insert(plugin.id.as_str()) {
                    plugins.push(plugin.clone());
                }
            }
            problems.extend(part.problems.iter().cloned());
            upstream_policies.extend(
                part.upstream_policies
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone())),
            );
            facts
                .configured
                .extend(part.facts.configured.iter().cloned());
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
        }
        let certificates = super::sorted_certificates(certificates);
        super::sort_plugins(&mut plugins);
        problems.sort();
        problems.dedup();
        facts
            .policy_conflicts
            .sort_by(|a, b| a.upstream.cmp(&b.upstream));
        facts.policy_conflicts.dedup();

        // Fragments of every part, descending by name; names carry their namespace, so
        // parts never share one (kept once all the same, as translate keeps upstreams).
        let merged = |pick: fn(&Part) -> &Vec<(String, Box<str>)>| {
            let mut all: Vec<&(String, Box<str>)> = parts.iter().flat_map(|p| pick(p)).collect();
            all.sort_by(|a, b| b.0.cmp(&a.0));
            all.dedup_by(|later, first| later.0 == first.0);
            all
        };
        let services = merged(|p| &p.services);
        let upstreams = merged(|p| &p.upstreams);

        let size: usize = services
            .iter()
            .chain(&upstreams)
            .map(|(_, json)| json.len() + 1)
            .sum();
        let mut text = String::with_capacity(size + 64);
        // Key order as KongConfig serialises: _format_version, certificates, plugins,
        // services, upstreams; empty lists left out.
        text.push_str("{\"_format_version\":");
        text.push_str(&serde_json::to_string(FORMAT_VERSION)?);
        if !certificates.is_empty() {
            text.push_str(",\"certificates\":");
            text.push_str(&serde_json::to_string(&certificates)?);
        }
        if !plugins.is_empty() {
            text.push_str(",\"plugins\":");
            text.push_str(&serde_json::to_string(&plugins)?);
        }
        for (key, list) in [("services", &services), ("upstreams", &upstreams)] {
            if list.is_empty() {
                continue;
            }
            text.push_str(",\"");
            text.push_str(key);
            text.push_str("\":[");
            for (i, (_, json)) in list.iter().enumerate() {
                if i > 0 {
                    text.push(',');
                }
                text.push_str(json);
            }
            text.push(']');
        }
        text.push('}');
        Ok(Output {
            text,
            problems,
            upstream_policies,
            facts,
            retranslated: 0,
        })
    }
}

