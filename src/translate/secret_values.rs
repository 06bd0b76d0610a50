//! A Secret's values as the apiserver stores them: `data`, with `stringData` merged over it
//! (what a manifest read offline still has apart). The one reader for plugins' `configFrom`,
//! TLS certificates and credentials.

use std::collections::BTreeMap;

use crate::api::Secret;

/// The value of `key`.
pub fn value(secret: &Secret, key: &str) -> Option<Vec<u8>> {
    let written = secret.string_data.as_ref().and_then(|d| d.get(key));
    match written {
        Some(s) => Some(s.clone().into_bytes()),
        None => secret.data.as_ref()?.get(key).map(|b| b.0.clone()),
    }
}

/// The value of `key` as text (invalid UTF-8 replaced).
pub fn text(secret: &Secret, key: &str) -> Option<String> {
    value(secret, key).map(|v| String::from_utf8_lossy(&v).into_owned())
}

/// Every key's value as text.
pub fn texts(secret: &Secret) -> BTreeMap<String, String> {
    let mut out: BTreeMap<String, String> = secret
        .data
        .iter()
        .flatten()
        .map(|(k, v)| (k.clone(), String::from_utf8_lossy(&v.0).into_owned()))
        .collect();
    for (k, v) in secret.string_data.iter().flatten() {
        out.insert(k.clone(), v.clone());
    }
    out
}
