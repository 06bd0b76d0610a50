//! Differential test of `kingress::kong::route_transform` against Kong's own
//! `kong/router/transform.lua` (Kong 3.10, unchanged in `tests/kong-router/src/`) under LuaJIT.
//!
//! Random traditional routes (HTTP and stream; methods, hosts with wildcards and ports, prefix
//! and regex paths of several lengths, header matches with regexes, SNIs, sources and
//! destinations, regex priorities up to and beyond 32 bits) go through Kong's split by path,
//! `get_expression` and `get_priority`; per route the test asserts the same split, the same
//! expression text and the same priority as kingress computes (where a 32-bit part of Kong's
//! priority is negative, one of the two values LuaJIT gives interpreted and compiled: the loop
//! here is compiled after its 57th route). Header names are one per route: Kong joins several
//! in Lua `pairs` order, which is not stable.
//!
//! The seed is random per run and printed; `KINGRESS_ROUTER_SEED=<n>` replays one.
//! Needs `luajit` on PATH (`scripts/test` installs it when missing).

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

use kingress::kong::route_transform::{self, KongRoute};
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};

const ROUTES: usize = 600;

fn pick<'a>(rng: &mut StdRng, from: &[&'a str], max: usize) -> Vec<&'a str> {
    let n = rng.random_range(1..=max.min(from.len()));
    from.choose_multiple(rng, n).copied().collect()
}

fn nets(rng: &mut StdRng) -> Value {
    let all = [
        json!({"ip": "10.1.2.3"}),
        json!({"ip": "10.200.30.4/8", "port": 80}),
        json!({"port": 443}),
        json!({"ip": "10.1.2.3/0"}),
        json!({"ip": "192.168.7.9/23"}),
        json!({"ip": "fe80::1/64", "port": 8443}),
        json!({"ip": "10.9.9.9/32"}),
    ];
    let n = rng.random_range(1..=3);
    Value::Array(all.choose_multiple(rng, n).cloned().collect())
}

fn random_route(rng: &mut StdRng, i: usize) -> Value {
    let mut r = json!({"id": format!("route-{i}")});
    let stream = rng.random_bool(0.2);
    if stream {
        let protocols = [["tcp"], ["tls"], ["udp"], ["tls_passthrough"]];
        r["protocols"] = json!(protocols.choose(rng).expect("protocols"));
        if rng.random_bool(0.5) {
            r["snis"] = json!(pick(rng, &["db.example.com", "*.example.com", "api.*"], 2));
        }
        if rng.random_bool(0.6) {
            r["sources"] = nets(rng);
        }
        if rng.random_bool(0.6) {
            r["destinations"] = nets(rng);
        }
        return r;
    }
    let protocols = [
        json!(["http", "https"]),
        json!(["https"]),
        json!(["grpc", "grpcs"]),
    ];
    r["protocols"] = protocols.choose(rng).expect("protocols").clone();
    if rng.random_bool(0.4) {
        r["methods"] = json!(pick(rng, &["GET", "POST", "PUT"], 2));
    }
    match rng.random_range(0..4) {
        0 => {}
        1 => r["hosts"] = json!([]),
        _ => {
            let hosts = [
                "shop.example.com",
                "*.example.com",
                "api.*",
                "example.org:8443",
                "*.a:80",
                "x.y",
            ];
            r["hosts"] = json!(pick(rng, &hosts, 3));
        }
    }
    if rng.random_bool(0.8) {
        let paths = [
            "/",
            "/a",
            "/ab",
            "/abc",
            "/a/b",
            "/cart",
            "~/b(?<n>\\d+)$",
            "~/items/\\d+",
            "~/x\"#y",
            "/q\"#",
        ];
        r["paths"] = json!(pick(rng, &paths, 4));
    }
    if rng.random_bool(0.35) {
        let name = *["X-Tenant", "x_user", "Accept"].choose(rng).expect("name");
        let values = pick(
            rng,
            &["Blue", "~*^R.d$", "a-b", "x\"#", "~*\\d+", "Äpfel-SS"],
            3,
        );
        r["headers"] = json!({ name: values });
    }
    if rng.random_bool(0.25) {
        let snis = [
            "secure.example.com",
            "*.example.com",
            "api.*",
            "trailing.dot.",
        ];
        r["snis"] = json!(pick(rng, &snis, 2));
    }
    if rng.random_bool(0.1) {
        r["sources"] = nets(rng);
    }
    if rng.random_bool(0.1) {
        r["destinations"] = nets(rng);
    }
    if r.get("methods").is_none()
        && r.get("hosts").is_none_or(|h| h == &json!([]))
        && r.get("paths").is_none()
        && r.get("headers").is_none()
        && r.get("snis").is_none()
    {
        r["paths"] = json!(["/fallback"]);
    }
    r["regex_priority"] = json!(
        *[0i64, 5, -1, 4095, 4096, 100_000, -70_000, 1 << 20]
            .choose(rng)
            .expect("priority")
    );
    r
}

/// A JSON value as a Lua literal.
fn lua(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\"")),
        Value::Array(a) => format!("{{ {} }}", a.iter().map(lua).collect::<Vec<_>>().join(", ")),
        Value::Object(o) => format!(
            "{{ {} }}",
            o.iter()
                .map(|(k, v)| format!("[{}] = {}", lua(&Value::String(k.clone())), lua(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// One split route: its paths, expression and priority (kingress: both of Kong's values when
/// they differ, `interpreted|compiled`).
#[derive(Debug)]
struct Seen {
    paths: String,
    expression: String,
    priority: String,
}

impl PartialEq for Seen {
    /// Kong's printed priority is one of kingress's.
    fn eq(&self, kong: &Seen) -> bool {
        self.paths == kong.paths
            && self.expression == kong.expression
            && self.priority.split('|').any(|p| p == kong.priority)
    }
}

fn kong(cases: &str) -> Vec<(String, Vec<Seen>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/kong-router");
    let file = std::env::temp_dir().join(format!("kingress-router-{}.lua", std::process::id()));
    std::fs::write(&file, cases).expect("write cases");
    let out = Command::new("luajit")
        .arg(dir.join("kong_router.lua"))
        .arg(&file)
        .output()
        .expect("run luajit (apt-get install -y luajit)");
    let _ = std::fs::remove_file(&file);
    assert!(
        out.status.success(),
        "Kong's transform.lua failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).expect("utf-8");
    let mut cases: Vec<(String, Vec<Seen>)> = Vec::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        let rest = line.strip_prefix("CASE ").expect("a CASE line");
        let (name, n) = rest.rsplit_once(' ').expect("name and count");
        let n: usize = n.parse().expect("count");
        let mut seen = Vec::new();
        for _ in 0..n {
            let mut field = |p: &str| {
                let l = lines.next().expect("a line");
                l.strip_prefix(p)
                    .unwrap_or_else(|| panic!("{p:?} expected, got {l:?}"))
                    .to_string()
            };
            seen.push(Seen {
                paths: field("PATHS "),
                expression: field("EXPR "),
                priority: field("PRIO "),
            });
        }
        cases.push((name.to_string(), seen));
    }
    cases
}

fn kingress(route: &KongRoute) -> Vec<Seen> {
    route_transform::split_by_path(route)
        .iter()
        .map(|r| Seen {
            paths: r
                .get("paths")
                .and_then(Value::as_array)
                .map(|p| {
                    p.iter()
                        .filter_map(Value::as_str)
                        .collect::<Vec<_>>()
                        .join("\t")
                })
                .unwrap_or_default(),
            expression: route_transform::expression(r),
            priority: {
                let p = route_transform::priority(r);
                match p.is_ambiguous() {
                    true => format!("{}|{}", p.interpreted, p.compiled),
                    false => p.interpreted.to_string(),
                }
            },
        })
        .collect()
}

#[test]
fn traditional_routes_transform_as_kongs_transform_lua() {
    let seed: u64 = std::env::var("KINGRESS_ROUTER_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(rand::random);
    println!("KINGRESS_ROUTER_SEED={seed}");
    let mut rng = StdRng::seed_from_u64(seed);
    let routes: Vec<Value> = (0..ROUTES).map(|i| random_route(&mut rng, i)).collect();
    let mut cases = String::from("return {\n");
    for (i, r) in routes.iter().enumerate() {
        writeln!(cases, "  {{ name = \"{i}\", route = {} }},", lua(r)).expect("write");
    }
    cases.push_str("}\n");
    let kong = kong(&cases);
    assert_eq!(kong.len(), routes.len());
    let mut differ = Vec::new();
    for ((name, seen), route) in kong.iter().zip(&routes) {
        let ours = kingress(route.as_object().expect("object"));
        if ours != *seen {
            differ.push(format!(
                "route {name} {route}\n  Kong:     {seen:?}\n  kingress: {ours:?}"
            ));
        }
    }
    assert!(
        differ.is_empty(),
        "seed {seed}: {} of {} routes differ:\n{}",
        differ.len(),
        routes.len(),
        differ[..differ.len().min(5)].join("\n")
    );
}

/// The example cases of `tests/kong-router/example-cases.lua`, with the priorities Kong gives
/// them, among them 2^63 for a route with four kinds of match (see the module's notes).
#[test]
fn the_bundled_examples_match_kong() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/kong-router");
    let cases = std::fs::read_to_string(dir.join("example-cases.lua")).expect("examples");
    let kong = kong(&cases);
    let four = kong
        .iter()
        .find(|(n, _)| n == "four-kinds")
        .expect("four-kinds");
    assert_eq!(four.1[0].priority, (1u64 << 63).to_string());
    let route = json!({"id": "r2", "protocols": ["http"], "methods": ["GET"], "hosts": ["*.a"],
        "paths": ["/x"], "headers": {"X-Tenant": ["Blue", "~*^r.d$"]}, "regex_priority": 0});
    let ours = kingress(route.as_object().expect("object"));
    assert_eq!(ours, four.1);
    // Four routes run interpreted: Kong's value is the interpreter's of the two.
    assert_eq!(
        ours[0].priority,
        format!("{}|{}", 1u64 << 63, 0xFFFF_FFFF_8010_0002u64)
    );
}
