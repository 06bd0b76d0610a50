//! KongPlugin / KongClusterPlugin `status.conditions`.
//!
//! - `Programmed` (KIC's condition): True once a Kong replica holds a config containing the
//!   plugin; False `Invalid` when it could not be translated (e.g. its configFrom Secret is
//!   missing), `Unused` when nothing references it, `Pending` until a replica accepts it.
//! - `ReplicaConsistentLimits` (kingress), on rate-limiting plugins whose counters are per
//!   Kong replica: False `PerReplicaCounters` with the effective ceiling and the fix, or True
//!   `LimitsDividedPerReplica` saying which limits were applied. Absent otherwise.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, ObjectMeta};

use super::conditions::{self, Wanted};
use super::{Inputs, PlanScope, StatusWrite};
use crate::kinds::Kind;
use crate::snapshot::Snapshot;
use crate::translate::ingress_class;
use crate::translate::{Reason, Severity, object_key};

const PROGRAMMED: &str = "Programmed";
const REPLICA_LIMITS: &str = "ReplicaConsistentLimits";

pub fn plan(snapshot: &Snapshot, inputs: &Inputs<'_>, scope: PlanScope<'_>) -> Vec<StatusWrite> {
    let namespace = match scope {
        PlanScope::Namespace(ns) => Some(ns),
        PlanScope::Cluster => None,
    };
    let namespaced = namespace
        .into_iter()
        .flat_map(|ns| snapshot.kong_plugins_in(Some(ns)))
        .map(|p| {
            let current = p.status.as_ref().map(|s| s.conditions.as_slice());
            (Kind::KongPlugin, &p.metadata, current)
        });
    // Another class's KongClusterPlugins are another controller's (KIC v3.5.13 drops them
    // from its store: `MatchesIngressClass`, `internal/controllers/utils/utils.go` 27-43).
    let cluster = snapshot
        .kong_cluster_plugins
        .values()
        .filter(|_| scope == PlanScope::Cluster)
        .filter(|p| ingress_class::annotated(snapshot, inputs.ingress_class, &***p))
        .map(|p| {
            let current = p.status.as_ref().map(|s| s.conditions.as_slice());
            (Kind::KongClusterPlugin, &p.metadata, current)
        });
    namespaced
        .chain(cluster)
        .filter_map(|(target, meta, current)| {
            write_for(target, meta, current.unwrap_or(&[]), inputs)
        })
        .collect()
}

fn write_for(
    target: Kind,
    meta: &ObjectMeta,
    current: &[Condition],
    inputs: &Inputs<'_>,
) -> Option<StatusWrite> {
    let ns = meta.namespace.clone().unwrap_or_default();
    let name = meta.name.clone().unwrap_or_default();
    let wanted = wanted(target, &ns, &name, current, inputs);
    let built = conditions::build(wanted, current, meta.generation, inputs.now);
    if serde_json::to_value(&built).ok()? == serde_json::to_value(current).ok()? {
        return None;
    }
    Some(StatusWrite {
        kind: target,
        namespace: ns,
        name,
        precondition: None,
        status: serde_json::json!({ "conditions": built }),
    })
}

fn wanted(
    kind: Kind,
    ns: &str,
    name: &str,
    current: &[Condition],
    inputs: &Inputs<'_>,
) -> Vec<Wanted> {
    let key = object_key(kind, ns, name);
    let mine = |p: &&crate::translate::Problem| {
        p.object.kind == kind
            && p.object.name == name
            && p.object.namespace.as_deref().unwrap_or_default() == ns
    };
    let problems: Vec<&crate::translate::Problem> =
        inputs.state.problems.iter().filter(mine).collect();
    let error = problems.iter().find(|p| p.severity == Severity::Error);
    let programmed = if let Some(p) = error {
        Wanted::new(PROGRAMMED, false, "Invalid", p.message.clone())
    } else if !inputs.state.facts.configured.contains(&key) {
        Wanted::new(
            PROGRAMMED,
            false,
            "Unused",
            "no Service, Ingress or HTTPRoute names it in konghq.com/plugins, and it is not global",
        )
    } else {
        let held = Wanted::new(
            PROGRAMMED,
            true,
            "Programmed",
            "a Kong replica holds the configuration with this plugin",
        );
        let pending = Wanted::new(
            PROGRAMMED,
            false,
            "Pending",
            "waiting for a Kong replica to accept the configuration",
        );
        let holds = |f: &crate::translate::Facts| f.configured.contains(&key);
        conditions::programmed(inputs.programmed, holds, held, pending, current)
    };
    let mut out = vec![programmed];
    if let Some(p) = problems
        .iter()
        .find(|p| p.reason == Reason::RateLimitPerReplica)
    {
        out.push(match p.severity {
            Severity::Info => Wanted::new(
                REPLICA_LIMITS,
                true,
                "LimitsDividedPerReplica",
                p.message.clone(),
            ),
            _ => Wanted::new(
                REPLICA_LIMITS,
                false,
                "PerReplicaCounters",
                p.message.clone(),
            ),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controller::sync::SyncState;
    use crate::manifests::{Loaded, load_str};
    use crate::translate::Facts;

    /// Another class's KongClusterPlugin gets no status from us (two controllers would
    /// otherwise fight over it); ours, unreferenced, is `Unused`.
    #[test]
    fn only_cluster_plugins_of_our_class_get_status() {
        let yaml = r#"apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata: {name: kong}
spec: {controller: ingress-controllers.konghq.com/kong}
---
apiVersion: configuration.konghq.com/v1
kind: KongClusterPlugin
metadata: {name: ours, annotations: {kubernetes.io/ingress.class: kong}}
plugin: cors
---
apiVersion: configuration.konghq.com/v1
kind: KongClusterPlugin
metadata: {name: theirs, annotations: {kubernetes.io/ingress.class: internal}}
plugin: cors
---
apiVersion: configuration.konghq.com/v1
kind: KongClusterPlugin
metadata: {name: unclassed}
plugin: cors
"#;
        let mut loaded = Loaded::default();
        load_str(yaml, std::path::Path::new("plugins.yaml"), &mut loaded);
        assert!(loaded.problems.is_empty(), "{:?}", loaded.problems);
        let state = SyncState::default();
        let facts = Facts::default();
        let now = k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(
            "2026-01-01T00:00:00Z".parse().expect("time"),
        );
        let inputs = Inputs::for_tests(&state, Some(&facts), &now);
        let names: Vec<String> = plan(&loaded.snapshot, &inputs, PlanScope::Cluster)
            .into_iter()
            .map(|w| w.name)
            .collect();
        assert_eq!(
            names,
            ["ours"],
            "kong is not the default class: unclassed is not ours either"
        );
    }
}
