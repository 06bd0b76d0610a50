//! The in-cluster loop: watch → translate → push to every Kong replica.
//!
//! Edges only: translation itself is `crate::translate`, pure and synchronous.

pub mod args;
pub mod pusher;
pub mod store;
pub mod sync;
pub mod watch;

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, watch as channel};

use crate::kong::admin_api::{AdminApiClient, AdminApiError, AdminApiOptions};
use crate::translate::Options;

#[derive(Clone, Debug)]
pub struct ControllerOptions {
    pub translate: Options,
    pub scope: watch::WatchScope,
    /// One per Kong replica.
    pub admin_apis: Vec<AdminApiOptions>,
    /// How long to wait after a change for more changes before translating.
    pub debounce: Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum ControllerError {
    #[error("cannot connect to Kubernetes: {0}")]
    Kubernetes(#[from] kube::Error),
    #[error(transparent)]
    AdminApi(#[from] AdminApiError),
    #[error("no Kong admin API given (--kong-admin-url)")]
    NoAdminApi,
}

/// Handles to a running controller, for tests and the CLI.
pub struct Running {
    pub state: channel::Receiver<Arc<sync::SyncState>>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
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
pub fn start(client: kube::Client, options: ControllerOptions) -> Result<Running, ControllerError> {
    if options.admin_apis.is_empty() {
        return Err(ControllerError::NoAdminApi);
    }
    let store = Arc::new(store::Store::new(watch::stream_names(&options.scope)));
    watch::spawn_all(&client, &options.scope, &store);
    let (desired_tx, desired_rx) = channel::channel(None);
    let (report_tx, report_rx) = mpsc::unbounded_channel();
    let (state_tx, state_rx) = channel::channel(Arc::new(sync::SyncState::default()));
    let mut tasks = Vec::new();
    for admin in &options.admin_apis {
        let api = AdminApiClient::new(admin)?;
        tasks.push(tokio::spawn(pusher::run(
            api,
            desired_rx.clone(),
            report_tx.clone(),
        )));
    }
    tasks.push(tokio::spawn(sync::run(
        store,
        sync::SyncOptions {
            // Rate limits with policy local count per replica: translation warns about it.
            translate: Options {
                kong_replicas: options.admin_apis.len(),
                ..options.translate.clone()
            },
            debounce: options.debounce,
        },
        desired_tx,
        report_rx,
        state_tx,
    )));
    Ok(Running {
        state: state_rx,
        tasks,
    })
}
