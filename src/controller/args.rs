//! `kingress run`: flags (KIC's names where KIC has the flag) and process entry.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;

use super::{ControllerOptions, status::StatusOptions, watch::WatchScope};
use crate::kong::admin_api::AdminApiOptions;
use crate::translate::{self, Options};

#[derive(Args, Debug, Clone)]
pub struct RunArgs {
    /// Kong admin API URL of a replica; repeat for several replicas.
    #[arg(long = "kong-admin-url", default_value = "http://localhost:8001")]
    pub kong_admin_url: Vec<String>,
    /// `<namespace>/<name>` of the (headless) Service in front of the Kong replicas' admin
    /// port: every ready endpoint is configured; overrides --kong-admin-url.
    #[arg(long)]
    pub kong_admin_service: Option<String>,
    /// Name of the admin port on that Service (default: admin-tls, kong-admin-tls, admin,
    /// kong-admin, whichever exists). Port names containing "tls" are spoken to over HTTPS.
    #[arg(long)]
    pub kong_admin_service_port_name: Option<String>,
    /// Elect a leader among controller replicas through a Lease; only the leader writes to
    /// Kong and to status.
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    pub leader_elect: bool,
    /// Name of the Lease (KIC's default, so the two never run side by side unnoticed).
    #[arg(long, default_value = super::leader::DEFAULT_ELECTION_ID)]
    pub election_id: String,
    /// Namespace of the Lease (default: $POD_NAMESPACE).
    #[arg(long)]
    pub election_namespace: Option<String>,
    /// Address for /healthz and /readyz.
    #[arg(long, default_value = "0.0.0.0:10254")]
    pub health_probe_bind_address: std::net::SocketAddr,
    /// Address for /metrics.
    #[arg(long, default_value = "0.0.0.0:10255")]
    pub metrics_bind_address: std::net::SocketAddr,
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
    /// KIC's feature gates, `Name=true|false,...` (e.g. `RewriteURIs=true`), KIC's defaults;
    /// repeatable.
    #[arg(long, value_name = "GATES")]
    pub feature_gates: Vec<String>,
    /// Keep terminating endpoints at weight 0 so Kong drains them (KIC's flag; on here,
    /// off in KIC, which drops them: `--enable-drain-support=false` for KIC's behaviour).
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
    pub enable_drain_support: bool,
    /// Translate for this Kong version (KIC's version gates) instead of each replica's own,
    /// as it reports it on `GET /` (replicas of different versions get a config each).
    #[arg(long)]
    pub kong_version: Option<crate::kong::version::KongVersion>,
    /// KIC's `--cluster-domain`: appended to service-upstream targets
    /// (`<name>.<namespace>.svc.<domain>`); empty (KIC's default) appends nothing.
    #[arg(long, default_value = "", value_parser = crate::translate::names::parse_cluster_domain)]
    pub cluster_domain: String,
    /// KIC's `--combined-services-from-different-httproutes`: rules of different HTTPRoutes of
    /// a namespace with the same backends share one Kong service named after the backends.
    #[arg(long, default_value_t = false, action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
    pub combined_services_from_different_httproutes: bool,
    /// Namespaces to watch (comma-separated or repeated); all when empty.
    #[arg(long, value_delimiter = ',')]
    pub watch_namespace: Vec<String>,
    /// KIC's `--gateway-to-reconcile`: `namespace/name` of the only Gateway read; routes that
    /// do not name it as a parent are ignored.
    #[arg(long, value_name = "NAMESPACE/NAME")]
    pub gateway_to_reconcile: Option<String>,
    /// KIC's `--enable-controller-*` flags: false stops watching those kinds.
    #[command(flatten)]
    pub controllers: super::toggles::ControllerToggles,
    /// KIC's `--proxy-sync-seconds`: how often each replica's `/status` is compared with the
    /// config it should hold (a restarted Kong gets it again).
    #[arg(long, default_value_t = 3.0, value_parser = parse_seconds)]
    pub proxy_sync_seconds: f64,
    /// KIC's `--enable-reverse-sync`: push every `--proxy-sync-seconds` even when a replica
    /// already holds the config.
    #[arg(long, default_value_t = false, action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
    pub enable_reverse_sync: bool,
    /// KIC's `--use-last-valid-config-for-fallback`: when Kong rejects a configuration, the
    /// objects behind it (and what depends on them) are configured as Kong last accepted
    /// them instead of being left out.
    #[arg(long, default_value_t = false, action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
    pub use_last_valid_config_for_fallback: bool,
    /// Wait this long after a change for more changes before translating, in milliseconds.
    #[arg(long, default_value_t = 10)]
    pub debounce_ms: u64,
    /// Log as JSON lines.
    #[arg(long)]
    pub log_json: bool,
    /// Update the status of Ingresses, HTTPRoutes and KongUpstreamPolicies (KIC's flag).
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    pub update_status: bool,
    /// `<namespace>/<name>` of the Service whose addresses go into Ingress
    /// `status.loadBalancer` (its load balancer's, else its cluster IPs).
    #[arg(long)]
    pub publish_service: Option<String>,
    /// Addresses (IPs or hostnames) for Ingress `status.loadBalancer`, comma-separated;
    /// override `--publish-service`.
    #[arg(long, value_delimiter = ',')]
    pub publish_status_address: Vec<String>,
    /// KIC's `--publish-service-udp`: `namespace/name` of the Service whose addresses
    /// UDPIngresses get (default: those of `--publish-service`).
    #[arg(long, value_name = "NAMESPACE/NAME")]
    pub publish_service_udp: Option<String>,
    /// KIC's `--publish-status-address-udp`: fixed UDPIngress addresses, over
    /// `--publish-service-udp` (comma-separated or repeated).
    #[arg(long, value_delimiter = ',')]
    pub publish_status_address_udp: Vec<String>,
}

/// A flag value `kingress run` cannot use.
#[derive(Debug, thiserror::Error)]
pub enum ArgsError {
    #[error("cannot read --{flag} {}: {source}", path.display())]
    Read {
        flag: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("--{flag} must be <namespace>/<name>, got {value:?}")]
    NotNamespacedName { flag: &'static str, value: String },
    #[error("--leader-elect needs --election-namespace or $POD_NAMESPACE")]
    NoElectionNamespace,
    #[error(transparent)]
    FeatureGates(#[from] crate::translate::feature_gates::FeatureGateError),
}

/// `<namespace>/<name>`, both non-empty.
/// The non-empty addresses of a list flag, trimmed.
fn trimmed(addresses: &[String]) -> Vec<String> {
    addresses
        .iter()
        .map(|a| a.trim().to_string())
        .filter(|a| !a.is_empty())
        .collect()
}

/// A positive number of seconds.
fn parse_seconds(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 && v <= 86_400.0 => Ok(v),
        _ => Err(format!(
            "{s:?} is not a number of seconds above 0 (at most a day)"
        )),
    }
}

fn namespaced_name(flag: &'static str, value: &str) -> Result<(String, String), ArgsError> {
    match value.split_once('/') {
        Some((ns, name)) if !ns.is_empty() && !name.is_empty() && !name.contains('/') => {
            Ok((ns.to_string(), name.to_string()))
        }
        _ => Err(ArgsError::NotNamespacedName {
            flag,
            value: value.to_string(),
        }),
    }
}

/// Reads the file a flag names with `read` (`std::fs::read`, `std::fs::read_to_string`).
fn read_file<T>(
    flag: &'static str,
    path: &PathBuf,
    read: fn(&PathBuf) -> std::io::Result<T>,
) -> Result<T, ArgsError> {
    read(path).map_err(|source| ArgsError::Read {
        flag,
        path: path.clone(),
        source,
    })
}

impl RunArgs {
    pub fn controller_options(&self) -> Result<ControllerOptions, ArgsError> {
        let token = match &self.kong_admin_token_file {
            Some(p) => {
                let text = read_file("kong-admin-token-file", p, |p| std::fs::read_to_string(p))?;
                Some(text.trim().to_string())
            }
            None => std::env::var("KONG_ADMIN_TOKEN").ok(),
        };
        let ca_pem = match &self.kong_admin_ca_cert_file {
            Some(p) => Some(read_file("kong-admin-ca-cert-file", p, |p| {
                std::fs::read(p)
            })?),
            None => None,
        };
        let gateway_to_reconcile = match &self.gateway_to_reconcile {
            Some(s) => Some(namespaced_name("gateway-to-reconcile", s)?),
            None => None,
        };
        let publish_service = match &self.publish_service {
            Some(s) => Some(namespaced_name("publish-service", s)?),
            None => None,
        };
        let publish_service_udp = match &self.publish_service_udp {
            Some(s) => Some(namespaced_name("publish-service-udp", s)?),
            None => None,
        };
        let template = AdminApiOptions {
            url: String::new(),
            token,
            ca_pem,
            insecure_skip_verify: self.kong_admin_tls_skip_verify,
            timeout: Duration::from_secs(self.kong_admin_request_timeout),
            resolve: vec![],
        };
        let admin_apis = self
            .kong_admin_url
            .iter()
            .map(|url| AdminApiOptions {
                url: url.clone(),
                ..template.clone()
            })
            .collect();
        let admin_service = match &self.kong_admin_service {
            Some(s) => {
                let (namespace, name) = namespaced_name("kong-admin-service", s)?;
                Some(super::AdminService {
                    namespace,
                    name,
                    port_name: self.kong_admin_service_port_name.clone(),
                    template,
                })
            }
            None => None,
        };
        let leader_election = if self.leader_elect {
            let namespace = self
                .election_namespace
                .clone()
                .or_else(|| std::env::var("POD_NAMESPACE").ok())
                .ok_or(ArgsError::NoElectionNamespace)?;
            let identity = std::env::var("POD_NAME")
                .or_else(|_| std::env::var("HOSTNAME"))
                .unwrap_or_else(|_| format!("kingress-{}", std::process::id()));
            Some(super::leader::LeaderOptions {
                namespace,
                name: self.election_id.clone(),
                identity,
                lease_duration: Duration::from_secs(15),
                renew: Duration::from_secs(5),
            })
        } else {
            None
        };
        Ok(ControllerOptions {
            translate: Options {
                ingress_class: self.ingress_class.clone(),
                controller_name: self.gateway_api_controller_name.clone(),
                feature_gates: self.feature_gates.join(",").parse()?,
                enable_drain_support: self.enable_drain_support,
                cluster_domain: self.cluster_domain.clone(),
                combined_services_from_different_httproutes: self
                    .combined_services_from_different_httproutes,
                gateway_to_reconcile: gateway_to_reconcile.clone(),
                ..Options::default()
            },
            scope: WatchScope {
                namespaces: self.watch_namespace.clone(),
                disabled: self.controllers.disabled.clone(),
                gateway: gateway_to_reconcile,
            },
            admin_apis,
            admin_service,
            leader_election,
            probe_addr: Some(self.health_probe_bind_address),
            metrics_addr: Some(self.metrics_bind_address),
            kong_version: self.kong_version,
            push: super::pusher::PushOptions {
                recheck: Duration::from_secs_f64(self.proxy_sync_seconds),
                reverse_sync: self.enable_reverse_sync,
            },
            last_valid_fallback: self.use_last_valid_config_for_fallback,
            debounce: Duration::from_millis(self.debounce_ms),
            status: StatusOptions {
                update_status: self.update_status,
                publish_service,
                publish_status_addresses: trimmed(&self.publish_status_address),
                publish_service_udp,
                publish_status_addresses_udp: trimmed(&self.publish_status_address_udp),
                ..StatusOptions::default()
            },
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
        let running = match super::start(client, options).await {
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

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        run: RunArgs,
    }

    fn options(args: &[&str]) -> Result<ControllerOptions, String> {
        let args = ["kingress", "--leader-elect=false"]
            .into_iter()
            .chain(args.iter().copied());
        let cli = Cli::try_parse_from(args).map_err(|e| e.to_string())?;
        cli.run.controller_options().map_err(|e| e.to_string())
    }

    #[test]
    fn gateway_to_reconcile_is_namespace_slash_name_and_scopes_watch_and_translation() {
        let o = options(&["--gateway-to-reconcile", "infra/kong"]).expect("parses");
        let want = Some(("infra".to_string(), "kong".to_string()));
        assert_eq!(o.scope.gateway, want);
        assert_eq!(o.translate.gateway_to_reconcile, want);
        // KIC's cli_validation.go 32-46: exactly namespace/name, neither empty.
        for bad in ["kong", "/kong", "infra/", "a/b/c"] {
            let e = options(&["--gateway-to-reconcile", bad]).expect_err(bad);
            assert!(e.contains("gateway-to-reconcile"), "{bad}: {e}");
        }
        assert_eq!(options(&[]).expect("parses").scope.gateway, None);
    }

    #[test]
    fn udp_publish_flags_reach_the_status_options() {
        let o = options(&[
            "--publish-service=kong/proxy",
            "--publish-service-udp=kong/udp-proxy",
            "--publish-status-address-udp= 10.0.0.9 ,udp.example.com",
        ])
        .expect("parses");
        assert_eq!(
            o.status.publish_service_udp,
            Some(("kong".into(), "udp-proxy".into()))
        );
        assert_eq!(
            o.status.publish_status_addresses_udp,
            ["10.0.0.9", "udp.example.com"]
        );
        let e = options(&["--publish-service-udp=udp-proxy"]).expect_err("no namespace");
        assert!(e.contains("publish-service-udp"), "{e}");
    }

    #[test]
    fn the_last_valid_fallback_is_off_unless_asked_for_as_in_kic() {
        assert!(!options(&[]).expect("parses").last_valid_fallback);
        let on = options(&["--use-last-valid-config-for-fallback"]).expect("parses");
        assert!(on.last_valid_fallback);
        let off = options(&["--use-last-valid-config-for-fallback=false"]).expect("parses");
        assert!(!off.last_valid_fallback);
    }

    #[test]
    fn proxy_sync_seconds_and_reverse_sync_set_how_replicas_are_rechecked() {
        let default = options(&[]).expect("parses").push;
        assert_eq!(default, super::super::pusher::PushOptions::default());
        assert_eq!(default.recheck, Duration::from_secs(3), "KIC's default");
        let o = options(&["--proxy-sync-seconds", "0.5", "--enable-reverse-sync"]).expect("parses");
        assert_eq!(o.push.recheck, Duration::from_millis(500));
        assert!(o.push.reverse_sync);
        for bad in ["0", "-1", "NaN", "soon"] {
            let e = options(&[&format!("--proxy-sync-seconds={bad}")]).expect_err(bad);
            assert!(e.contains("proxy-sync-seconds"), "{bad}: {e}");
        }
    }
}
