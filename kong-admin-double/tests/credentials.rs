//! Consumer credentials (acls, basicauth_credentials, keyauth_credentials,
//! hmacauth_credentials, jwt_secrets, oauth2_credentials) in `/config`:
//! nested in a consumer or at the top level naming it, ids, references and
//! uniqueness, as Kong 3.10's kong/plugins/*/daos.lua and
//! kong/db/schema/others/declarative_config.lua (`dc.lua`) make them. Cases
//! marked "Kong spec" are spec/01-unit/01-db/01-schema/11-declarative_config
//! (01-validate_spec.lua, 03-flatten_spec.lua).

mod common;
use common::*;
use kong_admin_double::{ValidConfig, validate};
use serde_json::{Value, json};

/// `generate_uuid(entity, key)`: dc.lua:613-625.
fn kong_id(entity: &str, key: &str) -> String {
    let root = uuid::uuid!("fd02801f-0957-4a15-a55a-c8d9606f30b5");
    let ns = uuid::Uuid::new_v5(&root, entity.as_bytes());
    uuid::Uuid::new_v5(&ns, key.as_bytes()).to_string()
}

fn accepted(cfg: Value) -> ValidConfig {
    match validate(&cfg) {
        Ok(v) => v,
        Err(e) => panic!("Kong accepts {cfg}: {}", e.fields_json()),
    }
}

/// kong/tools/rand.lua random_string: 32 characters of `[A-Za-z0-9]`.
fn is_random_string(v: &Value) -> bool {
    v.as_str()
        .is_some_and(|s| s.len() == 32 && s.bytes().all(|b| b.is_ascii_alphanumeric()))
}

const TRANSFORM_ERR: &str = "all or none of these fields must be set: 'password', 'consumer.id'";

/// Every credential type nested in a consumer: the parent becomes its
/// `consumer` (dc.lua:454-456), defaults and `auto` values are filled
/// (init.lua:1915-1918), ids follow Kong's scheme (dc.lua:583-683).
#[test]
fn credentials_nested_in_a_consumer() {
    let cfg = dc(json!({"consumers": [{
        "username": "alice",
        "acls": [{"group": "admins"}],
        "basicauth_credentials": [{"username": "alice-basic", "password": "pw"}],
        "keyauth_credentials": [{"key": "k1"}, {}, {"key": "k3", "ttl": 3600}],
        "hmacauth_credentials": [{"username": "alice-hmac"}],
        "jwt_secrets": [{"key": "iss-1"}],
        "oauth2_credentials": [{"name": "app", "redirect_uris": ["https://example.com/cb"]}]
    }]}));
    let v = accepted(cfg.clone());
    let alice = kong_id("consumers", "alice");
    let owner = json!({"id": alice});
    for ty in [
        "acls",
        "basicauth_credentials",
        "keyauth_credentials",
        "hmacauth_credentials",
        "jwt_secrets",
        "oauth2_credentials",
    ] {
        assert!(!v.entities(ty).is_empty(), "{ty}");
        for e in v.entities(ty) {
            assert_eq!(e["consumer"], owner, "{ty}: {e}");
        }
    }
    // cache key { consumer, group } with the parent's id (dc.lua:593-595)
    let acl = &v.entities("acls")[0];
    assert_eq!(
        acl["id"],
        kong_id("acls", &format!("acls:*:{alice}:admins"))
    );
    assert_eq!(acl["group"], "admins");
    // cache key { username } (basic-auth/daos.lua:8); the password is hashed
    // only when loaded (import.lua:468-478), not in flatten's output
    let basic = &v.entities("basicauth_credentials")[0];
    assert_eq!(
        basic["id"],
        kong_id(
            "basicauth_credentials",
            "basicauth_credentials:*:alice-basic"
        )
    );
    assert_eq!(basic["password"], "pw");
    let hmac = &v.entities("hmacauth_credentials")[0];
    assert_eq!(
        hmac["id"],
        kong_id("hmacauth_credentials", "hmacauth_credentials:*:alice-hmac")
    );
    assert!(is_random_string(&hmac["secret"]), "{hmac}");
    // key-auth: `key` is auto (key-auth/daos.lua:17); ttl kept (dc.lua:946-948)
    let keys = v.entities("keyauth_credentials");
    assert_eq!(keys[0]["key"], "k1");
    assert!(is_random_string(&keys[1]["key"]), "{}", keys[1]);
    assert_eq!(keys[2]["ttl"], 3600);
    assert!(keys[0].get("ttl").is_none());
    // jwt/daos.lua:27-29: secret auto, algorithm HS256
    let jwt = &v.entities("jwt_secrets")[0];
    assert_eq!(jwt["key"], "iss-1");
    assert_eq!(jwt["algorithm"], "HS256");
    assert!(is_random_string(&jwt["secret"]), "{jwt}");
    // oauth2/daos.lua:34-45 (Kong spec 03-flatten "accepts entities")
    let app = &v.entities("oauth2_credentials")[0];
    assert!(is_random_string(&app["client_id"]), "{app}");
    assert!(is_random_string(&app["client_secret"]), "{app}");
    assert_eq!(app["client_type"], "confidential");
    assert_eq!(app["hash_secret"], false);
    assert_eq!(app["redirect_uris"], json!(["https://example.com/cb"]));
    // ids whose cache key has an auto field are random in Kong
    // (dc.lua:586-587); all ids differ
    let mut ids: Vec<&Value> = keys.iter().map(|k| &k["id"]).collect();
    ids.dedup();
    assert_eq!(ids.len(), 3);
    // the double's generated values are stable from one post to the next
    assert_eq!(accepted(cfg), v);
}

/// Top-level credentials name their consumer by username or id
/// (dc.lua:228-250, 464-467), resolved to `{id}` (dc.lua:918-922).
#[test]
fn top_level_credentials_name_their_consumer() {
    let bob = "0fe87b4a-ce29-515a-88ec-8547e66550b9";
    let v = accepted(dc(json!({
        "consumers": [{"username": "alice"}, {"id": bob, "custom_id": "b"}],
        "acls": [{"consumer": "alice", "group": "g"}, {"consumer": bob, "group": "g"}],
        "basicauth_credentials": [{"consumer": "alice", "username": "u", "password": "p"}],
        "keyauth_credentials": [{"consumer": bob, "key": "k"}],
        "hmacauth_credentials": [{"consumer": "alice", "username": "h"}],
        "jwt_secrets": [{"consumer": bob}],
        "oauth2_credentials": [{"consumer": "alice", "name": "app"}]
    })));
    let alice = json!({"id": kong_id("consumers", "alice")});
    let acls = v.entities("acls");
    assert_eq!(acls[0]["consumer"], alice);
    assert_eq!(acls[1]["consumer"], json!({"id": bob}));
    // the cache key holds the reference as written (dc.lua:589-590)
    assert_eq!(acls[0]["id"], kong_id("acls", "acls:*:alice:g"));
    assert_eq!(acls[1]["id"], kong_id("acls", &format!("acls:*:{bob}:g")));
    assert_eq!(v.entities("basicauth_credentials")[0]["consumer"], alice);
    assert_eq!(
        v.entities("keyauth_credentials")[0]["consumer"],
        json!({"id": bob})
    );
    assert_eq!(v.entities("hmacauth_credentials")[0]["consumer"], alice);
    assert_eq!(v.entities("jwt_secrets")[0]["consumer"], json!({"id": bob}));
    assert_eq!(v.entities("oauth2_credentials")[0]["consumer"], alice);
}

/// The foreign key is required at the top level (dc.lua:228-250 keeps
/// `required`), beside each DAO's own required fields.
#[test]
fn top_level_credentials_need_their_fields() {
    let e = fields(dc(json!({
        "acls": [{}],
        "basicauth_credentials": [{}],
        "keyauth_credentials": [{}],
        "hmacauth_credentials": [{}],
        "jwt_secrets": [{}],
        "oauth2_credentials": [{}]
    })));
    let missing = "required field missing";
    assert_eq!(
        e,
        json!({
            // acl/daos.lua:13-14
            "acls": [{"consumer": missing, "group": missing}],
            // basic-auth/daos.lua:16-18
            "basicauth_credentials": [{"consumer": missing, "username": missing, "password": missing}],
            // key-auth/daos.lua:16-17 (`key` is not required)
            "keyauth_credentials": [{"consumer": missing}],
            // hmac-auth/daos.lua:17-19
            "hmacauth_credentials": [{"consumer": missing, "username": missing}],
            // jwt/daos.lua:25-28
            "jwt_secrets": [{"consumer": missing}],
            // oauth2/daos.lua:32-36 (Kong spec 01-validate "verifies required fields")
            "oauth2_credentials": [{"consumer": missing, "name": missing}]
        })
    );
    // strings must not be empty (init.lua:991-993); tags are typedefs.tags
    let e = fields(dc(json!({"consumers": [{"username": "a",
        "acls": [{"group": "", "tags": ["ok", 1]}],
        "hmacauth_credentials": [{"username": "", "secret": ""}]}]})));
    assert_eq!(
        e,
        json!({"consumers": [{
            "acls": [{"group": "length must be at least 1", "tags": [null, "expected a string"]}],
            "hmacauth_credentials": [{"username": "length must be at least 1",
                                      "secret": "length must be at least 1"}]
        }]})
    );
}

/// A reference that names no consumer: dc.lua:489-497, filed under the
/// endpoint key or else the id (`at = key or item_id or i`, 448).
#[test]
fn references_to_missing_consumers() {
    let e = fields(dc(json!({
        "keyauth_credentials": [{"consumer": "nobody", "key": "k"}],
        "acls": [{"consumer": "nobody", "group": "g"}]
    })));
    let msg = json!(["invalid reference 'consumer: nobody' (no such entry in 'consumers')"]);
    assert_eq!(e["keyauth_credentials"]["k"], msg);
    assert_eq!(e["acls"][kong_id("acls", "acls:*:nobody:g")], msg);
    // Kong spec 03-flatten "fails with invalid foreign key references": under
    // each credential's (generated) client_id
    let e = fields(dc(json!({"oauth2_credentials": [
        {"name": "a", "consumer": "foo"}, {"name": "b", "consumer": "foo"}
    ]})));
    let errs = e["oauth2_credentials"].as_object().unwrap();
    assert_eq!(errs.len(), 2);
    for (client_id, err) in errs {
        assert!(is_random_string(&json!(client_id)), "{client_id}");
        assert_eq!(
            err,
            &json!(["invalid reference 'consumer: foo' (no such entry in 'consumers')"])
        );
    }
}

/// basic-auth/daos.lua:21-29 `needs = { "consumer.id" }`: the first pass
/// never has it (nested: no consumer; top level: a string), Kong's second
/// pass fills it in (dc.lua:721-789). Kong spec 03-flatten
/// "basicauth_credentials:", case by case.
#[test]
fn basic_auth_password_needs_the_consumer_id() {
    let id = "0fe87b4a-ce29-515a-88ec-8547e66550b9";
    let nested = |consumer: Value| {
        let mut cred = json!({"username": "username", "password": "password"});
        if !consumer.is_null() {
            cred["consumer"] = consumer;
        }
        dc(json!({"consumers": [{"id": id, "username": "consumer",
                                 "basicauth_credentials": [cred]}]}))
    };
    // "accepts as a nested entity", "... by id", "... by username"
    for c in [Value::Null, json!(id), json!("consumer")] {
        let v = accepted(nested(c));
        assert_eq!(
            v.entities("basicauth_credentials")[0]["consumer"],
            json!({"id": id})
        );
    }
    // "fails as a nested entity by incorrect id" / "... by incorrect username"
    for c in [
        json!("00000000-0000-0000-0000-000000000000"),
        json!("incorrect"),
    ] {
        assert_eq!(
            fields(nested(c)),
            json!({"consumers": [{"basicauth_credentials": [{
                "@entity": [TRANSFORM_ERR],
                "consumer": "value must be null"
            }]}]})
        );
    }
    let top = |consumer: &str| {
        dc(json!({"consumers": [{"id": id, "username": "consumer"}],
                  "basicauth_credentials": [{"consumer": consumer, "username": "username",
                                             "password": "password"}]}))
    };
    // "accepts as an unnested entity by id" / "... by username"
    accepted(top(id));
    accepted(top("consumer"));
    // an id Kong derives from the username resolves too (dc.lua:742-756)
    let derived = kong_id("consumers", "b");
    accepted(dc(json!({"consumers": [{"username": "b"}],
        "basicauth_credentials": [{"consumer": derived, "username": "u", "password": "p"}]})));
    // "fails as an unnested entity by incorrect id" / "... by incorrect username"
    for c in ["00000000-0000-0000-0000-000000000000", "incorrect"] {
        assert_eq!(
            fields(top(c)),
            json!({"basicauth_credentials": [{
                "@entity": [TRANSFORM_ERR],
                "consumer": {"id": "missing primary key"}
            }]})
        );
    }
    // the first pass's transformation error is gone when the config fails
    // for another reason: only the full pass's errors are answered (dc.lua:873-876)
    let e = fields(dc(json!({
        "consumers": [{"username": "a", "basicauth_credentials": [{"username": "u", "password": "p"}]}],
        "acls": [{"consumer": "a"}]
    })));
    assert_eq!(e, json!({"acls": [{"group": "required field missing"}]}));
    // an explicit null is not replaced by the parent (`not item[child_key]`,
    // dc.lua:766, is false for ngx.null): the full pass needs the required
    // foreign key (basic-auth/daos.lua:16) and `consumer.id`
    let mut cfg = nested(Value::Null);
    cfg["consumers"][0]["basicauth_credentials"][0]["consumer"] = Value::Null;
    assert_eq!(
        fields(cfg),
        json!({"consumers": [{"basicauth_credentials": [{
            "@entity": [TRANSFORM_ERR],
            "consumer": "required field missing"
        }]}]})
    );
    // no password, no transformation check (init.lua:1473-1481, 1503)
    let e = fields(dc(json!({"consumers": [{"username": "a",
        "basicauth_credentials": [{"username": "u"}]}]})));
    assert_eq!(
        e,
        json!({"consumers": [{"basicauth_credentials": [{"password": "required field missing"}]}]})
    );
}

/// Endpoint keys are unique across the config (dc.lua:414-424); a nested
/// duplicate is filed under its parent (add_error, dc.lua:365-380).
#[test]
fn duplicate_keys_and_usernames() {
    let msg = |ty: &str, field: &str, v: &str| {
        json!(format!(
            "uniqueness violation: '{ty}' entity with {field} set to '{v}' already declared"
        ))
    };
    // key-auth/daos.lua:17 `unique`, nested in two consumers
    let e = fields(dc(json!({"consumers": [
        {"username": "a", "keyauth_credentials": [{"key": "k"}]},
        {"username": "b", "keyauth_credentials": [{"key": "x"}, {"key": "k"}]}
    ]})));
    assert_eq!(
        e,
        json!({"consumers": [null, {"keyauth_credentials": [null, msg("keyauth_credentials", "key", "k")]}]})
    );
    // a top-level duplicate of a nested key: consumers come first in Kong's
    // order (topological_sort.lua), so the top-level one is refused
    let e = fields(dc(json!({
        "consumers": [{"username": "a", "keyauth_credentials": [{"key": "k"}]}],
        "keyauth_credentials": [{"consumer": "a", "key": "k"}]
    })));
    assert_eq!(
        e,
        json!({"keyauth_credentials": [msg("keyauth_credentials", "key", "k")]})
    );
    // basic-auth/daos.lua:17, hmac-auth/daos.lua:18, jwt/daos.lua:26,
    // oauth2/daos.lua:34: all endpoint keys
    let e = fields(dc(json!({
        "consumers": [{"username": "a"}],
        "basicauth_credentials": [{"consumer": "a", "username": "u", "password": "p"},
                                  {"consumer": "a", "username": "u", "password": "q"}],
        "hmacauth_credentials": [{"consumer": "a", "username": "h"},
                                 {"consumer": "a", "username": "h"}],
        "jwt_secrets": [{"consumer": "a", "key": "iss"}, {"consumer": "a", "key": "iss"}],
        "oauth2_credentials": [{"consumer": "a", "name": "x", "client_id": "c"},
                               {"consumer": "a", "name": "y", "client_id": "c"}]
    })));
    assert_eq!(
        e,
        json!({
            "basicauth_credentials": [null, msg("basicauth_credentials", "username", "u")],
            "hmacauth_credentials": [null, msg("hmacauth_credentials", "username", "h")],
            "jwt_secrets": [null, msg("jwt_secrets", "key", "iss")],
            "oauth2_credentials": [null, msg("oauth2_credentials", "client_id", "c")]
        })
    );
    // the same username for basic-auth and hmac-auth is fine: per entity
    accepted(dc(json!({"consumers": [{"username": "a",
        "basicauth_credentials": [{"username": "u", "password": "p"}],
        "hmacauth_credentials": [{"username": "u"}]}]})));
}

/// acls have no endpoint key: a repeated (consumer, group) gives the same
/// cache-key id (acl/daos.lua:8, dc.lua:583-610) and collides as a primary
/// key (dc.lua:426-436). The same group in two consumers is fine.
#[test]
fn duplicate_acl_groups_collide_on_their_id() {
    let e = fields(dc(json!({"consumers": [
        {"username": "a", "acls": [{"group": "g"}, {"group": "g"}]},
        {"username": "b", "acls": [{"group": "g"}]}
    ]})));
    let id = kong_id("acls", &format!("acls:*:{}:g", kong_id("consumers", "a")));
    assert_eq!(
        e,
        json!({"consumers": [{"acls": [null, format!(
            "uniqueness violation: 'acls' entity with primary key set to '{id}' already declared"
        )]}]})
    );
    let v = accepted(dc(json!({"consumers": [
        {"username": "a", "acls": [{"group": "g"}, {"group": "h"}]},
        {"username": "b", "acls": [{"group": "g"}]}
    ]})));
    assert_eq!(v.entities("acls").len(), 3);
}

/// consumers.lua:33 `at_least_one_of`, :18 `username` unique (endpoint key).
#[test]
fn consumers_need_a_username_or_custom_id() {
    let e = fields(dc(
        json!({"consumers": [{"keyauth_credentials": [{"key": "k"}]}]}),
    ));
    assert_eq!(
        e,
        json!({"consumers": [{"@entity": [
            "at least one of these fields must be non-empty: 'custom_id', 'username'"
        ]}]})
    );
    let e = fields(dc(
        json!({"consumers": [{"username": "a"}, {"username": "a"}]}),
    ));
    assert_eq!(
        e,
        json!({"consumers": [null, "uniqueness violation: 'consumers' entity with username set to 'a' already declared"]})
    );
    accepted(dc(
        json!({"consumers": [{"custom_id": "c", "acls": [{"group": "g"}]}]}),
    ));
}

/// Entities Kong OSS does not know, like Kong Enterprise's
/// mtls_auth_credentials, are unknown fields (init.lua:1120-1124), top-level
/// or nested; the oauth2 tokens and codes Kong OSS has are refused by the
/// double (not modelled).
#[test]
fn unknown_and_unmodelled_credential_entities() {
    let e = fields(dc(json!({
        "consumers": [{"username": "a", "mtls_auth_credentials": [{"subject_name": "x"}]}],
        "mtls_auth_credentials": [{"consumer": "a", "subject_name": "x"}]
    })));
    assert_eq!(
        e,
        json!({"consumers": [{"mtls_auth_credentials": "unknown field"}],
               "mtls_auth_credentials": "unknown field"})
    );
    let e = fields(dc(json!({
        "consumers": [{"username": "a", "oauth2_credentials": [{"name": "n"}]}],
        "oauth2_credentials": [{"consumer": "a", "name": "m", "oauth2_tokens": [{"expires_in": 1}]}],
        "oauth2_tokens": []
    })));
    let msg =
        |t: &str| format!("'{t}' entities are not supported by the Kong admin API test double");
    assert_eq!(
        e,
        json!({"oauth2_credentials": [{"oauth2_tokens": msg("oauth2_tokens")}],
               "oauth2_tokens": msg("oauth2_tokens")})
    );
}
