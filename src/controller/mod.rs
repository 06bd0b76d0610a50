//! The in-cluster loop: watch → translate → push to every Kong replica.
//!
//! Edges only: translation itself is `crate::translate`, pure and synchronous.

pub mod args;
pub mod discovery;
pub mod events;
pub mod field_limits;
mod last_valid;
pub mod leader;
pub mod metrics;
pub mod profiles;
pub mod pusher;
pub mod server;
pub mod status;
pub mod store;
pub mod sync;
pub mod toggles;
mod versions;
pub mod watch;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, watch as channel};

use crate::kong::admin_api::{AdminApiClient, AdminApiError, AdminApiOptions};
use crate::translate::Options;

/// Kong replicas discovered from the EndpointSlices of their admin Service.
#[derive(Clone, Debug)]
pub struct AdminService {
    pub namespace: String,
    pub name: String,
    /// The admin port's name; by default the first of KIC's names found.
    pub port_name: Option<String>,
    /// Token, TLS and timeout settings for every discovered replica (its URL is ignored).
    pub template: AdminApiOptions,
}

#[derive(Clone, Debug)]
pub struct ControllerOptions {
    pub translate: Options,
    pub scope: watch::WatchScope,
    /// Fixed Kong replicas, one per admin URL.
    pub admin_apis: Vec<AdminApiOptions>,
    /// Or: replicas discovered from the admin Service.
    pub admin_service: Option<AdminService>,
    /// How long to wait after a change for more changes before translating.
    pub debounce: Duration,
    /// Status subresources: publish addresses, on/off.
    pub status: status::StatusOptions,
    /// None: this process always leads (a single controller replica).
    pub leader_election: Option<leader::LeaderOptions>,
    /// `/healthz` and `/readyz` (KIC: :10254).
    pub probe_addr: Option<SocketAddr>,
    /// `/metrics` (KIC: :10255).
    pub metrics_addr: Option<SocketAddr>,
    /// `--kong-version`: translate for this Kong version instead of each replica's own.
    pub kong_version: Option<crate::kong::version::KongVersion>,
    /// How replicas that hold their config are rechecked.
    pub push: pusher::PushOptions,
    /// KIC's `--use-last-valid-config-for-fallback`: objects Kong rejected are put back as
    /// Kong last accepted them instead of being left out.
    pub last_valid_fallback: bool,
}

impl Default for ControllerOptions {
    fn default() -> Self {
        ControllerOptions {
            translate: Options::default(),
            scope: watch::WatchScope::default(),
            admin_apis: Vec::new(),
            admin_service: None,
            debounce: Duration::from_millis(10),
            status: status::StatusOptions::default(),
            leader_election: None,
            probe_addr: None,
            metrics_addr: None,
            kong_version: None,
            push: pusher::PushOptions::default(),
            last_valid_fallback: false,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ControllerError {
    #[error("cannot connect to Kubernetes: {0}")]
    Kubernetes(#[from] kube::Error),
    #[error(transparent)]
    AdminApi(#[from] AdminApiError),
    #[error("no Kong admin API given (--kong-admin-url or --kong-admin-service)")]
    NoAdminApi,
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

/// Handles to a running controller, for tests and the CLI.
pub struct Running {
    pub state: channel::Receiver<Arc<sync::SyncState>>,
    pub leader: channel::Receiver<bool>,
    pub metrics: Arc<metrics::Metrics>,
    /// Where the probe and metrics listeners were bound (port 0 resolved).
    pub listening: Vec<SocketAddr>,
    /// Held so pushers see leadership as long as the controller runs.
    _leader: Arc<channel::Sender<bool>>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    /// Pushers of fixed replicas (discovered ones live in the discovery task).
    _pushers: Option<discovery::Pushers>,
}

impl Running {
    pub fn abort(&self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.abort();
    }
}

/// Starts the controller with `client`; it runs until the returned handle is dropped.
/// Must be called inside a tokio runtime; listeners are bound before it returns.
pub async fn start(
    client: kube::Client,
    options: ControllerOptions,
) -> Result<Running, ControllerError> {
    if options.admin_apis.is_empty() && options.admin_service.is_none() {
        return Err(ControllerError::NoAdminApi);
    }
    for note in options.translate.feature_gates.notes() {
        tracing::info!("--feature-gates {note}");
    }
    let metrics = Arc::new(metrics::Metrics::new());
    let store = Arc::new(store::Store::new(
        watch::stream_names(&options.scope),
        metrics.watch_errors.clone(),
    ));
    watch::spawn_all(&client, &options.scope, &store);
    let (desired_tx, desired_rx) = channel::channel(None);
    let (report_tx, report_rx) = mpsc::unbounded_channel();
    let (state_tx, state_rx) = channel::channel(Arc::new(sync::SyncState::default()));
    let (replicas_tx, replicas_rx) = channel::channel(1usize);
    let leader_tx = Arc::new(channel::Sender::new(options.leader_election.is_none()));
    let leader_rx = leader_tx.subscribe();
    let mut tasks = Vec::new();
    if let Some(election) = options.leader_election.clone() {
        let (client, tx) = (client.clone(), leader_tx.clone());
        tasks.push(tokio::spawn(async move {
            leader::run(client, election, &tx).await;
        }));
    }
    {
        let (mut rx, m) = (leader_rx.clone(), metrics.clone());
        tasks.push(tokio::spawn(async move {
            loop {
                m.leader.set(i64::from(*rx.borrow_and_update()));
                if rx.changed().await.is_err() {
                    return;
                }
            }
        }));
    }
    let fixed_pushers = match &options.admin_service {
        Some(service) => {
            let pushers = discovery::Pushers::new(
                service.template.clone(),
                options.push,
                desired_rx.clone(),
                leader_rx.clone(),
                report_tx.clone(),
                replicas_tx,
            );
            tasks.push(tokio::spawn(discovery::discover(
                client.clone(),
                service.namespace.clone(),
                service.name.clone(),
                service.port_name.clone(),
                pushers,
            )));
            None
        }
        None => {
            for admin in &options.admin_apis {
                AdminApiClient::new(admin)?;
            }
            let mut pushers = discovery::Pushers::new(
                options.admin_apis[0].clone(),
                options.push,
                desired_rx.clone(),
                leader_rx.clone(),
                report_tx.clone(),
                replicas_tx,
            );
            pushers.set(&options.admin_apis.iter().map(|a| a.url.clone()).collect());
            Some(pushers)
        }
    };
    tasks.push(tokio::spawn(status::run(
        client.clone(),
        store.clone(),
        status::Translated {
            controller_name: options.translate.controller_name.clone(),
            ingress_class: options.translate.ingress_class.clone(),
            service_facades: options.translate.feature_gates.service_facade(),
        },
        options.status.clone(),
        state_rx.clone(),
        leader_rx.clone(),
        metrics.events.clone(),
    )));
    let probes = server::Probes {
        synced: store.synced(),
        leader: leader_rx.clone(),
        state: state_rx.clone(),
        metrics: metrics.clone(),
    };
    let mut listening = Vec::new();
    for addr in [options.probe_addr, options.metrics_addr]
        .into_iter()
        .flatten()
    {
        let listener = server::bind(addr)
            .await
            .map_err(|source| ControllerError::Listen { addr, source })?;
        listening.push(listener.local_addr().unwrap_or(addr));
        tasks.push(tokio::spawn(server::serve(listener, probes.clone())));
    }
    tasks.push(tokio::spawn(sync::run(
        store,
        sync::SyncOptions {
            translate: options.translate.clone(),
            debounce: options.debounce,
            replicas: replicas_rx,
            metrics: metrics.clone(),
            kong_version: options.kong_version,
            last_valid_fallback: options.last_valid_fallback,
        },
        desired_tx,
        report_rx,
        state_tx,
    )));
    Ok(Running {
        state: state_rx,
        leader: leader_rx,
        metrics,
        listening,
        _leader: leader_tx,
        tasks,
        _pushers: fixed_pushers,
    })
}
