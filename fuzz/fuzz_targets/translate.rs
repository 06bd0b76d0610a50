//! The translator on arbitrary objects: structured fuzz input → Kubernetes objects as YAML
//! → `load_str` → translate → serialise → Kong validation.
//!
//! Objects reference each other through small name pools (so Ingresses and HTTPRoutes find
//! their Services, Services their policies and plugins, plugins their Secrets), while field
//! values come from a dictionary of tricky strings or are arbitrary. Checked: no panic, the
//! config always serialises, and the output does not depend on the order of the documents.

#![no_main]

use std::collections::BTreeSet;
use std::path::Path;

use arbitrary::{Arbitrary, Unstructured};
use kingress::manifests::{self, Loaded};
use kingress::translate::{self, Options};
use libfuzzer_sys::fuzz_target;
use serde_json::{Map, Value, json};

/// Interesting values for names, hosts, paths, headers, annotations.
const DICTIONARY: &[&str] = &[
    "",
    "a",
    "echo",
    "http",
    "80",
    "/",
    "/a/b",
    "//x//",
    "/~^/api/v[0-9]+$",
    "~*",
    "*.example.com",
    "example.*",
    "a.*.com",
    "Ünïcödé.example",
    "/路径/😀",
    "x-user",
    "bad header",
    "true",
    "false",
    "-1",
    "65536",
    "999999999999",
    "1e400",
    "null",
    "a,b,,c",
    "https",
    "GET",
    "none",
    "ip",
    "header",
    "consistent-hashing",
    "sticky-sessions",
    "rate-limiting",
    "request-termination",
    "local",
    "{\"minute\": 5}",
    "minute: 5\npolicy: local",
    "*",
    "..",
    "%zz",
    "a\u{0}b",
    "\n",
];

/// A string: mostly from the dictionary, sometimes arbitrary (bounded).
#[derive(Debug)]
struct Str(String);

impl<'a> Arbitrary<'a> for Str {
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
        let pick: u8 = u.arbitrary()?;
        if pick < 220 {
            Ok(Str(
                DICTIONARY[usize::from(pick) % DICTIONARY.len()].to_string()
            ))
        } else {
            let len = u.int_in_range(0..=48)?;
            let bytes = u.bytes(len)?;
            Ok(Str(String::from_utf8_lossy(bytes).into_owned()))
        }
    }
}

/// A small integer or, sometimes, an arbitrary one.
#[derive(Debug)]
struct Num(i64);

impl<'a> Arbitrary<'a> for Num {
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
        Ok(Num(match u.int_in_range(0..=9)? {
            0 => u.arbitrary::<i32>()?.into(),
            1 => u.arbitrary()?,
            2 => 65535,
            3 => 65536,
            4 => 0,
            _ => u.int_in_range(1..=1000)?,
        }))
    }
}

/// Values that YAML can hold where a field expects a particular type.
#[derive(Arbitrary, Debug)]
enum Scalar {
    Str(Str),
    Num(Num),
    Bool(bool),
    Float(f64),
    Null,
    List(Vec<Str>),
}

impl Scalar {
    fn value(&self) -> Value {
        match self {
            Scalar::Str(s) => s.0.clone().into(),
            Scalar::Num(n) => n.0.into(),
            Scalar::Bool(b) => (*b).into(),
            Scalar::Float(f) => serde_json::Number::from_f64(*f).map_or(Value::Null, Value::Number),
            Scalar::Null => Value::Null,
            Scalar::List(l) => l.iter().map(|s| Value::from(s.0.clone())).collect(),
        }
    }
}

const NAMESPACES: [&str; 2] = ["default", "other"];
const NAMES: [&str; 4] = ["echo", "blue", "green", "p"];
const ANNOTATIONS: &[&str] = &[
    "konghq.com/upstream-policy",
    "konghq.com/plugins",
    "konghq.com/protocol",
    "konghq.com/path",
    "konghq.com/strip-path",
    "konghq.com/methods",
    "konghq.com/headers.x-user",
    "konghq.com/regex-priority",
    "konghq.com/https-redirect-status-code",
    "konghq.com/host-aliases",
    "konghq.com/tags",
    "konghq.com/retries",
    "konghq.com/connect-timeout",
    "konghq.com/host-header",
    "konghq.com/snis",
    "konghq.com/protocols",
    "konghq.com/path-handling",
    "konghq.com/regex-prefix",
    "ingress.kubernetes.io/service-upstream",
    "kubernetes.io/ingress.class",
    "kingress.io/replica-aware-limits",
];

#[derive(Arbitrary, Debug)]
struct Meta {
    ns: u8,
    name: u8,
    annotations: Vec<(u8, Str)>,
}

impl Meta {
    fn ns(&self) -> &'static str {
        NAMESPACES[usize::from(self.ns) % NAMESPACES.len()]
    }
    fn name(&self) -> &'static str {
        name(self.name)
    }
    fn json(&self, labels: Value) -> Value {
        let annotations: Map<String, Value> = self
            .annotations
            .iter()
            .take(6)
            .map(|(k, v)| {
                (
                    ANNOTATIONS[usize::from(*k) % ANNOTATIONS.len()].to_string(),
                    Value::from(v.0.clone()),
                )
            })
            .collect();
        json!({"name": self.name(), "namespace": self.ns(), "annotations": annotations, "labels": labels})
    }
}

fn name(i: u8) -> &'static str {
    NAMES[usize::from(i) % NAMES.len()]
}

#[derive(Arbitrary, Debug)]
struct Port {
    name: Option<Str>,
    port: Num,
    target: Option<Scalar>,
    protocol: Option<Str>,
}

#[derive(Arbitrary, Debug)]
struct Endpoint {
    address: Str,
    ipv4: Option<[u8; 4]>,
    ready: Option<bool>,
    terminating: Option<bool>,
    serving: Option<bool>,
}

#[derive(Arbitrary, Debug)]
struct BackendRef {
    service: u8,
    port: Option<Num>,
    weight: Option<Num>,
    namespace: Option<u8>,
    kind: Option<Str>,
}

#[derive(Arbitrary, Debug)]
struct Match {
    path_type: u8,
    path: Option<Str>,
    method: Option<Str>,
    headers: Vec<(Str, Str, bool)>,
    query: bool,
}

#[derive(Arbitrary, Debug)]
struct RouteRule {
    name: Option<Str>,
    matches: Option<Vec<Match>>,
    refs: Vec<BackendRef>,
    filter: bool,
}

#[derive(Arbitrary, Debug)]
struct IngressPath {
    path: Option<Str>,
    path_type: u8,
    service: u8,
    port: Option<Num>,
    port_name: Option<Str>,
}

#[derive(Arbitrary, Debug)]
enum Doc {
    Service {
        meta: Meta,
        ports: Vec<Port>,
        external: Option<Str>,
    },
    Slice {
        meta: Meta,
        service: u8,
        family: u8,
        ports: Vec<Port>,
        endpoints: Vec<Endpoint>,
    },
    Ingress {
        meta: Meta,
        class: Option<Str>,
        host: Option<Str>,
        paths: Vec<IngressPath>,
        default_backend: Option<u8>,
        tls: Option<(Vec<Str>, u8)>,
    },
    HttpRoute {
        meta: Meta,
        hostnames: Vec<Str>,
        rules: Vec<RouteRule>,
        parent: Option<Str>,
    },
    Gateway {
        meta: Meta,
        controller: bool,
    },
    Policy {
        meta: Meta,
        algorithm: Option<Str>,
        slots: Option<Num>,
        hash_on: Option<(u8, Str)>,
        fallback: Option<(u8, Str)>,
        healthchecks: Option<[Num; 6]>,
        sticky: Option<Str>,
    },
    Plugin {
        meta: Meta,
        cluster: bool,
        global: bool,
        plugin: Str,
        config: Vec<(Str, Scalar)>,
        config_from: Option<(u8, Str)>,
        patch: Option<(Str, u8, Str)>,
    },
    Secret {
        meta: Meta,
        tls: bool,
        data: Vec<(Str, Vec<u8>)>,
    },
    /// Raw text as one more document.
    Raw(Str),
}

fn pick(options: &[&'static str], i: u8) -> &'static str {
    options[usize::from(i) % options.len()]
}

fn opt<T>(v: &Option<T>, f: impl Fn(&T) -> Value) -> Value {
    v.as_ref().map_or(Value::Null, f)
}

fn strip_nulls(v: Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.into_iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k, strip_nulls(v)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.into_iter().map(strip_nulls).collect()),
        other => other,
    }
}

fn port_json(p: &Port) -> Value {
    json!({
        "name": opt(&p.name, |s| s.0.clone().into()),
        "port": p.port.0,
        "targetPort": opt(&p.target, Scalar::value),
        "protocol": opt(&p.protocol, |s| s.0.clone().into()),
    })
}

fn hash_json(h: &(u8, Str)) -> Value {
    let field = [
        "input",
        "header",
        "cookie",
        "queryArg",
        "uriCapture",
        "cookiePath",
    ][usize::from(h.0) % 6];
    let mut m = Map::new();
    m.insert(field.into(), h.1.0.clone().into());
    if field == "cookie" {
        m.insert("cookiePath".into(), "/".into());
    }
    Value::Object(m)
}

/// (kind, namespace, name) and the document.
fn render(doc: &Doc) -> Option<((&'static str, String, String), Value)> {
    let keyed = |kind: &'static str, meta: &Meta, v: Value| {
        Some((
            (kind, meta.ns().to_string(), meta.name().to_string()),
            strip_nulls(v),
        ))
    };
    match doc {
        Doc::Service {
            meta,
            ports,
            external,
        } => {
            let ports: Vec<Value> = ports.iter().take(4).map(port_json).collect();
            let spec = match external {
                Some(host) => {
                    json!({"type": "ExternalName", "externalName": host.0, "ports": ports})
                }
                None => json!({"ports": ports}),
            };
            keyed(
                "Service",
                meta,
                json!({"apiVersion": "v1", "kind": "Service", "metadata": meta.json(Value::Null), "spec": spec}),
            )
        }
        Doc::Slice {
            meta,
            service,
            family,
            ports,
            endpoints,
        } => {
            let labels = json!({"kubernetes.io/service-name": name(*service)});
            let endpoints: Vec<Value> = endpoints
                .iter()
                .take(16)
                .map(|e| {
                    let address = match e.ipv4 {
                        Some([a, b, c, d]) => format!("{a}.{b}.{c}.{d}"),
                        None => e.address.0.clone(),
                    };
                    json!({"addresses": [address], "conditions": {
                        "ready": e.ready, "terminating": e.terminating, "serving": e.serving}})
                })
                .collect();
            let ports: Vec<Value> = ports
                .iter()
                .take(3)
                .map(|p| {
                    json!({"name": opt(&p.name, |s| s.0.clone().into()), "port": p.port.0,
                                "protocol": opt(&p.protocol, |s| s.0.clone().into())})
                })
                .collect();
            keyed(
                "EndpointSlice",
                meta,
                json!({"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
                       "metadata": meta.json(labels),
                       "addressType": pick(&["IPv4", "IPv6", "FQDN"], *family),
                       "ports": ports, "endpoints": endpoints}),
            )
        }
        Doc::Ingress {
            meta,
            class,
            host,
            paths,
            default_backend,
            tls,
        } => {
            let paths: Vec<Value> = paths
                .iter()
                .take(6)
                .map(|p| {
                    let port = match (&p.port, &p.port_name) {
                        (Some(n), _) => json!({"number": n.0}),
                        (None, Some(s)) => json!({"name": s.0}),
                        (None, None) => Value::Null,
                    };
                    json!({"path": opt(&p.path, |s| s.0.clone().into()),
                           "pathType": pick(&["Prefix", "Exact", "ImplementationSpecific"], p.path_type),
                           "backend": {"service": {"name": name(p.service), "port": port}}})
                })
                .collect();
            let tls = opt(tls, |(hosts, secret)| {
                json!([{"hosts": hosts.iter().map(|h| h.0.clone()).collect::<Vec<_>>(),
                        "secretName": name(*secret)}])
            });
            let default_backend = opt(
                default_backend,
                |s| json!({"service": {"name": name(*s), "port": {"number": 80}}}),
            );
            keyed(
                "Ingress",
                meta,
                json!({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
                       "metadata": meta.json(Value::Null),
                       "spec": {"ingressClassName": class.as_ref().map_or("kong".to_string(), |c| c.0.clone()),
                                "defaultBackend": default_backend,
                                "rules": [{"host": opt(host, |h| h.0.clone().into()), "http": {"paths": paths}}],
                                "tls": tls}}),
            )
        }
        Doc::HttpRoute {
            meta,
            hostnames,
            rules,
            parent,
        } => {
            let rules: Vec<Value> = rules
                .iter()
                .take(4)
                .map(|r| {
                    let matches = opt(&r.matches, |ms| {
                        ms.iter()
                            .take(4)
                            .map(|m| {
                                json!({
                                    "path": opt(&m.path, |p| json!({
                                        "type": pick(&["PathPrefix", "Exact", "RegularExpression"], m.path_type),
                                        "value": p.0})),
                                    "method": opt(&m.method, |s| s.0.clone().into()),
                                    "headers": m.headers.iter().take(3).map(|(n, v, re)| json!({
                                        "name": n.0, "value": v.0,
                                        "type": if *re { "RegularExpression" } else { "Exact" }})).collect::<Vec<_>>(),
                                    "queryParams": if m.query { json!([{"name": "q", "value": "1"}]) } else { Value::Null },
                                })
                            })
                            .collect()
                    });
                    let refs: Vec<Value> = r
                        .refs
                        .iter()
                        .take(5)
                        .map(|b| {
                            json!({"name": name(b.service),
                                   "port": opt(&b.port, |n| n.0.into()),
                                   "weight": opt(&b.weight, |n| n.0.into()),
                                   "namespace": opt(&b.namespace, |n| NAMESPACES[usize::from(*n) % 2].into()),
                                   "kind": opt(&b.kind, |k| k.0.clone().into())})
                        })
                        .collect();
                    let filters = if r.filter {
                        json!([{"type": "RequestHeaderModifier", "requestHeaderModifier": {"set": [{"name": "a", "value": "b"}]}}])
                    } else {
                        Value::Null
                    };
                    json!({"name": opt(&r.name, |s| s.0.clone().into()), "matches": matches,
                           "backendRefs": refs, "filters": filters})
                })
                .collect();
            let hostnames: Vec<String> = hostnames.iter().take(4).map(|h| h.0.clone()).collect();
            keyed(
                "HTTPRoute",
                meta,
                json!({"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
                       "metadata": meta.json(Value::Null),
                       "spec": {"parentRefs": [{"name": parent.as_ref().map_or("kong".to_string(), |p| p.0.clone())}],
                                "hostnames": hostnames, "rules": rules}}),
            )
        }
        Doc::Gateway { meta, controller } => {
            // One GatewayClass per controller, always the same: duplicates are identical.
            let (class, controller) = if *controller {
                ("kong", "konghq.com/kic-gateway-controller")
            } else {
                ("other", "example.com/other")
            };
            // A GatewayClass named after the Gateway's class, and the Gateway itself.
            let doc = json!([
                {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "GatewayClass",
                 "metadata": {"name": class}, "spec": {"controllerName": controller}},
                {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway",
                 "metadata": meta.json(Value::Null),
                 "spec": {"gatewayClassName": class,
                          "listeners": [{"name": "http", "port": 80, "protocol": "HTTP"}]}},
            ]);
            keyed(
                "Gateway",
                meta,
                json!({"apiVersion": "v1", "kind": "List", "items": doc}),
            )
        }
        Doc::Policy {
            meta,
            algorithm,
            slots,
            hash_on,
            fallback,
            healthchecks,
            sticky,
        } => {
            let healthchecks = opt(healthchecks, |h| {
                json!({"threshold": h[0].0,
                       "active": {"type": "http", "concurrency": h[1].0, "httpPath": "/",
                                  "healthy": {"interval": h[2].0, "successes": h[3].0, "httpStatuses": [200]},
                                  "unhealthy": {"interval": h[2].0, "httpFailures": h[4].0, "timeouts": h[5].0}},
                       "passive": {"healthy": {"successes": h[3].0}, "unhealthy": {"tcpFailures": h[4].0}}})
            });
            keyed(
                "KongUpstreamPolicy",
                meta,
                json!({"apiVersion": "configuration.konghq.com/v1beta1", "kind": "KongUpstreamPolicy",
                       "metadata": meta.json(Value::Null),
                       "spec": {"algorithm": opt(algorithm, |s| s.0.clone().into()),
                                "slots": opt(slots, |n| n.0.into()),
                                "hashOn": opt(hash_on, hash_json),
                                "hashOnFallback": opt(fallback, hash_json),
                                "healthchecks": healthchecks,
                                "stickySessions": opt(sticky, |c| json!({"cookie": c.0}))}}),
            )
        }
        Doc::Plugin {
            meta,
            cluster,
            global,
            plugin,
            config,
            config_from,
            patch,
        } => {
            let config: Map<String, Value> = config
                .iter()
                .take(6)
                .map(|(k, v)| (k.0.clone(), v.value()))
                .collect();
            let kind = if *cluster {
                "KongClusterPlugin"
            } else {
                "KongPlugin"
            };
            let secret_ref = |(secret, key): (&u8, &Str)| {
                let mut r = json!({"name": name(*secret), "key": key.0});
                if *cluster {
                    r["namespace"] = "default".into();
                }
                r
            };
            let labels = if *global {
                json!({"global": "true"})
            } else {
                Value::Null
            };
            let mut metadata = meta.json(labels);
            if *cluster {
                metadata.as_object_mut().map(|m| m.remove("namespace"));
            }
            let v = json!({"apiVersion": "configuration.konghq.com/v1", "kind": kind,
                           "metadata": metadata, "plugin": plugin.0,
                           "config": if config_from.is_some() { Value::Null } else { Value::Object(config) },
                           "configFrom": opt(config_from, |(s, k)| json!({"secretKeyRef": secret_ref((s, k))})),
                           "configPatches": opt(patch, |(path, s, k)| json!([{"path": path.0,
                                "valueFrom": {"secretKeyRef": secret_ref((s, k))}}]))});
            let ns = if *cluster {
                String::new()
            } else {
                meta.ns().to_string()
            };
            Some(((kind, ns, meta.name().to_string()), strip_nulls(v)))
        }
        Doc::Secret { meta, tls, data } => {
            let data: Map<String, Value> = data
                .iter()
                .take(4)
                .map(|(k, v)| (k.0.clone(), base64(v).into()))
                .collect();
            keyed(
                "Secret",
                meta,
                json!({"apiVersion": "v1", "kind": "Secret", "metadata": meta.json(Value::Null),
                       "type": if *tls { "kubernetes.io/tls" } else { "Opaque" }, "data": data}),
            )
        }
        Doc::Raw(_) => None,
    }
}

fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn translate_text(text: &str) -> (String, Vec<String>) {
    let mut loaded = Loaded::default();
    manifests::load_str(text, Path::new("fuzz.yaml"), &mut loaded);
    let options = Options {
        assume_attached_without_gateways: true,
        kong_replicas: 2,
        ..Options::default()
    };
    let translation = translate::translate(&loaded.snapshot, &options);
    let json = translation
        .config
        .to_json()
        .expect("a translated config always serialises to JSON");
    translation
        .config
        .to_yaml()
        .expect("a translated config always serialises to YAML");
    let value: serde_json::Value =
        serde_json::from_str(&json).expect("the serialised config parses back");
    let _ = kong_admin_double::validate(&value);
    let problems = translation.problems.iter().map(|p| p.to_string()).collect();
    (json, problems)
}

fuzz_target!(|docs: Vec<Doc>| {
    // Unique (kind, namespace, name): with duplicates the last one wins, so order matters.
    let mut seen = BTreeSet::new();
    let mut rendered: Vec<String> = Vec::new();
    let mut raw: Vec<String> = Vec::new();
    for doc in docs.iter().take(24) {
        match (doc, render(doc)) {
            (Doc::Raw(text), _) => raw.push(text.0.clone()),
            (_, Some((key, value))) => {
                if seen.insert(key) {
                    rendered.push(serde_norway::to_string(&value).expect("YAML of a JSON value"));
                }
            }
            (_, None) => {}
        }
    }
    // Raw text goes last: a syntax error stops the reader at that document.
    let mut all = rendered.clone();
    all.extend(raw.iter().cloned());
    let (config, problems) = translate_text(&all.join("---\n"));
    let mut reversed = rendered;
    reversed.reverse();
    reversed.extend(raw);
    let (config2, problems2) = translate_text(&reversed.join("---\n"));
    assert_eq!(
        config, config2,
        "the config depends on the order of the documents"
    );
    let (mut a, mut b) = (problems, problems2);
    a.sort();
    b.sort();
    assert_eq!(a, b, "the problems depend on the order of the documents");
});
