//! Each rule of the filter translation on its own; `tests/kic-oracle/httproute-filter-*`
//! compares whole HTTPRoutes with KIC v3.5.13's own output.

use super::*;
use serde_json::json;

fn filters(yaml: &str) -> Vec<HttpRouteRulesFilters> {
    serde_norway::from_str(yaml).expect("filters")
}

fn configs(t: &Translated) -> Vec<(String, Value)> {
    t.plugins
        .iter()
        .map(|p| (p.name.clone(), Value::Object(p.config.clone())))
        .collect()
}

#[test]
fn header_modifiers_set_add_remove() {
    let f = filters(
        "- type: RequestHeaderModifier
  requestHeaderModifier:
    set: [{name: X-Set, value: 'a:b,c'}]
    add: [{name: X-Add, value: v}]
    remove: [X-Gone]
- type: ResponseHeaderModifier
  responseHeaderModifier:
    set: []
    remove: [Server]
",
    );
    let t = translate(&f, "", &["k8s-name:r".into()], false);
    assert_eq!(
        configs(&t),
        [
            (
                "response-transformer".into(),
                json!({"add": {}, "remove": {"headers": ["Server"]}, "replace": {}})
            ),
            (
                "request-transformer".into(),
                json!({
                    "add": {"headers": ["X-Set:a:b,c"]},
                    "append": {"headers": ["X-Add:v"]},
                    "remove": {"headers": ["X-Gone"]},
                    "replace": {"headers": ["X-Set:a:b,c"]},
                })
            ),
        ]
    );
    // Filter plugins: the route's tags, no ID.
    assert!(
        t.plugins
            .iter()
            .all(|p| p.tags == ["k8s-name:r"] && p.id.is_empty() && p.enabled)
    );
}

#[test]
fn transformers_of_one_type_merge_in_filter_order() {
    let f = filters(
        "- type: RequestHeaderModifier
  requestHeaderModifier: {set: [{name: X-A, value: '1'}]}
- type: URLRewrite
  urlRewrite: {hostname: up.example.com, path: {type: ReplaceFullPath, replaceFullPath: /full}}
",
    );
    let t = translate(&f, "/x", &[], false);
    assert_eq!(
        configs(&t),
        [(
            "request-transformer".into(),
            json!({
                "add": {"headers": ["X-A:1", "host:up.example.com"]},
                "replace": {"headers": ["X-A:1", "host:up.example.com"], "uri": "/full"},
            })
        )]
    );
    assert_eq!(t.paths, None, "a full-path rewrite keeps the route's paths");
}

#[test]
fn redirect_location_from_hostname_port_and_path() {
    let cases = [
        // (filter, match path, status, Location)
        (
            "{hostname: example.com, statusCode: 301}",
            "/a/",
            301,
            "http://example.com/a",
        ),
        ("{hostname: example.com}", "/", 302, "http://example.com"),
        (
            "{hostname: s.example.com, scheme: https, port: 8443}",
            "/x//y/../z",
            302,
            "https://s.example.com:8443/x/z",
        ),
        // Without a hostname the bare path: scheme and port unused.
        ("{scheme: https, port: 8443}", "/nohost", 302, "/nohost"),
        (
            "{hostname: example.com, path: {type: ReplaceFullPath, replaceFullPath: /new/}}",
            "/old",
            302,
            "http://example.com/new",
        ),
        // ReplacePrefixMatch is not used by KIC's redirect.
        (
            "{hostname: example.com, path: {type: ReplacePrefixMatch, replacePrefixMatch: /o}}",
            "/p",
            302,
            "http://example.com/p",
        ),
    ];
    for (redirect, path, status, location) in cases {
        let f = filters(&format!(
            "- type: RequestRedirect\n  requestRedirect: {redirect}\n"
        ));
        let t = translate(&f, path, &[], false);
        assert_eq!(
            configs(&t),
            [
                (
                    "response-transformer".into(),
                    json!({"add": {"headers": [format!("Location:{location}")]}})
                ),
                ("request-termination".into(), json!({"status_code": status})),
            ],
            "{redirect} on {path}"
        );
    }
}

#[test]
fn prefix_rewrite_templates_and_paths() {
    let cases = [
        // (match path, replacePrefixMatch, uri, paths)
        (
            "/",
            "/v2/",
            r#"/v2$(uri_captures[1] == nil and "" or "/" .. uri_captures[1])"#,
            ["~/$", "~/(.*)"],
        ),
        (
            "/",
            "/",
            r#"$(uri_captures[1] == nil and "/" or "/" .. uri_captures[1])"#,
            ["~/$", "~/(.*)"],
        ),
        (
            "/api/",
            "/",
            r#"$(uri_captures[1] == nil and "/" or uri_captures[1])"#,
            ["~/api$", "~/api(/.*)"],
        ),
        (
            "/v1",
            "/v2",
            "/v2$(uri_captures[1])",
            ["~/v1$", "~/v1(/.*)"],
        ),
    ];
    for (path, replacement, uri, paths) in cases {
        let f = filters(&format!(
            "- type: URLRewrite\n  urlRewrite: {{path: {{type: ReplacePrefixMatch, replacePrefixMatch: '{replacement}'}}}}\n"
        ));
        assert_eq!(prefix_rewrite(&f), Some(replacement));
        let t = translate(&f, path, &[], false);
        assert_eq!(
            configs(&t),
            [(
                "request-transformer".into(),
                json!({"replace": {"uri": uri}})
            )],
            "{path} -> {replacement}"
        );
        assert_eq!(t.paths, Some(paths.map(String::from).to_vec()));
    }
}

#[test]
fn extension_refs_are_collected_in_order() {
    let f = filters(
        "- {type: ExtensionRef, extensionRef: {group: configuration.konghq.com, kind: KongPlugin, name: auth}}
- {type: ExtensionRef, extensionRef: {group: configuration.konghq.com, kind: KongPlugin, name: limit}}
",
    );
    let t = translate(&f, "/", &[], false);
    assert_eq!(t.extension_refs, ["auth", "limit"]);
    assert!(t.plugins.is_empty());
}

#[test]
fn filters_kic_cannot_translate_are_named() {
    let cases = [
        (
            "- {type: RequestMirror, requestMirror: {backendRef: {name: m, port: 80}}}",
            "spec.rules[2].filters[0].type",
            "filter RequestMirror is not supported",
        ),
        (
            "- {type: ExtensionRef, extensionRef: {group: example.com, kind: Widget, name: w}}",
            "spec.rules[2].filters[0].extensionRef",
            "ExtensionRef to example.com/Widget",
        ),
        (
            "- {type: URLRewrite, urlRewrite: {}}",
            "spec.rules[2].filters[0].urlRewrite",
            "neither path nor hostname",
        ),
        (
            "- {type: URLRewrite, urlRewrite: {path: {type: ReplaceFullPath}}}",
            "spec.rules[2].filters[0].urlRewrite.path.replaceFullPath",
            "required",
        ),
        (
            "- {type: RequestRedirect}",
            "spec.rules[2].filters[0].requestRedirect",
            "required by type RequestRedirect",
        ),
    ];
    for (yaml, field, message) in cases {
        let (f, m) = unsupported(&filters(yaml), 2).expect(yaml);
        assert_eq!(f, field);
        assert!(m.contains(message), "{m}");
    }
    let fine = filters("- {type: RequestHeaderModifier, requestHeaderModifier: {remove: [a]}}");
    assert_eq!(unsupported(&fine, 0), None);
}

#[test]
fn go_path_join() {
    for (a, b, want) in [
        ("h", "/", "h"),
        ("h", "", "h"),
        ("h", "/a//b/", "h/a/b"),
        ("h", "/a/./b/..", "h/a"),
        ("h", "/../x", "x"),
        ("h:1", "/../../x", "../x"),
    ] {
        assert_eq!(join(a, b), want, "{a} + {b}");
    }
    assert_eq!(clean("/../a"), "/a");
    assert_eq!(clean(""), ".");
}
