use std::path::Path;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

use super::*;
use crate::controller::status::kong_listens::{KongListens, PublishPort};
use crate::controller::sync::SyncState;
use crate::kong::listeners::{KongListeners, Listener};
use crate::manifests::{Loaded, load_str};
use crate::translate::{DEFAULT_CONTROLLER_NAME, Facts};

const CERT_PEM: &str = include_str!("../../../tests/fixtures/tls/rsa.crt");
const KEY_PEM: &str = include_str!("../../../tests/fixtures/tls/rsa.key");
const OTHER_KEY_PEM: &str = include_str!("../../../tests/fixtures/tls/other-rsa.key");

fn b64(pem: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(pem)
}

fn snapshot(extra: &str) -> Snapshot {
    let (cert, key, other_key) = (b64(CERT_PEM), b64(KEY_PEM), b64(OTHER_KEY_PEM));
    let yaml = format!(
        r#"apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {{name: kong}}
spec: {{controllerName: {DEFAULT_CONTROLLER_NAME}}}
---
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {{name: theirs}}
spec: {{controllerName: example.com/other}}
---
apiVersion: v1
kind: Secret
metadata: {{name: good-cert, namespace: infra}}
type: kubernetes.io/tls
data: {{tls.crt: {cert}, tls.key: {key}}}
---
apiVersion: v1
kind: Secret
metadata: {{name: not-pem, namespace: infra}}
type: kubernetes.io/tls
data: {{tls.crt: bm90IGEgY2VydA==, tls.key: bm90IGEga2V5}}
---
apiVersion: v1
kind: Secret
metadata: {{name: not-a-pair, namespace: infra}}
type: kubernetes.io/tls
data: {{tls.crt: {cert}, tls.key: {other_key}}}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {{name: edge, namespace: infra, generation: 3}}
spec:
  gatewayClassName: kong
  listeners:
  - {{name: http, port: 80, protocol: HTTP, allowedRoutes: {{namespaces: {{from: All}}}}}}
  - {{name: web, port: 80, protocol: HTTP, hostname: web.example.com}}
  - {{name: web-again, port: 80, protocol: HTTP, hostname: web.example.com}}
  - {{name: tcp, port: 9000, protocol: TCP}}
  - {{name: custom, port: 9001, protocol: example.com/proto}}
  - {{name: https, port: 443, protocol: HTTPS, tls: {{certificateRefs: [{{name: good-cert}}]}}}}
  - {{name: https-missing, port: 8443, protocol: HTTPS, tls: {{certificateRefs: [{{name: gone}}]}}}}
  - {{name: https-bad, port: 8444, protocol: HTTPS, tls: {{certificateRefs: [{{name: not-pem}}]}}}}
  - {{name: https-foreign, port: 8445, protocol: HTTPS, tls: {{certificateRefs: [{{name: c, namespace: apps}}]}}}}
  - {{name: https-mismatch, port: 8446, protocol: HTTPS, tls: {{certificateRefs: [{{name: not-a-pair}}]}}}}
  - {{name: https-two, port: 8447, protocol: HTTPS, tls: {{certificateRefs: [{{name: good-cert}}, {{name: good-cert}}]}}}}
  - {{name: grpc-only, port: 8080, protocol: HTTP, allowedRoutes: {{kinds: [{{kind: GRPCRoute}}]}}}}
  - {{name: widgets, port: 8081, protocol: HTTP, allowedRoutes: {{kinds: [{{group: example.com, kind: Widget}}]}}}}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {{name: other, namespace: infra}}
spec:
  gatewayClassName: theirs
  listeners: [{{name: http, port: 80, protocol: HTTP}}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {{name: any-listener, namespace: apps}}
spec:
  parentRefs: [{{name: edge, namespace: infra}}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {{name: section, namespace: infra}}
spec:
  parentRefs: [{{name: edge, sectionName: web}}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {{name: wrong-port, namespace: infra}}
spec:
  parentRefs: [{{name: edge, sectionName: http, port: 8080}}]
{extra}"#
    );
    let mut loaded = Loaded::default();
    load_str(&yaml, Path::new("gateways.yaml"), &mut loaded);
    assert!(loaded.problems.is_empty(), "{:?}", loaded.problems);
    loaded.snapshot
}

fn time() -> Time {
    Time("2026-01-01T00:00:00Z".parse().expect("time"))
}

fn writes(snapshot: &Snapshot, programmed: bool, addresses: &[Value]) -> Vec<StatusWrite> {
    writes_with(snapshot, programmed, addresses, None)
}

fn writes_with(
    snapshot: &Snapshot,
    programmed: bool,
    addresses: &[Value],
    kong_listens: Option<&KongListens>,
) -> Vec<StatusWrite> {
    let state = SyncState::default();
    let facts = Facts::default();
    let now = time();
    let inputs = Inputs {
        controller_name: DEFAULT_CONTROLLER_NAME,
        addresses,
        kong_listens,
        ..Inputs::for_tests(&state, programmed.then_some(&facts), &now)
    };
    let mut out = plan(snapshot, &inputs, PlanScope::Cluster);
    out.extend(plan(snapshot, &inputs, PlanScope::Namespace("infra")));
    out
}

/// (type, status, reason) of each condition.
fn conds(v: &Value) -> Vec<(String, String, String)> {
    v.as_array()
        .expect("conditions")
        .iter()
        .map(|c| {
            let s = |k: &str| c[k].as_str().unwrap_or_default().to_string();
            (s("type"), s("status"), s("reason"))
        })
        .collect()
}

fn listener<'a>(status: &'a Value, name: &str) -> &'a Value {
    status["listeners"]
        .as_array()
        .expect("listeners")
        .iter()
        .find(|l| l["name"] == name)
        .unwrap_or_else(|| panic!("listener {name}"))
}

fn c(t: &str, s: &str, r: &str) -> (String, String, String) {
    (t.into(), s.into(), r.into())
}

#[test]
fn our_class_is_accepted_and_theirs_untouched() {
    let w = writes(&snapshot(""), true, &[]);
    let classes: Vec<&StatusWrite> = w.iter().filter(|w| w.kind == Kind::GatewayClass).collect();
    assert_eq!(classes.len(), 1);
    assert_eq!(classes[0].name, "kong");
    assert_eq!(
        conds(&classes[0].status["conditions"]),
        [c("Accepted", "True", "Accepted")]
    );
    let gateways: Vec<&str> = w
        .iter()
        .filter(|w| w.kind == Kind::Gateway)
        .map(|w| w.name.as_str())
        .collect();
    assert_eq!(gateways, ["edge"], "the other class's Gateway is not ours");
}

#[test]
fn gateway_conditions_and_addresses() {
    let lb = [
        json!({"ip": "203.0.113.7"}),
        json!({"hostname": "lb.example.com"}),
    ];
    let w = writes(&snapshot(""), false, &lb);
    let gw = &w
        .iter()
        .find(|w| w.kind == Kind::Gateway)
        .expect("edge")
        .status;
    // Its listener `custom` is not accepted: the Gateway is, with reason ListenersNotValid
    // (the spec's GatewayReasonListenersNotValid; conformance GatewayListenerUnsupportedProtocol).
    assert_eq!(
        conds(&gw["conditions"]),
        [
            c("Accepted", "True", "ListenersNotValid"),
            c("Programmed", "False", "Pending")
        ]
    );
    assert_eq!(gw["conditions"][0]["observedGeneration"], 3);
    assert_eq!(
        gw["addresses"],
        json!([{"type": "IPAddress", "value": "203.0.113.7"}, {"type": "Hostname", "value": "lb.example.com"}])
    );
    let w = writes(&snapshot(""), true, &[]);
    let gw = &w
        .iter()
        .find(|w| w.kind == Kind::Gateway)
        .expect("edge")
        .status;
    assert_eq!(
        conds(&gw["conditions"])[1],
        c("Programmed", "True", "Programmed")
    );
    assert_eq!(gw["addresses"], Value::Null, "no load balancer: cleared");
}

#[test]
fn listener_conditions_kinds_and_attached_routes() {
    let w = writes(&snapshot(""), true, &[]);
    let gw = &w
        .iter()
        .find(|w| w.kind == Kind::Gateway)
        .expect("edge")
        .status;
    let healthy = [
        c("Accepted", "True", "Accepted"),
        c("Conflicted", "False", "NoConflicts"),
        c("Programmed", "True", "Programmed"),
        c("ResolvedRefs", "True", "ResolvedRefs"),
    ];
    // `any-listener` (from apps: only `http` admits it) and `section`; not `wrong-port`.
    let http = listener(gw, "http");
    assert_eq!(conds(&http["conditions"]), healthy);
    assert_eq!(http["attachedRoutes"], 1);
    // KIC v3.5.13 gateway_utils.go lines 609-624: an HTTP listener without allowedRoutes.kinds
    // takes HTTPRoute and GRPCRoute, in that order.
    assert_eq!(
        http["supportedKinds"],
        json!([
            {"group": "gateway.networking.k8s.io", "kind": "HTTPRoute"},
            {"group": "gateway.networking.k8s.io", "kind": "GRPCRoute"}
        ])
    );
    // Same port and hostname: both conflicted, and not programmed.
    for name in ["web", "web-again"] {
        let l = listener(gw, name);
        assert_eq!(
            conds(&l["conditions"])[1],
            c("Conflicted", "True", "HostnameConflict")
        );
        assert_eq!(
            conds(&l["conditions"])[2],
            c("Programmed", "False", "Invalid")
        );
    }
    assert_eq!(listener(gw, "web")["attachedRoutes"], 1, "section web");
    // A TCP listener takes TCPRoutes (GU 609-624); none is attached.
    let tcp = listener(gw, "tcp");
    assert_eq!(
        conds(&tcp["conditions"])[0],
        c("Accepted", "True", "Accepted")
    );
    assert_eq!(
        tcp["supportedKinds"],
        json!([{"group": "gateway.networking.k8s.io", "kind": "TCPRoute"}])
    );
    assert_eq!(tcp["attachedRoutes"], 0);
    // A protocol of another implementation's domain is not kingress's.
    let custom = listener(gw, "custom");
    assert_eq!(
        conds(&custom["conditions"])[0],
        c("Accepted", "False", "UnsupportedProtocol")
    );
    assert_eq!(custom["supportedKinds"], json!([]));
    // A certificate that resolves: Kong gets it.
    let https = listener(gw, "https");
    assert_eq!(conds(&https["conditions"]), healthy);
    for (name, reason) in [
        ("https-missing", "InvalidCertificateRef"),
        ("https-bad", "InvalidCertificateRef"),
        ("https-foreign", "RefNotPermitted"),
        ("https-mismatch", "InvalidCertificateRef"),
        ("https-two", "InvalidCertificateRef"),
    ] {
        let l = listener(gw, name);
        assert_eq!(
            conds(&l["conditions"])[3],
            c("ResolvedRefs", "False", reason),
            "{name}"
        );
        assert_eq!(
            conds(&l["conditions"])[2],
            c("Programmed", "False", "Invalid"),
            "{name}"
        );
    }
    // A listener for GRPCRoutes only: valid, and it takes no HTTPRoute.
    let grpc = listener(gw, "grpc-only");
    assert_eq!(
        conds(&grpc["conditions"])[3],
        c("ResolvedRefs", "True", "ResolvedRefs")
    );
    assert_eq!(
        grpc["supportedKinds"],
        json!([{"group": "gateway.networking.k8s.io", "kind": "GRPCRoute"}])
    );
    assert_eq!(grpc["attachedRoutes"], 0);
    // A kind kingress does not serve (GU 626-646).
    let widgets = listener(gw, "widgets");
    assert_eq!(
        conds(&widgets["conditions"])[3],
        c("ResolvedRefs", "False", "InvalidRouteKinds")
    );
    assert_eq!(widgets["supportedKinds"], json!([]));
}

#[test]
fn a_grant_lets_a_listener_use_a_secret_of_another_namespace() {
    let grant = format!(
        "---\napiVersion: gateway.networking.k8s.io/v1beta1\nkind: ReferenceGrant\nmetadata: {{name: certs, namespace: apps}}\nspec:\n  from: [{{group: gateway.networking.k8s.io, kind: Gateway, namespace: infra}}]\n  to: [{{group: \"\", kind: Secret}}]\n---\napiVersion: v1\nkind: Secret\nmetadata: {{name: c, namespace: apps}}\ntype: kubernetes.io/tls\ndata: {{tls.crt: {}, tls.key: {}}}\n",
        b64(CERT_PEM),
        b64(KEY_PEM)
    );
    let w = writes(&snapshot(&grant), true, &[]);
    let gw = &w
        .iter()
        .find(|w| w.kind == Kind::Gateway)
        .expect("edge")
        .status;
    let l = listener(gw, "https-foreign");
    assert_eq!(
        conds(&l["conditions"])[3],
        c("ResolvedRefs", "True", "ResolvedRefs")
    );
}

#[test]
fn a_settled_status_is_not_written_again() {
    let mut s = snapshot("");
    for w in writes(&s, true, &[]) {
        match w.kind {
            Kind::Gateway => {
                let gw = s
                    .gateways
                    .values_mut()
                    .find(|g| g.metadata.name.as_deref() == Some(w.name.as_str()))
                    .expect("gateway");
                let mut status = w.status.clone();
                status
                    .as_object_mut()
                    .expect("object")
                    .retain(|_, v| !v.is_null());
                gw.status = Some(serde_json::from_value(status).expect("status"));
            }
            _ => {
                let gc = s
                    .gateway_classes
                    .values_mut()
                    .find(|g| g.metadata.name.as_deref() == Some(w.name.as_str()))
                    .expect("class");
                gc.status = Some(serde_json::from_value(w.status.clone()).expect("status"));
            }
        }
    }
    assert_eq!(writes(&s, true, &[]), Vec::new());
}

/// With Kong's listens known, a listener Kong does not serve is not accepted (KIC v3.5.13
/// gateway_utils.go 395-418), and so not programmed (GU 461-509).
#[test]
fn listeners_kong_does_not_serve_are_not_accepted() {
    let ports = [("TCP", 80, 8000), ("TCP", 443, 8443), ("TCP", 9100, 9100)].map(
        |(protocol, port, target)| PublishPort {
            protocol: protocol.into(),
            port,
            target: Some(target),
        },
    );
    let l = |port, ssl| Listener {
        port,
        ssl,
        udp: false,
    };
    let kong = KongListeners {
        proxy: vec![l(8000, false), l(8443, true)],
        stream: vec![l(9100, false)],
    };
    let listens = KongListens::across(&ports, [&kong]).expect("one replica");
    let w = writes_with(&snapshot(""), true, &[], Some(&listens));
    let gw = &w
        .iter()
        .find(|w| w.kind == Kind::Gateway)
        .expect("edge")
        .status;
    let accepted = |name: &str| conds(&listener(gw, name)["conditions"])[0].clone();
    assert_eq!(accepted("http"), c("Accepted", "True", "Accepted"));
    assert_eq!(accepted("https"), c("Accepted", "True", "Accepted"));
    assert_eq!(
        conds(&listener(gw, "https")["conditions"])[2],
        c("Programmed", "True", "Programmed")
    );
    // TCP is served, on 9100 only.
    assert_eq!(accepted("tcp"), c("Accepted", "False", "PortUnavailable"));
    assert_eq!(
        conds(&listener(gw, "tcp")["conditions"])[2],
        c("Programmed", "False", "Invalid")
    );
    // HTTPS on 8443 (the container port, not a Service port).
    assert_eq!(
        accepted("https-missing"),
        c("Accepted", "False", "PortUnavailable")
    );
    assert_eq!(
        accepted("custom"),
        c("Accepted", "False", "UnsupportedProtocol")
    );
}

/// Where the spec is stricter than KIC's controller, status follows the spec (the conformance
/// tests named): a Gateway with parameters kingress cannot take, or without any accepted
/// listener, is not accepted nor programmed; a TLS listener terminating TLS is not accepted;
/// a listener lists only the kinds its protocol carries.
#[test]
fn gateway_and_listener_rules_of_the_spec() {
    let extra = r#"
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: with-parameters, namespace: infra}
spec:
  gatewayClassName: kong
  listeners: [{name: http, port: 80, protocol: HTTP}]
  infrastructure: {parametersRef: {group: invalid.io, kind: InvalidParameters, name: invalid}}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: nothing-valid, namespace: infra}
spec:
  gatewayClassName: kong
  listeners: [{name: invalid, port: 1111, protocol: INVALID}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: tls, namespace: infra}
spec:
  gatewayClassName: kong
  listeners:
  - {name: terminate, port: 8443, protocol: TLS, tls: {mode: Terminate, certificateRefs: [{name: good-cert}]}}
  - {name: passthrough, port: 443, protocol: TLS, tls: {mode: Passthrough}, allowedRoutes: {kinds: [{kind: TCPRoute}, {kind: TLSRoute}]}}
"#;
    let w = writes(&snapshot(extra), true, &[]);
    let status = |name: &str| {
        w.iter()
            .find(|w| w.kind == Kind::Gateway && w.name == name)
            .unwrap_or_else(|| panic!("{name}"))
            .status
            .clone()
    };
    assert_eq!(
        conds(&status("with-parameters")["conditions"]),
        [
            c("Accepted", "False", "InvalidParameters"),
            c("Programmed", "False", "Invalid")
        ]
    );
    assert_eq!(
        conds(&status("nothing-valid")["conditions"]),
        [
            c("Accepted", "False", "ListenersNotValid"),
            c("Programmed", "False", "Invalid")
        ]
    );
    let tls = status("tls");
    let terminate = listener(&tls, "terminate");
    assert_eq!(
        conds(&terminate["conditions"])[0],
        c("Accepted", "False", "UnsupportedValue")
    );
    assert_eq!(terminate["supportedKinds"], json!([]));
    let passthrough = listener(&tls, "passthrough");
    assert_eq!(
        conds(&passthrough["conditions"])[3],
        c("ResolvedRefs", "False", "InvalidRouteKinds")
    );
    assert_eq!(
        passthrough["supportedKinds"],
        json!([{"group": "gateway.networking.k8s.io", "kind": "TLSRoute"}])
    );
    assert_eq!(
        conds(&tls["conditions"])[0],
        c("Accepted", "True", "ListenersNotValid")
    );
}
