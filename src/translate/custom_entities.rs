//! KongCustomEntity: entities of a type a plugin defines. KIC v3.5.13 (gate KongCustomEntity,
//! on by default) fills them from the schema Kong serves for the type and sends them with the
//! config (`kongstate/customentity.go` 162-236); the entity types it exists for belong to
//! plugins such as Kong Enterprise's degraphql (KIC's golden `kong-custom-entity-ee`). kingress
//! does not configure them: each one of our class is reported, so leaving it out is never
//! silent. KIC keeps those whose `spec.controllerName` or class annotation is its class, or
//! without a class annotation when its IngressClass is the default (`MatchesIngressClass`,
//! `internal/controllers/utils/utils.go` 27-44, in the generated reconciler).

use crate::kinds::Kind;
use crate::snapshot::Snapshot;
use crate::translate::fallback::Excluded;
use crate::translate::names::ObjectRef;
use crate::translate::problems::{Problems, Reason};
use crate::translate::{Options, ingress_class};

pub fn report(
    snapshot: &Snapshot,
    options: &Options,
    excluded: &Excluded,
    problems: &mut Problems,
) {
    if !options.feature_gates.custom_entity() {
        return;
    }
    let class = &options.ingress_class;
    for entity in snapshot.kong_custom_entities.values() {
        let ours = entity.spec.controller_name == *class
            || ingress_class::annotated(snapshot, class, &**entity);
        let ns = entity.metadata.namespace.as_deref().unwrap_or_default();
        let name = entity.metadata.name.as_deref().unwrap_or_default();
        if !ours || excluded.contains(Kind::KongCustomEntity, ns, name) {
            continue;
        }
        problems.error(
            &ObjectRef::of(&**entity),
            Reason::Ignored,
            Some("spec.type".into()),
            format!(
                "custom entities are not configured by kingress (KIC fills them from the schema Kong serves for type {:?}, an entity of a plugin such as Kong Enterprise's degraphql); left out",
                entity.spec.entity_type
            ),
        );
    }
}
