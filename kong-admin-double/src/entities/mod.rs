//! Core entities the double implements, with the metadata Kong's
//! declarative loader uses (endpoint keys, cache keys, foreign keys).
//! Line references are to Kong 3.10 (master 22246ef28c).

pub(crate) mod ca_certificates;
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
    /// kong/db/schema/others/declarative_config.lua:650-679 (a non-unique
    /// endpoint key, e.g. targets' `target`, is not a global key).
    pub unique_key: Option<&'static str>,
    /// `cache_key` (declarative_config.lua:645-648 prefers it for ids).
    pub cache_key: &'static [&'static str],
    /// Foreign keys: (field, referenced entity).
    pub fks: &'static [(&'static str, &'static str)],
    /// Entities that may be nested inside this one: (entity, their fk field).
    /// declarative_config.lua:195-225 (one nested array per foreign key).
    pub children: &'static [(&'static str, &'static str)],
}

/// Parents before children. This is `constants.CORE_ENTITIES` order
/// (kong/constants.lua:137-155); Kong's own order comes from
/// kong/db/schema/topological_sort.lua:47-83 + kong/db/utils.lua:40-70 and is
/// certificates, consumers, services, routes, plugins, snis, upstreams,
/// targets: also parents-first, but not the same sequence.
pub(crate) const DEFS: &[Def] = &[
    // consumers.lua:6 endpoint_key = "username" (unique, line 18)
    Def {
        name: "consumers",
        unique_key: Some("username"),
        cache_key: &[],
        fks: &[],
        children: &[("plugins", "consumer")],
    },
    // certificates.lua: no endpoint_key; referenced by services.lua:44,
    // snis.lua:17, upstreams.lua:206
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
    // services.lua:25 endpoint_key = "name" (utf8_name is unique,
    // typedefs.lua:417); FK client_certificate services.lua:44; children
    // routes.lua:179, plugins.lua:23
    Def {
        name: "services",
        unique_key: Some("name"),
        cache_key: &[],
        fks: &[("client_certificate", "certificates")],
        children: &[("routes", "service"), ("plugins", "service")],
    },
    // routes.lua:144 endpoint_key = "name"; FK service routes.lua:179;
    // children plugins.lua:22
    Def {
        name: "routes",
        unique_key: Some("name"),
        cache_key: &[],
        fks: &[("service", "services")],
        children: &[("plugins", "route")],
    },
    // snis.lua:6 endpoint_key = "name" (unique, line 13); FK snis.lua:17
    Def {
        name: "snis",
        unique_key: Some("name"),
        cache_key: &[],
        fks: &[("certificate", "certificates")],
        children: &[],
    },
    // upstreams.lua:178 endpoint_key = "name"; FK upstreams.lua:206;
    // children targets.lua:31
    Def {
        name: "upstreams",
        unique_key: Some("name"),
        cache_key: &[],
        fks: &[("client_certificate", "certificates")],
        children: &[("targets", "upstream")],
    },
    // targets.lua:24 cache_key = { "upstream", "target" }; FK targets.lua:31
    // (endpoint_key "target", line 25, is not unique)
    Def {
        name: "targets",
        unique_key: None,
        cache_key: &["upstream", "target"],
        fks: &[("upstream", "upstreams")],
        children: &[],
    },
    // plugins.lua:8 cache_key, :11 endpoint_key = "instance_name" (utf8_name,
    // unique); FKs plugins.lua:22-24
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
    // ca_certificates.lua: no endpoint_key or cache_key (ids are random,
    // declarative_config.lua:628-683), no foreign key, and none points at it:
    // services' `ca_certificates` is an array of uuids (services.lua:47), not
    // a `foreign` field, so it is neither nested nor checked as a reference
    // (declarative_config.lua:195-225, 438-452). constants.lua:148 puts it
    // after plugins.
    Def {
        name: "ca_certificates",
        unique_key: None,
        cache_key: &[],
        fks: &[],
        children: &[],
    },
];

/// Entity types Kong 3.10 OSS accepts in a declarative config but the
/// double does not validate (vault, key and credential schemas...), so it
/// refuses them rather than accept blindly.
/// Kong's top-level keys are `constants.CORE_ENTITIES` minus `tags`
/// (kong/constants.lua:137-155, declarative_config.lua:980-991) plus the
/// `daos.lua` entities of every enabled plugin (declarative_config.lua:993-1003).
/// Not listed (so reported as unknown fields): clustering_data_planes and the
/// bundled plugins' acme_storage, ratelimiting_metrics, sessions,
/// session_metadatas.
pub(crate) const UNSUPPORTED: &[&str] = &[
    // constants.lua:138-154
    "vaults",
    "keys",
    "key_sets",
    "filter_chains",
    "workspaces",
    "parameters",
    // kong/plugins/{acl,basic-auth,key-auth,hmac-auth,jwt,oauth2}/daos.lua
    "acls",
    "basicauth_credentials",
    "keyauth_credentials",
    "hmacauth_credentials",
    "jwt_secrets",
    "oauth2_credentials",
    "oauth2_authorization_codes",
    "oauth2_tokens",
];

/// Not Kong: the double's own refusal message.
pub(crate) fn unsupported_msg(key: &str) -> String {
    format!("'{key}' entities are not supported by the Kong admin API test double")
}

pub(crate) fn def(name: &str) -> Option<&'static Def> {
    DEFS.iter().find(|d| d.name == name)
}

/// Entity types that hold a foreign key to `parent` (nestable under it),
/// per declarative_config.lua:195-225.
pub(crate) fn nested_unsupported(parent: &str) -> &'static [&'static str] {
    match parent {
        // consumer FKs: acl/daos.lua:13, basic-auth/daos.lua:16,
        // key-auth/daos.lua:16, hmac-auth/daos.lua:17, jwt/daos.lua:25,
        // oauth2/daos.lua:32
        "consumers" => &[
            "acls",
            "basicauth_credentials",
            "keyauth_credentials",
            "hmacauth_credentials",
            "jwt_secrets",
            "oauth2_credentials",
        ],
        // service FKs: oauth2/daos.lua:75, 99. Kong has no route FK on these
        // (routes: only filter_chains.lua:32); filter_chains (services,
        // filter_chains.lua:34) and oauth2_authorization_codes under plugins
        // (oauth2/daos.lua:82) are not listed: see the README.
        "services" | "routes" => &["oauth2_authorization_codes", "oauth2_tokens"],
        _ => &[],
    }
}
