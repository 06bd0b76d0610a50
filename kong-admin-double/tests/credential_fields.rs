//! Field rules of the consumer credentials: jwt_secrets' algorithms and
//! public keys (kong/plugins/jwt/daos.lua), oauth2_credentials
//! (kong/plugins/oauth2/daos.lua), key-auth's `ttl`
//! (kong/plugins/key-auth/daos.lua), and the flattened error body. Kong 3.10
//! (master 22246ef28c); `init.lua` is kong/db/schema/init.lua.

mod common;
use common::*;
use kong_admin_double::validate;
use serde_json::{Value, json};

const RSA_PUBLIC: &str = include_str!("fixtures/tls/rsa-public.pem");
const EC_PUBLIC: &str = include_str!("fixtures/tls/ec-public.pem");
const ED25519_PUBLIC: &str = include_str!("fixtures/tls/ed25519-public.pem");
const RSA_KEY: &str = include_str!("fixtures/tls/rsa.key");

/// A config with one consumer holding `creds` of type `ty`.
fn nested(ty: &str, creds: Value) -> Value {
    dc(json!({"consumers": [{"username": "a", ty: creds}]}))
}

fn jwt_ok(secret: Value) -> Value {
    match validate(&nested("jwt_secrets", json!([secret]))) {
        Ok(v) => v.entities("jwt_secrets")[0].clone(),
        Err(e) => panic!("Kong accepts {secret}: {}", e.fields_json()),
    }
}

fn jwt_errs(secret: Value) -> Value {
    fields(nested("jwt_secrets", json!([secret])))["consumers"][0]["jwt_secrets"][0].clone()
}

const CONDITIONAL: &str = "failed conditional validation given value of field 'algorithm'";

/// jwt/daos.lua:29-47: `algorithm` one_of, default HS256.
#[test]
fn jwt_algorithms() {
    assert_eq!(jwt_ok(json!({}))["algorithm"], "HS256");
    for alg in ["HS256", "HS384", "HS512", "ES256", "ES384", "ES512"] {
        assert_eq!(jwt_ok(json!({"algorithm": alg}))["algorithm"], alg);
    }
    // an unknown algorithm fails `if_match` too (it inherits the field's
    // one_of, init.lua:737-743), so the conditional says nothing
    assert_eq!(
        jwt_errs(json!({"algorithm": "RS1"})),
        json!({"algorithm": "expected one of: HS256, HS384, HS512, RS256, RS384, RS512, ES256, ES384, ES512, PS256, PS384, PS512, EdDSA"})
    );
    assert_eq!(
        jwt_errs(json!({"algorithm": 256})),
        json!({"algorithm": "expected a string"})
    );
}

/// jwt/daos.lua:50-69: RS*, PS* and EdDSA need an `rsa_public_key` that
/// `pkey.new` loads (`validate_ssl_key`, 4-11); ES* do not (not listed).
#[test]
fn jwt_public_keys() {
    for alg in [
        "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "EdDSA",
    ] {
        // init.lua:746-749: REQUIRED, then CONDITIONAL (109)
        assert_eq!(
            jwt_errs(json!({"algorithm": alg})),
            json!({"rsa_public_key": "required field missing", "@entity": [CONDITIONAL]}),
            "{alg}"
        );
        // init.lua:751-766 with jwt/daos.lua:7 "invalid key"
        assert_eq!(
            jwt_errs(json!({"algorithm": alg, "rsa_public_key": "not a key"})),
            json!({"rsa_public_key": "invalid key", "@entity": [CONDITIONAL]}),
            "{alg}"
        );
    }
    // Kong spec 03-flatten "jwt_secrets (globally unique) to consumers"
    let s = jwt_ok(
        json!({"key": "https://keycloak/realms/foo", "algorithm": "RS256",
                          "rsa_public_key": RSA_PUBLIC}),
    );
    assert_eq!(s["rsa_public_key"], RSA_PUBLIC);
    // pkey.new loads any key type, private keys too
    jwt_ok(json!({"algorithm": "PS256", "rsa_public_key": EC_PUBLIC}));
    jwt_ok(json!({"algorithm": "EdDSA", "rsa_public_key": ED25519_PUBLIC}));
    jwt_ok(json!({"algorithm": "RS512", "rsa_public_key": RSA_KEY}));
    // HS*/ES*: the field has no validator of its own (jwt/daos.lua:28)
    jwt_ok(json!({"algorithm": "HS256", "rsa_public_key": "anything"}));
    jwt_ok(json!({"algorithm": "ES256"}));
    // "" fails the field's implicit len_min first (init.lua:991-993), and the
    // conditional repeats it
    assert_eq!(
        jwt_errs(json!({"algorithm": "RS256", "rsa_public_key": ""})),
        json!({"rsa_public_key": "length must be at least 1", "@entity": [CONDITIONAL]})
    );
    // an explicit null algorithm is not defaulted (init.lua:1056-1058) and
    // passes `if_match` (init.lua:877-888): the key is then required
    assert_eq!(
        jwt_errs(json!({"algorithm": null})),
        json!({"rsa_public_key": "required field missing", "@entity": [CONDITIONAL]})
    );
    // what the double cannot judge is refused in its own words
    let e = jwt_errs(json!({"algorithm": "RS256",
        "rsa_public_key": RSA_PUBLIC.replace("PUBLIC KEY", "RSA PUBLIC KEY")}));
    assert!(
        e["rsa_public_key"]
            .as_str()
            .unwrap()
            .ends_with("is not supported by the Kong admin API test double"),
        "{e}"
    );
}

fn oauth2_errs(cred: Value) -> Value {
    fields(nested("oauth2_credentials", json!([cred])))["consumers"][0]["oauth2_credentials"][0]
        .clone()
}

/// oauth2/daos.lua:9-19, 37-45. Kong spec 01-validate "performs regular
/// validations" (nested and top level).
#[test]
fn oauth2_credential_fields() {
    let e = fields(nested(
        "oauth2_credentials",
        json!([{"name": "my-credential", "redirect_uris": ["https://example.com", "foobar"]},
               {"name": "my-credential", "redirect_uris": ["foobar", "https://example.com"]}]),
    ));
    assert_eq!(
        e,
        json!({"consumers": [{"oauth2_credentials": [
            {"redirect_uris": [null, "cannot parse 'foobar'"]},
            {"redirect_uris": ["cannot parse 'foobar'"]}
        ]}]})
    );
    let e = fields(dc(json!({"oauth2_credentials": [
        {"name": "my-credential", "redirect_uris": ["https://example.com", "foobar"]}
    ]})));
    assert_eq!(
        e,
        json!({"oauth2_credentials": [{"consumer": "required field missing",
                                       "redirect_uris": [null, "cannot parse 'foobar'"]}]})
    );
    // Kong spec 01-validate "does not accept foreign fields" (nested)
    assert_eq!(
        oauth2_errs(
            json!({"name": "hello", "redirect_uris": ["https://example.com"],
                           "consumer": "foo"})
        ),
        json!({"consumer": "value must be null"})
    );
    assert_eq!(
        oauth2_errs(
            json!({"name": "n", "redirect_uris": ["https://example.com/cb#top", ""],
                           "client_type": "private", "hash_secret": "yes"})
        ),
        json!({"redirect_uris": ["fragment not allowed in 'https://example.com/cb#top'",
                                 "length must be at least 1"],
               "client_type": "expected one of: confidential, public",
               "hash_secret": "expected a boolean"})
    );
    // hash_secret (false is non-empty, init.lua:429-438) needs a client_secret
    // (oauth2/daos.lua:47-61); an explicit null is not generated (init.lua:1917)
    assert_eq!(
        oauth2_errs(json!({"name": "n", "client_secret": null})),
        json!({"@entity": ["all or none of these fields must be set: 'hash_secret', 'client_secret'"]})
    );
    assert_eq!(
        oauth2_errs(json!({"name": "n", "hash_secret": null})),
        json!({"hash_secret": "required field missing"})
    );
    let v = validate(&nested(
        "oauth2_credentials",
        json!([{"name": "n", "client_id": "id", "client_secret": "s", "hash_secret": true,
                "client_type": "public", "redirect_uris": []}]),
    ))
    .unwrap();
    let c = &v.entities("oauth2_credentials")[0];
    assert_eq!(
        (
            &c["client_id"],
            &c["client_secret"],
            &c["hash_secret"],
            &c["client_type"]
        ),
        (&json!("id"), &json!("s"), &json!(true), &json!("public"))
    );
}

/// key-auth/daos.lua:5 `ttl = true`: `ttl` is never validated
/// (init.lua:2610-2613, 1221) and kept when not null (declarative_config.lua
/// 946-948); other credentials have no such field.
#[test]
fn key_auth_ttl() {
    let v = validate(&nested(
        "keyauth_credentials",
        json!([{"key": "a", "ttl": 60}, {"key": "b", "ttl": "soon"}, {"key": "c", "ttl": null}]),
    ))
    .unwrap();
    let keys = v.entities("keyauth_credentials");
    assert_eq!(keys[0]["ttl"], 60);
    assert_eq!(keys[1]["ttl"], "soon");
    assert!(keys[2].get("ttl").is_none());
    let e = fields(nested("acls", json!([{"group": "g", "ttl": 60}])));
    assert_eq!(
        e,
        json!({"consumers": [{"acls": [{"ttl": "unknown field"}]}]})
    );
}

/// The `flatten_errors` body: a nested credential's errors carry its type
/// and its parent as `consumer` (kong/db/errors.lua:980-1003, 1013-1027).
#[test]
fn flattened_credential_errors() {
    let id = "0fe87b4a-ce29-515a-88ec-8547e66550b9";
    let cfg = dc(json!({"consumers": [{"id": id, "username": "a",
        "jwt_secrets": [{"key": "k", "algorithm": "RS256", "tags": ["t"]}],
        "oauth2_credentials": [{"name": "app", "redirect_uris": ["x"]}]}]}));
    let err = validate(&cfg).unwrap_err();
    let mut flat = err.flattened_errors();
    flat.sort_by_key(|e| e["entity_type"].as_str().unwrap_or_default().to_string());
    assert_eq!(
        flat,
        vec![
            json!({
                "entity": {"key": "k", "algorithm": "RS256", "tags": ["t"], "consumer": {"id": id}},
                "entity_tags": ["t"],
                "entity_type": "jwt_secret",
                "errors": [
                    {"type": "field", "field": "rsa_public_key", "message": "required field missing"},
                    {"type": "entity", "message": CONDITIONAL}
                ]
            }),
            json!({
                "entity": {"name": "app", "redirect_uris": ["x"], "consumer": {"id": id}},
                "entity_name": "app",
                "entity_type": "oauth2_credential",
                "errors": [
                    {"type": "field", "field": "redirect_uris.1", "message": "cannot parse 'x'"}
                ]
            }),
        ]
    );
}
