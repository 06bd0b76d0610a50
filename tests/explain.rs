//! `kingress explain`: golden output for the echo example, and every number checked
//! against `kong::ring` computed directly.
//!
//! Regenerate the golden files after an intended change with
//! `UPDATE_GOLDEN=1 cargo test --test explain`, then review the diff like code.

mod support;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use kingress::explain::{RingState, analyse};
use kingress::kong::config::{Target, Upstream};
use kingress::kong::ring::{self, Ring, RingTarget};
use kingress::manifests;
use kingress::translate::{self, Options};
use serde_json::Value;
use support::golden::{assert_matched, check};

const ECHO: &str = "tests/explain/echo/service.yaml";
const TWO: &str = "tests/explain/echo/endpoints-2.yaml";
const THREE: &str = "tests/explain/echo/endpoints-3.yaml";
const CHECK: &str = "tests/explain/kong/check.yaml";
const SIX: &str = "tests/explain/kong/too-small.json";

fn kingress(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kingress"))
        .arg("explain")
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run kingress")
}

/// stdout of a run that must succeed.
fn ok(args: &[&str]) -> String {
    let out = kingress(args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "kingress explain {args:?} failed: {stderr}"
    );
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

/// The first upstream of a `-o json` run.
fn json(args: &[&str]) -> Value {
    let mut all = args.to_vec();
    all.extend(["-o", "json"]);
    let doc: Value = serde_json::from_str(&ok(&all)).expect("JSON on stdout");
    doc["upstreams"][0].clone()
}

/// stderr of a run that must fail without panicking.
fn fails(args: &[&str]) -> String {
    let out = kingress(args);
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(!out.status.success(), "{args:?} should fail");
    assert!(!stderr.contains("panicked"), "{args:?} panicked: {stderr}");
    assert!(out.stdout.is_empty(), "{args:?} printed on stdout");
    stderr
}

/// The upstream `name` as `kingress translate` produces it from `files`.
fn translated(files: &[&str], name: &str) -> Upstream {
    let paths: Vec<PathBuf> = files
        .iter()
        .map(|f| Path::new(env!("CARGO_MANIFEST_DIR")).join(f))
        .collect();
    let loaded = manifests::load(&paths).expect("manifests load");
    let options = Options {
        assume_attached_without_gateways: true,
        ..Options::default()
    };
    let config = translate::translate(&loaded.snapshot, &options).config;
    config.upstream(name).expect("upstream translated").clone()
}

fn ring_of(u: &Upstream) -> Ring {
    let targets: Vec<RingTarget> = u
        .targets
        .iter()
        .map(|t| RingTarget::new(t.target.clone(), t.effective_weight()))
        .collect();
    ring::build(&targets, 10_000).expect("ring builds")
}
#[test]
fn echo_example_matches_golden_output() {
    let update = support::golden::update_golden();
    let args = ["-f", "examples/", "--service", "default/echo"];
    let keys = ["--key", "foo", "--key", "bar"];
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/explain/golden");
    let mut failures = Vec::new();
    for (file, output) in [("echo.txt", "table"), ("echo.json", "json")] {
        let actual = ok(&[&args[..], &keys, &["-o", output]].concat());
        check(&dir.join(file), &actual, update, &mut failures);
    }
    assert_matched(&failures);
}

/// `-o svg` and `-o html`: the wheel as a picture, one golden per case. The arcs are checked
/// against the analysis in `src/explain/svg/tests.rs`; these hold the drawing itself.
#[test]
fn pictures_match_golden_output() {
    let update = support::golden::update_golden();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/explain/golden");
    let echo = ["-f", "examples/", "--service", "default/echo"];
    let keys = ["--key", "foo", "--key", "bar"];
    let compare = [
        "-f",
        ECHO,
        "-f",
        TWO,
        "--service",
        "default/echo",
        "--compare-with",
        ECHO,
        "--compare-with",
        THREE,
    ];
    let plain = ["--kong-config", CHECK, "--upstream", "plain", "--key", "x"];
    let cases: [(&str, Vec<&str>); 5] = [
        ("echo.svg", [&echo[..], &["-o", "svg"]].concat()),
        ("echo-keys.svg", [&echo[..], &keys, &["-o", "svg"]].concat()),
        (
            "echo-compare.svg",
            [&compare[..], &keys, &["-o", "svg"]].concat(),
        ),
        ("echo.html", [&echo[..], &keys, &["-o", "html"]].concat()),
        ("round-robin.svg", [&plain[..], &["-o", "svg"]].concat()),
    ];
    let mut failures = Vec::new();
    for (file, args) in &cases {
        check(&dir.join(file), &ok(args), update, &mut failures);
    }
    assert_matched(&failures);

    // The numbers drawn are the report's.
    let moved = json(&[&compare[..], &keys].concat())["moved_fraction"].as_f64();
    let moved = moved.expect("both states hash");
    let svg = ok(&[&compare[..], &["-o", "svg"]].concat());
    assert!(
        svg.contains(&format!("{:.2}% of keys move", moved * 100.0)),
        "{moved}"
    );
    let html = ok(&[&echo[..], &["-o", "html"]].concat());
    assert!(html.starts_with("<!DOCTYPE html>"), "{html}");
    // The table follows the picture, as text.
    assert!(html.contains("<pre>upstream echo.default.80.svc  (Service default/echo port 80)\n"));
    assert!(!html.contains("<script"), "no script");
    // --request has no wheel to draw.
    let stderr = fails(&[
        "-f",
        "tests/explain/request",
        "--request",
        "GET http://x/",
        "-o",
        "svg",
    ]);
    assert!(
        stderr.contains("-o svg draws an upstream's wheel"),
        "{stderr}"
    );
}
#[test]
fn echo_numbers_are_the_rings() {
    let u = json(&[
        "-f",
        "examples/",
        "--service",
        "default/echo",
        "--key",
        "foo",
        "--key",
        "bar",
    ]);
    let ring = ring_of(&translated(&["examples/"], "echo.default.80.svc"));
    assert_eq!(u["name"], "echo.default.80.svc");
    assert_eq!(
        (
            &u["algorithm"],
            &u["hash_on"],
            &u["hash_on_header"],
            &u["hash_fallback"]
        ),
        (
            &"consistent-hashing".into(),
            &"header".into(),
            &"x-lb".into(),
            &"ip".into()
        )
    );
    assert_eq!(
        (u["slots"].as_u64(), u["wheel_size"].as_u64()),
        (Some(10_000), Some(10_000))
    );
    assert_eq!(u["ring_build_failed"], false);
    for (label, points) in ring.points() {
        assert_eq!(
            u["points"][&label].as_u64(),
            Some(u64::from(points)),
            "{label}"
        );
    }
    for (label, share) in ring.shares() {
        assert_eq!(u["shares"][&label].as_f64(), Some(share), "{label}");
        assert_eq!(
            u["weight_shares"][&label].as_f64(),
            Some(1.0 / 3.0),
            "{label}"
        );
    }
    for key in ["foo", "bar"] {
        assert_eq!(u["choices"][key].as_str(), ring.lookup(key), "{key}");
    }
    // Key order is part of the format: scripts and diffs rely on it.
    let keys: Vec<&str> = u
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(&keys[..3], ["name", "source", "algorithm"]);
    assert_eq!(keys.last(), Some(&"choices"));
}

#[test]
fn compare_two_to_three_endpoints_reports_the_rings_moved_fraction() {
    let args = [
        "-f",
        ECHO,
        "-f",
        TWO,
        "--service",
        "default/echo",
        "--key",
        "foo",
        "--compare-with",
        ECHO,
        "--compare-with",
        THREE,
    ];
    let u = json(&args);
    let name = "echo.default.80.svc";
    let (two, three) = (
        translated(&[ECHO, TWO], name),
        translated(&[ECHO, THREE], name),
    );
    assert_eq!((two.targets.len(), three.targets.len()), (2, 3));
    let (before, after) = (ring_of(&two), ring_of(&three));
    let moved = before.moved_fraction(&after);
    assert_eq!(u["moved_fraction"].as_f64(), Some(moved));
    assert!((0.2..0.5).contains(&moved), "{moved}");
    // Consistent hashing moves keys only onto the new target.
    let new = after
        .shares()
        .into_iter()
        .find(|(l, _)| l == "10.244.0.13:1027");
    assert_eq!(new.map(|(_, s)| s), Some(moved));
    let other = &u["compared_with"];
    assert_eq!(other["points"].as_object().map(|p| p.len()), Some(3));
    assert_eq!(other["choices"]["foo"].as_str(), after.lookup("foo"));
    let table = ok(&args);
    assert!(
        table.contains(&format!("moved: {:.2}% of keys", moved * 100.0)),
        "{table}"
    );
}

#[test]
fn kong_config_check_vector() {
    let u = json(&[
        "--kong-config",
        CHECK,
        "--upstream",
        "check",
        "--key",
        "1.2.3.4",
        "--key",
        "x",
    ]);
    assert_eq!(u["choices"]["1.2.3.4"], "10.0.0.1:80");
    assert_eq!(u["choices"]["x"], "10.0.0.2:80");
    let points = serde_json::json!({"10.0.0.1:80": 192, "10.0.0.2:80": 192, "10.0.0.3:8080": 96});
    assert_eq!(u["points"], points);
    assert_eq!(u["weight_shares"]["10.0.0.3:8080"].as_f64(), Some(0.2));
    let table = ok(&["--kong-config", CHECK, "--upstream", "check", "--key", "x"]);
    assert!(
        table.contains("10.0.0.3:8080       50        20.00%      96"),
        "{table}"
    );

    // Scaling up: the ring's scale-up vector, and the moved fraction from the ring.
    let scaled = "tests/explain/kong/check-scaled.yaml";
    let keys = ["--key", "1.2.3.4", "--key", "x"];
    let u = json(
        &[
            &[
                "--kong-config",
                CHECK,
                "--upstream",
                "check",
                "--compare-with",
                scaled,
            ],
            &keys[..],
        ]
        .concat(),
    );
    let after = &u["compared_with"];
    assert_eq!(after["choices"]["1.2.3.4"], "10.0.0.4:80");
    assert_eq!(after["choices"]["x"], "10.0.0.2:80");
    let target = |t: &str, w: u32| RingTarget::new(t, w);
    let three = [
        target("10.0.0.1:80", 100),
        target("10.0.0.2:80", 100),
        target("10.0.0.3:8080", 50),
    ];
    let four = [&three[..], &[target("10.0.0.4:80", 100)]].concat();
    let (a, b) = (ring::build(&three, 10_000), ring::build(&four, 10_000));
    let moved = a.expect("builds").moved_fraction(&b.expect("builds"));
    assert_eq!(u["moved_fraction"].as_f64(), Some(moved));
}

#[test]
fn round_robin_is_said_plainly_and_keys_are_not_sticky() {
    let u = json(&["--kong-config", CHECK, "--upstream", "plain", "--key", "x"]);
    assert_eq!(
        (&u["algorithm"], &u["consistent_hashing"]),
        (&"round-robin".into(), &false.into())
    );
    assert_eq!(
        (&u["points"], &u["shares"], &u["wheel_size"]),
        (&Value::Null, &Value::Null, &Value::Null)
    );
    assert_eq!(u["choices"]["x"], Value::Null);
    // A target without weight gets Kong's 100.
    assert_eq!(
        u["weights"],
        serde_json::json!({"10.0.0.1:80": 30, "10.0.0.2:80": 100})
    );
    let table = ok(&["--kong-config", CHECK, "--upstream", "plain", "--key", "x"]);
    assert!(
        table.contains("Kong does not hash for this upstream"),
        "{table}"
    );
    assert!(table.contains("(not sticky)"), "{table}");

    // Kong 3.10 upstreams.lua:324-343: a `hash_on` in the config decides the algorithm
    // ("none": round-robin; anything else: consistent hashing), and only when present.
    let mut u = Upstream {
        name: "u".into(),
        algorithm: Some("consistent-hashing".into()),
        hash_on: Some("none".into()),
        targets: (1..=4)
            .map(|i| Target {
                target: format!("10.0.0.{i}:80"),
                weight: None,
            })
            .collect(),
        ..Upstream::default()
    };
    let keys: Vec<String> = (0..20).map(|i| format!("k{i}")).collect();
    let a = analyse(&u, &keys[..1]);
    assert_eq!(a.algorithm, "round-robin");
    assert!(matches!(a.ring, RingState::NotUsed) && a.choices == [("k0".into(), None)]);
    // Without hash_on the algorithm stays consistent-hashing with nothing to hash: Kong hashes
    // "" for every request (kong/runloop/balancer/init.lua:109-111, 332), so every key lands
    // on the target owning ""'s position.
    u.hash_on = None;
    let a = analyse(&u, &keys);
    assert_eq!(a.algorithm, "consistent-hashing");
    let RingState::Built(ring) = &a.ring else {
        panic!("Kong builds the wheel: {:?}", a.ring)
    };
    let owner = ring.lookup("").map(str::to_string);
    assert!(owner.is_some());
    assert!(
        a.choices.iter().all(|(_, t)| *t == owner),
        "{:?}",
        a.choices
    );
    let own_keys: std::collections::BTreeSet<_> = keys
        .iter()
        .map(|k| ring.lookup(k).map(str::to_string))
        .collect();
    assert!(
        own_keys.len() > 1,
        "the keys alone would spread: {own_keys:?}"
    );
    (u.algorithm, u.hash_on) = (None, Some("ip".into()));
    let a = analyse(&u, &["k".into()]);
    assert_eq!(a.algorithm, "consistent-hashing");
    let RingState::Built(ring) = &a.ring else {
        panic!("Kong builds the wheel: {:?}", a.ring)
    };
    assert_eq!(
        a.choices,
        [("k".into(), ring.lookup("k").map(str::to_string))]
    );
}

#[test]
fn a_wheel_kong_cannot_build_is_reported_with_the_minimum_working_slots() {
    let u = json(&["--kong-config", SIX, "--upstream", "six", "--key", "a"]);
    let six: Vec<RingTarget> = (1..=6)
        .map(|i| RingTarget::new(format!("10.0.0.{i}:80"), 100))
        .collect();
    assert!(ring::build(&six, 100).is_err());
    let min = ring::min_working_slots(&six, 100).expect("some slots work");
    assert!(ring::build(&six, min).is_ok());
    assert_eq!(u["ring_build_failed"], true);
    assert_eq!(u["min_working_slots"].as_u64(), Some(u64::from(min)));
    assert_eq!(
        (u["slots"].as_u64(), u["wheel_size"].as_u64()),
        (Some(100), Some(1000))
    );
    assert_eq!(
        (&u["points"], &u["choices"]["a"]),
        (&Value::Null, &Value::Null)
    );
    let table = ok(&["--kong-config", SIX, "--upstream", "six"]);
    for want in [
        "RING BUILD FAILS",
        "No peers are available",
        "6 targets need 960 points; the wheel has 1000 slots (slots=100)",
        &format!("Smallest working slots: {min}"),
    ] {
        assert!(table.contains(want), "{want:?} missing from:\n{table}");
    }
}

#[test]
fn routes_and_ports_select_their_upstream() {
    let u = json(&["-f", "examples/", "--route", "default/shop", "--rule", "0"]);
    assert_eq!(
        (&u["name"], &u["algorithm"]),
        (&"httproute.default.shop.0".into(), &"round-robin".into())
    );
    for port in ["80", "http"] {
        let u = json(&[
            "-f",
            "examples/",
            "--service",
            "default/echo",
            "--port",
            port,
        ]);
        assert_eq!(u["name"], "echo.default.80.svc", "--port {port}");
    }
}

/// GRPCRoute, TCPRoute, UDPRoute and TLSRoute upstreams: one per rule, selected with
/// --route-kind; the weights are the route's (checked against KIC's translator in
/// tests/kic-oracle/stream-routes and grpcroute-matches-and-hosts).
#[test]
fn other_route_kinds_select_their_upstream_per_rule() {
    const STREAM: &str = "tests/kic-oracle/stream-routes/in.yaml";
    const GRPC: &str = "tests/kic-oracle/grpcroute-matches-and-hosts/in.yaml";
    let cases: &[(&str, &str, &str, &str)] = &[
        (
            STREAM,
            "TCPRoute",
            "default/postgres",
            "tcproute.default.postgres.0",
        ),
        (
            STREAM,
            "UDPRoute",
            "default/resolver",
            "udproute.default.resolver.0",
        ),
        (
            STREAM,
            "TLSRoute",
            "default/plain",
            "tlsroute.default.plain.0",
        ),
        (
            GRPC,
            "GRPCRoute",
            "default/echo",
            "grpcroute.default.echo.0",
        ),
    ];
    for (file, kind, route, upstream) in cases {
        let u = json(&[
            "-f",
            file,
            "--route",
            route,
            "--route-kind",
            kind,
            "--rule",
            "0",
        ]);
        assert_eq!(u["name"], *upstream, "{kind} {route}");
    }
    // Without --rule, each rule with an upstream: the GRPCRoute's four rules all have one.
    let echo = [
        "-f",
        GRPC,
        "--route",
        "default/echo",
        "--route-kind",
        "GRPCRoute",
    ];
    let with = |more: &[&'static str]| [&echo[..], more].concat();
    let all = kingress(&echo);
    let text = String::from_utf8_lossy(&all.stdout);
    for i in 0..4 {
        assert!(
            text.contains(&format!("grpcroute.default.echo.{i} ")),
            "{text}"
        );
    }
    let weights: Vec<f64> = json(&with(&["--rule", "0"]))["weights"]
        .as_object()
        .into_iter()
        .flatten()
        .filter_map(|(_, w)| w.as_f64())
        .collect();
    assert_eq!(weights, [40.0, 40.0, 20.0]);
    for (args, message) in [
        (
            &[
                "-f",
                STREAM,
                "--route",
                "default/nope",
                "--route-kind",
                "UDPRoute",
            ][..],
            "UDPRoute default/nope not found",
        ),
        (
            &with(&["--rule", "9"])[..],
            "GRPCRoute default/echo has no rule 9: it has 4 rule(s)",
        ),
    ] {
        let err = fails(args);
        assert!(err.contains(message), "{args:?}: {err}");
    }
}

#[test]
fn errors_name_the_object_and_exit_non_zero() {
    let cases: &[(&[&str], &str)] = &[
        (
            &["-f", "examples/", "--service", "default/ghost"],
            "Service default/ghost not found in examples/",
        ),
        (
            &[
                "-f",
                "examples/",
                "--service",
                "default/echo",
                "--port",
                "81",
            ],
            "Service default/echo has no port 81; it has [80 (http)]",
        ),
        (
            &["-f", "examples/", "--service", "default/shop-v1"],
            "--route default/shop --rule 0",
        ),
        (
            &["-f", "examples/", "--route", "default/shop", "--rule", "3"],
            "HTTPRoute default/shop has no rule 3",
        ),
        (
            &["-f", "examples/", "--route", "default/nope"],
            "HTTPRoute default/nope not found",
        ),
        (
            &["--kong-config", CHECK, "--upstream", "nope"],
            "upstream \"nope\" not found in Kong config tests/explain/kong/check.yaml; upstreams there: check, plain",
        ),
        (
            &[
                "--kong-config",
                "tests/explain/missing.yaml",
                "--upstream",
                "u",
            ],
            "cannot read Kong config tests/explain/missing.yaml",
        ),
        (
            &[
                "--kong-config",
                CHECK,
                "--upstream",
                "check",
                "--compare-with",
                CHECK,
                "--compare-with",
                SIX,
            ],
            "exactly one Kong config",
        ),
        (&["-f", "tests/explain/missing/"], "--service"),
        (&["-f", "examples/"], "--service"),
        (&["--service", "default/echo"], "--filename"),
        (
            &["-f", "examples/", "--service", "a/b/c"],
            "expected NAMESPACE/NAME",
        ),
        (
            &[
                "-f",
                "examples/",
                "--service",
                "default/echo",
                "--rule",
                "0",
            ],
            "--route",
        ),
        (&["-f", "examples/", "--upstream", "x"], "--kong-config"),
        (
            &["--kong-config", CHECK, "--service", "default/echo"],
            "--service needs -f/--filename",
        ),
    ];
    for (args, want) in cases {
        let stderr = fails(args);
        assert!(
            stderr.contains(want),
            "{args:?}: {want:?} missing from: {stderr}"
        );
    }
    let stderr = fails(&["-f", "tests/explain/missing/", "--service", "default/echo"]);
    assert!(stderr.contains("cannot read manifests"), "{stderr}");
}

/// `explain --request` on `tests/explain/request`: a regex path beating a prefix and a
/// wildcard host, a wildcard host alone, header and method matches (and a method that misses
/// them), an HTTPRoute's split rule, and a request no route takes (Kong's 404). The route picked
/// is checked with Kong's engine in `explain::request`'s unit tests and the expressions and
/// priorities against Kong's Lua in `tests/kong_router.rs`; these goldens hold the report.
#[test]
fn request_cases_match_golden_output() {
    let update = support::golden::update_golden();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/explain/golden");
    let cases: [(&str, &str, &[&str]); 7] = [
        (
            "regex-beats-prefix",
            "GET https://shop.example.com/cart/42",
            &[],
        ),
        ("wildcard-host", "GET http://blog.example.com/", &[]),
        (
            "header-and-method",
            "GET http://api.example.com/v1",
            &["X-Version: V2", "x-user: alice"],
        ),
        (
            "method-misses",
            "POST http://api.example.com/orders",
            &["X-Version: v2"],
        ),
        ("httproute-split", "GET http://split.example.com/a", &[]),
        ("no-match", "GET http://nothing.example.org/", &[]),
        // KIC's expression routes and priorities, matched under Kong's `expressions` flavor.
        (
            "expressions-flavor",
            "GET https://shop.example.com/cart/42",
            &["--router-flavor=expressions"],
        ),
    ];
    let mut failures = Vec::new();
    for (name, request, headers) in cases {
        let mut args = vec!["-f", "tests/explain/request", "--request", request];
        for h in headers {
            match h.starts_with("--") {
                true => args.push(h),
                false => args.extend(["-H", h]),
            }
        }
        let path = dir.join(format!("request-{name}.txt"));
        check(&path, &ok(&args), update, &mut failures);
    }
    assert_matched(&failures);
    // JSON: the same pick, machine-readable.
    let doc: Value = serde_json::from_str(&ok(&[
        "-f",
        "tests/explain/request",
        "--request",
        "GET http://api.example.com/v1",
        "-H",
        "x-version: v2",
        "-o",
        "json",
    ]))
    .expect("JSON");
    assert_eq!(doc["matched"]["service"], "default.api-v2.80", "{doc}");
    assert!(
        doc["beaten"].as_array().is_some_and(|b| b.len() == 1),
        "{doc}"
    );
    // No x-user header: the fallback, the client's IP; without --client-ip nothing, so "".
    assert_eq!(doc["hashing"]["hash_on"], "ip", "{doc}");
    assert_eq!(doc["hashing"]["key"], "", "{doc}");
    // The request's key lands where `explain --service ... --key` says it does.
    let with_user = |user: &str| -> Value {
        let header = format!("x-user: {user}");
        let doc: Value = serde_json::from_str(&ok(&[
            "-f",
            "tests/explain/request",
            "--request",
            "GET http://api.example.com/",
            "-H",
            "x-version: v2",
            "-H",
            &header,
            "-o",
            "json",
        ]))
        .expect("JSON");
        doc["hashing"].clone()
    };
    for user in ["alice", "bob", "carol", "dave"] {
        let h = with_user(user);
        assert_eq!(h["hash_on"], "header");
        assert_eq!(h["key"], user);
        let by_service = json(&[
            "-f",
            "tests/explain/request",
            "--service",
            "default/api-v2",
            "--key",
            user,
        ]);
        assert_eq!(
            h["target"], by_service["choices"][user],
            "{user}: {by_service}"
        );
    }
    let none = kingress(&["-f", "tests/explain/request", "--request", "GET nothing"]);
    assert!(!none.status.success());
    assert!(String::from_utf8_lossy(&none.stderr).contains("--request"));
}

/// `--request` with `--kong-config`: the same pick from the Kong config `translate` writes as
/// from the manifests (and routes listed at the top level, naming their service, as deck
/// writes them).
#[test]
fn request_from_a_kong_config_picks_as_from_manifests() {
    let out = Command::new(env!("CARGO_BIN_EXE_kingress"))
        .args(["translate", "-f", "tests/explain/request", "-o", "json"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run kingress translate");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut config: Value = serde_json::from_slice(&out.stdout).expect("JSON config");
    let dir = std::env::temp_dir().join(format!("kingress-explain-{}", std::process::id()));
    fs::create_dir_all(&dir).expect("temp dir");
    let nested = dir.join("nested.json");
    fs::write(&nested, config.to_string()).expect("write config");
    // The same routes at the top level, each naming its service.
    let mut top = Vec::new();
    for service in config["services"].as_array_mut().expect("services") {
        let name = service["name"].clone();
        for mut route in service["routes"]
            .take()
            .as_array()
            .cloned()
            .unwrap_or_default()
        {
            route["service"] = serde_json::json!({ "name": name });
            top.push(route);
        }
    }
    config["routes"] = Value::Array(top);
    let flat = dir.join("flat.json");
    fs::write(&flat, config.to_string()).expect("write config");
    for request in [
        "GET https://shop.example.com/cart/42",
        "GET http://blog.example.com/",
        "GET http://split.example.com/a",
        "GET http://nothing.example.org/",
    ] {
        let pick = |args: &[&str]| -> Value {
            let mut all = args.to_vec();
            all.extend(["--request", request, "-o", "json"]);
            let doc: Value = serde_json::from_str(&ok(&all)).expect("JSON");
            serde_json::json!([
                doc["matched"]["id"],
                doc["matched"]["service"],
                doc["upstream"]
            ])
        };
        let from_manifests = pick(&["-f", "tests/explain/request"]);
        for file in [&nested, &flat] {
            let path = file.to_string_lossy();
            assert_eq!(
                pick(&["--kong-config", &path]),
                from_manifests,
                "{request} {path}"
            );
        }
    }
    let _ = fs::remove_dir_all(&dir);
}
