//! Kong's `router_flavor` (kong.conf; Kong 3.10 `kong_defaults.lua` 189: default
//! `traditional_compatible`): with `expressions`, KIC writes routes as expressions with
//! priorities (`internal/dataplane/config/router.go` 11-13), and so does kingress.

/// The flavor a configuration is translated for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, clap::ValueEnum)]
pub enum RouterFlavor {
    /// Kong's traditional router (KIC writes traditional routes for it).
    #[value(name = "traditional")]
    Traditional,
    #[default]
    #[value(name = "traditional_compatible")]
    TraditionalCompatible,
    #[value(name = "expressions")]
    Expressions,
}

impl RouterFlavor {
    /// Routes are written as expressions (KIC's `ShouldEnableExpressionRoutes`).
    pub fn expressions(self) -> bool {
        self == RouterFlavor::Expressions
    }

    pub fn as_str(self) -> &'static str {
        match self {
            RouterFlavor::Traditional => "traditional",
            RouterFlavor::TraditionalCompatible => "traditional_compatible",
            RouterFlavor::Expressions => "expressions",
        }
    }
}

impl std::str::FromStr for RouterFlavor {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "traditional" => Ok(RouterFlavor::Traditional),
            "traditional_compatible" => Ok(RouterFlavor::TraditionalCompatible),
            "expressions" => Ok(RouterFlavor::Expressions),
            other => Err(format!(
                "router_flavor {other:?} is not one of traditional, traditional_compatible, expressions"
            )),
        }
    }
}

impl std::fmt::Display for RouterFlavor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
