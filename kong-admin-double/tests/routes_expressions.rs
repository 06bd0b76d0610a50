//! Routes under Kong's `expressions` router flavor (Kong 3.10 routes.lua 41-137, 209-220;
//! routes_subschemas.lua 69-101): `expression` and `priority` exist only there, expressions are
//! checked with Kong's own engine (atc-router 1.7.1), traditional routes still work.

mod common;
use common::*;
use kong_admin_double::{KongAdminDouble, Options, RouterFlavor, validate, validate_for};
use serde_json::{Value, json};

fn route(extra: Value) -> Value {
    let mut r = json!({"name": "r1"});
    for (k, v) in extra.as_object().cloned().unwrap_or_default() {
        r[k] = v;
    }
    dc(json!({"services": [{"name": "s1", "host": "example.com", "routes": [r]}]}))
}

fn errors(cfg: &Value) -> Value {
    match validate_for(cfg, RouterFlavor::Expressions) {
        Ok(_) => panic!("expected Kong (expressions flavor) to reject {cfg}"),
        Err(e) => e.fields_json()["services"][0]["routes"][0].clone(),
    }
}

#[test]
fn expression_routes_are_accepted_with_their_priority() {
    let cfg = route(
        json!({"expression": "(http.host == \"a.example\") && (http.path ^= \"/api/\")", "priority": 57178899677193u64}),
    );
    let valid = validate_for(&cfg, RouterFlavor::Expressions).expect("Kong accepts it");
    let r = &valid.routes()[0];
    assert_eq!(r["priority"], 57178899677193u64);
    assert_eq!(
        r["expression"],
        "(http.host == \"a.example\") && (http.path ^= \"/api/\")"
    );
    // priority defaults to 0; traditional routes still work in this flavor
    let valid = validate_for(
        &route(json!({"expression": "http.path ^= \"/\""})),
        RouterFlavor::Expressions,
    )
    .expect("ok");
    assert_eq!(valid.routes()[0]["priority"], 0);
    validate_for(&route(json!({"paths": ["/a"]})), RouterFlavor::Expressions)
        .expect("traditional route");
}

#[test]
fn expression_fields_exist_only_in_the_expressions_flavor() {
    let cfg = route(json!({"expression": "http.path ^= \"/\""}));
    let e = fields(cfg.clone())["services"][0]["routes"][0].clone();
    assert_eq!(e["expression"], "unknown field", "{e}");
    assert!(validate(&route(json!({"paths": ["/"]}))).is_ok());
}

#[test]
fn bad_expressions_get_kongs_errors() {
    let e = errors(&route(json!({"expression": "http.path = \"/\""})));
    let msg = e["@entity"][0].as_str().unwrap_or_default().to_string();
    assert!(
        msg.starts_with("Router Expression failed validation: "),
        "{e}"
    );
    let e = errors(&route(json!({"expression": "http.unknown == \"x\""})));
    assert!(
        e["@entity"][0]
            .as_str()
            .unwrap_or_default()
            .starts_with("Router Expression failed validation: "),
        "{e}"
    );
    let e = errors(&route(
        json!({"expression": "http.path ^= \"/\"", "paths": ["/"]}),
    ));
    assert_eq!(
        e["@entity"][0],
        "Router Expression failed validation: cannot set 'expression' with 'methods', 'hosts', 'paths', 'headers', 'snis', 'sources' or 'destinations' simultaneously"
    );
    let e = errors(&route(json!({"paths": ["/"], "priority": 3})));
    assert!(
        e["@entity"][0]
            .as_str()
            .unwrap_or_default()
            .contains("cannot set 'priority'"),
        "{e}"
    );
    let e = errors(&route(
        json!({"expression": "http.path ^= \"/\"", "priority": -1}),
    ));
    assert!(e["priority"].is_string(), "{e}");
    // no matching field at all: the subschema's list names `expression` too
    let e = errors(&route(json!({"protocols": ["http"]})));
    assert_eq!(
        e["@entity"][0],
        "must set one of 'methods', 'hosts', 'headers', 'paths', 'expression' when 'protocols' is 'http'"
    );
}

/// gRPC's "must set one of" lists have no `methods` (routes_subschemas.lua 59, 62), under
/// either flavor.
#[test]
fn grpc_lists_name_no_methods() {
    let e = errors(&route(json!({"protocols": ["grpc"]})));
    assert_eq!(
        e["@entity"][0],
        "must set one of 'hosts', 'headers', 'paths', 'expression' when 'protocols' is 'grpc'"
    );
    let e = fields(route(json!({"protocols": ["grpcs"]})))["services"][0]["routes"][0].clone();
    assert_eq!(
        e["@entity"][0],
        "must set one of 'hosts', 'headers', 'paths', 'snis' when 'protocols' is 'grpcs'"
    );
}

#[tokio::test]
async fn get_root_reports_the_flavor() {
    let kong = KongAdminDouble::start_with(Options {
        router_flavor: RouterFlavor::Expressions,
        ..Options::default()
    })
    .await
    .expect("start");
    let root: Value = reqwest::get(kong.url())
        .await
        .expect("GET /")
        .json()
        .await
        .expect("json");
    assert_eq!(root["configuration"]["router_flavor"], "expressions");
}
