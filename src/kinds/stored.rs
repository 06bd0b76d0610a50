//! What the snapshot keeps of one object of a kind.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::Resource;
use serde::Serialize;

use crate::snapshot::Slice;

/// How a kind's objects are stored in the snapshot: the object itself, boxed (most kinds), or
/// a slim form built from it (EndpointSlices).
pub trait Stored: Clone {
    /// Metadata kept with the stored form (`None` for slim forms that keep none).
    fn metadata(&self) -> Option<&ObjectMeta>;
    /// The stored object as JSON, for fingerprints (`None` for slim forms).
    fn to_json(&self) -> Option<serde_json::Value>;
}

impl<K: Resource + Serialize + Clone> Stored for Box<K> {
    fn metadata(&self) -> Option<&ObjectMeta> {
        Some(self.meta())
    }

    fn to_json(&self) -> Option<serde_json::Value> {
        serde_json::to_value(&**self).ok()
    }
}

impl Stored for Slice {
    fn metadata(&self) -> Option<&ObjectMeta> {
        None
    }

    fn to_json(&self) -> Option<serde_json::Value> {
        None
    }
}
