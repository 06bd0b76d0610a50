//! Client for one Kong replica's admin API in DB-less mode.
//!
//! The config is sent as a string (`{"config": "<json>"}`): Kong then reports the md5 of
//! that exact text as `/status.configuration_hash`, so kingress can tell whether a replica
//! already holds a config without sending it (also right after a restart).

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;

use super::config_text::ConfigText;
use super::listeners::KongListeners;

/// What Kong reports when it holds no configuration.
pub const EMPTY_CONFIG_HASH: &str = "00000000000000000000000000000000";

#[derive(Clone)]
pub struct AdminApiOptions {
    /// e.g. `https://10.0.0.5:8444`.
    pub url: String,
    /// Sent as `Kong-Admin-Token`; never logged.
    pub token: Option<String>,
    /// PEM CA bundle trusted for the admin API's certificate.
    pub ca_pem: Option<Vec<u8>>,
    pub insecure_skip_verify: bool,
    pub timeout: Duration,
    /// Like curl's `--resolve`: connect to these host names at these addresses (the URL's
    /// port is kept), e.g. to verify a certificate issued for a name while reaching a pod
    /// by address, or for discovered FQDN endpoints.
    pub resolve: Vec<(String, std::net::IpAddr)>,
}

impl AdminApiOptions {
    /// `url` with no token, system CAs, verification on, a 30 s timeout, no resolve overrides.
    pub fn for_url(url: impl Into<String>) -> Self {
        AdminApiOptions {
            url: url.into(),
            token: None,
            ca_pem: None,
            insecure_skip_verify: false,
            timeout: Duration::from_secs(30),
            resolve: Vec::new(),
        }
    }
}

impl fmt::Debug for AdminApiOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AdminApiOptions")
            .field("url", &self.url)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("ca_pem", &self.ca_pem.as_ref().map(|c| c.len()))
            .field("insecure_skip_verify", &self.insecure_skip_verify)
            .field("timeout", &self.timeout)
            .field("resolve", &self.resolve)
            .finish()
    }
}

/// One entity Kong refused, from `flattened_errors`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct RejectedEntity {
    pub entity_type: String,
    #[serde(default)]
    pub entity_name: Option<String>,
    #[serde(default)]
    pub entity_tags: Vec<String>,
    #[serde(default)]
    pub errors: Vec<EntityError>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct EntityError {
    #[serde(default)]
    pub field: Option<String>,
    pub message: String,
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
}

impl RejectedEntity {
    /// The value of tag `k8s-<key>:`, e.g. `tag("kind")`.
    pub fn tag(&self, key: &str) -> Option<&str> {
        let prefix = format!("k8s-{key}:");
        self.entity_tags
            .iter()
            .find_map(|t| t.strip_prefix(prefix.as_str()))
    }

    /// Like [`describe`](Self::describe) but safe for logs and Events when the entity may
    /// hold Secret-derived values (plugins: `configFrom`/`configPatches`; credentials: their
    /// Secret's keys), which Kong quotes back in its messages: only the rejected fields are
    /// named. Entity types as Kong's flattened errors name them (errors.lua `singular`).
    pub fn describe_redacted(&self) -> String {
        const FROM_SECRETS: &[&str] = &[
            "plugin",
            "acl",
            "basicauth_credential",
            "keyauth_credential",
            "hmacauth_credential",
            "jwt_secret",
            "oauth2_credential",
        ];
        if !FROM_SECRETS.contains(&self.entity_type.as_str()) {
            return self.describe();
        }
        let withheld = format!(
            "Kong's message is withheld: {} values may come from Secrets",
            self.entity_type
        );
        self.errors
            .iter()
            .map(|e| match &e.field {
                Some(f) => format!("{f}: rejected ({withheld})"),
                None => format!("rejected ({withheld})"),
            })
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// `field: message; …` for events and logs.
    pub fn describe(&self) -> String {
        self.errors
            .iter()
            .map(|e| match &e.field {
                Some(f) => format!("{f}: {}", e.message),
                None => e.message.clone(),
            })
            .collect::<Vec<_>>()
            .join("; ")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AdminApiError {
    #[error("cannot build the HTTP client for {url}: {message}")]
    Client { url: String, message: String },
    #[error("{url} unreachable: {message}")]
    Unreachable { url: String, message: String },
    #[error("{url} answered {status}: {body}")]
    Status {
        url: String,
        status: u16,
        body: String,
    },
    #[error("{url} rejected the configuration: {message}")]
    Rejected {
        url: String,
        message: String,
        entities: Vec<RejectedEntity>,
    },
}

impl AdminApiError {
    /// Worth retrying with backoff: the replica is down, busy or failing, not the config.
    pub fn is_retryable(&self) -> bool {
        match self {
            AdminApiError::Unreachable { .. } => true,
            AdminApiError::Status { status, .. } => *status == 429 || *status >= 500,
            AdminApiError::Client { .. } | AdminApiError::Rejected { .. } => false,
        }
    }

    /// Fixed label for metrics and event reasons.
    pub fn category(&self) -> &'static str {
        match self {
            AdminApiError::Client { .. } => "client",
            AdminApiError::Unreachable { .. } => "unreachable",
            AdminApiError::Status { .. } => "status",
            AdminApiError::Rejected { .. } => "rejected",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PushOutcome {
    /// 201: Kong loaded the config.
    Applied,
    /// 304: Kong already held exactly this config.
    Unchanged,
}

/// What a replica's `GET /` says of it.
#[derive(Clone, Debug)]
pub struct Root {
    pub listeners: KongListeners,
    pub version: Option<String>,
    pub router_flavor: Option<String>,
}

#[derive(Clone)]
pub struct AdminApiClient {
    http: reqwest::Client,
    url: String,
    token: Option<String>,
}

impl fmt::Debug for AdminApiClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AdminApiClient")
            .field("url", &self.url)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
struct StatusBody {
    #[serde(default)]
    configuration_hash: Option<String>,
}

#[derive(Deserialize)]
struct ErrorBody {
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    flattened_errors: Vec<RejectedEntity>,
}

/// md5 hex of the config text: what Kong will report as `configuration_hash`.
pub fn config_hash(text: &str) -> String {
    format!("{:x}", md5::compute(text.as_bytes()))
}

/// A cheap identity of a config text for the controller's own bookkeeping: XXH3-128 (hex)
/// of the text escaped as the push body carries it, which is what
/// [`ConfigText::id`] hashes without decoding. md5 runs at ~0.5 GB/s (~30 ms for a
/// 10k-Service config), XXH3 at ~10 GB/s.
pub fn config_id(text: &str) -> String {
    ConfigText::from(text.to_string()).id()
}

impl AdminApiClient {
    pub fn new(options: &AdminApiOptions) -> Result<Self, AdminApiError> {
        let url = options.url.trim_end_matches('/').to_string();
        let client_err = |message: String| AdminApiError::Client {
            url: url.clone(),
            message,
        };
        let mut builder = reqwest::Client::builder()
            .timeout(options.timeout)
            .connect_timeout(options.timeout.min(Duration::from_secs(5)))
            .danger_accept_invalid_certs(options.insecure_skip_verify);
        for (name, ip) in &options.resolve {
            builder = builder.resolve(name, std::net::SocketAddr::new(*ip, 0));
        }
        if let Some(pem) = &options.ca_pem {
            let certs = reqwest::Certificate::from_pem_bundle(pem)
                .map_err(|e| client_err(format!("invalid CA bundle: {e}")))?;
            for cert in certs {
                builder = builder.add_root_certificate(cert);
            }
        }
        let http = builder.build().map_err(|e| client_err(e.to_string()))?;
        Ok(AdminApiClient {
            http,
            url,
            token: options.token.clone(),
        })
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        let req = self.http.request(method, format!("{}{path}", self.url));
        match &self.token {
            Some(t) => match reqwest::header::HeaderValue::from_str(t) {
                Ok(mut value) => {
                    // Keeps it out of HTTP-level debug output.
                    value.set_sensitive(true);
                    req.header("Kong-Admin-Token", value)
                }
                Err(_) => req.header("Kong-Admin-Token", t),
            },
            None => req,
        }
    }

    fn unreachable(&self, e: &reqwest::Error) -> AdminApiError {
        AdminApiError::Unreachable {
            url: self.url.clone(),
            message: e.to_string(),
        }
    }

    /// `GET path`, its 200 body decoded as JSON.
    async fn get_json<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
    ) -> Result<T, AdminApiError> {
        let resp = self
            .request(reqwest::Method::GET, path)
            .send()
            .await
            .map_err(|e| self.unreachable(&e))?;
        let status = resp.status().as_u16();
        let body = resp.text().await.map_err(|e| self.unreachable(&e))?;
        if status != 200 {
            return Err(AdminApiError::Status {
                url: self.url.clone(),
                status,
                body: truncate(&body),
            });
        }
        serde_json::from_str(&body).map_err(|e| AdminApiError::Status {
            url: self.url.clone(),
            status,
            body: format!("unreadable GET {path} body: {e}"),
        })
    }

    /// The hash of the config the replica holds (all zeros when empty).
    pub async fn configuration_hash(&self) -> Result<String, AdminApiError> {
        let parsed: StatusBody = self.get_json("/status").await?;
        Ok(parsed
            .configuration_hash
            .unwrap_or_else(|| EMPTY_CONFIG_HASH.to_string()))
    }

    /// What the replica's `GET /` says of it: listeners, version and router flavor.
    pub async fn root(&self) -> Result<Root, AdminApiError> {
        let root: serde_json::Value = self.get_json("/").await?;
        Ok(Root {
            listeners: KongListeners::from_root(&root),
            version: root["version"].as_str().map(str::to_string),
            // Kong 3.10 kong/api/routes/kong.lua 73-148: the configuration, router_flavor in it.
            router_flavor: root["configuration"]["router_flavor"]
                .as_str()
                .map(str::to_string),
        })
    }

    /// `POST /config?check_hash=1&flatten_errors=1` with the config as a string.
    pub async fn push(&self, config_text: &str) -> Result<PushOutcome, AdminApiError> {
        self.push_config(Arc::new(ConfigText::from(config_text.to_string())))
            .await
    }

    /// Pushes `{"config": text}`, escaping the text as it streams: the pieces are shared
    /// with the translator and every other replica's push, never copied whole.
    pub async fn push_config(&self, text: Arc<ConfigText>) -> Result<PushOutcome, AdminApiError> {
        let len = text.body_len();
        let chunks = futures::stream::iter(text.body_chunks().map(Ok::<_, std::io::Error>));
        let resp = self
            .request(
                reqwest::Method::POST,
                "/config?check_hash=1&flatten_errors=1",
            )
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(reqwest::header::CONTENT_LENGTH, len)
            .body(reqwest::Body::wrap_stream(chunks))
            .send()
            .await
            .map_err(|e| self.unreachable(&e))?;
        let status = resp.status().as_u16();
        match status {
            200 | 201 => Ok(PushOutcome::Applied),
            304 => Ok(PushOutcome::Unchanged),
            400 => {
                let text = resp.text().await.map_err(|e| self.unreachable(&e))?;
                let parsed: Option<ErrorBody> = serde_json::from_str(&text).ok();
                let (message, entities) = match parsed {
                    Some(b) => (
                        b.message.unwrap_or_else(|| truncate(&text)),
                        b.flattened_errors,
                    ),
                    None => (truncate(&text), vec![]),
                };
                Err(AdminApiError::Rejected {
                    url: self.url.clone(),
                    message,
                    entities,
                })
            }
            _ => {
                let text = resp.text().await.unwrap_or_default();
                Err(AdminApiError::Status {
                    url: self.url.clone(),
                    status,
                    body: truncate(&text),
                })
            }
        }
    }
}

/// Error bodies can hold the whole config; keep messages readable.
fn truncate(text: &str) -> String {
    const MAX: usize = 2000;
    if text.len() <= MAX {
        return text.to_string();
    }
    let mut end = MAX;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… ({} bytes)", &text[..end], text.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_is_md5_hex() {
        assert_eq!(config_hash(""), "d41d8cd98f00b204e9800998ecf8427e");
    }

    #[test]
    fn token_is_not_in_debug_output() {
        let o = AdminApiOptions {
            url: "http://k".into(),
            token: Some("s3cr3t".into()),
            ca_pem: None,
            insecure_skip_verify: false,
            timeout: Duration::from_secs(1),
            resolve: vec![],
        };
        assert!(!format!("{o:?}").contains("s3cr3t"));
        let client = AdminApiClient::new(&o).expect("client");
        assert!(!format!("{client:?}").contains("s3cr3t"), "{client:?}");
    }

    #[test]
    fn retryable_errors() {
        let s = |status| AdminApiError::Status {
            url: "u".into(),
            status,
            body: String::new(),
        };
        assert!(s(500).is_retryable());
        assert!(s(503).is_retryable());
        assert!(s(429).is_retryable());
        assert!(!s(401).is_retryable());
        let r = AdminApiError::Rejected {
            url: "u".into(),
            message: String::new(),
            entities: vec![],
        };
        assert!(!r.is_retryable());
    }
}
