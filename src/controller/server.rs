//! `/healthz`, `/readyz` and `/metrics` over plain HTTP.
//!
//! Ready means: caches synced, and either this controller is a standby (it has nothing to
//! push) or at least one Kong replica holds the current configuration.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::watch;

use super::metrics::Metrics;
use super::sync::SyncState;

/// What the probes look at.
#[derive(Clone)]
pub struct Probes {
    pub synced: watch::Receiver<bool>,
    pub leader: watch::Receiver<bool>,
    pub state: watch::Receiver<Arc<SyncState>>,
    pub metrics: Arc<Metrics>,
}

impl Probes {
    /// `Ok` with a short reason, or `Err` with why not ready.
    pub fn readiness(&self) -> Result<String, String> {
        if !*self.synced.borrow() {
            return Err("caches are not synced yet".into());
        }
        if !*self.leader.borrow() {
            return Ok("standby (not the leader)".into());
        }
        let state = self.state.borrow().clone();
        let Some(desired) = state.desired_hash.as_deref() else {
            return Err("no configuration translated yet".into());
        };
        // Each replica against the config of its own Kong version and flavor.
        let current: Vec<&String> = state
            .applied
            .iter()
            .filter(|(r, h)| state.desired_for(r) == Some(h.as_str()))
            .map(|(r, _)| r)
            .collect();
        if current.is_empty() {
            Err(format!(
                "no Kong replica holds the current configuration {desired}"
            ))
        } else {
            Ok(format!("{} Kong replica(s) hold {desired}", current.len()))
        }
    }
}

fn text(status: StatusCode, body: String) -> Response<Full<Bytes>> {
    let mut resp = Response::new(Full::new(Bytes::from(body)));
    *resp.status_mut() = status;
    resp
}

async fn handle(
    probes: Probes,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    Ok(match req.uri().path() {
        "/healthz" => text(StatusCode::OK, "ok\n".into()),
        "/readyz" => match probes.readiness() {
            Ok(why) => text(StatusCode::OK, format!("ready: {why}\n")),
            Err(why) => text(
                StatusCode::SERVICE_UNAVAILABLE,
                format!("not ready: {why}\n"),
            ),
        },
        "/metrics" => {
            let mut resp = text(StatusCode::OK, probes.metrics.encode());
            if let Ok(v) = "application/openmetrics-text; version=1.0.0; charset=utf-8".parse() {
                resp.headers_mut().insert(hyper::header::CONTENT_TYPE, v);
            }
            resp
        }
        _ => text(StatusCode::NOT_FOUND, "not found\n".into()),
    })
}

/// Serves on `addr` until the task is aborted.
pub async fn serve(listener: TcpListener, probes: Probes) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let probes = probes.clone();
        tokio::spawn(async move {
            let svc = service_fn(move |req| handle(probes.clone(), req));
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), svc)
                .await;
        });
    }
}

pub async fn bind(addr: SocketAddr) -> std::io::Result<TcpListener> {
    TcpListener::bind(addr).await
}
