//! Writes a synthetic cluster (`kingress::synthetic`) as multi-document YAML, for
//! `kingress translate -f FILE` or `kubectl apply -f FILE`:
//!
//! ```sh
//! cargo run --release --example bench-cluster -- --services 10000 --endpoints 10 --seed 1 --out c10k.yaml
//! ```
//!
//! With `--translate K` it writes nothing: it builds the snapshot, translates and serialises
//! it K times and prints the times and the process's peak RSS (for `perf record` or
//! `valgrind --tool=callgrind`, which are awkward on criterion's binaries).

use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use kingress::synthetic::{self, Spec};

/// Write a deterministic synthetic cluster as YAML.
#[derive(Parser, Debug)]
struct Args {
    /// Services (each with an Ingress or an HTTPRoute).
    #[arg(long, default_value_t = 1000)]
    services: usize,
    /// Ready endpoints per Service.
    #[arg(long, default_value_t = 10)]
    endpoints: usize,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Output file; `-` for stdout.
    #[arg(long, default_value = "-")]
    out: PathBuf,
    /// Instead of writing YAML, translate the cluster this many times and print timings.
    #[arg(long)]
    translate: Option<usize>,
}

/// `VmHWM` (peak RSS) and `VmRSS` of this process, in KiB.
fn rss_kib() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0)
    };
    (field("VmHWM:"), field("VmRSS:"))
}

fn profile(spec: &Spec, loops: usize) {
    use kingress::translate::{self, Options};
    let started = std::time::Instant::now();
    let snapshot = synthetic::snapshot(spec);
    let (_, rss) = rss_kib();
    eprintln!(
        "snapshot of {} objects in {:.0} ms; RSS {} MiB",
        snapshot.len(),
        started.elapsed().as_secs_f64() * 1e3,
        rss / 1024
    );
    let options = Options::default();
    let (mut translating, mut serialising) = (0.0, 0.0);
    for _ in 0..loops {
        let t0 = std::time::Instant::now();
        let t = translate::translate(&snapshot, &options);
        let t1 = std::time::Instant::now();
        let text = serde_json::to_string(&t.config).unwrap_or_default();
        let hash = kingress::kong::admin_api::config_hash(&text);
        std::hint::black_box(hash);
        translating += (t1 - t0).as_secs_f64();
        serialising += t1.elapsed().as_secs_f64();
    }
    let loops = loops.max(1) as f64;
    let (hwm, rss) = rss_kib();
    eprintln!(
        "translate {:.1} ms, serialise+md5 {:.1} ms (mean of {loops}); peak RSS {} MiB, RSS {} MiB",
        translating * 1e3 / loops,
        serialising * 1e3 / loops,
        hwm / 1024,
        rss / 1024
    );
}

fn main() -> ExitCode {
    let args = Args::parse();
    let spec = Spec::new(args.services, args.endpoints, args.seed);
    if let Some(loops) = args.translate {
        profile(&spec, loops);
        return ExitCode::SUCCESS;
    }
    let objects = synthetic::objects(&spec);
    let result = if args.out.as_os_str() == "-" {
        let mut out = BufWriter::new(std::io::stdout().lock());
        synthetic::write_yaml(&spec, &objects, &mut out)
    } else {
        std::fs::File::create(&args.out).and_then(|f| {
            let mut out = BufWriter::with_capacity(1 << 20, f);
            synthetic::write_yaml(&spec, &objects, &mut out)?;
            out.flush()
        })
    };
    if let Err(e) = result {
        eprintln!("error: writing {}: {e}", args.out.display());
        return ExitCode::FAILURE;
    }
    let counts: Vec<String> = synthetic::summary(&objects)
        .into_iter()
        .map(|(kind, n)| format!("{n} {kind}"))
        .collect();
    eprintln!("{} Namespaces, {}", spec.namespaces(), counts.join(", "));
    ExitCode::SUCCESS
}
