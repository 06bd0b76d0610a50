//! Upstream and target rules (kong/db/schema/entities/upstreams.lua, targets.lua).

mod common;
use common::*;
use kong_admin_double::validate;
use serde_json::json;

const COND_HASH_ON: &str = "failed conditional validation given value of field 'hash_on'";

#[test]
fn realistic_config_passes_with_kong_defaults() {
    let cfg = dc(json!({
        "services": [{
            "name": "echo", "host": "echo.default.80.svc", "port": 80, "protocol": "http",
            "routes": [{"name": "echo-route", "paths": ["/echo"], "hosts": ["example.com"], "strip_path": false}]
        }],
        "upstreams": [{
            "name": "echo.default.80.svc",
            "algorithm": "consistent-hashing",
            "hash_on": "header", "hash_on_header": "x-lb", "hash_fallback": "ip",
            "healthchecks": {"active": {"http_path": "/healthz", "healthy": {"interval": 5, "successes": 2},
                                        "unhealthy": {"interval": 5, "http_failures": 3}},
                             "threshold": 50},
            "targets": [{"target": "10.0.0.1:8080", "weight": 100}, {"target": "10.0.0.2:8080", "weight": 50},
                        {"target": "10.0.0.3", "weight": 0}]
        }]
    }));
    let v = validate(&cfg).expect("Kong accepts this");
    let u = v.upstream("echo.default.80.svc").unwrap();
    assert_eq!(u["algorithm"], "consistent-hashing");
    assert_eq!(u["slots"], 10000);
    assert_eq!(u["hash_on_cookie_path"], "/");
    assert_eq!(u["healthchecks"]["active"]["concurrency"], 10);
    assert_eq!(
        u["healthchecks"]["active"]["healthy"]["http_statuses"],
        json!([200, 302])
    );
    assert_eq!(
        u["healthchecks"]["passive"]["unhealthy"]["http_statuses"],
        json!([429, 500, 503])
    );
    let targets = v.targets_of("echo.default.80.svc");
    let t: Vec<_> = targets
        .iter()
        .map(|t| (t["target"].as_str().unwrap(), t["weight"].as_i64().unwrap()))
        .collect();
    assert_eq!(
        t,
        vec![
            ("10.0.0.1:8080", 100),
            ("10.0.0.2:8080", 50),
            ("10.0.0.3:8000", 0)
        ]
    );
    // Kong's deterministic ids: UUIDv5(UUIDv5(ns, "services"), name)
    let s = v.service("echo").unwrap();
    assert_eq!(
        v.route("echo-route").unwrap()["service"],
        json!({"id": s["id"]})
    );
    assert_eq!(s["retries"], 5);
    assert_eq!(
        v.route("echo-route").unwrap()["protocols"],
        json!(["http", "https"])
    );
}

#[test]
fn service_ids_follow_kongs_uuid_v5_scheme() {
    let v = validate(&dc(json!({"services": [{"name": "svc", "host": "a.b"}]}))).unwrap();
    let ns = uuid::Uuid::new_v5(
        &uuid::uuid!("fd02801f-0957-4a15-a55a-c8d9606f30b5"),
        b"services",
    );
    assert_eq!(
        v.services()[0]["id"],
        uuid::Uuid::new_v5(&ns, b"svc").to_string()
    );
}

#[test]
fn hash_on_header_requires_header_name() {
    assert_eq!(
        upstream_errs(json!({"hash_on": "header"})),
        json!({"@entity": [COND_HASH_ON], "hash_on_header": "required field missing"})
    );
}

#[test]
fn hash_on_cookie_requires_cookie_and_no_fallback() {
    assert_eq!(
        upstream_errs(json!({"hash_on": "cookie", "hash_on_cookie": "c", "hash_fallback": "ip"})),
        json!({"@entity": [COND_HASH_ON], "hash_fallback": "expected one of: none"})
    );
    assert_eq!(
        upstream_errs(json!({"hash_on": "cookie"})),
        json!({"@entity": [COND_HASH_ON], "hash_on_cookie": "required field missing"})
    );
}

#[test]
fn hash_on_none_forces_fallback_none() {
    assert_eq!(
        upstream_errs(json!({"hash_fallback": "ip"})),
        json!({"@entity": [COND_HASH_ON], "hash_fallback": "expected one of: none"})
    );
}

#[test]
fn consumer_ip_path_cannot_fall_back_to_themselves() {
    assert_eq!(
        upstream_errs(json!({"hash_on": "ip", "hash_fallback": "ip"}))["hash_fallback"],
        "expected one of: none, consumer, header, cookie, path, query_arg, uri_capture"
    );
    assert_eq!(
        upstream_errs(json!({"hash_on": "consumer", "hash_fallback": "consumer"}))["hash_fallback"],
        "expected one of: none, ip, header, cookie, path, query_arg, uri_capture"
    );
    assert_eq!(
        upstream_errs(json!({"hash_on": "path", "hash_fallback": "path"}))["hash_fallback"],
        "expected one of: none, consumer, ip, header, cookie, query_arg, uri_capture"
    );
}

#[test]
fn header_fallback_needs_distinct_names() {
    assert_eq!(
        upstream_errs(json!({"hash_on": "header", "hash_on_header": "x-a",
                              "hash_fallback": "header", "hash_fallback_header": "x-a"})),
        json!({"@entity": ["values of these fields must be distinct: 'hash_on_header', 'hash_fallback_header'"]})
    );
}

#[test]
fn query_arg_and_uri_capture_need_names() {
    assert_eq!(
        upstream_errs(json!({"hash_on": "query_arg"})),
        json!({"@entity": [COND_HASH_ON], "hash_on_query_arg": "required field missing"})
    );
    assert_eq!(
        upstream_errs(json!({"hash_on": "ip", "hash_fallback": "uri_capture"})),
        json!({"@entity": ["failed conditional validation given value of field 'hash_fallback'"],
               "hash_fallback_uri_capture": "required field missing"})
    );
}

#[test]
fn slots_range_and_enums() {
    assert_eq!(
        upstream_errs(json!({"slots": 9}))["slots"],
        "value should be between 10 and 65536"
    );
    assert_eq!(
        upstream_errs(json!({"slots": 65537}))["slots"],
        "value should be between 10 and 65536"
    );
    assert_eq!(
        upstream_errs(json!({"algorithm": "sticky-sessions"}))["algorithm"],
        "expected one of: consistent-hashing, least-connections, round-robin, latency"
    );
    assert_eq!(
        upstream_errs(json!({"slots": "10"}))["slots"],
        "expected an integer"
    );
    assert_eq!(
        upstream_errs(json!({"use_srv_name": "yes"}))["use_srv_name"],
        "expected a boolean"
    );
    assert_eq!(upstream_errs(json!({"bogus": 1}))["bogus"], "unknown field");
}

#[test]
fn upstream_name_must_be_a_hostname() {
    assert_eq!(
        upstream_errs(json!({"name": "x y"}))["name"],
        "Invalid name ('x y'); must be a valid hostname"
    );
    assert_eq!(
        upstream_errs(json!({"name": "10.1.1.1"}))["name"],
        "Invalid name ('10.1.1.1'); no ip addresses allowed"
    );
    assert_eq!(
        upstream_errs(json!({"name": "a.b:80"}))["name"],
        "Invalid name ('a.b:80'); no port allowed"
    );
    assert_eq!(
        fields(dc(json!({"upstreams": [{}]})))["upstreams"][0],
        json!({"name": "required field missing"})
    );
}

#[test]
fn header_names_are_tokens() {
    assert_eq!(
        upstream_errs(json!({"hash_on": "header", "hash_on_header": "x lb"}))["hash_on_header"],
        "bad header name 'x lb', allowed characters are A-Z, a-z, 0-9, '_', and '-'"
    );
}

#[test]
fn health_check_ranges() {
    let e = upstream_errs(json!({"healthchecks": {
        "active": {"concurrency": 0, "timeout": -1, "type": "udp", "http_path": "nope",
                   "healthy": {"successes": 256, "http_statuses": [99]}},
        "passive": {"unhealthy": {"tcp_failures": 1.5}},
        "threshold": 101
    }}));
    assert_eq!(
        e,
        json!({"healthchecks": {
            "active": {
                "concurrency": "value should be between 1 and 2147483648",
                "timeout": "value should be between 0 and 65535",
                "type": "expected one of: tcp, http, https, grpc, grpcs",
                "http_path": "should start with: /",
                "healthy": {"successes": "value should be between 0 and 255",
                            "http_statuses": ["value should be between 100 and 999"]}
            },
            "passive": {"unhealthy": {"tcp_failures": "expected an integer"}},
            "threshold": "value should be between 0 and 100"
        }})
    );
}

#[test]
fn targets_validate_address_and_weight() {
    let e = fields(dc(json!({"upstreams": [{"name": "u", "targets": [
        {"target": "hostname:1.0"}, {"target": "a.b", "weight": 65536}, {"weight": 1}
    ]}]})));
    assert_eq!(
        e["upstreams"][0]["targets"],
        json!([
            {"target": "Invalid target ('hostname:1.0'); not a valid hostname or ip address"},
            {"weight": "value should be between 0 and 65535"},
            {"target": "required field missing"}
        ])
    );
}

#[test]
fn top_level_targets_reference_upstreams() {
    let e = fields(dc(json!({"targets": [{"target": "a.b"}]})));
    assert_eq!(
        e,
        json!({"targets": [{"upstream": "required field missing"}]})
    );
    let e = fields(dc(
        json!({"targets": [{"target": "a.b", "upstream": "missing"}]}),
    ));
    let id = e["targets"]
        .as_object()
        .unwrap()
        .keys()
        .next()
        .unwrap()
        .clone();
    assert_eq!(
        e["targets"][id],
        json!(["invalid reference 'upstream: missing' (no such entry in 'upstreams')"])
    );
    let ok = validate(&dc(
        json!({"upstreams": [{"name": "u"}], "targets": [{"target": "a.b", "upstream": "u"}]}),
    ))
    .unwrap();
    assert_eq!(ok.targets_of("u").len(), 1);
}

#[test]
fn nested_targets_cannot_name_their_upstream() {
    let e = fields(dc(
        json!({"upstreams": [{"name": "u", "targets": [{"target": "a.b", "upstream": "u"}]}]}),
    ));
    assert_eq!(
        e["upstreams"][0]["targets"][0],
        json!({"upstream": "value must be null"})
    );
}

#[test]
fn duplicate_targets_collide_on_kongs_generated_id() {
    let e = fields(dc(
        json!({"upstreams": [{"name": "u", "targets": [{"target": "a.b:80"}, {"target": "a.b:80"}]}]}),
    ));
    let msg = e["upstreams"][0]["targets"][1].as_str().unwrap();
    assert!(
        msg.starts_with("uniqueness violation: 'targets' entity with primary key set to '"),
        "{msg}"
    );
}

#[test]
fn algorithm_is_rewritten_per_hash_on() {
    let v = validate(&dc(json!({"upstreams": [
        {"name": "a", "algorithm": "consistent-hashing"},
        {"name": "b", "hash_on": "ip"},
        {"name": "c", "algorithm": "least-connections"}
    ]})))
    .unwrap();
    assert_eq!(v.upstream("a").unwrap()["algorithm"], "round-robin");
    assert_eq!(v.upstream("b").unwrap()["algorithm"], "consistent-hashing");
    assert_eq!(v.upstream("c").unwrap()["algorithm"], "least-connections");
    assert_eq!(v.warnings.len(), 2);
}

#[test]
fn upstream_names_are_unique() {
    let e = fields(dc(json!({"upstreams": [{"name": "u"}, {"name": "u"}]})));
    assert_eq!(
        e,
        json!({"upstreams": [null, "uniqueness violation: 'upstreams' entity with name set to 'u' already declared"]})
    );
}
