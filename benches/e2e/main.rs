//! End to end: kingress (`controller::start`) against a real kube-apiserver (tests/support)
//! and a recording Kong admin API, on a synthetic cluster of 1k then 10k Services (10
//! endpoints each). For each size: the time from start to the first config, then the delay
//! from an object write (EndpointSlice scale, KongUpstreamPolicy edit) to (a) kingress's new
//! config and (b) the admin API holding it, p50/p99 over 200 changes; then the final config
//! is validated by `kong_admin_double::validate`, and the peak RSS of a `kingress run`
//! process on the same cluster is read from /proc.
//!
//! ```sh
//! cargo bench --bench e2e                    # 1k and 10k, 200 changes each (~10 min)
//! KINGRESS_E2E_SIZES=1000 KINGRESS_E2E_CHANGES=50 cargo bench --bench e2e
//! KINGRESS_BENCH_QUICK=1 cargo bench --bench e2e   # 100 Services, 20 changes
//! ```
//!
//! `cargo test --benches` runs the quick mode too (no `--bench` argument).

#[path = "../../tests/support/mod.rs"]
mod support;

mod load;
mod sink;

use std::time::{Duration, Instant};

use kingress::controller::{self, ControllerOptions};
use kingress::kong::admin_api::AdminApiOptions;
use kingress::synthetic::{self, SERVICES_PER_NAMESPACE, Spec};
use sink::Sink;
use support::controlplane;

const ENDPOINTS: usize = 10;
const SEED: u64 = 1;
const WAIT: Duration = Duration::from_secs(120);
/// Pause between timed changes, so status writes a change causes settle first.
const GAP: Duration = Duration::from_millis(100);

fn quick() -> bool {
    std::env::var("KINGRESS_BENCH_QUICK").is_ok_and(|v| v == "1")
        || !std::env::args().any(|a| a == "--bench")
}

fn env_list(name: &str) -> Option<Vec<usize>> {
    let v = std::env::var(name).ok()?;
    Some(v.split(',').filter_map(|s| s.trim().parse().ok()).collect())
}

fn admin(url: String) -> AdminApiOptions {
    AdminApiOptions {
        url,
        token: None,
        ca_pem: None,
        insecure_skip_verify: false,
        timeout: Duration::from_secs(60),
        resolve: vec![],
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// p50 and p99 (nearest rank) in milliseconds.
fn quantiles(mut v: Vec<Duration>) -> (f64, f64, f64) {
    v.sort();
    let rank = |q: f64| v[((q * v.len() as f64).ceil() as usize).clamp(1, v.len()) - 1];
    (ms(rank(0.5)), ms(rank(0.99)), ms(v[v.len() - 1]))
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Change {
    Slice { service: usize, endpoints: usize },
    Policy { namespace: usize, variant: u32 },
}

/// Makes the timed changes: three EndpointSlice scalings (10 → 9 → 10 … endpoints) for each
/// edit of a KongUpstreamPolicy some Service of its namespace names. Remembers what it
/// changed, so every change changes something, across runs on one apiserver.
#[derive(Default)]
struct Changer {
    count: usize,
    /// Services now scaled to 9 endpoints.
    scaled: std::collections::BTreeSet<usize>,
}

impl Changer {
    fn next(&mut self, spec: &Spec) -> Change {
        let c = self.count;
        self.count += 1;
        if c % 4 == 3 {
            let hashed: Vec<usize> = (0..spec.namespaces())
                .filter(|ns| {
                    let first = ns * SERVICES_PER_NAMESPACE;
                    (first..(first + SERVICES_PER_NAMESPACE).min(spec.services))
                        .any(|i| spec.traits(i).policy == Some(0))
                })
                .collect();
            if !hashed.is_empty() {
                return Change::Policy {
                    namespace: hashed[(c * 31) % hashed.len()],
                    variant: c as u32 + 1,
                };
            }
        }
        let service = (c * 7919 + 13) % spec.services;
        let endpoints = if self.scaled.remove(&service) {
            ENDPOINTS
        } else {
            self.scaled.insert(service);
            ENDPOINTS - 1
        };
        Change::Slice { service, endpoints }
    }
}

async fn write(client: &kube::Client, spec: &Spec, change: Change) {
    match change {
        Change::Slice { service, endpoints } => {
            for slice in synthetic::endpoint_slices(spec, service, endpoints) {
                load::apply(client, slice).await;
            }
        }
        Change::Policy { namespace, variant } => {
            load::apply(
                client,
                synthetic::upstream_policy(spec, namespace, 0, variant),
            )
            .await;
        }
    }
}

/// `VmHWM` and `VmRSS` of a process, in MiB.
fn rss_mib(pid: u32) -> (f64, f64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| -> f64 {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
            .unwrap_or(0.0)
            / 1024.0
    };
    (field("VmHWM:"), field("VmRSS:"))
}

struct Row {
    services: usize,
    objects: usize,
    first_config: Duration,
    config_bytes: usize,
    desired: Vec<(Change, Duration)>,
    /// Until the admin API had read the whole request body.
    delivered: Vec<(Change, Duration)>,
    /// Until the admin API held the config (parsed it and computed its md5).
    held: Vec<(Change, Duration)>,
    /// Peak and current RSS of `kingress run` (its own allocator settings, see `src/main.rs`).
    rss: (f64, f64),
}

async fn run_size(
    client: &kube::Client,
    spec: &Spec,
    changer: &mut Changer,
    changes_n: usize,
    objects: usize,
) -> Row {
    let sink = Sink::start().await;
    let options = ControllerOptions {
        admin_apis: vec![admin(sink.url())],
        ..ControllerOptions::default()
    };
    let started = Instant::now();
    let running = controller::start(client.clone(), options)
        .await
        .expect("start the controller");
    assert!(
        sink.wait(|h| !h.starts_with("0000"), WAIT).await,
        "no config within {WAIT:?}"
    );
    let first_config = started.elapsed();
    // Settle: status writes of the first rounds re-trigger translations.
    let mut state = running.state.clone();
    loop {
        state.borrow_and_update();
        if tokio::time::timeout(Duration::from_secs(3), state.changed())
            .await
            .is_err()
        {
            break;
        }
    }
    let config_bytes = sink.text().len();
    eprintln!(
        "e2e/{}: first config after {:.2}s ({config_bytes} bytes); timing {changes_n} changes",
        spec.services,
        first_config.as_secs_f64()
    );
    let (mut desired, mut delivered, mut held) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..changes_n {
        let change = changer.next(spec);
        let before = state.borrow_and_update().desired_hash.clone();
        let t0 = Instant::now();
        write(client, spec, change).await;
        let new = tokio::time::timeout(
            WAIT,
            state.wait_for(|s| s.desired_hash.is_some() && s.desired_hash != before),
        )
        .await
        .expect("kingress translated the change")
        .expect("state channel")
        .desired_hash
        .clone()
        .unwrap_or_default();
        desired.push((change, t0.elapsed()));
        assert!(
            sink.wait(|h| h == new, WAIT).await,
            "the admin API never got {new}"
        );
        held.push((change, t0.elapsed()));
        delivered.push((change, sink.received().saturating_duration_since(t0)));
        tokio::time::sleep(GAP).await;
    }
    drop(running);

    let text = sink.text();
    let value: serde_json::Value = serde_json::from_str(&text).expect("config is JSON");
    let valid = kong_admin_double::validate(&value)
        .unwrap_or_else(|e| panic!("the admin API double rejects the final config: {e:?}"));
    eprintln!(
        "e2e/{}: final config valid for the admin API double ({} services, {} targets)",
        spec.services,
        valid.services().len(),
        valid.targets().len()
    );
    drop((valid, value, text));
    let rss = process_rss(spec, changer).await;
    Row {
        services: spec.services,
        objects,
        first_config,
        config_bytes,
        desired,
        delivered,
        held,
        rss,
    }
}

/// Peak and current RSS of `kingress run` on the loaded cluster, after its first push and
/// ten timed changes.
async fn process_rss(spec: &Spec, changer: &mut Changer) -> (f64, f64) {
    let cp = controlplane::shared();
    let client = cp.client().await;
    let sink = Sink::start().await;
    let log = std::fs::File::create(cp.dir.join(format!("kingress-{}.log", spec.services)))
        .expect("log file");
    // `KINGRESS_E2E_BIN` measures another build (e.g. before a change) on the same cluster.
    let binary =
        std::env::var("KINGRESS_E2E_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_kingress").into());
    let mut command = std::process::Command::new(binary);
    command
        .args([
            "run",
            "--kong-admin-url",
            &sink.url(),
            "--leader-elect=false",
            "--health-probe-bind-address",
            "127.0.0.1:0",
            "--metrics-bind-address",
            "127.0.0.1:0",
        ])
        .env("KUBECONFIG", &cp.kubeconfig)
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .stderr(log);
    let mut child = command.spawn().expect("start kingress run");
    assert!(
        sink.wait(|h| !h.starts_with("0000"), WAIT).await,
        "kingress run pushed nothing"
    );
    for _ in 0..10 {
        let before = sink.id();
        write(&client, spec, changer.next(spec)).await;
        assert!(
            sink.wait(|h| h != before, WAIT).await,
            "kingress run did not push a change"
        );
    }
    let rss = rss_mib(child.id());
    let _ = child.kill();
    let _ = child.wait();
    rss
}

fn report(rows: &[Row]) {
    println!(
        "\n| Services | objects | first config | config bytes | write → new config p50 / p99 / max | write → body at the admin API p50 / p99 / max | write → admin API holds it p50 / p99 / max | changes | `kingress run` peak / end RSS |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    let cell = |v: Vec<Duration>| {
        let (p50, p99, max) = quantiles(v);
        format!("{p50:.0} / {p99:.0} / {max:.0} ms")
    };
    for r in rows {
        let all = |v: &[(Change, Duration)]| v.iter().map(|x| x.1).collect::<Vec<_>>();
        println!(
            "| {} | {} | {:.2} s | {} | {} | {} | {} | {} | {:.0} / {:.0} MiB |",
            r.services,
            r.objects,
            r.first_config.as_secs_f64(),
            r.config_bytes,
            cell(all(&r.desired)),
            cell(all(&r.delivered)),
            cell(all(&r.held)),
            r.held.len(),
            r.rss.0,
            r.rss.1
        );
        for (name, slices) in [("EndpointSlice", true), ("KongUpstreamPolicy", false)] {
            let of = |v: &[(Change, Duration)]| -> Vec<Duration> {
                v.iter()
                    .filter(|(c, _)| matches!(c, Change::Slice { .. }) == slices)
                    .map(|x| x.1)
                    .collect()
            };
            let n = of(&r.held).len();
            if n == 0 {
                continue;
            }
            println!(
                "|   {name} writes | | | | {} | {} | {} | {n} | |",
                cell(of(&r.desired)),
                cell(of(&r.delivered)),
                cell(of(&r.held)),
            );
        }
    }
}

fn main() {
    let (sizes, changes_n) = if quick() {
        (vec![100], 20)
    } else {
        (vec![1_000, 10_000], 200)
    };
    let sizes = env_list("KINGRESS_E2E_SIZES").unwrap_or(sizes);
    let changes_n = env_list("KINGRESS_E2E_CHANGES")
        .and_then(|v| v.first().copied())
        .unwrap_or(changes_n);
    let cp = controlplane::shared();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let rows = runtime.block_on(async {
        let client = cp.client().await;
        let mut rows = Vec::new();
        let (mut loaded, mut objects) = (0, 0);
        let mut changer = Changer::default();
        for n in sizes {
            let spec = Spec::new(n, ENDPOINTS, SEED);
            objects += load::load(&client, &spec, loaded).await;
            loaded = n;
            rows.push(run_size(&client, &spec, &mut changer, changes_n, objects).await);
        }
        rows
    });
    report(&rows);
}
