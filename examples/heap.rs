//! Live heap of the controller's long-lived state at a synthetic cluster's size, part by
//! part, counted by a global allocator (what docs/PERFORMANCE.md's Memory table shows):
//!
//! ```sh
//! cargo run --release --example heap -- --services 10000
//! ```
//!
//! Objects are trimmed and compacted as the watchers store them, applied kind by kind, then
//! translated once by the incremental translator the controller keeps.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};

use clap::Parser;
use kingress::kinds::trim::trim;
use kingress::snapshot::{Kind, Snapshot};
use kingress::synthetic::{self, Spec};
use kingress::translate::Options;
use kingress::translate::incremental::{Changes, Incremental};

struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);
/// Live allocations: each also costs the allocator's rounding and bookkeeping.
static COUNT: AtomicIsize = AtomicIsize::new(0);
static PEAK: AtomicIsize = AtomicIsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        COUNT.fetch_add(1, Ordering::Relaxed);
        let now =
            LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed) + layout.size() as isize;
        PEAK.fetch_max(now, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        COUNT.fetch_sub(1, Ordering::Relaxed);
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let delta = new_size as isize - layout.size() as isize;
        let now = LIVE.fetch_add(delta, Ordering::Relaxed) + delta;
        PEAK.fetch_max(now, Ordering::Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn live() -> isize {
    LIVE.load(Ordering::Relaxed)
}

fn count() -> isize {
    COUNT.load(Ordering::Relaxed)
}

fn mib(bytes: isize) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

#[derive(Parser, Debug)]
struct Args {
    #[arg(long, default_value_t = 10000)]
    services: usize,
    #[arg(long, default_value_t = 10)]
    endpoints: usize,
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

fn main() {
    let args = Args::parse();
    let spec = Spec::new(args.services, args.endpoints, args.seed);
    println!("| part | live heap | allocations |\n|---|---|---|");
    let mut snapshot = Snapshot::new();
    let (start, start_n) = (live(), count());
    for kind in Kind::ALL {
        let (before, before_n) = (live(), count());
        let mut n = 0;
        synthetic::for_each_object(&spec, |mut o| {
            if o.kind() == *kind {
                trim(&mut o);
                snapshot.apply(o.clone());
                n += 1;
            }
        });
        if n > 0 {
            println!(
                "| snapshot: {} ({n}) | {:.1} MiB | {} |",
                kind.as_str(),
                mib(live() - before),
                count() - before_n
            );
        }
    }
    let snapshot_bytes = live() - start;
    println!(
        "| snapshot, total | {:.1} MiB | {} |",
        mib(snapshot_bytes),
        count() - start_n
    );
    let (before, before_n) = (live(), count());
    PEAK.store(before, Ordering::Relaxed);
    let mut incremental = Incremental::new();
    let output = incremental
        .update(&snapshot, &Options::default(), &Changes::everything())
        .expect("translates");
    let peak = PEAK.load(Ordering::Relaxed) - before;
    let with_output = live() - before;
    let config_len = output.config.len();
    drop(output);
    println!(
        "| incremental translator: fragments ({:.1} MiB of config) and facts | {:.1} MiB | {} |",
        config_len as f64 / (1024.0 * 1024.0),
        mib(live() - before),
        count() - before_n
    );
    println!("| total | {:.1} MiB | {} |", mib(live()), count());
    eprintln!(
        "peak during the full translation: {:.1} MiB above the snapshot ({:.1} MiB with its output held)",
        mib(peak),
        mib(with_output)
    );
}
