//! KIC-compatible entity names, tags and IDs.
//!
//! KIC derives IDs as UUIDv5(UUIDv5(KIC_NAMESPACE, "<plural entity>"), key), where the key
//! is the entity name (plugins: `<plugin>[:service/<svc>][:route/<route>]`). Keeping the
//! same IDs means switching from KIC changes nothing in Kong.

use std::collections::BTreeMap;

use uuid::Uuid;

use kube::ResourceExt;

use crate::kinds::{Kind, KindSpec, ObjectKey};

/// The root namespace KIC (and Kong's declarative loader) use for entity IDs.
const KIC_NAMESPACE: Uuid = Uuid::from_u128(0xfd02801f_0957_4a15_a55a_c8d9606f30b5);

/// The kinds of Kong entity that get a deterministic ID.
#[derive(Clone, Copy, Debug)]
pub enum Entity {
    Service,
    Route,
    Plugin,
    Consumer,
    Vault,
}

impl Entity {
    fn plural(self) -> &'static str {
        match self {
            Entity::Service => "services",
            Entity::Route => "routes",
            Entity::Plugin => "plugins",
            Entity::Consumer => "consumers",
            Entity::Vault => "vaults",
        }
    }
}

pub fn entity_id(entity: Entity, key: &str) -> String {
    // The per-entity namespaces are fixed: derive each once.
    static NAMESPACES: std::sync::LazyLock<[Uuid; 5]> = std::sync::LazyLock::new(|| {
        [
            Entity::Service,
            Entity::Route,
            Entity::Plugin,
            Entity::Consumer,
            Entity::Vault,
        ]
        .map(|e| Uuid::new_v5(&KIC_NAMESPACE, e.plural().as_bytes()))
    });
    let ns = &NAMESPACES[entity as usize];
    Uuid::new_v5(ns, key.as_bytes()).to_string()
}

/// `<ns>.<svc>.<port>`: the Kong service of an Ingress backend.
pub fn ingress_service_name(namespace: &str, service: &str, port: &str) -> String {
    format!("{namespace}.{service}.{port}")
}

/// `<svc>.<ns>.<port>.svc`: the upstream (and Kong service host) of a Kubernetes Service port.
pub fn upstream_name(namespace: &str, service: &str, port: &str) -> String {
    format!("{service}.{namespace}.{port}.svc")
}

/// `<ns>.<ingress>.<svc>.<host>.<port>`, with `*` in the host written as `_`.
pub fn ingress_route_name(
    namespace: &str,
    ingress: &str,
    service: &str,
    host: &str,
    port: &str,
) -> String {
    let host = host.replace('*', "_");
    format!("{namespace}.{ingress}.{service}.{host}.{port}")
}

/// `httproute.<ns>.<name>.<rule>`: service and upstream of an HTTPRoute rule group.
pub fn httproute_service_name(namespace: &str, route: &str, rule: usize) -> String {
    format!("httproute.{namespace}.{route}.{rule}")
}

/// `httproute.<ns>.<name>.<rule>.<match>`.
pub fn httproute_route_name(namespace: &str, route: &str, rule: usize, matched: usize) -> String {
    format!("httproute.{namespace}.{route}.{rule}.{matched}")
}

/// `grpcroute.<ns>.<name>.<rule>` (KIC: one Kong service per GRPCRoute rule).
pub fn grpcroute_service_name(namespace: &str, route: &str, rule: usize) -> String {
    format!("grpcroute.{namespace}.{route}.{rule}")
}

/// `grpcroute.<ns>.<name>.<rule>.<match>`.
pub fn grpcroute_route_name(namespace: &str, route: &str, rule: usize, matched: usize) -> String {
    format!("grpcroute.{namespace}.{route}.{rule}.{matched}")
}

/// Identity of a Kubernetes object, as tags and problems name it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize)]
pub struct ObjectRef {
    pub kind: Kind,
    /// The version the object was read at.
    pub version: &'static str,
    pub namespace: Option<String>,
    pub name: String,
    pub uid: Option<String>,
}

impl ObjectRef {
    /// An object of `kind` read at its preferred version.
    pub fn new(kind: Kind, namespace: Option<&str>, name: &str) -> Self {
        ObjectRef {
            kind,
            version: kind.info().versions[0],
            namespace: namespace.map(str::to_string),
            name: name.to_string(),
            uid: None,
        }
    }

    /// `object` as translation names it: its kind, namespace (none for cluster-scoped
    /// kinds), name and uid.
    pub fn of<K: KindSpec>(object: &K) -> Self {
        let meta = object.meta();
        let namespace = meta
            .namespace
            .as_deref()
            .filter(|_| K::KIND.info().namespaced);
        let mut this = ObjectRef::new(K::KIND, namespace, &object.name_any());
        this.version = crate::kinds::read_version(K::KIND, meta);
        this.with_uid(meta.uid.as_deref())
    }

    pub fn with_uid(mut self, uid: Option<&str>) -> Self {
        self.uid = uid.map(str::to_string);
        self
    }

    /// API group; empty for the core group.
    pub fn group(&self) -> &'static str {
        self.kind.info().group
    }

    /// `apiVersion` as the object was read.
    pub fn api_version(&self) -> String {
        self.kind.info().api_version(self.version)
    }

    /// The object's key (kind, namespace, name).
    pub fn key(&self) -> ObjectKey {
        ObjectKey::new(
            self.kind,
            self.namespace.as_deref().unwrap_or_default(),
            &self.name,
        )
    }

    fn sort_key(&self) -> (&str, &str, &str, &Option<String>, &str, &Option<String>) {
        let (kind, group) = (self.kind.as_str(), self.group());
        (
            kind,
            group,
            self.version,
            &self.namespace,
            &self.name,
            &self.uid,
        )
    }
}

// By kind name, then the rest: problems are sorted by object and print in this order.
impl PartialOrd for ObjectRef {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for ObjectRef {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.sort_key().cmp(&other.sort_key())
    }
}

impl std::fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.namespace {
            Some(ns) => write!(f, "{} {}/{}", self.kind, ns, self.name),
            None => write!(f, "{} {}", self.kind, self.name),
        }
    }
}

/// KIC's tags for an entity produced from `object`: name, namespace, kind, uid (when set),
/// group (when non-empty), version, then the object's `konghq.com/tags` values.
pub fn tags(object: &ObjectRef, annotations: Option<&BTreeMap<String, String>>) -> Vec<String> {
    tags_with(object, &[], annotations)
}

/// [`tags`] with `extra` tags (e.g. `k8s-named-route-rule:<rule>`) before the annotation's.
pub fn tags_with(
    object: &ObjectRef,
    extra: &[String],
    annotations: Option<&BTreeMap<String, String>>,
) -> Vec<String> {
    fn tag(prefix: &str, value: &str) -> String {
        let mut t = String::with_capacity(prefix.len() + value.len());
        t.push_str(prefix);
        t.push_str(value);
        t
    }
    let mut tags = Vec::with_capacity(6 + extra.len());
    tags.push(tag("k8s-name:", &object.name));
    if let Some(ns) = &object.namespace {
        tags.push(tag("k8s-namespace:", ns));
    }
    tags.push(tag("k8s-kind:", object.kind.as_str()));
    if let Some(uid) = &object.uid {
        tags.push(tag("k8s-uid:", uid));
    }
    if !object.group().is_empty() {
        tags.push(tag("k8s-group:", object.group()));
    }
    tags.push(tag("k8s-version:", object.version));
    tags.extend(extra.iter().cloned());
    if let Some(values) = annotations.and_then(|a| a.get("konghq.com/tags")) {
        for t in values.split(',').map(str::trim).filter(|t| !t.is_empty()) {
            if !tags.iter().any(|have| have == t) {
                tags.push(t.to_string());
            }
        }
    }
    tags
}

/// Why `host` is not a hostname the apiserver admits on an Ingress rule or an HTTPRoute: a
/// lowercase RFC 1123 subdomain of at most 253 characters, optionally after a leading `*.`.
/// Offline nothing else checks it (Kong refuses e.g. `straße.example`).
pub fn hostname_error(host: &str) -> Option<String> {
    if host.len() > 253 {
        return Some(format!("{host:?} is longer than 253 characters"));
    }
    let label_ok = |l: &str| {
        !l.is_empty()
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    };
    let name = host.strip_prefix("*.").unwrap_or(host);
    if name.split('.').all(label_ok) {
        return None;
    }
    let hint = if host.is_ascii() {
        ""
    } else {
        " (write an internationalized name in its ASCII form, e.g. xn--bcher-kva.example)"
    };
    Some(format!(
        "{host:?} is not a valid hostname: lowercase letters, digits, '-' and '.' (RFC 1123), optionally after a leading \"*.\"{hint}"
    ))
}

/// `--cluster-domain` (KIC's flag, which takes any string): empty, or a DNS name without a
/// wildcard, since Kong refuses a target whose host is not one.
pub fn parse_cluster_domain(s: &str) -> Result<String, String> {
    if s.is_empty() {
        return Ok(String::new());
    }
    if s.starts_with("*.") {
        return Err(format!("{s:?} is not a DNS name: no wildcard"));
    }
    match hostname_error(s) {
        Some(e) => Err(e),
        None => Ok(s.to_string()),
    }
}

/// Why `name` cannot be matched as a request header: not an HTTP token (RFC 9110, as
/// Gateway API's CRD requires), or outside what Kong accepts in a route's headers
/// (letters, digits, `-`, `_`; never `Host`).
pub fn header_name_error(name: &str) -> Option<String> {
    let token = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c);
    if name.is_empty() || name.len() > 256 || !name.chars().all(token) {
        return Some(format!(
            "{name:?} is not a valid HTTP header name (1 to 256 of letters, digits and !#$%&'*+-.^_`|~)"
        ));
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Some(format!(
            "{name:?} is a valid HTTP header name, but Kong matches only header names of letters, digits, '-' and '_'"
        ));
    }
    if name.eq_ignore_ascii_case("host") {
        return Some("Kong matches the Host header through the hostnames only".into());
    }
    None
}

/// KIC's placeholder tags for a Kong service whose Kubernetes Service does not exist (v3.5.13
/// internal/dataplane/translator/ingressrules.go lines 334-345).
pub fn unknown_service_tags() -> Vec<String> {
    [
        "k8s-name:UNKNOWN",
        "k8s-namespace:UNKNOWN",
        "k8s-kind:Service",
        "k8s-uid:00000000-0000-0000-0000-000000000000",
        "k8s-group:core",
        "k8s-version:v1",
    ]
    .map(String::from)
    .to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cluster_domain_is_a_dns_name_or_empty() {
        assert_eq!(parse_cluster_domain(""), Ok(String::new()));
        assert_eq!(
            parse_cluster_domain("cluster.local"),
            Ok("cluster.local".into())
        );
        for bad in [
            "Cluster.Local",
            "cluster.local.",
            "*.local",
            "a_b.local",
            ".local",
        ] {
            assert!(parse_cluster_domain(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn service_id_matches_kic() {
        // Worked example from KIC's golden output.
        assert_eq!(
            entity_id(Entity::Service, "httproute.default.httpbin.1"),
            "bbf738ea-19e7-5277-8a48-36d555e5ae94"
        );
        assert_eq!(
            entity_id(Entity::Service, "default.httpbin-deployment.8080"),
            "47865164-d8b1-5729-86bc-bfba3880819e"
        );
        assert_eq!(
            entity_id(
                Entity::Route,
                "default.httpbin-ingress-1.httpbin-deployment..8080"
            ),
            "e8dddcdf-ebe3-5a2d-af0d-865da7881126"
        );
    }

    #[test]
    fn names_follow_kic() {
        assert_eq!(ingress_service_name("ns", "echo", "80"), "ns.echo.80");
        assert_eq!(upstream_name("ns", "echo", "http"), "echo.ns.http.svc");
        assert_eq!(
            ingress_route_name("ns", "ing", "echo", "*.example.com", "80"),
            "ns.ing.echo._.example.com.80"
        );
        assert_eq!(
            ingress_route_name("ns", "ing", "echo", "", "80"),
            "ns.ing.echo..80"
        );
        assert_eq!(httproute_route_name("ns", "r", 1, 0), "httproute.ns.r.1.0");
    }

    #[test]
    fn tags_in_kic_order() {
        let obj = ObjectRef::new(Kind::Ingress, Some("default"), "ing").with_uid(Some("u-1"));
        let mut ann = BTreeMap::new();
        ann.insert("konghq.com/tags".to_string(), "team-a, blue,".to_string());
        assert_eq!(
            tags(&obj, Some(&ann)),
            vec![
                "k8s-name:ing",
                "k8s-namespace:default",
                "k8s-kind:Ingress",
                "k8s-uid:u-1",
                "k8s-group:networking.k8s.io",
                "k8s-version:v1",
                "team-a",
                "blue"
            ]
        );
        let svc = ObjectRef::new(Kind::Service, Some("default"), "echo");
        assert_eq!(
            tags(&svc, None),
            vec![
                "k8s-name:echo",
                "k8s-namespace:default",
                "k8s-kind:Service",
                "k8s-version:v1"
            ]
        );
    }

    #[test]
    fn hostnames_as_the_apiserver_admits_them() {
        for ok in [
            "example.com",
            "*.example.com",
            "a",
            "1.2.3.4",
            "a-b.c0",
            &format!(
                "{}.{}.{}.example",
                "a".repeat(63),
                "b".repeat(63),
                "c".repeat(63)
            ),
        ] {
            assert_eq!(hostname_error(ok), None, "{ok}");
        }
        for bad in [
            "",
            "straße.example",
            "Example.com",
            "*",
            "*.",
            "a.*.com",
            "example.*",
            "**.example.com",
            "-a.example",
            "a-.example",
            "a..b",
            "example.com.",
            "a_b.example",
            "a.example:80",
            &"a.".repeat(127),
        ] {
            assert!(hostname_error(bad).is_some(), "{bad:?}");
        }
        assert!(
            hostname_error("bücher.example").is_some_and(|m| m.contains("ASCII form")),
            "a hint for internationalized names"
        );
    }

    #[test]
    fn header_names_kong_can_match() {
        for ok in ["x-user", "X_Env", "a", &"h".repeat(256)] {
            assert_eq!(header_name_error(ok), None, "{ok}");
        }
        for (bad, why) in [
            ("x-grüße", "not a valid HTTP header name"),
            ("bad header", "not a valid HTTP header name"),
            ("", "not a valid HTTP header name"),
            (&"h".repeat(257), "not a valid HTTP header name"),
            ("x.user", "but Kong matches only"),
            ("x!", "but Kong matches only"),
            ("Host", "Host header"),
        ] {
            assert!(
                header_name_error(bad).is_some_and(|m| m.contains(why)),
                "{bad:?}: {:?}",
                header_name_error(bad)
            );
        }
    }
}
