//! Request handling: Kong's `/`, `/status` and `POST /config` (DB-less).

use super::state::State;
use crate::errtree::{Key, Node};
use crate::{ConfigError, SUPPORTED_PLUGINS, validate};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Request, Response, StatusCode};
use serde_json::{Map, Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

pub(crate) type Resp = Response<Full<Bytes>>;

static OBJECT_LOADS: AtomicU64 = AtomicU64::new(0);

fn json_resp(status: u16, body: &Value) -> Resp {
    let mut r = Response::new(Full::new(Bytes::from(body.to_string())));
    *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    r.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json; charset=utf-8"),
    );
    r.headers_mut().insert(
        hyper::header::SERVER,
        hyper::header::HeaderValue::from_static("kong/3.10.0"),
    );
    r
}

fn empty(status: u16) -> Resp {
    let mut r = json_resp(status, &Value::Null);
    *r.body_mut() = Full::new(Bytes::new());
    r
}

fn message(status: u16, msg: &str) -> Resp {
    json_resp(status, &json!({ "message": msg }))
}

/// Kong's `truthy()` for `flatten_errors`.
fn truthy(v: &str) -> bool {
    matches!(v.to_ascii_lowercase().as_str(), "true" | "1" | "on" | "yes")
}

fn root(state: &State) -> Value {
    let available: Map<String, Value> = SUPPORTED_PLUGINS
        .iter()
        .map(|p| {
            let priority = if *p == "rate-limiting" { 910 } else { 2 };
            (
                (*p).to_string(),
                json!({"version": "3.10.0", "priority": priority}),
            )
        })
        .collect();
    json!({
        "version": "3.10.0",
        "edition": "community",
        "tagline": "Welcome to kong",
        "hostname": "kong-admin-double",
        "node_id": state.node_id,
        "lua_version": "LuaJIT 2.1.0-20231117",
        "plugins": {"available_on_server": available, "enabled_in_cluster": []},
        "configuration": {
            "database": "off",
            "role": "traditional",
            "router_flavor": "traditional_compatible",
            "plugins": SUPPORTED_PLUGINS,
        },
    })
}

fn status(state: &State) -> Value {
    let hash = state.lock().hash.clone();
    let total = state.requests.load(Ordering::SeqCst);
    json!({
        "database": {"reachable": true},
        "memory": {
            "lua_shared_dicts": {"kong": {"allocated_slabs": "0.04 MiB", "capacity": "5.00 MiB"}},
            "workers_lua_vms": [{"http_allocated_gc": "0.02 MiB", "pid": std::process::id()}],
        },
        "server": {
            "total_requests": total,
            "connections_accepted": total,
            "connections_handled": total,
            "connections_active": 1,
            "connections_reading": 0,
            "connections_writing": 1,
            "connections_waiting": 0,
        },
        "configuration_hash": hash,
    })
}

/// Where the declarative config came from (`hydrate_config_from_request`).
enum Source {
    Table(Value),
    Text(String),
}

fn multipart_config(ctype: &str, body: &[u8]) -> Option<String> {
    let boundary = ctype.split("boundary=").nth(1)?.trim_matches('"');
    let text = String::from_utf8_lossy(body);
    for part in text.split(&format!("--{boundary}")) {
        let (head, content) = part.split_once("\r\n\r\n")?;
        if head.contains("name=\"config\"") {
            return Some(content.trim_end_matches("\r\n").to_string());
        }
    }
    None
}

fn hydrate(ctype: &str, body: &[u8]) -> Option<Source> {
    if ctype.starts_with("application/json")
        && let Ok(Value::Object(o)) = serde_json::from_slice::<Value>(body)
    {
        if o.contains_key("_format_version") {
            return Some(Source::Table(Value::Object(o)));
        }
        if let Some(Value::String(s)) = o.get("config") {
            return Some(Source::Text(s.clone()));
        }
    }
    if ctype.starts_with("application/x-www-form-urlencoded") {
        let cfg = form_urlencoded::parse(body).find(|(k, _)| k == "config");
        if let Some((_, v)) = cfg {
            return Some(Source::Text(v.into_owned()));
        }
    }
    if ctype.starts_with("multipart/form-data")
        && let Some(c) = multipart_config(ctype, body)
    {
        return Some(Source::Text(c));
    }
    if body.is_empty() {
        return None;
    }
    Some(Source::Text(String::from_utf8_lossy(body).into_owned()))
}

/// `declarative:unserialize`: JSON first, then YAML; must be an object.
fn unserialize(text: &str) -> Result<Value, String> {
    if let Ok(v @ Value::Object(_)) = serde_json::from_str::<Value>(text) {
        return Ok(v);
    }
    match serde_yaml::from_str::<Value>(text) {
        Ok(v @ Value::Object(_)) => Ok(v),
        Ok(_) => Err("failed parsing declarative configuration: expected an object".into()),
        Err(e) => Err(format!("failed parsing declarative configuration: {e}")),
    }
}

fn rejected_by_fault(state: &State, cfg: &Value) -> Option<ConfigError> {
    let rules = state.lock().faults.reject.clone();
    let mut fields = Node::table();
    for (ty, name) in rules {
        for (i, e) in cfg
            .get(&ty)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            let n = e
                .get("name")
                .or_else(|| e.get("username"))
                .and_then(Value::as_str);
            if n == Some(name.as_str()) {
                fields
                    .child(Key::from(ty.as_str()))
                    .child(Key::Int(i + 1))
                    .push_entity(format!(
                        "rejected by the Kong admin API test double (fault injected for '{name}')"
                    ));
            }
        }
    }
    (!fields.is_empty()).then(|| ConfigError::new(fields, cfg.clone()))
}

fn post_config(state: &State, query: &str, ctype: &str, body: &[u8]) -> Resp {
    let params: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    let param = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    let flatten = param("flatten_errors").is_some_and(truthy);
    let check_hash = param("check_hash") == Some("1");
    let Some(source) = hydrate(ctype, body) else {
        return message(400, "expected a declarative configuration");
    };
    let (cfg, new_hash) = match source {
        Source::Table(v) => (v, None),
        Source::Text(t) => {
            let hash = format!("{:x}", md5::compute(t.as_bytes()));
            match unserialize(&t) {
                Ok(v) => (v, Some(hash)),
                Err(e) => {
                    let mut fields = Node::table();
                    fields.set(Key::from("error"), Node::Msg(e));
                    return json_resp(400, &ConfigError::new(fields, Value::Null).to_kong_json());
                }
            }
        }
    };
    if check_hash && new_hash.as_deref() == Some(state.lock().hash.as_str()) {
        return empty(304);
    }
    let result = match rejected_by_fault(state, &cfg) {
        Some(e) => Err(e),
        None => validate(&cfg),
    };
    match result {
        Err(e) => {
            let body = if flatten {
                e.to_kong_flattened_json()
            } else {
                e.to_kong_json()
            };
            state.lock().rejected.push(e);
            // Waiters may be waiting for a rejection (`rejected()`), not only a new config.
            state.generation.send_modify(|g| *g += 1);
            json_resp(400, &body)
        }
        Ok(valid) => {
            // a parsed table is hashed with its load timestamps: never equal
            let hash = new_hash.unwrap_or_else(|| {
                let n = OBJECT_LOADS.fetch_add(1, Ordering::SeqCst);
                let seed = format!(
                    "{}:{n}:{:?}",
                    valid.to_kong_json(),
                    std::time::SystemTime::now()
                );
                format!("{:x}", md5::compute(seed.as_bytes()))
            });
            let out = valid.to_kong_json();
            state.accept(valid, hash);
            json_resp(201, &out)
        }
    }
}

pub(crate) async fn handle(
    state: Arc<State>,
    req: Request<hyper::body::Incoming>,
) -> Result<Resp, std::io::Error> {
    if state.down.load(Ordering::SeqCst) {
        // an error closes the connection without an answer, like a dead node
        return Err(std::io::Error::other("kong admin double is down"));
    }
    state.count_request();
    let slow = state.lock().faults.slow;
    if let Some(d) = slow {
        tokio::time::sleep(d).await;
    }
    if let Some(status) = state.take_failure() {
        let msg = match status {
            503 => "Kong currently exiting",
            504 => "Timed out while loading configuration",
            _ => "An unexpected error occurred",
        };
        return Ok(message(status, msg));
    }
    if let Some(token) = &state.admin_token {
        let given = req
            .headers()
            .get("kong-admin-token")
            .and_then(|v| v.to_str().ok());
        if given != Some(token.as_str()) {
            return Ok(message(
                401,
                "Invalid credentials. Token or User credentials required",
            ));
        }
    }
    let method = req.method().clone();
    let path = req.uri().path().trim_end_matches('/').to_string();
    let query = req.uri().query().unwrap_or_default().to_string();
    let ctype = req
        .headers()
        .get(hyper::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    let resp = match (method.as_str(), path.as_str()) {
        ("GET", "") => json_resp(200, &root(&state)),
        ("GET", "/status") => json_resp(200, &status(&state)),
        ("POST", "/config") => {
            let body = match req.into_body().collect().await {
                Ok(b) => b.to_bytes(),
                Err(_) => return Ok(message(400, "failed reading request body")),
            };
            post_config(&state, &query, &ctype, &body)
        }
        (_, "" | "/status" | "/config") => message(405, "Method not allowed"),
        _ => message(404, "Not found"),
    };
    Ok(resp)
}
