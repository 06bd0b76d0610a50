//! `KongUpstreamPolicy` (configuration.konghq.com/v1beta1): load-balancing and health-check
//! settings of the Kong upstreams created for the Services that reference the policy with the
//! `konghq.com/upstream-policy` annotation.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::core::NamespaceResourceScope;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::schema::{self, CATEGORIES, CrdNames, go_int};
use super::status::PolicyAncestorStatus;

/// KongUpstreamPolicy configures the load-balancing algorithm and health checks of the Kong
/// upstreams of the Services (and Gateway API routes' backends) annotated with it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(remote = "Self")]
#[schemars(
    transform = schema::root_object,
    transform = schema::cel_rules(RULES),
)]
pub struct KongUpstreamPolicy {
    #[serde(default)]
    #[schemars(skip)]
    pub metadata: ObjectMeta,
    /// Spec contains the configuration of the Kong upstream.
    // Optional like in KIC: a policy without `spec` is valid and means Kong's defaults.
    #[serde(default, skip_serializing_if = "KongUpstreamPolicySpec::is_empty")]
    pub spec: KongUpstreamPolicySpec,
    /// Status defines the current state of KongUpstreamPolicy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<KongUpstreamPolicyStatus>,
}

kube_object!(KongUpstreamPolicy {
    kind: "KongUpstreamPolicy",
    plural: "kongupstreampolicies",
    version: "v1beta1",
    scope: NamespaceResourceScope,
    short_names: ["kup"],
    status: KongUpstreamPolicyStatus,
});

impl kube::core::object::HasSpec for KongUpstreamPolicy {
    type Spec = KongUpstreamPolicySpec;

    fn spec(&self) -> &KongUpstreamPolicySpec {
        &self.spec
    }

    fn spec_mut(&mut self) -> &mut KongUpstreamPolicySpec {
        &mut self.spec
    }
}

impl KongUpstreamPolicy {
    /// A policy named `name` (namespace unset), like kube's derived `new`.
    pub fn new(name: &str, spec: KongUpstreamPolicySpec) -> Self {
        Self {
            metadata: ObjectMeta {
                name: Some(name.into()),
                ..ObjectMeta::default()
            },
            spec,
            status: None,
        }
    }

    fn crd_names() -> CrdNames {
        CrdNames {
            categories: &CATEGORIES,
            status_subresource: true,
            columns: Vec::new(),
            // Gateway API policy discovery (GEP-713): attached directly to its targets.
            labels: &[("gateway.networking.k8s.io/policy", "direct")],
            deprecation: None,
        }
    }
}

/// CEL rules on the whole object, verbatim from KIC (order matters for the equality test).
const RULES: &[(&str, &str)] = &[
    (
        "has(self.spec.hashOn) ? [has(self.spec.hashOn.input), has(self.spec.hashOn.cookie), has(self.spec.hashOn.header), has(self.spec.hashOn.uriCapture), has(self.spec.hashOn.queryArg)].filter(fieldSet, fieldSet == true).size() <= 1 : true",
        "Only one of spec.hashOn.(input|cookie|header|uriCapture|queryArg) can be set.",
    ),
    (
        "has(self.spec.hashOn) && has(self.spec.hashOn.cookie) ? has(self.spec.hashOn.cookiePath) : true",
        "When spec.hashOn.cookie is set, spec.hashOn.cookiePath is required.",
    ),
    (
        "has(self.spec.hashOn) && has(self.spec.hashOn.cookiePath) ? has(self.spec.hashOn.cookie) : true",
        "When spec.hashOn.cookiePath is set, spec.hashOn.cookie is required.",
    ),
    (
        r#"has(self.spec.hashOn) ? has(self.spec.algorithm) && (self.spec.algorithm == "consistent-hashing" || self.spec.algorithm == "sticky-sessions") : true"#,
        "spec.algorithm must be set to either 'consistent-hashing' or 'sticky-sessions' when spec.hashOn is set.",
    ),
    (
        "has(self.spec.hashOnFallback) ? [has(self.spec.hashOnFallback.input), has(self.spec.hashOnFallback.header), has(self.spec.hashOnFallback.uriCapture), has(self.spec.hashOnFallback.queryArg)].filter(fieldSet, fieldSet == true).size() <= 1 : true",
        "Only one of spec.hashOnFallback.(input|header|uriCapture|queryArg) can be set.",
    ),
    (
        r#"has(self.spec.hashOnFallback) ? has(self.spec.algorithm) && self.spec.algorithm == "consistent-hashing" : true"#,
        r#"spec.algorithm must be set to "consistent-hashing" when spec.hashOnFallback is set."#,
    ),
    (
        "has(self.spec.hashOn) && has(self.spec.hashOn.cookie) ? !has(self.spec.hashOnFallback) : true",
        "spec.hashOnFallback must not be set when spec.hashOn.cookie is set.",
    ),
    (
        "has(self.spec.healthchecks) && has(self.spec.healthchecks.passive) && has(self.spec.healthchecks.passive.healthy) ? !has(self.spec.healthchecks.passive.healthy.interval) : true",
        "spec.healthchecks.passive.healthy.interval must not be set.",
    ),
    (
        "has(self.spec.healthchecks) && has(self.spec.healthchecks.passive) && has(self.spec.healthchecks.passive.unhealthy) ? !has(self.spec.healthchecks.passive.unhealthy.interval) : true",
        "spec.healthchecks.passive.unhealthy.interval must not be set.",
    ),
    (
        "has(self.spec.stickySessions) ? (has(self.spec.hashOn) && has(self.spec.hashOn.input) && self.spec.hashOn.input == 'none' && !has(self.spec.hashOn.cookie) && !has(self.spec.hashOn.cookiePath) && !has(self.spec.hashOn.header) && !has(self.spec.hashOn.uriCapture) && !has(self.spec.hashOn.queryArg)) : true",
        "When spec.stickySessions is set, spec.hashOn.input must be set to 'none' (no other hash_on fields allowed).",
    ),
    (
        "has(self.spec.stickySessions) ? has(self.spec.stickySessions.cookie) : true",
        "spec.stickySessions.cookie is required when spec.stickySessions is set.",
    ),
    (
        r#"has(self.spec.stickySessions) ? (has(self.spec.algorithm) && self.spec.algorithm == "sticky-sessions") : true"#,
        "spec.algorithm must be set to 'sticky-sessions' when spec.stickySessions is set.",
    ),
];

/// Configuration of the Kong upstream.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct KongUpstreamPolicySpec {
    /// Algorithm is the load balancing algorithm to use.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub algorithm: Option<Algorithm>,
    /// Slots is the number of slots in the load balancer algorithm. If not set, the default
    /// value in Kong for the algorithm is used.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 10, max = 65536), transform = go_int)]
    pub slots: Option<i32>,
    /// HashOn defines how to calculate hash for consistent-hashing or sticky-sessions load
    /// balancing algorithm.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hash_on: Option<KongUpstreamHash>,
    /// HashOnFallback defines how to calculate hash for consistent-hashing load balancing
    /// algorithm if the primary hash function fails.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hash_on_fallback: Option<KongUpstreamHash>,
    /// Healthchecks defines the health check configurations in Kong.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub healthchecks: Option<KongUpstreamHealthcheck>,
    /// StickySessions defines the sticky session configuration for the upstream (Kong
    /// Enterprise; requires `hashOn.input: none`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sticky_sessions: Option<KongUpstreamStickySessions>,
}

impl KongUpstreamPolicySpec {
    /// True when nothing is set (serialized by omitting `spec`).
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

/// Load balancing algorithm of a Kong upstream.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Algorithm {
    RoundRobin,
    ConsistentHashing,
    LeastConnections,
    Latency,
    StickySessions,
}

impl Algorithm {
    /// Wire value, as Kong's `algorithm` field expects it.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::RoundRobin => "round-robin",
            Self::ConsistentHashing => "consistent-hashing",
            Self::LeastConnections => "least-connections",
            Self::Latency => "latency",
            Self::StickySessions => "sticky-sessions",
        }
    }
}

/// Hash input of consistent hashing: one predefined input or one parameterized source.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct KongUpstreamHash {
    /// Input allows using one of the predefined inputs (ip, consumer, path, none).
    /// Set this to `none` if you want to use sticky sessions.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub input: Option<HashInput>,
    /// Header is the name of the header to use as hash input.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub header: Option<String>,
    /// Cookie is the name of the cookie to use as hash input.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cookie: Option<String>,
    /// CookiePath is cookie path to set in the response headers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cookie_path: Option<String>,
    /// QueryArg is the name of the query argument to use as hash input.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub query_arg: Option<String>,
    /// URICapture is the name of the URI capture group to use as hash input.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uri_capture: Option<String>,
}

/// Predefined hash input.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum HashInput {
    Ip,
    Consumer,
    Path,
    None,
}

impl HashInput {
    /// Wire value, as Kong's `hash_on` field expects it.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Ip => "ip",
            Self::Consumer => "consumer",
            Self::Path => "path",
            Self::None => "none",
        }
    }
}

/// Health check configuration of a Kong upstream.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct KongUpstreamHealthcheck {
    /// Active configures active health check probing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub active: Option<KongUpstreamActiveHealthcheck>,
    /// Passive configures passive health check probing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub passive: Option<KongUpstreamPassiveHealthcheck>,
    /// Threshold is the minimum percentage of the upstream's targets' weight that must be
    /// available for the whole upstream to be considered healthy.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(transform = go_int)]
    pub threshold: Option<i32>,
}

/// Active health check probing.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct KongUpstreamActiveHealthcheck {
    /// Type determines whether to perform active health checks using HTTP or HTTPS, or just
    /// attempt a TCP connection.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub type_: Option<HealthcheckType>,
    /// Concurrency is the number of targets to check concurrently.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1), transform = go_int)]
    pub concurrency: Option<i32>,
    /// Headers is a list of HTTP headers to add to the probe request.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub headers: Option<BTreeMap<String, Vec<String>>>,
    /// Healthy configures thresholds and HTTP status codes to mark targets healthy for an
    /// upstream.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub healthy: Option<KongUpstreamHealthcheckHealthy>,
    /// Unhealthy configures thresholds and HTTP status codes to mark targets unhealthy for an
    /// upstream.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unhealthy: Option<KongUpstreamHealthcheckUnhealthy>,
    /// HTTPPath is the path to use in GET HTTP request to run as a probe.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(pattern(r"^/.*$"))]
    pub http_path: Option<String>,
    /// HTTPSSNI is the SNI to use in GET HTTPS request to run as a probe.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub https_sni: Option<String>,
    /// HTTPSVerifyCertificate is a boolean value that indicates if the certificate should be
    /// verified.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub https_verify_certificate: Option<bool>,
    /// Timeout is the probe timeout in seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0), transform = go_int)]
    pub timeout: Option<i32>,
}

/// Passive health checks (circuit breaker) based on proxied traffic.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct KongUpstreamPassiveHealthcheck {
    /// Type determines whether to perform passive health checks interpreting HTTP/HTTPS
    /// statuses, or just check for TCP connection success.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub type_: Option<HealthcheckType>,
    /// Healthy configures thresholds and HTTP status codes to mark targets healthy for an
    /// upstream.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub healthy: Option<KongUpstreamHealthcheckHealthy>,
    /// Unhealthy configures thresholds and HTTP status codes to mark targets unhealthy.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unhealthy: Option<KongUpstreamHealthcheckUnhealthy>,
}

/// Protocol of a health check.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum HealthcheckType {
    Http,
    Https,
    Tcp,
    Grpc,
    Grpcs,
}

impl HealthcheckType {
    /// Wire value, as Kong's health check `type` field expects it.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Http => "http",
            Self::Https => "https",
            Self::Tcp => "tcp",
            Self::Grpc => "grpc",
            Self::Grpcs => "grpcs",
        }
    }
}

/// Thresholds and HTTP status codes marking targets healthy.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct KongUpstreamHealthcheckHealthy {
    /// HTTPStatuses is a list of HTTP status codes that Kong considers a success.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(inner(range(min = 100, max = 599)), transform = go_int)]
    pub http_statuses: Option<Vec<i32>>,
    /// Interval is the interval between active health checks for an upstream in seconds when
    /// in a healthy state.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0), transform = go_int)]
    pub interval: Option<i32>,
    /// Successes is the number of successes to consider a target healthy.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0), transform = go_int)]
    pub successes: Option<i32>,
}

/// Thresholds and HTTP status codes marking targets unhealthy.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct KongUpstreamHealthcheckUnhealthy {
    /// HTTPFailures is the number of failures to consider a target unhealthy.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0), transform = go_int)]
    pub http_failures: Option<i32>,
    /// HTTPStatuses is a list of HTTP status codes that Kong considers a failure.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(inner(range(min = 100, max = 599)), transform = go_int)]
    pub http_statuses: Option<Vec<i32>>,
    /// Interval is the interval between active health checks for an upstream in seconds when
    /// in an unhealthy state.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0), transform = go_int)]
    pub interval: Option<i32>,
    /// TCPFailures is the number of TCP failures in a row to consider a target unhealthy.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0), transform = go_int)]
    pub tcp_failures: Option<i32>,
    /// Timeouts is the number of timeouts in a row to consider a target unhealthy.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0), transform = go_int)]
    pub timeouts: Option<i32>,
}

/// Cookie-based sticky sessions (Kong Enterprise).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct KongUpstreamStickySessions {
    /// Cookie is the name of the cookie to use for sticky sessions. Kong will generate this
    /// cookie if it doesn't exist in the request.
    #[schemars(length(min = 1))]
    pub cookie: String,
    /// CookiePath is the path to set in the cookie.
    #[serde(
        default = "default_cookie_path",
        skip_serializing_if = "Option::is_none"
    )]
    pub cookie_path: Option<String>,
}

// The API server defaults it too; serde does for objects that did not go through it.
fn default_cookie_path() -> Option<String> {
    Some("/".into())
}

/// Status of a KongUpstreamPolicy, per ancestor (Gateway API policy status).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct KongUpstreamPolicyStatus {
    /// Ancestors is a list of ancestor resources (usually Gateways) that are associated with
    /// the policy, and the status of the policy with respect to each ancestor.
    #[schemars(length(max = 16))]
    pub ancestors: Vec<PolicyAncestorStatus>,
}

#[cfg(test)]
#[path = "upstream_policy_tests.rs"]
mod tests;
