//! GRPCRoutes, TCPRoutes, UDPRoutes and TLSRoutes through `kingress run` against a real
//! kube-apiserver (tests/support, with Gateway API v1.6.1's standard CRDs) and the Kong admin
//! API test double: each route reaches Kong as KIC makes it, its `status.parents` and the
//! listener's `attachedRoutes` say so, and a weight change reaches Kong.

mod support;

use kingress::api::{GrpcRoute, TcpIngress, TcpRoute, TlsRoute, UdpIngress, UdpRoute};
use kingress::controller::ControllerOptions;
use kingress::controller::status::StatusOptions;
use kingress::translate::DEFAULT_CONTROLLER_NAME;
use kube::api::Api;
use serde_json::Value;
use support::controlplane;
use support::observe::{eventually, is};

fn service(name: &str, port: u16) -> String {
    format!(
        "apiVersion: v1\nkind: Service\nmetadata: {{name: {name}}}\nspec:\n  ports: [{{name: grpc, port: {port}, targetPort: {port}}}]\n---\napiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata:\n  name: {name}-1\n  labels: {{kubernetes.io/service-name: {name}}}\naddressType: IPv4\nports: [{{name: grpc, port: {port}, protocol: TCP}}]\nendpoints:\n- addresses: [10.2.{}.1]\n  conditions: {{ready: true}}\n",
        port % 250
    )
}

fn route(weight_a: u32, weight_b: u32) -> String {
    format!(
        "apiVersion: gateway.networking.k8s.io/v1\nkind: GRPCRoute\nmetadata: {{name: echo}}\nspec:\n  parentRefs: [{{name: kong}}]\n  hostnames: [grpc.example.com]\n  rules:\n  - matches:\n    - method: {{service: echo.Echo, method: Ping}}\n    backendRefs:\n    - {{name: grpc-a, port: 9000, weight: {weight_a}}}\n    - {{name: grpc-b, port: 9001, weight: {weight_b}}}\n"
    )
}

/// The targets of an upstream as (target, weight), sorted.
fn weights(c: &kong_admin_double::ValidConfig, upstream: &str) -> Vec<(String, i64)> {
    let mut out: Vec<(String, i64)> = c
        .targets_of(upstream)
        .into_iter()
        .map(|t| {
            let target = t["target"].as_str().unwrap_or_default().to_string();
            (target, t["weight"].as_i64().unwrap_or(100))
        })
        .collect();
    out.sort();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_grpcroute_reaches_kong_with_status_and_follows_a_weight_change() {
    let env = support::run::start("grpcroute").await;
    let class = controlplane::shared().unique_name("kong-class");
    env.apply(&format!(
        "apiVersion: gateway.networking.k8s.io/v1\nkind: GatewayClass\nmetadata: {{name: {class}}}\nspec: {{controllerName: {DEFAULT_CONTROLLER_NAME}}}\n---\napiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {{name: kong}}\nspec:\n  gatewayClassName: {class}\n  listeners: [{{name: http, port: 80, protocol: HTTP}}]\n---\n{}---\n{}---\n{}",
        service("grpc-a", 9000),
        service("grpc-b", 9001),
        route(30, 10)
    ))
    .await;
    let upstream = format!("grpcroute.{}.echo.0", env.ns);
    let c = env
        .wait("the GRPCRoute's service and route", |c| {
            weights(c, &upstream).len() == 2
        })
        .await;
    let service = c.service(&upstream).expect("the Kong service");
    // The Gateway has an HTTP listener: KIC's service protocol is grpc.
    assert_eq!(service["protocol"], "grpc", "{service}");
    let kong_route = c
        .route(&format!("{upstream}.0"))
        .expect("the Kong route")
        .clone();
    assert_eq!(kong_route["paths"], serde_json::json!(["~/echo.Echo/Ping"]));
    assert_eq!(
        kong_route["protocols"],
        serde_json::json!(["grpc", "grpcs"])
    );
    assert_eq!(kong_route["hosts"], serde_json::json!(["grpc.example.com"]));
    assert_eq!(
        weights(&c, &upstream),
        vec![("10.2.0.1:9000".into(), 30), ("10.2.1.1:9001".into(), 10)]
    );

    // status.parents: Accepted, ResolvedRefs, Programmed; the listener counts the route.
    let routes: Api<GrpcRoute> = Api::namespaced(env.client.clone(), &env.ns);
    eventually("the GRPCRoute's parent status", async || {
        let r = routes.get("echo").await.map_err(|e| e.to_string())?;
        let parents = serde_json::to_value(r.status.map(|s| s.parents)).unwrap_or_default();
        let ours: Option<&Value> = parents.as_array().and_then(|p| {
            p.iter()
                .find(|p| p["controllerName"] == DEFAULT_CONTROLLER_NAME)
        });
        match ours {
            Some(p)
                if is(p, "Accepted", "True", "Accepted")
                    && is(p, "ResolvedRefs", "True", "ResolvedRefs")
                    && is(p, "Programmed", "True", "Programmed") =>
            {
                Ok(())
            }
            _ => Err(parents.to_string()),
        }
    })
    .await;
    let gateways: Api<kingress::api::Gateway> = Api::namespaced(env.client.clone(), &env.ns);
    eventually(
        "the listener's attachedRoutes and supportedKinds",
        async || {
            let g = gateways.get("kong").await.map_err(|e| e.to_string())?;
            let s = serde_json::to_value(g.status).unwrap_or_default();
            let l = &s["listeners"][0];
            let kinds: Vec<&str> = l["supportedKinds"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|k| k["kind"].as_str())
                .collect();
            match l["attachedRoutes"] == 1 && kinds == ["HTTPRoute", "GRPCRoute"] {
                true => Ok(()),
                false => Err(s.to_string()),
            }
        },
    )
    .await;

    // A weight change reaches Kong.
    env.apply(&route(10, 30)).await;
    env.wait("the new weights", |c| {
        weights(c, &upstream) == vec![("10.2.0.1:9000".into(), 10), ("10.2.1.1:9001".into(), 30)]
    })
    .await;

    // A missing backend: ResolvedRefs False/BackendNotFound (the other still serves).
    env.apply(&route(10, 30).replace("name: grpc-b", "name: grpc-gone"))
        .await;
    eventually("ResolvedRefs BackendNotFound", async || {
        let r = routes.get("echo").await.map_err(|e| e.to_string())?;
        let parents = serde_json::to_value(r.status.map(|s| s.parents)).unwrap_or_default();
        match parents.as_array().and_then(|p| p.first()) {
            Some(p) if is(p, "ResolvedRefs", "False", "BackendNotFound") => Ok(()),
            _ => Err(parents.to_string()),
        }
    })
    .await;
}

/// Our parent entry is Accepted, ResolvedRefs and Programmed.
fn programmed(parents: &Value) -> bool {
    let ours = parents.as_array().and_then(|p| {
        p.iter()
            .find(|p| p["controllerName"] == DEFAULT_CONTROLLER_NAME)
    });
    ours.is_some_and(|p| {
        is(p, "Accepted", "True", "Accepted")
            && is(p, "ResolvedRefs", "True", "ResolvedRefs")
            && is(p, "Programmed", "True", "Programmed")
    })
}

fn stream_route(kind: &str, name: &str, section: &str, extra: &str, refs: &str) -> String {
    format!(
        "apiVersion: gateway.networking.k8s.io/v1\nkind: {kind}\nmetadata: {{name: {name}}}\nspec:\n  parentRefs: [{{name: kong, sectionName: {section}}}]\n{extra}  rules:\n  - backendRefs:\n{refs}"
    )
}

fn tcp_refs(weight_a: u32, weight_b: u32) -> String {
    format!(
        "    - {{name: grpc-a, port: 9000, weight: {weight_a}}}\n    - {{name: grpc-b, port: 9001, weight: {weight_b}}}\n"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tcp_udp_and_tls_routes_reach_kong_with_status_and_follow_a_weight_change() {
    let env = support::run::start("stream-routes").await;
    let class = controlplane::shared().unique_name("kong-class");
    let one = "    - {name: grpc-a, port: 9000}\n";
    env.apply(&format!(
        "apiVersion: gateway.networking.k8s.io/v1\nkind: GatewayClass\nmetadata: {{name: {class}}}\nspec: {{controllerName: {DEFAULT_CONTROLLER_NAME}}}\n---\napiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {{name: kong}}\nspec:\n  gatewayClassName: {class}\n  listeners:\n  - {{name: tcp, port: 5432, protocol: TCP}}\n  - {{name: udp, port: 53, protocol: UDP}}\n  - {{name: tls, port: 8443, protocol: TLS, tls: {{mode: Passthrough}}}}\n---\n{}---\n{}---\n{}---\n{}---\n{}",
        service("grpc-a", 9000),
        service("grpc-b", 9001),
        stream_route("TCPRoute", "db", "tcp", "", &tcp_refs(30, 10)),
        stream_route("UDPRoute", "dns", "udp", "", one),
        stream_route("TLSRoute", "secure", "tls", "  hostnames: [db.example.com]\n", one),
    ))
    .await;
    let ns = env.ns.clone();
    let tcp = format!("tcproute.{ns}.db.0");
    let c = env
        .wait("the stream routes", |c| {
            weights(c, &tcp).len() == 2
                && c.route(&format!("udproute.{ns}.dns.0.0")).is_some()
                && c.route(&format!("tlsroute.{ns}.secure.0.0")).is_some()
        })
        .await;
    // KIC: the listeners' ports as destinations; a Passthrough listener makes tls_passthrough.
    let r = c.route(&format!("{tcp}.0")).expect("tcp route");
    assert_eq!(
        r["destinations"],
        serde_json::json!([{"port": 5432}]),
        "{r}"
    );
    assert_eq!(r["protocols"], serde_json::json!(["tcp"]));
    let r = c
        .route(&format!("udproute.{ns}.dns.0.0"))
        .expect("udp route");
    assert_eq!(r["destinations"], serde_json::json!([{"port": 53}]), "{r}");
    assert_eq!(
        c.service(&format!("udproute.{ns}.dns.0")).expect("udp")["protocol"],
        "udp"
    );
    let r = c
        .route(&format!("tlsroute.{ns}.secure.0.0"))
        .expect("tls route");
    assert_eq!(
        r["protocols"],
        serde_json::json!(["tls_passthrough"]),
        "{r}"
    );
    assert_eq!(r["snis"], serde_json::json!(["db.example.com"]));
    assert_eq!(
        weights(&c, &tcp),
        vec![("10.2.0.1:9000".into(), 30), ("10.2.1.1:9001".into(), 10)]
    );

    let tcps: Api<TcpRoute> = Api::namespaced(env.client.clone(), &ns);
    let udps: Api<UdpRoute> = Api::namespaced(env.client.clone(), &ns);
    let tlss: Api<TlsRoute> = Api::namespaced(env.client.clone(), &ns);
    eventually("every stream route's parent status", async || {
        let t = tcps.get("db").await.map_err(|e| e.to_string())?;
        let u = udps.get("dns").await.map_err(|e| e.to_string())?;
        let s = tlss.get("secure").await.map_err(|e| e.to_string())?;
        let all = [
            serde_json::to_value(t.status.map(|s| s.parents)).unwrap_or_default(),
            serde_json::to_value(u.status.map(|s| s.parents)).unwrap_or_default(),
            serde_json::to_value(s.status.map(|s| s.parents)).unwrap_or_default(),
        ];
        match all.iter().all(programmed) {
            true => Ok(()),
            false => Err(format!("{all:?}")),
        }
    })
    .await;
    let gateways: Api<kingress::api::Gateway> = Api::namespaced(env.client.clone(), &ns);
    eventually("each listener counts its route", async || {
        let g = gateways.get("kong").await.map_err(|e| e.to_string())?;
        let s = serde_json::to_value(g.status).unwrap_or_default();
        let listeners = s["listeners"].as_array().cloned().unwrap_or_default();
        let ok = [
            ("tcp", "TCPRoute"),
            ("udp", "UDPRoute"),
            ("tls", "TLSRoute"),
        ]
        .iter()
        .all(|(name, kind)| {
            listeners.iter().any(|l| {
                l["name"] == *name
                    && l["attachedRoutes"] == 1
                    && l["supportedKinds"][0]["kind"] == *kind
                    && is(l, "Accepted", "True", "Accepted")
            })
        });
        match ok {
            true => Ok(()),
            false => Err(s.to_string()),
        }
    })
    .await;

    // A weight change reaches Kong.
    env.apply(&stream_route(
        "TCPRoute",
        "db",
        "tcp",
        "",
        &tcp_refs(10, 30),
    ))
    .await;
    env.wait("the new TCPRoute weights", |c| {
        weights(c, &tcp) == vec![("10.2.0.1:9000".into(), 10), ("10.2.1.1:9001".into(), 30)]
    })
    .await;
}

/// KIC's deprecated TCPIngress and UDPIngress (CRDs installed from `crds/`): their routes reach
/// Kong as KIC makes them, their `status.loadBalancer` gets the publish address (as KIC writes
/// it), and a change of backend port follows.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tcp_and_udp_ingresses_reach_kong_and_follow_a_change() {
    let env = support::run::start_with("l4-ingress", |options| ControllerOptions {
        status: StatusOptions {
            publish_status_addresses: vec!["192.0.2.10".into()],
            debounce: std::time::Duration::from_millis(20),
            ..StatusOptions::default()
        },
        ..options
    })
    .await;
    let ingress = |port: u16| {
        format!(
            "apiVersion: configuration.konghq.com/v1beta1\nkind: TCPIngress\nmetadata:\n  name: db\n  annotations: {{kubernetes.io/ingress.class: kong}}\nspec:\n  rules:\n  - {{port: 9443, host: db.example.com, backend: {{serviceName: grpc-a, servicePort: {port}}}}}\n---\napiVersion: configuration.konghq.com/v1beta1\nkind: UDPIngress\nmetadata:\n  name: stats\n  annotations: {{kubernetes.io/ingress.class: kong}}\nspec:\n  rules:\n  - {{port: 8125, backend: {{serviceName: grpc-b, servicePort: 9001}}}}\n"
        )
    };
    env.apply(&format!(
        "{}---\n{}---\n{}",
        service("grpc-a", 9000),
        service("grpc-b", 9001),
        ingress(9000)
    ))
    .await;
    let ns = env.ns.clone();
    let c = env
        .wait("the TCPIngress and UDPIngress routes", |c| {
            c.route(&format!("{ns}.db.0")).is_some()
                && c.route(&format!("{ns}.stats.0.udp")).is_some()
        })
        .await;
    let tcp = c.route(&format!("{ns}.db.0")).expect("tcp route");
    assert_eq!(tcp["protocols"], serde_json::json!(["tcp", "tls"]), "{tcp}");
    assert_eq!(tcp["snis"], serde_json::json!(["db.example.com"]));
    assert_eq!(tcp["destinations"], serde_json::json!([{"port": 9443}]));
    let udp = c
        .service(&format!("{ns}.grpc-b.9001.udp"))
        .expect("udp service");
    assert_eq!(udp["protocol"], "udp", "{udp}");
    assert_eq!(
        weights(&c, &format!("grpc-a.{ns}.9000.svc")),
        vec![("10.2.0.1:9000".into(), 100)]
    );
    let tcps: Api<TcpIngress> = Api::namespaced(env.client.clone(), &ns);
    let udps: Api<UdpIngress> = Api::namespaced(env.client.clone(), &ns);
    eventually("both objects' status.loadBalancer", async || {
        let t = tcps.get("db").await.map_err(|e| e.to_string())?;
        let u = udps.get("stats").await.map_err(|e| e.to_string())?;
        let lb = |s: Option<kingress::crd::l4_ingress::L4IngressStatus>| {
            serde_json::to_value(s.and_then(|s| s.load_balancer)).unwrap_or_default()
        };
        let (t, u) = (lb(t.status), lb(u.status));
        let want = serde_json::json!({"ingress": [{"ip": "192.0.2.10"}]});
        match t == want && u == want {
            true => Ok(()),
            false => Err(format!("{t} {u}")),
        }
    })
    .await;
    // The backend port changes: a new Kong service and upstream, the old ones gone.
    env.apply(&format!(
        "{}---\n{}",
        service("grpc-a", 9002),
        ingress(9002)
    ))
    .await;
    env.wait("the TCPIngress on the new port", |c| {
        c.service(&format!("{ns}.grpc-a.9002")).is_some()
            && c.service(&format!("{ns}.grpc-a.9000")).is_none()
            && weights(c, &format!("grpc-a.{ns}.9002.svc")) == vec![("10.2.2.1:9002".into(), 100)]
    })
    .await;
}

/// Listener status follows the ports Kong really serves, as KIC v3.5.13 works them out
/// (gateway_controller.go 744-862, gateway_utils.go 395-418): the publish Service's ports,
/// upgraded by each replica's proxy and stream listeners (its `GET /`) behind them; a named
/// target port is resolved through the Service's EndpointSlice. A listener whose protocol Kong
/// does not serve is `UnsupportedProtocol`, one on a port Kong does not serve `PortUnavailable`,
/// and a new Service port changes that.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gateway_listeners_follow_the_ports_kong_serves() {
    let env = support::run::start_with_kong(
        "kong-listens",
        kong_admin_double::Options {
            stream_listen: Some("0.0.0.0:9000, 0.0.0.0:9443 ssl, 0.0.0.0:9053 udp".into()),
            ..kong_admin_double::Options::default()
        },
        |options| {
            let ns = options.scope.namespaces[0].clone();
            ControllerOptions {
                status: StatusOptions {
                    publish_service: Some((ns, "kong-proxy".into())),
                    debounce: std::time::Duration::from_millis(20),
                    ..StatusOptions::default()
                },
                ..options
            }
        },
    )
    .await;
    let class = controlplane::shared().unique_name("kong-class");
    let proxy_service = |extra: &str| {
        format!(
            "apiVersion: v1\nkind: Service\nmetadata: {{name: kong-proxy}}\nspec:\n  ports:\n  - {{name: proxy, port: 80, targetPort: proxy}}\n  - {{name: tcp, port: 5432, targetPort: 9000}}\n  - {{name: tls, port: 8443, targetPort: 9443}}\n  - {{name: dns, port: 53, targetPort: 9053, protocol: UDP}}\n{extra}"
        )
    };
    env.apply(&format!(
        "{}---\napiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {{name: kong-proxy-1, labels: {{kubernetes.io/service-name: kong-proxy}}}}\naddressType: IPv4\nendpoints: [{{addresses: [10.9.0.1]}}]\nports: [{{name: proxy, port: 8000, protocol: TCP}}, {{name: tls-admin, port: 8443, protocol: TCP}}]\n---\napiVersion: gateway.networking.k8s.io/v1\nkind: GatewayClass\nmetadata: {{name: {class}}}\nspec: {{controllerName: {DEFAULT_CONTROLLER_NAME}}}\n---\napiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {{name: kong}}\nspec:\n  gatewayClassName: {class}\n  listeners:\n  - {{name: http, port: 80, protocol: HTTP}}\n  - {{name: tcp, port: 5432, protocol: TCP}}\n  - {{name: tls, port: 8443, protocol: TLS, tls: {{mode: Passthrough}}}}\n  - {{name: udp, port: 53, protocol: UDP}}\n  - {{name: tcp-closed, port: 5433, protocol: TCP}}\n  - {{name: https, port: 443, protocol: HTTPS, tls: {{certificateRefs: [{{name: missing}}]}}}}\n",
        proxy_service("")
    ))
    .await;
    let gateways: Api<kingress::api::Gateway> = Api::namespaced(env.client.clone(), &env.ns);
    let accepted = async |want: &[(&str, &str, &str)]| {
        eventually("the listeners' Accepted conditions", async || {
            let g = gateways.get("kong").await.map_err(|e| e.to_string())?;
            let s = serde_json::to_value(g.status).unwrap_or_default();
            let listeners = s["listeners"].as_array().cloned().unwrap_or_default();
            let ok = want.iter().all(|(name, status, reason)| {
                listeners
                    .iter()
                    .any(|l| l["name"] == *name && is(l, "Accepted", status, reason))
            });
            match ok {
                true => Ok(()),
                false => Err(s.to_string()),
            }
        })
        .await
    };
    accepted(&[
        ("http", "True", "Accepted"),
        ("tcp", "True", "Accepted"),
        ("tls", "True", "Accepted"),
        ("udp", "True", "Accepted"),
        ("tcp-closed", "False", "PortUnavailable"),
        ("https", "False", "UnsupportedProtocol"),
    ])
    .await;

    // Kong's 8443 proxy listener is `ssl`: a Service port reaching it serves HTTPS.
    env.apply(&proxy_service(
        "  - {name: proxy-tls, port: 443, targetPort: 8443}\n",
    ))
    .await;
    accepted(&[("https", "True", "Accepted"), ("http", "True", "Accepted")]).await;
}
