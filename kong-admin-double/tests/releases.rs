//! The double as Kong 3.8.0: what 3.8.0 rejects that 3.10 accepts (see
//! `KongRelease`), and its `GET /`.

mod common;

use common::dc;
use kong_admin_double::{KongAdminDouble, KongRelease, Options, RouterFlavor, validate_as};
use serde_json::{Value, json};

const RSA_CRT: &str = include_str!("fixtures/tls/rsa.crt");
const RSA_KEY: &str = include_str!("fixtures/tls/rsa.key");
const CERT_ID: &str = "8aade13c-1470-46bd-9849-9a74e349214f";

fn check(cfg: &Value, release: KongRelease) -> Result<(), Value> {
    validate_as(cfg, RouterFlavor::TraditionalCompatible, release)
        .map(|_| ())
        .map_err(|e| e.fields_json())
}

#[test]
fn the_redirect_plugin_is_not_in_kong_3_8() {
    let cfg = dc(json!({"plugins": [
        {"name": "redirect", "config": {"location": "https://example.com"}}
    ]}));
    assert_eq!(check(&cfg, KongRelease::V3_10), Ok(()));
    let errs = check(&cfg, KongRelease::V3_8).expect_err("3.8.0 has no redirect plugin");
    // Kong 3.8.0 kong/db/schema/entities/plugins.lua subschema_error, for a plugin that is
    // not loaded (not bundled).
    assert_eq!(
        errs["plugins"][0]["name"],
        "plugin 'redirect' not enabled; add it to the 'plugins' configuration property"
    );
}

fn with_certificate(snis_nested: bool, basic_auth: bool) -> Value {
    let mut cfg = json!({
        "certificates": [{"id": CERT_ID, "cert": RSA_CRT, "key": RSA_KEY}],
        "consumers": [{"username": "alice"}],
    });
    let sni = json!({"id": "0f2d5f4e-5f0c-4f3e-9a57-2a6c2c3c3b10", "name": "alpha.example"});
    if snis_nested {
        cfg["certificates"][0]["snis"] = json!([sni]);
    } else {
        let mut sni = sni;
        sni["certificate"] = json!({"id": CERT_ID});
        cfg["snis"] = json!([sni]);
    }
    if basic_auth {
        cfg["consumers"][0]["basicauth_credentials"] =
            json!([{"username": "alice", "password": "secret"}]);
    }
    dc(cfg)
}

/// Kong PR #14082's case (fixed in 3.9.0): nested snis next to a credential, whose
/// `consumer` makes Kong validate a second time with the full schema.
#[test]
fn kong_3_8_loses_nested_snis_when_it_validates_twice() {
    let cfg = with_certificate(true, true);
    assert_eq!(check(&cfg, KongRelease::V3_10), Ok(()));
    let errs = check(&cfg, KongRelease::V3_8).expect_err("3.8.0 refuses it");
    assert_eq!(
        errs["certificates"][0]["snis"][0]["certificate"], "required field missing",
        "{errs}"
    );
    // One pass only, or snis at the top level with their certificate: 3.8.0 accepts.
    assert_eq!(
        check(&with_certificate(true, false), KongRelease::V3_8),
        Ok(())
    );
    assert_eq!(
        check(&with_certificate(false, true), KongRelease::V3_8),
        Ok(())
    );
    // Nested but naming their certificate (KIC's and kingress's shape): nothing to derive.
    let mut named = with_certificate(true, true);
    named["certificates"][0]["snis"][0]["certificate"] = json!({"id": CERT_ID});
    assert_eq!(check(&named, KongRelease::V3_8), Ok(()));
}

#[tokio::test]
async fn root_says_3_8_0_without_the_redirect_plugin() {
    let d = KongAdminDouble::start_with(Options {
        release: KongRelease::V3_8,
        ..Options::default()
    })
    .await
    .expect("double");
    let root: Value = reqwest::get(d.url())
        .await
        .expect("GET /")
        .json()
        .await
        .expect("json");
    assert_eq!(root["version"], "3.8.0");
    let available = &root["plugins"]["available_on_server"];
    assert!(available["redirect"].is_null(), "{available}");
    assert_eq!(available["rate-limiting"]["version"], "3.8.0");
    // Kong 3.8.0 kong/plugins/correlation-id/handler.lua:45.
    assert_eq!(available["correlation-id"]["priority"], 1);
    assert!(
        !root["configuration"]["plugins"]
            .as_array()
            .expect("plugins")
            .contains(&json!("redirect"))
    );
}
