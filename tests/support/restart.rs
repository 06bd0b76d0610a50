//! Restarting the shared kube-apiserver under running tests (fault drills), and compacting its
//! etcd while it is down.
//!
//! [`stop_apiserver`] finds this test binary's kube-apiserver among our children (by its
//! `--secure-port`), remembers its command line and kills it (SIGKILL: a crash, not a graceful
//! shutdown). [`Stopped::start`] starts it again with the same flags, certificates, token file
//! and etcd, and waits for `/readyz`. The new process is spawned from a keeper thread that
//! lives as long as the test process, like the original (see `process::spawn_tied`), so it
//! dies with the tests. The control plane supervisor reports the killed process once as
//! "exited unexpectedly": that line is expected in a drill's output.
//!
//! Each restart takes one of the harness's child slots: a test binary can restart the
//! apiserver twice.

use std::ffi::OsString;
use std::fs;
use std::os::unix::ffi::OsStringExt;
use std::path::PathBuf;
use std::process::{Child, Command};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use super::controlplane::ControlPlane;
use super::process;

const STOP_TIMEOUT: Duration = Duration::from_secs(30);
const READY_TIMEOUT: Duration = Duration::from_secs(120);

/// A kube-apiserver that was killed and can be started again.
#[derive(Debug)]
pub struct Stopped {
    exe: PathBuf,
    args: Vec<OsString>,
    /// `http://127.0.0.1:<port>` of the etcd it used.
    pub etcd: String,
}

fn secure_port(cp: &ControlPlane) -> String {
    cp.server.rsplit(':').next().unwrap_or_default().to_string()
}

fn cmdline(pid: u32) -> Option<Vec<OsString>> {
    let raw = fs::read(format!("/proc/{pid}/cmdline")).ok()?;
    Some(
        raw.split(|b| *b == 0)
            .filter(|a| !a.is_empty())
            .map(|a| OsString::from_vec(a.to_vec()))
            .collect(),
    )
}

/// State letter of a process (`Z` for a zombie), None once it is gone.
fn state(pid: u32) -> Option<char> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat.rsplit(')').next()?.trim().chars().next()
}

fn parent(pid: u32) -> Option<u32> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat.rsplit(')')
        .next()?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// The pid of the live kube-apiserver child of this process serving `cp`.
fn apiserver_pid(cp: &ControlPlane) -> Result<u32, String> {
    let me = std::process::id();
    let port_flag = format!("--secure-port={}", secure_port(cp));
    for entry in fs::read_dir("/proc").map_err(|e| format!("reading /proc: {e}"))? {
        let Some(pid) = entry
            .ok()
            .and_then(|e| e.file_name().to_str().and_then(|n| n.parse::<u32>().ok()))
        else {
            continue;
        };
        if parent(pid) != Some(me) || state(pid) == Some('Z') {
            continue;
        }
        let Some(args) = cmdline(pid) else { continue };
        let is_apiserver = args
            .first()
            .is_some_and(|a| a.to_string_lossy().ends_with("kube-apiserver"));
        if is_apiserver && args.iter().any(|a| a.to_string_lossy() == port_flag) {
            return Ok(pid);
        }
    }
    Err(format!(
        "no running kube-apiserver child with {port_flag} (was it already stopped?)"
    ))
}

/// Kills the apiserver (SIGKILL) and waits until its port refuses connections.
pub fn stop_apiserver(cp: &ControlPlane) -> Result<Stopped, String> {
    let pid = apiserver_pid(cp)?;
    let args = cmdline(pid).ok_or("cannot read the apiserver's command line")?;
    let exe = PathBuf::from(&args[0]);
    let etcd = args
        .iter()
        .find_map(|a| {
            a.to_str()
                .and_then(|a| a.strip_prefix("--etcd-servers="))
                .map(str::to_string)
        })
        .ok_or("the apiserver has no --etcd-servers flag")?;
    // SAFETY: a plain kill(2) of our own child.
    if unsafe { libc::kill(pid as i32, libc::SIGKILL) } != 0 {
        return Err(format!("kill {pid}: {}", std::io::Error::last_os_error()));
    }
    let addr = format!("127.0.0.1:{}", secure_port(cp));
    let deadline = Instant::now() + STOP_TIMEOUT;
    loop {
        let gone = matches!(state(pid), None | Some('Z'));
        let closed = std::net::TcpStream::connect(&addr).is_err();
        if gone && closed {
            break;
        }
        if Instant::now() > deadline {
            return Err(format!("kube-apiserver {pid} still up after SIGKILL"));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok(Stopped {
        exe,
        args: args[1..].to_vec(),
        etcd,
    })
}

type SpawnRequest = (Command, PathBuf, mpsc::Sender<Result<(), String>>);

/// A thread that lives as long as the process and owns the restarted apiservers.
fn keeper() -> &'static Mutex<mpsc::Sender<SpawnRequest>> {
    static KEEPER: OnceLock<Mutex<mpsc::Sender<SpawnRequest>>> = OnceLock::new();
    KEEPER.get_or_init(|| {
        let (tx, rx) = mpsc::channel::<SpawnRequest>();
        std::thread::Builder::new()
            .name("kingress-apiserver-restarts".into())
            .spawn(move || {
                let mut children: Vec<Child> = Vec::new();
                for (cmd, log, reply) in rx.iter() {
                    let result = process::spawn_tied(cmd, &log).map(|child| children.push(child));
                    let _ = reply.send(result);
                }
                // The sender lives in a static: never reached, so the children stay tied to a
                // live thread.
                loop {
                    std::thread::park();
                }
            })
            .expect("spawn the apiserver keeper thread");
        Mutex::new(tx)
    })
}

impl Stopped {
    /// Starts the apiserver again with its old flags and waits until it is ready.
    pub async fn start(self, cp: &ControlPlane) -> Result<(), String> {
        static RESTARTS: AtomicU32 = AtomicU32::new(0);
        let n = RESTARTS.fetch_add(1, Ordering::SeqCst) + 1;
        let log = cp.dir.join(format!("kube-apiserver-restart-{n}.log"));
        let mut cmd = Command::new(&self.exe);
        cmd.args(&self.args);
        let (reply_tx, reply_rx) = mpsc::channel();
        keeper()
            .lock()
            .map_err(|_| "apiserver keeper lock poisoned")?
            .send((cmd, log.clone(), reply_tx))
            .map_err(|_| "apiserver keeper thread is gone")?;
        reply_rx
            .recv()
            .map_err(|_| "apiserver keeper thread did not answer")??;
        let client = cp.client().await;
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            let request = http::Request::get("/readyz")
                .body(Vec::new())
                .map_err(|e| e.to_string())?;
            match client.request_text(request).await {
                Ok(body) if body.trim() == "ok" => return Ok(()),
                _ if Instant::now() > deadline => {
                    return Err(format!(
                        "restarted kube-apiserver not ready after {READY_TIMEOUT:?}\n{}",
                        process::log_tail(&log, 40)
                    ));
                }
                _ => tokio::time::sleep(Duration::from_millis(200)).await,
            }
        }
    }

    /// Compacts etcd's history up to its current revision (physically), so watches resuming
    /// from an older resourceVersion get 410 Gone and must relist. Uses etcd's JSON gateway.
    pub async fn compact_etcd(&self) -> Result<i64, String> {
        let http = reqwest::Client::new();
        let range: serde_json::Value = http
            .post(format!("{}/v3/kv/range", self.etcd))
            .json(&serde_json::json!({"key": "AA==", "limit": 1}))
            .send()
            .await
            .map_err(|e| format!("etcd range: {e}"))?
            .json()
            .await
            .map_err(|e| format!("etcd range answer: {e}"))?;
        let revision: i64 = range["header"]["revision"]
            .as_str()
            .and_then(|r| r.parse().ok())
            .or_else(|| range["header"]["revision"].as_i64())
            .ok_or_else(|| format!("no revision in etcd's answer: {range}"))?;
        let resp = http
            .post(format!("{}/v3/kv/compaction", self.etcd))
            .json(&serde_json::json!({"revision": revision.to_string(), "physical": true}))
            .send()
            .await
            .map_err(|e| format!("etcd compaction: {e}"))?;
        if !resp.status().is_success() {
            return Err(format!(
                "etcd compaction answered {}: {}",
                resp.status(),
                resp.text().await.unwrap_or_default()
            ));
        }
        Ok(revision)
    }
}
