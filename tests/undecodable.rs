//! One object kingress cannot decode never stops its kind (issue 16). With the Gateway API
//! *experimental* channel installed (as TCPRoute/TLSRoute users must), the apiserver accepts an
//! HTTPRoute filter of type `ExternalAuth`, which the standard types kingress reads cannot
//! decode. The other HTTPRoutes must still reach every Kong replica, the undecodable one must
//! get a Warning Event and a metric, and fixing it must bring it in.

mod support;

use std::path::Path;
use std::time::Duration;

use k8s_openapi::api::events::v1::Event;
use kingress::controller;
use kong_admin_double::KongAdminDouble;
use kube::api::{Api, ListParams};
use support::apply::apply_yaml;
use support::controlplane;
use support::run::{self as ctl, WAIT};

const EXPERIMENTAL_HTTPROUTES: &str =
    "tests/fixtures/gateway-api-experimental/gateway.networking.k8s.io_httproutes.yaml";

fn backend(ns: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Service\nmetadata: {{name: echo, namespace: {ns}}}\nspec:\n  ports: [{{port: 80, targetPort: 1027}}]\n---\napiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata:\n  name: echo-1\n  namespace: {ns}\n  labels: {{kubernetes.io/service-name: echo}}\naddressType: IPv4\nports: [{{port: 1027, protocol: TCP}}]\nendpoints:\n- addresses: [10.3.0.1]\n  conditions: {{ready: true}}\n"
    )
}

fn gateway(ns: &str, class: &str) -> String {
    format!(
        "apiVersion: gateway.networking.k8s.io/v1\nkind: GatewayClass\nmetadata: {{name: {class}}}\nspec: {{controllerName: konghq.com/kic-gateway-controller}}\n---\napiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {{name: kong, namespace: {ns}}}\nspec:\n  gatewayClassName: {class}\n  listeners: [{{name: http, port: 80, protocol: HTTP}}]\n"
    )
}

/// An HTTPRoute to `echo` at `/<name>`; with `external_auth`, its rule has an ExternalAuth
/// filter (experimental channel only).
fn route(ns: &str, name: &str, external_auth: bool) -> String {
    let filters = if external_auth {
        "    filters:\n    - type: ExternalAuth\n      externalAuth: {protocol: HTTP, http: {}, backendRef: {name: echo, port: 80}}\n"
    } else {
        ""
    };
    format!(
        "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {{name: {name}, namespace: {ns}}}\nspec:\n  parentRefs: [{{name: kong}}]\n  rules:\n  - matches: [{{path: {{type: PathPrefix, value: /{name}}}}}]\n{filters}    backendRefs: [{{name: echo, port: 80}}]\n"
    )
}

async fn metric(addr: std::net::SocketAddr, line_start: &str) -> Option<String> {
    let body = reqwest::get(format!("http://{addr}/metrics"))
        .await
        .ok()?
        .text()
        .await
        .ok()?;
    body.lines()
        .find(|l| l.starts_with(line_start))
        .map(str::to_string)
}

async fn eventually<T>(what: &str, mut check: impl AsyncFnMut() -> Option<T>) -> T {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        if let Some(t) = check().await {
            return t;
        }
        assert!(tokio::time::Instant::now() < deadline, "never: {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_undecodable_httproute_stops_only_itself() {
    let cp = controlplane::shared();
    let crd = Path::new(env!("CARGO_MANIFEST_DIR")).join(EXPERIMENTAL_HTTPROUTES);
    cp.install_crd_files(&[crd])
        .await
        .expect("install the experimental HTTPRoute CRD");
    let ns = cp.namespace("undecodable").await;
    let client = cp.client().await;
    let class = cp.unique_name("kong-class");
    // In place before kingress starts: the first list of HTTPRoutes holds the bad one.
    let yaml = [
        backend(&ns),
        gateway(&ns, &class),
        route(&ns, "good-a", false),
        route(&ns, "bad", true),
        route(&ns, "good-b", false),
    ]
    .join("---\n");
    apply_yaml(&client, Some(&ns), &yaml).await;

    let kongs = [
        KongAdminDouble::start().await.expect("start Kong double 1"),
        KongAdminDouble::start().await.expect("start Kong double 2"),
    ];
    let mut options = ctl::options(&ns, &kongs[0]);
    let second = ctl::options(&ns, &kongs[1]).admin_apis;
    options.admin_apis.extend(second);
    let running = controller::start(client.clone(), options)
        .await
        .expect("start the controller");
    let metrics = running.listening[0];

    let service = |name: &str| format!("httproute.{ns}.{name}.0");
    for kong in &kongs {
        let config = kong
            .wait_for_config(
                |c| {
                    c.service(&service("good-a")).is_some()
                        && c.service(&service("good-b")).is_some()
                },
                WAIT,
            )
            .await
            .expect("both good HTTPRoutes reach every replica");
        assert!(
            config.service(&service("bad")).is_none(),
            "the undecodable HTTPRoute has no Kong service"
        );
    }

    let events: Api<Event> = Api::namespaced(client.clone(), &ns);
    let note = eventually("a Warning Event on the undecodable HTTPRoute", async || {
        let list = events.list(&ListParams::default()).await.ok()?;
        list.items.into_iter().find_map(|e| {
            let on_bad = e.regarding.as_ref()?.name.as_deref() == Some("bad")
                && e.regarding.as_ref()?.kind.as_deref() == Some("HTTPRoute");
            let warning = e.type_.as_deref() == Some("Warning");
            (on_bad && warning).then(|| e.note.unwrap_or_default())
        })
    })
    .await;
    assert!(
        note.contains(&format!("HTTPRoute {ns}/bad")) && note.contains("ExternalAuth"),
        "the Event names the object and the decoding error: {note}"
    );
    let undecodable = "kingress_undecodable_objects{kind=\"HTTPRoute\"}";
    let line = eventually("the metric counts it", async || {
        metric(metrics, undecodable)
            .await
            .filter(|l| l.ends_with(" 1"))
    })
    .await;
    assert_eq!(line, format!("{undecodable} 1"));

    // Fixed: it comes in; the metric goes back to 0.
    apply_yaml(&client, Some(&ns), &route(&ns, "bad", false)).await;
    for kong in &kongs {
        kong.wait_for_config(|c| c.service(&service("bad")).is_some(), WAIT)
            .await
            .expect("the fixed HTTPRoute reaches every replica");
    }
    eventually("the metric drops to 0", async || {
        metric(metrics, undecodable)
            .await
            .filter(|l| l.ends_with(" 0"))
    })
    .await;

    // A good HTTPRoute edited into one that does not decode leaves Kong (its earlier version
    // is no longer what the cluster holds); the others stay.
    apply_yaml(&client, Some(&ns), &route(&ns, "good-b", true)).await;
    for kong in &kongs {
        let config = kong
            .wait_for_config(|c| c.service(&service("good-b")).is_none(), WAIT)
            .await
            .expect("the now-undecodable HTTPRoute leaves every replica");
        assert!(config.service(&service("good-a")).is_some());
        assert!(config.service(&service("bad")).is_some());
    }
}
