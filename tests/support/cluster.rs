//! What the Gateway API conformance run adds to the shared control plane, so that the suite's
//! backends (Deployments and Services) become ready as in a real cluster: kube-controller-manager
//! (ReplicaSets, Pods, EndpointSlices, ServiceAccounts, namespace deletion), kube-scheduler, and
//! kwok (`sigs.k8s.io/kwok`) with one simulated node on which Pods are marked running and ready
//! without any container runtime. The binaries come from `tests/controlplane/ensure.sh`
//! (kube-controller-manager, kube-scheduler) and `conformance/ensure.sh` (kwok).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::{Node, ServiceAccount};
use kube::api::Api;

use super::apply::apply_yaml;
use super::controlplane::ControlPlane;
use super::process::{log_tail, spawn_tied};

/// How long the simulated node and the first ServiceAccount may take to appear.
const READY_TIMEOUT: Duration = Duration::from_secs(120);

/// The node kwok simulates.
pub const NODE: &str = "kwok-node-0";

/// Logs of the processes started, for failure messages.
pub struct Cluster {
    pub logs: Vec<PathBuf>,
}

impl Cluster {
    /// The last lines of every log.
    pub fn log_tails(&self, lines: usize) -> String {
        self.logs
            .iter()
            .map(|l| log_tail(l, lines))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// Starts kube-controller-manager, kube-scheduler and kwok (from `kwok_dir`) against `cp`, adds
/// the simulated node and waits until it is Ready and namespaces get their `default`
/// ServiceAccount. The processes live as long as the calling thread.
pub async fn start(cp: &ControlPlane, kwok_dir: &Path) -> Result<Cluster, String> {
    let kubeconfig = format!("--kubeconfig={}", cp.kubeconfig.display());
    let mut logs = Vec::new();
    let mut launch = |name: &str, mut cmd: Command| -> Result<(), String> {
        let log = cp.dir.join(format!("{name}.log"));
        cmd.env_remove("KUBECONFIG");
        spawn_tied(cmd, &log)?;
        logs.push(log);
        Ok(())
    };

    let mut kcm = Command::new(cp.bin.join("kube-controller-manager"));
    kcm.arg(&kubeconfig)
        // No serving endpoint: nothing scrapes it, and it would need authn/authz kubeconfigs.
        .arg("--secure-port=0")
        .arg("--leader-elect=false")
        .arg("--use-service-account-credentials=false")
        .arg(format!(
            "--service-account-private-key-file={}",
            cp.sa_key.display()
        ))
        .arg(format!("--root-ca-file={}", cp.ca_file.display()))
        // Node IPAM and cloud routes need a cluster CIDR and a cloud; kwok gives pod IPs.
        .arg("--controllers=*,-nodeipam,-cloud-node-lifecycle,-service-lb-controller,-node-route-controller")
        .arg("--v=1");
    launch("kube-controller-manager", kcm)?;

    let mut scheduler = Command::new(cp.bin.join("kube-scheduler"));
    scheduler
        .arg(&kubeconfig)
        .arg("--secure-port=0")
        .arg("--leader-elect=false")
        .arg("--v=1");
    launch("kube-scheduler", scheduler)?;

    let mut kwok = Command::new(kwok_dir.join("kwok"));
    kwok.arg(&kubeconfig)
        .arg(format!("--config={}", kwok_dir.join("kwok.yaml").display()))
        .arg("--node-lease-duration-seconds=40")
        .arg("--manage-all-nodes=true")
        .arg("--cidr=10.244.0.0/16")
        .arg("--node-ip=10.240.0.1");
    launch("kwok", kwok)?;
    let cluster = Cluster { logs };

    let client = cp.client().await;
    apply_yaml(
        &client,
        None,
        &format!(
            "apiVersion: v1\nkind: Node\nmetadata:\n  name: {NODE}\n  annotations: {{kwok.x-k8s.io/node: fake}}\n  labels: {{kubernetes.io/hostname: {NODE}, kubernetes.io/os: linux, kubernetes.io/arch: amd64, type: kwok}}\n"
        ),
    )
    .await;
    let nodes: Api<Node> = Api::all(client.clone());
    let accounts: Api<ServiceAccount> = Api::namespaced(client, "default");
    let deadline = Instant::now() + READY_TIMEOUT;
    loop {
        let ready = nodes.get(NODE).await.ok().is_some_and(|n| {
            let conditions = n.status.and_then(|s| s.conditions).unwrap_or_default();
            conditions
                .iter()
                .any(|c| c.type_ == "Ready" && c.status == "True")
        });
        let account = accounts.get("default").await.is_ok();
        if ready && account {
            return Ok(cluster);
        }
        if Instant::now() > deadline {
            return Err(format!(
                "after {READY_TIMEOUT:?}: node {NODE} ready: {ready}, ServiceAccount default/default: {account}\n{}",
                cluster.log_tails(30)
            ));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
