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

fn main() -> std::process::ExitCode {
    kingress::cli::main()
}
