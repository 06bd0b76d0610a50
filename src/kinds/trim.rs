//! What the controller keeps of each watched object ([`Trim`], one impl per kind): what
//! translation, status and the fallback's fingerprints read, nothing else. Memory then follows what matters: an object
//! as the apiserver serves it carries managedFields, other tools' annotations (kubectl's
//! last-applied copy, Helm's, Argo's), labels, owner references and, for Services,
//! defaulted spec fields and status that kingress never reads.

use kube::api::ObjectMeta;

use crate::api::*;
use k8s_openapi::api::core::v1::ServiceSpec;

/// Trims an object to what kingress reads (status is kept where kingress writes it: it
/// compares before writing).
pub trait Trim {
    fn trim(&mut self);
}

/// Annotations kingress reads: KIC's (`konghq.com/*`, `ingress.kubernetes.io/*`), its own
/// (`kingress.io/*`) and the ingress class ones.
fn read_annotation(key: &str) -> bool {
    key.starts_with("konghq.com/")
        || key.starts_with("kingress.io/")
        || key.starts_with("ingress.kubernetes.io/")
        || key.starts_with("ingressclass.kubernetes.io/")
        || key == "kubernetes.io/ingress.class"
}

fn trim_meta(meta: &mut ObjectMeta, keep_labels: bool) {
    meta.managed_fields = None;
    meta.owner_references = None;
    meta.finalizers = None;
    meta.generate_name = None;
    if !keep_labels {
        meta.labels = None;
    }
    if let Some(annotations) = meta.annotations.as_mut() {
        // The read-version mark is kingress's own, set after trimming: never taken from input.
        annotations.retain(|k, _| read_annotation(k) && k != super::READ_VERSION);
        if annotations.is_empty() {
            meta.annotations = None;
        }
    }
}

/// An EndpointSlice as translation reads it (see `snapshot::Slice`): addresses, conditions,
/// ports and the Service label.
fn trim_slice(slice: &mut EndpointSlice) {
    slice.metadata = ObjectMeta {
        name: slice.metadata.name.take(),
        namespace: slice.metadata.namespace.take(),
        labels: slice.metadata.labels.take(),
        ..ObjectMeta::default()
    };
    for ep in &mut slice.endpoints {
        ep.addresses.truncate(1);
        ep.deprecated_topology = None;
        ep.hints = None;
        ep.hostname = None;
        ep.node_name = None;
        ep.target_ref = None;
        ep.zone = None;
    }
}

/// A Service keeps its ports, type and external name: cluster IPs, selectors, traffic
/// policies and status are the cluster's business, not Kong's.
fn trim_service(service: &mut Service) {
    trim_meta(&mut service.metadata, false);
    service.status = None;
    if let Some(spec) = service.spec.take() {
        service.spec = Some(ServiceSpec {
            ports: spec.ports.map(|mut p| {
                p.shrink_to_fit();
                p
            }),
            type_: spec.type_,
            external_name: spec.external_name,
            ..ServiceSpec::default()
        });
    }
}

/// Kinds whose metadata is all that is trimmed (labels dropped).
macro_rules! trim_meta_only {
    ($($ty:ty),+) => {
        $(impl Trim for $ty {
            fn trim(&mut self) {
                trim_meta(&mut self.metadata, false);
            }
        })+
    };
}

trim_meta_only!(
    Ingress,
    HttpRoute,
    GrpcRoute,
    TcpRoute,
    UdpRoute,
    TlsRoute,
    TcpIngress,
    UdpIngress,
    KongUpstreamPolicy,
    KongIngress,
    KongVault,
    KongServiceFacade,
    KongCustomEntity,
    KongPlugin,
    KongConsumer,
    KongConsumerGroup,
    IngressClass,
    IngressClassParameters,
    Gateway,
    GatewayClass,
    ReferenceGrant,
    BackendTlsPolicy
);

impl Trim for Service {
    fn trim(&mut self) {
        trim_service(self);
    }
}

impl Trim for EndpointSlice {
    fn trim(&mut self) {
        trim_slice(self);
    }
}

/// Secrets and ConfigMaps keep their labels: `konghq.com/ca-cert` makes one a CA certificate.
impl Trim for Secret {
    fn trim(&mut self) {
        trim_meta(&mut self.metadata, true);
    }
}

/// A Namespace is its name and labels (allowedRoutes selectors read them).
impl Trim for Namespace {
    fn trim(&mut self) {
        trim_meta(&mut self.metadata, true);
        self.metadata.annotations = None;
        self.spec = None;
        self.status = None;
    }
}

impl Trim for ConfigMap {
    fn trim(&mut self) {
        trim_meta(&mut self.metadata, true);
        self.binary_data = None;
    }
}

impl Trim for KongClusterPlugin {
    // The `global` label makes a KongClusterPlugin global.
    fn trim(&mut self) {
        trim_meta(&mut self.metadata, true);
    }
}

/// Trims the object inside `object`, whatever its kind.
pub fn trim(object: &mut crate::kinds::Object) {
    crate::kinds::with_object!(object, |o| o.trim())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinds::Object;
    use crate::snapshot::Snapshot;
    use crate::translate::{self, Options};

    const CLUSTER: &str = r#"
apiVersion: v1
kind: Service
metadata:
  name: echo
  namespace: default
  uid: 6a0c8d0e-0000-4000-8000-000000000001
  labels: {app: echo}
  annotations:
    konghq.com/read-timeout: "5000"
    kubectl.kubernetes.io/last-applied-configuration: '{"big": "copy"}'
    meta.helm.sh/release-name: echo
  ownerReferences: [{apiVersion: v1, kind: ConfigMap, name: x, uid: "1"}]
  managedFields: [{manager: kubectl, operation: Apply}]
spec:
  type: ClusterIP
  clusterIP: 10.96.0.10
  clusterIPs: [10.96.0.10]
  ipFamilies: [IPv4]
  selector: {app: echo}
  sessionAffinity: None
  ports: [{name: http, port: 80, targetPort: 8080, protocol: TCP}]
status: {loadBalancer: {}}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: echo-abc
  namespace: default
  labels: {kubernetes.io/service-name: echo, endpointslice.kubernetes.io/managed-by: x}
addressType: IPv4
ports: [{name: http, port: 8080, protocol: TCP}]
endpoints:
- addresses: [10.0.0.1]
  conditions: {ready: true}
  nodeName: node-1
  zone: a
  targetRef: {kind: Pod, name: echo-1, namespace: default}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: echo
  namespace: default
  labels: {team: a}
  annotations:
    kubernetes.io/ingress.class: kong
    konghq.com/strip-path: "true"
    argocd.argoproj.io/tracking-id: "echo:networking.k8s.io/Ingress:default/echo"
spec:
  rules:
  - host: echo.example
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: echo, port: {number: 80}}}}
---
apiVersion: configuration.konghq.com/v1
kind: KongClusterPlugin
metadata:
  name: cors
  labels: {global: "true"}
  annotations: {kubernetes.io/ingress.class: kong}
plugin: cors
"#;

    fn snapshot(trimmed: bool) -> Snapshot {
        let mut loaded = crate::manifests::Loaded::default();
        crate::manifests::load_str(CLUSTER, std::path::Path::new("t.yaml"), &mut loaded);
        assert!(loaded.problems.is_empty(), "{:?}", loaded.problems);
        if !trimmed {
            return loaded.snapshot;
        }
        // Rebuild from trimmed objects, as the watchers would deliver them.
        let s = loaded.snapshot;
        let mut out = Snapshot::new();
        let mut objects: Vec<Object> = Vec::new();
        objects.extend(s.services.values().cloned().map(Object::Service));
        objects.extend(s.ingresses.values().cloned().map(Object::Ingress));
        objects.extend(
            s.kong_cluster_plugins
                .values()
                .cloned()
                .map(Object::KongClusterPlugin),
        );
        for mut o in objects {
            trim(&mut o);
            out.apply(o);
        }
        let mut slice: EndpointSlice =
            serde_norway::from_str(CLUSTER.split("\n---\n").nth(1).expect("the slice document"))
                .expect("slice parses");
        let mut object = Object::EndpointSlice(Box::new(slice.clone()));
        trim(&mut object);
        if let Object::EndpointSlice(s) = object {
            slice = *s;
        }
        assert!(slice.endpoints[0].target_ref.is_none() && slice.endpoints[0].node_name.is_none());
        out.apply(Object::EndpointSlice(Box::new(slice)));
        out
    }

    #[test]
    fn trimmed_objects_translate_exactly_as_whole_ones() {
        let options = Options::default();
        let whole = translate::translate(&snapshot(false), &options);
        let trimmed = translate::translate(&snapshot(true), &options);
        assert!(!whole.config.services.is_empty() && !whole.config.plugins.is_empty());
        assert_eq!(
            serde_json::to_string(&whole.config).expect("json"),
            serde_json::to_string(&trimmed.config).expect("json")
        );
        assert_eq!(whole.problems, trimmed.problems);
    }

    #[test]
    fn only_what_kingress_reads_is_kept() {
        let s = snapshot(true);
        let service = s.services.values().next().expect("service");
        let meta = &service.metadata;
        assert!(meta.managed_fields.is_none() && meta.labels.is_none());
        assert!(meta.owner_references.is_none());
        let annotations: Vec<&String> = meta.annotations.iter().flatten().map(|(k, _)| k).collect();
        assert_eq!(annotations, ["konghq.com/read-timeout"]);
        assert_eq!(
            meta.uid.as_deref(),
            Some("6a0c8d0e-0000-4000-8000-000000000001")
        );
        let spec = service.spec.as_ref().expect("spec");
        assert!(spec.cluster_ip.is_none() && spec.selector.is_none() && spec.ip_families.is_none());
        assert_eq!(spec.ports.as_ref().map(Vec::len), Some(1));
        assert!(service.status.is_none());
        let ingress = s.ingresses.values().next().expect("ingress");
        let annotations: Vec<&String> = ingress
            .metadata
            .annotations
            .iter()
            .flatten()
            .map(|(k, _)| k)
            .collect();
        assert_eq!(
            annotations,
            ["konghq.com/strip-path", "kubernetes.io/ingress.class"]
        );
        let plugin = s.kong_cluster_plugins.values().next().expect("plugin");
        assert!(
            plugin
                .metadata
                .labels
                .as_ref()
                .is_some_and(|l| l.contains_key("global"))
        );
    }
}
