//! KIC's `--combined-services-from-different-httproutes` (`cli.go` 196, off by default): the
//! rules of every HTTPRoute of a namespace with the same backends share one Kong service,
//! named after the backends (`subtranslator/httproute.go` 123-135, 500-542, 660-673). Routes
//! stay per HTTPRoute, named as without the flag.

use sha2::{Digest, Sha256};

use super::{Part, Prepared, emit_service};
use crate::translate::Context;

/// KIC's `maxKongServiceNameLength` (`subtranslator_vars.go` 29).
const MAX_NAME: usize = 511;

pub(super) fn translate(ctx: &mut Context<'_>, prepared: &[Prepared<'_>]) {
    // Service name → parts, in order of first appearance (the config is sorted later).
    let mut groups: Vec<(String, Vec<Part<'_>>)> = Vec::new();
    for p in prepared {
        for &i in &p.rules {
            let name = service_name(&p.namespace, &p.route_rules()[i]);
            let slot = match groups.iter().position(|(n, _)| *n == name) {
                Some(k) => k,
                None => {
                    groups.push((name, Vec::new()));
                    groups.len() - 1
                }
            };
            let parts = &mut groups[slot].1;
            match parts.iter_mut().find(|part| std::ptr::eq(part.of, p)) {
                Some(part) => part.members.push(i),
                None => parts.push(Part {
                    of: p,
                    members: vec![i],
                }),
            }
        }
    }
    for (name, parts) in &groups {
        emit_service(ctx, name, parts);
    }
}

/// KIC's `getKongServiceNameByBackendRefs`: `httproute.<ns>.svc.` and the rule's backends, each
/// `<ns>.<name>[.<port>][.<weight>]` (the route's namespace when the ref names none), sorted and
/// joined by `_` (`_` alone without backends); past 511 characters, the first backend and
/// `_combined.<sha256 of the whole name>`. Group and kind are not part of it.
fn service_name(
    namespace: &str,
    rule: &gateway_api::apis::standard::httproutes::HttpRouteRules,
) -> String {
    let refs = rule.backend_refs.as_deref().unwrap_or_default();
    if refs.is_empty() {
        return format!("httproute.{namespace}.svc._");
    }
    let mut backends: Vec<String> = refs
        .iter()
        .map(|r| {
            let mut b = format!("{}.{}", r.namespace.as_deref().unwrap_or(namespace), r.name);
            if let Some(port) = r.port {
                b.push_str(&format!(".{port}"));
            }
            if let Some(weight) = r.weight {
                b.push_str(&format!(".{weight}"));
            }
            b
        })
        .collect();
    backends.sort();
    let name = format!("httproute.{namespace}.svc.{}", backends.join("_"));
    if name.len() <= MAX_NAME {
        return name;
    }
    let hash = Sha256::digest(name.as_bytes());
    let hex: String = hash.iter().map(|b| format!("{b:02x}")).collect();
    format!("httproute.{namespace}.svc.{}_combined.{hex}", backends[0])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(yaml: &str) -> gateway_api::apis::standard::httproutes::HttpRouteRules {
        serde_norway::from_str(yaml).expect("rule")
    }

    #[test]
    fn names_follow_the_backends() {
        assert_eq!(
            service_name(
                "default",
                &rule(
                    "backendRefs: [{name: b, port: 80, weight: 70}, {name: a, namespace: other, port: 80, weight: 30}]"
                )
            ),
            "httproute.default.svc.default.b.80.70_other.a.80.30"
        );
        assert_eq!(
            service_name("default", &rule("backendRefs: [{name: a}]")),
            "httproute.default.svc.default.a"
        );
        assert_eq!(service_name("ns", &rule("{}")), "httproute.ns.svc._");
        let long = format!("backendRefs: [{{name: {}}}, {{name: b}}]", "a".repeat(500));
        let name = service_name("ns", &rule(&long));
        assert!(name.starts_with(&format!(
            "httproute.ns.svc.ns.{}_combined.",
            "a".repeat(500)
        )));
        assert_eq!(
            name.len(),
            "httproute.ns.svc.ns.".len() + 500 + "_combined.".len() + 64
        );
    }
}
