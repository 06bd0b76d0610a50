//! What a translation did, in structured form, for status subresources, and the objects the
//! config's entities name by their `k8s-*` tags.

use std::collections::{BTreeMap, BTreeSet};

use super::{Configured, Kind, ObjectKey, names, object_key};
use crate::kong::config::KongConfig;

/// `(namespace, name)` of a namespaced object.
pub type NamespacedName = (String, String);

/// What a translation did, in structured form, for status subresources: problems say it
/// in prose, status conditions need it per object.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Facts {
    /// Objects whose entities are in the config, from the entities' `k8s-*` tags.
    pub configured: Configured,
    /// Per KongUpstreamPolicy: the Services whose upstream it configures.
    pub policy_services: BTreeMap<NamespacedName, BTreeSet<NamespacedName>>,
    /// Upstreams left without a policy because their backends name different ones.
    pub policy_conflicts: Vec<PolicyConflict>,
    /// The plugins (namespace, name as `konghq.com/plugins` resolves them) some Kong service
    /// or route references: KIC scopes those to routes and services times consumers, and the
    /// others consumers name to consumers alone.
    pub plugin_keys: BTreeSet<(String, String)>,
}

/// Backends of one upstream (an HTTPRoute rule group) that name different policies.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyConflict {
    pub upstream: String,
    /// The object whose rule groups the backends.
    pub owner: names::ObjectRef,
    /// Each backend Service and the policy its annotation names, if any.
    pub backends: Vec<(NamespacedName, Option<String>)>,
}

impl Facts {
    /// The policy (namespace, name) is in conflict on Service `service`: some upstream has
    /// the Service with this policy next to a backend that names another or none.
    pub fn policy_conflicted(&self, policy: &NamespacedName, service: &NamespacedName) -> bool {
        self.policy_conflicts.iter().any(|c| {
            c.backends
                .iter()
                .any(|(s, p)| s == service && policy.0 == s.0 && p.as_ref() == Some(&policy.1))
        })
    }
}

/// Objects named by the `k8s-kind`/`k8s-namespace`/`k8s-name` tags of the config's entities.
fn tagged(tags: &[String]) -> Option<(Kind, &str, &str)> {
    let tag = |k: &str| {
        tags.iter()
            .find_map(|t| t.strip_prefix(k).and_then(|v| v.strip_prefix(':')))
    };
    Some((
        Kind::by_name(tag("k8s-kind")?)?,
        tag("k8s-namespace").unwrap_or_default(),
        tag("k8s-name")?,
    ))
}

/// The object an entity's `k8s-*` tags name.
pub(crate) fn object_of_tags(tags: &[String]) -> Option<ObjectKey> {
    tagged(tags).map(|(kind, namespace, name)| object_key(kind, namespace, name))
}

pub(super) fn configured_objects(config: &KongConfig) -> Configured {
    let key = tagged;
    // Borrowed first: most objects tag several entities.
    let mut seen = BTreeSet::new();
    for s in &config.services {
        seen.extend(key(&s.tags));
        seen.extend(s.routes.iter().filter_map(|r| key(&r.tags)));
    }
    seen.extend(config.upstreams.iter().filter_map(|u| key(&u.tags)));
    seen.extend(config.plugins.iter().filter_map(|p| key(&p.tags)));
    seen.extend(config.consumers.iter().filter_map(|c| key(&c.tags)));
    seen.extend(config.vaults.iter().filter_map(|v| key(&v.tags)));
    seen.into_iter()
        .map(|(kind, namespace, name)| object_key(kind, namespace, name))
        .collect()
}
