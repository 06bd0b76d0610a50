//! Child processes that never outlive the test process, and the scratch directory they use.
//!
//! Children are spawned with `PR_SET_PDEATHSIG = SIGKILL`, so the kernel kills them when the
//! thread that spawned them ends — which is why they must be spawned from a thread that lives as
//! long as the process (see `controlplane::shared`). On a normal exit (also when tests fail) an
//! `atexit` hook kills and reaps them and removes the scratch directory; a directory left behind
//! by a killed test process is removed by the next run.

use std::fs::{self, File};
use std::io::{self, Read, Seek, SeekFrom};
use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::{Mutex, Once};

/// Children to kill at exit (pids; 0 = empty slot).
static CHILDREN: [AtomicI32; 8] = [const { AtomicI32::new(0) }; 8];
/// Scratch directory to remove at exit.
static SCRATCH: Mutex<Option<PathBuf>> = Mutex::new(None);
/// Set once the process is exiting, so the supervisor does not report the kills as crashes.
pub static EXITING: AtomicBool = AtomicBool::new(false);
static REGISTER_HOOK: Once = Once::new();

/// Set `KINGRESS_KEEP_CONTROLPLANE=1` to keep the scratch directory (logs, etcd data,
/// kubeconfig) after the test process exits.
pub const KEEP_ENV: &str = "KINGRESS_KEEP_CONTROLPLANE";

extern "C" fn on_exit() {
    EXITING.store(true, Ordering::SeqCst);
    // Reverse order: the apiserver before etcd.
    for slot in CHILDREN.iter().rev() {
        let pid = slot.swap(0, Ordering::SeqCst);
        if pid > 0 {
            // SAFETY: plain syscalls on a pid that this process spawned and has not reaped
            // (if it was reaped already, they fail harmlessly with ESRCH/ECHILD).
            unsafe {
                libc::kill(pid, libc::SIGKILL);
                libc::waitpid(pid, std::ptr::null_mut(), 0);
            }
        }
    }
    let keep = std::env::var_os(KEEP_ENV).is_some_and(|v| v == "1");
    if let Ok(mut scratch) = SCRATCH.lock()
        && let Some(dir) = scratch.take()
    {
        if keep {
            eprintln!("kingress test control plane: kept {}", dir.display());
        } else {
            let _ = fs::remove_dir_all(dir);
        }
    }
}

fn register_exit_hook() {
    REGISTER_HOOK.call_once(|| {
        // SAFETY: registers a plain `extern "C" fn` that runs when the process calls exit().
        let rc = unsafe { libc::atexit(on_exit) };
        if rc != 0 {
            eprintln!("kingress test control plane: atexit failed; relying on PDEATHSIG only");
        }
    });
}

/// Creates `<tmp>/kingress-controlplane/<pid>` (removed at exit), after removing the
/// directories of earlier test processes that no longer run.
pub fn scratch_dir() -> Result<PathBuf, String> {
    let base = std::env::temp_dir().join("kingress-controlplane");
    fs::create_dir_all(&base).map_err(|e| format!("creating {}: {e}", base.display()))?;
    if let Ok(entries) = fs::read_dir(&base) {
        for entry in entries.flatten() {
            let name = entry.file_name();
            let stale = name
                .to_str()
                .and_then(|n| n.parse::<u32>().ok())
                .is_some_and(|pid| !Path::new(&format!("/proc/{pid}")).exists());
            if stale {
                let _ = fs::remove_dir_all(entry.path());
            }
        }
    }
    let dir = base.join(std::process::id().to_string());
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    register_exit_hook();
    if let Ok(mut scratch) = SCRATCH.lock() {
        *scratch = Some(dir.clone());
    }
    Ok(dir)
}

/// Spawns `cmd` with stdout and stderr appended to `log`, killed with SIGKILL when the calling
/// thread ends, and killed and reaped when the process exits.
pub fn spawn_tied(mut cmd: Command, log: &Path) -> Result<Child, String> {
    let program = cmd.get_program().to_string_lossy().into_owned();
    let out = File::create(log).map_err(|e| format!("creating {}: {e}", log.display()))?;
    let err = out
        .try_clone()
        .map_err(|e| format!("cloning {}: {e}", log.display()))?;
    cmd.stdin(Stdio::null()).stdout(out).stderr(err);
    let parent = std::process::id();
    // SAFETY: the closure runs between fork and exec and only makes async-signal-safe syscalls;
    // it does not allocate.
    unsafe {
        cmd.pre_exec(move || {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong) != 0 {
                return Err(io::Error::last_os_error());
            }
            // The parent may have died between fork and prctl.
            if libc::getppid() as u32 != parent {
                return Err(io::Error::from_raw_os_error(libc::ESRCH));
            }
            Ok(())
        });
    }
    register_exit_hook();
    let child = cmd
        .spawn()
        .map_err(|e| format!("starting {program}: {e}"))?;
    let pid = i32::try_from(child.id()).map_err(|e| format!("pid of {program}: {e}"))?;
    let slot = CHILDREN.iter().find(|slot| {
        slot.compare_exchange(0, pid, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
    });
    if slot.is_none() {
        return Err("too many control plane processes".to_string());
    }
    Ok(child)
}

/// The last `lines` lines of a log file, for error messages.
pub fn log_tail(path: &Path, lines: usize) -> String {
    const MAX_BYTES: u64 = 64 * 1024;
    let mut text = String::new();
    let read = File::open(path).and_then(|mut f| {
        let len = f.metadata()?.len();
        f.seek(SeekFrom::Start(len.saturating_sub(MAX_BYTES)))?;
        let mut bytes = Vec::new();
        f.read_to_end(&mut bytes)?;
        text = String::from_utf8_lossy(&bytes).into_owned();
        Ok(())
    });
    if let Err(e) = read {
        return format!("(cannot read {}: {e})", path.display());
    }
    let all: Vec<&str> = text.lines().collect();
    let start = all.len().saturating_sub(lines);
    format!(
        "--- last {} lines of {} ---\n{}",
        all.len() - start,
        path.display(),
        all[start..].join("\n")
    )
}

/// `n` distinct free TCP ports on 127.0.0.1 (free when this returns; another process could
/// still take one before it is used, which the caller reports as a start-up failure).
pub fn free_ports<const N: usize>() -> Result<[u16; N], String> {
    let mut listeners = Vec::with_capacity(N);
    let mut ports = [0u16; N];
    for port in &mut ports {
        let listener =
            TcpListener::bind("127.0.0.1:0").map_err(|e| format!("binding 127.0.0.1:0: {e}"))?;
        *port = listener
            .local_addr()
            .map_err(|e| format!("local_addr: {e}"))?
            .port();
        listeners.push(listener);
    }
    Ok(ports)
}

/// `bytes` random bytes from the kernel, hex-encoded.
pub fn random_hex(bytes: usize) -> Result<String, String> {
    let mut buf = vec![0u8; bytes];
    File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut buf))
        .map_err(|e| format!("reading /dev/urandom: {e}"))?;
    Ok(buf.iter().map(|b| format!("{b:02x}")).collect())
}

/// What a `tests/**/ensure.sh` script provides: the path in `env` when set, else the last
/// non-empty line the script prints after building (or finding) it once per machine. Its
/// stderr is inherited so that a cold build shows its progress.
pub fn ensured(env: &str, script: &Path) -> Result<PathBuf, String> {
    if let Some(path) = std::env::var_os(env) {
        return Ok(PathBuf::from(path));
    }
    let out = Command::new("bash")
        .arg(script)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("running {}: {e}", script.display()))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        return Err(format!(
            "{} failed ({}); its errors are printed above. stdout:\n{stdout}",
            script.display(),
            out.status
        ));
    }
    let last = stdout.lines().rev().find(|l| !l.trim().is_empty());
    Ok(PathBuf::from(last.unwrap_or_default().trim()))
}
