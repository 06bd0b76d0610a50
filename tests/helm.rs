//! The Helm chart (`charts/kingress`), checked with the real `helm` binary (built from its Go
//! module by `tests/helm/ensure.sh`, or `KINGRESS_HELM_BIN`) and the real kube-apiserver of
//! `tests/support`: `helm lint`, `helm template` with several sets of values, the rendered
//! manifests applied to the apiserver, the RBAC it grants checked by impersonating the chart's
//! ServiceAccount, and a real `helm install` / `upgrade` / `uninstall`.
//!
//! Nothing is skipped: when helm cannot be built, every test that needs it fails with the reason.

mod support;

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::authorization::v1::{
    ResourceAttributes, SubjectAccessReview, SubjectAccessReviewSpec,
};
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::api::core::v1::Event as CoreEvent;
use k8s_openapi::api::core::v1::{Secret, Service};
use k8s_openapi::api::events::v1::Event;
use k8s_openapi::api::networking::v1::{Ingress, IngressClass};
use kube::Client;
use kube::api::{
    Api, DeleteParams, DynamicObject, ListParams, ObjectMeta, Patch, PatchParams, PostParams,
};
use serde_json::{Value, json};
use support::apply::{apply_yaml, parse_yaml};
use support::controlplane::{self, ControlPlane};
use support::helm::*;

const ELECTION_ID: &str = "5b374a9e.konghq.com";

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

// ---------------------------------------------------------------------------------------------
// Against the apiserver

/// Renders the chart for `release` into namespace `ns` (with the Gateway API available, CRDs
/// included, and class names unique to the release so tests do not share cluster objects) and
/// applies every object server-side as admin. Returns the rendered objects.
async fn install_rendered(
    cp: &ControlPlane,
    release: &str,
    ns: &str,
    sets: &[&str],
) -> BTreeMap<String, Value> {
    let class_names = [
        format!("ingressClass.name={release}"),
        format!("gatewayClass.name={release}"),
    ];
    let mut all_sets: Vec<&str> = class_names.iter().map(String::as_str).collect();
    all_sets.extend(sets);
    let yaml = template(
        release,
        ns,
        &all_sets,
        &["--api-versions", GATEWAY_API, "--include-crds"],
    );
    let client = cp.client().await;
    let stored = apply_yaml(&client, Some(ns), &yaml).await;
    let rendered = objects(&yaml);
    assert_eq!(
        stored.len(),
        rendered.len(),
        "every rendered object is stored"
    );
    rendered
}

#[tokio::test]
async fn rendered_manifests_are_accepted_by_the_apiserver() {
    let cp = controlplane::shared();
    for (prefix, sets) in [
        ("helm-default", &[][..]),
        ("helm-hpa", &["kong.autoscaling.enabled=true"][..]),
        (
            "helm-plain-admin",
            &[
                "kong.admin.tls.enabled=false",
                "kong.proxy.service.type=NodePort",
            ][..],
        ),
        (
            "helm-stream",
            &[
                "kong.proxy.stream[0].name=pg,kong.proxy.stream[0].port=5432,kong.proxy.stream[0].containerPort=5432,kong.proxy.stream[0].protocol=TCP",
                "kong.proxy.stream[1].name=dns,kong.proxy.stream[1].port=53,kong.proxy.stream[1].containerPort=5353,kong.proxy.stream[1].protocol=UDP",
            ][..],
        ),
    ] {
        let ns = cp.namespace(prefix).await;
        let release = cp.unique_name("rel");
        let rendered = install_rendered(cp, &release, &ns, sets).await;
        // Spot-check what the apiserver made of them.
        let client = cp.client().await;
        let proxy: Api<Service> = Api::namespaced(client.clone(), &ns);
        let proxy = proxy
            .get(&format!("{release}-kingress-kong-proxy"))
            .await
            .expect("the proxy Service is stored");
        let spec = proxy.spec.unwrap_or_default();
        assert!(
            spec.cluster_ip.is_some_and(|ip| ip != "None"),
            "the proxy has a cluster IP"
        );
        let classes: Api<IngressClass> = Api::all(client.clone());
        classes
            .get(&release)
            .await
            .expect("the IngressClass is stored");
        assert!(rendered.keys().any(|k| k.starts_with("GatewayClass/")));
    }
    // watchNamespaces: the Roles land in namespaces that exist.
    let ns = cp.namespace("helm-watch").await;
    let (a, b) = (
        cp.namespace("helm-watch-a").await,
        cp.namespace("helm-watch-b").await,
    );
    let release = cp.unique_name("rel");
    let set = format!("watchNamespaces={{{a},{b}}}");
    let rendered = install_rendered(cp, &release, &ns, &[&set]).await;
    assert!(rendered.contains_key(&format!("Role/{a}/{release}-kingress")));
    assert!(rendered.contains_key(&format!("RoleBinding/{b}/{release}-kingress")));
}

/// Access of the chart's ServiceAccount, asked through SubjectAccessReviews (as admin).
struct Access {
    client: Client,
    user: String,
    groups: Vec<String>,
}

impl Access {
    async fn new(cp: &ControlPlane, ns: &str, service_account: &str) -> Access {
        Access {
            client: cp.client().await,
            user: format!("system:serviceaccount:{ns}:{service_account}"),
            groups: vec![
                "system:serviceaccounts".into(),
                format!("system:serviceaccounts:{ns}"),
                "system:authenticated".into(),
            ],
        }
    }

    /// Whether the ServiceAccount may `verb` `resource` (`"group/resource[/subresource]"`,
    /// group empty for core) in `namespace` (empty: all namespaces or cluster-scoped),
    /// optionally the object `name`.
    async fn allowed(
        &self,
        verb: &str,
        resource: &str,
        namespace: &str,
        name: Option<&str>,
    ) -> bool {
        let mut parts = resource.splitn(3, '/');
        let group = parts.next().unwrap_or_default();
        let resource_name = parts.next().unwrap_or_default();
        let subresource = parts.next();
        let review = SubjectAccessReview {
            spec: SubjectAccessReviewSpec {
                user: Some(self.user.clone()),
                groups: Some(self.groups.clone()),
                resource_attributes: Some(ResourceAttributes {
                    verb: Some(verb.into()),
                    group: Some(group.into()),
                    resource: Some(resource_name.into()),
                    subresource: subresource.map(str::to_string),
                    namespace: (!namespace.is_empty()).then(|| namespace.to_string()),
                    name: name.map(str::to_string),
                    ..ResourceAttributes::default()
                }),
                ..SubjectAccessReviewSpec::default()
            },
            ..SubjectAccessReview::default()
        };
        let reviews: Api<SubjectAccessReview> = Api::all(self.client.clone());
        let answer = reviews
            .create(&PostParams::default(), &review)
            .await
            .unwrap_or_else(|e| panic!("SubjectAccessReview {verb} {resource}: {e}"));
        answer.status.is_some_and(|s| s.allowed)
    }

    /// Asserts every `(verb, resource, namespace, name)` is allowed (or denied), listing all
    /// the mismatches at once.
    async fn check(&self, want: bool, cases: &[(&str, &str, &str, Option<&str>)]) {
        let mut wrong = Vec::new();
        for &(verb, resource, ns, name) in cases {
            if self.allowed(verb, resource, ns, name).await != want {
                wrong.push(format!("{verb} {resource} in {ns:?} name {name:?}"));
            }
        }
        let word = if want { "allowed" } else { "denied" };
        assert!(
            wrong.is_empty(),
            "{} should be {word}:\n  {}",
            self.user,
            wrong.join("\n  ")
        );
    }
}

/// What the controller watches, as `group/resource`.
const NAMESPACED: &[&str] = &[
    "/services",
    "discovery.k8s.io/endpointslices",
    "networking.k8s.io/ingresses",
    "gateway.networking.k8s.io/httproutes",
    "gateway.networking.k8s.io/gateways",
    "configuration.konghq.com/kongupstreampolicies",
    "configuration.konghq.com/kongingresses",
    "configuration.konghq.com/ingressclassparameterses",
    "configuration.konghq.com/kongplugins",
    "configuration.konghq.com/kongcustomentities",
    "incubator.ingress-controller.konghq.com/kongservicefacades",
    "gateway.networking.k8s.io/referencegrants",
    "gateway.networking.k8s.io/backendtlspolicies",
    "/secrets",
    "/configmaps",
];
const CLUSTER_SCOPED: &[&str] = &[
    "networking.k8s.io/ingressclasses",
    "gateway.networking.k8s.io/gatewayclasses",
    "configuration.konghq.com/kongclusterplugins",
    "configuration.konghq.com/kongvaults",
];
/// The status subresources it writes.
const STATUS: &[&str] = &[
    "networking.k8s.io/ingresses/status",
    "gateway.networking.k8s.io/httproutes/status",
    "gateway.networking.k8s.io/gateways/status",
    "gateway.networking.k8s.io/backendtlspolicies/status",
    "configuration.konghq.com/kongupstreampolicies/status",
    "configuration.konghq.com/kongplugins/status",
    "incubator.ingress-controller.konghq.com/kongservicefacades/status",
];
const CLUSTER_STATUS: &[&str] = &[
    "gateway.networking.k8s.io/gatewayclasses/status",
    "configuration.konghq.com/kongclusterplugins/status",
    "configuration.konghq.com/kongvaults/status",
];
const LEASES: &str = "coordination.k8s.io/leases";
const WRITES: &[&str] = &["create", "update", "patch", "delete", "deletecollection"];

fn forbidden<T: std::fmt::Debug>(what: &str, result: Result<T, kube::Error>) {
    match result {
        Err(kube::Error::Api(status)) if status.code == 403 => {}
        other => panic!("{what}: expected 403 Forbidden, got {other:?}"),
    }
}

fn allowed<T>(what: &str, result: Result<T, kube::Error>) -> T {
    result.unwrap_or_else(|e| panic!("{what}: expected it to be allowed, got {e}"))
}

#[tokio::test]
async fn rbac_is_least_privilege_cluster_wide() {
    let cp = controlplane::shared();
    let ns = cp.namespace("helm-rbac").await;
    let other = cp.namespace("helm-rbac-other").await;
    let release = cp.unique_name("rel");
    install_rendered(cp, &release, &ns, &[]).await;
    let sa = format!("{release}-kingress");
    let access = Access::new(cp, &ns, &sa).await;

    // Reads of every watched kind, in all namespaces.
    let mut reads = Vec::new();
    for resource in NAMESPACED {
        for verb in ["list", "watch"] {
            reads.push((verb, *resource, "", None));
            reads.push((verb, *resource, other.as_str(), None));
        }
        // Secrets and ConfigMaps: list and watch only (their watches are enough).
        if !matches!(*resource, "/secrets" | "/configmaps") {
            reads.push(("get", *resource, other.as_str(), Some("x")));
        }
    }
    for resource in CLUSTER_SCOPED {
        for verb in ["get", "list", "watch"] {
            reads.push((verb, *resource, "", None));
        }
    }
    // Namespaces: their labels, for allowedRoutes selectors.
    for verb in ["list", "watch"] {
        reads.push((verb, "/namespaces", "", None));
    }
    access.check(true, &reads).await;

    // Status writes, Events, its own Lease.
    let mut writes = Vec::new();
    for resource in STATUS {
        for verb in ["update", "patch"] {
            writes.push((verb, *resource, other.as_str(), Some("x")));
        }
    }
    for resource in CLUSTER_STATUS {
        for verb in ["update", "patch"] {
            writes.push((verb, *resource, "", Some("x")));
        }
    }
    for resource in ["/events", "events.k8s.io/events"] {
        for verb in ["create", "patch"] {
            writes.push((verb, resource, other.as_str(), None));
        }
    }
    writes.push(("create", LEASES, ns.as_str(), None));
    for verb in ["get", "update", "patch"] {
        writes.push((verb, LEASES, ns.as_str(), Some(ELECTION_ID)));
    }
    access.check(true, &writes).await;

    // Everything else is denied: writes to watched objects (specs included), Secret get,
    // other Leases, Leases elsewhere, and kinds it has no business with.
    let mut denied = Vec::new();
    for resource in NAMESPACED.iter().chain(CLUSTER_SCOPED) {
        let scope = if CLUSTER_SCOPED.contains(resource) {
            ""
        } else {
            other.as_str()
        };
        for verb in WRITES {
            denied.push((*verb, *resource, scope, Some("x")));
        }
    }
    for resource in STATUS {
        denied.push(("delete", *resource, other.as_str(), Some("x")));
    }
    denied.extend([
        ("get", "/secrets", other.as_str(), Some("x")),
        ("get", "/secrets", ns.as_str(), Some("x")),
        ("patch", "/services/status", other.as_str(), Some("x")),
        ("delete", "/events", other.as_str(), Some("x")),
        ("get", LEASES, ns.as_str(), Some("other-lease")),
        ("update", LEASES, ns.as_str(), Some("other-lease")),
        ("list", LEASES, ns.as_str(), None),
        ("delete", LEASES, ns.as_str(), Some(ELECTION_ID)),
        ("create", LEASES, other.as_str(), None),
        ("get", LEASES, other.as_str(), Some(ELECTION_ID)),
        ("update", LEASES, other.as_str(), Some(ELECTION_ID)),
        ("list", "/pods", "", None),
        ("get", "/configmaps", other.as_str(), Some("x")),
        ("get", "/namespaces", "", Some("x")),
        ("list", "/nodes", "", None),
        ("create", "/serviceaccounts/token", ns.as_str(), Some(&sa)),
        (
            "create",
            "rbac.authorization.k8s.io/clusterrolebindings",
            "",
            None,
        ),
        (
            "escalate",
            "rbac.authorization.k8s.io/clusterroles",
            "",
            Some(&release),
        ),
        ("update", "apps/deployments", ns.as_str(), Some("x")),
        (
            "create",
            "apiextensions.k8s.io/customresourcedefinitions",
            "",
            None,
        ),
    ]);
    access.check(false, &denied).await;

    // The same through real requests, impersonating the ServiceAccount.
    let admin = cp.client().await;
    apply_yaml(
        &admin,
        Some(&other),
        r#"
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: web}
spec:
  rules:
  - http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
---
apiVersion: configuration.konghq.com/v1beta1
kind: KongUpstreamPolicy
metadata: {name: policy}
spec: {algorithm: round-robin}
---
apiVersion: v1
kind: Secret
metadata: {name: creds}
stringData: {password: hunter2}
---
apiVersion: coordination.k8s.io/v1
kind: Lease
metadata: {name: other-lease}
spec: {holderIdentity: someone-else}
"#,
    )
    .await;
    let as_sa = cp.client_as_service_account(&ns, &sa).await;

    let ingresses: Api<Ingress> = Api::all(as_sa.clone());
    allowed(
        "list Ingresses in all namespaces",
        ingresses.list(&ListParams::default()).await,
    );
    let ingresses: Api<Ingress> = Api::namespaced(as_sa.clone(), &other);
    let status = json!({"status": {"loadBalancer": {"ingress": [{"ip": "192.0.2.1"}]}}});
    allowed(
        "patch ingresses/status",
        ingresses
            .patch_status("web", &PatchParams::default(), &Patch::Merge(&status))
            .await,
    );
    forbidden(
        "patch an Ingress's spec",
        ingresses
            .patch(
                "web",
                &PatchParams::default(),
                &Patch::Merge(json!({"spec": {"defaultBackend": null}})),
            )
            .await,
    );
    let mut ingress = allowed("get an Ingress", ingresses.get("web").await);
    ingress.metadata.labels = Some([("tampered".to_string(), "yes".to_string())].into());
    forbidden(
        "update an Ingress",
        ingresses
            .replace("web", &PostParams::default(), &ingress)
            .await,
    );
    forbidden(
        "delete an Ingress",
        ingresses.delete("web", &DeleteParams::default()).await,
    );

    let policy_object = parse_yaml(
        "apiVersion: configuration.konghq.com/v1beta1\nkind: KongUpstreamPolicy\nmetadata: {name: policy}\n",
    )
    .expect("policy YAML")
    .remove(0);
    let policies: Api<DynamicObject> =
        support::apply::api_for(&as_sa, &policy_object, Some(&other))
            .await
            .unwrap_or_else(|e| panic!("discovering KongUpstreamPolicy: {e}"));
    allowed(
        "patch kongupstreampolicies/status",
        policies
            .patch_status(
                "policy",
                &PatchParams::default(),
                &Patch::Merge(json!({"status": {"ancestors": []}})),
            )
            .await,
    );
    forbidden(
        "patch a KongUpstreamPolicy's spec",
        policies
            .patch(
                "policy",
                &PatchParams::default(),
                &Patch::Merge(json!({"spec": {"slots": 100}})),
            )
            .await,
    );
    forbidden(
        "delete a KongUpstreamPolicy",
        policies.delete("policy", &DeleteParams::default()).await,
    );

    // Secrets: listed and watched (TLS certificates), never fetched by name nor written.
    let secrets: Api<Secret> = Api::namespaced(as_sa.clone(), &other);
    allowed(
        "list Secrets",
        secrets
            .list(&ListParams::default().fields("type=kubernetes.io/tls"))
            .await,
    );
    forbidden("get a Secret", secrets.get("creds").await);
    forbidden(
        "delete a Secret",
        secrets.delete("creds", &DeleteParams::default()).await,
    );
    let secret = Secret {
        metadata: ObjectMeta {
            name: Some("planted".into()),
            ..ObjectMeta::default()
        },
        ..Secret::default()
    };
    forbidden(
        "create a Secret",
        secrets.create(&PostParams::default(), &secret).await,
    );

    // Events (events.k8s.io, and the core kind older tools write).
    let regarding = json!({
        "apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "name": "web", "namespace": other,
    });
    let event: Event = serde_json::from_value(json!({
        "metadata": {"generateName": "web-"},
        "eventTime": "2025-01-01T00:00:00.000000Z",
        "action": "Sync",
        "reason": "KongConfigurationSucceeded",
        "note": "configuration pushed to Kong",
        "type": "Normal",
        "reportingController": "kingress",
        "reportingInstance": "kingress-0",
        "regarding": regarding,
    }))
    .expect("events.k8s.io Event");
    let events: Api<Event> = Api::namespaced(as_sa.clone(), &other);
    allowed(
        "create an Event",
        events.create(&PostParams::default(), &event).await,
    );
    let core_event: CoreEvent = serde_json::from_value(json!({
        "metadata": {"generateName": "web-"},
        "involvedObject": regarding,
        "reason": "KongConfigurationSucceeded",
        "message": "configuration pushed to Kong",
        "type": "Normal",
    }))
    .expect("core Event");
    let core_events: Api<CoreEvent> = Api::namespaced(as_sa.clone(), &other);
    allowed(
        "create a core Event",
        core_events
            .create(&PostParams::default(), &core_event)
            .await,
    );
    forbidden("list Events", events.list(&ListParams::default()).await);

    // The leader-election Lease: its own in its namespace, nothing else.
    let leases: Api<Lease> = Api::namespaced(as_sa.clone(), &ns);
    let lease = Lease {
        metadata: ObjectMeta {
            name: Some(ELECTION_ID.into()),
            ..ObjectMeta::default()
        },
        spec: Some(LeaseSpec {
            holder_identity: Some("kingress-0".into()),
            lease_duration_seconds: Some(15),
            ..LeaseSpec::default()
        }),
    };
    allowed(
        "create the Lease",
        leases.create(&PostParams::default(), &lease).await,
    );
    let mut held = allowed("get the Lease", leases.get(ELECTION_ID).await);
    held.spec
        .get_or_insert_with(Default::default)
        .holder_identity = Some("kingress-1".into());
    allowed(
        "update the Lease",
        leases
            .replace(ELECTION_ID, &PostParams::default(), &held)
            .await,
    );
    forbidden(
        "delete the Lease",
        leases.delete(ELECTION_ID, &DeleteParams::default()).await,
    );
    forbidden("list Leases", leases.list(&ListParams::default()).await);
    let elsewhere: Api<Lease> = Api::namespaced(as_sa.clone(), &other);
    forbidden(
        "get a Lease in another namespace",
        elsewhere.get("other-lease").await,
    );
    forbidden(
        "create a Lease in another namespace",
        elsewhere.create(&PostParams::default(), &lease).await,
    );
    let mut theirs = allowed(
        "admin gets other-lease",
        Api::<Lease>::namespaced(admin.clone(), &other)
            .get("other-lease")
            .await,
    );
    theirs
        .spec
        .get_or_insert_with(Default::default)
        .holder_identity = Some("kingress-0".into());
    forbidden(
        "take over a Lease in another namespace",
        elsewhere
            .replace("other-lease", &PostParams::default(), &theirs)
            .await,
    );
}

#[tokio::test]
async fn rbac_with_watch_namespaces_reads_only_those_namespaces() {
    let cp = controlplane::shared();
    let ns = cp.namespace("helm-scoped").await;
    let (a, b) = (
        cp.namespace("helm-scoped-a").await,
        cp.namespace("helm-scoped-b").await,
    );
    let outside = cp.namespace("helm-scoped-c").await;
    let release = cp.unique_name("rel");
    let set = format!("watchNamespaces={{{a},{b}}}");
    install_rendered(cp, &release, &ns, &[&set]).await;
    let access = Access::new(cp, &ns, &format!("{release}-kingress")).await;

    let mut inside = Vec::new();
    let mut elsewhere = Vec::new();
    for resource in NAMESPACED {
        for verb in ["list", "watch"] {
            inside.push((verb, *resource, a.as_str(), None));
            inside.push((verb, *resource, b.as_str(), None));
            elsewhere.push((verb, *resource, outside.as_str(), None));
            elsewhere.push((verb, *resource, "", None));
        }
    }
    for resource in STATUS {
        inside.push(("patch", *resource, a.as_str(), Some("x")));
        elsewhere.push(("patch", *resource, outside.as_str(), Some("x")));
    }
    for resource in CLUSTER_SCOPED {
        inside.push(("list", *resource, "", None));
        inside.push(("watch", *resource, "", None));
    }
    // Discovery of the Kong replicas and the proxy Service, in the release namespace.
    for resource in ["/services", "discovery.k8s.io/endpointslices"] {
        inside.push(("list", resource, ns.as_str(), None));
        inside.push(("watch", resource, ns.as_str(), None));
    }
    inside.push(("update", LEASES, ns.as_str(), Some(ELECTION_ID)));
    elsewhere.push(("list", "/secrets", ns.as_str(), None));
    elsewhere.push(("create", "/events", outside.as_str(), None));
    access.check(true, &inside).await;
    access.check(false, &elsewhere).await;

    // Real requests.
    let as_sa = cp
        .client_as_service_account(&ns, &format!("{release}-kingress"))
        .await;
    allowed(
        "list Ingresses in a watched namespace",
        Api::<Ingress>::namespaced(as_sa.clone(), &a)
            .list(&ListParams::default())
            .await,
    );
    forbidden(
        "list Ingresses in another namespace",
        Api::<Ingress>::namespaced(as_sa.clone(), &outside)
            .list(&ListParams::default())
            .await,
    );
    forbidden(
        "list Ingresses in all namespaces",
        Api::<Ingress>::all(as_sa.clone())
            .list(&ListParams::default())
            .await,
    );
    forbidden(
        "list Secrets in another namespace",
        Api::<Secret>::namespaced(as_sa.clone(), &outside)
            .list(&ListParams::default())
            .await,
    );
    allowed(
        "list IngressClasses",
        Api::<IngressClass>::all(as_sa.clone())
            .list(&ListParams::default())
            .await,
    );
}

#[tokio::test]
async fn helm_install_upgrade_and_uninstall() {
    let cp = controlplane::shared();
    let ns = cp.namespace("helm-install").await;
    let release = cp.unique_name("rel");
    let chart = chart_dir();
    let chart = chart.to_str().expect("chart path is UTF-8");
    let kubeconfig = cp.kubeconfig.to_str().expect("kubeconfig path is UTF-8");
    let classes = [
        format!("ingressClass.name={release}"),
        format!("gatewayClass.name={release}"),
    ];
    let base = [
        "--kubeconfig",
        kubeconfig,
        "--namespace",
        &ns,
        "--set",
        &classes[0],
        "--set",
        &classes[1],
    ];
    let mut install = vec!["install", release.as_str(), chart];
    install.extend(base);
    let notes = helm(&install);
    assert!(notes.contains("STATUS: deployed"), "helm install:\n{notes}");

    let client = cp.client().await;
    let deployments: Api<Deployment> = Api::namespaced(client.clone(), &ns);
    for name in ["controller", "gateway"] {
        deployments
            .get(&format!("{release}-kingress-{name}"))
            .await
            .unwrap_or_else(|e| {
                panic!("Deployment {release}-kingress-{name} after helm install: {e}")
            });
    }
    // helm saw the Gateway API in the live cluster and created the GatewayClass.
    let gateway_class = parse_yaml(&format!(
        "apiVersion: gateway.networking.k8s.io/v1\nkind: GatewayClass\nmetadata: {{name: {release}}}\n"
    ))
    .expect("GatewayClass YAML")
    .remove(0);
    let gateway_classes = support::apply::api_for(&client, &gateway_class, None)
        .await
        .expect("GatewayClass API");
    let stored = gateway_classes
        .get(&release)
        .await
        .expect("the GatewayClass after helm install");
    assert_eq!(
        stored.data["spec"]["controllerName"],
        "konghq.com/kic-gateway-controller"
    );

    let mut upgrade = vec!["upgrade", release.as_str(), chart];
    upgrade.extend(base);
    upgrade.extend(["--set", "kong.autoscaling.enabled=true"]);
    helm(&upgrade);
    let hpas: Api<HorizontalPodAutoscaler> = Api::namespaced(client.clone(), &ns);
    hpas.get(&format!("{release}-kingress-gateway"))
        .await
        .expect("the HPA after helm upgrade");

    helm(&[
        "uninstall",
        &release,
        "--kubeconfig",
        kubeconfig,
        "--namespace",
        &ns,
    ]);
    for name in ["controller", "gateway"] {
        match deployments.get(&format!("{release}-kingress-{name}")).await {
            Err(kube::Error::Api(status)) if status.code == 404 => {}
            other => panic!("Deployment {name} after helm uninstall: {other:?}"),
        }
    }
    let classes: Api<IngressClass> = Api::all(client);
    assert!(
        classes
            .get_opt(&release)
            .await
            .expect("get IngressClass")
            .is_none()
    );
}

/// The controller itself, run with nothing but the chart's ServiceAccount permissions: a
/// verb the chart forgets makes it fail to lead, push, write status or send Events.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_controller_runs_with_the_charts_service_account() {
    use kingress::controller::{self as ctl, ControllerOptions, leader::LeaderOptions};
    use kingress::kong::admin_api::AdminApiOptions;
    use kingress::translate::Options;
    use kong_admin_double::KongAdminDouble;
    use std::time::Duration;

    let cp = controlplane::shared();
    let ns = cp.namespace("helm-rbac-run").await;
    let release = cp.unique_name("rel");
    install_rendered(cp, &release, &ns, &[]).await;
    let as_sa = cp
        .client_as_service_account(&ns, &format!("{release}-kingress"))
        .await;
    let kong = KongAdminDouble::start().await.expect("admin API double");
    let running = ctl::start(
        as_sa,
        ControllerOptions {
            translate: Options {
                ingress_class: release.clone(),
                ..Options::default()
            },
            admin_apis: vec![AdminApiOptions {
                timeout: Duration::from_secs(5),
                ..AdminApiOptions::for_url(kong.url())
            }],
            debounce: Duration::from_millis(5),
            leader_election: Some(LeaderOptions {
                namespace: ns.clone(),
                name: ELECTION_ID.into(),
                identity: "rbac-test".into(),
                lease_duration: Duration::from_secs(15),
                renew: Duration::from_secs(2),
            }),
            ..ControllerOptions::default()
        },
    )
    .await
    .expect("start the controller");
    let mut leader = running.leader.clone();
    tokio::time::timeout(Duration::from_secs(30), leader.wait_for(|l| *l))
        .await
        .expect("the ServiceAccount may take the Lease")
        .expect("leader channel");

    let admin = cp.client().await;
    let yaml = format!(
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: echo\n  annotations: {{konghq.com/upstream-policy: hash}}\nspec:\n  ports: [{{name: http, port: 80}}]\n---\napiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata:\n  name: echo-1\n  labels: {{kubernetes.io/service-name: echo}}\naddressType: IPv4\nports: [{{name: http, port: 8080, protocol: TCP}}]\nendpoints:\n- addresses: [10.1.0.1]\n---\napiVersion: configuration.konghq.com/v1beta1\nkind: KongUpstreamPolicy\nmetadata: {{name: hash}}\nspec:\n  algorithm: consistent-hashing\n  hashOn: {{header: x-lb}}\n---\napiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {{name: echo}}\nspec:\n  ingressClassName: {release}\n  rules:\n  - http:\n      paths:\n      - {{path: /, pathType: Prefix, backend: {{service: {{name: echo, port: {{number: 80}}}}}}}}\n      - {{path: /ghost, pathType: Prefix, backend: {{service: {{name: ghost, port: {{number: 80}}}}}}}}\n"
    );
    apply_yaml(&admin, Some(&ns), &yaml).await;
    let upstream = format!("echo.{ns}.80.svc");
    kong.wait_for_config(
        |c| c.targets_of(&upstream).len() == 1,
        Duration::from_secs(30),
    )
    .await
    .expect("the controller read everything it needs and pushed");

    // Status subresource and Events, written with the chart's permissions.
    let policies: Api<kingress::crd::KongUpstreamPolicy> = Api::namespaced(admin.clone(), &ns);
    let events: Api<Event> = Api::namespaced(admin.clone(), &ns);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let policy = policies.get("hash").await.expect("policy");
        let ancestors = policy.status.map(|s| s.ancestors.len()).unwrap_or(0);
        let failed = events
            .list(&Default::default())
            .await
            .expect("events")
            .items
            .iter()
            .any(|e| e.reason.as_deref() == Some("KongConfigurationTranslationFailed"));
        if ancestors == 1 && failed {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "with the chart's RBAC the controller wrote {ancestors} policy ancestors and {} the translation Event",
            if failed { "sent" } else { "did not send" }
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    drop(running);
}
