//! `TCPIngress` and `UDPIngress` (configuration.konghq.com/v1beta1, deprecated by KIC in favour
//! of Gateway API TCPRoute/UDPRoute/TLSRoute): rules mapping a Kong stream listen port (and for
//! TCP an SNI) to a Service port.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::core::NamespaceResourceScope;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::schema::{self, CATEGORIES, CrdNames, age_column, column};

/// TCPIngress is the Schema for the tcpingresses API.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(remote = "Self", rename_all = "camelCase")]
#[schemars(transform = schema::root_object)]
pub struct TcpIngress {
    #[serde(default)]
    #[schemars(skip)]
    pub metadata: ObjectMeta,
    /// Spec is the TCPIngress specification.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spec: Option<TcpIngressSpec>,
    /// TCPIngressStatus defines the observed state of TCPIngress.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<L4IngressStatus>,
}

kube_object!(TcpIngress {
    kind: "TCPIngress",
    plural: "tcpingresses",
    version: "v1beta1",
    scope: NamespaceResourceScope,
    short_names: [],
    status: L4IngressStatus,
});

/// UDPIngress is the Schema for the udpingresses API.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(remote = "Self", rename_all = "camelCase")]
#[schemars(transform = schema::root_object)]
pub struct UdpIngress {
    #[serde(default)]
    #[schemars(skip)]
    pub metadata: ObjectMeta,
    /// Spec is the UDPIngress specification.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spec: Option<UdpIngressSpec>,
    /// UDPIngressStatus defines the observed state of UDPIngress.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<L4IngressStatus>,
}

kube_object!(UdpIngress {
    kind: "UDPIngress",
    plural: "udpingresses",
    version: "v1beta1",
    scope: NamespaceResourceScope,
    short_names: [],
    status: L4IngressStatus,
});

/// Both kinds' printer columns and deprecation, as KIC's CRDs have them.
fn crd_names(kind: &str) -> CrdNames {
    CrdNames {
        categories: &CATEGORIES,
        status_subresource: true,
        columns: vec![
            column(
                "Address",
                "string",
                ".status.loadBalancer.ingress[*].ip",
                Some("Address of the load balancer"),
                None,
            ),
            age_column(),
        ],
        labels: &[],
        deprecation: Some(format!(
            "configuration.konghq.com/v1beta1 {kind} is deprecated"
        )),
    }
}

impl TcpIngress {
    fn crd_names() -> CrdNames {
        crd_names("TCPIngress")
    }
}

impl UdpIngress {
    fn crd_names() -> CrdNames {
        crd_names("UDPIngress")
    }
}

impl TcpIngress {
    /// The backends of its rules, in order.
    pub fn backends(&self) -> impl Iterator<Item = &IngressBackend> {
        self.spec.iter().flat_map(|s| &s.rules).map(|r| &r.backend)
    }
}

impl UdpIngress {
    /// The backends of its rules, in order.
    pub fn backends(&self) -> impl Iterator<Item = &IngressBackend> {
        self.spec.iter().flat_map(|s| &s.rules).map(|r| &r.backend)
    }
}

/// TCPIngressSpec defines the desired state of TCPIngress.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TcpIngressSpec {
    /// A list of rules used to configure the Ingress.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<TcpIngressRule>,
    /// TLS configuration. This is similar to the `tls` section in the Ingress resource in
    /// networking.v1beta1 group. The mapping of SNIs to TLS cert-key pair defined here will be
    /// used for HTTP Ingress rules as well.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tls: Vec<IngressTls>,
}

/// TCPIngressRule represents a rule to apply against incoming requests, matched on the port
/// Kong listens on (and the SNI, with TLS).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TcpIngressRule {
    /// Host is the fully qualified domain name of a network host, as defined by RFC 3986. If a
    /// Host is specified, the protocol must be TLS over TCP.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// Port is the port on which to accept TCP or TLS over TCP sessions and route.
    #[schemars(range(min = 1, max = 65535))]
    pub port: i32,
    /// Backend defines the referenced service endpoint to which the traffic will be forwarded.
    pub backend: IngressBackend,
}

/// UDPIngressSpec defines the desired state of UDPIngress.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct UdpIngressSpec {
    /// A list of rules used to configure the Ingress.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<UdpIngressRule>,
}

/// UDPIngressRule represents a rule to apply against incoming requests, matched on the port
/// Kong listens on.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct UdpIngressRule {
    /// Port indicates the port for the Kong proxy to accept incoming traffic on, which will then
    /// be routed to the service Backend.
    #[schemars(range(min = 1, max = 65535))]
    pub port: i32,
    /// Backend defines the Kubernetes service which accepts traffic from the listening Port
    /// defined above.
    pub backend: IngressBackend,
}

/// IngressBackend describes all endpoints for a given service and port.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct IngressBackend {
    /// Specifies the name of the referenced service.
    #[schemars(length(min = 1))]
    pub service_name: String,
    /// Specifies the port of the referenced service.
    #[schemars(range(min = 1, max = 65535))]
    pub service_port: i32,
}

/// IngressTLS describes the transport layer security.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct IngressTls {
    /// Hosts are a list of hosts included in the TLS certificate. The values in this list must
    /// match the name/s used in the tlsSecret.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hosts: Vec<String>,
    /// SecretName is the name of the secret used to terminate SSL traffic.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_name: Option<String>,
}

/// The status both kinds share: the addresses of the load balancer, as an Ingress has.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct L4IngressStatus {
    /// LoadBalancer contains the current status of the load-balancer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub load_balancer: Option<LoadBalancerStatus>,
}

/// LoadBalancerStatus represents the status of a load-balancer.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct LoadBalancerStatus {
    /// Ingress is a list containing ingress points for the load-balancer.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(extend("x-kubernetes-list-type" = "atomic"))]
    pub ingress: Vec<LoadBalancerIngress>,
}

/// LoadBalancerIngress represents the status of a load-balancer ingress point.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct LoadBalancerIngress {
    /// Hostname is set for load-balancer ingress points that are DNS based.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
    /// IP is set for load-balancer ingress points that are IP based.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip: Option<String>,
    /// IPMode specifies how the load-balancer IP behaves.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip_mode: Option<String>,
    /// Ports is a list of records of service ports.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(extend("x-kubernetes-list-type" = "atomic"))]
    pub ports: Vec<PortStatus>,
}

/// PortStatus represents the error condition of a service port.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PortStatus {
    /// Error is to record the problem with the service port.
    #[schemars(
        length(max = 316),
        pattern(
            r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$"
        )
    )]
    pub error: String,
    /// Port is the port number of the service port of which status is recorded here.
    pub port: i32,
    /// Protocol is the protocol of the service port of which status is recorded here.
    pub protocol: String,
}
