//! BackendTLSPolicy `status.ancestors`, as KIC v3.5.13 writes them
//! (`internal/controllers/gateway/backendtlspolicy_utils.go` lines 54-207): one entry per
//! Gateway of ours that an HTTPRoute sending to a targeted Service is attached to (sorted by
//! namespace and name; other controllers' entries kept first, 16 in all), each with one
//! `Accepted` condition: `True`, or `False` with `Conflicted` or `Invalid`. A policy without
//! such a Gateway gets no status (KIC leaves it alone too).

use gateway_api::apis::standard::backendtlspolicies::{
    BackendTlsPolicyStatusAncestors, BackendTlsPolicyStatusAncestorsAncestorRef,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::ResourceExt;

use super::conditions::{self, Wanted};
use super::{Inputs, PlanScope, StatusWrite};
use crate::api::{BackendTlsPolicy, GATEWAY_GROUP};
use crate::kinds::Kind;
use crate::snapshot::Snapshot;
use crate::translate::backends::backend_tls_policy;
use crate::translate::gateway::attachment;
use crate::translate::gateway::route::GatewayRoute;

/// Gateway API's limit on `status.ancestors`.
const MAX_ANCESTORS: usize = 16;

pub fn plan(snapshot: &Snapshot, inputs: &Inputs<'_>, scope: PlanScope<'_>) -> Vec<StatusWrite> {
    let PlanScope::Namespace(ns) = scope else {
        return Vec::new();
    };
    snapshot
        .backend_tls_policies_in(ns)
        .filter_map(|p| write_for(snapshot, p, inputs))
        .collect()
}

fn write_for(
    snapshot: &Snapshot,
    policy: &BackendTlsPolicy,
    inputs: &Inputs<'_>,
) -> Option<StatusWrite> {
    let ns = policy.namespace().unwrap_or_default();
    let mut gateways: Vec<(String, String)> = Vec::new();
    for target in &policy.spec.target_refs {
        if !matches!(target.group.as_str(), "" | "core") || target.kind != "Service" {
            continue;
        }
        for route in
            backend_tls_policy::routes_to(snapshot, inputs.controller_name, &ns, &target.name)
        {
            let route = GatewayRoute::from(route);
            for (_, gateway) in attachment::our_parents(snapshot, &route, inputs.controller_name) {
                gateways.push((gateway.namespace().unwrap_or_default(), gateway.name_any()));
            }
        }
    }
    gateways.sort();
    gateways.dedup();
    if gateways.is_empty() {
        return None;
    }
    let current: &[BackendTlsPolicyStatusAncestors] = policy
        .status
        .as_ref()
        .map_or(&[], |s| s.ancestors.as_slice());
    let mut wanted: Vec<BackendTlsPolicyStatusAncestors> = current
        .iter()
        .filter(|a| a.controller_name != inputs.controller_name)
        .take(MAX_ANCESTORS)
        .cloned()
        .collect();
    let accepted = match backend_tls_policy::verdict(snapshot, policy) {
        // Kong 3.10 kong/runloop/balancer/init.lua lines 441-444: with preserve_host the
        // upstream Host, and so the SNI (kong/templates/nginx_kong.lua line 210,
        // `proxy_ssl_name $upstream_host`), is the client's.
        Ok(()) => Wanted::new(
            "Accepted",
            true,
            "Accepted",
            format!(
                "validation.hostname {} is the Kong upstream's host_header: Kong sends it as Host and SNI and verifies the backend's certificate against it, except on routes with preserve_host (every HTTPRoute route), which send the client's Host",
                policy.spec.validation.hostname
            ),
        ),
        Err((reason, message)) => Wanted::new("Accepted", false, reason, message),
    };
    let room = MAX_ANCESTORS - wanted.len();
    for (gw_ns, gw_name) in gateways.into_iter().take(room) {
        let ancestor_ref = BackendTlsPolicyStatusAncestorsAncestorRef {
            group: Some(GATEWAY_GROUP.into()),
            kind: Some("Gateway".into()),
            name: gw_name,
            namespace: Some(gw_ns),
            ..Default::default()
        };
        let existing: &[Condition] = current
            .iter()
            .find(|a| a.controller_name == inputs.controller_name && a.ancestor_ref == ancestor_ref)
            .map_or(&[], |a| a.conditions.as_slice());
        wanted.push(BackendTlsPolicyStatusAncestors {
            ancestor_ref,
            conditions: conditions::build(
                vec![accepted.clone()],
                existing,
                policy.metadata.generation,
                inputs.now,
            ),
            controller_name: inputs.controller_name.to_string(),
        });
    }
    let wanted_json = serde_json::to_value(&wanted).ok()?;
    if serde_json::to_value(current).ok()? == wanted_json {
        return None;
    }
    Some(StatusWrite {
        kind: Kind::BackendTlsPolicy,
        namespace: ns,
        name: policy.name_any(),
        precondition: policy.metadata.resource_version.clone(),
        status: serde_json::json!({ "ancestors": wanted_json }),
    })
}
