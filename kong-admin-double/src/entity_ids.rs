//! The ids Kong gives entities a declarative config leaves without one: `generate_ids`,
//! UUIDv5 of a key in a namespace per entity (Kong 3.10 declarative_config.lua 613-718).

use serde_json::Value;

use crate::declarative::Ctx;

// declarative_config.lua:613-615
pub(crate) const NAMESPACE: uuid::Uuid = uuid::uuid!("fd02801f-0957-4a15-a55a-c8d9606f30b5");

/// `generate_uuid`: declarative_config.lua:618-625 (v5 of the key in a
/// namespace that is v5 of the entity name).
fn uuid_for(entity: &str, key: &str) -> String {
    let ns = uuid::Uuid::new_v5(&NAMESPACE, entity.as_bytes());
    uuid::Uuid::new_v5(&ns, key.as_bytes()).to_string()
}

/// `get_key_for_uuid_gen`/`build_cache_key`: the name Kong hashes into a
/// deterministic id, or `None` when Kong would pick a random one.
/// declarative_config.lua:628-683 and 583-610. Every `unique_key` here is a
/// unique endpoint key, so Kong's composite key for non-unique ones
/// (653-676) is not needed.
fn uuid_key(ctx: &Ctx, idx: usize) -> Option<String> {
    let it = &ctx.items[idx];
    if !it.def.cache_key.is_empty() {
        // an `auto` cache-key field: no key (declarative_config.lua:586-587)
        if it.ck_auto {
            return None;
        }
        let child_key = it
            .parent
            .and_then(|p| {
                ctx.items[p]
                    .def
                    .children
                    .iter()
                    .find(|(c, _)| *c == it.def.name)
            })
            .map(|(_, fk)| *fk);
        // build_cache_key: `{ entity, ws_id_for(item) }` (584; "*", 334-339)
        let mut ck = vec![it.def.name.to_string(), "*".to_string()];
        // declarative_config.lua:589-607, arm by arm: a string (589-590); the
        // parent's id for the nested fk (593-595); None for a missing required
        // field (601-602); "" otherwise (604-605); tables and null add nothing
        // (no branch in Kong)
        for k in it.def.cache_key {
            match it.raw.get(*k) {
                Some(Value::String(s)) => ck.push(s.clone()),
                None if Some(*k) == child_key => ck.push(ctx.items[it.parent?].id.clone()),
                None if it.ck_required.contains(k) => return None,
                None => ck.push(String::new()),
                Some(_) => {}
            }
        }
        return Some(ck.join(":")); // declarative_config.lua:609
    }
    // declarative_config.lua:650-680 (unique endpoint key: the value itself)
    it.def
        .unique_key
        .and_then(|k| it.raw.get(k))
        .and_then(Value::as_str)
        .map(str::to_string)
}

/// `generate_ids`: declarative_config.lua:686-718.
pub(crate) fn assign_ids(ctx: &mut Ctx) {
    // preorder: a parent's id exists before its children derive theirs
    // (declarative_config.lua:713)
    fn walk(ctx: &mut Ctx, idx: usize, random: &mut usize) {
        let given = ctx.items[idx]
            .raw
            .get("id")
            .and_then(Value::as_str)
            .map(str::to_string);
        let id = match given {
            Some(id) => id, // declarative_config.lua:635-638
            None => match uuid_key(ctx, idx) {
                Some(key) => uuid_for(ctx.items[idx].def.name, &key),
                None => {
                    // Kong uses a random UUID here (process_auto_fields,
                    // init.lua:1910-1913); stay deterministic for tests
                    *random += 1;
                    uuid_for("kong-admin-double-random", &random.to_string())
                }
            },
        };
        ctx.items[idx].id = id;
        for c in ctx.items[idx].children.clone() {
            walk(ctx, c, random);
        }
    }
    let mut random = 0;
    for r in ctx.roots.clone() {
        walk(ctx, r, &mut random);
    }
}
