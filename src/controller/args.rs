//! `kingress run`: flags (KIC's names where KIC has the flag) and process entry.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;

use super::{ControllerOptions, watch::WatchScope};
use crate::kong::admin_api::AdminApiOptions;
use crate::translate::{self, Options};

#[derive(Args, Debug, Clone)]
pub struct RunArgs {
    /// Kong admin API URL of a replica; repeat for several replicas.
    #[arg(long = "kong-admin-url", default_value = "http://localhost:8001")]
    pub kong_admin_url: Vec<String>,
    /// File holding the Kong-Admin-Token (read at start; never logged).
    #[arg(long)]
    pub kong_admin_token_file: Option<PathBuf>,
    /// PEM CA bundle that signed the admin API's certificate.
    #[arg(long)]
    pub kong_admin_ca_cert_file: Option<PathBuf>,
    /// Skip TLS verification of the admin API (testing only).
    #[arg(long)]
    pub kong_admin_tls_skip_verify: bool,
    /// Timeout of one admin API request, in seconds.
    #[arg(long, default_value_t = 30)]
    pub kong_admin_request_timeout: u64,
    #[arg(long, default_value = translate::DEFAULT_INGRESS_CLASS)]
    pub ingress_class: String,
    #[arg(long, default_value = translate::DEFAULT_CONTROLLER_NAME)]
    pub gateway_api_controller_name: String,
    /// Namespaces to watch (comma-separated or repeated); all when empty.
    #[arg(long, value_delimiter = ',')]
    pub watch_namespace: Vec<String>,
    /// Wait this long after a change for more changes before translating, in milliseconds.
    #[arg(long, default_value_t = 10)]
    pub debounce_ms: u64,
    /// Log as JSON lines.
    #[arg(long)]
    pub log_json: bool,
}

impl RunArgs {
    pub fn controller_options(&self) -> Result<ControllerOptions, String> {
        let token = match &self.kong_admin_token_file {
            Some(p) => Some(
                std::fs::read_to_string(p)
                    .map_err(|e| {
                        format!("cannot read --kong-admin-token-file {}: {e}", p.display())
                    })?
                    .trim()
                    .to_string(),
            ),
            None => std::env::var("KONG_ADMIN_TOKEN").ok(),
        };
        let ca_pem = match &self.kong_admin_ca_cert_file {
            Some(p) => Some(std::fs::read(p).map_err(|e| {
                format!("cannot read --kong-admin-ca-cert-file {}: {e}", p.display())
            })?),
            None => None,
        };
        let admin_apis = self
            .kong_admin_url
            .iter()
            .map(|url| AdminApiOptions {
                url: url.clone(),
                token: token.clone(),
                ca_pem: ca_pem.clone(),
                insecure_skip_verify: self.kong_admin_tls_skip_verify,
                timeout: Duration::from_secs(self.kong_admin_request_timeout),
            })
            .collect();
        Ok(ControllerOptions {
            translate: Options {
                ingress_class: self.ingress_class.clone(),
                controller_name: self.gateway_api_controller_name.clone(),
                ..Options::default()
            },
            scope: WatchScope {
                namespaces: self.watch_namespace.clone(),
            },
            admin_apis,
            debounce: Duration::from_millis(self.debounce_ms),
        })
    }
}

fn init_logging(json: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}

pub fn main(args: RunArgs) -> ExitCode {
    init_logging(args.log_json);
    let options = match args.controller_options() {
        Ok(o) => o,
        Err(e) => {
            tracing::error!("{e}");
            return ExitCode::FAILURE;
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            tracing::error!(error = %e, "cannot start the async runtime");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async move {
        let client = match kube::Client::try_default().await {
            Ok(c) => c,
            Err(e) => {
                tracing::error!(error = %e, "cannot connect to Kubernetes");
                return ExitCode::FAILURE;
            }
        };
        let running = match super::start(client, options) {
            Ok(r) => r,
            Err(e) => {
                tracing::error!(error = %e, "cannot start the controller");
                return ExitCode::FAILURE;
            }
        };
        shutdown_signal().await;
        tracing::info!("shutting down");
        running.abort();
        ExitCode::SUCCESS
    })
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = tokio::signal::ctrl_c().await;
                    return;
                }
            };
        tokio::select! {
            _ = term.recv() => {}
            _ = tokio::signal::ctrl_c() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
