//! Service, route and plugin rules, and both error body shapes.

mod common;
use common::*;
use kong_admin_double::validate;
use serde_json::json;

#[test]
fn service_host_required_and_ranges() {
    let e = fields(dc(
        json!({"services": [{"name": "s", "port": 70000, "retries": -1, "connect_timeout": 0}]}),
    ));
    assert_eq!(
        e["services"][0],
        json!({
            "host": "required field missing",
            "port": "value should be between 0 and 65535",
            "retries": "value should be between 0 and 32767",
            "connect_timeout": "value should be between 1 and 2147483646"
        })
    );
}

#[test]
fn service_protocol_dependent_fields() {
    let e = fields(dc(
        json!({"services": [{"host": "a", "protocol": "tcp", "path": "/x"}]}),
    ));
    assert_eq!(
        e["services"][0],
        json!({
            "@entity": ["failed conditional validation given value of field 'protocol'"],
            "path": "value must be null"
        })
    );
    let e = fields(dc(json!({"services": [{"host": "a", "tls_verify": true}]})));
    assert_eq!(e["services"][0]["tls_verify"], "value must be null");
    let e = fields(dc(json!({"services": [{"host": "a", "protocol": "nope"}]})));
    assert_eq!(
        e["services"][0]["protocol"],
        "expected one of: grpc, grpcs, http, https, tcp, tls, tls_passthrough, udp"
    );
}

#[test]
fn service_host_and_path_typedefs() {
    let e = fields(dc(
        json!({"services": [{"host": "a.b:80", "path": "/a//b"}]}),
    ));
    assert_eq!(
        e["services"][0],
        json!({"host": "must not have a port", "path": "must not have empty segments"})
    );
    let e = fields(dc(
        json!({"services": [{"host": "a b", "name": "bad name"}]}),
    ));
    assert_eq!(e["services"][0]["host"], "invalid value: a b");
    assert_eq!(
        e["services"][0]["name"],
        "invalid value 'bad name': the only accepted ascii characters are alphanumerics or ., -, _, and ~"
    );
}

#[test]
fn service_url_shorthand() {
    let v = validate(&dc(
        json!({"services": [{"name": "s", "url": "https://api.example.com/v1"}]}),
    ))
    .unwrap();
    let s = v.service("s").unwrap();
    assert_eq!(
        (&s["protocol"], &s["host"], &s["port"], &s["path"]),
        (
            &json!("https"),
            &json!("api.example.com"),
            &json!(443),
            &json!("/v1")
        )
    );
}

#[test]
fn http_routes_need_a_matcher() {
    let e = fields(dc(
        json!({"routes": [{"name": "r"}, {"name": "r2", "protocols": ["http"]}]}),
    ));
    assert_eq!(
        e["routes"],
        json!([
            {"@entity": ["must set one of 'methods', 'hosts', 'headers', 'paths', 'snis' when 'protocols' is 'https'"]},
            {"@entity": ["must set one of 'methods', 'hosts', 'headers', 'paths' when 'protocols' is 'http'"]}
        ])
    );
}

#[test]
fn route_protocol_groups_and_snis() {
    let e = fields(dc(
        json!({"routes": [{"protocols": ["http", "tcp"], "paths": ["/"]}]}),
    ));
    assert_eq!(
        e["routes"][0]["protocols"],
        "these sets are mutually exclusive: ('http', 'https'), ('tcp', 'tls', 'udp')"
    );
    let e = fields(dc(
        json!({"routes": [{"protocols": ["http"], "paths": ["/"], "snis": ["a.com"]}]}),
    ));
    assert_eq!(
        e["routes"][0],
        json!({
            "@entity": ["'snis' can only be set when 'protocols' is 'grpcs', 'https', 'tls' or 'tls_passthrough'"],
            "snis": "length must be 0"
        })
    );
    let e = fields(dc(json!({"routes": [{"protocols": ["nope"]}]})));
    assert_eq!(e["routes"][0], json!({"protocols": "unknown type: nope"}));
    let e = fields(dc(json!({"routes": [{"protocols": ["tcp"]}]})));
    assert_eq!(
        e["routes"][0]["@entity"][0],
        "must set one of 'sources', 'destinations', 'snis' when 'protocols' is 'tcp', 'tls' or 'udp'"
    );
}

/// Kong 3.10 routes.lua:37-41 and 183-185: route SNIs are `typedefs.wildcard_host`
/// (typedefs.lua:172-201, 282-286) unless `router_flavor` is `traditional`; the double runs
/// the default `traditional_compatible`.
#[test]
fn route_snis_take_one_leading_or_trailing_wildcard_as_kong_does() {
    let cfg = dc(json!({"services": [{"name": "s", "host": "h", "routes": [
        {"name": "r", "protocols": ["https"], "snis": ["*.example.com", "example.*", "a.example.com"]}
    ]}]}));
    if let Err(e) = validate(&cfg) {
        panic!("Kong accepts wildcard route SNIs: {}", e.fields_json());
    }
    let e = fields(dc(json!({"routes": [{"protocols": ["https"], "snis": [
        "a.*.com", "*.a.*", "10.0.0.1", "*.a.com:443"
    ]}]})));
    assert_eq!(
        e["routes"][0]["snis"],
        json!([
            "wildcard must be leftmost or rightmost character", // typedefs.lua:175-177
            "only one wildcard must be specified",              // typedefs.lua:181-183
            "must not be an IP",                                // typedefs.lua:193-195
            "must not have a port"                              // typedefs.lua:197-199
        ]),
        "{e}"
    );
}

#[test]
fn route_paths_methods_hosts_headers() {
    let e = fields(dc(json!({"routes": [{
        "paths": ["api", "/a/./b", "~/x("], "methods": ["get"], "hosts": ["a.*.com"],
        "headers": {"Host": ["x"]}
    }]})));
    let r = &e["routes"][0];
    assert_eq!(
        r["paths"][0],
        "should start with: / (fixed path) or ~/ (regex path)"
    );
    assert_eq!(
        r["paths"][1],
        "non-normalized path, consider use '/a/b' instead"
    );
    assert!(
        r["paths"][2]
            .as_str()
            .unwrap()
            .starts_with("invalid regex: '/x(' (PCRE returned: ")
    );
    assert_eq!(r["methods"][0], "invalid value: get");
    assert_eq!(
        r["hosts"][0],
        "invalid wildcard: must be placed at leftmost or rightmost label"
    );
    assert_eq!(
        r["headers"],
        "cannot contain 'host' header, which must be specified in the 'hosts' attribute"
    );
}

#[test]
fn grpc_routes_cannot_strip_path() {
    let e = fields(dc(
        json!({"routes": [{"protocols": ["grpc"], "paths": ["/"], "strip_path": true}]}),
    ));
    assert_eq!(
        e["routes"][0]["strip_path"],
        "cannot set 'strip_path' when 'protocols' is 'grpc' or 'grpcs'"
    );
    let v = validate(&dc(
        json!({"routes": [{"name": "g", "protocols": ["grpc"], "paths": ["/"]}]}),
    ))
    .unwrap();
    assert_eq!(v.route("g").unwrap()["strip_path"], false);
}

#[test]
fn route_references_resolve() {
    let e = fields(dc(
        json!({"routes": [{"name": "r", "paths": ["/"], "service": "nope"}]}),
    ));
    assert_eq!(
        e,
        json!({"routes": {"r": ["invalid reference 'service: nope' (no such entry in 'services')"]}})
    );
    let e = fields(dc(
        json!({"services": [{"name": "s", "host": "a", "routes": [{"name": "r", "paths": ["/"]}]}],
                             "routes": [{"name": "r", "paths": ["/"]}]}),
    ));
    assert_eq!(
        e["routes"][0],
        "uniqueness violation: 'routes' entity with name set to 'r' already declared"
    );
}

#[test]
fn legacy_format_version_migrates_regex_paths() {
    let v = validate(
        &json!({"_format_version": "2.1", "routes": [{"name": "r", "paths": ["/v\\d+/"]}]}),
    )
    .unwrap();
    assert_eq!(v.route("r").unwrap()["paths"], json!(["~/v\\d+/"]));
    let e = fields(json!({"_format_version": "4.0", "foo": 1}));
    assert_eq!(
        e,
        json!({"_format_version": "expected one of: 1.1, 2.1, 3.0", "foo": "unknown field"})
    );
    assert_eq!(
        fields(json!({})),
        json!({"_format_version": "required field missing"})
    );
}

#[test]
fn rate_limiting_rules() {
    let rl = |config: serde_json::Value| {
        fields(dc(
            json!({"plugins": [{"name": "rate-limiting", "config": config}]}),
        ))["plugins"][0]
            .clone()
    };
    assert_eq!(
        rl(json!({"minute": 20, "hour": 10})),
        json!({"config": "The limit for hour(10.0) cannot be lower than the limit for minute(20.0)"})
    );
    assert_eq!(
        rl(json!({})),
        json!({"@entity": ["at least one of these fields must be non-empty: 'config.second', 'config.minute', 'config.hour', 'config.day', 'config.month', 'config.year'"]})
    );
    assert_eq!(
        rl(json!({"minute": 0}))["config"]["minute"],
        "value must be greater than 0"
    );
    assert_eq!(
        rl(json!({"minute": 5, "policy": "cluster"}))["config"]["policy"],
        "expected one of: local, redis"
    );
    assert_eq!(
        rl(json!({"minute": 5, "limit_by": "header"})),
        json!({
            "@entity": ["failed conditional validation given value of field 'config.limit_by'"],
            "config": {"header_name": "required field missing"}
        })
    );
    assert_eq!(
        rl(json!({"minute": 5, "sync_rate": 1})),
        json!({"config": "sync_rate can only be used with the redis policy"})
    );
    // Kong 3.10 kong/tools/redis/schema.lua:10 defaults the port (no host/port check since
    // commit cb1a3c1c0b), so only rate-limiting/schema.lua:29-32 speaks.
    assert_eq!(
        rl(json!({"minute": 5, "policy": "redis", "redis": {"host": "r"}, "sync_rate": 0.01})),
        json!({"config": "sync_rate must be greater than 0.02, or -1 to disable"})
    );
    assert_eq!(
        rl(json!({"minute": 5, "policy": "redis"}))["@entity"][0],
        "failed conditional validation given value of field 'config.policy'"
    );
}

#[test]
fn rate_limiting_legacy_redis_fields_map_into_redis() {
    let v = validate(&dc(json!({"plugins": [{"name": "rate-limiting", "config": {
        "minute": 5, "policy": "redis", "redis_host": "redis.ns", "redis_port": 6380, "redis": {"port": 6379}
    }}]}))).unwrap();
    let c = &v.plugins()[0]["config"];
    assert_eq!(
        (
            &c["redis"]["host"],
            &c["redis"]["port"],
            &c["redis"]["timeout"]
        ),
        (&json!("redis.ns"), &json!(6379), &json!(2000))
    );
    assert!(c.get("redis_host").is_none());
    assert_eq!(
        v.plugins()[0]["protocols"],
        json!(["grpc", "grpcs", "http", "https"])
    );
}

#[test]
fn request_termination_rules_and_unsupported_plugins() {
    let e = fields(dc(json!({"plugins": [
        {"name": "request-termination", "config": {"message": "m", "body": "b"}},
        {"name": "request-termination", "config": {"status_code": 600}},
        {"name": "cors"},
        {"name": "not-a-plugin"}
    ]})));
    assert_eq!(
        e["plugins"],
        json!([
            {"config": "message cannot be used with content_type or body"},
            {"config": {"status_code": "value should be between 100 and 599"}},
            {"name": "plugin 'cors' is not supported by the Kong admin API test double (it cannot validate its config schema)"},
            {"name": "plugin 'not-a-plugin' not enabled; add it to the 'plugins' configuration property"}
        ])
    );
}

#[test]
fn duplicate_plugins_on_one_entity_collide() {
    let e = fields(dc(
        json!({"services": [{"name": "s", "host": "a", "plugins": [
            {"name": "request-termination"}, {"name": "request-termination"}
        ]}]}),
    ));
    let msg = e["services"][0]["plugins"][1].as_str().unwrap();
    assert!(
        msg.starts_with("uniqueness violation: 'plugins' entity with primary key set to"),
        "{msg}"
    );
}

#[test]
fn unsupported_entities_are_refused() {
    let e = fields(dc(json!({"keys": []})));
    assert_eq!(
        e["keys"],
        "'keys' entities are not supported by the Kong admin API test double"
    );
}

/// Kong OSS has the `env` vault only (vaults.lua:50 for the others).
#[test]
fn vaults_env_only_with_kongs_prefix_rules() {
    assert!(
        validate(&dc(json!({"vaults": [
            {"name": "env", "prefix": "my-env", "config": {"prefix": "SECRET_"}, "tags": ["t"]}
        ]})))
        .is_ok()
    );
    let e = fields(dc(json!({"vaults": [
        {"name": "aws", "prefix": "aws-secrets"},
        {"name": "env", "prefix": "env"},
    ]})));
    assert_eq!(e["vaults"][0]["name"], "vault 'aws' is not installed");
    assert_eq!(e["vaults"][1]["prefix"], "must not be one of: env");
}

#[test]
fn non_flattened_body_shape() {
    let err = validate(&dc(json!({"services": [{"name": "s"}]}))).unwrap_err();
    assert_eq!(
        err.to_kong_json(),
        json!({
            "code": 14,
            "name": "invalid declarative configuration",
            "message": "declarative config is invalid: {services={{host=\"required field missing\"}}}",
            "fields": {"services": [{"host": "required field missing"}]}
        })
    );
}

#[test]
fn flattened_body_shape() {
    let cfg = json!({"_format_version": "3.0", "extra": 1, "services": [
        {"name": "ok", "host": "a", "tags": ["t1"], "routes": [{"name": "r1", "tags": ["rt"]}]},
        {"id": "0175e0e8-3de9-56b4-96f1-b12dcb4b6691", "name": "bad", "host": "a", "protocol": "tcp", "path": "/p"}
    ], "upstreams": [{"name": "u", "healthchecks": {"active": {"concurrency": -1}}, "host_header": 123}]});
    let body = validate(&cfg).unwrap_err().to_kong_flattened_json();
    assert_eq!(body["fields"], json!({"extra": "unknown field"}));
    assert_eq!(
        body["message"],
        "declarative config is invalid: {extra=\"unknown field\"}"
    );
    assert_eq!(
        body["flattened_errors"],
        json!([
            {"entity": {"name": "u", "healthchecks": {"active": {"concurrency": -1}}, "host_header": 123},
             "entity_name": "u", "entity_type": "upstream",
             "errors": [
                {"type": "field", "field": "host_header", "message": "expected a string"},
                {"type": "field", "field": "healthchecks.active.concurrency", "message": "value should be between 1 and 2147483648"}
             ]},
            {"entity": {"id": "0175e0e8-3de9-56b4-96f1-b12dcb4b6691", "name": "bad", "host": "a", "protocol": "tcp", "path": "/p"},
             "entity_id": "0175e0e8-3de9-56b4-96f1-b12dcb4b6691", "entity_name": "bad", "entity_type": "service",
             "errors": [
                {"type": "field", "field": "path", "message": "value must be null"},
                {"type": "entity", "message": "failed conditional validation given value of field 'protocol'"}
             ]},
            {"entity": {"name": "r1", "tags": ["rt"]}, "entity_name": "r1", "entity_tags": ["rt"], "entity_type": "route",
             "errors": [{"type": "entity", "message": "must set one of 'methods', 'hosts', 'headers', 'paths', 'snis' when 'protocols' is 'https'"}]}
        ])
    );
}

/// Kong's second, full-schema pass: foreign keys given as primary keys are
/// accepted (nested or not), and a nested entity inherits its parent's id.
#[test]
fn foreign_keys_as_primary_keys() {
    let sid = "5cb0c675-fa3f-52d7-85ba-848e95a0e7b9";
    let route = json!({"name": "r", "paths": ["/"], "service": {"id": sid}});
    let v = validate(&dc(json!({"services": [
        {"name": "s", "id": sid, "host": "h", "routes": [route.clone()]}
    ]})))
    .unwrap();
    assert_eq!(v.routes()[0]["service"], json!({"id": sid}));
    let mut top = route.clone();
    top["name"] = json!("r2");
    validate(&dc(
        json!({"services": [{"name": "s", "id": sid, "host": "h"}], "routes": [top]}),
    ))
    .unwrap();
    // a bad parent id fails the children's implied foreign key too
    let e = fields(dc(json!({"services": [
        {"name": "s", "id": "bad", "host": "h", "routes": [{"name": "r", "paths": ["/"]}]}
    ]})));
    assert_eq!(
        e,
        json!({"services": [{"id": "expected a valid UUID",
                             "routes": [{"service": {"id": "expected a valid UUID"}}]}]})
    );
}

/// Kong 3.10 kong/db/schema/entity.lua:15-24 makes every record of an entity required
/// (plugin `config` and the rate-limiting `config.redis` included); plugins.lua:27 and
/// request-termination/schema.lua:17 say `required = true`. An explicit null stays null in
/// process_auto_fields (init.lua adjust_field_for_context) and is then "required field missing".
#[test]
fn required_plugin_fields_refuse_an_explicit_null() {
    let plugin = |p: serde_json::Value| fields(dc(json!({ "plugins": [p] })))["plugins"][0].clone();
    assert_eq!(
        plugin(json!({"name": "request-termination", "config": null}))["config"],
        "required field missing"
    );
    assert_eq!(
        plugin(json!({"name": "request-termination", "enabled": null}))["enabled"],
        "required field missing"
    );
    assert_eq!(
        plugin(json!({"name": "request-termination", "config": {"status_code": null}}))["config"]["status_code"],
        "required field missing"
    );
    assert_eq!(
        plugin(json!({"name": "rate-limiting", "config": {"minute": 5, "redis": null}}))["config"]
            ["redis"],
        "required field missing"
    );
}

/// Kong 3.10 kong/tools/redis/schema.lua:10: `port` defaults to 6379 (and, since commit
/// cb1a3c1c0b, host and port are no longer mutually required).
#[test]
fn redis_port_defaults_to_6379() {
    let v = validate(&dc(
        json!({"plugins": [{"name": "rate-limiting", "config": {
            "minute": 5, "policy": "redis", "redis": {"host": "redis.ns"}
        }}]}),
    ))
    .unwrap_or_else(|e| panic!("Kong accepts this: {}", e.fields_json()));
    assert_eq!(v.plugins()[0]["config"]["redis"]["port"], 6379);
}

/// Kong 3.10 kong/tools/redis/schema.lua:12-19: `username` and `password` are
/// `referenceable`, so a `{vault://...}` reference skips their checks (init.lua:995-997) and is
/// kept as written (Kong resolves it at run time); a reference in a field that is not
/// referenceable is an ordinary string (here `host`, a hostname, refuses it).
#[test]
fn vault_references_in_plugin_config_are_kept() {
    let reference = "{vault://redis-env/password}";
    let v = validate(&dc(json!({"plugins": [{"name": "rate-limiting", "config": {
        "minute": 5, "policy": "redis",
        "redis": {"host": "redis.ns", "username": "{vault://redis-env/user}", "password": reference}
    }}]})))
    .unwrap_or_else(|e| panic!("Kong accepts references: {}", e.fields_json()));
    assert_eq!(v.plugins()[0]["config"]["redis"]["password"], reference);
    let e = validate(&dc(
        json!({"plugins": [{"name": "rate-limiting", "config": {
            "minute": 5, "policy": "redis", "redis": {"host": reference}
        }}]}),
    ))
    .expect_err("typedefs.host is not referenceable");
    assert!(
        e.fields_json()["plugins"][0]["config"]["redis"]["host"].is_string(),
        "{}",
        e.fields_json()
    );
}

/// Kong 3.10 init.lua:1221 and 2610-2617: `updated_at` is never validated, in any record.
#[test]
fn updated_at_is_not_validated() {
    let cfg = dc(
        json!({"services": [{"name": "s", "host": "h", "updated_at": "yesterday",
        "routes": [{"name": "r", "paths": ["/"], "updated_at": [1]}]}]}),
    );
    if let Err(e) = validate(&cfg) {
        panic!("Kong skips updated_at: {}", e.fields_json());
    }
}

/// Kong 3.10 init.lua:429-438: `is_nonempty("")` is false, so `at_least_one_of` (594-605)
/// counts an empty string as missing.
#[test]
fn an_empty_string_does_not_satisfy_at_least_one_of() {
    let e = fields(dc(json!({"consumers": [{"username": ""}]})));
    assert_eq!(
        e["consumers"][0]["@entity"],
        json!(["at least one of these fields must be non-empty: 'custom_id', 'username'"]),
        "{e}"
    );
}

/// Kong 3.10 declarative_config.lua:928-943: `unique` fields that are not
/// endpoint keys collide in flatten's last pass, keyed by the endpoint key
/// (936-937); `errs[entity]` is rebuilt for each hit (935), so only the last
/// one is reported.
#[test]
fn duplicate_custom_ids_report_only_the_last() {
    let e = fields(dc(json!({"consumers": [
        {"username": "a", "custom_id": "x"},
        {"username": "b", "custom_id": "x"},
        {"username": "c", "custom_id": "x"},
        {"username": "d", "custom_id": "y"},
    ]})));
    assert_eq!(
        e,
        json!({"consumers": {"c": "uniqueness violation: 'consumers' entity with custom_id set to 'x' already declared"}})
    );
}
