//! The typed objects of a synthetic cluster.

use crate::kinds::Kind;
use std::collections::BTreeMap;

use gateway_api::apis::standard::gatewayclasses::GatewayClassSpec;
use gateway_api::apis::standard::gateways::{GatewayListeners, GatewaySpec};
use gateway_api::apis::standard::httproutes::{
    HttpRouteParentRefs, HttpRouteRules, HttpRouteRulesBackendRefs, HttpRouteRulesMatches,
    HttpRouteRulesMatchesPath, HttpRouteRulesMatchesPathType, HttpRouteSpec,
};
use k8s_openapi::api::core::v1::{ObjectReference, ServicePort, ServiceSpec};
use k8s_openapi::api::discovery::v1::{Endpoint, EndpointConditions, EndpointPort};
use k8s_openapi::api::networking::v1::{
    HTTPIngressPath, HTTPIngressRuleValue, IngressBackend, IngressClassSpec, IngressRule,
    IngressServiceBackend, IngressSpec, ServiceBackendPort,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde_json::json;

use super::{
    MAX_ENDPOINTS_PER_SLICE, POD_PORT, POLICIES, Routing, SERVICE_PORT, SERVICES_PER_NAMESPACE,
    Spec,
};
use crate::api::*;
use crate::crd::{
    Algorithm, HashInput, KongUpstreamHash, KongUpstreamHealthcheck,
    KongUpstreamHealthcheckUnhealthy, KongUpstreamPassiveHealthcheck, KongUpstreamPolicySpec,
};
use crate::snapshot::Object;
use crate::translate::DEFAULT_CONTROLLER_NAME;
use crate::translate::backends::upstream_policy::ANNOTATION as POLICY_ANNOTATION;
use crate::translate::plugins::ANNOTATION as PLUGINS_ANNOTATION;

const SERVICE_NAME_LABEL: &str = "kubernetes.io/service-name";
const ZONES: [&str; 3] = ["zone-a", "zone-b", "zone-c"];
const SLICE_SUFFIX_ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

fn uid(spec: &Spec, kind: &str, namespace: &str, name: &str) -> String {
    let key = format!("{}/{kind}/{namespace}/{name}", spec.seed);
    uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_OID, key.as_bytes()).to_string()
}

fn meta(spec: &Spec, kind: Kind, namespace: Option<&str>, name: &str) -> ObjectMeta {
    ObjectMeta {
        name: Some(name.to_string()),
        namespace: namespace.map(str::to_string),
        uid: Some(uid(
            spec,
            kind.as_str(),
            namespace.unwrap_or_default(),
            name,
        )),
        ..ObjectMeta::default()
    }
}

fn labels(pairs: &[(&str, &str)]) -> Option<BTreeMap<String, String>> {
    Some(
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    )
}

pub(super) fn cluster_scoped(spec: &Spec) -> Vec<Object> {
    let mut class = IngressClass {
        metadata: meta(spec, Kind::IngressClass, None, "kong"),
        spec: Some(IngressClassSpec {
            controller: Some("ingress-controllers.konghq.com/kong".into()),
            ..IngressClassSpec::default()
        }),
    };
    class.metadata.annotations = labels(&[("ingressclass.kubernetes.io/is-default-class", "true")]);
    let gateway_class = GatewayClass {
        metadata: meta(spec, Kind::GatewayClass, None, "kong"),
        spec: GatewayClassSpec {
            controller_name: DEFAULT_CONTROLLER_NAME.into(),
            ..GatewayClassSpec::default()
        },
        status: None,
    };
    let mut global = KongClusterPlugin {
        metadata: meta(spec, Kind::KongClusterPlugin, None, "global-limit"),
        plugin: "rate-limiting".into(),
        config: Some(json!({"minute": 100_000, "policy": "local"})),
        ..KongClusterPlugin::default()
    };
    global.metadata.labels = labels(&[("global", "true")]);
    vec![
        Object::IngressClass(Box::new(class)),
        Object::GatewayClass(Box::new(gateway_class)),
        Object::KongClusterPlugin(Box::new(global)),
    ]
}

/// The KongUpstreamPolicy `POLICIES[which]` of namespace `ns`; `variant` changes a setting
/// (the hashed header, or the failure threshold) so benchmarks can edit it.
pub fn upstream_policy(spec: &Spec, ns: usize, which: usize, variant: u32) -> KongUpstreamPolicy {
    let namespace = Spec::namespace_name(ns);
    let name = POLICIES[which % POLICIES.len()];
    let policy_spec = if which.is_multiple_of(POLICIES.len()) {
        KongUpstreamPolicySpec {
            algorithm: Some(Algorithm::ConsistentHashing),
            hash_on: Some(KongUpstreamHash {
                header: Some(format!("x-user-{variant}")),
                ..KongUpstreamHash::default()
            }),
            hash_on_fallback: Some(KongUpstreamHash {
                input: Some(HashInput::Ip),
                ..KongUpstreamHash::default()
            }),
            ..KongUpstreamPolicySpec::default()
        }
    } else {
        KongUpstreamPolicySpec {
            algorithm: Some(Algorithm::LeastConnections),
            healthchecks: Some(KongUpstreamHealthcheck {
                passive: Some(KongUpstreamPassiveHealthcheck {
                    unhealthy: Some(KongUpstreamHealthcheckUnhealthy {
                        http_failures: Some(3 + (variant % 50) as i32),
                        timeouts: Some(3),
                        ..KongUpstreamHealthcheckUnhealthy::default()
                    }),
                    ..KongUpstreamPassiveHealthcheck::default()
                }),
                ..KongUpstreamHealthcheck::default()
            }),
            ..KongUpstreamPolicySpec::default()
        }
    };
    KongUpstreamPolicy {
        metadata: meta(spec, Kind::KongUpstreamPolicy, Some(&namespace), name),
        spec: policy_spec,
        status: None,
    }
}

pub(super) fn namespace_objects(spec: &Spec, ns: usize) -> Vec<Object> {
    let namespace = Spec::namespace_name(ns);
    let gateway = Gateway {
        metadata: meta(spec, Kind::Gateway, Some(&namespace), "kong"),
        spec: GatewaySpec {
            gateway_class_name: "kong".into(),
            listeners: vec![GatewayListeners {
                name: "http".into(),
                port: 80,
                protocol: "HTTP".into(),
                ..GatewayListeners::default()
            }],
            ..GatewaySpec::default()
        },
        status: None,
    };
    let plugin = |name: &str, config: serde_json::Value, instance: Option<&str>| KongPlugin {
        metadata: meta(spec, Kind::KongPlugin, Some(&namespace), name),
        plugin: "rate-limiting".into(),
        config: Some(config),
        instance_name: instance.map(str::to_string),
        ..KongPlugin::default()
    };
    let mut out = vec![Object::Gateway(Box::new(gateway))];
    for which in 0..POLICIES.len() {
        out.push(Object::KongUpstreamPolicy(Box::new(upstream_policy(
            spec, ns, which, 0,
        ))));
    }
    out.push(Object::KongPlugin(Box::new(plugin(
        "svc-limit",
        json!({"minute": 6000, "policy": "local"}),
        None,
    ))));
    out.push(Object::KongPlugin(Box::new(plugin(
        "route-limit",
        json!({"second": 50, "limit_by": "ip", "policy": "local"}),
        Some("per-route"),
    ))));
    out
}

fn host(spec: &Spec, i: usize) -> String {
    format!(
        "{}.{}.example.com",
        Spec::service_name(i),
        spec.namespace_of(i)
    )
}

fn service(spec: &Spec, i: usize) -> Service {
    let namespace = spec.namespace_of(i);
    let name = Spec::service_name(i);
    let traits = spec.traits(i);
    let mut metadata = meta(spec, Kind::Service, Some(&namespace), &name);
    metadata.labels = labels(&[("app", &name)]);
    let mut annotations = BTreeMap::new();
    if let Some(p) = traits.policy {
        annotations.insert(POLICY_ANNOTATION.to_string(), POLICIES[p].to_string());
    }
    if traits.service_plugin {
        annotations.insert(PLUGINS_ANNOTATION.to_string(), "svc-limit".to_string());
    }
    metadata.annotations = Some(annotations).filter(|a| !a.is_empty());
    Service {
        metadata,
        spec: Some(ServiceSpec {
            ports: Some(vec![ServicePort {
                name: Some("http".into()),
                port: SERVICE_PORT,
                protocol: Some("TCP".into()),
                target_port: Some(IntOrString::Int(POD_PORT)),
                ..ServicePort::default()
            }]),
            selector: labels(&[("app", &name)]),
            type_: Some("ClusterIP".into()),
            ..ServiceSpec::default()
        }),
        status: None,
    }
}

/// The EndpointSlices of Service `i` when it has `endpoints` ready endpoints (its first
/// `endpoints` Pods), at most [`MAX_ENDPOINTS_PER_SLICE`] per slice. Slice names do not
/// depend on `endpoints`, so scaling rewrites the same slices (and empties the last ones).
pub fn endpoint_slices(spec: &Spec, i: usize, endpoints: usize) -> Vec<EndpointSlice> {
    let namespace = spec.namespace_of(i);
    let service = Spec::service_name(i);
    let slices = spec
        .slices_per_service()
        .max(endpoints.div_ceil(MAX_ENDPOINTS_PER_SLICE));
    let owner = OwnerReference {
        api_version: "v1".into(),
        kind: Kind::Service.as_str().into(),
        name: service.clone(),
        uid: uid(spec, Kind::Service.as_str(), &namespace, &service),
        block_owner_deletion: Some(true),
        controller: Some(true),
    };
    (0..slices)
        .map(|s| {
            let h = spec.hash(i as u64, s as u64);
            let suffix: String = (0..5)
                .map(|d| {
                    let n = SLICE_SUFFIX_ALPHABET.len() as u64;
                    char::from(SLICE_SUFFIX_ALPHABET[((h >> (d * 8)) % n) as usize])
                })
                .collect();
            let name = format!("{service}-{suffix}");
            let mut metadata = meta(spec, Kind::EndpointSlice, Some(&namespace), &name);
            metadata.labels = labels(&[
                (SERVICE_NAME_LABEL, &service),
                (
                    "endpointslice.kubernetes.io/managed-by",
                    "endpointslice-controller.k8s.io",
                ),
            ]);
            metadata.owner_references = Some(vec![owner.clone()]);
            let range = (s * MAX_ENDPOINTS_PER_SLICE)..((s + 1) * MAX_ENDPOINTS_PER_SLICE);
            let endpoints = range
                .filter(|k| *k < endpoints)
                .map(|k| endpoint(spec, i, k, &namespace, &service))
                .collect();
            EndpointSlice {
                metadata,
                address_type: "IPv4".into(),
                endpoints,
                ports: Some(vec![EndpointPort {
                    name: Some("http".into()),
                    port: Some(POD_PORT),
                    protocol: Some("TCP".into()),
                    ..EndpointPort::default()
                }]),
            }
        })
        .collect()
}

fn endpoint(spec: &Spec, i: usize, k: usize, namespace: &str, service: &str) -> Endpoint {
    let h = spec.hash(i as u64, 0x706f_6400 + k as u64);
    let pod = format!("{service}-{:08x}-{:05x}", h as u32, (h >> 32) & 0xfffff);
    Endpoint {
        addresses: vec![spec.pod_ip(i, k)],
        conditions: Some(EndpointConditions {
            ready: Some(true),
            serving: Some(true),
            terminating: Some(false),
        }),
        node_name: Some(format!("node-{:03}", (h >> 40) % 500)),
        target_ref: Some(ObjectReference {
            kind: Some("Pod".into()),
            name: Some(pod.clone()),
            namespace: Some(namespace.to_string()),
            uid: Some(uid(spec, "Pod", namespace, &pod)),
            ..ObjectReference::default()
        }),
        zone: Some(ZONES[k % ZONES.len()].into()),
        ..Endpoint::default()
    }
}

fn ingress(spec: &Spec, i: usize, route_plugin: bool) -> Ingress {
    let namespace = spec.namespace_of(i);
    let name = Spec::service_name(i);
    let mut metadata = meta(spec, Kind::Ingress, Some(&namespace), &name);
    if route_plugin {
        metadata.annotations = labels(&[(PLUGINS_ANNOTATION, "route-limit")]);
    }
    let path = |p: &str| HTTPIngressPath {
        path: Some(p.into()),
        path_type: "Prefix".into(),
        backend: IngressBackend {
            service: Some(IngressServiceBackend {
                name: name.clone(),
                port: Some(ServiceBackendPort {
                    number: Some(SERVICE_PORT),
                    ..ServiceBackendPort::default()
                }),
            }),
            ..IngressBackend::default()
        },
    };
    Ingress {
        metadata,
        spec: Some(IngressSpec {
            ingress_class_name: Some("kong".into()),
            rules: Some(vec![IngressRule {
                host: Some(host(spec, i)),
                http: Some(HTTPIngressRuleValue {
                    paths: vec![path("/"), path("/api/v1")],
                }),
            }]),
            ..IngressSpec::default()
        }),
        status: None,
    }
}

fn httproute(spec: &Spec, i: usize, canary: Option<usize>, route_plugin: bool) -> HttpRoute {
    let namespace = spec.namespace_of(i);
    let name = Spec::service_name(i);
    let mut metadata = meta(spec, Kind::HttpRoute, Some(&namespace), &name);
    if route_plugin {
        metadata.annotations = labels(&[(PLUGINS_ANNOTATION, "route-limit")]);
    }
    let backend = |service: String, weight: Option<i32>| HttpRouteRulesBackendRefs {
        name: service,
        port: Some(SERVICE_PORT),
        weight,
        ..HttpRouteRulesBackendRefs::default()
    };
    let backends = match canary {
        Some(c) => vec![
            backend(name.clone(), Some(90)),
            backend(Spec::service_name(c), Some(10)),
        ],
        None => vec![backend(name.clone(), None)],
    };
    HttpRoute {
        metadata,
        spec: HttpRouteSpec {
            hostnames: Some(vec![host(spec, i)]),
            parent_refs: Some(vec![HttpRouteParentRefs {
                name: "kong".into(),
                ..HttpRouteParentRefs::default()
            }]),
            rules: Some(vec![HttpRouteRules {
                matches: Some(vec![HttpRouteRulesMatches {
                    path: Some(HttpRouteRulesMatchesPath {
                        r#type: Some(HttpRouteRulesMatchesPathType::PathPrefix),
                        value: Some("/".into()),
                    }),
                    ..HttpRouteRulesMatches::default()
                }]),
                backend_refs: Some(backends),
                ..HttpRouteRules::default()
            }]),
        },
        status: None,
    }
}

/// Service `i`, its EndpointSlices and the Ingress or HTTPRoute routing to it.
pub(super) fn service_objects(spec: &Spec, i: usize) -> Vec<Object> {
    debug_assert!(i < spec.services && i / SERVICES_PER_NAMESPACE < spec.namespaces());
    let traits = spec.traits(i);
    let mut out = vec![Object::Service(Box::new(service(spec, i)))];
    out.extend(
        endpoint_slices(spec, i, spec.endpoints)
            .into_iter()
            .map(|s| Object::EndpointSlice(Box::new(s))),
    );
    out.push(match traits.routing {
        Routing::Ingress => Object::Ingress(Box::new(ingress(spec, i, traits.route_plugin))),
        Routing::HttpRoute => {
            Object::HttpRoute(Box::new(httproute(spec, i, None, traits.route_plugin)))
        }
        Routing::SplitHttpRoute { canary } => Object::HttpRoute(Box::new(httproute(
            spec,
            i,
            Some(canary),
            traits.route_plugin,
        ))),
    });
    out
}
