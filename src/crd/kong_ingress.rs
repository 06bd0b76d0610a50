//! `KongIngress` (configuration.konghq.com/v1, deprecated by KIC in favour of annotations and
//! KongUpstreamPolicy). KIC v3.5.13 still applies its `upstream` section to the upstreams of the
//! Services that name it in `konghq.com/override`; the CRD refuses `proxy` and `route` (its CEL
//! rules), which KIC no longer reads.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::core::NamespaceResourceScope;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::schema::{self, CrdNames, go_int};

const RULES: &[(&str, &str)] = &[
    (
        "!has(self.proxy)",
        "'proxy' field is no longer supported, use Service's annotations instead",
    ),
    (
        "!has(self.route)",
        "'route' field is no longer supported, use Ingress' annotations instead",
    ),
];

/// KongIngress is the Schema for the kongingresses API.
/// Deprecated: Use annotations and KongUpstreamPolicy instead. See https://developer.konghq.com/kubernetes-ingress-controller/migrate/kongingress/
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(remote = "Self")]
#[schemars(
    transform = schema::root_object,
    transform = schema::cel_rules(RULES),
)]
pub struct KongIngress {
    #[serde(default)]
    #[schemars(skip)]
    pub metadata: ObjectMeta,
    /// Upstream represents a virtual hostname and can be used to loadbalance
    /// incoming requests over multiple targets (e.g. Kubernetes `Services` can
    /// be a target, OR `Endpoints` can be targets).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upstream: Option<KongIngressUpstream>,
    /// Proxy defines additional connection options for the routes to be configured in the
    /// Kong Gateway, e.g. `connection_timeout`, `retries`, etc.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proxy: Option<KongIngressService>,
    /// Route define rules to match client requests.
    /// Each Route is associated with a Service,
    /// and a Service may have multiple Routes associated to it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub route: Option<KongIngressRoute>,
    /// KIC's CRD has a status subresource but no status schema.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(skip)]
    pub status: Option<serde_json::Value>,
}

kube_object!(KongIngress {
    kind: "KongIngress",
    plural: "kongingresses",
    version: "v1",
    scope: NamespaceResourceScope,
    short_names: ["ki"],
    status: serde_json::Value,
});

impl KongIngress {
    fn crd_names() -> CrdNames {
        CrdNames {
            // Unlike KIC's other CRDs, not in the `kong` category.
            categories: &["kong-ingress-controller"],
            status_subresource: true,
            columns: Vec::new(),
            labels: &[],
            deprecation: Some("configuration.konghq.com/v1 KongIngress is deprecated".into()),
        }
    }
}

/// The load-balancing algorithms a KongIngress accepts (Kong 3.10 also has `sticky-sessions`,
/// which only KongUpstreamPolicy can set).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum KongIngressAlgorithm {
    #[serde(rename = "round-robin")]
    RoundRobin,
    #[serde(rename = "consistent-hashing")]
    ConsistentHashing,
    #[serde(rename = "least-connections")]
    LeastConnections,
    #[serde(rename = "latency")]
    Latency,
}

impl KongIngressAlgorithm {
    /// Kong's name of the algorithm.
    pub fn as_str(self) -> &'static str {
        match self {
            KongIngressAlgorithm::RoundRobin => "round-robin",
            KongIngressAlgorithm::ConsistentHashing => "consistent-hashing",
            KongIngressAlgorithm::LeastConnections => "least-connections",
            KongIngressAlgorithm::Latency => "latency",
        }
    }
}

/// Upstream represents a virtual hostname and can be used to loadbalance
/// incoming requests over multiple targets (e.g. Kubernetes `Services` can
/// be a target, OR `Endpoints` can be targets).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct KongIngressUpstream {
    /// HostHeader is The hostname to be used as Host header
    /// when proxying requests through Kong.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_header: Option<String>,
    /// Algorithm is the load balancing algorithm to use.
    /// Accepted values are: "round-robin", "consistent-hashing", "least-connections", "latency".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub algorithm: Option<KongIngressAlgorithm>,
    /// Slots is the number of slots in the load balancer algorithm.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 10), transform = go_int)]
    pub slots: Option<i64>,
    /// Healthchecks defines the health check configurations in Kong.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub healthchecks: Option<KongIngressHealthchecks>,
    /// HashOn defines what to use as hashing input.
    /// Accepted values are: "none", "consumer", "ip", "header", "cookie", "path", "query_arg", "uri_capture".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hash_on: Option<String>,
    /// HashFallback defines What to use as hashing input
    /// if the primary hash_on does not return a hash.
    /// Accepted values are: "none", "consumer", "ip", "header", "cookie".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hash_fallback: Option<String>,
    /// HashOnHeader defines the header name to take the value from as hash input.
    /// Only required when "hash_on" is set to "header".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hash_on_header: Option<String>,
    /// HashFallbackHeader is the header name to take the value from as hash input.
    /// Only required when "hash_fallback" is set to "header".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hash_fallback_header: Option<String>,
    /// The cookie name to take the value from as hash input.
    /// Only required when "hash_on" or "hash_fallback" is set to "cookie".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hash_on_cookie: Option<String>,
    /// The cookie path to set in the response headers.
    /// Only required when "hash_on" or "hash_fallback" is set to "cookie".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hash_on_cookie_path: Option<String>,
    /// HashOnQueryArg is the query string parameter whose value is the hash input when "hash_on" is set to "query_arg".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hash_on_query_arg: Option<String>,
    /// HashFallbackQueryArg is the "hash_fallback" version of HashOnQueryArg.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hash_fallback_query_arg: Option<String>,
    /// HashOnURICapture is the name of the capture group whose value is the hash input when "hash_on" is set to
    /// "uri_capture".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hash_on_uri_capture: Option<String>,
    /// HashFallbackURICapture is the "hash_fallback" version of HashOnURICapture.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hash_fallback_uri_capture: Option<String>,
}

/// Healthchecks defines the health check configurations in Kong (Kong's own field names).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct KongIngressHealthchecks {
    /// ActiveHealthcheck configures active health check probing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active: Option<KongIngressActiveHealthcheck>,
    /// PassiveHealthcheck configures passive checks around
    /// passive health checks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub passive: Option<KongIngressPassiveHealthcheck>,
    // `go_int` drops schemars' `format` (KIC's schema has none for this float either).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(transform = go_int)]
    pub threshold: Option<f64>,
}

/// ActiveHealthcheck configures active health check probing.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct KongIngressActiveHealthcheck {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1), transform = go_int)]
    pub concurrency: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub headers: Option<BTreeMap<String, Vec<String>>>,
    /// Healthy configures thresholds and HTTP status codes
    /// to mark targets healthy for an upstream.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub healthy: Option<KongIngressHealthy>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(pattern(r"^/.*$"))]
    pub http_path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub https_sni: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub https_verify_certificate: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0), transform = go_int)]
    pub timeout: Option<i64>,
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub type_: Option<String>,
    /// Unhealthy configures thresholds and HTTP status codes
    /// to mark targets unhealthy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unhealthy: Option<KongIngressUnhealthy>,
}

/// PassiveHealthcheck configures passive checks around
/// passive health checks.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct KongIngressPassiveHealthcheck {
    /// Healthy configures thresholds and HTTP status codes
    /// to mark targets healthy for an upstream.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub healthy: Option<KongIngressHealthy>,
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub type_: Option<String>,
    /// Unhealthy configures thresholds and HTTP status codes
    /// to mark targets unhealthy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unhealthy: Option<KongIngressUnhealthy>,
}

/// Healthy configures thresholds and HTTP status codes
/// to mark targets healthy for an upstream.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct KongIngressHealthy {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(transform = go_int)]
    pub http_statuses: Option<Vec<i64>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0), transform = go_int)]
    pub interval: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0), transform = go_int)]
    pub successes: Option<i64>,
}

/// Unhealthy configures thresholds and HTTP status codes
/// to mark targets unhealthy.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct KongIngressUnhealthy {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0), transform = go_int)]
    pub http_failures: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(transform = go_int)]
    pub http_statuses: Option<Vec<i64>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0), transform = go_int)]
    pub interval: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0), transform = go_int)]
    pub tcp_failures: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0), transform = go_int)]
    pub timeouts: Option<i64>,
}

/// Proxy: KIC v3.5.13 no longer reads it and the CRD refuses it; kept in the schema as KIC's.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct KongIngressService {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0), transform = go_int)]
    pub connect_timeout: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(pattern(r"^/.*$"))]
    pub path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<KongProtocol>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0), transform = go_int)]
    pub read_timeout: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0), transform = go_int)]
    pub retries: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0), transform = go_int)]
    pub write_timeout: Option<i64>,
}

/// Route: KIC v3.5.13 no longer reads it and the CRD refuses it; kept in the schema as KIC's.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct KongIngressRoute {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub headers: Option<BTreeMap<String, Vec<String>>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(transform = go_int)]
    pub https_redirect_status_code: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub methods: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path_handling: Option<PathHandling>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preserve_host: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocols: Option<Vec<KongProtocol>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(transform = go_int)]
    pub regex_priority: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_buffering: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_buffering: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snis: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strip_path: Option<bool>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum KongProtocol {
    Http,
    Https,
    Grpc,
    Grpcs,
    Tcp,
    Tls,
    Udp,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum PathHandling {
    V0,
    V1,
}
