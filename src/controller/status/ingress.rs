//! Ingress `status.loadBalancer` from `--publish-status-address` or `--publish-service`
//! (KIC's flags), written for Ingresses of our class once a Kong replica holds their routes;
//! TCPIngresses and UDPIngresses get the same (KIC v3.5.13 zz_generated.controllers.go, their
//! reconcilers' `UpdateLoadBalancerIngress`), UDPIngresses those of `--publish-service-udp` or
//! `--publish-status-address-udp` when either is set (`ctrldef.go` 173, `setup.go` 228-236).

use std::net::IpAddr;

use serde_json::{Value, json};

use super::{Inputs, PlanScope, StatusWrite};
use crate::api::Service;
use crate::kinds::Kind;
use crate::snapshot::{Snapshot, in_namespace};
use crate::translate::object_key;

pub fn plan(snapshot: &Snapshot, inputs: &Inputs<'_>, scope: PlanScope<'_>) -> Vec<StatusWrite> {
    let PlanScope::Namespace(ns) = scope else {
        return Vec::new();
    };
    let Some(programmed) = inputs.programmed else {
        return Vec::new();
    };
    // Each object with its current `status.loadBalancer.ingress`, as JSON.
    let ingresses = snapshot.ingresses_in(Some(ns)).map(|i| {
        let lb = i.status.as_ref().and_then(|s| s.load_balancer.as_ref());
        let current = lb
            .and_then(|lb| lb.ingress.as_ref())
            .map(serde_json::to_value);
        (Kind::Ingress, &i.metadata, current)
    });
    let tcp = in_namespace(&snapshot.tcp_ingresses, Some(ns)).map(|i| {
        let lb = i.status.as_ref().and_then(|s| s.load_balancer.as_ref());
        (
            Kind::TcpIngress,
            &i.metadata,
            lb.map(|lb| serde_json::to_value(&lb.ingress)),
        )
    });
    let udp = in_namespace(&snapshot.udp_ingresses, Some(ns)).map(|i| {
        let lb = i.status.as_ref().and_then(|s| s.load_balancer.as_ref());
        (
            Kind::UdpIngress,
            &i.metadata,
            lb.map(|lb| serde_json::to_value(&lb.ingress)),
        )
    });
    ingresses
        .chain(tcp)
        .chain(udp)
        .filter_map(|(kind, meta, current)| {
            let addresses = match kind {
                Kind::UdpIngress => inputs.udp_addresses,
                _ => inputs.addresses,
            };
            // No addresses known: leave whatever is there (another writer may own it).
            if addresses.is_empty() {
                return None;
            }
            let wanted = Value::Array(addresses.to_vec());
            let namespace = meta.namespace.clone().unwrap_or_default();
            let name = meta.name.clone().unwrap_or_default();
            if !programmed
                .configured
                .contains(&object_key(kind, &namespace, &name))
            {
                return None;
            }
            let current = match current {
                None => Value::Array(Vec::new()),
                Some(v) => v.unwrap_or(Value::Null),
            };
            (current != wanted).then(|| StatusWrite {
                kind,
                namespace,
                name,
                precondition: None,
                status: json!({ "loadBalancer": { "ingress": wanted } }),
            })
        })
        .collect()
}

/// One `status.loadBalancer.ingress` entry: an IP or a hostname.
pub fn address_entry(address: &str) -> Value {
    if address.parse::<IpAddr>().is_ok() {
        json!({ "ip": address })
    } else {
        json!({ "hostname": address })
    }
}

/// The addresses of the publish Service: its load balancer's IPs and hostnames, else its
/// external IPs, else its cluster IPs.
pub fn service_addresses(service: &Service) -> Vec<Value> {
    let lb: Vec<Value> = service
        .status
        .as_ref()
        .and_then(|s| s.load_balancer.as_ref())
        .and_then(|lb| lb.ingress.as_ref())
        .into_iter()
        .flatten()
        .filter_map(|i| match (&i.ip, &i.hostname) {
            (Some(ip), _) if !ip.is_empty() => Some(json!({ "ip": ip })),
            (_, Some(h)) if !h.is_empty() => Some(json!({ "hostname": h })),
            _ => None,
        })
        .collect();
    if !lb.is_empty() {
        return lb;
    }
    let spec = service.spec.as_ref();
    let external: Vec<Value> = spec
        .and_then(|s| s.external_ips.as_ref())
        .into_iter()
        .flatten()
        .map(|a| address_entry(a))
        .collect();
    if !external.is_empty() {
        return external;
    }
    let cluster_ips: Vec<String> = match spec {
        Some(s) => match (&s.cluster_ips, &s.cluster_ip) {
            (Some(ips), _) if !ips.is_empty() => ips.clone(),
            (_, Some(ip)) => vec![ip.clone()],
            _ => Vec::new(),
        },
        None => Vec::new(),
    };
    cluster_ips
        .iter()
        .filter(|ip| !ip.is_empty() && *ip != "None")
        .map(|ip| json!({ "ip": ip }))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controller::sync::SyncState;
    use crate::manifests::{Loaded, load_str};
    use crate::translate::Facts;

    /// UDPIngresses get the UDP addresses (KIC's `--publish-service-udp` address finder),
    /// Ingresses and TCPIngresses the others; none known for a kind: its status is left alone.
    #[test]
    fn udp_ingresses_get_the_udp_addresses() {
        let yaml = r#"
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: web, namespace: ns}
spec: {ingressClassName: kong}
---
apiVersion: configuration.konghq.com/v1beta1
kind: TCPIngress
metadata: {name: db, namespace: ns, annotations: {kubernetes.io/ingress.class: kong}}
spec: {rules: [{port: 9000, backend: {serviceName: db, servicePort: 5432}}]}
---
apiVersion: configuration.konghq.com/v1beta1
kind: UDPIngress
metadata: {name: dns, namespace: ns, annotations: {kubernetes.io/ingress.class: kong}}
spec: {rules: [{port: 9053, backend: {serviceName: dns, servicePort: 53}}]}
"#;
        let mut loaded = Loaded::default();
        load_str(yaml, std::path::Path::new("lb.yaml"), &mut loaded);
        assert!(loaded.problems.is_empty(), "{:?}", loaded.problems);
        let state = SyncState::default();
        let mut facts = Facts::default();
        for (kind, name) in [
            (Kind::Ingress, "web"),
            (Kind::TcpIngress, "db"),
            (Kind::UdpIngress, "dns"),
        ] {
            facts.configured.insert(object_key(kind, "ns", name));
        }
        let now = k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(
            "2026-01-01T00:00:00Z".parse().expect("time"),
        );
        let tcp = [address_entry("10.0.0.1")];
        let udp = [address_entry("udp.example.com")];
        let written = |addresses: &[Value], udp_addresses: &[Value]| {
            let inputs = Inputs {
                addresses,
                udp_addresses,
                ..Inputs::for_tests(&state, Some(&facts), &now)
            };
            plan(&loaded.snapshot, &inputs, PlanScope::Namespace("ns"))
                .into_iter()
                .map(|w| (w.name, w.status["loadBalancer"]["ingress"][0].clone()))
                .collect::<Vec<_>>()
        };
        let ip = json!({"ip": "10.0.0.1"});
        let host = json!({"hostname": "udp.example.com"});
        assert_eq!(
            written(&tcp, &udp),
            [
                ("web".to_string(), ip.clone()),
                ("db".to_string(), ip.clone()),
                ("dns".to_string(), host)
            ]
        );
        assert_eq!(
            written(&tcp, &[]),
            [("web".to_string(), ip.clone()), ("db".to_string(), ip)]
        );
    }

    fn service(json: Value) -> Service {
        serde_json::from_value(json).expect("Service")
    }

    #[test]
    fn load_balancer_addresses_win_over_cluster_ips() {
        let s = service(json!({
            "metadata": {"name": "kong-proxy"},
            "spec": {"clusterIP": "10.0.0.5", "clusterIPs": ["10.0.0.5"]},
            "status": {"loadBalancer": {"ingress": [{"ip": "1.2.3.4"}, {"hostname": "lb.example.com"}]}}
        }));
        assert_eq!(
            service_addresses(&s),
            vec![
                json!({"ip": "1.2.3.4"}),
                json!({"hostname": "lb.example.com"})
            ]
        );
        let s = service(json!({
            "metadata": {"name": "kong-proxy"},
            "spec": {"clusterIP": "10.0.0.5", "clusterIPs": ["10.0.0.5", "fd00::5"]}
        }));
        assert_eq!(
            service_addresses(&s),
            vec![json!({"ip": "10.0.0.5"}), json!({"ip": "fd00::5"})]
        );
        let headless = service(json!({"metadata": {"name": "h"}, "spec": {"clusterIP": "None"}}));
        assert!(service_addresses(&headless).is_empty());
    }

    #[test]
    fn fixed_addresses_are_ips_or_hostnames() {
        assert_eq!(address_entry("192.0.2.1"), json!({"ip": "192.0.2.1"}));
        assert_eq!(address_entry("2001:db8::1"), json!({"ip": "2001:db8::1"}));
        assert_eq!(
            address_entry("kong.example.com"),
            json!({"hostname": "kong.example.com"})
        );
    }
}
