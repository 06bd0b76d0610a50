//! Translation benchmarks on synthetic clusters (`kingress::synthetic`), 10 endpoints per
//! Service: full translation at 1k/10k/50k Services, JSON serialisation of the config, and
//! an incremental update (one EndpointSlice changes in a 10k cluster: time to the new config
//! text and its hash, incrementally and by full translation, and how many bytes change).
//!
//! ```sh
//! cargo bench --bench translate                      # every size (docs/PERFORMANCE.md)
//! KINGRESS_BENCH_SIZES=10000 cargo bench --bench translate
//! cargo test --benches                               # CI: each benchmark once, 1k only
//! ```

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use kingress::kong::admin_api::config_hash;
use kingress::snapshot::{Object, Snapshot};
use kingress::synthetic::{self, Spec};
use kingress::translate::incremental::{Changes, Incremental};
use kingress::translate::{self, Options};

const ENDPOINTS: usize = 10;
const SEED: u64 = 1;

/// `cargo test --benches` runs benchmarks once (no `--bench` argument): keep that to the
/// smallest size so CI stays fast. `KINGRESS_BENCH_QUICK=1` does the same under `cargo bench`.
fn quick() -> bool {
    std::env::var("KINGRESS_BENCH_QUICK").is_ok_and(|v| v == "1")
        || !std::env::args().any(|a| a == "--bench")
}

fn sizes() -> Vec<usize> {
    if let Ok(list) = std::env::var("KINGRESS_BENCH_SIZES") {
        return list
            .split(',')
            .filter_map(|s| s.trim().parse().ok())
            .collect();
    }
    if quick() {
        vec![1_000]
    } else {
        vec![1_000, 10_000, 50_000]
    }
}

fn options() -> Options {
    Options::default()
}

fn render(config: &kingress::kong::config::KongConfig) -> (String, String) {
    let text = serde_json::to_string(config).expect("config serialises");
    let hash = config_hash(&text);
    (text, hash)
}

fn full(c: &mut Criterion) {
    let mut group = c.benchmark_group("translate");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(10));
    for n in sizes() {
        let spec = Spec::new(n, ENDPOINTS, SEED);
        let snapshot = synthetic::snapshot(&spec);
        let t = translate::translate(&snapshot, &options());
        let (text, _) = render(&t.config);
        let targets: usize = t.config.upstreams.iter().map(|u| u.targets.len()).sum();
        eprintln!(
            "translate/{n}: {} objects → {} services, {} upstreams, {targets} targets, {} plugins, {} problems; {} bytes of JSON",
            snapshot.len(),
            t.config.services.len(),
            t.config.upstreams.len(),
            t.config.plugins.len(),
            t.problems.len(),
            text.len()
        );
        drop(t);
        group.throughput(Throughput::Elements(n as u64));
        group.bench_with_input(BenchmarkId::new("full", n), &snapshot, |b, s| {
            b.iter(|| translate::translate(black_box(s), &options()))
        });
        // Time to the config: the previous Translation is dropped outside the timing (the
        // controller drops it after handing the config to the pushers).
        group.bench_with_input(BenchmarkId::new("to-config", n), &snapshot, |b, s| {
            b.iter_with_large_drop(|| translate::translate(black_box(s), &options()))
        });
    }
    group.finish();
}

fn serialise(c: &mut Criterion) {
    let mut group = c.benchmark_group("serialise");
    group.sample_size(10);
    for n in sizes() {
        let spec = Spec::new(n, ENDPOINTS, SEED);
        let config = translate::translate(&synthetic::snapshot(&spec), &options()).config;
        let bytes = render(&config).0.len();
        group.throughput(Throughput::Bytes(bytes as u64));
        group.bench_with_input(BenchmarkId::new("json", n), &config, |b, config| {
            b.iter(|| serde_json::to_string(black_box(config)).expect("serialises"))
        });
        group.bench_with_input(BenchmarkId::new("json+md5", n), &config, |b, config| {
            b.iter(|| render(black_box(config)))
        });
        // As the controller renders: into a buffer sized from the previous config.
        group.bench_with_input(
            BenchmarkId::new("json-presized", n),
            &config,
            |b, config| {
                b.iter(|| {
                    let mut buffer = Vec::with_capacity(bytes + bytes / 16);
                    serde_json::to_writer(&mut buffer, black_box(config)).expect("serialises");
                    String::from_utf8(buffer).expect("UTF-8")
                })
            },
        );
    }
    group.finish();
}

/// Bytes that differ between two texts: the middle left once the common prefix and suffix
/// are cut, in the longer one.
fn changed_bytes(a: &str, b: &str) -> usize {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let prefix = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    let suffix = a[prefix..]
        .iter()
        .rev()
        .zip(b[prefix..].iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    (a.len() - prefix - suffix).max(b.len() - prefix - suffix)
}

fn incremental(c: &mut Criterion) {
    let n = if quick() { 1_000 } else { 10_000 };
    let spec = Spec::new(n, ENDPOINTS, SEED);
    let mut snapshot: Snapshot = synthetic::snapshot(&spec);
    let service = n / 2;
    // The Service scales 10 → 9 → 10 …: one EndpointSlice rewritten each time.
    let slices = |endpoints: usize| -> Vec<Object> {
        synthetic::endpoint_slices(&spec, service, endpoints)
            .into_iter()
            .map(|s| Object::EndpointSlice(Box::new(s)))
            .collect()
    };
    let (before, after) = (slices(ENDPOINTS), slices(ENDPOINTS - 1));
    let old = render(&translate::translate(&snapshot, &options()).config).0;
    for o in after.clone() {
        snapshot.apply(o);
    }
    let new = render(&translate::translate(&snapshot, &options()).config).0;
    let changed = changed_bytes(&old, &new);
    eprintln!(
        "incremental/{n}: one EndpointSlice 10 → 9 endpoints changes {changed} of {} bytes of JSON ({:.4}%)",
        new.len(),
        100.0 * changed as f64 / new.len() as f64
    );

    let mut group = c.benchmark_group("incremental");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(10));
    // What the controller does: the store records the change, the incremental translator
    // retranslates that namespace, splices the text, and the text is hashed.
    let mut inc = Incremental::new();
    inc.update(&snapshot, &options(), &Changes::everything())
        .expect("first update");
    group.bench_function(BenchmarkId::new("endpointslice", n), |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for i in 0..iters {
                let change = if i % 2 == 0 { &before } else { &after };
                let started = Instant::now();
                let mut changes = Changes::default();
                for o in change.clone() {
                    changes.record(o.kind(), o.namespace());
                    snapshot.apply(o);
                }
                let out = inc.update(&snapshot, &options(), &changes).expect("update");
                black_box(out.config.id());
                total += started.elapsed();
            }
            total
        })
    });
    // The same change through a full translation, for comparison.
    group.bench_function(BenchmarkId::new("endpointslice-full", n), |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for i in 0..iters {
                let change = if i % 2 == 0 { &before } else { &after };
                let started = Instant::now();
                for o in change.clone() {
                    snapshot.apply(o);
                }
                let t = translate::translate(&snapshot, &options());
                black_box(render(&t.config));
                total += started.elapsed();
            }
            total
        })
    });
    group.finish();
}

criterion_group!(benches, full, serialise, incremental);
criterion_main!(benches);
