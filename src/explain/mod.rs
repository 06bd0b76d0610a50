//! `kingress explain`: what Kong's balancer does with one upstream. For consistent
//! hashing that is each target's real share of keys (its share of the wheel, which
//! departs from its weight), the target each given key lands on, and the fraction of
//! keys that move between two states (say 2 and 3 endpoints).
//!
//! The upstream comes from manifests, translated exactly as `kingress translate`
//! does, or from a Kong declarative config. The wheel is [`crate::kong::ring`], a
//! faithful rebuild of Kong's, so the answers are Kong's, not an approximation.

mod kong_config;
mod report;
pub mod request;
mod select;
mod svg;
mod table;

use std::fmt;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{ArgGroup, Args, ValueEnum};
use thiserror::Error;

use crate::manifests::ManifestError;

pub use report::{Analysis, Comparison, Explained, Explanation, RingState, Row, analyse};

/// `kingress explain` arguments.
#[derive(Args, Debug, Clone)]
#[command(group(ArgGroup::new("input").required(true).args(["files", "kong_config"])))]
#[command(group(ArgGroup::new("object").required(true).args(["service", "route", "upstream", "request"])))]
pub struct ExplainArgs {
    /// Manifest files or folders, read as `translate` reads them.
    #[arg(short = 'f', long = "filename", value_name = "PATH")]
    pub files: Vec<PathBuf>,
    /// The Service whose upstream to explain (its Ingress backends).
    #[arg(long, value_name = "NAMESPACE/NAME", value_parser = ObjectName::parse, requires = "files")]
    pub service: Option<ObjectName>,
    /// The Service port (number or name) when the Service has several; without it every
    /// port in use is explained.
    #[arg(long, value_name = "PORT", requires = "service")]
    pub port: Option<String>,
    /// The Gateway API route whose upstream to explain (an HTTPRoute unless --route-kind).
    #[arg(long, value_name = "NAMESPACE/NAME", value_parser = ObjectName::parse, requires = "files")]
    pub route: Option<ObjectName>,
    /// The kind of --route.
    #[arg(long, value_enum, default_value = "HTTPRoute", requires = "route")]
    pub route_kind: RouteKindArg,
    /// The route's rule (0-based index); without it every rule (group) is explained.
    #[arg(long, value_name = "N", requires = "route")]
    pub rule: Option<usize>,
    /// A Kong declarative config (YAML or JSON) to read instead of manifests.
    #[arg(long, value_name = "FILE", conflicts_with = "files")]
    pub kong_config: Option<PathBuf>,
    /// The upstream to explain in --kong-config.
    #[arg(long, value_name = "NAME", requires = "kong_config")]
    pub upstream: Option<String>,
    /// A hash input value (header value, cookie, client IP, …); shows the target Kong picks.
    #[arg(long = "key", value_name = "VALUE")]
    pub keys: Vec<String>,
    /// The other state to compare with: manifest paths (repeatable), or one Kong config
    /// with --kong-config. Shows the fraction of keys that change target.
    #[arg(long = "compare-with", value_name = "PATH")]
    pub compare_with: Vec<PathBuf>,
    /// A request, `METHOD URL` (`GET https://shop.example.com/cart/42`): the route Kong's
    /// router picks for it, the routes it beat, its service, upstream and plugins.
    #[arg(long, value_name = "METHOD URL")]
    pub request: Option<String>,
    /// A request header, `name: value` (repeatable; `Host` replaces the URL's host).
    #[arg(
        long = "header",
        short = 'H',
        value_name = "NAME: VALUE",
        requires = "request"
    )]
    pub headers: Vec<String>,
    /// The port of the Kong listener the request arrives on (Kong's defaults: 8000, 8443 for
    /// TLS); routes with `host:port` compare it unless the Host header carries a port.
    #[arg(long, value_name = "PORT", requires = "request")]
    pub listener_port: Option<u16>,
    /// The client's address (routes with `sources`).
    #[arg(long, value_name = "IP", requires = "request")]
    pub client_ip: Option<std::net::IpAddr>,
    /// Kong's `router_flavor` the routes are matched under.
    #[arg(long, value_enum, default_value_t = crate::kong::router_flavor::RouterFlavor::TraditionalCompatible, requires = "request")]
    pub router_flavor: crate::kong::router_flavor::RouterFlavor,
    #[arg(short = 'o', long = "output", value_enum, default_value = "table")]
    pub output: OutputFormat,
}

/// The route kinds `--route-kind` names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum RouteKindArg {
    #[value(name = "HTTPRoute")]
    Http,
    #[value(name = "GRPCRoute")]
    Grpc,
    #[value(name = "TCPRoute")]
    Tcp,
    #[value(name = "UDPRoute")]
    Udp,
    #[value(name = "TLSRoute")]
    Tls,
}

impl RouteKindArg {
    pub fn kind(self) -> crate::translate::gateway::route::RouteKind {
        use crate::translate::gateway::route::RouteKind;
        match self {
            RouteKindArg::Http => RouteKind::Http,
            RouteKindArg::Grpc => RouteKind::Grpc,
            RouteKindArg::Tcp => RouteKind::Tcp,
            RouteKindArg::Udp => RouteKind::Udp,
            RouteKindArg::Tls => RouteKind::Tls,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// Aligned columns, for reading.
    Table,
    /// Every number, fields in a fixed order (docs/explain.md).
    Json,
    /// The wheel as a picture: one SVG document, several upstreams stacked.
    Svg,
    /// An HTML page: one picture per upstream, then the table; no script.
    Html,
}

/// `namespace/name`; a bare `name` is in `default`, as with `kubectl`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObjectName {
    pub namespace: String,
    pub name: String,
}

impl ObjectName {
    pub fn parse(text: &str) -> Result<Self, String> {
        let (namespace, name) = text.split_once('/').unwrap_or(("default", text));
        let ok = |s: &str| !s.is_empty() && !s.contains('/');
        if !ok(namespace) || !ok(name) {
            return Err(format!("expected NAMESPACE/NAME, got {text:?}"));
        }
        Ok(Self {
            namespace: namespace.to_string(),
            name: name.to_string(),
        })
    }

    fn key(&self) -> (String, String) {
        (self.namespace.clone(), self.name.clone())
    }
}

impl fmt::Display for ObjectName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.namespace, self.name)
    }
}

#[derive(Debug, Error)]
pub enum ExplainError {
    #[error("cannot read manifests: {0}")]
    Manifests(#[from] ManifestError),
    #[error("{0} needs {1}")]
    Needs(&'static str, &'static str),
    #[error("with -f, name what to explain: --service NAMESPACE/NAME or --route NAMESPACE/NAME")]
    NothingSelected,
    #[error("Service {service} not found in {inputs}; Services there: {known}")]
    ServiceNotFound {
        service: String,
        inputs: String,
        known: String,
    },
    #[error("Service {service} has no port {port}; it has [{ports}]")]
    PortNotFound {
        service: String,
        port: String,
        ports: String,
    },
    #[error("no upstream for Service {service}{port} in {inputs}: {reason}")]
    NoServiceUpstream {
        service: String,
        port: String,
        inputs: String,
        reason: String,
    },
    #[error("{kind} {route} not found in {inputs}; {kind}s there: {known}")]
    RouteNotFound {
        kind: &'static str,
        route: String,
        inputs: String,
        known: String,
    },
    #[error("{kind} {route} has no rule {rule}: it has {count} rule(s), numbered from 0")]
    RuleOutOfRange {
        kind: &'static str,
        route: String,
        rule: usize,
        count: usize,
    },
    #[error("no upstream for {kind} {route}{rule} in {inputs}: {reason}")]
    NoRouteUpstream {
        kind: &'static str,
        route: String,
        rule: String,
        inputs: String,
        reason: String,
    },
    #[error("cannot read Kong config {path}: {source}")]
    ReadKongConfig {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("Kong config {path} is not valid JSON: {source}")]
    KongConfigJson {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("Kong config {path} is not valid YAML: {source}")]
    KongConfigYaml {
        path: PathBuf,
        source: crate::yaml::YamlError,
    },
    #[error("Kong config {path}: {message}")]
    KongConfigShape { path: PathBuf, message: String },
    #[error("Kong config {path}: upstream {name:?} is not valid: {source}")]
    KongConfigUpstream {
        path: PathBuf,
        name: String,
        source: serde_json::Error,
    },
    #[error("upstream {name:?} not found in Kong config {path}; upstreams there: {known}")]
    UpstreamNotFound {
        name: String,
        path: PathBuf,
        known: String,
    },
    #[error("--compare-with takes exactly one Kong config with --kong-config, got {0}")]
    CompareKongConfigCount(usize),
    #[error("upstream {name} ({source_desc}) has no counterpart in {inputs}")]
    NoCounterpart {
        name: String,
        source_desc: String,
        inputs: String,
    },
    #[error("cannot render JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("--request: {0}")]
    Request(String),
    #[error("-o {0} draws an upstream's wheel; with --request use -o table or -o json")]
    RequestPicture(&'static str),
}

/// `--request`: where Kong's router sends the request, among the routes of the manifests
/// (translated as `translate` does, for `--router-flavor`) or of `--kong-config`.
pub fn run_request(args: &ExplainArgs) -> Result<request::RequestExplanation, ExplainError> {
    match args.output {
        OutputFormat::Svg => return Err(ExplainError::RequestPicture("svg")),
        OutputFormat::Html => return Err(ExplainError::RequestPicture("html")),
        OutputFormat::Table | OutputFormat::Json => {}
    }
    let line = args.request.as_deref().unwrap_or_default();
    let req = request::parse(line, &args.headers, args.listener_port, args.client_ip)
        .map_err(ExplainError::Request)?;
    let mut notes = Vec::new();
    let config = match &args.kong_config {
        Some(path) => kong_config::read(path)?,
        None => {
            let loaded = crate::manifests::load(&args.files)?;
            notes.extend(select::unreadable(&loaded));
            let options = crate::translate::Options {
                assume_attached_without_gateways: true,
                router_flavor: args.router_flavor,
                ..crate::translate::Options::default()
            };
            let translation = crate::translate::translate(&loaded.snapshot, &options);
            serde_json::to_value(&translation.config)?
        }
    };
    let mut explained = request::explain(&config, args.router_flavor, req);
    notes.append(&mut explained.notes);
    explained.notes = notes;
    Ok(explained)
}

/// Explains what `args` select. Notes (input problems about the selected objects) are
/// returned with the result, for the caller to show.
pub fn run(args: &ExplainArgs) -> Result<Explanation, ExplainError> {
    // clap counts a `requires` as met when the required flag conflicts with one given
    // (--service, --route and --upstream exclude each other), so these are checked here.
    let manifests = !args.files.is_empty();
    let needs = [
        (
            args.port.is_some() && args.service.is_none(),
            "--port",
            "--service",
        ),
        (
            args.rule.is_some() && args.route.is_none(),
            "--rule",
            "--route",
        ),
        (
            args.service.is_some() && !manifests,
            "--service",
            "-f/--filename",
        ),
        (
            args.route.is_some() && !manifests,
            "--route",
            "-f/--filename",
        ),
        (
            args.upstream.is_some() && args.kong_config.is_none(),
            "--upstream",
            "--kong-config",
        ),
    ];
    if let Some(&(_, flag, needed)) = needs.iter().find(|n| n.0) {
        return Err(ExplainError::Needs(flag, needed));
    }
    let mut notes = Vec::new();
    let (selected, compared) = match &args.kong_config {
        Some(path) => {
            let name = args.upstream.as_deref().unwrap_or_default();
            let one = kong_config::select(path, name, &mut notes)?;
            let other = match args.compare_with.as_slice() {
                [] => None,
                [other] => Some(kong_config::select(other, name, &mut notes)?),
                more => return Err(ExplainError::CompareKongConfigCount(more.len())),
            };
            (one, other)
        }
        None => {
            let what = select::What::from_args(args).ok_or(ExplainError::NothingSelected)?;
            let one = select::from_manifests(&args.files, &what, &mut notes)?;
            let other = match args.compare_with.is_empty() {
                true => None,
                false => Some(select::from_manifests(
                    &args.compare_with,
                    &what,
                    &mut notes,
                )?),
            };
            (one, other)
        }
    };
    let mut upstreams = Vec::with_capacity(selected.len());
    for one in selected {
        let other = match &compared {
            None => None,
            Some(list) => {
                let found = list.iter().find(|o| o.pair_key == one.pair_key);
                let found = found.ok_or_else(|| ExplainError::NoCounterpart {
                    name: one.upstream.name.clone(),
                    source_desc: one.source.clone(),
                    inputs: select::describe_paths(&args.compare_with),
                })?;
                Some((found.source.clone(), found.upstream.clone()))
            }
        };
        upstreams.push(Explained::new(one.source, one.upstream, other, &args.keys));
    }
    Ok(Explanation { upstreams, notes })
}

/// The `explain` subcommand: output on stdout, notes and errors on stderr.
pub fn main(args: &ExplainArgs) -> ExitCode {
    let mut stderr = std::io::stderr().lock();
    if args.request.is_some() {
        let explained = match run_request(args) {
            Ok(e) => e,
            Err(e) => {
                let _ = writeln!(stderr, "error: {e}");
                return ExitCode::FAILURE;
            }
        };
        for note in &explained.notes {
            let _ = writeln!(stderr, "{note}");
        }
        let text = match args.output {
            // run_request refuses the pictures.
            OutputFormat::Table | OutputFormat::Svg | OutputFormat::Html => explained.to_table(),
            OutputFormat::Json => match serde_json::to_string_pretty(&explained) {
                Ok(t) => t + "\n",
                Err(e) => {
                    let _ = writeln!(stderr, "error: {e}");
                    return ExitCode::FAILURE;
                }
            },
        };
        let mut stdout = std::io::stdout().lock();
        return match stdout
            .write_all(text.as_bytes())
            .and_then(|()| stdout.flush())
        {
            Ok(()) => ExitCode::SUCCESS,
            Err(_) => ExitCode::FAILURE,
        };
    }
    let explanation = match run(args) {
        Ok(e) => e,
        Err(e) => {
            let _ = writeln!(stderr, "error: {e}");
            return ExitCode::FAILURE;
        }
    };
    for note in &explanation.notes {
        let _ = writeln!(stderr, "{note}");
    }
    let text = match args.output {
        OutputFormat::Table => explanation.to_table(),
        OutputFormat::Svg => explanation.to_svg(),
        OutputFormat::Html => explanation.to_html(),
        OutputFormat::Json => match explanation.to_json() {
            Ok(t) => t,
            Err(e) => {
                let _ = writeln!(stderr, "error: {e}");
                return ExitCode::FAILURE;
            }
        },
    };
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Ok(()) => ExitCode::SUCCESS,
        Err(_) => ExitCode::FAILURE,
    }
}
