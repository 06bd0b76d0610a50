//! Security checks.
//!
//! - Secret values referenced by plugins (KongPlugin `configFrom` / `configPatches`) reach Kong
//!   but never the controller's logs (`tracing` output of a real controller run, at debug
//!   level), its Events, its metrics, or `kingress translate`'s stderr, also when Kong rejects
//!   the plugin built from them.
//! - Credential Secrets' values likewise, also when Kong refuses a credential and its error quotes
//!   the value back.
//! - The admin API token never appears in logs, errors or debug output, whether Kong accepts it
//!   or not.
//! - TLS to the admin API with a custom CA: the right CA works, a wrong one (or none, or a
//!   certificate for another name) fails, and `insecure_skip_verify` is the only way around it.
//!   Certificates come from `openssl` (which `scripts/test` installs); the HTTPS server is a
//!   small TLS terminator (tokio-rustls) in front of the Kong admin API double.

mod support;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use k8s_openapi::api::events::v1::Event;
use kingress::controller::{self, Running};
use kingress::kong::admin_api::{AdminApiClient, AdminApiError, AdminApiOptions};
use kong_admin_double::{KongAdminDouble, Options as DoubleOptions};
use kube::api::{Api, ListParams};
use support::apply::apply_yaml;
use support::controlplane;
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls;

const WAIT: Duration = Duration::from_secs(30);

// ---------------------------------------------------------------------------------------------
// Captured logs: every test of this binary logs into one buffer, at debug level for everything.

#[derive(Clone)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn logs() -> &'static Capture {
    static LOGS: OnceLock<Capture> = OnceLock::new();
    LOGS.get_or_init(|| {
        let capture = Capture(Arc::new(Mutex::new(Vec::new())));
        let writer = capture.clone();
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new("debug"))
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .init();
        capture
    })
}

fn log_text() -> String {
    String::from_utf8_lossy(&logs().0.lock().unwrap_or_else(|p| p.into_inner())).into_owned()
}

#[track_caller]
fn assert_absent(haystack: &str, secret: &str, where_: &str) {
    if let Some(at) = haystack.find(secret) {
        let start = haystack[..at]
            .rfind('\n')
            .map_or(0, |i| i + 1)
            .max(at.saturating_sub(300));
        let end = haystack[at..].find('\n').map_or(haystack.len(), |i| at + i);
        panic!(
            "secret {secret:?} leaked into {where_}:\n{}",
            &haystack[start..end]
        );
    }
}

/// A value unique to one test, recognisable wherever it leaks.
fn secret(label: &str) -> String {
    format!(
        "S3CR3T-{label}-{:x}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos())
    )
}

fn b64(text: &str) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let bytes = text.as_bytes();
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            out.push(if i <= chunk.len() {
                ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char
            } else {
                '='
            });
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Plugin secrets in a controller run

struct Env {
    ns: String,
    client: kube::Client,
    kong: KongAdminDouble,
    controller: Running,
}

async fn start(prefix: &str, kong: KongAdminDouble, token: Option<String>) -> Env {
    logs();
    let cp = controlplane::shared();
    let ns = cp.namespace(prefix).await;
    let client = cp.client().await;
    let admin = AdminApiOptions {
        token,
        ..support::run::admin_api(kong.url())
    };
    let options = support::run::options_with(&ns, vec![admin]);
    let controller = controller::start(client.clone(), options)
        .await
        .expect("start the controller");
    Env {
        ns,
        client,
        kong,
        controller,
    }
}

impl Env {
    async fn apply(&self, yaml: &str) {
        apply_yaml(&self.client, Some(&self.ns), yaml).await;
    }

    async fn events(&self) -> String {
        let events = Api::<Event>::namespaced(self.client.clone(), &self.ns)
            .list(&ListParams::default())
            .await
            .expect("list Events");
        serde_json::to_string(&events.items).expect("json")
    }

    /// Everything the controller said: logs, Events, metrics, its sync state.
    async fn said(&self) -> Vec<(&'static str, String)> {
        let state = self.controller.state.borrow().clone();
        vec![
            ("the logs", log_text()),
            ("the Events", self.events().await),
            ("the metrics", self.controller.metrics.encode()),
            (
                "the sync state (status conditions)",
                format!(
                    "{:?} {:?} {:?}",
                    state.errors, state.exclusions, state.problems
                ),
            ),
        ]
    }
}

/// A Service + Ingress using `plugins`, with one endpoint.
fn app(name: &str, plugins: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Service\nmetadata: {{name: {name}}}\nspec: {{ports: [{{name: http, port: 80}}]}}\n---\n\
         apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {{name: {name}, annotations: {{konghq.com/plugins: \"{plugins}\"}}}}\n\
         spec:\n  ingressClassName: kong\n  rules: [{{http: {{paths: [{{path: /{name}, pathType: Prefix, backend: {{service: {{name: {name}, port: {{number: 80}}}}}}}}]}}}}]\n"
    )
}

/// A Secret the controller watches (it reads TLS Secrets only), holding plugin config.
fn tls_secret(name: &str, data: &[(&str, &str)]) -> String {
    let mut entries = String::from("  tls.crt: \"\"\n  tls.key: \"\"\n");
    for (k, v) in data {
        entries.push_str(&format!("  {k}: {}\n", b64(v)));
    }
    format!(
        "apiVersion: v1\nkind: Secret\nmetadata: {{name: {name}}}\ntype: kubernetes.io/tls\ndata:\n{entries}"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plugin_secrets_reach_kong_but_never_logs_events_or_metrics() {
    let kong = KongAdminDouble::start().await.expect("double");
    let env = start("sec-plugin", kong, None).await;
    let password = secret("redis-password");
    let message = secret("termination-message");
    let bad_password = secret("rejected-password");
    let bad_host = format!("bad host {}", secret("rejected-host"));
    // configFrom: a whole rate-limiting config; configPatches: one field of request-termination
    // (a JSON value, as KIC reads it: the string with its quotes).
    let quoted = format!("\"{message}\"");
    let limit = format!(
        "{{\"minute\": 50, \"policy\": \"redis\", \"redis\": {{\"host\": \"redis.example\", \"port\": 6379, \"password\": \"{password}\"}}}}"
    );
    // Kong rejects this one: its redis host is not a host name.
    let broken = format!(
        "{{\"minute\": 50, \"policy\": \"redis\", \"redis\": {{\"host\": \"{bad_host}\", \"port\": 6379, \"password\": \"{bad_password}\"}}}}"
    );
    env.apply(&format!(
        "{}---\n{}---\n{}---\n\
         apiVersion: configuration.konghq.com/v1\nkind: KongPlugin\nmetadata: {{name: limit}}\nplugin: rate-limiting\n\
         configFrom: {{secretKeyRef: {{name: plugin-secrets, key: limit}}}}\n---\n\
         apiVersion: configuration.konghq.com/v1\nkind: KongPlugin\nmetadata: {{name: deny}}\nplugin: request-termination\n\
         config: {{status_code: 403}}\nconfigPatches: [{{path: /message, valueFrom: {{secretKeyRef: {{name: plugin-secrets, key: message}}}}}}]\n---\n\
         apiVersion: configuration.konghq.com/v1\nkind: KongPlugin\nmetadata: {{name: broken}}\nplugin: rate-limiting\n\
         configFrom: {{secretKeyRef: {{name: plugin-secrets, key: broken}}}}\n",
        tls_secret(
            "plugin-secrets",
            &[("limit", &limit), ("message", &quoted), ("broken", &broken)]
        ),
        app("limited", "limit,deny"),
        app("broken", "broken"),
    ))
    .await;
    // Kong rejects the broken plugin; the controller leaves it out (an Event says so)...
    let events_deadline = tokio::time::Instant::now() + WAIT;
    while !env.events().await.contains("KongConfigurationApplyFailed") {
        assert!(
            tokio::time::Instant::now() < events_deadline,
            "no KongConfigurationApplyFailed Event about the broken plugin"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(
        !env.kong.rejected().is_empty(),
        "Kong rejected the broken plugin first"
    );
    // ... and the rest, with the good plugins' secrets, reaches Kong.
    let reached = env
        .kong
        .wait_for_config(
            |c| {
                let text = c.to_kong_json().to_string();
                text.contains(&password) && text.contains(&message) && !text.contains(&bad_password)
            },
            WAIT,
        )
        .await
        .is_some();
    let mut failures = Vec::new();
    if !reached {
        failures.push(format!(
            "Kong never got the config without the rejected plugin; it holds {:?}; controller: {:?}",
            env.kong.current().map(|c| c.to_kong_json()),
            env.controller.state.borrow().clone()
        ));
    }
    // Nothing the controller says shows what the Secret holds, including the values Kong's
    // error messages quote back.
    for (where_, text) in env.said().await {
        for s in [&password, &message, &bad_password, &bad_host] {
            if let Some(at) = text.find(s.as_str()) {
                let from = at.saturating_sub(200);
                let to = (at + s.len() + 50).min(text.len());
                let context: String = text
                    .char_indices()
                    .filter(|(i, _)| *i >= from && *i < to)
                    .map(|(_, c)| c)
                    .collect();
                failures.push(format!("secret {s:?} leaked into {where_}: …{context}…"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// KIC reads plugin configuration from any Secret (Opaque ones, usually); `kingress translate`
/// does too. The controller must as well, or `configFrom` silently fails in a cluster.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plugin_config_from_an_opaque_secret_reaches_kong() {
    let kong = KongAdminDouble::start().await.expect("double");
    let env = start("sec-opaque", kong, None).await;
    let message = secret("opaque-message");
    env.apply(&format!(
        "apiVersion: v1\nkind: Secret\nmetadata: {{name: opaque}}\ntype: Opaque\nstringData:\n  config: '{{\"status_code\": 403, \"message\": \"{message}\"}}'\n---\n\
         apiVersion: configuration.konghq.com/v1\nkind: KongPlugin\nmetadata: {{name: deny}}\nplugin: request-termination\n\
         configFrom: {{secretKeyRef: {{name: opaque, key: config}}}}\n---\n{}",
        app("denied", "deny")
    ))
    .await;
    let got = env
        .kong
        .wait_for_config(|c| c.to_kong_json().to_string().contains(&message), WAIT)
        .await;
    let state = env.controller.state.borrow().clone();
    assert!(
        got.is_some(),
        "the plugin's config from an Opaque Secret never reached Kong; problems: {:#?}",
        state
            .problems
            .iter()
            .map(|p| p.to_string())
            .collect::<Vec<_>>()
    );
    for (where_, text) in env.said().await {
        assert_absent(&text, &message, where_);
    }
}

/// Credential Secrets: the good ones reach Kong; a shared key (a conflict: both consumers left
/// out), a credential KIC cannot make (a jwt without `key`) and one Kong refuses (an oauth2
/// redirect URI that is no URL, which Kong's error quotes back) are reported, and no value of
/// any of them shows in the logs, Events, metrics or sync state.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credential_secrets_reach_kong_but_never_logs_events_or_metrics() {
    let kong = KongAdminDouble::start().await.expect("double");
    let env = start("sec-credentials", kong, None).await;
    let key = secret("alice-key");
    let password = secret("alice-password");
    let shared = secret("shared-key");
    let jwt_secret = secret("jwt-secret");
    let bad_uri = format!("not a url {}", secret("redirect"));
    let client_secret = secret("client-secret");
    let consumer = |name: &str, credentials: &str| {
        format!(
            "apiVersion: configuration.konghq.com/v1\nkind: KongConsumer\nmetadata: {{name: {name}, annotations: {{kubernetes.io/ingress.class: kong}}}}\nusername: {name}\ncredentials: [{credentials}]\n---\n"
        )
    };
    let credential = |name: &str, kind: &str, data: &[(&str, &str)]| {
        let entries: String = data
            .iter()
            .map(|(k, v)| format!("  {k}: {}\n", b64(v)))
            .collect();
        format!(
            "apiVersion: v1\nkind: Secret\nmetadata: {{name: {name}, labels: {{konghq.com/credential: {kind}}}}}\ndata:\n{entries}---\n"
        )
    };
    env.apply(&format!(
        "{}{}{}{}{}{}{}{}{}{}",
        consumer("alice", "alice-key, alice-basic"),
        consumer("carol", "carol-key"),
        consumer("dave", "dave-key"),
        consumer("erin", "erin-jwt"),
        consumer("frank", "frank-oauth"),
        credential("alice-key", "key-auth", &[("key", &key)]),
        credential(
            "alice-basic",
            "basic-auth",
            &[("username", "alice"), ("password", &password)]
        ),
        credential("carol-key", "key-auth", &[("key", &shared)]),
        credential("dave-key", "key-auth", &[("key", &shared)]),
        credential("erin-jwt", "jwt", &[("secret", &jwt_secret)])
            + &credential(
                "frank-oauth",
                "oauth2",
                &[
                    ("name", "frank-app"),
                    ("client_id", "frank-client"),
                    ("client_secret", &client_secret),
                    ("redirect_uris", &bad_uri),
                ],
            ),
    ))
    .await;
    // Kong refuses frank's credential; the controller leaves it out (an Event says so) ...
    let events_deadline = tokio::time::Instant::now() + WAIT;
    while !env.events().await.contains("KongConfigurationApplyFailed") {
        assert!(
            tokio::time::Instant::now() < events_deadline,
            "no KongConfigurationApplyFailed Event about the refused credential"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // ... and alice's credentials reach Kong, without the shared key.
    let reached = env
        .kong
        .wait_for_config(
            |c| {
                let text = c.to_kong_json().to_string();
                text.contains(&key) && text.contains(&password) && !text.contains(&shared)
            },
            WAIT,
        )
        .await;
    let mut failures = Vec::new();
    if reached.is_none() {
        failures.push(format!(
            "Kong never got alice's credentials; it holds {:?}",
            env.kong.current().map(|c| c.to_kong_json())
        ));
    }
    for (where_, text) in env.said().await {
        for s in [
            &key,
            &password,
            &shared,
            &jwt_secret,
            &bad_uri,
            &client_secret,
        ] {
            if text.contains(s.as_str()) {
                let at = text.find(s.as_str()).unwrap_or_default();
                let context: String = text
                    .chars()
                    .skip(at.saturating_sub(150))
                    .take(300)
                    .collect();
                failures.push(format!("secret {s:?} leaked into {where_}: …{context}…"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

// ---------------------------------------------------------------------------------------------
// `kingress translate` stderr

fn translate_cli(files: &[(&str, String)]) -> (bool, String, String) {
    let dir = scratch("translate");
    for (name, text) in files {
        std::fs::write(dir.join(name), text).expect("write manifest");
    }
    let out = Command::new(env!("CARGO_BIN_EXE_kingress"))
        .args(["translate", "-f"])
        .arg(&dir)
        .stdin(Stdio::null())
        .output()
        .expect("run kingress translate");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn kingress_translate_never_prints_secret_values_on_stderr() {
    let password = secret("cli-password");
    let patched = secret("cli-patch");
    let not_base64 = secret("cli-not-base64");
    let not_object = secret("cli-not-an-object");
    let wrong_type = secret("cli-wrong-type");
    let manifests = format!(
        "apiVersion: v1\nkind: Secret\nmetadata: {{name: good}}\nstringData:\n  limit: '{{\"minute\": 5, \"policy\": \"redis\", \"redis\": {{\"host\": \"r.example\", \"port\": 6379, \"password\": \"{password}\"}}}}'\n  patch: '{patched}'\n  scalar: '{not_object}'\n---\n\
         apiVersion: v1\nkind: Secret\nmetadata: {{name: broken}}\ndata: {{key: \"{not_base64}!!\"}}\n---\n\
         apiVersion: v1\nkind: Secret\nmetadata: {{name: typed}}\nstringData: {{key: [{wrong_type}]}}\n---\n\
         apiVersion: configuration.konghq.com/v1\nkind: KongPlugin\nmetadata: {{name: limit}}\nplugin: rate-limiting\n\
         configFrom: {{secretKeyRef: {{name: good, key: limit}}}}\n---\n\
         apiVersion: configuration.konghq.com/v1\nkind: KongPlugin\nmetadata: {{name: deny}}\nplugin: request-termination\n\
         config: {{status_code: 403}}\nconfigPatches: [{{path: /message/deep, valueFrom: {{secretKeyRef: {{name: good, key: patch}}}}}}]\n---\n\
         apiVersion: configuration.konghq.com/v1\nkind: KongPlugin\nmetadata: {{name: scalar}}\nplugin: request-termination\n\
         configFrom: {{secretKeyRef: {{name: good, key: scalar}}}}\n---\n{}---\n{}---\n{}",
        app("limited", "limit"),
        app("denied", "deny"),
        app("scalar", "scalar"),
    );
    let (_, stdout, stderr) = translate_cli(&[("all.yaml", manifests)]);
    assert!(
        stdout.contains(&password),
        "the secret config reaches the Kong config:\n{stdout}\n{stderr}"
    );
    assert!(
        stderr.contains("error"),
        "the broken inputs are reported:\n{stderr}"
    );
    for s in [&password, &patched, &not_base64, &not_object, &wrong_type] {
        assert_absent(&stderr, s, "kingress translate's stderr");
    }
}

// ---------------------------------------------------------------------------------------------
// The admin API token

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_admin_token_never_appears_in_logs_errors_or_debug_output() {
    let token = secret("admin-token");
    let wrong = secret("wrong-token");
    let options = |url: String, token: &str| AdminApiOptions {
        url,
        token: Some(token.to_string()),
        ca_pem: None,
        insecure_skip_verify: false,
        timeout: Duration::from_secs(5),
        resolve: vec![],
    };
    let kong = KongAdminDouble::start_with(DoubleOptions {
        admin_token: Some(token.clone()),
        ..Default::default()
    })
    .await
    .expect("double");
    // Debug output of the options and of the client.
    let right = AdminApiClient::new(&options(kong.url(), &token)).expect("client");
    assert_absent(
        &format!("{:?}", options(kong.url(), &token)),
        &token,
        "AdminApiOptions' Debug",
    );
    assert_absent(&format!("{right:?}"), &token, "AdminApiClient's Debug");
    right
        .configuration_hash()
        .await
        .expect("the right token is accepted");
    // The wrong token: Kong says 401; the error names neither token.
    let bad = AdminApiClient::new(&options(kong.url(), &wrong)).expect("client");
    let err = bad.configuration_hash().await.expect_err("401");
    assert!(
        matches!(err, AdminApiError::Status { status: 401, .. }),
        "{err}"
    );
    for t in [&token, &wrong] {
        assert_absent(&err.to_string(), t, "the 401 error");
        assert_absent(&format!("{err:?}"), t, "the 401 error's Debug");
    }
    // A controller run with the wrong token, then one with the right one: logs, metrics and
    // state never show either.
    let failing = start("sec-token-wrong", kong, Some(wrong.clone())).await;
    failing.apply(&app("echo", "")).await;
    let mut state = failing.controller.state.clone();
    tokio::time::timeout(WAIT, state.wait_for(|s| !s.errors.is_empty()))
        .await
        .expect("the 401 is reported")
        .expect("state");
    for (where_, text) in failing.said().await {
        assert_absent(&text, &token, where_);
        assert_absent(&text, &wrong, where_);
    }
    let Env { kong, .. } = failing;
    let working = start("sec-token-right", kong, Some(token.clone())).await;
    working.apply(&app("echo", "")).await;
    let ns = working.ns.clone();
    working
        .kong
        .wait_for_config(|c| c.upstream(&format!("echo.{ns}.80.svc")).is_some(), WAIT)
        .await
        .expect("pushed with the right token");
    for (where_, text) in working.said().await {
        assert_absent(&text, &token, where_);
    }
}

// ---------------------------------------------------------------------------------------------
// TLS with a custom CA

fn scratch(label: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "kingress-security-{}-{label}-{}",
        std::process::id(),
        secret("d")
    ));
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .expect("run openssl (scripts/test installs it)");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A CA (`<name>-ca.crt`) and, when `server` is set, a server certificate it signed for
/// `kong.kingress.test` (`<name>.crt`, `<name>.key`).
fn make_ca(dir: &Path, name: &str, server: bool) {
    let ca = format!("{name}-ca");
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            &format!("{ca}.key"),
            "-out",
            &format!("{ca}.crt"),
            "-days",
            "2",
            "-subj",
            &format!("/CN={name} test CA"),
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
        ],
    );
    if !server {
        return;
    }
    std::fs::write(
        dir.join("server.ext"),
        "subjectAltName=DNS:kong.kingress.test\nbasicConstraints=CA:FALSE\n\
         keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n",
    )
    .expect("write extensions");
    openssl(
        dir,
        &[
            "req",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            &format!("{name}.key"),
            "-out",
            &format!("{name}.csr"),
            "-subj",
            "/CN=kong.kingress.test",
        ],
    );
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            &format!("{name}.csr"),
            "-CA",
            &format!("{ca}.crt"),
            "-CAkey",
            &format!("{ca}.key"),
            "-CAcreateserial",
            "-out",
            &format!("{name}.crt"),
            "-days",
            "2",
            "-extfile",
            "server.ext",
        ],
    );
}

/// Serves HTTPS on 127.0.0.1 with `cert`/`key`, passing every connection to `backend`.
async fn tls_terminator(cert: &Path, key: &Path, backend: std::net::SocketAddr) -> u16 {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .expect("read cert")
        .collect::<Result<_, _>>()
        .expect("parse cert");
    let key = PrivateKeyDer::from_pem_file(key).expect("read key");
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("protocol versions")
    .with_no_client_auth()
    .with_single_cert(certs, key)
    .expect("server certificate");
    let acceptor = TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                // A failed handshake (the client refused our certificate) just ends here.
                let Ok(mut tls) = acceptor.accept(stream).await else {
                    return;
                };
                let Ok(mut plain) = TcpStream::connect(backend).await else {
                    return;
                };
                let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
            });
        }
    });
    port
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_to_the_admin_api_is_verified_against_the_custom_ca() {
    let dir = scratch("tls");
    make_ca(&dir, "kong", true);
    make_ca(&dir, "other", false);
    let kong = KongAdminDouble::start().await.expect("double");
    let port = tls_terminator(&dir.join("kong.crt"), &dir.join("kong.key"), kong.addr()).await;
    let read = |f: &str| std::fs::read(dir.join(f)).expect("read PEM");
    let loopback = vec![(
        "kong.kingress.test".to_string(),
        std::net::IpAddr::from([127, 0, 0, 1]),
    )];
    let options = |host: &str, ca: Option<Vec<u8>>, skip: bool| AdminApiOptions {
        url: format!("https://{host}:{port}"),
        token: None,
        ca_pem: ca,
        insecure_skip_verify: skip,
        timeout: Duration::from_secs(5),
        resolve: loopback.clone(),
    };
    let hash = |o: AdminApiOptions| async move {
        AdminApiClient::new(&o)
            .expect("client")
            .configuration_hash()
            .await
    };
    // The right CA, the certificate's name: verified.
    let ok = options("kong.kingress.test", Some(read("kong-ca.crt")), false);
    hash(ok.clone()).await.expect("TLS with the right CA works");
    let config = "{\"_format_version\": \"3.0\"}";
    AdminApiClient::new(&ok)
        .expect("client")
        .push(config)
        .await
        .expect("a push over verified TLS");
    assert_eq!(
        kong.current_hash(),
        kingress::kong::admin_api::config_hash(config)
    );
    // Another CA, no CA (the system's roots), or the right CA but another name: refused.
    for (what, o) in [
        (
            "a wrong CA",
            options("kong.kingress.test", Some(read("other-ca.crt")), false),
        ),
        ("no custom CA", options("kong.kingress.test", None, false)),
        (
            "an address the certificate does not name",
            options("127.0.0.1", Some(read("kong-ca.crt")), false),
        ),
    ] {
        let err = hash(o).await.expect_err(what);
        assert!(
            matches!(err, AdminApiError::Unreachable { .. }),
            "{what}: {err}"
        );
    }
    // Skipping verification is explicit, and then works with any certificate.
    hash(options("127.0.0.1", None, true))
        .await
        .expect("insecure_skip_verify accepts any certificate");
    // A CA file that is not PEM is refused up front, naming the problem.
    let err = AdminApiClient::new(&options(
        "kong.kingress.test",
        Some(b"not a certificate".to_vec()),
        false,
    ))
    .err();
    match err {
        Some(AdminApiError::Client { message, .. }) => {
            assert!(message.contains("CA bundle"), "{message}")
        }
        None => {
            // reqwest reads a bundle without certificates as empty: then nothing is trusted.
            let e = hash(options(
                "kong.kingress.test",
                Some(b"not a certificate".to_vec()),
                false,
            ))
            .await
            .expect_err("an empty bundle trusts nothing");
            assert!(matches!(e, AdminApiError::Unreachable { .. }), "{e}");
        }
        Some(other) => panic!("unexpected error {other}"),
    }
    let _ = std::fs::remove_dir_all(&dir);
}
