//! The version the apiserver serves a kind at, for kinds kingress reads at several: TCPRoute,
//! UDPRoute and TLSRoute are `v1` in Gateway API v1.6.1's standard channel and `v1alpha2` in
//! older and experimental installs (KIC v3.5.13 reads `v1alpha2` only). Watches and status
//! writes use the first of the kind's versions (the table's order) that is served; a version
//! other than the Rust type's own is reached through a dynamic client, its objects decoded into
//! the same type (the versions' schemas are the same for what kingress reads).

use kube::Client;
use kube::api::{Api, DynamicObject};
use kube::core::DeserializeGuard;
use kube::discovery::ApiResource;

use crate::kinds::KindSpec;

/// The first of `K`'s versions the apiserver serves; None when it serves none (the CRD is not
/// installed, or lists none of them).
pub async fn served<K: KindSpec>(client: &Client) -> Option<&'static str> {
    let info = K::KIND.info();
    let plural = K::plural(&());
    for version in info.versions {
        if let Ok(list) = client
            .list_api_group_resources(&info.api_version(version))
            .await
            && list.resources.iter().any(|r| r.name == plural)
        {
            return Some(version);
        }
    }
    None
}

/// `K`'s API at `version`, as dynamic objects.
pub fn dynamic_api<K: KindSpec>(
    client: Client,
    namespace: Option<&str>,
    version: &str,
) -> Api<DynamicObject> {
    let info = K::KIND.info();
    let resource = ApiResource {
        group: info.group.to_string(),
        version: version.to_string(),
        api_version: info.api_version(version),
        kind: info.name.to_string(),
        plural: K::plural(&()).to_string(),
    };
    match (info.namespaced, namespace) {
        (true, Some(ns)) => Api::namespaced_with(client, ns, &resource),
        _ => Api::all_with(client, &resource),
    }
}

/// A dynamic object as `K`, or the reason it is not one (as a guarded typed watch reports it);
/// None when even its metadata does not decode.
pub fn decode<K: KindSpec>(object: DynamicObject) -> Option<DeserializeGuard<K>> {
    let value = serde_json::to_value(object).ok()?;
    serde_json::from_value(value).ok()
}
