//! The consumer credential entities of Kong 3.10's bundled auth plugins:
//! `acls`, `basicauth_credentials`, `keyauth_credentials`,
//! `hmacauth_credentials`, `jwt_secrets` and `oauth2_credentials`, from
//! kong/plugins/{acl,basic-auth,key-auth,hmac-auth,jwt,oauth2}/daos.lua
//! (Kong master 22246ef28c; line numbers refer to those files).
//!
//! Every one has a required `consumer` foreign key (`on_delete = "cascade"`):
//! a string (the consumer's username or id) at the top level of a
//! declarative config, or implied when nested in a consumer
//! (kong/db/schema/others/declarative_config.lua:195-250; `declarative.rs`).
//! `unique` fields, endpoint and cache keys are in `entities::DEFS`.
//! `auto = true` string fields are filled by `declarative.rs` when absent,
//! as Kong's `process_auto_fields` does (kong/db/schema/init.lua:1915-1918).

use crate::net;
use crate::schema::{Check, EntityCheck, Field, Record, Then, Transformation};
use crate::tls::{self, KeyError};
use crate::typedefs as td;
use serde_json::{Value, json};

/// `{ type = "foreign", reference = "consumers", required = true }`, as a
/// top-level declarative entry holds it (declarative_config.lua:228-250
/// keeps `required`); nested entries get `eq = null` in `declarative.rs`.
fn consumer() -> Field {
    td::foreign().required()
}

/// acl/daos.lua:4-17: `cache_key = { "consumer", "group" }` (line 8).
pub(crate) fn acls() -> Record {
    Record::new(vec![
        ("id", td::uuid()),                    // acl/daos.lua:11
        ("created_at", td::timestamp()),       // acl/daos.lua:12
        ("consumer", consumer()),              // acl/daos.lua:13
        ("group", Field::string().required()), // acl/daos.lua:14
        ("tags", td::tags()),                  // acl/daos.lua:15
    ])
}

/// basic-auth/daos.lua:5-30: endpoint and cache key `username` (lines 8-9).
pub(crate) fn basicauth_credentials() -> Record {
    let mut r = Record::new(vec![
        ("id", td::uuid()),              // basic-auth/daos.lua:14
        ("created_at", td::timestamp()), // basic-auth/daos.lua:15
        ("consumer", consumer()),        // basic-auth/daos.lua:16
        // basic-auth/daos.lua:17 (`unique`: checked by the declarative loader)
        ("username", Field::string().required()),
        // basic-auth/daos.lua:18 (`encrypted` does nothing in Kong OSS)
        ("password", Field::string().required()),
        ("tags", td::tags()), // basic-auth/daos.lua:19
    ]);
    // basic-auth/daos.lua:21-29: the password is hashed with the consumer id
    // when loaded (not in `/config`'s answer); validation only requires
    // `consumer.id` beside a password. Nested, or naming its consumer by
    // username, the first pass finds no `consumer.id`; Kong's second pass
    // fills it in (`fullschema.rs`).
    r.transformations = vec![Transformation {
        input: &["password"],
        needs: &["consumer.id"],
    }];
    r
}

/// key-auth/daos.lua:4-20: `ttl = true` (line 5), endpoint and cache key
/// `key` (lines 8-9).
pub(crate) fn keyauth_credentials() -> Record {
    let mut r = Record::new(vec![
        ("id", td::uuid()),              // key-auth/daos.lua:14
        ("created_at", td::timestamp()), // key-auth/daos.lua:15
        ("consumer", consumer()),        // key-auth/daos.lua:16
        // key-auth/daos.lua:17 (`unique`: the declarative loader)
        ("key", Field::string().auto()),
        ("tags", td::tags()), // key-auth/daos.lua:18
    ]);
    // key-auth/daos.lua:5: a `ttl` key is accepted unvalidated, and kept
    // (declarative_config.lua:946-948)
    r.ttl = true;
    r
}

/// hmac-auth/daos.lua:5-22: endpoint and cache key `username` (lines 8-9).
pub(crate) fn hmacauth_credentials() -> Record {
    Record::new(vec![
        ("id", td::uuid()),              // hmac-auth/daos.lua:15
        ("created_at", td::timestamp()), // hmac-auth/daos.lua:16
        ("consumer", consumer()),        // hmac-auth/daos.lua:17
        // hmac-auth/daos.lua:18 (`unique`: the declarative loader)
        ("username", Field::string().required()),
        ("secret", Field::string().auto()), // hmac-auth/daos.lua:19
        ("tags", td::tags()),               // hmac-auth/daos.lua:20
    ])
}

/// jwt/daos.lua:32-46 `algorithm.one_of`.
const JWT_ALGORITHMS: &[&str] = &[
    "HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "ES256", "ES384", "ES512", "PS256",
    "PS384", "PS512", "EdDSA",
];

/// jwt/daos.lua:53-60: the algorithms whose `rsa_public_key` is required
/// and must load. Kong lists no `ES*` there: an ES256 secret needs none.
fn needs_public_key(v: &Value) -> bool {
    matches!(
        v.as_str(),
        Some("RS256" | "RS384" | "RS512" | "PS256" | "PS384" | "PS512" | "EdDSA")
    )
}

/// `validate_ssl_key`, jwt/daos.lua:4-11: `pkey.new(key)` must load, else
/// "invalid key" (line 7). What the double cannot judge is refused with its
/// own words (`tls::load_any_key`).
fn validate_ssl_key(key: &str) -> Result<(), String> {
    match tls::load_any_key(key) {
        Ok(()) => Ok(()),
        Err(KeyError::Invalid(_)) => Err("invalid key".into()),
        Err(e @ KeyError::Unsupported(_)) => Err(e.message()),
    }
}

/// jwt/daos.lua:14-70: endpoint and cache key `key` (lines 17-18).
pub(crate) fn jwt_secrets() -> Record {
    let mut r = Record::new(vec![
        ("id", td::uuid()),              // jwt/daos.lua:23
        ("created_at", td::timestamp()), // jwt/daos.lua:24
        ("consumer", consumer()),        // jwt/daos.lua:25
        // jwt/daos.lua:26 (`unique`: the declarative loader)
        ("key", Field::string().auto()),
        ("secret", Field::string().auto()), // jwt/daos.lua:27
        // jwt/daos.lua:28: no validator of its own (see the entity check)
        ("rsa_public_key", Field::string()),
        // jwt/daos.lua:29-47
        (
            "algorithm",
            Field::string()
                .default(json!("HS256"))
                .one_of(JWT_ALGORITHMS),
        ),
        ("tags", td::tags()), // jwt/daos.lua:48
    ]);
    // jwt/daos.lua:50-69: `then_match` has `required = true` and the
    // `validate_ssl_key` custom validator
    r.checks = vec![EntityCheck::Conditional {
        if_field: "algorithm",
        if_match: needs_public_key,
        then_field: "rsa_public_key",
        then: Then::RequiredAnd(vec![Check::Custom(validate_ssl_key)]),
        then_err: None,
    }];
    r
}

/// `validate_uri`, oauth2/daos.lua:9-19: luasocket's `url.parse` must find a
/// host and a scheme (line 11-12), and no fragment (14-15; url.parse takes
/// everything from the first `#` as the fragment, luasocket 3.0-rc1
/// src/url.lua:134-138).
fn validate_uri(uri: &str) -> Result<(), String> {
    let (host, scheme) = net::socket_url_host_and_scheme(uri);
    if !(host && scheme) {
        return Err(format!("cannot parse '{uri}'"));
    }
    if uri.contains('#') {
        return Err(format!("fragment not allowed in '{uri}'"));
    }
    Ok(())
}

/// oauth2/daos.lua:22-62: endpoint and cache key `client_id` (lines 25-26).
pub(crate) fn oauth2_credentials() -> Record {
    let mut r = Record::new(vec![
        ("id", td::uuid()),                   // oauth2/daos.lua:30
        ("created_at", td::timestamp()),      // oauth2/daos.lua:31
        ("consumer", consumer()),             // oauth2/daos.lua:32
        ("name", Field::string().required()), // oauth2/daos.lua:33
        // oauth2/daos.lua:34 (`unique`: the declarative loader)
        ("client_id", Field::string().auto()),
        // oauth2/daos.lua:35 (`encrypted` does nothing in Kong OSS)
        ("client_secret", Field::string().auto()),
        // oauth2/daos.lua:36
        (
            "hash_secret",
            Field::boolean().required().default(json!(false)),
        ),
        // oauth2/daos.lua:37-43
        (
            "redirect_uris",
            Field::array(Field::string().custom(validate_uri)),
        ),
        ("tags", td::tags()), // oauth2/daos.lua:44
        // oauth2/daos.lua:45
        (
            "client_type",
            Field::string()
                .required()
                .default(json!("confidential"))
                .one_of(&["confidential", "public"]),
        ),
    ]);
    // oauth2/daos.lua:47-61: `hash_secret` (always set: it defaults to
    // false, which is non-empty, init.lua:429-438) needs `client_secret`,
    // which is generated when absent; an explicit null or "" fails here.
    r.transformations = vec![Transformation {
        input: &["hash_secret"],
        needs: &["client_secret"],
    }];
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirect_uris_as_luasocket_parses_them() {
        assert_eq!(validate_uri("https://example.com/cb?x=1"), Ok(()));
        assert_eq!(validate_uri("foobar"), Err("cannot parse 'foobar'".into()));
        assert_eq!(
            validate_uri("/relative"),
            Err("cannot parse '/relative'".into())
        );
        assert_eq!(
            validate_uri("https://example.com/#"),
            Err("fragment not allowed in 'https://example.com/#'".into())
        );
        // the fragment is cut before the authority is read (url.lua:134-146)
        assert_eq!(
            validate_uri("https://#x"),
            Err("cannot parse 'https://#x'".into())
        );
    }
}
