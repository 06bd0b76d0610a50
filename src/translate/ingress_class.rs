//! Which Ingresses are ours, as KIC v3.5.13 decides it (`internal/store/store.go` lines
//! 188-228): a non-empty `kubernetes.io/ingress.class` annotation, else `spec.ingressClassName`,
//! else the IngressClass marked default.

use kube::ResourceExt;

use crate::api::{Ingress, KongClusterPlugin};
use crate::crd::IngressClassParametersSpec;
use crate::kinds::Kind;
use crate::snapshot::Snapshot;
use crate::translate::names::ObjectRef;
use crate::translate::problems::{Problems, Reason};

pub const CLASS_ANNOTATION: &str = "kubernetes.io/ingress.class";
const DEFAULT_CLASS_ANNOTATION: &str = "ingressclass.kubernetes.io/is-default-class";

/// Whether an Ingress is of `class`: the legacy annotation, else `spec.ingressClassName`,
/// else the default IngressClass.
pub fn ours(snapshot: &Snapshot, class: &str, ingress: &Ingress) -> bool {
    // As in KIC, a non-empty legacy annotation takes precedence over the spec field.
    if let Some(name) = ingress
        .annotations()
        .get(CLASS_ANNOTATION)
        .filter(|n| !n.is_empty())
    {
        return name == class;
    }
    if let Some(name) = ingress
        .spec
        .as_ref()
        .and_then(|s| s.ingress_class_name.as_ref())
    {
        return name == class;
    }
    is_default(snapshot, class)
}

/// Whether an object classed by the `kubernetes.io/ingress.class` annotation alone (KongConsumer,
/// KongConsumerGroup, TCPIngress, UDPIngress) is of `class`: KIC v3.5.13 `isValidIngressClass`
/// with `getIngressClassHandling` (store.go lines 384-425, 784-794): the annotation names it, or
/// is absent and `class` is the default IngressClass.
pub fn annotated(snapshot: &Snapshot, class: &str, object: &impl ResourceExt) -> bool {
    let value = object
        .annotations()
        .get(CLASS_ANNOTATION)
        .map(String::as_str)
        .unwrap_or_default();
    value == class || (value.is_empty() && is_default(snapshot, class))
}

/// The KongClusterPlugin `name` if it is of `class`. KIC v3.5.13 keeps no KongClusterPlugin of
/// another class in its store (the generated reconciler deletes it:
/// `hack/generators/controllers/networking/main.go` lines 128-146 and 679-697, with
/// `MatchesIngressClass`, `internal/controllers/utils/utils.go` lines 27-43), so such a plugin is
/// neither global nor found by name from `konghq.com/plugins`.
pub fn cluster_plugin<'s>(
    snapshot: &'s Snapshot,
    class: &str,
    name: &str,
) -> Option<&'s KongClusterPlugin> {
    snapshot
        .kong_cluster_plugin(name)
        .filter(|p| annotated(snapshot, class, *p))
}

/// Why a KongClusterPlugin `name` that exists is not of `class`, for error messages; None
/// when there is none or it is ours.
pub fn other_class(snapshot: &Snapshot, class: &str, name: &str) -> Option<String> {
    let plugin = snapshot.kong_cluster_plugin(name)?;
    if annotated(snapshot, class, plugin) {
        return None;
    }
    Some(match plugin.annotations().get(CLASS_ANNOTATION) {
        Some(other) if !other.is_empty() => format!(
            "KongClusterPlugin {name} is of ingress class {other:?} ({CLASS_ANNOTATION}), not {class:?}"
        ),
        _ => format!(
            "KongClusterPlugin {name} has no {CLASS_ANNOTATION} annotation and IngressClass {class} is not the default"
        ),
    })
}

/// Whether the IngressClass `class` exists and is marked the cluster's default.
pub fn is_default(snapshot: &Snapshot, class: &str) -> bool {
    snapshot.ingress_class(class).is_some_and(|ic| {
        ic.annotations()
            .get(DEFAULT_CLASS_ANNOTATION)
            .is_some_and(|v| v == "true")
    })
}

/// The settings of our IngressClass's `spec.parameters` (KIC v3.5.13 `store.go` 557-596
/// `GetIngressClassParametersV1Alpha1`, used by `translate_ingress.go` 26-31 and
/// `translate_upstreams.go` 218-225): KIC's defaults (both off) when the class names none, and
/// when the reference is wrong or missing, which KIC only logs and kingress reports on the
/// IngressClass.
#[derive(Debug, Default, PartialEq)]
pub struct ClassParameters {
    pub spec: IngressClassParametersSpec,
    problems: Vec<super::problems::Problem>,
}

impl ClassParameters {
    pub fn new(snapshot: &Snapshot, class: &str) -> Self {
        let Some(ic) = snapshot.ingress_class(class) else {
            return ClassParameters::default();
        };
        let Some(p) = ic.spec.as_ref().and_then(|s| s.parameters.as_ref()) else {
            return ClassParameters::default();
        };
        let group = crate::api::KONG_GROUP;
        let why = if p.api_group.as_deref() != Some(group) {
            format!("IngressClass {class} should reference parameters in apiGroup:{group}")
        } else if p.kind != "IngressClassParameters" {
            format!(
                "IngressClass {class} should reference parameters with kind:IngressClassParameters"
            )
        } else if let (Some(_), Some(ns)) = (&p.scope, &p.namespace) {
            match snapshot.stored::<crate::api::IngressClassParameters>(ns, &p.name) {
                Some(found) => {
                    return ClassParameters {
                        spec: found.spec.clone(),
                        problems: Vec::new(),
                    };
                }
                None => format!("IngressClassParameters {ns}/{} not found", p.name),
            }
        } else {
            format!("IngressClass {class} should reference namespaced parameters")
        };
        let mut problems = Problems::default();
        problems.warning(
            &ObjectRef::new(Kind::IngressClass, None, class),
            Reason::InvalidValue,
            Some("spec.parameters".into()),
            format!(
                "{why}; KIC's defaults apply (serviceUpstream and enableLegacyRegexDetection off)"
            ),
        );
        ClassParameters {
            spec: IngressClassParametersSpec::default(),
            problems: problems.into_sorted(),
        }
    }

    pub fn report(&self, problems: &mut Problems) {
        problems.extend(&self.problems);
    }
}
