//! The HTTP double, exercised with a plain HTTP client.

use kong_admin_double::{EMPTY_HASH, Fault, KongAdminDouble, Options};
use serde_json::{Value, json};
use std::time::Duration;

const CFG: &str = r#"{"_format_version":"3.0","services":[{"name":"s","host":"a.b","routes":[{"name":"r","paths":["/"]}]}]}"#;

fn client() -> reqwest::Client {
    // no pooling: every request opens a connection, so "down" is observable
    reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap()
}

async fn post(d: &KongAdminDouble, query: &str, body: reqwest::Body, ctype: &str) -> (u16, Value) {
    let r = client()
        .post(format!("{}/config{query}", d.url()))
        .header("content-type", ctype)
        .body(body)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let text = r.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

async fn get(d: &KongAdminDouble, path: &str) -> Value {
    client()
        .get(format!("{}{path}", d.url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn root_and_status_look_like_dbless_kong() {
    let d = KongAdminDouble::start().await.unwrap();
    let root = get(&d, "/").await;
    assert_eq!(root["version"], "3.10.0");
    assert_eq!(root["edition"], "community");
    assert_eq!(root["configuration"]["database"], "off");
    assert!(root["plugins"]["available_on_server"]["rate-limiting"].is_object());
    // PRIORITY in each kong/plugins/<name>/handler.lua
    for (plugin, priority) in [
        ("rate-limiting", 910),
        ("request-transformer", 801),
        ("response-transformer", 800),
        ("redirect", 779),
        ("request-termination", 2),
    ] {
        assert_eq!(
            root["plugins"]["available_on_server"][plugin]["priority"], priority,
            "{plugin}"
        );
    }
    assert!(root["node_id"].is_string() && root["hostname"].is_string());
    let status = get(&d, "/status").await;
    assert_eq!(status["configuration_hash"], EMPTY_HASH);
    assert!(status["server"]["total_requests"].as_u64().unwrap() >= 2);
    assert!(status["memory"].is_object());
}

/// `GET /` reports the listen settings and Kong's parse of them (kong/conf_loader/init.lua:893-896,
/// listeners.lua), which controllers read to learn the ports Kong serves.
#[tokio::test]
async fn root_reports_the_proxy_and_stream_listeners() {
    let d = KongAdminDouble::start().await.unwrap();
    let conf = get(&d, "/").await["configuration"].clone();
    let ports: Vec<(Value, Value)> = conf["proxy_listeners"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| (l["port"].clone(), l["ssl"].clone()))
        .collect();
    assert_eq!(
        ports,
        [(json!(8000), json!(false)), (json!(8443), json!(true))]
    );
    assert_eq!(conf["stream_listen"], json!(["off"]));
    assert_eq!(conf["stream_listeners"], json!({}), "cjson's empty table");

    let d = KongAdminDouble::start_with(Options {
        stream_listen: Some("0.0.0.0:9000, 0.0.0.0:9443 ssl".into()),
        ..Options::default()
    })
    .await
    .unwrap();
    let conf = get(&d, "/").await["configuration"].clone();
    assert_eq!(conf["stream_listeners"][1]["port"], 9443);
    assert_eq!(conf["stream_listeners"][1]["ssl"], true);
    assert_eq!(conf["stream_listeners"][0]["listener"], "0.0.0.0:9000");

    let bad = KongAdminDouble::start_with(Options {
        proxy_listen: Some("8000".into()),
        ..Options::default()
    })
    .await;
    let err = bad
        .err()
        .expect("Kong does not start with an invalid proxy_listen");
    assert!(
        err.to_string()
            .starts_with("proxy_listen must be of form: [off] | <ip>:<port> [ssl] [http2]"),
        "{err}"
    );
}

#[tokio::test]
async fn string_config_hash_is_md5_and_check_hash_gives_304() {
    let d = KongAdminDouble::start().await.unwrap();
    let body = json!({ "config": CFG }).to_string();
    let (s, resp) = post(&d, "?check_hash=1", body.clone().into(), "application/json").await;
    assert_eq!(s, 201);
    assert_eq!(resp["services"].as_object().unwrap().len(), 1);
    let md5 = format!("{:x}", md5::compute(CFG));
    assert_eq!(get(&d, "/status").await["configuration_hash"], md5);
    let (s, _) = post(&d, "?check_hash=1", body.clone().into(), "application/json").await;
    assert_eq!(s, 304);
    let (s, _) = post(&d, "", body.into(), "application/json").await;
    assert_eq!(s, 201, "without check_hash the same config is loaded again");
    assert_eq!(d.history().len(), 2);
}

#[tokio::test]
async fn object_yaml_and_form_bodies() {
    let d = KongAdminDouble::start().await.unwrap();
    let (s, _) = post(&d, "?check_hash=1", CFG.into(), "application/json").await;
    assert_eq!(s, 201);
    let first = d.current_hash();
    let (s, _) = post(&d, "?check_hash=1", CFG.into(), "application/json").await;
    assert_eq!(s, 201, "a parsed object never hashes equal");
    assert_ne!(d.current_hash(), first);
    let yaml =
        "_format_version: \"3.0\"\nupstreams:\n- name: u\n  targets:\n  - target: 10.0.0.1\n";
    let (s, _) = post(&d, "", yaml.into(), "application/x-yaml").await;
    assert_eq!(s, 201);
    assert_eq!(d.current().unwrap().targets()[0]["target"], "10.0.0.1:8000");
    let form = format!("config={}", form_encode(CFG));
    let (s, _) = post(&d, "", form.into(), "application/x-www-form-urlencoded").await;
    assert_eq!(s, 201);
    assert_eq!(d.current_hash(), format!("{:x}", md5::compute(CFG)));
}

fn form_encode(s: &str) -> String {
    s.bytes().map(|b| format!("%{b:02X}")).collect()
}

#[tokio::test]
async fn empty_body_and_invalid_configs() {
    let d = KongAdminDouble::start().await.unwrap();
    let (s, b) = post(&d, "", "".into(), "application/json").await;
    assert_eq!(
        (s, b),
        (
            400,
            json!({"message": "expected a declarative configuration"})
        )
    );
    let bad = r#"{"_format_version":"3.0","upstreams":[{"name":"u","hash_on":"header"}]}"#;
    let (s, b) = post(&d, "", bad.into(), "application/json").await;
    assert_eq!(s, 400);
    assert_eq!(b["code"], 14);
    assert_eq!(b["name"], "invalid declarative configuration");
    assert_eq!(
        b["fields"],
        json!({"upstreams": [{
        "@entity": ["failed conditional validation given value of field 'hash_on'"],
        "hash_on_header": "required field missing"}]})
    );
    assert!(b.get("flattened_errors").is_none());
    let (s, b) = post(&d, "?flatten_errors=1", bad.into(), "application/json").await;
    assert_eq!(s, 400);
    assert_eq!(b["fields"], json!({}));
    assert_eq!(b["flattened_errors"][0]["entity_type"], "upstream");
    assert_eq!(b["flattened_errors"][0]["entity_name"], "u");
    assert_eq!(
        b["flattened_errors"][0]["errors"],
        json!([
            {"type": "field", "field": "hash_on_header", "message": "required field missing"},
            {"type": "entity", "message": "failed conditional validation given value of field 'hash_on'"}
        ])
    );
    assert_eq!(d.rejected().len(), 2);
    assert!(d.current().is_none());
}

#[tokio::test]
async fn admin_token_is_enforced_when_configured() {
    let d = KongAdminDouble::start_with(Options {
        admin_token: Some("s3cret".into()),
        ..Default::default()
    })
    .await
    .unwrap();
    let r = client().get(d.url()).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 401);
    let r = client()
        .get(d.url())
        .header("Kong-Admin-Token", "s3cret")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
}

#[tokio::test]
async fn wait_for_config_sees_a_later_push() {
    let d = KongAdminDouble::start().await.unwrap();
    assert!(
        d.wait_for_config(|_| true, Duration::from_millis(50))
            .await
            .is_none()
    );
    let url = d.url();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(50)).await;
        client()
            .post(format!("{url}/config"))
            .header("content-type", "application/json")
            .body(CFG)
            .send()
            .await
            .unwrap();
    });
    let got = d
        .wait_for_config(|c| c.route("r").is_some(), Duration::from_secs(5))
        .await;
    assert!(got.is_some());
}

#[tokio::test]
async fn faults_fail_slow_reject_and_down() {
    let d = KongAdminDouble::start().await.unwrap();
    d.inject(Fault::FailNext {
        status: 503,
        count: 2,
    });
    for _ in 0..2 {
        let (s, b) = post(&d, "", CFG.into(), "application/json").await;
        assert_eq!(
            (s, b["message"].as_str()),
            (503, Some("Kong currently exiting"))
        );
    }
    let (s, _) = post(&d, "", CFG.into(), "application/json").await;
    assert_eq!(s, 201);

    d.inject(Fault::FailAlways { status: 500 });
    assert_eq!(post(&d, "", CFG.into(), "application/json").await.0, 500);
    d.clear_faults().await;

    d.inject(Fault::Slow(Duration::from_millis(300)));
    let t = std::time::Instant::now();
    get(&d, "/status").await;
    assert!(t.elapsed() >= Duration::from_millis(300));
    d.clear_faults().await;

    d.inject(Fault::RejectEntity {
        entity_type: "services".into(),
        name: "s".into(),
    });
    let (s, b) = post(&d, "?flatten_errors=1", CFG.into(), "application/json").await;
    assert_eq!(s, 400);
    assert_eq!(b["flattened_errors"][0]["entity_name"], "s");
    d.clear_faults().await;

    d.inject(Fault::Down);
    assert!(client().get(d.url()).send().await.is_err());
    d.set_down(false).await;
    assert_eq!(
        client()
            .get(d.url())
            .send()
            .await
            .unwrap()
            .status()
            .as_u16(),
        200
    );
}
