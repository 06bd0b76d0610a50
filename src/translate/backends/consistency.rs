//! Services grouped into one Kong service (several backends of one route rule) must agree on
//! their `konghq.com*` annotations, or KIC v3.5.13 leaves the Kong service out with an error on
//! each Service (`ingressrules.go` 459-493 `getK8sServicesForBackends`, 546-587
//! `collectInconsistentAnnotations`, and `populateServices` 74-90): every key any of them
//! sets, with the value the last one sets, must be on each with that value.
//!
//! One difference on purpose: `konghq.com/upstream-policy` is left to the policy check
//! (`upstreams::apply_policy`), where disagreeing Services keep their routes and get no policy.

use std::collections::BTreeMap;

use kube::ResourceExt;

use super::upstream_policy;
use super::upstreams::Backend;
use crate::translate::problems::{Problems, Reason};

/// KIC's `annotations.AnnotationPrefix` (no slash: `konghq.com.x` counts too).
const PREFIX: &str = "konghq.com";

/// Whether the backends' Services agree; if not, reports each disagreeing key on every Service.
pub fn check(backends: &[Backend<'_>], kong_service: &str, problems: &mut Problems) -> bool {
    if backends.len() < 2 {
        return true;
    }
    // Every key seen, with the last value seen (a Go map overwritten in backend order).
    let mut seen: BTreeMap<&str, &str> = BTreeMap::new();
    for b in backends {
        for (k, v) in b.service.annotations() {
            if k.starts_with(PREFIX) && k != upstream_policy::ANNOTATION {
                seen.insert(k, v);
            }
        }
    }
    let bad: Vec<&str> = seen
        .iter()
        .filter(|(k, v)| {
            backends
                .iter()
                .any(|b| b.service.annotations().get(**k).map(String::as_str) != Some(**v))
        })
        .map(|(k, _)| *k)
        .collect();
    if bad.is_empty() {
        return true;
    }
    let mut services = Vec::new();
    for object in backends.iter().map(|b| b.object()) {
        if !services.contains(&object) {
            services.push(object);
        }
    }
    for object in &services {
        for key in &bad {
            problems.error(
                object,
                Reason::InvalidAnnotation,
                Some(format!("metadata.annotations[{key}]")),
                format!(
                    "Service has inconsistent {key} annotation and is used in multi-Service backend {kong_service}. This annotation must have the same value across all Services in the backend. As KIC v3.5.13 does, Kong service {kong_service} is left out"
                ),
            );
        }
    }
    false
}
