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

/// A nested target naming an upstream: the first pass says "value must be
/// null" (declarative_config.lua:172), the full pass resolves the name
/// (776-784) and accepts; the parent then wins (454-456). Kong's own case:
/// spec/01-unit/01-db/01-schema/11-declarative_config/03-flatten_spec.lua
/// "accepts as a nested entity by username" / "fails as a nested entity by
/// incorrect username" (basic-auth credentials in consumers).
#[test]
fn nested_targets_naming_an_upstream() {
    let ok = validate(&dc(json!({"upstreams": [
        {"name": "u", "targets": [{"target": "a.b", "upstream": "v"}]},
        {"name": "v"}
    ]})))
    .unwrap();
    assert_eq!(ok.targets_of("u").len(), 1);
    assert_eq!(ok.targets_of("v").len(), 0);
    let e = fields(dc(
        json!({"upstreams": [{"name": "u", "targets": [{"target": "a.b", "upstream": "nope"}]}]}),
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

/// Kong 3.10 upstreams.lua:300-345 (`shorthand_fields`), as process_auto_fields runs them
/// (init.lua:1815-1858): in order `algorithm` then `hash_on`, each only when its key is in the
/// input. So only a `hash_on` that is present rewrites the algorithm.
#[test]
fn algorithm_follows_the_hash_on_shorthand_as_the_lua_runs_it() {
    let v = validate(&dc(json!({"upstreams": [
        // no hash_on: the hash_on shorthand never runs; hash_on defaults to "none"
        {"name": "a", "algorithm": "consistent-hashing"},
        // upstreams.lua:333-337
        {"name": "b", "algorithm": "consistent-hashing", "hash_on": "none"},
        // upstreams.lua:338-342
        {"name": "c", "hash_on": "ip"},
        {"name": "d", "algorithm": "round-robin", "hash_on": "header", "hash_on_header": "x-k"},
        // upstreams.lua:308-317 clears hash_on, then 329-332 sets it to "none"
        {"name": "e", "algorithm": "least-connections", "hash_on": "header", "hash_on_header": "x-k"},
        {"name": "f", "algorithm": "latency"}
    ]})))
    .unwrap();
    let stored = |n: &str| {
        let u = v.upstream(n).unwrap();
        (u["algorithm"].clone(), u["hash_on"].clone())
    };
    assert_eq!(stored("a"), (json!("consistent-hashing"), json!("none")));
    assert_eq!(stored("b"), (json!("round-robin"), json!("none")));
    assert_eq!(stored("c"), (json!("consistent-hashing"), json!("ip")));
    assert_eq!(stored("d"), (json!("consistent-hashing"), json!("header")));
    assert_eq!(stored("e"), (json!("least-connections"), json!("none")));
    assert_eq!(stored("f"), (json!("latency"), json!("none")));
    // Only `a` hashes nothing (kong/runloop/balancer/init.lua:109-111, 332).
    assert_eq!(v.warnings.len(), 1, "{:?}", v.warnings);
    assert!(
        v.warnings[0].starts_with("upstream 'a': "),
        "{:?}",
        v.warnings
    );
}

/// The shorthand's own check (init.lua:1823-1826): a non-string `hash_on` is a field error.
#[test]
fn a_hash_on_shorthand_that_is_no_string_is_refused() {
    let e = upstream_errs(json!({"hash_on": 5}));
    assert_eq!(e["hash_on"], json!("expected a string"), "{e}");
}

#[test]
fn upstream_names_are_unique() {
    let e = fields(dc(json!({"upstreams": [{"name": "u"}, {"name": "u"}]})));
    assert_eq!(
        e,
        json!({"upstreams": [null, "uniqueness violation: 'upstreams' entity with name set to 'u' already declared"]})
    );
}

/// Targets equal once normalised are two targets to Kong 3.10: their ids come from the raw
/// `target` (declarative_config.lua:583-648, cache_key upstream + target, targets.lua), so
/// /config takes both; the balancer loads each one formatted (dao/targets.lua:31-37 and
/// 150-170, runloop/balancer/targets.lua:83-105) and merges none. The same raw string twice
/// is one id twice: refused.
#[test]
fn targets_equal_once_normalised_are_both_kept_as_kong_keeps_them() {
    let v = validate(&dc(json!({"upstreams": [{"name": "u", "targets": [
        {"target": "10.0.0.1", "weight": 10},
        {"target": "10.0.0.1:8000", "weight": 20},
        {"target": "010.0.0.2:80", "weight": 30},
        {"target": "10.0.0.2:80", "weight": 40}
    ]}]})))
    .unwrap_or_else(|e| panic!("Kong accepts these: {}", e.fields_json()));
    let loaded: Vec<(String, i64)> = v
        .targets_of("u")
        .iter()
        .map(|t| {
            (
                t["target"].as_str().unwrap().to_string(),
                t["weight"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        loaded,
        [
            ("10.0.0.1:8000".to_string(), 10),
            ("10.0.0.1:8000".to_string(), 20),
            ("10.0.0.2:80".to_string(), 30),
            ("10.0.0.2:80".to_string(), 40)
        ]
    );
    let ids: std::collections::HashSet<_> =
        v.targets_of("u").iter().map(|t| t["id"].clone()).collect();
    assert_eq!(ids.len(), 4);
    let e = fields(dc(json!({"upstreams": [{"name": "u", "targets": [
        {"target": "10.0.0.1"}, {"target": "10.0.0.1"}
    ]}]})));
    let msg = e["upstreams"][0]["targets"][1].as_str().unwrap_or_default();
    assert!(
        msg.starts_with("uniqueness violation: 'targets' entity with primary key"),
        "{e}"
    );
}

/// Kong 3.10 sets `validate_cookie_name = validate_http_token` (kong/tools/http.lua:298,
/// 251-272): any RFC 2616 token; upstreams.lua uses it for `hash_on_cookie`.
#[test]
fn hash_on_cookie_is_an_http_token() {
    let ok = validate(&dc(json!({"upstreams": [
        {"name": "u", "hash_on": "cookie", "hash_on_cookie": "a.b!x~y"}
    ]})));
    if let Err(e) = ok {
        panic!("Kong accepts any token: {}", e.fields_json());
    }
    let e = upstream_errs(json!({"hash_on": "cookie", "hash_on_cookie": "a b"}));
    assert_eq!(
        e["hash_on_cookie"],
        "contains one or more invalid characters. ASCII control characters (0-31;127), space, tab and the characters ()<>@,;:\\\"/?={}[] are not allowed."
    );
}
