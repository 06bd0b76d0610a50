//! key-auth and correlation-id: Kong 3.10's kong/plugins/<name>/schema.lua,
//! with the messages of Kong's own specs (spec/03-plugins/09-key-auth,
//! 11-correlation-id; spec/01-unit/01-db/01-schema/11-declarative_config)
//! where they have one.

mod common;
use common::*;
use kong_admin_double::{KongAdminDouble, validate};
use serde_json::{Value, json};

/// The accepted plugin (defaults filled), or a panic with Kong's errors.
fn accepted(plugin: Value) -> Value {
    match validate(&dc(json!({ "plugins": [plugin] }))) {
        Ok(v) => v.plugins()[0].clone(),
        Err(e) => panic!("Kong accepts this: {}", e.fields_json()),
    }
}

/// Errors of the one plugin.
fn rejected(plugin: Value) -> Value {
    fields(dc(json!({ "plugins": [plugin] })))["plugins"][0].clone()
}

fn config_errors(name: &str, config: Value) -> Value {
    rejected(json!({"name": name, "config": config}))["config"].clone()
}

const HTTP: [&str; 4] = ["grpc", "grpcs", "http", "https"];
const PROTOCOLS_HTTP_MSG: &str = "expected one of: grpc, grpcs, http, https";

/// key-auth/schema.lua:9-25: every default, `anonymous` and `realm` null
/// (no default, not required: init.lua:1055-1058); schema.lua:8
/// typedefs.protocols_http (typedefs.lua:482-488).
#[test]
fn key_auth_fills_kong_defaults() {
    let p = accepted(json!({"name": "key-auth"}));
    assert_eq!(
        p["config"],
        json!({
            "key_names": ["apikey"],
            "hide_credentials": false,
            "anonymous": null,
            "key_in_header": true,
            "key_in_query": true,
            "key_in_body": false,
            "run_on_preflight": true,
            "realm": null
        })
    );
    assert_eq!(p["protocols"], json!(HTTP));
    assert_eq!(p["enabled"], true);
}

#[test]
fn key_auth_accepts_kongs_examples() {
    // 01-api_spec.lua "succeeds with valid key_names"; `_` is allowed too
    // (kong/tools/http.lua:286), and `key_names` has no len_min.
    for names in [json!(["hello-world", "X_API_Key2"]), json!([])] {
        let p = accepted(
            json!({"name": "key-auth", "protocols": ["https"], "config": {
                "key_names": names.clone(),
                "hide_credentials": true,
                "anonymous": "a4a4d3b0-4b5e-4c3c-9b1e-000000000000",
                "key_in_body": true,
                "realm": "kong"
            }}),
        );
        assert_eq!(p["config"]["key_names"], names);
        assert_eq!(
            p["config"]["anonymous"],
            "a4a4d3b0-4b5e-4c3c-9b1e-000000000000"
        );
        assert_eq!(p["config"]["realm"], "kong");
        assert_eq!(p["config"]["key_in_query"], true);
        assert_eq!(p["protocols"], json!(["https"]));
    }
    // `anonymous` is a plain string (a UUID or a username: no check), and
    // both optional strings take an explicit null
    let p =
        accepted(json!({"name": "key-auth", "config": {"anonymous": "anon user", "realm": null}}));
    assert_eq!(p["config"]["anonymous"], "anon user");
    assert_eq!(p["config"]["realm"], Value::Null);
}

/// key_names elements are typedefs.header_name (typedefs.lua:345-349,
/// kong/tools/http.lua:281-292) and required (validate_elements,
/// init.lua:838-839); 01-api_spec.lua "fails with invalid key_names".
#[test]
fn key_auth_key_names() {
    let e = |names: Value| config_errors("key-auth", json!({ "key_names": names }));
    assert_eq!(
        e(json!(["hello\\world"])),
        json!({"key_names": ["bad header name 'hello\\world', allowed characters are A-Z, a-z, 0-9, '_', and '-'"]})
    );
    assert_eq!(
        e(json!(["apikey", "x api", "", null, 1])),
        json!({"key_names": [
            null,
            "bad header name 'x api', allowed characters are A-Z, a-z, 0-9, '_', and '-'",
            "length must be at least 1",
            "required field missing",
            "expected a string"
        ]})
    );
    assert_eq!(
        e(json!("apikey")),
        json!({"key_names": "expected an array"})
    );
    // schema.lua:13 required
    assert_eq!(
        e(Value::Null),
        json!({"key_names": "required field missing"})
    );
}

/// key-auth/schema.lua:17-23: the booleans are required, the strings are
/// strings (non-empty: init.lua:986-993); no other field exists.
#[test]
fn key_auth_field_types() {
    let e = config_errors(
        "key-auth",
        json!({
            "hide_credentials": "yes",
            "key_in_header": null,
            "key_in_query": 0,
            "key_in_body": null,
            "run_on_preflight": "false",
            "anonymous": "",
            "realm": 1,
            "key_in_cookie": true
        }),
    );
    assert_eq!(
        e,
        json!({
            "hide_credentials": "expected a boolean",
            "key_in_header": "required field missing",
            "key_in_query": "expected a boolean",
            "key_in_body": "required field missing",
            "run_on_preflight": "expected a boolean",
            "anonymous": "length must be at least 1",
            "realm": "expected a string",
            "key_in_cookie": "unknown field"
        })
    );
    assert_eq!(
        rejected(json!({"name": "key-auth", "protocols": ["tcp", "http"]})),
        json!({"protocols": [PROTOCOLS_HTTP_MSG]})
    );
    assert_eq!(
        rejected(json!({"name": "key-auth", "config": null})),
        json!({"config": "required field missing"})
    );
}

/// key-auth/schema.lua:7 `consumer = typedefs.no_consumer` (typedefs.lua:400-405):
/// `eq = null` before any type check (init.lua:890-892). Kong's
/// 11-declarative_config/01-validate_spec.lua "does not accept additional
/// foreign keys" (a key-auth nested in a service, `consumer: foo`).
#[test]
fn key_auth_takes_no_consumer() {
    let e = fields(dc(
        json!({"services": [{"name": "foo", "url": "https://example.com",
        "plugins": [{"name": "key-auth", "consumer": "foo"}]}]}),
    ));
    assert_eq!(
        e,
        json!({"services": [{"plugins": [{"consumer": "value must be null"}]}]})
    );
    // top level: a consumer that exists, one that does not, any type
    let bob = json!({"username": "bob"});
    for consumer in [
        json!("bob"),
        json!("nobody"),
        json!(1),
        json!({"id": "not-a-uuid"}),
    ] {
        let e = fields(dc(json!({"consumers": [bob.clone()], "plugins": [
            {"name": "key-auth", "consumer": consumer.clone()}
        ]})));
        assert_eq!(
            e,
            json!({"plugins": [{"consumer": "value must be null"}]}),
            "{consumer}"
        );
    }
    // null is no consumer
    accepted(json!({"name": "key-auth", "consumer": null}));
    // other plugins keep the plugin entity's consumer (plugins.lua:24)
    validate(&dc(json!({"consumers": [bob], "plugins": [
        {"name": "correlation-id", "consumer": "bob"}
    ]})))
    .unwrap();
}

/// The subschema's `eq = null` holds in Kong's second, full-schema pass too
/// (loaded before dc.lua:1028-1030 rewrites foreign keys): a consumer given
/// as a primary key, which that pass accepts for other plugins
/// (fullschema.rs), is still "value must be null" (flatten, dc.lua:860-877).
#[test]
fn key_auth_takes_no_consumer_in_the_full_pass() {
    let cid = "5cb0c675-fa3f-52d7-85ba-848e95a0e7b9";
    let bob = json!({"username": "bob", "id": cid});
    let e = fields(dc(json!({"consumers": [bob.clone()], "plugins": [
        {"name": "key-auth", "consumer": {"id": cid}}
    ]})));
    assert_eq!(e, json!({"plugins": [{"consumer": "value must be null"}]}));
    let e = fields(dc(json!({"consumers": [bob.clone()], "services": [
        {"name": "s", "host": "h", "plugins": [{"name": "key-auth", "consumer": {"id": cid}}]}
    ]})));
    assert_eq!(
        e,
        json!({"services": [{"plugins": [{"consumer": "value must be null"}]}]})
    );
    // other plugins: the full pass accepts the primary key
    validate(&dc(json!({"consumers": [bob], "plugins": [
        {"name": "correlation-id", "consumer": {"id": cid}}
    ]})))
    .unwrap();
}

/// A key-auth nested in a consumer names no consumer, so Kong's first pass
/// (dc.lua:860) accepts it; the consumer is filled in only for the second
/// pass (populate_ids_for_validation, dc.lua:766-768), which runs when the
/// first fails, and then fails the `eq = null` as well. Unproven against a
/// running Kong (README).
#[test]
fn key_auth_nested_in_a_consumer() {
    let consumer = json!({"username": "bob", "plugins": [{"name": "key-auth"}]});
    let v = validate(&dc(json!({ "consumers": [consumer.clone()] }))).unwrap();
    assert_eq!(v.plugins()[0]["consumer"]["id"], v.consumers()[0]["id"]);
    let e = fields(dc(
        json!({"consumers": [consumer], "services": [{"name": "s"}]}),
    ));
    assert_eq!(
        e,
        json!({
            "consumers": [{"plugins": [{"consumer": "value must be null"}]}],
            "services": [{"host": "required field missing"}]
        })
    );
}

/// correlation-id/schema.lua:8-16 and :7 typedefs.protocols_http.
#[test]
fn correlation_id_fills_kong_defaults() {
    let p = accepted(json!({"name": "correlation-id"}));
    assert_eq!(
        p["config"],
        json!({
            "header_name": "Kong-Request-ID",
            "generator": "uuid#counter",
            "echo_downstream": false
        })
    );
    assert_eq!(p["protocols"], json!(HTTP));
    // header_name is a plain string (schema.lua:11), not typedefs.header_name:
    // no header-name check; not required, so an explicit null stays null
    for (header, generator) in [(json!("X Odd:Header"), "uuid"), (json!(null), "tracker")] {
        let p = accepted(json!({"name": "correlation-id", "config": {
            "header_name": header.clone(), "generator": generator, "echo_downstream": true
        }}));
        assert_eq!(
            p["config"],
            json!({"header_name": header, "generator": generator, "echo_downstream": true})
        );
    }
}

#[test]
fn correlation_id_rules() {
    // 02-schema_spec.lua "requried field must be included"
    assert_eq!(
        config_errors("correlation-id", json!({"generator": null})),
        json!({"generator": "required field missing"})
    );
    // schema.lua:13 one_of (ONE_OF, init.lua:92: the values in schema order)
    assert_eq!(
        config_errors(
            "correlation-id",
            json!({"generator": "UUID", "header_name": "", "echo_downstream": null, "x": 1})
        ),
        json!({
            "generator": "expected one of: uuid, uuid#counter, tracker",
            "header_name": "length must be at least 1",
            "echo_downstream": "required field missing",
            "x": "unknown field"
        })
    );
    assert_eq!(
        config_errors(
            "correlation-id",
            json!({"generator": 1, "header_name": [], "echo_downstream": "no"})
        ),
        json!({
            "generator": "expected a string",
            "header_name": "expected a string",
            "echo_downstream": "expected a boolean"
        })
    );
    assert_eq!(
        rejected(json!({"name": "correlation-id", "protocols": ["grpc", "udp"]})),
        json!({"protocols": [null, PROTOCOLS_HTTP_MSG]})
    );
}

/// GET / lists both, with PRIORITY from key-auth/handler.lua:22 and
/// correlation-id/handler.lua:45.
#[tokio::test]
async fn root_lists_key_auth_and_correlation_id() {
    let d = KongAdminDouble::start().await.unwrap();
    let root: Value = reqwest::get(format!("{}/", d.url()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let available = &root["plugins"]["available_on_server"];
    assert_eq!(
        available["key-auth"],
        json!({"version": "3.10.0", "priority": 1250})
    );
    assert_eq!(
        available["correlation-id"],
        json!({"version": "3.10.0", "priority": 100001})
    );
    let configured = root["configuration"]["plugins"].as_array().unwrap();
    assert!(
        configured.contains(&json!("key-auth")) && configured.contains(&json!("correlation-id"))
    );
}

/// basic-auth/schema.lua (Kong 3.10): `anonymous` null (no default), `hide_credentials` false,
/// `realm` "service" (required, defaulted); protocols_http; `consumer = typedefs.no_consumer`.
#[test]
fn basic_auth_fills_kong_defaults_and_refuses_a_consumer() {
    let p = accepted(json!({"name": "basic-auth"}));
    assert_eq!(
        p["config"],
        json!({"anonymous": null, "hide_credentials": false, "realm": "service"})
    );
    assert_eq!(p["protocols"], json!(HTTP));
    assert_eq!(
        config_errors("basic-auth", json!({"hide_credentials": "yes", "realm": 1})),
        json!({"hide_credentials": "expected a boolean", "realm": "expected a string"})
    );
    assert_eq!(
        config_errors("basic-auth", json!({"realm": null})),
        json!({"realm": "required field missing"})
    );
    assert_eq!(
        rejected(json!({"name": "basic-auth", "consumer": "bob"}))["consumer"],
        json!("value must be null")
    );
}
