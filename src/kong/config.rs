//! Kong declarative configuration (`_format_version: "3.0"`) as kingress emits it.
//!
//! Struct fields are declared in alphabetical order and optional fields are skipped
//! when unset, so serialising gives the same key order as KIC's golden files
//! (deck sorts keys) and byte-identical output for equal configs.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub const FORMAT_VERSION: &str = "3.0";

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct KongConfig {
    #[serde(rename = "_format_version")]
    pub format_version: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ca_certificates: Vec<CaCertificate>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub certificates: Vec<Certificate>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub consumers: Vec<Consumer>,
    /// Global plugins (not scoped to a service or route).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub plugins: Vec<Plugin>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub services: Vec<Service>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub upstreams: Vec<Upstream>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub vaults: Vec<Vault>,
}

/// A Kong vault (KongVault): `{vault://<prefix>/...}` references resolve through it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Vault {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<serde_json::Map<String, serde_json::Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub id: String,
    /// The backend (`env` in Kong OSS).
    pub name: String,
    pub prefix: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
}

impl KongConfig {
    pub fn new() -> Self {
        KongConfig {
            format_version: FORMAT_VERSION.to_string(),
            ..Default::default()
        }
    }

    pub fn to_yaml(&self) -> Result<String, serde_norway::Error> {
        let text = serde_norway::to_string(self)?;
        // serde_norway single-quotes "3.0"; KIC's files (and deck) use double quotes.
        Ok(match text.strip_prefix("_format_version: '3.0'") {
            Some(rest) => format!("_format_version: \"3.0\"{rest}"),
            None => text,
        })
    }

    pub fn to_json(&self) -> Result<String, serde_json::Error> {
        serde_json::to_string_pretty(self)
    }

    pub fn upstream(&self, name: &str) -> Option<&Upstream> {
        self.upstreams.iter().find(|u| u.name == name)
    }

    pub fn service(&self, name: &str) -> Option<&Service> {
        self.services.iter().find(|s| s.name == name)
    }

    /// Every route, with the service it belongs to.
    pub fn routes(&self) -> impl Iterator<Item = (&Service, &Route)> {
        self.services
            .iter()
            .flat_map(|s| s.routes.iter().map(move |r| (s, r)))
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Service {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ca_certificates: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// The certificate's ID (KIC's declarative config names the foreign key by ID alone).
    pub client_certificate: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connect_timeout: Option<i64>,
    pub host: String,
    pub id: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub plugins: Vec<Plugin>,
    /// None: Kong's default (80), as KIC leaves it on a Gateway route's service without a
    /// backend.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<i64>,
    pub protocol: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_timeout: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retries: Option<i64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub routes: Vec<Route>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_verify: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_verify_depth: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub write_timeout: Option<i64>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Route {
    /// Stream routes' destination ports (TCPRoute, UDPRoute: their listeners' ports).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub destinations: Vec<Destination>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, Vec<String>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hosts: Vec<String>,
    /// Kong's expressions router: the route's expression (traditional fields then unset).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expression: Option<String>,
    pub https_redirect_status_code: i64,
    pub id: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub methods: Vec<String>,
    pub name: String,
    /// Empty: unset (expression routes, as KIC sends them).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub path_handling: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub paths: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub plugins: Vec<Plugin>,
    /// None: Kong's default (false), as KIC leaves it on GRPCRoute routes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preserve_host: Option<bool>,
    /// Kong's expressions router: the route's priority.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<u64>,
    /// Empty: Kong's default (http, https), as KIC v3.5.13 leaves it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub protocols: Vec<String>,
    /// Ingress routes carry KIC's explicit defaults for the next fields; HTTPRoute routes
    /// leave them to Kong unless annotated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub regex_priority: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_buffering: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_buffering: Option<bool>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub snis: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strip_path: Option<bool>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
}

/// One of a stream route's `destinations` (Kong's `typedefs.destinations`: an IP or CIDR,
/// a port, or both).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Destination {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<i64>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Upstream {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub algorithm: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hash_fallback: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hash_fallback_header: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hash_fallback_query_arg: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hash_fallback_uri_capture: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hash_on: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hash_on_cookie: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hash_on_cookie_path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hash_on_header: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hash_on_query_arg: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hash_on_uri_capture: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub healthchecks: Option<Healthchecks>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_header: Option<String>,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slots: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sticky_sessions_cookie: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sticky_sessions_cookie_path: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub targets: Vec<Target>,
}

impl Upstream {
    /// The balancer Kong runs. Kong's upstream schema rewrites the algorithm from `hash_on`
    /// when it stores the upstream, but only when `hash_on` is in the pushed config (Kong 3.10
    /// upstreams.lua:300-345, `shorthand_fields`, run by init.lua:1815-1858 for present keys):
    /// "none" gives round-robin, any other value consistent-hashing; least-connections and
    /// latency clear `hash_on` first. Without `hash_on` the algorithm stays as configured.
    pub fn effective_algorithm(&self) -> &str {
        let requested = self.algorithm.as_deref().unwrap_or("round-robin");
        match (requested, self.hash_on.as_deref()) {
            ("least-connections" | "latency" | "sticky-sessions", _) => requested,
            (_, Some("none")) => "round-robin",
            (_, Some(_)) => "consistent-hashing",
            (_, None) => requested,
        }
    }

    /// Consistent hashing with nothing to hash: `hash_on` unset (Kong stores "none"). Kong's
    /// balancer then hashes the empty string for every request (Kong 3.10
    /// kong/runloop/balancer/init.lua:109-111 returns no value, line 332 uses `""`), so the
    /// one target owning that wheel position takes all traffic.
    pub fn hashes_nothing(&self) -> bool {
        self.effective_algorithm() == "consistent-hashing"
            && self.hash_on.as_deref().is_none_or(|h| h == "none")
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Target {
    pub target: String,
    /// Unset (Kong's default, 100) for backends without a route weight, as KIC emits them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight: Option<u32>,
}

impl Target {
    /// The weight Kong applies.
    pub fn effective_weight(&self) -> u32 {
        self.weight.unwrap_or(DEFAULT_TARGET_WEIGHT)
    }
}

/// Kong's target weight when none is given.
pub const DEFAULT_TARGET_WEIGHT: u32 = 100;

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Healthchecks {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active: Option<ActiveHealthcheck>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub passive: Option<PassiveHealthcheck>,
    /// A percentage: written as an integer when whole (`25`, as KIC's go-kong writes it).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "whole_as_integer"
    )]
    pub threshold: Option<f64>,
}

fn whole_as_integer<S: serde::Serializer>(value: &Option<f64>, s: S) -> Result<S::Ok, S::Error> {
    match value {
        Some(v) if v.fract() == 0.0 && v.abs() < 2f64.powi(53) => s.serialize_i64(*v as i64),
        Some(v) => s.serialize_f64(*v),
        None => s.serialize_none(),
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ActiveHealthcheck {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub concurrency: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub headers: Option<BTreeMap<String, Vec<String>>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub healthy: Option<Healthy>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub https_sni: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub https_verify_certificate: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<i64>,
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unhealthy: Option<Unhealthy>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PassiveHealthcheck {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub healthy: Option<Healthy>,
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unhealthy: Option<Unhealthy>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Healthy {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_statuses: Option<Vec<i64>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub successes: Option<i64>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Unhealthy {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_failures: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_statuses: Option<Vec<i64>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tcp_failures: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeouts: Option<i64>,
}

fn enabled_default() -> bool {
    true
}

fn is_enabled(enabled: &bool) -> bool {
    *enabled
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Plugin {
    /// Left out when empty, as KIC v3.5.13 leaves it (a KongPlugin without `config`, a header
    /// modifier without lists); Kong fills its defaults either way.
    #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
    pub config: serde_json::Map<String, serde_json::Value>,
    /// Consumer the plugin applies to, by username (else custom_id), as KIC names it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consumer: Option<String>,
    /// Written only when false, as KIC v3.5.13 writes it (kongstate/plugin.go lines 334-336);
    /// Kong's default is true.
    #[serde(default = "enabled_default", skip_serializing_if = "is_enabled")]
    pub enabled: bool,
    /// Empty for the plugins KIC writes without one (those of HTTPRoute filters, nested in
    /// their route: v3.5.13 subtranslator/httproute.go lines 1076-1080); Kong derives it.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance_name: Option<String>,
    pub name: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub protocols: Vec<String>,
    /// Route the plugin applies to, by name (top-level plugins only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub route: Option<String>,
    /// Service the plugin applies to, by name (top-level plugins only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
}

/// A CA certificate Kong services verify their upstreams with (`ca_certificates` by ID).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CaCertificate {
    pub cert: String,
    pub id: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Certificate {
    pub cert: String,
    pub id: String,
    pub key: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub snis: Vec<Sni>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
}

/// A Kong consumer with its credentials nested, as KIC's deck output writes it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Consumer {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub acls: Vec<Credential>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub basicauth_credentials: Vec<Credential>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_id: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hmacauth_credentials: Vec<Credential>,
    /// KIC derives it from the username; a consumer with only a custom_id has none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub jwt_secrets: Vec<Credential>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keyauth_credentials: Vec<Credential>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub oauth2_credentials: Vec<Credential>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
}

/// A credential's fields (each type has its own, from Kong's plugin DAOs), keys sorted.
pub type Credential = BTreeMap<String, serde_json::Value>;

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Sni {
    /// Back-reference KIC emits (Kong 3.8 and older need it when SNIs are nested and the
    /// config is validated twice, e.g. beside basic-auth credentials: Kong PR #14082).
    pub certificate: CertificateRef,
    pub name: String,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CertificateRef {
    pub id: String,
}
