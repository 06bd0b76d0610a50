//! request-transformer, response-transformer and redirect: Kong 3.10's
//! kong/plugins/<name>/schema.lua, with the messages of Kong's own specs
//! (spec/03-plugins/36-request-transformer, 15-response-transformer,
//! 45-redirect) where they have one.

mod common;
use common::*;
use kong_admin_double::validate;
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

/// request-transformer/schema.lua:124-141: every record is filled with its
/// empty arrays (entity.lua:15-24 makes them required; init.lua:1039-1048),
/// `http_method` and `replace.uri` with null (init.lua:1055-1058).
#[test]
fn request_transformer_fills_kong_defaults() {
    let p = accepted(json!({"name": "request-transformer"}));
    let empty = json!({"body": [], "headers": [], "querystring": []});
    assert_eq!(
        p["config"],
        json!({
            "http_method": null,
            "remove": empty,
            "rename": empty,
            "replace": {"body": [], "headers": [], "querystring": [], "uri": null},
            "add": empty,
            "append": empty
        })
    );
    // schema.lua:127 typedefs.protocols (typedefs.lua:474-480)
    assert_eq!(p["protocols"], json!(HTTP));
    assert_eq!(p["enabled"], true);
}

#[test]
fn request_transformer_accepts_kongs_examples() {
    let p = accepted(
        json!({"name": "request-transformer", "protocols": ["http", "tcp"], "config": {
            "http_method": "POST",
            // 03-api_spec.lua "remove succeeds without colons"; validate_headers
            // (schema.lua:29-41) checks only the name before a colon
            "remove": {"headers": ["just_a_key", "x-old:ignored"], "body": ["just_a_key"], "querystring": ["just_a_key"]},
            "rename": {"headers": ["x-a:x-b"], "querystring": ["a:b"]},
            "replace": {"uri": "/new/$(uri_captures.user1)", "headers": ["Host:example.com"]},
            // 01-schema_spec.lua "validate regex pattern as value"
            "add": {"querystring": ["uri_param1:$(uri_captures.user1)", "uri_param2:value"],
                    "headers": ["X-Forwarded-Prefix:$(uri_captures['prefix'] or '/')", "X-Colons:a:b"]},
            "append": {"body": ["k:v:w"]}
        }}),
    );
    let c = &p["config"];
    assert_eq!(c["http_method"], "POST");
    assert_eq!(
        c["remove"],
        json!({"body": ["just_a_key"], "headers": ["just_a_key", "x-old:ignored"], "querystring": ["just_a_key"]})
    );
    assert_eq!(c["rename"]["body"], json!([]));
    assert_eq!(
        c["replace"],
        json!({"body": [], "headers": ["Host:example.com"], "querystring": [], "uri": "/new/$(uri_captures.user1)"})
    );
    assert_eq!(c["append"]["headers"], json!([]));
    // typedefs.protocols takes every protocol, unlike protocols_http
    assert_eq!(p["protocols"], json!(["http", "tcp"]));
}

/// typedefs.http_method `match = "^%u+$"` (typedefs.lua:247-251; MATCH message
/// "invalid value: %s", init.lua:85); 01-schema_spec.lua "errors invalid http_method".
#[test]
fn request_transformer_http_method() {
    let e = |m: Value| config_errors("request-transformer", json!({"http_method": m}));
    assert_eq!(
        e(json!("HELLO!")),
        json!({"http_method": "invalid value: HELLO!"})
    );
    assert_eq!(
        e(json!("get")),
        json!({"http_method": "invalid value: get"})
    );
    assert_eq!(
        e(json!("")),
        json!({"http_method": "length must be at least 1"})
    );
    assert_eq!(e(json!(1)), json!({"http_method": "expected a string"}));
}

/// 03-api_spec.lua "add/replace/append fails with missing colons": the
/// element `match = "^[^:]+:.*$"` (schema.lua:87) speaks before
/// validate_headers; then the name must be a header name (schema.lua:31-33,
/// kong/tools/http.lua:281-292).
#[test]
fn request_transformer_header_pairs() {
    for section in ["add", "replace", "append"] {
        let e = config_errors(
            "request-transformer",
            json!({ section: {"headers": ["just_a_key", ":v", "X Foo:bar", "X-Ok:", "ok:v"]} }),
        );
        assert_eq!(
            e,
            json!({ section: {"headers": [
                "invalid value: just_a_key",
                "invalid value: :v",
                "'X Foo' is not a valid header"
            ]}}),
            "{section}"
        );
    }
    // rename: validate_colon_headers checks the new name too (schema.lua:44-46, 105)
    let e = config_errors(
        "request-transformer",
        json!({"rename": {"headers": ["a:b c", "a:", "a::b", "x"]}}),
    );
    assert_eq!(
        e,
        json!({"rename": {"headers": [
            "'b c' is not a valid header",
            "'' is not a valid header",
            null,
            "invalid value: x"
        ]}})
    );
    // remove: names only, no `match`; a leading colon leaves the name nil
    // (`tostring(nil)`, schema.lua:30-32)
    let e = config_errors(
        "request-transformer",
        json!({"remove": {"headers": [":x", "a b", ""]}}),
    );
    assert_eq!(
        e,
        json!({"remove": {"headers": [
            "'nil' is not a valid header",
            "'a b' is not a valid header",
            "length must be at least 1"
        ]}})
    );
}

/// check_for_value (schema.lua:13-26): a value is required and must compile as
/// a Penlight template; the error is LuaJIT's (`[string "TMP"]`, template.lua:189).
#[test]
fn request_transformer_body_and_querystring_values() {
    let e = config_errors(
        "request-transformer",
        json!({"add": {"querystring": [
            "uri_param2:",
            "just_a_key",
            "uri_param2:$(uri_captures user2)",
            "a:$(x)\n$(y z)",
            "a:$(...)",
            "ok:$(unbalanced"
        ]}}),
    );
    assert_eq!(
        e,
        json!({"add": {"querystring": [
            "key 'uri_param2' has no value",
            "key 'just_a_key' has no value",
            "value '$(uri_captures user2)' is not in supported format, error:[string \"TMP\"]:1: ')' expected near 'user2'",
            "value '$(x)\n$(y z)' is not in supported format, error:[string \"TMP\"]:2: ')' expected near 'z'",
            "value '$(...)' is not in supported format, error:[string \"TMP\"]:1: cannot use '...' outside a vararg function near '...'"
        ]}})
    );
    let e = config_errors(
        "request-transformer",
        json!({"rename": {"body": ["a:'"]}, "replace": {"body": ["k:$(3..2)"]}}),
    );
    // a value without `$(...)` is one static string: it always compiles
    assert!(e.get("rename").is_none(), "{e}");
    assert_eq!(
        e["replace"]["body"][0],
        "value '$(3..2)' is not in supported format, error:[string \"TMP\"]:1: malformed number near '3..2'"
    );
    // A key-less entry makes schema.lua:16 concatenate nil: a Lua error in
    // Kong (no field message); the double refuses it with its own words.
    let e = config_errors("request-transformer", json!({"append": {"body": [":v"]}}));
    let msg = e["append"]["body"][0].as_str().unwrap();
    assert!(msg.starts_with("':v' has no key"), "{msg}");
}

/// 03-api_spec.lua "it does not allow null value for arrays"; records are
/// required too (entity.lua:15-24).
#[test]
fn request_transformer_refuses_nulls() {
    let nulls = json!({"body": null, "headers": null, "querystring": null});
    let missing = json!({
        "body": "required field missing",
        "headers": "required field missing",
        "querystring": "required field missing"
    });
    let e = config_errors(
        "request-transformer",
        json!({"remove": nulls, "rename": nulls, "replace": nulls, "add": nulls, "append": nulls}),
    );
    assert_eq!(
        e,
        json!({"remove": missing, "rename": missing, "replace": missing, "add": missing, "append": missing})
    );
    let e = config_errors(
        "request-transformer",
        json!({"remove": null, "replace": {"uri": ""}, "colour": 1}),
    );
    assert_eq!(
        e,
        json!({
            "remove": "required field missing",
            "replace": {"uri": "length must be at least 1"},
            "colour": "unknown field"
        })
    );
}

/// response-transformer/schema.lua:82-98: string records filled with empty
/// arrays, `json_types` included.
#[test]
fn response_transformer_fills_kong_defaults() {
    let p = accepted(json!({"name": "response-transformer", "config": {
        // 03-api_spec.lua "remove succeeds without colons", "rename succeeds with colons"
        "remove": {"headers": ["just_a_key"], "json": ["just_a_key"]},
        "rename": {"headers": ["x-request-id:x-custom-request-id"], "json": ["old_key:new_key"]},
        // add.headers has only the `match` (schema.lua:36): no header-name check
        "add": {"headers": ["X Odd:1"], "json": ["k:true"], "json_types": ["boolean"]}
    }}));
    let colon = json!({"json": [], "json_types": [], "headers": []});
    assert_eq!(
        p["config"],
        json!({
            "remove": {"json": ["just_a_key"], "headers": ["just_a_key"]},
            "rename": {"json": ["old_key:new_key"], "headers": ["x-request-id:x-custom-request-id"]},
            "replace": colon,
            "add": {"json": ["k:true"], "json_types": ["boolean"], "headers": ["X Odd:1"]},
            "append": colon
        })
    );
    // schema.lua:85 typedefs.protocols_http
    assert_eq!(p["protocols"], json!(HTTP));
}

#[test]
fn response_transformer_rules() {
    // 03-api_spec.lua: missing colons, and an invalid old name in rename
    let e = config_errors(
        "response-transformer",
        json!({
            "add": {"headers": ["just_a_key"], "json": ["k"], "json_types": ["int", "string"]},
            "rename": {"headers": ["x-request-idx-custom-request-id", "x-requ,est-id:x-custom-request-id", "a:b c"]},
            "remove": {"headers": [""], "json": [1]}
        }),
    );
    assert_eq!(
        e,
        json!({
            "add": {
                "headers": ["invalid value: just_a_key"],
                "json": ["invalid value: k"],
                "json_types": ["expected one of: boolean, number, string"]
            },
            "rename": {"headers": [
                "invalid value: x-request-idx-custom-request-id",
                "'x-requ,est-id' is not a valid header",
                "'b c' is not a valid header"
            ]},
            "remove": {"headers": ["length must be at least 1"], "json": ["expected a string"]}
        })
    );
    // 03-api_spec.lua "it does not allow null value for arrays"
    let e = config_errors(
        "response-transformer",
        json!({"replace": {"headers": null, "json": null, "json_types": null}, "append": null}),
    );
    assert_eq!(
        e,
        json!({
            "replace": {
                "headers": "required field missing",
                "json": "required field missing",
                "json_types": "required field missing"
            },
            "append": "required field missing"
        })
    );
    let e = rejected(json!({"name": "response-transformer", "protocols": ["tcp"]}));
    assert_eq!(
        e,
        json!({"protocols": ["expected one of: grpc, grpcs, http, https"]})
    );
}

/// redirect/schema.lua:10-36; 01-schema_spec.lua "should accept a valid location".
#[test]
fn redirect_fills_kong_defaults() {
    let p = accepted(json!({"name": "redirect", "config": {"location": "https://example.com"}}));
    assert_eq!(
        p["config"],
        json!({"status_code": 301, "location": "https://example.com", "keep_incoming_path": false})
    );
    assert_eq!(p["protocols"], json!(HTTP));
    // keep_incoming_path is not required (schema.lua:29-33): null stays null
    let p = accepted(json!({"name": "redirect", "config": {
        "status_code": 404, "location": "http://u:p@[::1]:8080/p?q#f", "keep_incoming_path": null
    }}));
    assert_eq!(p["config"]["status_code"], 404);
    assert_eq!(p["config"]["keep_incoming_path"], Value::Null);
}

/// 01-schema_spec.lua "errors"; typedefs.url's validate_url (typedefs.lua:205-221)
/// over luasocket url.parse (3.0-rc1 src/url.lua:126-175): host first, then scheme.
#[test]
fn redirect_rules() {
    let e = |c: Value| config_errors("redirect", c);
    assert_eq!(
        e(json!({"status_code": "abcd", "location": "https://example.com"})),
        json!({"status_code": "expected an integer"})
    );
    assert_eq!(
        e(json!({"status_code": null, "location": "https://example.com"})),
        json!({"status_code": "required field missing"})
    );
    for code in [99, 600] {
        assert_eq!(
            e(json!({"status_code": code, "location": "https://example.com"})),
            json!({"status_code": "value should be between 100 and 599"})
        );
    }
    assert_eq!(
        e(json!({"status_code": 301})),
        json!({"location": "required field missing"})
    );
    for (location, msg) in [
        ("definitely_not_a_url", "missing host in url"),
        ("example.com:80/x", "missing host in url"),
        ("https://", "missing host in url"),
        ("https://user@:443/x", "missing host in url"),
        ("//example.com/x", "missing scheme in url"),
        ("", "length must be at least 1"),
    ] {
        assert_eq!(
            e(json!({"location": location})),
            json!({ "location": msg }),
            "{location}"
        );
    }
    assert_eq!(
        e(json!({"location": "https://example.com", "keep_incoming_path": "invalid"})),
        json!({"keep_incoming_path": "expected a boolean"})
    );
    // Kong 3.10 has no `incoming_path` (removed before 3.10, commit 030454704e)
    assert_eq!(
        e(json!({"location": "https://example.com", "incoming_path": "ignore"})),
        json!({"incoming_path": "unknown field"})
    );
}
