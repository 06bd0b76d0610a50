//! The Helm chart rendered offline by the real `helm` (`tests/support/helm.rs`): the CRD
//! copies, `helm lint`, and `helm template` with several sets of values.
//!
//! Nothing is skipped: when helm cannot be built, every test that needs it fails with the reason.

mod support;

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use serde_json::Value;
use support::helm::*;

// ---------------------------------------------------------------------------------------------
// Offline checks: CRD copies, lint, template

#[test]
fn chart_crds_are_the_repository_crds() {
    let list = |dir: &Path| -> BTreeMap<String, Vec<u8>> {
        fs::read_dir(dir)
            .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
            .map(|p| {
                let name = p
                    .file_name()
                    .unwrap_or_default()
                    .to_string_lossy()
                    .into_owned();
                let bytes = fs::read(&p).unwrap_or_else(|e| panic!("reading {}: {e}", p.display()));
                (name, bytes)
            })
            .collect()
    };
    let repo = list(&repo_path("crds"));
    let chart = list(&chart_dir().join("crds"));
    assert!(!repo.is_empty(), "crds/ has no YAML files");
    let fix =
        "refresh them with: rm charts/kingress/crds/*.yaml && cp crds/*.yaml charts/kingress/crds/";
    assert_eq!(
        repo.keys().collect::<Vec<_>>(),
        chart.keys().collect::<Vec<_>>(),
        "charts/kingress/crds/ must hold exactly the files of crds/; {fix}"
    );
    for (name, bytes) in &repo {
        assert!(
            chart[name] == *bytes,
            "charts/kingress/crds/{name} differs from crds/{name}; {fix}"
        );
    }
}

#[test]
fn helm_lint_is_clean() {
    let chart = chart_dir();
    let chart = chart.to_str().expect("chart path is UTF-8");
    for sets in [
        &[][..],
        &["kong.autoscaling.enabled=true"][..],
        &["watchNamespaces={a,b}"][..],
        &[
            "controller.replicaCount=1",
            "controller.leaderElection.enabled=false",
            "kong.admin.tls.enabled=false",
            "kong.proxy.service.type=NodePort",
            "ingressClass.default=true",
        ][..],
    ] {
        let mut args = vec!["lint", "--strict", chart];
        for set in sets {
            args.extend(["--set", set]);
        }
        let run = helm_run(&args);
        let output = format!("{}{}", run.stdout, run.stderr);
        assert!(run.ok, "helm lint {sets:?} failed:\n{output}");
        assert!(
            output.contains("1 chart(s) linted, 0 chart(s) failed"),
            "helm lint {sets:?}:\n{output}"
        );
        for bad in ["[WARNING]", "[ERROR]"] {
            assert!(
                !output.contains(bad),
                "helm lint {sets:?} reports {bad}:\n{output}"
            );
        }
    }
}

#[test]
fn default_values_render_the_whole_gateway() {
    let rendered = objects(&template(
        "kingress",
        "kong",
        &[],
        &["--api-versions", GATEWAY_API],
    ));
    assert_eq!(
        kinds(&rendered),
        [
            "ClusterRole",
            "ClusterRoleBinding",
            "Deployment",
            "Deployment",
            "GatewayClass",
            "IngressClass",
            "NetworkPolicy",
            "PodDisruptionBudget",
            "PodDisruptionBudget",
            "Role",
            "RoleBinding",
            "Service",
            "Service",
            "ServiceAccount",
            "ServiceAccount",
        ]
    );

    // The controller: 2 replicas with leader election, discovering Kong through the admin Service.
    let controller = get(&rendered, "Deployment/kong/kingress-controller");
    assert_eq!(controller["spec"]["replicas"], 2);
    let pod = &controller["spec"]["template"]["spec"];
    assert_eq!(pod["serviceAccountName"], "kingress");
    let c = container(controller);
    assert_eq!(c["image"], "kingress:0.1.0");
    let args = strings(&c["args"]);
    for want in [
        "run",
        "--kong-admin-service=kong/kingress-kong-admin",
        "--kong-admin-tls-skip-verify",
        "--publish-service=kong/kingress-kong-proxy",
        "--ingress-class=kong",
        "--gateway-api-controller-name=konghq.com/kic-gateway-controller",
        "--leader-elect=true",
        "--election-id=5b374a9e.konghq.com",
        "--election-namespace=$(POD_NAMESPACE)",
    ] {
        assert!(
            args.iter().any(|a| a == want),
            "controller args lack {want}: {args:?}"
        );
    }
    assert!(
        !args.iter().any(|a| a.starts_with("--watch-namespace")),
        "{args:?}"
    );
    assert_eq!(
        env_value(c, "POD_NAMESPACE")["valueFrom"]["fieldRef"]["fieldPath"],
        "metadata.namespace"
    );
    assert_eq!(c["livenessProbe"]["httpGet"]["path"], "/healthz");
    assert_eq!(c["readinessProbe"]["httpGet"]["path"], "/readyz");
    let ports: BTreeMap<String, i64> = items(&c["ports"])
        .iter()
        .map(|p| {
            (
                p["name"].as_str().unwrap_or("").to_string(),
                p["containerPort"].as_i64().unwrap_or(0),
            )
        })
        .collect();
    assert_eq!(
        ports,
        BTreeMap::from([("health".into(), 10254), ("metrics".into(), 10255)])
    );
    assert_hardened("controller", pod, c);

    // Kong: DB-less, admin API on the pod network only, writable prefix and /tmp.
    let kong = get(&rendered, "Deployment/kong/kingress-gateway");
    assert_eq!(kong["spec"]["replicas"], 2);
    let pod = &kong["spec"]["template"]["spec"];
    assert_eq!(pod["automountServiceAccountToken"], false);
    let k = container(kong);
    assert_eq!(k["image"], "kong:3.10");
    assert_eq!(env_value(k, "KONG_DATABASE")["value"], "off");
    assert_eq!(
        env_value(k, "KONG_ADMIN_LISTEN")["value"],
        "0.0.0.0:8444 http2 ssl"
    );
    assert_eq!(env_value(k, "KONG_PREFIX")["value"], "/kong_prefix/");
    let mounts: Vec<&str> = items(&k["volumeMounts"])
        .iter()
        .filter_map(|m| m["mountPath"].as_str())
        .collect();
    assert_eq!(mounts, ["/kong_prefix/", "/tmp"]);
    assert!(
        items(&pod["volumes"])
            .iter()
            .all(|v| v["emptyDir"].is_object()),
        "Kong's volumes are emptyDirs: {:#}",
        pod["volumes"]
    );
    assert_eq!(k["readinessProbe"]["httpGet"]["path"], "/status/ready");
    assert_hardened("kong", pod, k);

    // The admin Service is headless, with the port name kingress's discovery looks for.
    let admin = get(&rendered, "Service/kong/kingress-kong-admin");
    assert_eq!(admin["spec"]["clusterIP"], "None");
    assert_eq!(admin["spec"]["publishNotReadyAddresses"], true);
    assert_eq!(admin["spec"]["ports"][0]["name"], "admin-tls");
    assert_eq!(admin["spec"]["ports"][0]["port"], 8444);

    let proxy = get(&rendered, "Service/kong/kingress-kong-proxy");
    assert_eq!(proxy["spec"]["type"], "LoadBalancer");
    let ports: Vec<(i64, &str)> = items(&proxy["spec"]["ports"])
        .iter()
        .map(|p| {
            (
                p["port"].as_i64().unwrap_or(0),
                p["targetPort"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(ports, [(80, "proxy"), (443, "proxy-tls")]);
    assert!(
        items(&k["env"])
            .iter()
            .all(|e| e["name"] != "KONG_STREAM_LISTEN"),
        "no stream listeners by default"
    );

    // L4 listeners: Kong's stream_listen, its container ports, the proxy Service's ports and
    // the NetworkPolicy's open ports follow `kong.proxy.stream`.
    let stream = objects(&template(
        "kingress",
        "kong",
        &[
            "kong.proxy.stream[0].name=pg,kong.proxy.stream[0].port=5432,kong.proxy.stream[0].containerPort=5432,kong.proxy.stream[0].protocol=TCP",
            "kong.proxy.stream[1].name=dns,kong.proxy.stream[1].port=53,kong.proxy.stream[1].containerPort=5353,kong.proxy.stream[1].protocol=UDP",
            "kong.proxy.stream[2].name=tls,kong.proxy.stream[2].port=9443,kong.proxy.stream[2].containerPort=9443,kong.proxy.stream[2].protocol=TCP,kong.proxy.stream[2].tls=true",
        ],
        &[],
    ));
    let kong = container(get(&stream, "Deployment/kong/kingress-gateway"));
    assert_eq!(
        env_value(kong, "KONG_STREAM_LISTEN")["value"],
        "0.0.0.0:5432, 0.0.0.0:5353 udp, 0.0.0.0:9443 ssl"
    );
    let named = |ports: &Value, key: &str| -> Vec<(String, i64, String)> {
        items(ports)
            .iter()
            .filter(|p| ["pg", "dns", "tls"].contains(&p["name"].as_str().unwrap_or("")))
            .map(|p| {
                (
                    p["name"].as_str().unwrap_or("").to_string(),
                    p[key].as_i64().unwrap_or(0),
                    p["protocol"].as_str().unwrap_or("").to_string(),
                )
            })
            .collect()
    };
    let want = |ports: [i64; 3]| {
        vec![
            ("pg".to_string(), ports[0], "TCP".to_string()),
            ("dns".to_string(), ports[1], "UDP".to_string()),
            ("tls".to_string(), ports[2], "TCP".to_string()),
        ]
    };
    assert_eq!(
        named(&kong["ports"], "containerPort"),
        want([5432, 5353, 9443])
    );
    let proxy = get(&stream, "Service/kong/kingress-kong-proxy");
    assert_eq!(
        named(&proxy["spec"]["ports"], "port"),
        want([5432, 53, 9443])
    );
    let policy = get(&stream, "NetworkPolicy/kong/kingress-gateway");
    let open: Vec<String> = items(&policy["spec"]["ingress"][1]["ports"])
        .iter()
        .map(|p| {
            format!(
                "{}/{}",
                p["port"].as_str().unwrap_or(""),
                p["protocol"].as_str().unwrap_or("")
            )
        })
        .collect();
    assert!(
        ["pg/TCP", "dns/UDP", "tls/TCP"]
            .iter()
            .all(|p| open.contains(&p.to_string())),
        "{open:?}"
    );

    let class = get(&rendered, "IngressClass//kong");
    assert_eq!(
        class["spec"]["controller"],
        "ingress-controllers.konghq.com/kong"
    );
    assert!(
        class["metadata"]["annotations"].is_null(),
        "not the default class by default"
    );
    let gateway_class = get(&rendered, "GatewayClass//kong");
    assert_eq!(
        gateway_class["spec"]["controllerName"],
        "konghq.com/kic-gateway-controller"
    );

    // Without the Gateway API (as helm sees the cluster), no GatewayClass.
    let without = objects(&template("kingress", "kong", &[], &[]));
    assert!(!without.keys().any(|k| k.starts_with("GatewayClass/")));
    // The default-class annotation on request.
    let default_class = objects(&template(
        "kingress",
        "kong",
        &["ingressClass.default=true"],
        &[],
    ));
    assert_eq!(
        get(&default_class, "IngressClass//kong")["metadata"]["annotations"]["ingressclass.kubernetes.io/is-default-class"],
        "true"
    );
}

#[test]
fn autoscaling_renders_an_hpa_for_kong() {
    let rendered = objects(&template(
        "kingress",
        "kong",
        &["kong.autoscaling.enabled=true"],
        &[],
    ));
    let hpa = get(&rendered, "HorizontalPodAutoscaler/kong/kingress-gateway");
    assert_eq!(hpa["apiVersion"], "autoscaling/v2");
    assert_eq!(hpa["spec"]["scaleTargetRef"]["name"], "kingress-gateway");
    assert_eq!(hpa["spec"]["minReplicas"], 2);
    assert_eq!(hpa["spec"]["metrics"][0]["resource"]["name"], "cpu");
    let kong = get(&rendered, "Deployment/kong/kingress-gateway");
    assert!(
        kong["spec"]["replicas"].is_null(),
        "the HPA owns Kong's replica count"
    );
    // The controller is not autoscaled.
    assert_eq!(
        get(&rendered, "Deployment/kong/kingress-controller")["spec"]["replicas"],
        2
    );
}

#[test]
fn watch_namespaces_render_roles_per_namespace() {
    let rendered = objects(&template(
        "kingress",
        "kong",
        &["watchNamespaces={a,b}"],
        &[],
    ));
    let args = strings(&container(get(&rendered, "Deployment/kong/kingress-controller"))["args"]);
    assert!(
        args.iter().any(|a| a == "--watch-namespace=a,b"),
        "{args:?}"
    );

    for ns in ["a", "b"] {
        let role = get(&rendered, &format!("Role/{ns}/kingress"));
        let resources: Vec<String> = items(&role["rules"])
            .iter()
            .flat_map(|r| strings(&r["resources"]))
            .collect();
        for want in [
            "services",
            "endpointslices",
            "secrets",
            "ingresses",
            "httproutes",
            "kongupstreampolicies",
        ] {
            assert!(
                resources.iter().any(|r| r == want),
                "Role {ns} lacks {want}: {resources:?}"
            );
        }
        let binding = get(&rendered, &format!("RoleBinding/{ns}/kingress"));
        assert_eq!(binding["subjects"][0]["name"], "kingress");
        assert_eq!(binding["subjects"][0]["namespace"], "kong");
    }
    // The ClusterRole keeps only the cluster-scoped kinds.
    let cluster_role = get(&rendered, "ClusterRole//kingress");
    let resources: Vec<String> = items(&cluster_role["rules"])
        .iter()
        .flat_map(|r| strings(&r["resources"]))
        .collect();
    assert_eq!(
        resources,
        [
            "namespaces",
            "ingressclasses",
            "gatewayclasses",
            "gatewayclasses/status",
            "kongclusterplugins",
            "kongvaults",
            "kongclusterplugins/status",
            "kongvaults/status"
        ]
    );
    assert!(!rendered.contains_key("Role/c/kingress"));
}

/// The rendered arguments are ones `kingress run` accepts (parsed by its own command line), and
/// the KIC-compatible values reach the translator's options.
#[test]
fn controller_args_parse_with_kingress_run() {
    use clap::Parser;
    use kingress::cli::{Cli, Command};

    let parse = |sets: &[&str]| {
        let rendered = objects(&template("kingress", "kong", sets, &[]));
        let args =
            strings(&container(get(&rendered, "Deployment/kong/kingress-controller"))["args"]);
        let argv = std::iter::once("kingress".to_string()).chain(args.clone());
        match Cli::try_parse_from(argv) {
            Ok(Cli {
                command: Command::Run(run),
            }) => (args, run),
            Ok(other) => panic!("{args:?} parsed as {other:?}"),
            Err(e) => panic!("kingress run refuses the chart's args {args:?}: {e}"),
        }
    };
    let (args, run) = parse(&[]);
    assert!(
        !args.iter().any(|a| a.starts_with("--feature-gates")),
        "{args:?}"
    );
    let options = run.controller_options().expect("options");
    assert!(options.translate.enable_drain_support);
    assert!(!options.translate.feature_gates.rewrite_uris);

    let (args, run) = parse(&[
        "controller.featureGates=RewriteURIs=true",
        "controller.enableDrainSupport=false",
    ]);
    assert!(
        args.iter().any(|a| a == "--feature-gates=RewriteURIs=true"),
        "{args:?}"
    );
    let options = run.controller_options().expect("options");
    assert!(!options.translate.enable_drain_support);
    assert!(options.translate.feature_gates.rewrite_uris);
}

#[test]
fn invalid_values_fail_with_a_clear_message() {
    let chart = chart_dir();
    let chart = chart.to_str().expect("chart path is UTF-8");
    for (set, message) in [
        (
            "watchNamespaces={Not_A_Namespace}",
            "is not a valid namespace name",
        ),
        (
            "controller.leaderElection.enabled=false",
            "controller.replicaCount > 1 needs controller.leaderElection.enabled",
        ),
        (
            "kong.proxy.stream[0].name=x,kong.proxy.stream[0].port=1,kong.proxy.stream[0].containerPort=1,kong.proxy.stream[0].protocol=SCTP",
            "kong.proxy.stream x: protocol must be TCP or UDP",
        ),
        (
            "kong.proxy.stream[0].name=x,kong.proxy.stream[0].port=1,kong.proxy.stream[0].containerPort=1,kong.proxy.stream[0].protocol=UDP,kong.proxy.stream[0].tls=true",
            "kong.proxy.stream x: tls needs protocol TCP",
        ),
        (
            "kong.proxy.stream[0].name=x,kong.proxy.stream[0].protocol=TCP",
            "kong.proxy.stream: each listener needs name, port and containerPort",
        ),
    ] {
        let run = helm_run(&["template", "kingress", chart, "--set", set]);
        assert!(!run.ok, "helm template --set {set} should fail");
        assert!(
            run.stderr.contains(message),
            "helm template --set {set}:\n{}",
            run.stderr
        );
    }
}
