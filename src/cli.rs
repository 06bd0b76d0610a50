//! Subcommands: `translate` and `explain` (offline), `crds`, and `run` (the controller).

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

use crate::kinds::{Kind, ObjectKey};
use crate::manifests;
use crate::translate::{self, Options, Severity};

#[derive(Parser, Debug)]
#[command(
    name = "kingress",
    version,
    about = "Kubernetes ingress controller for Kong (KIC-compatible)"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Format {
    Yaml,
    Json,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Print the Kong declarative config for a set of manifests (no cluster needed).
    Translate {
        /// Manifest files or folders (read recursively: *.yaml, *.yml, *.json).
        #[arg(short = 'f', long = "filename", required = true)]
        files: Vec<PathBuf>,
        #[arg(short = 'o', long = "output", value_enum, default_value = "yaml")]
        output: Format,
        /// Exit non-zero when any object or document had an error.
        #[arg(long)]
        strict: bool,
        #[arg(long, default_value = translate::DEFAULT_INGRESS_CLASS)]
        ingress_class: String,
        /// GatewayClass controllerName that kingress serves.
        #[arg(long, default_value = translate::DEFAULT_CONTROLLER_NAME)]
        gateway_controller_name: String,
        /// Number of Kong replicas to assume (rate limits with policy local count per replica).
        #[arg(long, default_value_t = 1)]
        kong_replicas: usize,
        /// Translate as if Kong had rejected this object: it is left out with what depends on
        /// it, as the controller's fallback does after Kong answers 400. `Kind/namespace/name`,
        /// or `Kind/name` for a cluster-scoped kind; repeatable.
        #[arg(long = "exclude", value_name = "KIND/[NAMESPACE/]NAME", value_parser = parse_exclusion)]
        exclude: Vec<ObjectKey>,
        /// KIC's feature gates, `Name=true|false,...` (e.g. `RewriteURIs=true`), KIC's defaults;
        /// repeatable.
        #[arg(long, value_name = "GATES")]
        feature_gates: Vec<String>,
        /// Keep terminating endpoints at weight 0 so Kong drains them (KIC's flag; on here,
        /// off in KIC, which drops them: `--enable-drain-support=false` for KIC's behaviour).
        #[arg(long, default_value_t = true, action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
        enable_drain_support: bool,
        /// The Kong version to translate for (KIC's version gates, e.g. sticky-sessions from 3.11).
        #[arg(long, default_value_t = crate::kong::version::DEFAULT)]
        kong_version: crate::kong::version::KongVersion,
        /// KIC's `--cluster-domain`: appended to service-upstream targets
        /// (`<name>.<namespace>.svc.<domain>`); empty (KIC's default) appends nothing.
        #[arg(long, default_value = "", value_parser = crate::translate::names::parse_cluster_domain)]
        cluster_domain: String,
        /// KIC's `--combined-services-from-different-httproutes`: rules of different HTTPRoutes of
        /// a namespace with the same backends share one Kong service named after the backends.
        #[arg(long, default_value_t = false, action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
        combined_services_from_different_httproutes: bool,
        /// Kong's `router_flavor` to translate for (`expressions`: routes as expressions with
        /// priorities, as KIC writes them).
        #[arg(long, value_enum, default_value_t = crate::kong::router_flavor::RouterFlavor::TraditionalCompatible)]
        router_flavor: crate::kong::router_flavor::RouterFlavor,
    },
    /// Print the CustomResourceDefinitions kingress uses.
    Crds,
    /// Run the controller: watch the cluster, push to every Kong replica.
    Run(Box<crate::controller::args::RunArgs>),
    /// Explain an upstream's load balancing: wheel shares, where keys land, keys moved.
    Explain(crate::explain::ExplainArgs),
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Translate {
            files,
            output,
            strict,
            ingress_class,
            gateway_controller_name,
            kong_replicas,
            exclude,
            feature_gates,
            enable_drain_support,
            kong_version,
            cluster_domain,
            combined_services_from_different_httproutes,
            router_flavor,
        } => {
            let feature_gates: translate::feature_gates::FeatureGates =
                match feature_gates.join(",").parse() {
                    Ok(g) => g,
                    Err(e) => {
                        eprintln!("error: {e}");
                        return ExitCode::from(2);
                    }
                };
            for note in feature_gates.notes() {
                eprintln!("note: --feature-gates {note}");
            }
            let excluded = exclude.into_iter().collect();
            run_translate(
                &files,
                output,
                strict,
                Options {
                    ingress_class,
                    controller_name: gateway_controller_name,
                    assume_attached_without_gateways: true,
                    kong_replicas: kong_replicas.max(1),
                    excluded,
                    feature_gates,
                    enable_drain_support,
                    kong_version,
                    cluster_domain,
                    combined_services_from_different_httproutes,
                    router_flavor,
                    gateway_to_reconcile: None,
                },
            )
        }
        Command::Explain(args) => crate::explain::main(&args),
        Command::Run(args) => crate::controller::args::main(*args),
        Command::Crds => {
            print!("{}", crate::crd::render_yaml());
            ExitCode::SUCCESS
        }
    }
}

/// `Kind/namespace/name` (namespaced kinds) or `Kind/name` (cluster-scoped).
fn parse_exclusion(text: &str) -> Result<ObjectKey, String> {
    let parts: Vec<&str> = text.split('/').collect();
    let Some(kind) = Kind::by_name(parts[0]) else {
        let kinds: Vec<&str> = Kind::ALL.iter().map(|k| k.as_str()).collect();
        return Err(format!(
            "unknown kind {:?}; one of {}",
            parts[0],
            kinds.join(", ")
        ));
    };
    let namespaced = kind.info().namespaced;
    let kind_name = parts[0];
    let key = match (namespaced, parts.as_slice()) {
        (true, [_, ns, name]) if !ns.is_empty() && !name.is_empty() => (*ns, *name),
        (false, [_, name]) if !name.is_empty() => ("", *name),
        (true, _) => {
            return Err(format!(
                "{kind_name} is namespaced: {kind_name}/<namespace>/<name>"
            ));
        }
        (false, _) => return Err(format!("{kind_name} is cluster-scoped: {kind_name}/<name>")),
    };
    Ok(ObjectKey::new(kind, key.0, key.1))
}

fn run_translate(files: &[PathBuf], output: Format, strict: bool, options: Options) -> ExitCode {
    let loaded = match manifests::load(files) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut stderr = std::io::stderr().lock();
    for p in &loaded.problems {
        let _ = writeln!(stderr, "{p}");
    }
    let snapshot = &loaded.snapshot;
    let assume = snapshot.gateways.is_empty() && snapshot.gateway_classes.is_empty();
    if assume && !snapshot.httproutes.is_empty() {
        let _ = writeln!(
            stderr,
            "note: no Gateway or GatewayClass in the input; HTTPRoutes are translated as attached to a Gateway of {}",
            options.controller_name
        );
    }
    let translation = translate::translate(snapshot, &options);
    for p in &translation.problems {
        let _ = writeln!(stderr, "{p}");
    }
    let rendered = match output {
        Format::Yaml => translation.config.to_yaml().map_err(|e| e.to_string()),
        Format::Json => translation.config.to_json().map_err(|e| e.to_string()),
    };
    match rendered {
        Ok(text) => {
            let mut stdout = std::io::stdout().lock();
            if stdout.write_all(text.as_bytes()).is_err() || stdout.flush().is_err() {
                return ExitCode::FAILURE;
            }
        }
        Err(e) => {
            let _ = writeln!(stderr, "error: cannot render the Kong config: {e}");
            return ExitCode::FAILURE;
        }
    }
    let had_errors = loaded.problems.iter().any(|p| p.fatal)
        || translation
            .problems
            .iter()
            .any(|p| p.severity == Severity::Error);
    let config = &translation.config;
    let stub = translate::stub_upstream();
    let empty = config.services.is_empty() && config.upstreams.iter().all(|u| *u == stub);
    if had_errors && (strict || empty) {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
