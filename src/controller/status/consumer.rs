//! KongConsumer `status.conditions`: KIC's `Programmed` (`internal/controllers/utils/
//! conditions.go` v3.5.13: reasons `Programmed`, `Invalid`, `Pending`): True once a Kong replica
//! holds a config with the consumer; False `Invalid` when it, or one of its credentials, could
//! not be translated (the message says which, never a credential's value); False `Pending`
//! until a replica accepts it. Consumers of another class are left alone, as KIC leaves them.
//! KongVaults (cluster-scoped) and KongServiceFacades get the same condition (a facade no
//! Ingress uses keeps its CRD's default, `Pending`, as KIC never writes Unknown over it:
//! `conditions.go` 98-101).

use super::conditions::{self, Wanted};
use super::{Inputs, PlanScope, StatusWrite};
use crate::kinds::Kind;
use crate::snapshot::Snapshot;
use crate::translate::{Severity, object_key};

const PROGRAMMED: &str = "Programmed";

pub fn plan(snapshot: &Snapshot, inputs: &Inputs<'_>, scope: PlanScope<'_>) -> Vec<StatusWrite> {
    match scope {
        PlanScope::Namespace(ns) => {
            let consumers = snapshot
                .kong_consumers
                .values()
                .filter(|c| c.metadata.namespace.as_deref() == Some(ns))
                .filter_map(|c| {
                    let current = c.status.as_ref().map(|s| s.conditions.as_slice());
                    write_for(Kind::KongConsumer, &c.metadata, current, inputs)
                });
            let facades = crate::snapshot::in_namespace(&snapshot.kong_service_facades, Some(ns))
                .filter_map(|f| {
                    let current = f.status.as_ref().map(|s| s.conditions.as_slice());
                    write_for(Kind::KongServiceFacade, &f.metadata, current, inputs)
                });
            consumers.chain(facades).collect()
        }
        // KongVaults: KIC writes the same condition (their generated reconciler has
        // `ProgrammedCondition.UpdatesEnabled`, networking/main.go 252-269).
        PlanScope::Cluster => snapshot
            .kong_vaults
            .values()
            .filter_map(|v| {
                let current = v.status.as_ref().map(|s| s.conditions.as_slice());
                write_for(Kind::KongVault, &v.metadata, current, inputs)
            })
            .collect(),
    }
}

fn write_for(
    kind: Kind,
    meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta,
    current: Option<&[k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition]>,
    inputs: &Inputs<'_>,
) -> Option<StatusWrite> {
    let ns = meta.namespace.as_deref().unwrap_or_default();
    let name = meta.name.clone().unwrap_or_default();
    let current = current.unwrap_or_default();
    // None: not ours (another class's; KIC leaves those alone too).
    let wanted = vec![programmed(kind, ns, &name, current, inputs)?];
    let built = conditions::build(wanted, current, meta.generation, inputs.now);
    if serde_json::to_value(&built).ok()? == serde_json::to_value(current).ok()? {
        return None;
    }
    Some(StatusWrite {
        kind,
        namespace: ns.to_string(),
        name,
        precondition: None,
        status: serde_json::json!({ "conditions": built }),
    })
}

fn programmed(
    kind: Kind,
    ns: &str,
    name: &str,
    current: &[k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition],
    inputs: &Inputs<'_>,
) -> Option<Wanted> {
    let key = object_key(kind, ns, name);
    let error = inputs.state.problems.iter().find(|p| {
        p.severity == Severity::Error
            && p.object.kind == kind
            && p.object.name == name
            && p.object.namespace.as_deref().unwrap_or_default() == ns
    });
    let pending = Wanted::new(
        PROGRAMMED,
        false,
        "Pending",
        "Object is pending configuration in Kong.",
    );
    if let Some(p) = error {
        return Some(Wanted::new(PROGRAMMED, false, "Invalid", p.to_string()));
    }
    // Every consumer of ours is in the config or has an error.
    if !inputs.state.facts.configured.contains(&key) {
        return None;
    }
    let held = Wanted::new(
        PROGRAMMED,
        true,
        "Programmed",
        "Object was successfully configured in Kong.",
    );
    let holds = |f: &crate::translate::Facts| f.configured.contains(&key);
    Some(conditions::programmed(
        inputs.programmed,
        holds,
        held,
        pending,
        current,
    ))
}
