//! The Helm chart (`charts/kingress`) against the real kube-apiserver of `tests/support`, with the
//! real `helm` binary (`tests/support/helm.rs`): the rendered manifests applied, a real
//! `helm install` / `upgrade` / `uninstall`, and the controller running with the chart's
//! ServiceAccount. Offline rendering: `tests/helm_render.rs`; RBAC: `tests/helm_rbac.rs`.
//!
//! Nothing is skipped: when helm cannot be built, every test that needs it fails with the reason.

mod support;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::core::v1::Service;
use k8s_openapi::api::events::v1::Event;
use k8s_openapi::api::networking::v1::IngressClass;
use kube::api::Api;
use support::apply::{apply_yaml, parse_yaml};
use support::controlplane;
use support::helm::*;

// ---------------------------------------------------------------------------------------------
// Against the apiserver

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
