//! HTTPRoute rule filters → plugins on the Kong route, as KIC v3.5.13 translates them
//! (`internal/dataplane/translator/subtranslator/httproute.go`, "HR" below; traditional router):
//! - RequestHeaderModifier → `request-transformer`, ResponseHeaderModifier →
//!   `response-transformer`: `set` → `replace` and `add`, `add` → `append`, `remove` →
//!   `remove`, headers as `Name:value` (HR 1288-1370);
//! - RequestRedirect → for Kong 3.9 and later (KIC's `SupportRedirectPlugin`), Kong's `redirect`
//!   plugin (HR 1223-1259); before, `request-termination` with the status code and a
//!   `response-transformer` adding `Location` (HR 1166-1221). Where KIC's `redirect` plugin would
//!   be refused by Kong (no hostname: a path-only `location`, which `typedefs.url` refuses),
//!   kingress keeps the older pair, which works on every Kong;
//! - URLRewrite → `request-transformer`: `replace.uri` (a full path, or for ReplacePrefixMatch a
//!   template over the route's capture, the route's paths rewritten to capture what follows
//!   the prefix) and the `host` header for a hostname (HR 1372-1570);
//! - ExtensionRef → the KongPlugin it names, attached as `konghq.com/plugins` would
//!   (HR 1147-1162, 1261-1266).
//!
//! Transformers of one type are merged, lists concatenated in filter order and the first URI
//! kept (HR 1093-1117). Filter plugins carry the route's tags and no ID (HR 1076-1080).

use gateway_api::apis::standard::httproutes::{
    HttpRouteRulesFilters, HttpRouteRulesFiltersRequestRedirect,
    HttpRouteRulesFiltersRequestRedirectPathType, HttpRouteRulesFiltersRequestRedirectScheme,
    HttpRouteRulesFiltersType, HttpRouteRulesFiltersUrlRewrite,
    HttpRouteRulesFiltersUrlRewritePathType,
};
use serde_json::{Map, Value, json};

use crate::api::KONG_GROUP;
use crate::kong::config::Plugin;

/// Why a rule's filters cannot be translated, as (field, message): KIC then leaves out the
/// rule's whole Kong service (HR 91-102, 1062-1064).
pub fn unsupported(filters: &[HttpRouteRulesFilters], rule: usize) -> Option<(String, String)> {
    use HttpRouteRulesFiltersType as T;
    for (k, f) in filters.iter().enumerate() {
        let field = format!("spec.rules[{rule}].filters[{k}]");
        let missing = |what: &str| {
            Some((
                format!("{field}.{what}"),
                format!("{what} is required by type {}", type_name(&f.r#type)),
            ))
        };
        match f.r#type {
            T::RequestHeaderModifier if f.request_header_modifier.is_none() => {
                return missing("requestHeaderModifier");
            }
            T::ResponseHeaderModifier if f.response_header_modifier.is_none() => {
                return missing("responseHeaderModifier");
            }
            T::RequestRedirect if f.request_redirect.is_none() => {
                return missing("requestRedirect");
            }
            T::RequestHeaderModifier | T::ResponseHeaderModifier | T::RequestRedirect => {}
            T::ExtensionRef => match &f.extension_ref {
                None => return missing("extensionRef"),
                Some(e) if e.group != KONG_GROUP || e.kind != "KongPlugin" => {
                    return Some((
                        format!("{field}.extensionRef"),
                        format!(
                            "an ExtensionRef to {}/{} is not supported; only {KONG_GROUP} KongPlugins",
                            e.group, e.kind
                        ),
                    ));
                }
                Some(_) => {}
            },
            T::UrlRewrite => match &f.url_rewrite {
                None => return missing("urlRewrite"),
                Some(u) if u.path.is_none() && u.hostname.is_none() => {
                    return Some((
                        format!("{field}.urlRewrite"),
                        "URLRewrite sets neither path nor hostname".into(),
                    ));
                }
                Some(u)
                    if u.path.as_ref().is_some_and(|p| {
                        p.r#type == HttpRouteRulesFiltersUrlRewritePathType::ReplaceFullPath
                            && p.replace_full_path.is_none()
                    }) =>
                {
                    return Some((
                        format!("{field}.urlRewrite.path.replaceFullPath"),
                        "required by type ReplaceFullPath".into(),
                    ));
                }
                Some(_) => {}
            },
            T::RequestMirror | T::Cors => {
                return Some((
                    format!("{field}.type"),
                    format!(
                        "filter {} is not supported (KIC v3.5.13 does not support it either)",
                        type_name(&f.r#type)
                    ),
                ));
            }
        }
    }
    None
}

fn type_name(t: &HttpRouteRulesFiltersType) -> String {
    super::enum_str(t)
}

/// A rule's filters have a RequestRedirect: every match then needs a route of its own, as
/// the `Location` is built from the match's path.
pub fn has_redirect(filters: &[HttpRouteRulesFilters]) -> bool {
    filters
        .iter()
        .any(|f| f.r#type == HttpRouteRulesFiltersType::RequestRedirect)
}

/// The URLRewrite that replaces the matched prefix, if any (HR 757-762).
pub fn prefix_rewrite(filters: &[HttpRouteRulesFilters]) -> Option<&str> {
    filters.iter().find_map(|f| {
        let path = f.url_rewrite.as_ref()?.path.as_ref()?;
        (path.r#type == HttpRouteRulesFiltersUrlRewritePathType::ReplacePrefixMatch)
            .then_some(())?;
        path.replace_prefix_match.as_deref()
    })
}

/// What a rule's filters make of one Kong route.
#[derive(Debug, Default, PartialEq)]
pub struct Translated {
    /// Plugins nested in the route, by name descending (KIC's deck output,
    /// `internal/dataplane/deckgen/generate.go` lines 73-76).
    pub plugins: Vec<Plugin>,
    /// KongPlugins named by ExtensionRef filters, in order.
    pub extension_refs: Vec<String>,
    /// The route's paths, when a prefix rewrite replaces them.
    pub paths: Option<Vec<String>>,
}

/// The transformer of a Request- or ResponseHeaderModifier: two generated types of one shape
/// (`set`, `add`, `remove`), hence a macro rather than a function.
macro_rules! header_modifier {
    ($m:expr) => {{
        let m = $m;
        let set = m
            .set
            .as_ref()
            .map(|v| v.iter().map(|h| (&h.name, &h.value)));
        let add = m
            .add
            .as_ref()
            .map(|v| v.iter().map(|h| (&h.name, &h.value)));
        modifier(headers(set), headers(add), m.remove.clone())
    }};
}

/// The plugins and route changes of `filters` for a route whose (first) match has path
/// `path` (the match's raw value), tagged `tags`; `redirect_plugin`: Kong has the `redirect`
/// plugin ([`REDIRECT_PLUGIN`](crate::kong::version::REDIRECT_PLUGIN)). Call [`unsupported`]
/// first: filters it refuses are skipped here.
pub fn translate(
    filters: &[HttpRouteRulesFilters],
    path: &str,
    tags: &[String],
    redirect_plugin: bool,
) -> Translated {
    use HttpRouteRulesFiltersType as T;
    let mut out = Translated::default();
    let mut request = Transformer::default();
    let mut response = Transformer::default();
    for f in filters {
        match f.r#type {
            T::RequestHeaderModifier => {
                if let Some(m) = &f.request_header_modifier {
                    request.merge(header_modifier!(m));
                }
            }
            T::ResponseHeaderModifier => {
                if let Some(m) = &f.response_header_modifier {
                    response.merge(header_modifier!(m));
                }
            }
            T::RequestRedirect => {
                if let Some(r) = &f.request_redirect {
                    if redirect_plugin && r.hostname.is_some() {
                        out.plugins
                            .push(plugin("redirect", redirect_config(r), tags));
                        continue;
                    }
                    let (termination, location) = redirect(r, path);
                    out.plugins
                        .push(plugin("request-termination", termination, tags));
                    response.merge(Transformer {
                        add: Some(vec![header("Location", &location)]),
                        ..Transformer::default()
                    });
                }
            }
            T::UrlRewrite => {
                if let Some(u) = &f.url_rewrite {
                    let (transformer, paths) = url_rewrite(u, path);
                    request.merge(transformer);
                    if paths.is_some() {
                        out.paths = paths;
                    }
                }
            }
            T::ExtensionRef => {
                if let Some(e) = &f.extension_ref {
                    out.extension_refs.push(e.name.clone());
                }
            }
            T::RequestMirror | T::Cors => {}
        }
    }
    for (name, t) in [
        ("request-transformer", request),
        ("response-transformer", response),
    ] {
        if t != Transformer::default() {
            out.plugins.push(plugin(name, t.config(), tags));
        }
    }
    out.plugins.sort_by(|a, b| b.name.cmp(&a.name));
    out
}

fn plugin(name: &str, config: Map<String, Value>, tags: &[String]) -> Plugin {
    Plugin {
        config,
        enabled: true,
        name: name.into(),
        tags: tags.to_vec(),
        ..Plugin::default()
    }
}

/// A modifier's `set` or `add` list as `Name:value` entries (absent stays absent).
fn headers<'a>(
    list: Option<impl Iterator<Item = (&'a String, &'a String)>>,
) -> Option<Vec<String>> {
    list.map(|pairs| pairs.map(|(name, value)| header(name, value)).collect())
}

/// `Name:value`, or the bare name for an empty value (HR 1304-1312).
fn header(name: &str, value: &str) -> String {
    match value {
        "" => name.to_string(),
        v => format!("{name}:{v}"),
    }
}

/// A request- or response-transformer's lists: `None` is absent, an empty list is written as
/// an empty record (KIC tells them apart, HR 1132-1143).
#[derive(Clone, Debug, Default, PartialEq)]
struct Transformer {
    replace: Option<Vec<String>>,
    uri: String,
    add: Option<Vec<String>>,
    append: Option<Vec<String>>,
    remove: Option<Vec<String>>,
}

fn modifier(
    set: Option<Vec<String>>,
    add: Option<Vec<String>>,
    remove: Option<Vec<String>>,
) -> Transformer {
    Transformer {
        replace: set.clone(),
        add: set,
        append: add,
        remove,
        ..Transformer::default()
    }
}

impl Transformer {
    /// mergo with append-slice (HR 1100-1106): lists concatenated, the first URI kept.
    fn merge(&mut self, other: Transformer) {
        fn append(into: &mut Option<Vec<String>>, from: Option<Vec<String>>) {
            match (into.as_mut(), from) {
                (Some(list), Some(more)) => list.extend(more),
                (None, Some(more)) => *into = Some(more),
                (_, None) => {}
            }
        }
        append(&mut self.replace, other.replace);
        append(&mut self.add, other.add);
        append(&mut self.append, other.append);
        append(&mut self.remove, other.remove);
        if self.uri.is_empty() {
            self.uri = other.uri;
        }
    }

    fn config(self) -> Map<String, Value> {
        fn headers(list: &[String]) -> Map<String, Value> {
            let mut m = Map::new();
            if !list.is_empty() {
                m.insert("headers".into(), json!(list));
            }
            m
        }
        let mut config = Map::new();
        if self.replace.is_some() || !self.uri.is_empty() {
            let mut replace = headers(self.replace.as_deref().unwrap_or_default());
            if !self.uri.is_empty() {
                replace.insert("uri".into(), self.uri.into());
            }
            config.insert("replace".into(), replace.into());
        }
        for (key, list) in [
            ("add", self.add),
            ("append", self.append),
            ("remove", self.remove),
        ] {
            if let Some(list) = list {
                config.insert(key.into(), headers(&list).into());
            }
        }
        config
    }
}

/// The `request-termination` config and the `Location` of a redirect (HR 1166-1221): the
/// path is `replaceFullPath` when set, else the match's; with a hostname, the location is
/// `scheme://host[:port]` joined with it as Go's `path.Join` does (the scheme defaults to
/// `http`); without one, the bare path (scheme and port are then not used). The status code
/// defaults to 302 as the CRD does.
fn redirect(r: &HttpRouteRulesFiltersRequestRedirect, path: &str) -> (Map<String, Value>, String) {
    let mut termination = Map::new();
    termination.insert("status_code".into(), r.status_code.unwrap_or(302).into());
    let path = r
        .path
        .as_ref()
        .filter(|p| p.r#type == HttpRouteRulesFiltersRequestRedirectPathType::ReplaceFullPath)
        .and_then(|p| p.replace_full_path.as_deref())
        .unwrap_or(path);
    let location = match &r.hostname {
        Some(host) => {
            let scheme = match r.scheme {
                Some(HttpRouteRulesFiltersRequestRedirectScheme::Https) => "https",
                _ => "http",
            };
            let host_port = match r.port {
                Some(port) => format!("{host}:{port}"),
                None => host.clone(),
            };
            format!("{scheme}://{}", join(&host_port, path))
        }
        None => path.to_string(),
    };
    (termination, location)
}

/// Whether Kong would refuse KIC's `redirect` plugin for this filter: without a hostname its
/// `location` is a bare path, and Kong's `typedefs.url` wants a scheme and a host (Kong 3.10
/// `kong/db/schema/typedefs.lua` 205-221).
pub fn redirect_plugin_refused(r: &HttpRouteRulesFiltersRequestRedirect) -> bool {
    r.hostname.is_none()
}

/// KIC's `redirect` plugin config (HR 1223-1259): `location` is `scheme://host[:port]` joined
/// with `replaceFullPath` (else `/`), and the request's own path is kept unless the filter
/// replaces it. The status code defaults to 302 as the CRD does.
fn redirect_config(r: &HttpRouteRulesFiltersRequestRedirect) -> Map<String, Value> {
    let full_path = r
        .path
        .as_ref()
        .filter(|p| p.r#type == HttpRouteRulesFiltersRequestRedirectPathType::ReplaceFullPath)
        .and_then(|p| p.replace_full_path.as_deref());
    let (_, location) = redirect(r, full_path.unwrap_or("/"));
    // Keys in KIC's (deck's) order.
    let mut config = Map::new();
    config.insert("keep_incoming_path".into(), full_path.is_none().into());
    config.insert("location".into(), location.into());
    config.insert("status_code".into(), r.status_code.unwrap_or(302).into());
    config
}

/// The transformer of a URLRewrite and, for ReplacePrefixMatch, the route's new paths
/// (HR 1372-1570). `path` is the route's first match path.
fn url_rewrite(
    u: &HttpRouteRulesFiltersUrlRewrite,
    path: &str,
) -> (Transformer, Option<Vec<String>>) {
    let mut t = Transformer::default();
    let mut paths = None;
    if let Some(p) = &u.path {
        match p.r#type {
            HttpRouteRulesFiltersUrlRewritePathType::ReplaceFullPath => {
                t.uri = p.replace_full_path.clone().unwrap_or_default();
            }
            HttpRouteRulesFiltersUrlRewritePathType::ReplacePrefixMatch => {
                // Without a replacement KIC rewrites to `/` for the whole root (HR 757-769,
                // 1483-1486); the CRD forbids it.
                let prefix = match p.replace_prefix_match {
                    Some(_) => normalize(path),
                    None => "/".to_string(),
                };
                t.uri = prefix_uri(p.replace_prefix_match.as_deref(), &prefix);
                paths = Some(match prefix.as_str() {
                    "/" => vec!["~/$".to_string(), "~/(.*)".to_string()],
                    p => vec![format!("~{p}$"), format!("~{p}(/.*)")],
                });
            }
        }
    }
    if let Some(host) = &u.hostname {
        let host = vec![header("host", host)];
        t.merge(Transformer {
            replace: Some(host.clone()),
            add: Some(host),
            ..Transformer::default()
        });
    }
    (t, paths)
}

/// `/` for an empty path or `/`, else the path without one trailing `/` (HR 1565-1570).
fn normalize(path: &str) -> String {
    match path {
        "" | "/" => "/".to_string(),
        p => p.strip_suffix('/').unwrap_or(p).to_string(),
    }
}

/// The request-transformer URI replacing prefix `prefix` by `replacement` (HR 1475-1524):
/// the capture of the route's second path is the rest of the URI, with its leading `/`
/// unless the prefix is the root.
fn prefix_uri(replacement: Option<&str>, prefix: &str) -> String {
    let Some(replacement) = replacement else {
        return "/".to_string();
    };
    let replacement = replacement.strip_suffix('/').unwrap_or(replacement);
    let root = prefix == "/";
    match (replacement, root) {
        ("", true) => r#"$(uri_captures[1] == nil and "/" or "/" .. uri_captures[1])"#.into(),
        ("", false) => r#"$(uri_captures[1] == nil and "/" or uri_captures[1])"#.into(),
        (r, true) => format!(r#"{r}$(uri_captures[1] == nil and "" or "/" .. uri_captures[1])"#),
        (r, false) => format!("{r}$(uri_captures[1])"),
    }
}

/// Go's `path.Join(a, b)`: the non-empty elements joined by `/`, then cleaned (repeated
/// slashes, `.` and `..` resolved, no trailing slash).
fn join(a: &str, b: &str) -> String {
    let joined = match (a.is_empty(), b.is_empty()) {
        (true, true) => return String::new(),
        (false, true) => a.to_string(),
        (true, false) => b.to_string(),
        (false, false) => format!("{a}/{b}"),
    };
    clean(&joined)
}

/// Go's `path.Clean`.
fn clean(path: &str) -> String {
    let rooted = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => match parts.last() {
                Some(&last) if last != ".." => {
                    parts.pop();
                }
                _ if rooted => {}
                _ => parts.push(".."),
            },
            p => parts.push(p),
        }
    }
    let body = parts.join("/");
    match (rooted, body.is_empty()) {
        (true, _) => format!("/{body}"),
        (false, true) => ".".to_string(),
        (false, false) => body,
    }
}

#[cfg(test)]
#[path = "filters_tests.rs"]
mod tests;
