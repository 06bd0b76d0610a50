// jemalloc, not glibc's malloc: the controller holds ~10^6 small objects (keys, addresses,
// config fragments) and frees tens of MiB after each full translation. With one arena and
// freed pages returned at once, its RSS at 10k Services is ~92 MiB against ~110 with glibc
// (docs/PERFORMANCE.md, Memory).
#[cfg(all(target_os = "linux", not(target_env = "musl")))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// jemalloc's options, read at its start-up (`_RJEM_MALLOC_CONF` in the environment
/// overrides them): one arena (two cores; per-thread caches remain) and dirty pages returned
/// to the kernel as they are freed rather than after a 10 s decay.
#[cfg(all(target_os = "linux", not(target_env = "musl")))]
#[allow(non_upper_case_globals)]
#[unsafe(export_name = "_rjem_malloc_conf")]
pub static malloc_conf: &u8 = &b"narenas:1,dirty_decay_ms:0,muzzy_decay_ms:0\0"[0];

/// The offline commands (`translate`, `explain`) run for seconds and free as they go: handing
/// each freed page back at once, as the controller does, cost `translate` of 10k Services more
/// system time (1.2 s) than its parse. They keep freed pages for a second instead, with the
/// same peak RSS (docs/PERFORMANCE.md, `kingress translate`).
#[cfg(all(target_os = "linux", not(target_env = "musl")))]
fn batch_decay() {
    // One arena (`narenas:1` above). A failure only costs speed, so it is not reported.
    // SAFETY: the name is NUL-terminated and this option's type is ssize_t.
    let _ = unsafe { tikv_jemalloc_ctl::raw::write(b"arena.0.dirty_decay_ms\0", 1000isize) };
}

#[cfg(not(all(target_os = "linux", not(target_env = "musl"))))]
fn batch_decay() {}

fn main() -> std::process::ExitCode {
    if std::env::args()
        .nth(1)
        .is_some_and(|c| c == "translate" || c == "explain")
    {
        batch_decay();
    }
    kingress::cli::main()
}
