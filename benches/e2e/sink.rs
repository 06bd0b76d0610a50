//! A Kong admin API that only records: `GET /status` (the configuration hash) and
//! `POST /config?check_hash=1` (md5 of the config text, 304 when unchanged, 201 otherwise),
//! exactly as kingress's pusher speaks to Kong, but without validating: so latencies time
//! kingress, not the test double's validation (`KongAdminDouble` spends seconds on a
//! 10k-Service config). The config it holds last is validated with
//! `kong_admin_double::validate` at the end of each run instead.
//!
//! Besides Kong's md5 it records the config's kingress id (`config_id`, what the
//! controller's state names configs by) and when the whole body had arrived. It holds a
//! config once it has its id (XXH3 of the body's escaped string, no decoding); decoding the
//! text and its md5 wait until asked (`/status`, the final validation), as they would cost
//! the sink ~60 ms per 10k-Service config that are not kingress's.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::watch;

const EMPTY_HASH: &str = "00000000000000000000000000000000";

struct Held {
    id: String,
    /// When the body of the POST that brought it had been read.
    received: std::time::Instant,
    /// The config, escaped as in the body.
    escaped: Bytes,
    /// Decoded text and md5, on first use.
    decoded: Option<(Arc<String>, String)>,
}

impl Held {
    fn decoded(&mut self) -> &(Arc<String>, String) {
        let escaped = &self.escaped;
        self.decoded.get_or_insert_with(|| {
            let mut quoted = Vec::with_capacity(escaped.len() + 2);
            quoted.push(b'"');
            quoted.extend_from_slice(escaped);
            quoted.push(b'"');
            let text: String = serde_json::from_slice(&quoted).unwrap_or_default();
            let md5 = if text.is_empty() {
                EMPTY_HASH.to_string()
            } else {
                format!("{:x}", md5::compute(text.as_bytes()))
            };
            (Arc::new(text), md5)
        })
    }
}

struct State {
    held: Mutex<Held>,
    /// The id of the config held.
    changed: watch::Sender<String>,
}

pub struct Sink {
    addr: SocketAddr,
    state: Arc<State>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Sink {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn respond(status: u16, body: String) -> Response<Full<Bytes>> {
    let mut resp = Response::new(Full::new(Bytes::from(body)));
    *resp.status_mut() = hyper::StatusCode::from_u16(status).expect("valid status");
    resp.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json"),
    );
    resp
}

async fn handle(
    state: Arc<State>,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let check_hash = req
        .uri()
        .query()
        .is_some_and(|q| q.contains("check_hash=1"));
    let (method, path) = (req.method().clone(), req.uri().path().to_string());
    Ok(match (method.as_str(), path.as_str()) {
        ("GET", "/status") => {
            let hash = state.held.lock().expect("sink lock").decoded().1.clone();
            respond(200, format!("{{\"configuration_hash\":\"{hash}\"}}"))
        }
        ("GET", "/") => respond(200, "{\"version\":\"3.10.0\"}".into()),
        ("POST", "/config") => {
            let Ok(body) = req.into_body().collect().await else {
                return Ok(respond(400, "{}".into()));
            };
            let received = std::time::Instant::now();
            let body = body.to_bytes();
            // `{"config":"<escaped>"}`, as kingress writes it.
            let Some(escaped) = body
                .strip_prefix(b"{\"config\":\"")
                .and_then(|b| b.strip_suffix(b"\"}"))
            else {
                return Ok(respond(
                    400,
                    "{\"message\":\"expected {config: string}\"}".into(),
                ));
            };
            let escaped = body.slice_ref(escaped);
            let id = format!("{:032x}", xxhash_rust::xxh3::xxh3_128(&escaped));
            let mut held = state.held.lock().expect("sink lock");
            if check_hash && held.id == id {
                respond(304, String::new())
            } else {
                *held = Held {
                    id: id.clone(),
                    received,
                    escaped,
                    decoded: None,
                };
                drop(held);
                state.changed.send_replace(id);
                respond(201, "{}".into())
            }
        }
        _ => respond(404, "{\"message\":\"Not found\"}".into()),
    })
}

impl Sink {
    pub async fn start() -> Sink {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the admin API sink");
        let addr = listener.local_addr().expect("sink address");
        let state = Arc::new(State {
            held: Mutex::new(Held {
                id: EMPTY_HASH.to_string(),
                received: std::time::Instant::now(),
                escaped: Bytes::new(),
                decoded: None,
            }),
            changed: watch::Sender::new(EMPTY_HASH.to_string()),
        });
        let st = state.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let st = st.clone();
                tokio::spawn(async move {
                    let svc = service_fn(move |req| handle(st.clone(), req));
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), svc)
                        .await;
                });
            }
        });
        Sink { addr, state, task }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn id(&self) -> String {
        self.state.held.lock().expect("sink lock").id.clone()
    }

    /// When the body of the held config had arrived.
    pub fn received(&self) -> std::time::Instant {
        self.state.held.lock().expect("sink lock").received
    }

    pub fn text(&self) -> Arc<String> {
        self.state
            .held
            .lock()
            .expect("sink lock")
            .decoded()
            .0
            .clone()
    }

    /// Waits until the held config's id satisfies `pred`; false on timeout.
    pub async fn wait(&self, pred: impl Fn(&str) -> bool, timeout: std::time::Duration) -> bool {
        let mut rx = self.state.changed.subscribe();
        tokio::time::timeout(timeout, rx.wait_for(|h| pred(h)))
            .await
            .is_ok_and(|r| r.is_ok())
    }
}
