//! The set of objects whose entities are in the config, grouped by namespace so that
//! incremental translation shares each namespace's set between updates instead of copying
//! tens of thousands of keys per change.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use super::ObjectKey;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Configured {
    /// Namespaced objects by namespace; never an empty set.
    namespaced: BTreeMap<String, Arc<BTreeSet<ObjectKey>>>,
    /// Cluster-scoped objects (KongClusterPlugins): routes of any namespace name them.
    cluster: BTreeSet<ObjectKey>,
}

impl Configured {
    pub fn contains(&self, key: &ObjectKey) -> bool {
        if key.namespace.is_empty() {
            self.cluster.contains(key)
        } else {
            self.namespaced
                .get(&key.namespace)
                .is_some_and(|set| set.contains(key))
        }
    }

    pub fn insert(&mut self, key: ObjectKey) {
        if key.namespace.is_empty() {
            self.cluster.insert(key);
        } else {
            Arc::make_mut(self.namespaced.entry(key.namespace.clone()).or_default()).insert(key);
        }
    }

    /// Every key once: namespaced ones by namespace, then cluster-scoped ones.
    pub fn iter(&self) -> impl Iterator<Item = &ObjectKey> {
        self.namespaced
            .values()
            .flat_map(|set| set.iter())
            .chain(&self.cluster)
    }

    pub fn len(&self) -> usize {
        self.namespaced.values().map(|s| s.len()).sum::<usize>() + self.cluster.len()
    }

    pub fn is_empty(&self) -> bool {
        self.namespaced.is_empty() && self.cluster.is_empty()
    }

    /// Adds `other`'s keys, sharing its per-namespace sets when this one has none there.
    pub fn merge(&mut self, other: &Configured) {
        for (ns, set) in &other.namespaced {
            match self.namespaced.get_mut(ns) {
                None => {
                    self.namespaced.insert(ns.clone(), set.clone());
                }
                Some(mine) => Arc::make_mut(mine).extend(set.iter().cloned()),
            }
        }
        self.cluster.extend(other.cluster.iter().cloned());
    }
}

impl FromIterator<ObjectKey> for Configured {
    fn from_iter<I: IntoIterator<Item = ObjectKey>>(iter: I) -> Self {
        let mut c = Configured::default();
        for key in iter {
            c.insert(key);
        }
        c
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinds::Kind;
    use crate::translate::object_key;

    #[test]
    fn lookups_merges_and_equality_follow_the_keys() {
        let a: Configured = [
            object_key(Kind::Ingress, "a", "x"),
            object_key(Kind::Service, "a", "s"),
            object_key(Kind::KongClusterPlugin, "", "p"),
        ]
        .into_iter()
        .collect();
        let b: Configured = [
            object_key(Kind::HttpRoute, "b", "r"),
            object_key(Kind::KongClusterPlugin, "", "p"),
        ]
        .into_iter()
        .collect();
        let mut merged = a.clone();
        merged.merge(&b);
        assert!(merged.contains(&object_key(Kind::Ingress, "a", "x")));
        assert!(merged.contains(&object_key(Kind::HttpRoute, "b", "r")));
        assert!(merged.contains(&object_key(Kind::KongClusterPlugin, "", "p")));
        assert!(!merged.contains(&object_key(Kind::Ingress, "b", "x")));
        assert_eq!(merged.len(), 4);
        let all: Configured = merged.iter().cloned().collect();
        assert_eq!(all, merged);
        let mut other_order = b.clone();
        other_order.merge(&a);
        assert_eq!(other_order, merged);
        assert_ne!(a, merged);
    }
}
