//! Request handling: Kong's `/`, `/status` and `POST /config` (DB-less).
//! Sources: Kong 3.10 (commit 22246ef28c) kong/api/routes/kong.lua (`/`),
//! kong/api/routes/health.lua (`/status`), kong/api/routes/config.lua
//! (`/config`), kong/api/api_helpers.lua (routing, body parsing).

use super::state::State;
use crate::errtree::{Key, Node};
use crate::{ConfigError, KongRelease, SUPPORTED_PLUGINS, validate_as};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Request, Response, StatusCode};
use serde_json::{Map, Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

pub(crate) type Resp = Response<Full<Bytes>>;

// Test-double detail: makes hashes of JSON-object bodies unique (see below).
static OBJECT_LOADS: AtomicU64 = AtomicU64::new(0);

// Kong 3.10 kong/pdk/response.lua:741-744 (JSON body => CONTENT_TYPE_JSON,
// response.lua:81) and kong/init.lua:1934-1935 (Server: meta._SERVER_TOKENS,
// kong/meta.lua:19). Kong also sends X-Kong-Admin-Latency (init.lua:1930-1931).
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

// Kong 3.10 kong/api/routes/config.lua:133 `kong.response.exit(304)`: no body.
// Kong sets no Content-Type without a body (pdk/response.lua:741); this keeps
// json_resp's Content-Type (README divergences).
fn empty(status: u16) -> Resp {
    let mut r = json_resp(status, &Value::Null);
    *r.body_mut() = Full::new(Bytes::new());
    r
}

// Kong's `{ message = ... }` error body, e.g. kong/api/api_helpers.lua:547.
fn message(status: u16, msg: &str) -> Resp {
    json_resp(status, &json!({ "message": msg }))
}

/// Kong's `truthy()` for `flatten_errors`.
// Kong 3.10 kong/api/routes/config.lua:27-39
fn truthy(v: &str) -> bool {
    matches!(v.to_ascii_lowercase().as_str(), "true" | "1" | "on" | "yes")
}

// Kong 3.10 kong/api/routes/kong.lua:73-148 (GET /). Kong also returns
// `timers` (kong.lua:136-139) and `pids` (kong.lua:146); the double omits them.
fn root(state: &State) -> Value {
    // kong.lua:119-125: every loaded plugin (all bundled ones by default,
    // kong/templates/kong_defaults.lua:15); the double lists only its own.
    let release = state.release;
    let loaded: Vec<&str> = SUPPORTED_PLUGINS
        .iter()
        .copied()
        .filter(|p| release.bundles(p))
        .collect();
    let available: Map<String, Value> = loaded
        .iter()
        .map(|p| {
            // PRIORITY: kong/plugins/<name>/handler.lua
            let priority = match *p {
                // correlation-id/handler.lua:45 (Kong 3.8.0: 1)
                "correlation-id" if release == KongRelease::V3_8 => 1,
                "correlation-id" => 100001,
                "key-auth" => 1250,            // key-auth/handler.lua:22
                "basic-auth" => 1100,          // basic-auth/handler.lua:7
                "rate-limiting" => 910,        // rate-limiting/handler.lua:57
                "request-transformer" => 801,  // request-transformer/handler.lua:7
                "response-transformer" => 800, // response-transformer/handler.lua:16
                "redirect" => 779,             // redirect/handler.lua:9
                _ => 2,                        // request-termination/handler.lua:17
            };
            (
                (*p).to_string(),
                // VERSION = kong_meta.version (rate-limiting/handler.lua:56,
                // request-termination/handler.lua:18, request-transformer/
                // handler.lua:6, response-transformer/handler.lua:17,
                // redirect/handler.lua:10, key-auth/handler.lua:21, basic-auth/handler.lua:6,
                // correlation-id/handler.lua:46)
                json!({"version": release.version(), "priority": priority}),
            )
        })
        .collect();
    let mut configuration = json!({
        "database": "off",                       // DB-less mode
        "role": "traditional",                   // kong/templates/kong_defaults.lua:203
        "router_flavor": state.router_flavor.as_str(), // kong_defaults.lua:189 default traditional_compatible
        "plugins": loaded, // Kong: the `plugins` setting (kong_defaults.lua:15)
    });
    // kong/conf_loader/init.lua:893-896: the parsed listeners sit beside their settings.
    let [proxy, stream] = &state.listen;
    for (k, v) in proxy
        .fields("proxy_listen")
        .into_iter()
        .chain(stream.fields("stream_listen"))
    {
        configuration[k] = v;
    }
    json!({
        "version": release.version(),       // kong.lua:18,132; kong/meta.lua:2-4
        "edition": "community",             // kong.lua:133
        "tagline": "Welcome to kong",       // kong.lua:17,131
        "hostname": "kong-admin-double",    // kong.lua:134 (value: double's own)
        "node_id": state.node_id,           // kong.lua:114,135 (value: double's own)
        "lua_version": "LuaJIT 2.1.0-20231117", // kong.lua:19 jit.version (value guessed)
        // kong.lua:140-143; enabled_in_cluster is the distinct names of loaded
        // plugins (kong.lua:81-93), always empty here (README divergences).
        "plugins": {"available_on_server": available, "enabled_in_cluster": []},
        // kong.lua:127,145: Kong returns the whole (sanitized) kong.conf.
        "configuration": configuration,
    })
}

// Kong 3.10 kong/api/routes/health.lua:15-69 (GET /status).
fn status(state: &State) -> Value {
    let hash = state.lock().hash.clone();
    let total = state.requests.load(Ordering::SeqCst);
    json!({
        // health.lua:42-44, but Kong removes it in DB-less mode
        // (health.lua:52-56): README divergences.
        "database": {"reachable": true},
        // health.lua:40, default unit "m" (health.lua:18); shape of
        // kong/pdk/node.lua:159 get_memory_stats; `kong` shm is 5m
        // (kong/templates/nginx_kong.lua:15). Values are made up.
        "memory": {
            "lua_shared_dicts": {"kong": {"allocated_slabs": "0.04 MiB", "capacity": "5.00 MiB"}},
            "workers_lua_vms": [{"http_allocated_gc": "0.02 MiB", "pid": std::process::id()}],
        },
        // health.lua:41, keys of kong/pdk/nginx.lua:79-87 get_statistics
        "server": {
            "total_requests": total,
            "connections_accepted": total,
            "connections_handled": total,
            "connections_active": 1,
            "connections_reading": 0,
            "connections_writing": 1,
            "connections_waiting": 0,
        },
        "configuration_hash": hash, // health.lua:52-53
    })
}

/// Where the declarative config came from (`hydrate_config_from_request`).
// Kong 3.10 kong/api/routes/config.lua:42-67
enum Source {
    Table(Value),
    Text(String),
}

// Kong: lapis parses multipart form fields into params, a part's value is
// its `content` (kong/api/api_helpers.lua:43-45).
fn multipart_config(ctype: &str, body: &[u8]) -> Option<String> {
    let boundary = ctype.split("boundary=").nth(1)?.trim_matches('"');
    let text = String::from_utf8_lossy(body);
    for part in text.split(&format!("--{boundary}")) {
        // NB: the first piece (empty preamble) has no blank line, so this `?`
        // returns None before any part is read: multipart bodies fall back to
        // the raw-body path (README divergences).
        let (head, content) = part.split_once("\r\n\r\n")?;
        if head.contains("name=\"config\"") {
            return Some(content.trim_end_matches("\r\n").to_string());
        }
    }
    None
}

// Before this, Kong answers 415 to a body with a missing or unsupported
// Content-Type (kong/api/api_helpers.lua:241-274) and 400 "Cannot parse JSON
// body" to invalid JSON (api_helpers.lua:319-320); the double does neither.
fn hydrate(ctype: &str, body: &[u8]) -> Option<Source> {
    // JSON bodies become params (kong/api/api_helpers.lua:309-320).
    if ctype.starts_with("application/json")
        && let Ok(Value::Object(o)) = serde_json::from_slice::<Value>(body)
    {
        // config.lua:43-45: params with `_format_version` are the config
        if o.contains_key("_format_version") {
            return Some(Source::Table(Value::Object(o)));
        }
        // config.lua:47
        if let Some(Value::String(s)) = o.get("config") {
            return Some(Source::Text(s.clone()));
        }
    }
    // config.lua:47, form params (api_helpers.lua:322-323)
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
    // config.lua:49-58: else the raw body, or 400 when it is empty
    if body.is_empty() {
        return None;
    }
    Some(Source::Text(String::from_utf8_lossy(body).into_owned()))
}

/// `declarative:unserialize`: JSON first, then YAML; must be an object.
// Kong 3.10 kong/db/declarative/init.lua:106-152: cjson (line 112), then
// lyaml (line 120); "expected an object" (129) only for a YAML scalar, Kong
// accepts any table, arrays too (README); message prefix line 140.
fn unserialize(text: &str) -> Result<Value, String> {
    if let Ok(v @ Value::Object(_)) = serde_json::from_str::<Value>(text) {
        return Ok(v);
    }
    match serde_norway::from_str::<Value>(text) {
        Ok(v @ Value::Object(_)) => Ok(v),
        Ok(_) => Err("failed parsing declarative configuration: expected an object".into()),
        Err(e) => Err(format!("failed parsing declarative configuration: {e}")),
    }
}

// Test facility (Fault::RejectEntity), not a Kong rule: the message is the
// double's; the shape mimics an entity error under `fields`.
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

// Kong 3.10 kong/api/routes/config.lua:111-190 (POST /config, DB-less).
fn post_config(state: &State, query: &str, ctype: &str, body: &[u8]) -> Resp {
    state.config_posts.fetch_add(1, Ordering::SeqCst);
    let params: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    let param = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    // config.lua:70-83 (Kong reads both from all params, body included;
    // the double reads the query string only).
    let flatten = param("flatten_errors").is_some_and(truthy);
    let check_hash = param("check_hash") == Some("1");
    let Some(source) = hydrate(ctype, body) else {
        // config.lua:55-57
        return message(400, "expected a declarative configuration");
    };
    let (cfg, new_hash) = match source {
        Source::Table(v) => (v, None),
        Source::Text(t) => {
            // md5 of the text: kong/db/declarative/init.lua:149
            let hash = format!("{:x}", md5::compute(t.as_bytes()));
            match unserialize(&t) {
                Ok(v) => (v, Some(hash)),
                Err(e) => {
                    // config.lua:62-63, err_t = { error = err }
                    // (declarative/init.lua:143), never flattened;
                    // body: kong/db/errors.lua:495-503
                    let mut fields = Node::table();
                    fields.set(Key::from("error"), Node::Msg(e));
                    return json_resp(400, &ConfigError::new(fields, Value::Null).to_kong_json());
                }
            }
        }
    };
    // config.lua:121,132-134 (old hash: declarative.get_current_hash,
    // kong/db/declarative/import.lua:233-235)
    if check_hash && new_hash.as_deref() == Some(state.lock().hash.as_str()) {
        return empty(304);
    }
    let result = match rejected_by_fault(state, &cfg) {
        Some(e) => Err(e),
        None => validate_as(&cfg, state.router_flavor, state.release),
    };
    match result {
        // config.lua:139-149: 400; flattened body kong/db/errors.lua:1170-1185,
        // plain body errors.lua:495-503
        Err(e) => {
            let body = if flatten {
                e.to_kong_flattened_json()
            } else {
                e.to_kong_json()
            };
            // Test facility: kept for `rejected()`, with the full error table.
            state.lock().rejected.push(e);
            // Waiters may be waiting for a rejection (`rejected()`), not only a new config.
            state.generation.send_modify(|g| *g += 1);
            json_resp(400, &body)
        }
        Ok(valid) => {
            // a parsed table is hashed with its load timestamps: never equal
            // (Kong: md5(cjson_encode({ entities, meta })),
            // kong/db/declarative/init.lua:234-236; entities carry created_at).
            // Kong stores the all-zero hash for a config with no entities
            // (kong/db/declarative/import.lua:441-443); the double does not
            // (README divergences).
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
            // config.lua:188-189
            json_resp(201, &out)
        }
    }
}

pub(crate) async fn handle(
    state: Arc<State>,
    req: Request<hyper::body::Incoming>,
) -> Result<Resp, std::io::Error> {
    // Test facility (Fault::Down).
    if state.down.load(Ordering::SeqCst) {
        // an error closes the connection without an answer, like a dead node
        return Err(std::io::Error::other("kong admin double is down"));
    }
    // feeds /status server.total_requests (ngx_stat_requests,
    // kong/pdk/nginx.lua:87), which counts every request
    state.count_request();
    // Test facilities (Fault::Slow, FailNext, FailAlways) below.
    let slow = state.lock().faults.slow;
    if let Some(d) = slow {
        tokio::time::sleep(d).await;
    }
    if let Some(status) = state.take_failure() {
        // Messages of config.lua:166-169 (503), 160-164 (504), 180-181 (500);
        // Kong's 429 "Currently loading previous configuration" (154-157) and
        // 413 (172-177) are not mapped.
        let msg = match status {
            503 => "Kong currently exiting",
            504 => "Timed out while loading configuration",
            _ => "An unexpected error occurred",
        };
        return Ok(message(status, msg));
    }
    // No source in Kong 3.10 OSS (no admin API authentication; header and
    // message come from Kong Enterprise RBAC). See README.
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
    // a trailing slash resolves to the same route: api_helpers.lua:531-542
    let path = req.uri().path().trim_end_matches('/').to_string();
    let query = req.uri().query().unwrap_or_default().to_string();
    let ctype = req
        .headers()
        .get(hyper::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    let resp = match (method.as_str(), path.as_str()) {
        ("GET", "") => json_resp(200, &root(&state)), // kong.lua:130
        ("GET", "/status") => json_resp(200, &status(&state)), // health.lua:68
        ("POST", "/config") => {
            let body = match req.into_body().collect().await {
                Ok(b) => b.to_bytes(),
                // No Kong source (transport error; nginx answers itself).
                Err(_) => return Ok(message(400, "failed reading request body")),
            };
            post_config(&state, &query, &ctype, &body)
        }
        // api_helpers.lua:551-558. Kong also serves HEAD for GET routes
        // (api_helpers.lua:461-465), OPTIONS (425-433, 467-472) and
        // GET /config (config.lua:88-110); the double answers 405.
        (_, "" | "/status" | "/config") => message(405, "Method not allowed"),
        // api_helpers.lua:546-548 (Kong has many more routes: README)
        _ => message(404, "Not found"),
    };
    Ok(resp)
}
