//! A real kube-apiserver and etcd on loopback, one per test binary.
//!
//! `shared()` starts them on first use (binaries from `tests/controlplane/ensure.sh`, or from
//! the directory in `KINGRESS_CONTROLPLANE_BIN`), waits for `/readyz`, and installs
//! `crds/*.yaml` and `tests/fixtures/gateway-api/*.yaml`. Nothing is faked and nothing is
//! skipped: when the control plane cannot be set up, every test that asks for it fails with the
//! reason.
//!
//! Tests talk to it as `admin` (group `system:masters`, static token over TLS; the client trusts
//! the apiserver's self-signed serving certificate from its `--cert-dir`), or as any user or
//! ServiceAccount through impersonation. The apiserver runs without kube-controller-manager:
//! no controllers, so e.g. namespaces get no `default` ServiceAccount and are never finalized.

use std::fmt::Display;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::Namespace;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, ObjectMeta, Patch, PatchParams, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};

use super::process::{self, log_tail};

/// Field manager used for everything the harness applies.
pub const FIELD_MANAGER: &str = "kingress-tests";
/// Env var naming a directory with prebuilt `kube-apiserver` and `etcd` (skips ensure.sh).
pub const BIN_ENV: &str = "KINGRESS_CONTROLPLANE_BIN";

const READY_TIMEOUT: Duration = Duration::from_secs(180);
const ESTABLISHED_TIMEOUT: Duration = Duration::from_secs(60);
const LOG_TAIL_LINES: usize = 40;

/// The running control plane. Get it with [`shared`].
#[derive(Debug)]
pub struct ControlPlane {
    /// `https://127.0.0.1:<port>`
    pub server: String,
    /// Scratch directory: logs, etcd data, certificates, kubeconfig (removed at exit unless
    /// `KINGRESS_KEEP_CONTROLPLANE=1`).
    pub dir: PathBuf,
    /// An admin kubeconfig (`kubectl --kubeconfig` works with it while the tests run).
    pub kubeconfig: PathBuf,
    pub apiserver_log: PathBuf,
    pub etcd_log: PathBuf,
    /// The directory of the control plane binaries (kube-controller-manager and kube-scheduler
    /// are there too, for [`super::cluster`]).
    pub bin: PathBuf,
    /// The ServiceAccount signing key (PEM).
    pub sa_key: PathBuf,
    /// The CA of the apiserver's serving certificate (PEM).
    pub ca_file: PathBuf,
    names: AtomicU32,
}

static SHARED: OnceLock<Result<ControlPlane, String>> = OnceLock::new();

/// The control plane of this test binary, started on first call. Panics (failing the test) with
/// the reason and the processes' log tails if it cannot be started. Blocks while starting, so it
/// may be called from sync or async tests alike.
pub fn shared() -> &'static ControlPlane {
    match SHARED.get_or_init(start) {
        Ok(cp) => cp,
        Err(e) => panic!(
            "the test control plane (kube-apiserver + etcd) is not available:\n{e}\n\
             (its scratch directory is removed at exit; set {}=1 to keep it)",
            process::KEEP_ENV
        ),
    }
}

impl ControlPlane {
    /// Admin client config, fresh each call (a `Client` belongs to the tokio runtime that first
    /// uses it, and each `#[tokio::test]` has its own runtime).
    pub async fn config(&self) -> Config {
        let kubeconfig = Kubeconfig::read_from(&self.kubeconfig).expect("read test kubeconfig");
        Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
            .await
            .expect("load test kubeconfig")
    }

    /// A client authenticated as `admin` (group `system:masters`).
    pub async fn client(&self) -> Client {
        Client::try_from(self.config().await).expect("build admin client")
    }

    /// A client that impersonates `user` in `groups` (the apiserver adds
    /// `system:authenticated`), for RBAC tests.
    pub async fn client_as_user(&self, user: &str, groups: &[&str]) -> Client {
        let mut config = self.config().await;
        config.auth_info.impersonate = Some(user.to_string());
        config.auth_info.impersonate_groups = Some(groups.iter().map(|g| g.to_string()).collect());
        Client::try_from(config).expect("build impersonating client")
    }

    /// A client that impersonates ServiceAccount `namespace/name` (with the groups the
    /// apiserver gives ServiceAccounts). The ServiceAccount need not exist.
    pub async fn client_as_service_account(&self, namespace: &str, name: &str) -> Client {
        let user = format!("system:serviceaccount:{namespace}:{name}");
        let ns_group = format!("system:serviceaccounts:{namespace}");
        self.client_as_user(&user, &["system:serviceaccounts", &ns_group])
            .await
    }

    /// A name unique within this control plane: `<prefix>-<n>`, a valid DNS-1123 label.
    pub fn unique_name(&self, prefix: &str) -> String {
        let n = self.names.fetch_add(1, Ordering::Relaxed);
        let mut clean: String = prefix
            .chars()
            .map(|c| c.to_ascii_lowercase())
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .take(50)
            .collect();
        clean = clean.trim_matches('-').to_string();
        if clean.is_empty() {
            clean.push_str("test");
        }
        format!("{clean}-{n}")
    }

    /// Creates a fresh namespace named `<prefix>-<n>` and returns its name.
    pub async fn namespace(&self, prefix: &str) -> String {
        let name = self.unique_name(prefix);
        let namespaces: Api<Namespace> = Api::all(self.client().await);
        let ns = Namespace {
            metadata: ObjectMeta {
                name: Some(name.clone()),
                labels: Some([("kingress.test/namespace".to_string(), "true".to_string())].into()),
                ..ObjectMeta::default()
            },
            ..Namespace::default()
        };
        namespaces
            .create(&PostParams::default(), &ns)
            .await
            .unwrap_or_else(|e| panic!("creating namespace {name}: {e}"));
        name
    }
}

fn err<E: Display>(what: impl Display) -> impl FnOnce(E) -> String {
    move |e| format!("{what}: {e}")
}

/// A path in the repository.
pub fn repo_path(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(relative)
}

/// Starts the control plane on a supervisor thread that lives as long as the process (the
/// children die with the thread that spawned them, see `process::spawn_tied`).
fn start() -> Result<ControlPlane, String> {
    let (tx, rx) = mpsc::channel();
    std::thread::Builder::new()
        .name("kingress-controlplane".to_string())
        .spawn(move || supervise(tx))
        .map_err(err("spawning the control plane supervisor thread"))?;
    rx.recv()
        .map_err(|_| "the control plane supervisor thread died while starting".to_string())?
}

struct Running {
    etcd: Child,
    apiserver: Child,
}

fn supervise(tx: mpsc::Sender<Result<ControlPlane, String>>) {
    let started = Instant::now();
    let mut running = None;
    let result = launch(&mut running);
    if let Ok(cp) = &result {
        eprintln!(
            "kingress test control plane: {} ready with CRDs in {:.1}s (scratch {})",
            cp.server,
            started.elapsed().as_secs_f64(),
            cp.dir.display()
        );
    }
    let logs = result
        .as_ref()
        .ok()
        .map(|cp| (cp.apiserver_log.clone(), cp.etcd_log.clone()));
    let ok = result.is_ok();
    if tx.send(result).is_err() || !ok {
        // Returning ends this thread, which kills whatever was started (PDEATHSIG).
        return;
    }
    let (Some(mut running), Some((apiserver_log, etcd_log))) = (running, logs) else {
        return;
    };
    // Live as long as the process; report a control plane process that dies under the tests.
    let mut reported = false;
    loop {
        std::thread::sleep(Duration::from_millis(500));
        if reported || process::EXITING.load(Ordering::SeqCst) {
            continue;
        }
        for (name, child, log) in [
            ("etcd", &mut running.etcd, &etcd_log),
            ("kube-apiserver", &mut running.apiserver, &apiserver_log),
        ] {
            if let Ok(Some(status)) = child.try_wait()
                && !process::EXITING.load(Ordering::SeqCst)
            {
                eprintln!(
                    "kingress test control plane: {name} exited unexpectedly ({status})\n{}",
                    log_tail(log, LOG_TAIL_LINES)
                );
                reported = true;
            }
        }
    }
}

/// Finds or builds the binaries; returns the directory holding `kube-apiserver` and `etcd`.
fn binaries() -> Result<PathBuf, String> {
    let dir = process::ensured(BIN_ENV, &repo_path("tests/controlplane/ensure.sh"))?;
    for bin in ["kube-apiserver", "etcd"] {
        if !dir.join(bin).is_file() {
            let source = match std::env::var_os(BIN_ENV) {
                Some(_) => format!(" (from {BIN_ENV})"),
                None => String::new(),
            };
            return Err(format!("{}{source} has no {bin} executable", dir.display()));
        }
    }
    Ok(dir)
}

fn launch(running: &mut Option<Running>) -> Result<ControlPlane, String> {
    let bin = binaries()?;
    let dir = process::scratch_dir()?;
    let certs = dir.join("certs");
    fs::create_dir_all(&certs).map_err(err("creating cert dir"))?;

    // ServiceAccount token signing key (ECDSA P-256; the public half is derived from it).
    let sa_key = dir.join("sa.key");
    let openssl = Command::new("openssl")
        .args([
            "ecparam",
            "-name",
            "prime256v1",
            "-genkey",
            "-noout",
            "-out",
        ])
        .arg(&sa_key)
        .output()
        .map_err(err(
            "running openssl to make the ServiceAccount signing key (apt-get install openssl)",
        ))?;
    if !openssl.status.success() {
        return Err(format!(
            "openssl ecparam failed: {}",
            String::from_utf8_lossy(&openssl.stderr)
        ));
    }

    let token = process::random_hex(24)?;
    let tokens = dir.join("tokens.csv");
    fs::write(
        &tokens,
        format!("{token},admin,admin-uid,\"system:masters\"\n"),
    )
    .map_err(err("writing token file"))?;

    let [etcd_client, etcd_peer, secure_port] = process::free_ports::<3>()?;
    let etcd_url = format!("http://127.0.0.1:{etcd_client}");
    let peer_url = format!("http://127.0.0.1:{etcd_peer}");
    let etcd_log = dir.join("etcd.log");
    let mut etcd = Command::new(bin.join("etcd"));
    etcd.arg("--name=kingress")
        .arg(format!("--data-dir={}", dir.join("etcd").display()))
        .arg(format!("--listen-client-urls={etcd_url}"))
        .arg(format!("--advertise-client-urls={etcd_url}"))
        .arg(format!("--listen-peer-urls={peer_url}"))
        .arg(format!("--initial-advertise-peer-urls={peer_url}"))
        .arg(format!("--initial-cluster=kingress={peer_url}"))
        .arg("--unsafe-no-fsync=true")
        .arg("--log-level=warn");
    let etcd = process::spawn_tied(etcd, &etcd_log)?;

    let server = format!("https://127.0.0.1:{secure_port}");
    let apiserver_log = dir.join("kube-apiserver.log");
    let mut apiserver = Command::new(bin.join("kube-apiserver"));
    apiserver
        .arg(format!("--etcd-servers={etcd_url}"))
        .arg("--bind-address=127.0.0.1")
        .arg("--advertise-address=127.0.0.1")
        .arg(format!("--secure-port={secure_port}"))
        .arg(format!("--cert-dir={}", certs.display()))
        .arg(format!("--token-auth-file={}", tokens.display()))
        .arg("--authorization-mode=RBAC")
        .arg("--service-cluster-ip-range=10.96.0.0/16")
        .arg("--service-account-issuer=https://kubernetes.default.svc.cluster.local")
        .arg(format!("--service-account-key-file={}", sa_key.display()))
        .arg(format!(
            "--service-account-signing-key-file={}",
            sa_key.display()
        ))
        // No kubelets, controllers or webhooks to wait for.
        .arg("--endpoint-reconciler-type=none")
        .arg("--enable-priority-and-fairness=false")
        .arg("--profiling=false");
    let apiserver = process::spawn_tied(apiserver, &apiserver_log)?;
    let running = running.insert(Running { etcd, apiserver });

    let ca_file = certs.join("apiserver.crt");
    let kubeconfig = dir.join("kubeconfig");
    let cp = ControlPlane {
        server,
        dir,
        kubeconfig,
        apiserver_log,
        etcd_log,
        bin,
        sa_key,
        ca_file: ca_file.clone(),
        names: AtomicU32::new(0),
    };
    let failure = |what: String, running: &mut Running| {
        let mut msg = what;
        for (name, child, log) in [
            ("etcd", &mut running.etcd, &cp.etcd_log),
            ("kube-apiserver", &mut running.apiserver, &cp.apiserver_log),
        ] {
            if let Ok(Some(status)) = child.try_wait() {
                msg.push_str(&format!("\n{name} exited: {status}"));
            }
            msg.push_str(&format!("\n{}", log_tail(log, LOG_TAIL_LINES)));
        }
        msg
    };

    // The apiserver writes its self-signed serving certificate (leaf + its CA) at start-up.
    let deadline = Instant::now() + READY_TIMEOUT;
    while !ca_file.is_file() {
        if let Ok(Some(_)) = running.apiserver.try_wait() {
            return Err(failure(
                "kube-apiserver exited during start-up".into(),
                running,
            ));
        }
        if Instant::now() > deadline {
            return Err(failure(
                format!(
                    "no serving certificate {} after {READY_TIMEOUT:?}",
                    ca_file.display()
                ),
                running,
            ));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let yaml_str = |s: &str| serde_json::to_string(s).unwrap_or_default();
    let kubeconfig_text = format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: kingress-test\n  cluster:\n    \
         server: {}\n    certificate-authority: {}\nusers:\n- name: admin\n  user:\n    \
         token: {}\ncontexts:\n- name: kingress-test\n  context:\n    cluster: kingress-test\n    \
         user: admin\n    namespace: default\ncurrent-context: kingress-test\n",
        yaml_str(&cp.server),
        yaml_str(&ca_file.to_string_lossy()),
        yaml_str(&token),
    );
    fs::write(&cp.kubeconfig, kubeconfig_text).map_err(err("writing kubeconfig"))?;

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(err("building a tokio runtime"))?;
    runtime
        .block_on(async {
            wait_ready(&cp, deadline, &mut running.apiserver).await?;
            install_crds(&cp).await
        })
        .map_err(|e| failure(e, running))?;
    Ok(cp)
}

/// An admin client from the kubeconfig as it is now (its CA file may still be being written).
async fn fresh_client(cp: &ControlPlane) -> Result<Client, String> {
    let kubeconfig = Kubeconfig::read_from(&cp.kubeconfig).map_err(|e| e.to_string())?;
    let config = Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
        .await
        .map_err(|e| format!("loading the kubeconfig: {e}"))?;
    Client::try_from(config).map_err(|e| format!("building admin client: {e}"))
}

async fn wait_ready(
    cp: &ControlPlane,
    deadline: Instant,
    apiserver: &mut Child,
) -> Result<(), String> {
    loop {
        // A fresh client each time: the apiserver writes its serving certificate (leaf, then
        // CA) while starting, and a client that read the file half-written would never trust it.
        let request = http::Request::get("/readyz")
            .body(Vec::new())
            .map_err(err("building /readyz request"))?;
        let last = match fresh_client(cp).await {
            Err(e) => e,
            Ok(client) => match client.request_text(request).await {
                Ok(body) if body.trim() == "ok" => return Ok(()),
                Ok(body) => body,
                Err(e) => e.to_string(),
            },
        };
        if let Ok(Some(status)) = apiserver.try_wait() {
            return Err(format!(
                "kube-apiserver exited ({status}) before it was ready"
            ));
        }
        if Instant::now() > deadline {
            return Err(format!(
                "{} not ready after {READY_TIMEOUT:?}; last /readyz answer: {last}",
                cp.server
            ));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The CRD files the harness installs: kingress's own and the Gateway API's.
pub fn crd_files() -> Result<Vec<PathBuf>, String> {
    let mut files = Vec::new();
    for dir in ["crds", "tests/fixtures/gateway-api"] {
        let dir = repo_path(dir);
        let entries = fs::read_dir(&dir).map_err(err(format!("reading {}", dir.display())))?;
        let mut yamls: Vec<PathBuf> = entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
            .collect();
        yamls.sort();
        files.extend(yamls);
    }
    Ok(files)
}

async fn install_crds(cp: &ControlPlane) -> Result<(), String> {
    cp.install_crd_files(&crd_files()?).await
}

impl ControlPlane {
    /// Applies the CRDs in `files` (replacing any of the same name, e.g. a channel's variant)
    /// and waits until each is Established.
    pub async fn install_crd_files(&self, files: &[PathBuf]) -> Result<(), String> {
        install_crd_files(self, files).await
    }
}

async fn install_crd_files(cp: &ControlPlane, files: &[PathBuf]) -> Result<(), String> {
    let client = Client::try_from(cp.config().await).map_err(err("building admin client"))?;
    let crds: Api<CustomResourceDefinition> = Api::all(client);
    let params = PatchParams::apply(FIELD_MANAGER).force();
    let mut names = Vec::new();
    for file in files {
        let text = fs::read_to_string(file).map_err(err(format!("reading {}", file.display())))?;
        for doc in serde_norway::Deserializer::from_str(&text) {
            let value: serde_norway::Value = serde::Deserialize::deserialize(doc)
                .map_err(err(format!("parsing {}", file.display())))?;
            if value.is_null() {
                continue;
            }
            let crd: CustomResourceDefinition = serde_norway::from_value(value)
                .map_err(err(format!("{} is not a CRD", file.display())))?;
            let name = crd.metadata.name.clone().unwrap_or_default();
            crds.patch(&name, &params, &Patch::Apply(&crd))
                .await
                .map_err(err(format!("applying CRD {name} from {}", file.display())))?;
            names.push(name);
        }
    }
    let deadline = Instant::now() + ESTABLISHED_TIMEOUT;
    for name in names {
        loop {
            let crd = crds
                .get(&name)
                .await
                .map_err(err(format!("getting CRD {name}")))?;
            let established = crd
                .status
                .and_then(|s| s.conditions)
                .unwrap_or_default()
                .iter()
                .any(|c| c.type_ == "Established" && c.status == "True");
            if established {
                break;
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "CRD {name} not Established after {ESTABLISHED_TIMEOUT:?}"
                ));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    Ok(())
}
