//! Core entities the double implements, with the metadata Kong's
//! declarative loader uses (endpoint keys, cache keys, foreign keys).

pub(crate) mod certificates;
pub(crate) mod consumers;
pub(crate) mod routes;
pub(crate) mod services;
pub(crate) mod snis;
pub(crate) mod targets;
pub(crate) mod upstreams;

/// Declarative metadata of one entity type.
pub(crate) struct Def {
    pub name: &'static str,
    /// `endpoint_key`, when it is also `unique` (used for references).
    pub unique_key: Option<&'static str>,
    pub cache_key: &'static [&'static str],
    /// Foreign keys: (field, referenced entity).
    pub fks: &'static [(&'static str, &'static str)],
    /// Entities that may be nested inside this one: (entity, their fk field).
    pub children: &'static [(&'static str, &'static str)],
}

/// In Kong's topological order (parents before children).
pub(crate) const DEFS: &[Def] = &[
    Def {
        name: "consumers",
        unique_key: Some("username"),
        cache_key: &[],
        fks: &[],
        children: &[("plugins", "consumer")],
    },
    Def {
        name: "certificates",
        unique_key: None,
        cache_key: &[],
        fks: &[],
        children: &[
            ("services", "client_certificate"),
            ("snis", "certificate"),
            ("upstreams", "client_certificate"),
        ],
    },
    Def {
        name: "services",
        unique_key: Some("name"),
        cache_key: &[],
        fks: &[("client_certificate", "certificates")],
        children: &[("routes", "service"), ("plugins", "service")],
    },
    Def {
        name: "routes",
        unique_key: Some("name"),
        cache_key: &[],
        fks: &[("service", "services")],
        children: &[("plugins", "route")],
    },
    Def {
        name: "snis",
        unique_key: Some("name"),
        cache_key: &[],
        fks: &[("certificate", "certificates")],
        children: &[],
    },
    Def {
        name: "upstreams",
        unique_key: Some("name"),
        cache_key: &[],
        fks: &[("client_certificate", "certificates")],
        children: &[("targets", "upstream")],
    },
    Def {
        name: "targets",
        unique_key: None,
        cache_key: &["upstream", "target"],
        fks: &[("upstream", "upstreams")],
        children: &[],
    },
    Def {
        name: "plugins",
        unique_key: Some("instance_name"),
        cache_key: &["name", "route", "service", "consumer"],
        fks: &[
            ("route", "routes"),
            ("service", "services"),
            ("consumer", "consumers"),
        ],
        children: &[],
    },
];

/// Entity types Kong 3.10 OSS accepts in a declarative config but the
/// double does not validate (CA certificates' CA checks, vault and
/// credential schemas), so it refuses them rather than accept blindly.
pub(crate) const UNSUPPORTED: &[&str] = &[
    // not modelled: Kong also requires a CA (basicConstraints) certificate
    // and checks `cert_digest` uniqueness
    "ca_certificates",
    "vaults",
    "keys",
    "key_sets",
    "filter_chains",
    "workspaces",
    "parameters",
    "acls",
    "basicauth_credentials",
    "keyauth_credentials",
    "hmacauth_credentials",
    "jwt_secrets",
    "oauth2_credentials",
    "oauth2_authorization_codes",
    "oauth2_tokens",
];

pub(crate) fn unsupported_msg(key: &str) -> String {
    format!("'{key}' entities are not supported by the Kong admin API test double")
}

pub(crate) fn def(name: &str) -> Option<&'static Def> {
    DEFS.iter().find(|d| d.name == name)
}

/// Entity types that hold a foreign key to `parent` (nestable under it).
pub(crate) fn nested_unsupported(parent: &str) -> &'static [&'static str] {
    match parent {
        "consumers" => &[
            "acls",
            "basicauth_credentials",
            "keyauth_credentials",
            "hmacauth_credentials",
            "jwt_secrets",
            "oauth2_credentials",
        ],
        "services" | "routes" => &["oauth2_authorization_codes", "oauth2_tokens"],
        _ => &[],
    }
}
