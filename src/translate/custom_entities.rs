//! KongCustomEntity: entities of a type a plugin defines. KIC v3.5.13 (gate KongCustomEntity,
//! on by default) fills them from the schema Kong serves for the type and sends them with the
//! config (`kongstate/customentity.go` 162-236); the entity types it exists for belong to
//! plugins such as Kong Enterprise's degraphql (KIC's golden `kong-custom-entity-ee`). kingress
//! does not configure them: each one of our class is reported, so leaving it out is never
//! silent. KIC keeps only those whose `spec.controllerName` is its class (its generated
//! reconciler, `zz_generated.controllers.go`).

use crate::snapshot::Snapshot;
use crate::translate::Options;
use crate::translate::names::ObjectRef;
use crate::translate::problems::{Problems, Reason};

pub fn report(snapshot: &Snapshot, options: &Options, problems: &mut Problems) {
    if !options.feature_gates.custom_entity() {
        return;
    }
    for entity in snapshot.kong_custom_entities.values() {
        if entity.spec.controller_name != options.ingress_class {
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
