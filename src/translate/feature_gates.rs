//! KIC's `--feature-gates`, with KIC v3.5.13's names and defaults
//! (`pkg/manager/config/feature_gates_keys.go` 1-44, `feature_gates.go` 14-34), so a
//! `values.yaml` written for KIC carries over: `Name=bool` pairs, comma separated; an unknown
//! name is an error, as in KIC.

use std::collections::BTreeMap;

/// The gates, each with KIC's default.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FeatureGates {
    /// `konghq.com/rewrite` on Ingresses (off: KIC leaves out the Kong service).
    pub rewrite_uris: bool,
    /// Every other gate as given (or defaulted): kingress reports those it does not honour.
    others: BTreeMap<&'static str, bool>,
    /// The gates the flag named (only those are reported).
    given: Vec<&'static str>,
}

/// KIC's gates besides RewriteURIs, with their defaults.
const OTHERS: &[(&str, bool)] = &[
    ("GatewayAlpha", false),
    ("FillIDs", true),
    ("KongServiceFacade", false),
    ("SanitizeKonnectConfigDumps", true),
    ("FallbackConfiguration", false),
    ("KongCustomEntity", true),
];

const REWRITE_URIS: &str = "RewriteURIs";

impl Default for FeatureGates {
    fn default() -> Self {
        FeatureGates {
            rewrite_uris: false,
            others: OTHERS.iter().copied().collect(),
            given: Vec::new(),
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum FeatureGateError {
    #[error("--feature-gates: {0:?} is not Name=true|false")]
    Malformed(String),
    #[error(
        "--feature-gates: {0} is not a valid feature (KIC v3.5.13's gates: RewriteURIs, GatewayAlpha, FillIDs, KongServiceFacade, SanitizeKonnectConfigDumps, FallbackConfiguration, KongCustomEntity)"
    )]
    Unknown(String),
    #[error("--feature-gates: FillIDs is required if KongCustomEntity is enabled")]
    CustomEntityWithoutIds,
}

impl std::str::FromStr for FeatureGates {
    type Err = FeatureGateError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut gates = FeatureGates::default();
        for pair in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (name, value) = pair
                .split_once('=')
                .ok_or_else(|| FeatureGateError::Malformed(pair.to_string()))?;
            let value = go_bool(value.trim())
                .ok_or_else(|| FeatureGateError::Malformed(pair.to_string()))?;
            let name = name.trim();
            if name == REWRITE_URIS {
                gates.rewrite_uris = value;
            } else if let Some((known, _)) = OTHERS.iter().find(|(n, _)| *n == name) {
                gates.others.insert(known, value);
                gates.given.push(known);
            } else {
                return Err(FeatureGateError::Unknown(name.to_string()));
            }
        }
        if gates.others["KongCustomEntity"] && !gates.others["FillIDs"] {
            return Err(FeatureGateError::CustomEntityWithoutIds);
        }
        Ok(gates)
    }
}

/// Go's `strconv.ParseBool` (what KIC's map flag parses values with).
fn go_bool(s: &str) -> Option<bool> {
    match s {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

impl FeatureGates {
    /// KongCustomEntity (on by default): KIC configures KongCustomEntities.
    pub fn custom_entity(&self) -> bool {
        self.others.get("KongCustomEntity").copied().unwrap_or(true)
    }

    /// KongServiceFacade: Ingress backends may name a KongServiceFacade (off: refused).
    pub fn service_facade(&self) -> bool {
        self.others
            .get("KongServiceFacade")
            .copied()
            .unwrap_or(false)
    }

    /// What kingress does differently from KIC for the gates the flag set, one line each
    /// (for a start-up log): gates it always honours one way, and gates of kinds it does not
    /// read. Defaults are not reported (docs/KIC-COMPATIBILITY.md lists them).
    pub fn notes(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (name, &on) in self.others.iter().filter(|(n, _)| self.given.contains(n)) {
            let note = match (*name, on) {
                ("FillIDs", false) => "FillIDs=false: kingress always fills IDs (KIC's default)",
                ("FallbackConfiguration", false) => {
                    "FallbackConfiguration=false: kingress always leaves out only what Kong rejected (KIC's gate on); see README"
                }
                ("KongCustomEntity", true) => {
                    "KongCustomEntity=true (KIC's default): kingress does not configure KongCustomEntities; each one of its class is reported"
                }
                ("GatewayAlpha", true) => {
                    "GatewayAlpha=true: kingress reads the experimental Gateway API kinds it supports (TCPRoute, UDPRoute, TLSRoute) regardless"
                }
                _ => continue,
            };
            out.push(note.to_string());
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_kic_gates_with_go_booleans_and_refuses_unknown_names() {
        let g: FeatureGates = "RewriteURIs=true, FillIDs=T".parse().expect("gates");
        assert!(g.rewrite_uris);
        assert!(!FeatureGates::default().rewrite_uris);
        assert_eq!(
            "Rewrite=true".parse::<FeatureGates>(),
            Err(FeatureGateError::Unknown("Rewrite".into()))
        );
        assert_eq!(
            "RewriteURIs=yes".parse::<FeatureGates>(),
            Err(FeatureGateError::Malformed("RewriteURIs=yes".into()))
        );
        assert_eq!(
            "FillIDs=false".parse::<FeatureGates>(),
            Err(FeatureGateError::CustomEntityWithoutIds)
        );
        let notes = "KongCustomEntity=false,FillIDs=false"
            .parse::<FeatureGates>()
            .expect("gates")
            .notes();
        assert_eq!(notes.len(), 1, "{notes:?}"); // FillIDs; defaults are not reported
        assert!(FeatureGates::default().notes().is_empty());
    }
}
