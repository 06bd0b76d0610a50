//! `kong/db/schema/others/declarative_config.lua`: the top-level record,
//! nested entities, schema validation of every entity, then (only when that
//! passes, like Kong's `flatten`) deterministic ids, uniqueness and
//! reference checks.
//!
//! Line references are to Kong 3.10 (master 22246ef28c)
//! kong/db/schema/others/declarative_config.lua unless noted.

use crate::entities::route_expressions::RouterFlavor;
use crate::entities::{self, Def, credentials, routes, targets, upstreams};
use crate::entity_ids::{NAMESPACE, assign_ids};
use crate::error::ConfigError;
use crate::errtree::{Key, Node};
use crate::fullschema::{FkInfo, Pass2};
use crate::plugins;
use crate::references::{self, Refs};
use crate::schema::{self, Check, Field, Record};
use crate::valid::ValidConfig;
use serde_json::{Map, Value, json};

/// One entity as validated, in Kong's traversal order.
pub(crate) struct Item {
    pub def: &'static Def,
    pub raw: Map<String, Value>,
    pub data: Map<String, Value>,
    /// 1-based position in its own array.
    pub index: usize,
    pub parent: Option<usize>,
    pub children: Vec<usize>,
    pub id: String,
    /// Cache-key fields that are `required` (declarative_config.lua:601-602).
    pub(crate) ck_required: Vec<&'static str>,
    /// A cache-key field is `auto` (declarative_config.lua:586-587).
    pub(crate) ck_auto: bool,
}

#[derive(Default)]
pub(crate) struct Ctx {
    /// Kong's `router_flavor`: which route fields and checks apply.
    pub flavor: crate::entities::route_expressions::RouterFlavor,
    pub release: crate::KongRelease,
    /// Where certificates' nested `snis` are (see [`crate::KongRelease::loses_nested_snis`]).
    nested_snis: Vec<Vec<Key>>,
    pub items: Vec<Item>,
    pub roots: Vec<usize>,
    pub errs: Node,
    /// What Kong's second (full-schema) pass would say of foreign keys.
    full: Pass2,
}

fn at<'a>(errs: &'a mut Node, path: &[Key]) -> &'a mut Node {
    let mut cur = errs;
    for k in path {
        cur = cur.child(k.clone());
    }
    cur
}

fn set_at(errs: &mut Node, path: &[Key], node: Node) {
    if let Some((last, parent)) = path.split_last() {
        at(errs, parent).set(last.clone(), node);
    }
}

/// The record an entity is validated against, or the field error that stops
/// validation early (unknown route protocol, unsupported plugin): Kong's
/// subschema gate, kong/db/schema/init.lua:2138-2152. Entity records are
/// copies of the entity schemas (declarative_config.lua:126-159).
fn record_for(
    def: &Def,
    obj: &Map<String, Value>,
    flavor: crate::entities::route_expressions::RouterFlavor,
    release: crate::KongRelease,
) -> Result<Record, (&'static str, Node)> {
    let mut r = match def.name {
        "certificates" => entities::certificates::record(),
        "ca_certificates" => entities::ca_certificates::record(),
        "snis" => entities::snis::record(),
        "consumers" => entities::consumers::record(),
        "services" => entities::services::record(),
        "routes" => routes::record_for(obj.get("protocols"), flavor)
            .map_err(|e| ("protocols", Node::Msg(e)))?,
        "upstreams" => upstreams::record(),
        // vaults.lua:49-50: subschema_key `name`, with its own subschema_error
        "vaults" => match obj.get("name") {
            None | Some(Value::Null) => return Err(("name", Node::msg(schema::REQUIRED))),
            Some(Value::String(n)) => entities::vaults::record_for(n)
                .ok_or_else(|| ("name", Node::Msg(entities::vaults::not_installed(n))))?,
            Some(_) => return Err(("name", Node::msg("expected a string"))),
        },
        "targets" => targets::record(),
        "acls" => credentials::acls(),
        "basicauth_credentials" => credentials::basicauth_credentials(),
        "keyauth_credentials" => credentials::keyauth_credentials(),
        "hmacauth_credentials" => credentials::hmacauth_credentials(),
        "jwt_secrets" => credentials::jwt_secrets(),
        "oauth2_credentials" => credentials::oauth2_credentials(),
        // plugins: subschema_key "name" (plugins.lua:13)
        _ => match obj.get("name") {
            // init.lua:2141-2144
            None | Some(Value::Null) => return Err(("name", Node::msg(schema::REQUIRED))),
            // init.lua:2147-2151 with plugins.lua:14 (see plugins::unsupported)
            Some(Value::String(n)) => plugins::record_for(n)
                .filter(|_| release.bundles(n))
                .ok_or_else(|| ("name", Node::Msg(plugins::unsupported(n, release))))?,
            // No Kong source for stopping here: for a number/boolean Kong's
            // 2150 indexes `key[1]` (a Lua error); an array naming a known
            // plugin selects it (1107-1113), and `name` then fails "expected a
            // string" (init.lua:72) among the plugin's other errors.
            Some(_) => return Err(("name", Node::msg("expected a string"))),
        },
    };
    // declarative_config.lua:146-149 (add_extra_attributes, 104-115)
    r = r
        .with_field("_comment", Field::string())
        .with_field("_ignore", Field::array(Field::any()));
    Ok(r)
}

fn validate_entity(
    ctx: &mut Ctx,
    def: &'static Def,
    v: &Value,
    index: usize,
    parent: Option<usize>,
    path: Vec<Key>,
) {
    // init.lua:949-951 (RECORD at 71). A null element gets "required field
    // missing" in Kong instead (validate_elements sets `required`, 838-839;
    // init.lua:884-886).
    let Some(obj) = v.as_object() else {
        set_at(&mut ctx.errs, &path, Node::msg("expected a record"));
        return;
    };
    let mut obj = obj.clone();
    let mut nested = Vec::new();
    for (child, _) in def.children {
        if let Some(cv) = obj.remove(*child) {
            nested.push((*child, cv));
        }
    }
    let mut node = Node::table();
    // No Kong source: Kong accepts these nested entities (entities/mod.rs).
    for key in entities::nested_unsupported(def.name) {
        if obj.remove(*key).is_some() {
            node.set(Key::from(*key), Node::Msg(entities::unsupported_msg(key)));
        }
    }
    let mut ck_required = Vec::new();
    let mut ck_auto = false;
    let mut fk_info = FkInfo::default();
    // A nested sni that names its certificate itself needs nothing derived.
    if def.name == "snis" && parent.is_some() && obj.get("certificate").is_none_or(Value::is_null) {
        ctx.nested_snis.push(path.clone());
    }
    let data = match record_for(def, &obj, ctx.flavor, ctx.release) {
        Ok(mut rec) => {
            for (fk, _) in def.fks {
                if rec.field(fk).is_some_and(|f| f.required) {
                    fk_info.required.push(*fk);
                }
            }
            // the schema's flags of the cache-key fields, for `uuid_key`
            for k in def.cache_key {
                let f = rec.field(k);
                ck_auto |= f.is_some_and(|f| f.auto);
                if f.is_some_and(|f| f.required) {
                    ck_required.push(*k);
                }
            }
            if parent.is_some() {
                // nested entities get their parent implicitly; every foreign
                // key of a nested record must be null (copy_record,
                // declarative_config.lua:162-184: eq = null at 172; message
                // "value must be null", init.lua:890-891 / EQ at 78)
                for (fk, _) in def.fks {
                    rec = rec.with_field(fk, Field::any().check(Check::Eq(Value::Null)));
                }
            }
            // init.lua:954-958: process_auto_fields, then validate
            let mut proc_errs = Node::table();
            let mut data = schema::process(&rec, &obj, &mut proc_errs);
            fill_auto(&rec, &mut data, &path);
            let mut errs = schema::validate_record(&rec, &data);
            schema::merge(&mut errs, proc_errs);
            schema::merge(&mut node, errs);
            fk_info.msgs = fk_transformation_errors(def, &rec, &data);
            data
        }
        Err((field, err)) => {
            node.set(Key::from(field), err);
            obj.clone()
        }
    };
    if !node.is_empty() {
        set_at(&mut ctx.errs, &path, node);
    }
    let parent_link = parent.and_then(|p| {
        let pi = &ctx.items[p];
        let fk = pi.def.children.iter().find(|(c, _)| *c == def.name)?.1;
        Some((&pi.raw, fk))
    });
    ctx.full.note(def, &obj, parent_link, &path, &fk_info);
    let idx = ctx.items.len();
    ctx.items.push(Item {
        def,
        raw: obj,
        data,
        index,
        parent,
        children: Vec::new(),
        id: String::new(),
        ck_required,
        ck_auto,
    });
    match parent {
        Some(p) => ctx.items[p].children.push(idx),
        None => ctx.roots.push(idx),
    }
    // nested arrays: nest_foreign_relationships, declarative_config.lua:195-225
    for (child, cv) in nested {
        let mut cpath = path.clone();
        cpath.push(Key::from(child));
        if let Some(cdef) = entities::def(child) {
            validate_section(ctx, cdef, &cv, Some(idx), cpath);
        }
    }
}

/// `auto = true` string fields left nil get `random_string()`, 32
/// characters of `[A-Za-z0-9]`, when Kong processes the record before
/// validating it (kong/db/schema/init.lua:956, 1915-1918; kong/tools/rand.lua
/// random_string: base64 of 24 random bytes, `/` and `+` replaced by random
/// letters). Here the bytes derive from the entity's place in the config, so
/// the same config gives the same values. An explicit null stays null.
fn fill_auto(rec: &Record, data: &mut Map<String, Value>, path: &[Key]) {
    use base64::Engine;
    let at: Vec<String> = path
        .iter()
        .map(|k| match k {
            Key::Int(i) => i.to_string(),
            Key::Str(s) => s.clone(),
        })
        .collect();
    for (name, f) in &rec.fields {
        if !f.auto || data.contains_key(*name) {
            continue;
        }
        let seed = format!("{}:{name}", at.join("."));
        let ns = uuid::Uuid::new_v5(&NAMESPACE, b"kong-admin-double-auto");
        let mut bytes = uuid::Uuid::new_v5(&ns, seed.as_bytes()).as_bytes().to_vec();
        bytes.extend(uuid::Uuid::new_v5(&ns, format!("{seed}:2").as_bytes()).as_bytes());
        let text = base64::engine::general_purpose::STANDARD_NO_PAD.encode(&bytes[..24]);
        let text: String = text
            .chars()
            .zip(bytes.iter().cycle())
            .map(|(c, b)| match c {
                '/' => char::from(b'A' + b % 26),
                '+' => char::from(b'a' + b % 26),
                c => c,
            })
            .collect();
        data.insert((*name).to_string(), Value::String(text));
    }
}

/// Transformation errors (`run_transformation_checks`) that a foreign key
/// with a primary key would silence, per foreign key: Kong's second pass
/// gives nested entities their parent's key and resolves references
/// (declarative_config.lua:766-768, 776-784), so e.g. basic-auth's
/// `consumer.id` (basic-auth/daos.lua:24) is then set.
fn fk_transformation_errors(
    def: &Def,
    rec: &Record,
    data: &Map<String, Value>,
) -> Vec<(&'static str, Vec<String>)> {
    let entity_msgs = |d: &Map<String, Value>| {
        let mut n = Node::table();
        schema::run_transformation_checks(&rec.transformations, d, &mut n);
        match n {
            Node::Table(mut t) => match t.remove(&Key::from("@entity")) {
                Some(Node::List(l)) => l,
                _ => Vec::new(),
            },
            _ => Vec::new(),
        }
    };
    if rec.transformations.is_empty() {
        return Vec::new();
    }
    let before = entity_msgs(data);
    def.fks
        .iter()
        .map(|(fk, _)| {
            let mut with_pk = data.clone();
            with_pk.insert((*fk).to_string(), json!({"id": "pk"}));
            let after = entity_msgs(&with_pk);
            let gone = before.iter().filter(|m| !after.contains(m)).cloned();
            (*fk, gone.collect())
        })
        .collect()
}

fn validate_section(
    ctx: &mut Ctx,
    def: &'static Def,
    v: &Value,
    parent: Option<usize>,
    path: Vec<Key>,
) {
    // array field (init.lua:909-917, ARRAY at 68): `{}` decodes to an empty
    // Lua table, a valid sequence; null passes a non-required field (877-887)
    let items = match v {
        Value::Array(a) => a.clone(),
        Value::Object(o) if o.is_empty() => Vec::new(),
        Value::Null => return,
        _ => {
            set_at(&mut ctx.errs, &path, Node::msg("expected an array"));
            return;
        }
    };
    for (i, item) in items.iter().enumerate() {
        let mut p = path.clone();
        p.push(Key::Int(i + 1));
        validate_entity(ctx, def, item, i + 1, parent, p);
    }
}

/// Kong's on-the-fly migration of pre-3.0 configs: regex-looking route
/// paths get the `~` prefix. kong/db/declarative/migrations/route_path.lua:28-47
/// (top-level routes 35-36, routes nested in services 39-44), run by
/// kong/db/declarative/init.lua:221.
fn migrate_legacy(config: &mut Map<String, Value>) {
    fn fix_routes(routes: Option<&mut Value>) {
        for r in routes.and_then(Value::as_array_mut).into_iter().flatten() {
            if let Some(paths) = r.get_mut("paths").and_then(Value::as_array_mut) {
                for p in paths.iter_mut() {
                    if let Some(s) = p.as_str() {
                        *p = json!(routes::migrate_legacy_path(s));
                    }
                }
            }
        }
    }
    fix_routes(config.get_mut("routes"));
    for s in config
        .get_mut("services")
        .and_then(Value::as_array_mut)
        .into_iter()
        .flatten()
    {
        fix_routes(s.get_mut("routes"));
    }
}

/// The top-level record: `build_fields`, declarative_config.lua:253-267.
fn top_level(config: &Map<String, Value>, ctx: &mut Ctx) {
    // declarative_config.lua:255
    let fv = Field::string().required().one_of(&["1.1", "2.1", "3.0"]);
    let meta = [
        // declarative_config.lua:256 (default set in flatten, 856-858)
        ("_transform", Field::boolean()),
        ("_comment", Field::string()), // declarative_config.lua:107 via 258-261
        ("_ignore", Field::array(Field::any())), // declarative_config.lua:112 via 258-261
    ];
    if let Err(e) =
        schema::validate_field(&fv, config.get("_format_version").unwrap_or(&Value::Null))
    {
        ctx.errs.set(Key::from("_format_version"), e);
    }
    for (k, v) in config {
        if k == "_format_version" || entities::def(k).is_some() {
            continue;
        }
        let err = match meta.iter().find(|(n, _)| n == k) {
            Some((_, f)) => schema::validate_field(f, v).err(),
            // No Kong source: Kong accepts these entities (entities/mod.rs)
            None if entities::UNSUPPORTED.contains(&k.as_str()) => {
                Some(Node::Msg(entities::unsupported_msg(k)))
            }
            // init.lua:1120-1124 (UNKNOWN at 102)
            None => Some(Node::msg(schema::UNKNOWN)),
        };
        if let Some(e) = err {
            ctx.errs.set(Key::from(k.as_str()), e);
        }
    }
    for def in entities::DEFS {
        if let Some(v) = config.get(def.name) {
            validate_section(ctx, def, v, None, vec![Key::from(def.name)]);
        }
    }
}

/// flatten's output (declarative_config.lua:897-958).
fn build(ctx: Ctx, refs: &Refs, format_version: String) -> ValidConfig {
    let mut out = ValidConfig::new(format_version);
    for idx in 0..ctx.items.len() {
        let it = &ctx.items[idx];
        let mut e = it.data.clone();
        e.insert("id".into(), json!(it.id));
        e.remove("_comment");
        e.remove("_ignore");
        // a `ttl = true` entity keeps a non-null `ttl` (declarative_config.lua:
        // 946-948); other entities cannot have one (unknown field)
        if e.get("ttl").is_some_and(Value::is_null) {
            e.remove("ttl");
        }
        // declarative_config.lua:918-922
        for (fk, target) in it.def.fks {
            let resolved = match e.get(*fk) {
                Some(Value::String(v)) => {
                    references::resolve(refs, target, v).map(|i| json!({"id": ctx.items[i].id}))
                }
                _ => None,
            };
            if let Some(r) = resolved {
                e.insert((*fk).to_string(), r);
            }
        }
        // declarative_config.lua:454-456 (parent's primary key)
        if let Some(p) = it.parent {
            let parent = &ctx.items[p];
            if let Some((_, fk)) = parent.def.children.iter().find(|(c, _)| *c == it.def.name) {
                e.insert((*fk).to_string(), json!({"id": parent.id}));
            }
        }
        match it.def.name {
            // the double's own warning, no Kong source (upstreams::hashes_nothing)
            "upstreams" => {
                if let Some(w) = upstreams::hashes_nothing(&e) {
                    out.warnings.push(w);
                }
            }
            // as the targets DAO returns it (kong/db/dao/targets.lua:98-113)
            "targets" => {
                if let Some(t) = e.get("target").and_then(Value::as_str) {
                    let n = targets::normalize_target(t);
                    e.insert("target".into(), json!(n));
                }
            }
            _ => {}
        }
        out.push(it.def.name, Value::Object(e));
    }
    out
}

/// Validate a declarative configuration the way Kong 3.10 (DB-less) does.
///
/// On success the returned [`ValidConfig`] holds what Kong would store:
/// defaults applied, ids assigned (Kong's UUIDv5 scheme), foreign keys as
/// `{"id": ...}`, targets normalized and upstream algorithms as Kong's shorthands leave them.
pub fn validate(config: &Value) -> Result<ValidConfig, ConfigError> {
    validate_for(config, RouterFlavor::default())
}

/// [`validate`] for Kong running with `router_flavor` `flavor`.
pub fn validate_for(config: &Value, flavor: RouterFlavor) -> Result<ValidConfig, ConfigError> {
    validate_as(config, flavor, crate::KongRelease::default())
}

/// [`validate_for`] as Kong `release` does.
pub fn validate_as(
    config: &Value,
    flavor: RouterFlavor,
    release: crate::KongRelease,
) -> Result<ValidConfig, ConfigError> {
    // kong/db/declarative/init.lua:115-143: Kong says "failed parsing
    // declarative configuration: expected an object" (129, 140) for a
    // scalar, and validates a JSON array as a table.
    let Some(obj) = config.as_object() else {
        let mut fields = Node::table();
        fields.set(Key::from("error"), Node::msg("expected an object"));
        return Err(ConfigError::new(fields, config.clone()));
    };
    let mut obj = obj.clone();
    let fv = obj
        .get("_format_version")
        .and_then(Value::as_str)
        .map(str::to_string);
    // route_path.lua:29-32. Kong then sets `_format_version = "3.0"`
    // (route_path.lua:46); the returned format_version keeps the input's.
    if matches!(fv.as_deref(), Some("1.1") | Some("2.1")) {
        migrate_legacy(&mut obj);
    }
    let mut ctx = Ctx {
        flavor,
        release,
        errs: Node::table(),
        ..Ctx::default()
    };
    // flatten: self:validate(input), declarative_config.lua:860
    top_level(&obj, &mut ctx);
    // declarative_config.lua:882; the full pass derives the same ids first
    // (populate_ids_for_validation, 742-750), by which references resolve
    assign_ids(&mut ctx);
    if !ctx.errs.is_empty() {
        // Kong validates again with the full schema and accepts if that passes
        // (declarative_config.lua:861-880)
        let items = &ctx.items;
        let resolves = |target: &str, key: &str| {
            items.iter().any(|it| {
                it.def.name == target
                    && (it.id == key
                        || it
                            .def
                            .unique_key
                            .and_then(|k| it.raw.get(k))
                            .and_then(Value::as_str)
                            == Some(key))
            })
        };
        let mut errs = ctx.full.revalidate(&ctx.errs, resolves);
        if release.loses_nested_snis() && !ctx.nested_snis.is_empty() {
            // The full pass's foreign key, required (declarative_config.lua with
            // include_foreign) and not derived by Kong 3.8 for nested snis.
            let errs = errs.get_or_insert_with(Node::table);
            for path in &ctx.nested_snis {
                let mut at_certificate = path.clone();
                at_certificate.push(Key::from("certificate"));
                set_at(errs, &at_certificate, Node::msg(schema::REQUIRED));
            }
        }
        if let Some(errs) = errs {
            return Err(ConfigError::new(errs, Value::Object(obj)));
        }
        ctx.errs = Node::table();
    }
    let refs = references::check_references(&mut ctx); // declarative_config.lua:890-893, 928-956
    if !ctx.errs.is_empty() {
        return Err(ConfigError::new(ctx.errs, Value::Object(obj)));
    }
    Ok(build(ctx, &refs, fv.unwrap_or_default()))
}
