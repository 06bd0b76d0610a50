//! The plugins that run for the route a request reaches.

use std::collections::BTreeMap;

use serde_json::Value;

use super::{Candidate, list, name_of};

/// What a plugin is scoped to: route, service and consumer, each by name or id.
#[derive(Default)]
struct Scope {
    route: Option<String>,
    service: Option<String>,
    consumer: Option<String>,
}

fn reference(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) => Some(s.clone()),
        Value::Null => None,
        other => name_of(other),
    }
}

/// Every enabled plugin of `config` with its scope: top-level ones by their references,
/// nested ones by where they sit.
fn all_plugins(config: &Value) -> Vec<(Scope, String)> {
    let mut out = Vec::new();
    let mut add = |list: Option<&Value>, base: &dyn Fn(&Value) -> Scope| {
        for p in list.and_then(Value::as_array).into_iter().flatten() {
            if p.get("enabled").and_then(Value::as_bool) == Some(false) {
                continue;
            }
            if let Some(name) = p.get("name").and_then(Value::as_str) {
                out.push((base(p), name.to_string()));
            }
        }
    };
    let own = |p: &Value| Scope {
        route: reference(p.get("route")),
        service: reference(p.get("service")),
        consumer: reference(p.get("consumer")),
    };
    add(config.get("plugins"), &own);
    for service in list(config, "services") {
        let s = name_of(service);
        add(service.get("plugins"), &|p| Scope {
            service: s.clone(),
            ..own(p)
        });
        for route in list(service, "routes") {
            let r = name_of(route);
            add(route.get("plugins"), &|p| Scope {
                route: r.clone(),
                ..own(p)
            });
        }
    }
    for consumer in list(config, "consumers") {
        let c = consumer
            .get("username")
            .or_else(|| consumer.get("custom_id"))
            .or_else(|| consumer.get("id"))
            .and_then(Value::as_str)
            .map(str::to_string);
        add(consumer.get("plugins"), &|p| Scope {
            consumer: c.clone(),
            ..own(p)
        });
    }
    out
}

/// The plugins that run for `matched` (Kong 3.10 `kong/runloop/plugins_iterator.lua`
/// 215-275 `lookup_cfg`: per plugin name, route and service, then route, then service, then
/// global; with a consumer, its combinations first).
pub(super) fn plugins(
    config: &Value,
    matched: &Candidate,
    service: Option<&Value>,
) -> Vec<(String, String)> {
    let route_names: Vec<&str> = [Some(matched.route.as_str()), matched.route_id.as_deref()]
        .into_iter()
        .flatten()
        .collect();
    let service_names: Vec<String> = service
        .into_iter()
        .flat_map(|s| ["name", "id"].map(|k| s.get(k).and_then(Value::as_str).map(str::to_string)))
        .flatten()
        .collect();
    let on_route = |r: &Option<String>| r.as_deref().is_none_or(|r| route_names.contains(&r));
    let on_service = |s: &Option<String>| s.as_ref().is_none_or(|s| service_names.contains(s));
    let mut chosen: BTreeMap<String, (u8, &'static str)> = BTreeMap::new();
    let mut consumers: Vec<(String, String)> = Vec::new();
    for (scope, name) in all_plugins(config) {
        if !on_route(&scope.route) || !on_service(&scope.service) {
            continue;
        }
        if let Some(c) = &scope.consumer {
            consumers.push((format!("consumer {c}"), name));
            continue;
        }
        let rank = match (scope.route.is_some(), scope.service.is_some()) {
            (true, true) => (3, "route and service"),
            (true, false) => (2, "route"),
            (false, true) => (1, "service"),
            (false, false) => (0, "global"),
        };
        let entry = chosen.entry(name).or_insert(rank);
        if rank.0 > entry.0 {
            *entry = rank;
        }
    }
    let mut out: Vec<(String, String)> = chosen
        .into_iter()
        .map(|(name, (_, scope))| (scope.to_string(), name))
        .collect();
    out.sort_by_key(|(scope, _)| match scope.as_str() {
        "route and service" => 0,
        "route" => 1,
        "service" => 2,
        _ => 3,
    });
    out.extend(consumers);
    out
}
