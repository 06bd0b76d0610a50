//! KongPlugin / KongClusterPlugin → Kong plugins, scoped as KIC scopes them.
//!
//! `konghq.com/plugins: a,b` on a Service scopes to every Kong service built from it, on an
//! Ingress or HTTPRoute to each of its routes; a name resolves to the KongPlugin in the
//! object's namespace, else to the KongClusterPlugin. A KongClusterPlugin labelled
//! `global: "true"` applies everywhere. Plugins go to the top-level `plugins` list with
//! `service:`/`route:` naming their scope; an `instance_name` gets KIC's suffix (`-` and 9
//! hex digits of sha256 of the scope) so one KongPlugin can serve several routes. A plugin that
//! KongConsumers name too applies per consumer on each of its routes and services, and one only
//! consumers name to each consumer alone ([`consumer_only`]).
//!
//! Rate limiting with `policy: local` counts per Kong replica; with N replicas a limit of L
//! allows up to N·L. kingress warns (knowing N from the controller), and with the
//! annotation `kingress.io/replica-aware-limits: "true"` divides the limits by N instead.

mod config;
mod json_patch;

use std::collections::BTreeMap;

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

pub use config::PluginConfigError;

use super::Context;
use super::ingress_class;
use super::names::{self, Entity, ObjectRef};
use super::problems::Reason;
use crate::api::{KongClusterPlugin, KongPlugin};
use crate::crd::plugin::PluginProtocol;
use crate::kinds::Kind;
use crate::kong::config::Plugin;
use crate::snapshot::Snapshot;

pub const ANNOTATION: &str = "konghq.com/plugins";
pub const REPLICA_AWARE_ANNOTATION: &str = "kingress.io/replica-aware-limits";
const GLOBAL_LABEL: &str = "global";
const RATE_LIMIT_PERIODS: [&str; 6] = ["second", "minute", "hour", "day", "month", "year"];

/// Where a plugin applies.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scope {
    Service(String),
    Route(String),
    Global,
}

impl Scope {
    /// go-kong's ID key suffix and KIC's instance-name hash input.
    fn key(&self) -> (String, String) {
        match self {
            // KIC v3.5.13 internal/dataplane/kongstate/kongstate.go lines 587-599.
            Scope::Service(s) => (format!(":service/{s}"), format!("_service-{s}")),
            Scope::Route(r) => (format!(":route/{r}"), format!("_route-{r}")),
            Scope::Global => (String::new(), String::new()),
        }
    }
}

/// KIC's answer for a rule whose backendRefs all fail to resolve: HTTP 500.
pub fn no_backend_termination() -> Plugin {
    let mut config = Map::new();
    config.insert("message".into(), "no existing backendRef provided".into());
    config.insert("status_code".into(), 500.into());
    Plugin {
        config,
        enabled: true,
        name: "request-termination".into(),
        // None given: Kong's default, every HTTP-subsystem protocol (grpc and grpcs too), as
        // KIC v3.5.13 sends it (translate_utils.go lines 80-95).
        ..Default::default()
    }
}

/// The fields KongPlugin and KongClusterPlugin share, with secrets already resolved.
#[derive(Clone)]
struct Source {
    object: ObjectRef,
    annotations: Option<BTreeMap<String, String>>,
    plugin: String,
    config: Result<Map<String, Value>, PluginConfigError>,
    disabled: bool,
    instance_name: Option<String>,
    protocols: Vec<String>,
    unsupported: Vec<(&'static str, &'static str)>,
}

fn protocols(p: &Option<Vec<PluginProtocol>>) -> Vec<String> {
    p.iter().flatten().map(|p| p.as_str().to_string()).collect()
}

/// Attaches the plugins named in `annotations` (of `owner`, in `namespace`) to `scope`.
pub fn attach(
    ctx: &mut Context<'_>,
    owner: &ObjectRef,
    namespace: &str,
    annotations: Option<&BTreeMap<String, String>>,
    scope: Scope,
) {
    let Some(list) = annotations.and_then(|a| a.get(ANNOTATION)) else {
        return;
    };
    for entry in entries(list) {
        let (namespace, name) = match entry {
            Entry::Local(name) => (namespace, name),
            Entry::Remote(ns, name) => {
                if !remote_granted(ctx, owner, ns, name) {
                    ctx.problems.error(
                        owner,
                        Reason::PluginNotPermitted,
                        Some(format!("metadata.annotations[{ANNOTATION}]")),
                        format!(
                            "{ns}:{name}: no ReferenceGrant in {ns} lets {} objects of namespace {} use KongPlugin {name}; the plugin is not applied",
                            owner.kind, owner.namespace.as_deref().unwrap_or_default()
                        ),
                    );
                    continue;
                }
                (ns, name)
            }
        };
        // KIC relates the route or service to the plugin whether or not the plugin exists.
        ctx.record_plugin_key(namespace, name);
        // Left out after Kong rejected it (the controller's fallback), until it changes.
        let excluded = match ctx.snapshot.kong_plugin(namespace, name) {
            Some(_) => ctx.excluded.reason(Kind::KongPlugin, namespace, name),
            None => ctx.excluded.reason(Kind::KongClusterPlugin, "", name),
        };
        if let Some(why) = excluded {
            ctx.problems.error(
                owner,
                Reason::Excluded,
                Some(format!("metadata.annotations[{ANNOTATION}]")),
                format!("plugin {name} is {why}"),
            );
            continue;
        }
        let class = ctx.options.ingress_class.as_str();
        let source = if let Some(p) = ctx.snapshot.kong_plugin(namespace, name) {
            from_kong_plugin(ctx, p)
        } else if let Some(p) = ingress_class::cluster_plugin(ctx.snapshot, class, name) {
            from_cluster_plugin(ctx, p)
        } else {
            ctx.problems.error(
                owner,
                Reason::PluginNotFound,
                Some(format!("metadata.annotations[{ANNOTATION}]")),
                not_found(ctx.snapshot, class, namespace, name),
            );
            continue;
        };
        // A plugin consumers name too applies to each of them on this scope (KIC's
        // relations product, `internal/util/rels/relations.go` lines 29-100).
        let consumers: Vec<String> = ctx
            .cluster_consumers
            .of_plugin(namespace, name)
            .iter()
            .map(|(id, _)| id.clone())
            .collect();
        if consumers.is_empty() {
            emit(ctx, source, scope.clone(), None);
        } else {
            for consumer in consumers {
                emit(ctx, source.clone(), scope.clone(), Some(consumer));
            }
        }
    }
}

/// The plugins consumers name that no Kong service or route of `attached` references: each
/// applies to its consumers alone (KIC's relations without services and routes). With
/// `attached` None (the global scope of an incremental translation, which cannot know), every
/// one, each with its plugin key, for the assembly to choose.
pub fn consumer_only(
    ctx: &mut Context<'_>,
    attached: Option<&std::collections::BTreeSet<(String, String)>>,
) -> Vec<((String, String), Plugin)> {
    let refs = ctx.cluster_consumers.plugin_refs().clone();
    let mut pending = Vec::new();
    for (key, consumers) in refs {
        if attached.is_some_and(|a| a.contains(&key)) {
            continue;
        }
        let (namespace, name) = (key.0.as_str(), key.1.as_str());
        let excluded = match ctx.snapshot.kong_plugin(namespace, name) {
            Some(_) => ctx.excluded.contains(Kind::KongPlugin, namespace, name),
            None => ctx.excluded.contains(Kind::KongClusterPlugin, "", name),
        };
        let source = if excluded {
            continue;
        } else if let Some(p) = ctx.snapshot.kong_plugin(namespace, name) {
            from_kong_plugin(ctx, p)
        } else if let Some(p) =
            ingress_class::cluster_plugin(ctx.snapshot, &ctx.options.ingress_class, name)
        {
            from_cluster_plugin(ctx, p)
        } else {
            continue;
        };
        let before = ctx.plugins_len();
        for (consumer, _) in consumers {
            emit(ctx, source.clone(), Scope::Global, Some(consumer));
        }
        if attached.is_none() {
            pending.extend(
                ctx.take_plugins_from(before)
                    .into_iter()
                    .map(|p| (key.clone(), p)),
            );
        }
    }
    pending
}

/// One entry of `konghq.com/plugins`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Entry<'a> {
    /// A plugin of the object's own namespace (or a KongClusterPlugin).
    Local(&'a str),
    /// `<namespace>:<name>`: a KongPlugin of that namespace, which a ReferenceGrant there must
    /// open to the object's kind and namespace, its own namespace included.
    Remote(&'a str, &'a str),
}

/// The entries of a `konghq.com/plugins` value, as kubernetes-configuration v1.5.2 parses them
/// (`pkg/metadata/plugins.go` lines 41-71): comma-separated, trimmed, empty ones and those
/// with a colon first or last skipped.
pub fn entries(list: &str) -> impl Iterator<Item = Entry<'_>> {
    list.split(',').filter_map(|raw| {
        if raw.trim().is_empty() {
            return None;
        }
        match raw.find(':') {
            Some(i) if i == 0 || i == raw.len() - 1 => None,
            Some(i) => Some(Entry::Remote(raw[..i].trim(), raw[i + 1..].trim())),
            None => Some(Entry::Local(raw.trim())),
        }
    })
}

/// Whether a grant in `namespace` lets `owner`'s kind and namespace use KongPlugin `name`
/// (KIC v3.5.13 internal/dataplane/kongstate/kongstate.go lines 878-960: the check applies to
/// any `<namespace>:` entry, the owner's own namespace included).
fn remote_granted(ctx: &Context<'_>, owner: &ObjectRef, namespace: &str, name: &str) -> bool {
    granted(ctx.snapshot, owner, namespace, name)
}

/// [`remote_granted`] on a snapshot.
pub fn granted(
    snapshot: &crate::snapshot::Snapshot,
    owner: &ObjectRef,
    namespace: &str,
    name: &str,
) -> bool {
    let from = crate::translate::gateway::grants::From {
        group: owner.kind.info().group,
        kind: owner.kind.as_str(),
        namespace: owner.namespace.as_deref().unwrap_or_default(),
    };
    let to = crate::translate::gateway::grants::To {
        group: crate::api::KONG_GROUP,
        kind: "KongPlugin",
        namespace,
        name,
    };
    crate::translate::gateway::grants::granted(snapshot, from, to)
}

/// Why the `konghq.com/plugins` entry `namespace/name` names no plugin of `class`.
pub fn not_found(snapshot: &Snapshot, class: &str, namespace: &str, name: &str) -> String {
    match ingress_class::other_class(snapshot, class, name) {
        Some(why) => {
            format!("no KongPlugin {namespace}/{name}, and {why}; the plugin is not applied")
        }
        None => format!(
            "no KongPlugin {namespace}/{name} or KongClusterPlugin {name}; the plugin is not applied"
        ),
    }
}

/// KongClusterPlugins of our class labelled `global: "true"` (KIC v3.5.13
/// `ListGlobalKongClusterPlugins`, `internal/store/store.go` lines 675-696).
pub fn globals(ctx: &mut Context<'_>) {
    let snapshot = ctx.snapshot;
    let class = ctx.options.ingress_class.as_str();
    for p in snapshot.kong_cluster_plugins.values() {
        let global = p
            .metadata
            .labels
            .as_ref()
            .and_then(|l| l.get(GLOBAL_LABEL))
            .is_some_and(|v| v == "true")
            && ingress_class::annotated(snapshot, class, &**p);
        let name = p.metadata.name.as_deref().unwrap_or_default();
        if global && !ctx.excluded.contains(Kind::KongClusterPlugin, "", name) {
            let source = from_cluster_plugin(ctx, p);
            emit(ctx, source, Scope::Global, None);
        }
    }
}

fn unsupported(
    consumer_ref: &Option<String>,
    ordering: bool,
    run_on: &Option<String>,
) -> Vec<(&'static str, &'static str)> {
    let mut out = Vec::new();
    if consumer_ref.is_some() {
        out.push((
            "consumerRef",
            "KIC v3.5.13 does not read consumerRef (nor does kingress): name the plugin in the KongConsumer's konghq.com/plugins; ignored",
        ));
    }
    if ordering {
        out.push((
            "ordering",
            "dynamic plugin ordering is a Kong Enterprise feature; ignored",
        ));
    }
    if run_on.is_some() {
        out.push(("run_on", "Kong 3 removed run_on; ignored"));
    }
    out
}

fn from_kong_plugin(ctx: &Context<'_>, p: &KongPlugin) -> Source {
    let ns = p.metadata.namespace.clone().unwrap_or_default();
    let object = ObjectRef::new(
        Kind::KongPlugin,
        Some(&ns),
        p.metadata.name.as_deref().unwrap_or_default(),
    )
    .with_uid(p.metadata.uid.as_deref());
    let config = config::build(
        ctx.snapshot,
        p.config.as_ref(),
        p.config_from.as_ref().map(|c| {
            (
                ns.as_str(),
                c.secret_key_ref.name.as_str(),
                c.secret_key_ref.key.as_str(),
            )
        }),
        p.config_patches.iter().flatten().map(|patch| {
            let r = &patch.value_from.secret_key_ref;
            (
                patch.path.as_str(),
                ns.as_str(),
                r.name.as_str(),
                r.key.as_str(),
            )
        }),
    );
    Source {
        object,
        annotations: p.metadata.annotations.clone(),
        plugin: p.plugin.clone(),
        config,
        disabled: p.disabled.unwrap_or(false),
        instance_name: p.instance_name.clone(),
        protocols: protocols(&p.protocols),
        unsupported: unsupported(&p.consumer_ref, p.ordering.is_some(), &p.run_on),
    }
}

fn from_cluster_plugin(ctx: &Context<'_>, p: &KongClusterPlugin) -> Source {
    let object = ObjectRef::of(p);
    let config = config::build(
        ctx.snapshot,
        p.config.as_ref(),
        p.config_from.as_ref().map(|c| {
            let r = &c.secret_key_ref;
            (r.namespace.as_str(), r.name.as_str(), r.key.as_str())
        }),
        p.config_patches.iter().flatten().map(|patch| {
            let r = &patch.value_from.secret_key_ref;
            (
                patch.path.as_str(),
                r.namespace.as_str(),
                r.name.as_str(),
                r.key.as_str(),
            )
        }),
    );
    Source {
        object,
        annotations: p.metadata.annotations.clone(),
        plugin: p.plugin.clone(),
        config,
        disabled: p.disabled.unwrap_or(false),
        instance_name: p.instance_name.clone(),
        protocols: protocols(&p.protocols),
        unsupported: unsupported(&p.consumer_ref, p.ordering.is_some(), &p.run_on),
    }
}

fn emit(ctx: &mut Context<'_>, source: Source, scope: Scope, consumer: Option<String>) {
    let mut config = match source.config {
        Ok(c) => c,
        Err(message) => {
            ctx.problems.error(
                &source.object,
                Reason::InvalidPlugin,
                Some(message.field()),
                format!("{message}; plugin not applied"),
            );
            return;
        }
    };
    for (field, message) in &source.unsupported {
        ctx.problems.warning(
            &source.object,
            Reason::InvalidPlugin,
            Some((*field).into()),
            (*message).into(),
        );
    }
    if matches!(
        source.plugin.as_str(),
        "rate-limiting" | "rate-limiting-advanced"
    ) {
        rate_limits_per_replica(
            ctx,
            &source.object,
            source.annotations.as_ref(),
            &mut config,
        );
    }
    let (mut id_suffix, mut hash_input) = scope.key();
    if let Some(c) = &consumer {
        // go-kong v0.78.0 kong/ids.go lines 137-175; KIC kongstate.go lines 583-599.
        id_suffix.push_str(&format!(":consumer/{c}"));
        hash_input.push_str(&format!("_consumer-{c}"));
    }
    // A global plugin has no instance-name suffix: it applies once.
    let instance_name = source.instance_name.map(|n| match hash_input.is_empty() {
        true => n,
        false => format!("{n}-{}", &hex(&Sha256::digest(hash_input.as_bytes()))[..9]),
    });
    let (route, service) = match &scope {
        Scope::Route(r) => (Some(r.clone()), None),
        Scope::Service(s) => (None, Some(s.clone())),
        Scope::Global => (None, None),
    };
    ctx.add_plugin(Plugin {
        config: sorted(config),
        consumer,
        enabled: !source.disabled,
        id: names::entity_id(Entity::Plugin, &format!("{}{id_suffix}", source.plugin)),
        instance_name,
        name: source.plugin,
        protocols: source.protocols,
        route,
        service,
        tags: names::tags(&source.object, source.annotations.as_ref()),
    });
}

/// Keys in byte order at every level, as KIC's JSON output has them, so the config text
/// (and its hash) does not depend on how the object was written.
fn sorted(map: Map<String, Value>) -> Map<String, Value> {
    let mut entries: Vec<(String, Value)> = map.into_iter().collect();
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    entries
        .into_iter()
        .map(|(k, v)| (k, sorted_value(v)))
        .collect()
}

fn sorted_value(v: Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(sorted(m)),
        Value::Array(a) => Value::Array(a.into_iter().map(sorted_value).collect()),
        other => other,
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Warns about (or, on request, divides) `policy: local` limits across N replicas.
fn rate_limits_per_replica(
    ctx: &mut Context<'_>,
    object: &ObjectRef,
    annotations: Option<&BTreeMap<String, String>>,
    config: &mut Map<String, Value>,
) {
    let replicas = ctx.options.kong_replicas;
    let policy = config
        .get("policy")
        .and_then(Value::as_str)
        .unwrap_or("local");
    if replicas <= 1 || policy != "local" {
        return;
    }
    let limits: Vec<(&str, u64)> = RATE_LIMIT_PERIODS
        .iter()
        .filter_map(|p| {
            config
                .get(*p)
                .and_then(Value::as_f64)
                .map(|v| (*p, v.max(0.0).ceil() as u64))
        })
        .collect();
    if limits.is_empty() {
        return;
    }
    let n = replicas as u64;
    let aware = annotations
        .and_then(|a| a.get(REPLICA_AWARE_ANNOTATION))
        .is_some_and(|v| v == "true");
    if aware {
        let mut applied = Vec::new();
        for (period, limit) in &limits {
            let per_replica = limit.div_ceil(n).max(1);
            config.insert((*period).to_string(), per_replica.into());
            applied.push(format!("{period}: {limit} → {per_replica}"));
        }
        ctx.problems.info(
            object,
            Reason::RateLimitPerReplica,
            Some(format!("metadata.annotations[{REPLICA_AWARE_ANNOTATION}]")),
            format!(
                "{replicas} Kong replicas count separately (policy local): limits divided per replica ({}); the total stays close to the limit only while clients spread evenly over the replicas",
                applied.join(", ")
            ),
        );
    } else {
        // What one counter counts: limit_by (default consumer, Kong 3.10 rate-limiting
        // schema.lua lines 86-89), the client IP when that identifies nothing (handler.lua
        // lines 60-86).
        let per = match config.get("limit_by").and_then(Value::as_str) {
            Some("ip") => "client IP",
            Some("credential") => "credential (else client IP)",
            Some("service") => "service (else client IP)",
            Some("header") => "header value (else client IP)",
            Some("path") => "client IP, or the path",
            _ => "consumer (else client IP)",
        };
        let ceilings: Vec<String> = limits
            .iter()
            .map(|(period, limit)| {
                format!(
                    "up to {} requests/{period} per {per} instead of {limit}",
                    limit * n
                )
            })
            .collect();
        ctx.problems.warning(
            object,
            Reason::RateLimitPerReplica,
            Some("config.policy".into()),
            format!(
                "{replicas} Kong replicas each count separately with policy local: {}; use policy: redis with redis.host and redis.port (one shared counter), or annotate {REPLICA_AWARE_ANNOTATION}: \"true\" to divide the limits by the replica count",
                ceilings.join(", ")
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_parse_as_kubernetes_configuration_does() {
        let got: Vec<Entry<'_>> = entries(" a, shared : b ,,:c,d:, e:f:g ").collect();
        assert_eq!(
            got,
            [
                Entry::Local("a"),
                Entry::Remote("shared", "b"),
                // A colon first or last: skipped.
                Entry::Remote("e", "f:g"),
            ]
        );
    }
}
