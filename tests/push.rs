//! Pushing to Kong replicas, against the Kong admin API test double (no cluster needed).

use std::sync::Arc;
use std::time::Duration;

use kingress::controller::profiles::Configs;
use kingress::controller::pusher::{self, Desired, PushReport};
use kingress::kong::admin_api::{AdminApiClient, AdminApiOptions};
use kong_admin_double::{Fault, KongAdminDouble, Options};
use tokio::sync::{mpsc, watch};

const WAIT: Duration = Duration::from_secs(20);

fn options(url: String, token: Option<&str>) -> AdminApiOptions {
    AdminApiOptions {
        url,
        token: token.map(str::to_string),
        ca_pem: None,
        insecure_skip_verify: false,
        timeout: Duration::from_secs(5),
        resolve: vec![],
    }
}

/// A config with one upstream named `name` and `targets` targets.
fn desired(name: &str, targets: usize) -> Arc<Desired> {
    let targets: Vec<serde_json::Value> = (1..=targets)
        .map(|i| serde_json::json!({"target": format!("10.0.0.{i}:80"), "weight": 100}))
        .collect();
    let config = serde_json::json!({
        "_format_version": "3.0",
        "upstreams": [{"name": name, "algorithm": "round-robin", "targets": targets}],
    });
    let text = serde_json::to_string(&config).expect("json");
    Arc::new(Desired::new(text))
}

/// Always the leader: these tests exercise one controller.
fn leader() -> watch::Receiver<bool> {
    let (tx, rx) = watch::channel(true);
    std::mem::forget(tx);
    rx
}

fn has_upstream(
    name: &'static str,
    targets: usize,
) -> impl Fn(&kong_admin_double::ValidConfig) -> bool {
    move |c| c.upstream(name).is_some() && c.targets_of(name).len() == targets
}

#[tokio::test]
async fn latest_config_lands_after_an_outage_with_several_changes() {
    let kong = KongAdminDouble::start().await.expect("double");
    let (tx, rx) = watch::channel(None);
    let (reports, mut report_rx) = mpsc::unbounded_channel();
    let client = AdminApiClient::new(&options(kong.url(), None)).expect("client");
    let task = tokio::spawn(pusher::run(client, rx, leader(), reports));

    tx.send_replace(Some(Arc::new(Configs::uniform(desired("a", 1)))));
    kong.wait_for_config(has_upstream("a", 1), WAIT)
        .await
        .expect("first config");
    let first = desired("a", 1);
    assert_eq!(
        kong.current_hash(),
        first.md5(),
        "Kong's hash is the md5 of the text we sent"
    );

    kong.inject(Fault::Down);
    for n in 2..=4 {
        tx.send_replace(Some(Arc::new(Configs::uniform(desired("a", n)))));
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Failures are reported while the replica is down.
    let failed = tokio::time::timeout(WAIT, async {
        while let Some(r) = report_rx.recv().await {
            if matches!(r, PushReport::Failed { .. }) {
                return true;
            }
        }
        false
    })
    .await
    .expect("a failure report");
    assert!(failed);
    kong.clear_faults().await;
    kong.wait_for_config(has_upstream("a", 4), WAIT)
        .await
        .expect("the latest config after the outage");
    // The intermediate configs were never needed.
    assert!(kong.history().iter().all(|c| c.targets_of("a").len() != 2));
    task.abort();
}

#[tokio::test]
async fn server_errors_are_retried_and_rejections_reported_once() {
    let kong = KongAdminDouble::start().await.expect("double");
    kong.inject(Fault::FailNext {
        status: 500,
        count: 3,
    });
    let (tx, rx) = watch::channel(None);
    let (reports, mut report_rx) = mpsc::unbounded_channel();
    let client = AdminApiClient::new(&options(kong.url(), None)).expect("client");
    let task = tokio::spawn(pusher::run(client, rx, leader(), reports));
    tx.send_replace(Some(Arc::new(Configs::uniform(desired("b", 2)))));
    kong.wait_for_config(has_upstream("b", 2), WAIT)
        .await
        .expect("config lands after the 500s");

    kong.inject(Fault::RejectEntity {
        entity_type: "upstreams".into(),
        name: "c".into(),
    });
    let bad = desired("c", 1);
    tx.send_replace(Some(Arc::new(Configs::uniform(bad.clone()))));
    let rejected = tokio::time::timeout(WAIT, async {
        while let Some(r) = report_rx.recv().await {
            if let PushReport::Rejected { hash, entities, .. } = r {
                return (hash, entities);
            }
        }
        panic!("reports closed");
    })
    .await
    .expect("a rejection report");
    assert_eq!(rejected.0, bad.id());
    assert_eq!(rejected.1.len(), 1);
    assert_eq!(rejected.1[0].entity_name.as_deref(), Some("c"));
    // The replica keeps the last good config, and the rejected one is not retried.
    let requests = kong.request_count();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(kong.request_count(), requests);
    assert!(kong.current().expect("config").upstream("b").is_some());
    task.abort();
}

#[tokio::test]
async fn a_replica_that_already_holds_the_config_gets_no_push() {
    let kong = KongAdminDouble::start().await.expect("double");
    let d = desired("d", 1);
    let client = AdminApiClient::new(&options(kong.url(), None)).expect("client");
    client
        .push(&d.text().concat())
        .await
        .expect("seed the replica");
    let posts = kong.history().len();
    let (tx, rx) = watch::channel(Some(Arc::new(Configs::uniform(d.clone()))));
    let (reports, _report_rx) = mpsc::unbounded_channel();
    let task = tokio::spawn(pusher::run(client, rx, leader(), reports));
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(kong.history().len(), posts, "same hash: no POST /config");
    drop(tx);
    task.abort();
}

#[tokio::test]
async fn admin_token_is_sent() {
    let kong = KongAdminDouble::start_with(Options {
        admin_token: Some("t0ken".into()),
        ..Default::default()
    })
    .await
    .expect("double");
    let wrong = AdminApiClient::new(&options(kong.url(), Some("nope"))).expect("client");
    let err = wrong.configuration_hash().await.expect_err("401");
    assert!(err.to_string().contains("401"), "{err}");
    assert!(
        !err.to_string().contains("nope"),
        "the token never appears in errors"
    );
    let right = AdminApiClient::new(&options(kong.url(), Some("t0ken"))).expect("client");
    right
        .push(&desired("e", 1).text().concat())
        .await
        .expect("push with token");
}

/// Every `recheck`, the pusher compares the replica's `/status` hash with the config it
/// should hold: a Kong restarted in DB-less mode (no config) gets it again without any change
/// in the cluster (KIC v3.5.13 does so for Kong's empty hash on every sync,
/// `sendconfig/config_change_detector.go` 44-74); a replica that holds it is not pushed again.
#[tokio::test]
async fn a_restarted_replica_gets_the_config_again_and_a_current_one_is_left_alone() {
    let kong = KongAdminDouble::start().await.expect("double");
    let (tx, rx) = watch::channel(None);
    let (reports, _report_rx) = mpsc::unbounded_channel();
    let client = AdminApiClient::new(&options(kong.url(), None)).expect("client");
    let recheck = pusher::PushOptions {
        recheck: Duration::from_millis(100),
        reverse_sync: false,
    };
    let task = tokio::spawn(pusher::run_with(client, rx, leader(), reports, recheck));
    let d = desired("f", 2);
    tx.send_replace(Some(Arc::new(Configs::uniform(d.clone()))));
    kong.wait_for_config(has_upstream("f", 2), WAIT)
        .await
        .expect("first config");
    // Several rechecks: the replica holds the config, nothing is sent.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(kong.config_posts(), 1, "no push while the hash matches");

    kong.restart();
    assert_eq!(kong.current_hash(), kong_admin_double::EMPTY_HASH);
    kong.wait_for_config(has_upstream("f", 2), WAIT)
        .await
        .expect("the config again after the restart");
    assert_eq!(kong.current_hash(), d.md5());
    assert_eq!(kong.history().len(), 2);
    task.abort();
}

/// KIC's `--enable-reverse-sync`: every recheck pushes, even when the replica holds the config
/// (with `check_hash=1`, as KIC v3.5.13 always sends it, `sendconfig/inmemory.go` 79-84: Kong
/// answers 304 and keeps its config).
#[tokio::test]
async fn reverse_sync_pushes_on_every_recheck() {
    let kong = KongAdminDouble::start().await.expect("double");
    let (tx, rx) = watch::channel(None);
    let (reports, _report_rx) = mpsc::unbounded_channel();
    let client = AdminApiClient::new(&options(kong.url(), None)).expect("client");
    let options = pusher::PushOptions {
        recheck: Duration::from_millis(100),
        reverse_sync: true,
    };
    let task = tokio::spawn(pusher::run_with(client, rx, leader(), reports, options));
    tx.send_replace(Some(Arc::new(Configs::uniform(desired("g", 1)))));
    let deadline = tokio::time::Instant::now() + WAIT;
    while kong.config_posts() < 4 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "pushed {} times",
            kong.config_posts()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(kong.history().len(), 1, "the same config: Kong answers 304");
    task.abort();
}
