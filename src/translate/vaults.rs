//! KongVaults → Kong `vaults`, as KIC v3.5.13 makes them (`kongstate.go` 321-392 `FillVaults`,
//! IDs at 707-713 with go-kong v0.78.0 `ids.go` 111-130):
//!
//! - only those of our ingress class (`store.go` 756-766, and the reconciler drops the rest);
//! - several with one `spec.prefix`: the oldest (then the smallest name) is kept, each other
//!   gets KIC's error `spec.prefix "<p>" is duplicate`;
//! - `name` is `spec.backend`, `config` `spec.config` (an object), tags as for any object; the
//!   ID is go-kong's, from the prefix; listed descending by prefix (`deckgen/generate.go`
//!   198-206).
//!
//! Beyond KIC: a backend other than `env` is Kong Enterprise (Kong OSS would refuse the whole
//! configuration: "vault '<name>' is not installed"), so it is reported and left out, as
//! kingress does for other Enterprise entities.

use std::collections::BTreeMap;

use kube::ResourceExt;

use super::fallback::Excluded;
use super::ingress_class;
use super::names::{self, Entity, ObjectRef};
use super::problems::{Problem, Problems, Reason};
use crate::api::KongVault;
use crate::kinds::Kind;
use crate::kong::config::Vault;
use crate::snapshot::Snapshot;

/// Kong OSS's vault backends (Kong 3.10 kong/constants.lua `BUNDLED_VAULTS`).
const OSS_BACKENDS: &[&str] = &["env"];

/// The vaults of the whole cluster, with what was found wrong.
#[derive(Debug, Default, PartialEq)]
pub struct Vaults {
    entities: Vec<Vault>,
    problems: Vec<Problem>,
}

impl Vaults {
    pub fn new(snapshot: &Snapshot, class: &str, excluded: &Excluded) -> Self {
        let mut problems = Problems::default();
        // The winner per prefix: KIC's compareKongVault (older, then smaller name).
        let mut by_prefix: BTreeMap<&str, &KongVault> = BTreeMap::new();
        let ours = snapshot
            .kong_vaults
            .values()
            .filter(|v| ingress_class::annotated(snapshot, class, &***v))
            .filter(|v| !excluded.contains(Kind::KongVault, "", &v.name_any()));
        for vault in ours {
            let prefix = vault.spec.prefix.as_str();
            let loser = match by_prefix.get(prefix) {
                None => {
                    by_prefix.insert(prefix, vault);
                    continue;
                }
                Some(kept) if before(kept, vault) => vault,
                Some(kept) => {
                    let kept = *kept;
                    by_prefix.insert(prefix, vault);
                    kept
                }
            };
            problems.error(
                &ObjectRef::of(loser),
                Reason::InvalidValue,
                Some("spec.prefix".into()),
                format!("spec.prefix {prefix:?} is duplicate"),
            );
        }
        let mut entities = Vec::new();
        for vault in by_prefix.into_values() {
            let object = ObjectRef::of(vault);
            if !OSS_BACKENDS.contains(&vault.spec.backend.as_str()) {
                problems.error(
                    &object,
                    Reason::Ignored,
                    Some("spec.backend".into()),
                    format!(
                        "vault backend {:?} is Kong Enterprise (Kong OSS has only env, and would refuse the whole configuration); left out",
                        vault.spec.backend
                    ),
                );
                continue;
            }
            let config = match &vault.spec.config {
                None => None,
                Some(serde_json::Value::Object(m)) if m.is_empty() => None,
                Some(serde_json::Value::Object(m)) => Some(m.clone()),
                Some(other) => {
                    problems.error(
                        &object,
                        Reason::InvalidValue,
                        Some("spec.config".into()),
                        format!(
                            "failed to parse configuration of vault {:?} to JSON: {other} is not an object",
                            vault.name_any()
                        ),
                    );
                    continue;
                }
            };
            entities.push(Vault {
                config,
                description: vault.spec.description.clone().filter(|d| !d.is_empty()),
                id: names::entity_id(Entity::Vault, &vault.spec.prefix),
                name: vault.spec.backend.clone(),
                prefix: vault.spec.prefix.clone(),
                tags: names::tags(&object, vault.metadata.annotations.as_ref()),
            });
        }
        // Descending by prefix, as KIC's deck file lists them (deckgen/generate.go 198-206).
        entities.reverse();
        Vaults {
            entities,
            problems: problems.into_sorted(),
        }
    }

    pub fn report(&self, problems: &mut Problems) {
        problems.extend(&self.problems);
    }

    /// Descending by prefix.
    pub fn entities(&self) -> &[Vault] {
        &self.entities
    }
}

/// KIC's `compareKongVault`: whether `a` wins over `b`.
fn before(a: &KongVault, b: &KongVault) -> bool {
    match (
        a.metadata.creation_timestamp.as_ref(),
        b.metadata.creation_timestamp.as_ref(),
    ) {
        (Some(x), Some(y)) if x.0 != y.0 => x.0 < y.0,
        // metav1.Time.Before on a nil time: false both ways, so the names decide.
        _ => a.name_any() < b.name_any(),
    }
}
