//! KIC's `--enable-controller-*` flags (v3.5.13 `internal/cmd/rootcmd/config/cli.go`
//! 145-169, every one true by default). Turning one off stops KIC's controller for those
//! kinds (`internal/manager/controllerdef.go`), so their objects never reach its translator;
//! kingress takes the same flags and does not watch those kinds.

use std::collections::BTreeSet;

use clap::{Arg, ArgAction, ArgMatches, Args, Command, FromArgMatches};

use crate::kinds::Kind;

/// Each flag, with the kinds its controller reads
/// (`controllerdef.go` line of its definition).
pub const TOGGLES: &[(&str, &[Kind])] = &[
    ("enable-controller-ingress-networkingv1", &[Kind::Ingress]), // 101
    (
        "enable-controller-ingress-class-networkingv1",
        &[Kind::IngressClass],
    ), // 91
    (
        "enable-controller-ingress-class-parameters",
        &[Kind::IngressClassParameters],
    ), // 203
    ("enable-controller-udpingress", &[Kind::UdpIngress]),        // 164
    ("enable-controller-tcpingress", &[Kind::TcpIngress]),        // 178
    ("enable-controller-kongingress", &[Kind::KongIngress]),      // 193
    (
        "enable-controller-kongclusterplugin",
        &[Kind::KongClusterPlugin],
    ), // 254
    ("enable-controller-kongplugin", &[Kind::KongPlugin]),        // 213
    // 226 and 240: consumer groups share the consumers' flag.
    (
        "kongconsumer",
        &[Kind::KongConsumer, Kind::KongConsumerGroup],
    ),
    // 116 and 127: EndpointSlices share the Services' flag.
    (
        "enable-controller-service",
        &[Kind::Service, Kind::EndpointSlice],
    ),
    (
        "enable-controller-kong-upstream-policy",
        &[Kind::KongUpstreamPolicy],
    ), // 271
    // 333; the Gateway controller sets up the GatewayClass one
    // (internal/controllers/gateway/gateway_controller.go 141).
    (
        "enable-controller-gwapi-gateway",
        &[Kind::Gateway, Kind::GatewayClass],
    ),
    ("enable-controller-gwapi-httproute", &[Kind::HttpRoute]), // 356
    (
        "enable-controller-gwapi-reference-grant",
        &[Kind::ReferenceGrant],
    ), // 378
    ("enable-controller-gwapi-grpcroute", &[Kind::GrpcRoute]), // 398
    (
        "enable-controller-kong-service-facade",
        &[Kind::KongServiceFacade],
    ), // 290
    ("enable-controller-kong-vault", &[Kind::KongVault]),      // 303
    // KongLicense is Kong Enterprise: kingress never watches it.
    ("enable-controller-kong-license", &[]),
    (
        "enable-controller-kong-custom-entity",
        &[Kind::KongCustomEntity],
    ), // 316
];

/// The kinds turned off by `--enable-controller-<name>=false`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ControllerToggles {
    pub disabled: BTreeSet<Kind>,
}

impl Args for ControllerToggles {
    fn augment_args(mut cmd: Command) -> Command {
        for (name, kinds) in TOGGLES {
            let about = match kinds {
                [] => "KIC's flag, accepted (a kind kingress never watches)".to_string(),
                _ => format!(
                    "Watch {} (KIC's flag; false: not read at all)",
                    kinds
                        .iter()
                        .map(|k| k.as_str())
                        .collect::<Vec<_>>()
                        .join(" and ")
                ),
            };
            cmd = cmd.arg(
                Arg::new(*name)
                    .long(*name)
                    .value_name("BOOL")
                    .value_parser(clap::value_parser!(bool))
                    .num_args(0..=1)
                    .default_value("true")
                    .default_missing_value("true")
                    .action(ArgAction::Set)
                    .help(about),
            );
        }
        cmd
    }

    fn augment_args_for_update(cmd: Command) -> Command {
        Self::augment_args(cmd)
    }
}

impl FromArgMatches for ControllerToggles {
    fn from_arg_matches(matches: &ArgMatches) -> Result<Self, clap::Error> {
        let mut toggles = ControllerToggles::default();
        toggles.update_from_arg_matches(matches)?;
        Ok(toggles)
    }

    fn update_from_arg_matches(&mut self, matches: &ArgMatches) -> Result<(), clap::Error> {
        for (name, kinds) in TOGGLES {
            if matches.get_one::<bool>(name) == Some(&false) {
                self.disabled.extend(kinds.iter().copied());
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        toggles: ControllerToggles,
    }

    fn disabled(args: &[&str]) -> BTreeSet<Kind> {
        let args = std::iter::once("kingress").chain(args.iter().copied());
        Cli::try_parse_from(args)
            .expect("flags parse")
            .toggles
            .disabled
    }

    #[test]
    fn every_kic_flag_is_accepted_and_true_by_default() {
        assert!(disabled(&[]).is_empty());
        for (name, _) in TOGGLES {
            assert!(disabled(&[&format!("--{name}")]).is_empty(), "{name}");
            assert!(disabled(&[&format!("--{name}=true")]).is_empty());
        }
        assert_eq!(TOGGLES.len(), 19, "KIC v3.5.13 cli.go 145-169 has 19");
    }

    #[test]
    fn false_turns_off_the_flags_kinds() {
        assert_eq!(
            disabled(&["--enable-controller-service=false"]),
            BTreeSet::from([Kind::Service, Kind::EndpointSlice])
        );
        assert_eq!(
            disabled(&[
                "--enable-controller-kongplugin=false",
                "--enable-controller-gwapi-gateway",
                "false"
            ]),
            BTreeSet::from([Kind::KongPlugin, Kind::Gateway, Kind::GatewayClass])
        );
        assert!(disabled(&["--enable-controller-kong-license=false"]).is_empty());
        assert!(Cli::try_parse_from(["kingress", "--enable-controller-kongplugin=maybe"]).is_err());
    }
}
