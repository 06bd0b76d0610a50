//! The HTTP side of the double: answers like Kong 3.10's admin API in
//! DB-less mode on `127.0.0.1:<random port>`, records accepted configs and
//! lets tests inject faults.
//! Kong's answers are in `http.rs`; everything here except the listener is a
//! test facility (inspection, waiting, fault injection), not a Kong rule.

mod http;
mod state;

pub use state::{EMPTY_HASH, Fault};

use crate::listen::{DEFAULT_PROXY_LISTEN, DEFAULT_STREAM_LISTEN, Listen, Subsystem};
use crate::{ConfigError, ValidConfig};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use state::State;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::watch;

/// Start-up options.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// When set, requests must carry `Kong-Admin-Token: <token>` (else 401).
    // No source in Kong 3.10 OSS (its admin API has no authentication; this
    // mimics Kong Enterprise RBAC). See README.
    pub admin_token: Option<String>,
    /// Kong's `proxy_listen` setting (None: Kong's default), reported by `GET /`.
    pub proxy_listen: Option<String>,
    /// Kong's `stream_listen` setting (None: Kong's default, `off`), reported by `GET /`.
    pub stream_listen: Option<String>,
    /// Kong's `router_flavor` (default `traditional_compatible`): the route fields and checks
    /// configs are validated with, reported by `GET /`.
    pub router_flavor: crate::RouterFlavor,
    /// The Kong release answered as (default 3.10): its `GET /` version and the differences
    /// [`crate::KongRelease`] lists.
    pub release: crate::KongRelease,
}

/// A running Kong admin API double. Dropping it stops the server.
pub struct KongAdminDouble {
    addr: SocketAddr,
    state: Arc<State>,
    down: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

async fn serve(listener: TcpListener, state: Arc<State>, mut down: watch::Receiver<bool>) {
    let addr = listener.local_addr().ok();
    let mut listener = Some(listener);
    loop {
        let Some(l) = listener.as_ref() else {
            // Test facility (Fault::Down). down: the socket is closed, so
            // connections are refused
            if down.changed().await.is_err() {
                return;
            }
            if !*down.borrow() {
                listener = match addr {
                    Some(a) => TcpListener::bind(a).await.ok(),
                    None => None,
                };
            }
            continue;
        };
        tokio::select! {
            changed = down.changed() => {
                if changed.is_err() {
                    return;
                }
                if *down.borrow() {
                    listener = None;
                }
            }
            accepted = l.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let st = state.clone();
                tokio::spawn(async move {
                    let svc = service_fn(move |req| http::handle(st.clone(), req));
                    // Plain HTTP/1.1, like Kong's default admin listener
                    // 127.0.0.1:8001 (kong/templates/kong_defaults.lua:29).
                    let _ = http1::Builder::new().serve_connection(TokioIo::new(stream), svc).await;
                });
            }
        }
    }
}

impl KongAdminDouble {
    /// Start on `127.0.0.1:0` with default options.
    pub async fn start() -> std::io::Result<KongAdminDouble> {
        Self::start_with(Options::default()).await
    }

    /// Start on `127.0.0.1:0`. An invalid `*_listen` setting fails as Kong fails to start
    /// (`InvalidInput`, with Kong's message).
    pub async fn start_with(opts: Options) -> std::io::Result<KongAdminDouble> {
        let invalid = |e: String| std::io::Error::new(std::io::ErrorKind::InvalidInput, e);
        let proxy_listen = Listen::parse(
            "proxy_listen",
            opts.proxy_listen.as_deref().unwrap_or(DEFAULT_PROXY_LISTEN),
            Subsystem::Http,
        )
        .map_err(invalid)?;
        let stream_listen = Listen::parse(
            "stream_listen",
            opts.stream_listen
                .as_deref()
                .unwrap_or(DEFAULT_STREAM_LISTEN),
            Subsystem::Stream,
        )
        .map_err(invalid)?;
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        // Double's own value: Kong's node id is a random UUID kept in the
        // prefix (kong/pdk/node.lua:72 get_id); this one is stable per address.
        let node_id =
            uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_URL, addr.to_string().as_bytes()).to_string();
        let mut state = State::new(opts.admin_token, node_id, [proxy_listen, stream_listen]);
        state.router_flavor = opts.router_flavor;
        state.release = opts.release;
        let state = Arc::new(state);
        let (down, rx) = watch::channel(false);
        let task = tokio::spawn(serve(listener, state.clone(), rx));
        Ok(KongAdminDouble {
            addr,
            state,
            down,
            task,
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Base URL, e.g. `http://127.0.0.1:38211`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The configuration Kong would currently run.
    pub fn current(&self) -> Option<ValidConfig> {
        self.state.lock().current.clone()
    }

    /// What `/status` reports as `configuration_hash`.
    // Kong 3.10 kong/api/routes/health.lua:53
    pub fn current_hash(&self) -> String {
        self.state.lock().hash.clone()
    }

    /// Test facility: what a DB-less Kong that restarted holds, no configuration (`/status`
    /// reports [`EMPTY_HASH`] until the next `POST /config`; Kong 3.10 keeps none across a
    /// restart without `declarative_config`). The history is kept.
    pub fn restart(&self) {
        {
            let mut g = self.state.lock();
            g.current = None;
            g.hash = EMPTY_HASH.to_string();
        }
        self.state.generation.send_modify(|g| *g += 1);
    }

    /// Every accepted configuration, oldest first.
    pub fn history(&self) -> Vec<ValidConfig> {
        self.state.lock().history.clone()
    }

    /// Every rejected configuration's error, with the full error table
    /// (including errors Kong's flattened body drops).
    pub fn rejected(&self) -> Vec<ConfigError> {
        self.state.lock().rejected.clone()
    }

    /// Requests served so far (`/status` `server.total_requests`).
    // Kong 3.10 kong/pdk/nginx.lua:87 (ngx_stat_requests)
    pub fn request_count(&self) -> u64 {
        self.state
            .requests
            .load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Test facility: `POST /config` requests received, answered 201, 304 or an error.
    pub fn config_posts(&self) -> u64 {
        self.state
            .config_posts
            .load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Wait until the current config satisfies `pred`, or `None` on timeout.
    pub async fn wait_for_config(
        &self,
        pred: impl Fn(&ValidConfig) -> bool,
        timeout: Duration,
    ) -> Option<ValidConfig> {
        let mut rx = self.state.generation.subscribe();
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if let Some(c) = self.current().filter(|c| pred(c)) {
                return Some(c);
            }
            match tokio::time::timeout_at(deadline, rx.changed()).await {
                Ok(Ok(())) => {}
                _ => return None,
            }
        }
    }

    /// Inject a fault; `Fault::Down` closes the listening socket.
    pub fn inject(&self, fault: Fault) {
        let mut g = self.state.lock();
        match fault {
            Fault::Down => {
                drop(g);
                self.state
                    .down
                    .store(true, std::sync::atomic::Ordering::SeqCst);
                self.down.send_replace(true);
            }
            Fault::Slow(d) => g.faults.slow = Some(d),
            Fault::FailNext { status, count } => g.faults.fail_next = Some((status, count)),
            Fault::FailAlways { status } => g.faults.fail_always = Some(status),
            Fault::RejectEntity { entity_type, name } => g.faults.reject.push((entity_type, name)),
        }
    }

    /// Clear every fault and listen again if down.
    pub async fn clear_faults(&self) {
        self.state.lock().faults = Default::default();
        self.set_down(false).await;
    }

    /// Go down (refuse connections) or come back up on the same port.
    pub async fn set_down(&self, down: bool) {
        if *self.down.borrow() == down {
            return;
        }
        self.state
            .down
            .store(down, std::sync::atomic::Ordering::SeqCst);
        self.down.send_replace(down);
        if !down {
            // wait until the socket accepts again
            for _ in 0..100 {
                if tokio::net::TcpStream::connect(self.addr).await.is_ok() {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    }
}

impl Drop for KongAdminDouble {
    fn drop(&mut self) {
        self.task.abort();
    }
}
