//! The table of kinds is whole: every kind is named, watched, loaded from a manifest, stored,
//! found again by its key, removed, and reported when it cannot be decoded.

use std::collections::BTreeSet;
use std::path::Path;

use super::*;
use crate::controller::watch::{WatchScope, stream_names};
use crate::manifests::{Loaded, load_str};
use crate::snapshot::Undecodable;

/// The smallest manifest body the apiserver (and kingress's types) accept for each kind.
/// A match without a wildcard: a kind added to the table fails to compile here until it has
/// one, and then goes through every check below.
fn minimal_body(kind: Kind) -> &'static str {
    match kind {
        Kind::Service => "spec: {ports: [{port: 80}]}",
        Kind::EndpointSlice => {
            "addressType: IPv4\nendpoints: []\nmetadata: {labels: {kubernetes.io/service-name: s}}"
        }
        Kind::Ingress => "spec: {}",
        Kind::IngressClass => "spec: {controller: ingress-controllers.konghq.com/kong}",
        Kind::IngressClassParameters => "spec: {}",
        Kind::HttpRoute => "spec: {}",
        Kind::GrpcRoute => "spec: {}",
        Kind::TcpIngress | Kind::UdpIngress => "spec: {}",
        Kind::TcpRoute | Kind::UdpRoute => "spec: {rules: [{backendRefs: [{name: s, port: 80}]}]}",
        Kind::TlsRoute => {
            "spec: {hostnames: [a.example.com], rules: [{backendRefs: [{name: s, port: 80}]}]}"
        }
        Kind::Gateway => {
            "spec: {gatewayClassName: kong, listeners: [{name: http, port: 80, protocol: HTTP}]}"
        }
        Kind::GatewayClass => "spec: {controllerName: konghq.com/kic-gateway-controller}",
        Kind::ReferenceGrant => "spec: {from: [], to: []}",
        Kind::KongUpstreamPolicy => "spec: {}",
        Kind::KongIngress => "upstream: {}",
        Kind::KongVault => "spec: {backend: env, prefix: env-vault}",
        Kind::KongCustomEntity => {
            "spec: {type: degraphql_routes, controllerName: kong, fields: {}}"
        }
        Kind::KongServiceFacade => "spec: {backendRef: {name: s, port: 80}}",
        Kind::KongPlugin => "plugin: cors",
        Kind::KongClusterPlugin => "plugin: cors",
        Kind::KongConsumer => "username: alice",
        Kind::KongConsumerGroup => "spec: {}",
        Kind::Secret => "type: Opaque",
        Kind::ConfigMap => "data: {}",
        Kind::Namespace => "spec: {}",
        Kind::BackendTlsPolicy => {
            "spec: {targetRefs: [{group: \"\", kind: Service, name: s}], validation: {hostname: s.example.com}}"
        }
    }
}

fn manifest(kind: Kind, name: &str) -> String {
    let info = kind.info();
    let body = minimal_body(kind);
    // The body may carry its own metadata (labels); the name goes in either way.
    let body = match body.strip_prefix("addressType: IPv4\nendpoints: []\nmetadata: {") {
        Some(rest) => format!("addressType: IPv4\nendpoints: []\nmetadata: {{name: {name}, {rest}"),
        None => format!("metadata: {{name: {name}}}\n{body}"),
    };
    format!(
        "apiVersion: {}\nkind: {}\n{body}\n",
        info.preferred_api_version(),
        info.name
    )
}

fn load(text: &str) -> Loaded {
    let mut loaded = Loaded::default();
    load_str(text, Path::new("kinds.yaml"), &mut loaded);
    loaded
}

fn namespace_of(kind: Kind) -> &'static str {
    if kind.info().namespaced {
        "default"
    } else {
        ""
    }
}

#[test]
fn every_kind_is_named_once_and_found_by_name() {
    let names: BTreeSet<&str> = Kind::ALL.iter().map(|k| k.as_str()).collect();
    assert_eq!(names.len(), Kind::ALL.len(), "two kinds share a name");
    for &kind in Kind::ALL {
        assert_eq!(Kind::by_name(kind.as_str()), Some(kind));
        assert!(
            !kind.info().versions.is_empty(),
            "{kind} is read at no version"
        );
        with_kind!(kind, |K| assert_eq!(K::KIND, kind));
    }
    assert_eq!(Kind::by_name("Widget"), None);
}

#[test]
fn every_kind_has_a_watch_stream() {
    let all = stream_names(&WatchScope::default());
    let restricted = stream_names(&WatchScope {
        namespaces: vec!["a".into(), "b".into()],
        ..WatchScope::default()
    });
    for &kind in Kind::ALL {
        assert!(all.contains(&format!("{kind}/*")), "{kind} is not watched");
        let per_namespace = restricted
            .iter()
            .filter(|s| s.starts_with(&format!("{kind}/")));
        let want = if kind.info().namespaced { 2 } else { 1 };
        assert_eq!(
            per_namespace.count(),
            want,
            "{kind} streams with two namespaces"
        );
    }
}

#[test]
fn a_disabled_kind_has_no_watch_stream() {
    let scope = WatchScope {
        namespaces: vec!["a".into()],
        disabled: [Kind::KongPlugin, Kind::GatewayClass].into(),
        ..WatchScope::default()
    };
    let names = stream_names(&scope);
    assert!(
        !names.iter().any(|s| s.starts_with("KongPlugin/")),
        "{names:?}"
    );
    assert!(
        !names.iter().any(|s| s.starts_with("GatewayClass/")),
        "{names:?}"
    );
    assert!(
        names.contains(&"KongClusterPlugin/*".to_string()),
        "{names:?}"
    );
    assert_eq!(
        names.len(),
        stream_names(&WatchScope {
            namespaces: vec!["a".into()],
            ..WatchScope::default()
        })
        .len()
            - 2
    );
}

#[test]
fn every_kind_loads_from_a_manifest_into_its_map_and_out_again() {
    for &kind in Kind::ALL {
        let mut loaded = load(&manifest(kind, "x"));
        assert!(loaded.problems.is_empty(), "{kind}: {:?}", loaded.problems);
        assert_eq!(loaded.objects, 1, "{kind} was not loaded");
        let snapshot = &mut loaded.snapshot;
        assert_eq!(snapshot.count(kind), 1, "{kind} is not in its map");
        assert_eq!(snapshot.len(), 1, "{kind} landed in another map too");
        let ns = namespace_of(kind);
        let found = with_kind!(kind, |K| snapshot.stored::<K>(ns, "x").is_some());
        assert!(found, "{kind} is not found under ({ns:?}, \"x\")");
        snapshot.remove(kind, ns, "x");
        assert_eq!(snapshot.len(), 0, "{kind} was not removed");
    }
}

#[test]
fn a_wrong_version_names_the_supported_one() {
    for &kind in Kind::ALL {
        let text = manifest(kind, "x").replacen(
            &format!("apiVersion: {}", kind.info().preferred_api_version()),
            "apiVersion: example.com/v0",
            1,
        );
        let loaded = load(&text);
        assert_eq!(loaded.objects, 0, "{kind}");
        let message = &loaded.problems[0].message;
        let want = format!("use {}", kind.info().preferred_api_version());
        assert!(message.contains(&want), "{kind}: {message}");
    }
}

#[test]
fn an_undecodable_object_replaces_its_earlier_version_until_it_decodes() {
    for &kind in Kind::ALL {
        let mut snapshot = load(&manifest(kind, "x")).snapshot;
        let ns = namespace_of(kind);
        let key = ObjectKey::new(kind, ns, "x");
        let why = Undecodable {
            uid: None,
            resource_version: Some("2".into()),
            error: "unknown variant `ExternalAuth`".into(),
        };
        snapshot.set_undecodable(key.clone(), why);
        assert_eq!(snapshot.count(kind), 0, "{kind}: the old version stays");
        assert!(snapshot.undecodable.contains_key(&key));
        // Fixed: it decodes again and is back.
        snapshot.apply(object(kind, "x"));
        assert_eq!(snapshot.count(kind), 1, "{kind}");
        assert!(snapshot.undecodable.is_empty(), "{kind}");
        // A relist that does not deliver it forgets an undecodable object too.
        let why = Undecodable {
            uid: None,
            resource_version: None,
            error: String::new(),
        };
        snapshot.set_undecodable(key.clone(), why);
        let gone = snapshot.remove_unseen(kind, None, &BTreeSet::new());
        assert!(snapshot.undecodable.is_empty(), "{kind}");
        assert_eq!(gone, BTreeSet::from([ns.to_string()]), "{kind}");
    }
}

/// The minimal object of `kind` named `name`, decoded directly (namespaced kinds in
/// `default`, as the loader puts them).
fn object(kind: Kind, name: &str) -> Object {
    let text = manifest(kind, name);
    let mut object = with_kind!(kind, |K| K::wrap(Box::new(
        serde_norway::from_str::<K>(&text).expect("minimal manifest decodes")
    )));
    if kind.info().namespaced {
        object.meta_mut().namespace = Some("default".into());
    }
    object
}
