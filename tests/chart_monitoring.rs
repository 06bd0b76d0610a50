//! The chart's optional Redis and Prometheus Operator objects (issue 21): rendered by the real
//! `helm`, accepted by the real apiserver with the Prometheus Operator's CRDs installed
//! (`tests/prometheus-operator/`, v0.85.0), and every metric the alerts and the dashboard use
//! exported by a running controller, in PromQL that parses.

mod support;

use std::collections::BTreeSet;
use std::time::Duration;

use base64::Engine;
use kong_admin_double::Fault;
use serde_json::Value;
use support::apply::{Mode, apply_yaml, try_apply_yaml};
use support::controlplane;
use support::helm::*;
use support::observe::eventually;
use support::run::{WAIT, start};

const MONITORING: [&str; 4] = [
    "--api-versions",
    "monitoring.coreos.com/v1/PodMonitor",
    "--api-versions",
    "monitoring.coreos.com/v1/PrometheusRule",
];

const ALL_MONITORING: [&str; 3] = [
    "metrics.podMonitor.enabled=true",
    "metrics.prometheusRule.enabled=true",
    "metrics.grafanaDashboard.enabled=true",
];

fn decode(secret: &Value, key: &str) -> String {
    let data = secret["data"][key].as_str().unwrap_or_default();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(data)
        .unwrap_or_else(|e| panic!("data.{key}: {e}"));
    String::from_utf8(bytes).expect("UTF-8")
}

#[test]
fn redis_is_off_by_default_and_hardened_when_on() {
    let default = objects(&template("r", "kong", &[], &[]));
    assert!(
        !default.keys().any(|k| k.contains("redis")),
        "no Redis unless asked: {:?}",
        default.keys()
    );

    let on = objects(&template("r", "kong", &["redis.enabled=true"], &[]));
    let deployment = get(&on, "Deployment/kong/r-kingress-redis");
    let pod = &deployment["spec"]["template"]["spec"];
    assert_hardened("redis", pod, container(deployment));
    assert_eq!(container(deployment)["image"], "redis:7.4.2");
    let args = strings(&container(deployment)["args"]);
    let max = args
        .iter()
        .position(|a| a == "--maxmemory")
        .expect("--maxmemory");
    assert_eq!(args[max + 1], "192mb", "below the 256Mi limit: {args:?}");
    // The password comes from the Secret, twice: as Redis reads it and JSON-quoted for the
    // plugins' configPatches.
    let secret = get(&on, "Secret/kong/r-kingress-redis");
    assert_eq!(
        secret["metadata"]["annotations"]["helm.sh/resource-policy"], "keep",
        "uninstalling keeps the password the plugins read"
    );
    let password = decode(secret, "password");
    assert!(password.len() >= 32, "a generated password");
    assert_eq!(decode(secret, "password-json"), format!("\"{password}\""));
    let env = env_value(container(deployment), "REDIS_PASSWORD");
    assert_eq!(env["valueFrom"]["secretKeyRef"]["name"], "r-kingress-redis");
    assert_eq!(
        pod["volumes"][0]["emptyDir"]["sizeLimit"], "256Mi",
        "no volume claimed unless persistence is on"
    );
    // Only Kong's pods reach it.
    let policy = get(&on, "NetworkPolicy/kong/r-kingress-redis");
    let from = &policy["spec"]["ingress"][0]["from"][0]["podSelector"]["matchLabels"];
    assert_eq!(from["app.kubernetes.io/component"], "gateway");
    assert_eq!(
        get(&on, "Service/kong/r-kingress-redis")["spec"]["ports"][0]["port"],
        6379
    );

    let sets = [
        "redis.enabled=true",
        "redis.persistence.enabled=true",
        "redis.persistence.size=5Gi",
        "redis.auth.existingSecret=my-redis",
    ];
    let kept = objects(&template("r", "kong", &sets, &[]));
    assert!(
        !kept.contains_key("Secret/kong/r-kingress-redis"),
        "an existing Secret is used, not made"
    );
    let deployment = get(&kept, "Deployment/kong/r-kingress-redis");
    let env = env_value(container(deployment), "REDIS_PASSWORD");
    assert_eq!(env["valueFrom"]["secretKeyRef"]["name"], "my-redis");
    let claim = get(&kept, "PersistentVolumeClaim/kong/r-kingress-redis");
    assert_eq!(claim["spec"]["resources"]["requests"]["storage"], "5Gi");
    assert_eq!(
        deployment["spec"]["template"]["spec"]["volumes"][0]["persistentVolumeClaim"]["claimName"],
        "r-kingress-redis"
    );
    assert!(strings(&container(deployment)["args"]).contains(&"--appendonly".to_string()));
}

#[test]
fn monitoring_without_the_operators_crds_fails_clearly() {
    for set in ALL_MONITORING.iter().take(2) {
        let chart = chart_dir();
        let run = helm_run(&[
            "template",
            "r",
            chart.to_str().expect("UTF-8"),
            "--set",
            set,
        ]);
        assert!(!run.ok, "{set} rendered without the CRDs");
        assert!(
            run.stderr.contains("needs the Prometheus Operator's")
                && run
                    .stderr
                    .contains("--api-versions monitoring.coreos.com/v1/"),
            "{set}: {}",
            run.stderr
        );
    }
    // The dashboard is a ConfigMap: no CRD needed.
    let dashboard = objects(&template(
        "r",
        "kong",
        &["metrics.grafanaDashboard.enabled=true"],
        &[],
    ));
    let config_map = get(&dashboard, "ConfigMap/kong/r-kingress-dashboard");
    assert_eq!(config_map["metadata"]["labels"]["grafana_dashboard"], "1");
}

/// Every PromQL expression of the rendered PrometheusRule and dashboard, with where it is.
fn expressions(rendered: &str) -> Vec<(String, String)> {
    let objects = objects(rendered);
    let mut out = Vec::new();
    let rule = get(&objects, "PrometheusRule/kong/r-kingress");
    for group in items(&rule["spec"]["groups"]) {
        for r in items(&group["rules"]) {
            let expr = r["expr"].as_str().expect("expr").to_string();
            out.push((format!("alert {}", r["alert"]), expr));
        }
    }
    let config_map = get(&objects, "ConfigMap/kong/r-kingress-dashboard");
    let text = config_map["data"]["kingress.json"].as_str().expect("JSON");
    let dashboard: Value = serde_json::from_str(text).expect("the dashboard is JSON");
    for panel in items(&dashboard["panels"]) {
        for target in items(&panel["targets"]) {
            let expr = target["expr"].as_str().expect("expr");
            // Grafana's variables, as Grafana substitutes them.
            let expr = expr.replace("$job", "kong/r-kingress-controller");
            out.push((format!("panel {}", panel["title"]), expr));
        }
    }
    out
}

/// `kingress_*` metric names in an expression.
fn metric_names(expr: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let mut rest = expr;
    while let Some(at) = rest.find("kingress_") {
        let tail = &rest[at..];
        let end = tail
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(tail.len());
        names.insert(tail[..end].to_string());
        rest = &tail[end..];
    }
    names
}

/// The sample names `/metrics` can hold: each family's name from its `# TYPE` line, with the
/// suffixes its type adds (counters `_total`, histograms `_bucket`, `_sum`, `_count`).
fn exported(metrics: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for line in metrics.lines() {
        let Some(rest) = line.strip_prefix("# TYPE ") else {
            continue;
        };
        let mut parts = rest.split_whitespace();
        let (Some(name), Some(kind)) = (parts.next(), parts.next()) else {
            continue;
        };
        let suffixes: &[&str] = match kind {
            "counter" => &["_total"],
            "histogram" => &["_bucket", "_sum", "_count"],
            _ => &[""],
        };
        for s in suffixes {
            names.insert(format!("{name}{s}"));
        }
    }
    names
}

async fn metrics_text(addr: std::net::SocketAddr) -> String {
    let resp = reqwest::get(format!("http://{addr}/metrics"))
        .await
        .expect("GET /metrics");
    resp.text().await.expect("metrics text")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_metric_the_alerts_and_dashboard_use_is_exported() {
    let mut sets = ALL_MONITORING.to_vec();
    sets.push("redis.enabled=true");
    let rendered = template("r", "kong", &sets, &MONITORING);
    let exprs = expressions(&rendered);
    assert!(exprs.len() >= 15, "{exprs:?}");
    let mut used = BTreeSet::new();
    for (at, expr) in &exprs {
        if let Err(e) = promql_parser::parser::parse(expr) {
            panic!("{at}: {expr}\ndoes not parse: {e}");
        }
        used.extend(metric_names(expr));
    }

    // A controller that met a rejection, so the metrics that follow one carry samples too.
    let env = start("metrics").await;
    env.kong.inject(Fault::RejectEntity {
        entity_type: "upstreams".into(),
        name: format!("echo.{}.80.svc", env.ns),
    });
    env.apply(
        "apiVersion: v1\nkind: Service\nmetadata: {name: echo}\nspec: {ports: [{port: 80}]}\n---\napiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: echo}\nspec:\n  ingressClassName: kong\n  rules: [{http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: echo, port: {number: 80}}}}]}}]\n",
    )
    .await;
    let addr = env.controller.listening[0];
    let text = eventually(
        "an exclusion, its Event and a replica's config",
        async || {
            let text = metrics_text(addr).await;
            let ready = text.contains("kingress_exclusions 1")
                && text.contains("kingress_events_total{reason=\"KongConfigurationApplyFailed\"}")
                && text.contains("kingress_replica_config_info{");
            if ready { Ok(text) } else { Err(text) }
        },
    )
    .await;
    let have = exported(&text);
    let missing: Vec<&String> = used.iter().filter(|n| !have.contains(*n)).collect();
    assert!(
        missing.is_empty(),
        "used by the alerts or the dashboard but not exported: {missing:?}\n{text}"
    );
    assert!(
        have.contains("kingress_watch_errors_total"),
        "watch errors are exported before the first one"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_and_monitoring_objects_are_accepted_by_the_apiserver() {
    let cp = controlplane::shared();
    let client = cp.client().await;
    for crd in [
        "monitoring.coreos.com_podmonitors.yaml",
        "monitoring.coreos.com_prometheusrules.yaml",
    ] {
        let path = repo_path("tests/prometheus-operator").join(crd);
        let text = std::fs::read_to_string(&path).expect("the operator's CRD");
        apply_yaml(&client, None, &text).await;
    }
    let ns = cp.namespace("chart-extras").await;
    let variants: [&[&str]; 3] = [
        &["redis.enabled=true"],
        &[
            "redis.enabled=true",
            "redis.persistence.enabled=true",
            "redis.persistence.storageClassName=standard",
            "metrics.podMonitor.enabled=true",
            "metrics.prometheusRule.enabled=true",
            "metrics.grafanaDashboard.enabled=true",
            "metrics.podMonitor.labels.release=prometheus",
            "metrics.prometheusRule.alertLabels.team=platform",
        ],
        &["redis.enabled=true", "redis.auth.existingSecret=my-redis"],
    ];
    for sets in variants {
        let only = [
            "--show-only",
            "templates/redis.yaml",
            "--show-only",
            "templates/monitoring.yaml",
        ];
        let mut extra = MONITORING.to_vec();
        if sets.iter().any(|s| s.starts_with("metrics.")) {
            extra.extend(only);
        } else {
            extra.extend(&only[..2]);
        }
        let rendered = template("extras", &ns, sets, &extra);
        // The CRDs were just created: the apiserver serves their kinds within moments.
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            match try_apply_yaml(&client, Some(&ns), &rendered, Mode::Apply).await {
                Ok(_) => break,
                Err(_) if tokio::time::Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                Err(e) => panic!("{sets:?} refused: {e}\n{rendered}"),
            }
        }
    }
}
