//! KongConsumers and their credential Secrets → Kong consumers with nested credentials, as
//! KIC v3.5.13 makes them (`internal/dataplane/kongstate/kongstate.go` lines 91-230,
//! `internal/store/store.go` lines 649-659 and 784-794, `deckgen/generate.go` line 195 and
//! `consumer_cmp.go`, go-kong v0.78.0 `kong/ids.go` lines 62-81):
//!
//! - A KongConsumer is ours when its `kubernetes.io/ingress.class` annotation names our class,
//!   or, when our IngressClass is the default, when it has none.
//! - It needs a `username` or a `custom_id`; its ID is derived from the username only (a
//!   consumer with just a custom_id has none, as in KIC's golden `kongconsumer-with-custom-id`).
//! - Its `credentials` are Secrets of its namespace ([`credentials`]); a bad one is left out
//!   and the consumer kept.
//! - Two credentials with one key-auth key, basic-auth or hmac-auth username, jwt key or oauth2
//!   client_id (any consumers, any namespaces) leave out every consumer involved, reported on
//!   each Secret and consumer (`credentials_conflicts.go`, `kongstate.go` lines 203-224).
//! - Consumers sorted by username then custom_id, those without a username first.
//!
//! Beyond KIC: a Secret with only the removed `kongCredType` key is named as such, with the
//! label to add; mtls-auth credentials and consumer groups (Kong Enterprise, which Kong OSS
//! refuses) are reported and left out instead of sent. The whole set is computed once per
//! translation: conflicts reach across namespaces.

pub mod credentials;

use std::collections::BTreeMap;

use kube::ResourceExt;

use crate::api::KongConsumer;
use crate::kinds::Kind;
use crate::kong::config::Consumer;
use crate::snapshot::Snapshot;
use crate::translate::fallback::Excluded;
use crate::translate::ingress_class;
use crate::translate::names::{self, Entity, ObjectRef};
use crate::translate::problems::{Problem, Problems, Reason};
use credentials::Type;

/// The consumers of the whole cluster.
#[derive(Debug, Default, PartialEq)]
pub struct Consumers {
    entities: Vec<Consumer>,
    problems: Vec<Problem>,
    /// Per plugin (namespace, name as the annotation resolves it): the consumers naming it,
    /// by KIC's identifier (username, else custom_id), with the consumer object.
    plugin_refs: BTreeMap<(String, String), Vec<(String, ObjectRef)>>,
}

/// Whether a KongConsumer is of `class` (KIC's `isValidIngressClass` on its annotation).
/// (KongConsumerGroups follow the same rule: store.go lines 663-673.)
fn ours(snapshot: &Snapshot, class: &str, object: &impl ResourceExt) -> bool {
    ingress_class::annotated(snapshot, class, object)
}

/// A credential that made it, for the conflict check.
struct Held {
    consumer: usize,
    secret: ObjectRef,
    kind: Type,
    value: Option<String>,
}

impl Consumers {
    pub fn new(snapshot: &Snapshot, class: &str, excluded: &Excluded) -> Self {
        let mut problems = Problems::default();
        let mut entities: Vec<(ObjectRef, Consumer)> = Vec::new();
        let mut held: Vec<Held> = Vec::new();
        for kc in snapshot.kong_consumers.values() {
            let kc: &KongConsumer = kc;
            if !ours(snapshot, class, kc) {
                continue;
            }
            let obj = ObjectRef::of(kc);
            let ns = kc.namespace().unwrap_or_default();
            if let Some(why) = excluded.reason(Kind::KongConsumer, &ns, &kc.name_any()) {
                problems.error(&obj, Reason::Excluded, None, why);
                continue;
            }
            let username = kc.username.clone().filter(|u| !u.is_empty());
            let custom_id = kc.custom_id.clone().filter(|c| !c.is_empty());
            if username.is_none() && custom_id.is_none() {
                problems.error(
                    &obj,
                    Reason::InvalidValue,
                    Some("username".into()),
                    "no username or custom_id: Kong needs one; left out".into(),
                );
                continue;
            }
            if kc.consumer_groups.as_ref().is_some_and(|g| !g.is_empty()) {
                problems.warning(
                    &obj,
                    Reason::Ignored,
                    Some("consumerGroups".into()),
                    "consumer groups are Kong Enterprise (Kong OSS has no consumer_groups); ignored"
                        .into(),
                );
            }
            let mut consumer = Consumer {
                id: username
                    .as_deref()
                    .map(|u| names::entity_id(Entity::Consumer, u)),
                username,
                custom_id,
                tags: names::tags(&obj, kc.metadata.annotations.as_ref()),
                ..Consumer::default()
            };
            let at = entities.len();
            for (i, name) in kc.credentials.iter().flatten().enumerate() {
                let field = Some(format!("credentials[{i}]"));
                let secret_ref = ObjectRef::new(Kind::Secret, Some(&ns), name);
                if let Some(why) = excluded.reason(Kind::Secret, &ns, name) {
                    let message = format!("credential Secret {ns}/{name} is {why}");
                    problems.error(&obj, Reason::Excluded, field, message);
                    continue;
                }
                let Some(secret) = snapshot.secret(&ns, name) else {
                    let message = format!("credential Secret {ns}/{name} not found; left out");
                    problems.error(&obj, Reason::SecretNotFound, field, message);
                    continue;
                };
                let secret_ref = secret_ref.with_uid(secret.metadata.uid.as_deref());
                let read = credentials::read(secret);
                for note in &read.notes {
                    problems.warning(&obj, Reason::InvalidValue, field.clone(), note.clone());
                }
                let (kind, credential) = match read.credential {
                    Ok(c) => c,
                    Err(why) => {
                        let message = format!("credential Secret {ns}/{name} {why}");
                        let on_secret = format!(
                            "not a credential of KongConsumer {ns}/{}: {why}",
                            kc.name_any()
                        );
                        problems.error(&obj, Reason::InvalidCredential, field, message);
                        problems.error(
                            &secret_ref,
                            Reason::InvalidCredential,
                            Some("data".into()),
                            on_secret,
                        );
                        continue;
                    }
                };
                let value = kind
                    .unique_field()
                    .and_then(|(f, _)| credential.get(f))
                    .and_then(|v| v.as_str())
                    .map(str::to_string);
                held.push(Held {
                    consumer: at,
                    secret: secret_ref,
                    kind,
                    value,
                });
                let list = match kind {
                    Type::KeyAuth => &mut consumer.keyauth_credentials,
                    Type::BasicAuth => &mut consumer.basicauth_credentials,
                    Type::HmacAuth => &mut consumer.hmacauth_credentials,
                    Type::Jwt => &mut consumer.jwt_secrets,
                    Type::Acl => &mut consumer.acls,
                    Type::OAuth2 => &mut consumer.oauth2_credentials,
                    // Refused by `credentials::read` (Kong Enterprise).
                    Type::MtlsAuth => continue,
                };
                list.push(credential);
            }
            entities.push((obj, consumer));
        }

        // Kong OSS has no consumer_groups (KIC sends them, kongstate.go lines 232-242, and Kong
        // OSS refuses the config): each group of our class is reported instead (store.go
        // lines 663-673 apply the consumers' class rule).
        for group in snapshot.kong_consumer_groups.values() {
            if ours(snapshot, class, &**group) {
                problems.warning(
                    &ObjectRef::of(&**group),
                    Reason::Ignored,
                    None,
                    "consumer groups are Kong Enterprise (Kong OSS has no consumer_groups); not sent".into(),
                );
            }
        }

        // Conflicts: every consumer holding a value another credential of its type holds.
        let mut index: BTreeMap<(Type, &str), Vec<&Held>> = BTreeMap::new();
        for h in &held {
            if let Some(v) = &h.value {
                index.entry((h.kind, v.as_str())).or_default().push(h);
            }
        }
        let mut dropped = vec![false; entities.len()];
        for ((kind, _), holders) in index.iter().filter(|(_, h)| h.len() > 1) {
            let Some((_, name)) = kind.unique_field() else {
                continue;
            };
            for h in holders {
                let others: Vec<String> = holders
                    .iter()
                    .filter(|o| o.secret != h.secret)
                    .map(|o| o.secret.to_string())
                    .collect();
                let message = format!(
                    "conflict detected in \"{name}\" index (with {}): every consumer holding it is left out",
                    others.join(", ")
                );
                problems.error(
                    &h.secret,
                    Reason::CredentialConflict,
                    Some("data".into()),
                    message.clone(),
                );
                let consumer = &entities[h.consumer].0;
                problems.error(
                    consumer,
                    Reason::CredentialConflict,
                    Some("credentials".into()),
                    format!("{} {message}", h.secret),
                );
                dropped[h.consumer] = true;
            }
        }
        let kept: Vec<(ObjectRef, Consumer)> = entities
            .into_iter()
            .zip(dropped)
            .filter(|(_, d)| !d)
            .map(|(e, _)| e)
            .collect();
        let plugin_refs = plugin_refs(snapshot, class, &kept, &mut problems);
        let mut entities: Vec<Consumer> = kept.into_iter().map(|(_, c)| c).collect();
        // Ascending; no username (then no custom_id) first (consumer_cmp.go lines 13-55).
        entities.sort_by(|a, b| (&a.username, &a.custom_id).cmp(&(&b.username, &b.custom_id)));
        Consumers {
            entities,
            problems: problems.into_sorted(),
            plugin_refs,
        }
    }

    /// The consumers naming plugin `namespace`/`name` in `konghq.com/plugins`.
    pub fn of_plugin(&self, namespace: &str, name: &str) -> &[(String, ObjectRef)] {
        self.plugin_refs
            .get(&(namespace.to_string(), name.to_string()))
            .map_or(&[], Vec::as_slice)
    }

    /// Every plugin consumers name, with the consumers naming it.
    pub fn plugin_refs(&self) -> &BTreeMap<(String, String), Vec<(String, ObjectRef)>> {
        &self.plugin_refs
    }

    /// Whether the plugins consumers name (which scope routes' and services' plugins) differ.
    pub fn plugin_refs_differ(&self, other: &Self) -> bool {
        self.plugin_refs != other.plugin_refs
    }

    pub fn report(&self, problems: &mut Problems) {
        problems.extend(&self.problems);
    }

    pub fn entities(&self) -> &[Consumer] {
        &self.entities
    }
}

/// KIC's plugin relations of consumers (`kongstate.go` lines 479-498, 878-958): each
/// `konghq.com/plugins` entry of a consumer that made it into the config, resolved in its
/// namespace (a `<namespace>:` entry only with a ReferenceGrant there from KongConsumers of
/// its namespace); an entry naming no KongPlugin or KongClusterPlugin is reported.
fn plugin_refs(
    snapshot: &Snapshot,
    class: &str,
    consumers: &[(ObjectRef, Consumer)],
    problems: &mut Problems,
) -> BTreeMap<(String, String), Vec<(String, ObjectRef)>> {
    use crate::translate::plugins::{self, ANNOTATION, Entry};
    let mut out: BTreeMap<(String, String), Vec<(String, ObjectRef)>> = BTreeMap::new();
    for (obj, consumer) in consumers {
        let own = obj.namespace.as_deref().unwrap_or_default();
        let Some(kc) = snapshot.stored::<KongConsumer>(own, &obj.name) else {
            continue;
        };
        let Some(list) = kc.annotations().get(ANNOTATION) else {
            continue;
        };
        let field = Some(format!("metadata.annotations[{ANNOTATION}]"));
        // KIC names the consumer by custom_id then, which Kong cannot resolve (a plugin's
        // consumer is a username or an ID, and such a consumer has no ID in the config): Kong
        // would refuse the whole configuration.
        let Some(identifier) = consumer.username.clone() else {
            problems.error(
                obj,
                Reason::InvalidPlugin,
                field,
                "plugins need a consumer with a username: Kong finds a plugin's consumer by username or ID, and one with only a custom_id has neither (KIC sends them and Kong refuses the whole configuration); not applied".into(),
            );
            continue;
        };
        for entry in plugins::entries(list) {
            let (ns, name) = match entry {
                Entry::Local(name) => (own, name),
                Entry::Remote(ns, name) => {
                    if !plugins::granted(snapshot, obj, ns, name) {
                        problems.error(
                            obj,
                            Reason::PluginNotPermitted,
                            field.clone(),
                            format!("{ns}:{name}: no ReferenceGrant in {ns} lets KongConsumers of namespace {own} use KongPlugin {name}; the plugin is not applied"),
                        );
                        continue;
                    }
                    (ns, name)
                }
            };
            if snapshot.kong_plugin(ns, name).is_none()
                && ingress_class::cluster_plugin(snapshot, class, name).is_none()
            {
                let message = plugins::not_found(snapshot, class, ns, name);
                problems.error(obj, Reason::PluginNotFound, field.clone(), message);
                continue;
            }
            out.entry((ns.to_string(), name.to_string()))
                .or_default()
                .push((identifier.clone(), obj.clone()));
        }
    }
    out
}

#[cfg(test)]
#[path = "tests.rs"]
mod tests;
