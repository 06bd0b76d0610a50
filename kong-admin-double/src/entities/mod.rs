//! Core entities the double implements, with the metadata Kong's
//! declarative loader uses (endpoint keys, cache keys, foreign keys).
//! Line references are to Kong 3.10 (master 22246ef28c).

pub(crate) mod ca_certificates;
pub(crate) mod certificates;
pub(crate) mod consumers;
pub(crate) mod credentials;
pub(crate) mod route_expressions;
pub(crate) mod route_subschemas;
pub(crate) mod routes;
pub(crate) mod services;
pub(crate) mod snis;
pub(crate) mod targets;
pub(crate) mod upstreams;
pub(crate) mod vaults;

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
    // consumers.lua:6 endpoint_key = "username" (unique, line 18); children
    // plugins.lua:24 and the credentials' `consumer` (below)
    Def {
        name: "consumers",
        unique_key: Some("username"),
        cache_key: &[],
        fks: &[],
        children: &[
            ("plugins", "consumer"),
            ("acls", "consumer"),
            ("basicauth_credentials", "consumer"),
            ("keyauth_credentials", "consumer"),
            ("hmacauth_credentials", "consumer"),
            ("jwt_secrets", "consumer"),
            ("oauth2_credentials", "consumer"),
        ],
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
    // vaults.lua:45-47: endpoint_key and cache_key `prefix` (unique, line 56); no foreign
    // key. constants.lua:151 puts it after ca_certificates.
    Def {
        name: "vaults",
        unique_key: Some("prefix"),
        cache_key: &["prefix"],
        fks: &[],
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
    // Plugin entities: in Kong's order they follow what they reference
    // (topological_sort.lua:47-83), here consumers. Each has a required
    // `consumer` foreign key (`credentials.rs`). An id comes from the cache
    // key unless one of its fields is `auto` (declarative_config.lua:586-587:
    // random then).
    // acl/daos.lua:8 cache_key; FK acl/daos.lua:13; no endpoint key
    Def {
        name: "acls",
        unique_key: None,
        cache_key: &["consumer", "group"],
        fks: &[("consumer", "consumers")],
        children: &[],
    },
    // basic-auth/daos.lua:8-9 cache_key and endpoint_key `username` (unique,
    // line 17); FK line 16
    Def {
        name: "basicauth_credentials",
        unique_key: Some("username"),
        cache_key: &["username"],
        fks: &[("consumer", "consumers")],
        children: &[],
    },
    // key-auth/daos.lua:8-9 endpoint_key and cache_key `key` (unique, auto,
    // line 17); FK line 16
    Def {
        name: "keyauth_credentials",
        unique_key: Some("key"),
        cache_key: &["key"],
        fks: &[("consumer", "consumers")],
        children: &[],
    },
    // hmac-auth/daos.lua:8-9 endpoint_key and cache_key `username` (unique,
    // line 18); FK line 17
    Def {
        name: "hmacauth_credentials",
        unique_key: Some("username"),
        cache_key: &["username"],
        fks: &[("consumer", "consumers")],
        children: &[],
    },
    // jwt/daos.lua:17-18 cache_key and endpoint_key `key` (unique, auto,
    // line 26); FK line 25
    Def {
        name: "jwt_secrets",
        unique_key: Some("key"),
        cache_key: &["key"],
        fks: &[("consumer", "consumers")],
        children: &[],
    },
    // oauth2/daos.lua:25-26 cache_key and endpoint_key `client_id` (unique,
    // auto, line 34); FK line 32. oauth2_authorization_codes and
    // oauth2_tokens reference it (oauth2/daos.lua:76, 100) but are not
    // modelled: `nested_unsupported`.
    Def {
        name: "oauth2_credentials",
        unique_key: Some("client_id"),
        cache_key: &["client_id"],
        fks: &[("consumer", "consumers")],
        children: &[],
    },
];

/// Entity types Kong 3.10 OSS accepts in a declarative config but the
/// double does not validate (vault and key schemas, oauth2 codes and
/// tokens...), so it refuses them rather than accept blindly.
/// Kong's top-level keys are `constants.CORE_ENTITIES` minus `tags`
/// (kong/constants.lua:137-155, declarative_config.lua:980-991) plus the
/// `daos.lua` entities of every enabled plugin (declarative_config.lua:993-1003).
/// Not listed (so reported as unknown fields): clustering_data_planes and the
/// bundled plugins' acme_storage, ratelimiting_metrics, sessions,
/// session_metadatas. Kong Enterprise entities (mtls_auth_credentials,
/// consumer_groups...) are unknown to Kong OSS too: "unknown field"
/// (kong/db/schema/init.lua:1120-1124, UNKNOWN at 102), top-level or nested.
pub(crate) const UNSUPPORTED: &[&str] = &[
    // constants.lua:138-154
    "keys",
    "key_sets",
    "filter_chains",
    "workspaces",
    "parameters",
    // kong/plugins/oauth2/daos.lua:65-84, 88-108
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

/// Unmodelled entity types that hold a foreign key to `parent` (nestable
/// under it), per declarative_config.lua:195-225.
pub(crate) fn nested_unsupported(parent: &str) -> &'static [&'static str] {
    match parent {
        // service FKs: oauth2/daos.lua:75, 99; credential FKs: 76, 100
        "services" | "oauth2_credentials" => &["oauth2_authorization_codes", "oauth2_tokens"],
        // plugin FK: oauth2/daos.lua:82
        "plugins" => &["oauth2_authorization_codes"],
        // Not listed: filter_chains under services and routes
        // (filter_chains.lua:32-34), "unknown field" here: see the README.
        _ => &[],
    }
}
