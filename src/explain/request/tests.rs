//! `explain --request`'s unit tests: parsing, the pick (checked against atc-router's own
//! `Router`), and each documented ordering rule.

use super::*;
use serde_json::json;

fn request(line: &str, headers: &[&str]) -> HttpRequest {
    let headers: Vec<String> = headers.iter().map(|h| h.to_string()).collect();
    parse(line, &headers, None, None).expect("request")
}

fn config() -> Value {
    json!({"services": [{"name": "shop", "host": "shop.up", "port": 80, "routes": [
        {"name": "cart", "id": "00000000-0000-0000-0000-000000000001",
         "protocols": ["http", "https"], "hosts": ["shop.example.com"], "paths": ["/cart"],
         "regex_priority": 0},
        {"name": "any", "id": "00000000-0000-0000-0000-000000000002",
         "protocols": ["http", "https"], "hosts": ["*.example.com"], "paths": ["/"],
         "regex_priority": 0},
        {"name": "items", "id": "00000000-0000-0000-0000-000000000003",
         "protocols": ["http", "https"], "hosts": ["shop.example.com"],
         "paths": ["~/cart/(?<id>\\d+)$"], "regex_priority": 10}
    ]}], "upstreams": [{"name": "shop.up"}]})
}

#[test]
fn requests_parse_with_kongs_default_ports() {
    let r = request(
        "get https://Shop.example.com:9443/a?b=1",
        &["X-A: 1", "host: h"],
    );
    assert_eq!(r.method, "GET");
    assert_eq!(r.host, "h", "a Host header wins");
    assert_eq!(r.uri, "/a?b=1");
    assert_eq!(r.listener_port, 8443);
    assert_eq!(request("GET http://a", &[]).uri, "/");
    assert!(parse("GET /a", &[], None, None).is_err());
    assert!(parse("GET ftp://a/", &[], None, None).is_err());
}

#[test]
fn the_highest_priority_matching_route_wins_and_the_others_are_listed() {
    let e = explain(
        &config(),
        RouterFlavor::TraditionalCompatible,
        request("GET https://shop.example.com/cart/42", &[]),
    );
    let matched = e.matched.expect("a route");
    // A regex path has the regex bit (51): it beats the plain-host prefix route.
    assert_eq!(matched.route, "items");
    let beaten: Vec<&str> = e.beaten.iter().map(|c| c.route.as_str()).collect();
    assert_eq!(beaten, ["cart", "any"]);
    assert_eq!(e.upstream.as_deref(), Some("shop.up"));
    let none = explain(
        &config(),
        RouterFlavor::TraditionalCompatible,
        request("GET http://other.org/", &[]),
    );
    assert!(none.matched.is_none() && none.beaten.is_empty());
    assert!(none.to_table().contains("no Route matched"));
}

/// `routes` (name, fields) as one service's routes, ids in order from ...01.
fn config_of(routes: &[(&str, Value)]) -> Value {
    let routes: Vec<Value> = routes
        .iter()
        .enumerate()
        .map(|(i, (name, fields))| {
            let mut r = json!({"name": name, "id": format!("00000000-0000-0000-0000-0000000000{:02}", i + 1),
                "protocols": ["http", "https"], "regex_priority": 0});
            for (k, v) in fields.as_object().expect("fields") {
                r[k] = v.clone();
            }
            r
        })
        .collect();
    json!({"services": [{"name": "s", "host": "s.up", "routes": routes}]})
}

/// The route `explain` picks, asserting atc-router's own `Router` picks the same.
fn pick(config: &Value, line: &str, headers: &[&str]) -> Option<String> {
    let req = request(line, headers);
    let schema = router_fields::schema(true);
    let mut router = atc_router::router::Router::new(&schema);
    for (route, _) in routes(config) {
        for piece in route_transform::split_by_path(&route) {
            let id = Uuid::parse_str(piece["id"].as_str().expect("id")).expect("uuid");
            let p = route_transform::priority(&piece).interpreted as usize;
            router
                .add_matcher(p, id, &route_transform::expression(&piece))
                .expect("matcher");
        }
    }
    let values = router_fields::values(&req).expect("values");
    let mut context = router_fields::context(&schema, &values);
    let by_router = router
        .execute(&mut context)
        .then(|| context.result.expect("result").uuid.to_string());
    let e = explain(config, RouterFlavor::TraditionalCompatible, req);
    assert_eq!(
        e.matched.as_ref().map(|m| m.id.clone()),
        by_router,
        "{line}"
    );
    e.matched.map(|m| m.route)
}

/// docs/explain.md's order, one rule per case (each route alone would match).
#[test]
fn each_documented_ordering_rule() {
    let get = |routes: &[(&str, Value)], line: &str, headers: &[&str]| {
        pick(&config_of(routes), line, headers).expect("a match")
    };
    // Plain hosts beat a wildcard, whatever else the wildcard route has.
    let plain = ("plain", json!({"hosts": ["a.example.com"], "paths": ["/"]}));
    let wild = (
        "wild",
        json!({"hosts": ["*.example.com"], "methods": ["GET"], "paths": ["/x/y/z"]}),
    );
    assert_eq!(
        get(
            &[wild.clone(), plain.clone()],
            "GET http://a.example.com/x/y/z",
            &[]
        ),
        "plain"
    );
    // Then a regex path beats a prefix, however long.
    let regex = ("regex", json!({"paths": ["~/x"]}));
    let long = ("long", json!({"paths": ["/x/y/z/long/prefix"]}));
    assert_eq!(
        get(
            &[long.clone(), regex.clone()],
            "GET http://h/x/y/z/long/prefix",
            &[]
        ),
        "regex"
    );
    // Then more kinds of match.
    let two = ("two", json!({"methods": ["GET"], "paths": ["/a"]}));
    let one = ("one", json!({"paths": ["/abc"]}));
    assert_eq!(get(&[one, two], "GET http://h/abc", &[]), "two");
    // Then more header names.
    let h2 = (
        "h2",
        json!({"paths": ["/a"], "headers": {"x-a": ["1"], "x-b": ["2"]}}),
    );
    let h1 = ("h1", json!({"paths": ["/a"], "headers": {"x-a": ["1"]}}));
    assert_eq!(
        get(&[h1, h2], "GET http://h/a", &["x-a: 1", "x-b: 2"]),
        "h2"
    );
    // Then, among regexes, the higher regex_priority.
    let low = ("low", json!({"paths": ["~/r"], "regex_priority": 1}));
    let high = ("high", json!({"paths": ["~/r$"], "regex_priority": 2}));
    assert_eq!(get(&[low, high], "GET http://h/r", &[]), "high");
    // Then, among prefixes, the longer.
    let short = ("short", json!({"paths": ["/p"]}));
    let longer = ("longer", json!({"paths": ["/p/q"]}));
    assert_eq!(get(&[longer, short], "GET http://h/p/q/r", &[]), "longer");
    // Equal priorities: the higher id (atc-router's `(priority, uuid)` order).
    let first = ("first", json!({"paths": ["/same"]}));
    let second = ("second", json!({"paths": ["/same"]}));
    assert_eq!(get(&[first, second], "GET http://h/same", &[]), "second");
    // No route: Kong's 404.
    assert_eq!(
        pick(
            &config_of(&[plain, wild, regex, long]),
            "GET http://b.org/q",
            &[]
        ),
        None
    );
}

/// What `explain` picks is what atc-router's own `Router` picks from the same matchers.
#[test]
fn the_pick_is_atc_routers() {
    for path in ["/cart/42", "/cart", "/x", "/cart/x"] {
        pick(
            &config(),
            &format!("GET https://shop.example.com{path}"),
            &[],
        );
    }
}

#[test]
fn a_query_arg_is_hashed_as_kongs_get_query_arg_reads_it() {
    // Kong 3.10 kong/runloop/balancer/init.lua 62-101: ngx.req.get_uri_args decodes names and
    // values (`+` is a space), an argument without `=` is `true`, repeated ones are sorted
    // and joined with ",".
    let config = json!({"upstreams": [{"name": "u", "algorithm": "consistent-hashing",
        "hash_on": "query_arg", "hash_on_query_arg": "id",
        "targets": [{"target": "10.0.0.1:80"}, {"target": "10.0.0.2:80"}]}]});
    for (uri, key) in [
        ("/?id=a%20b&id=Z", "Z,a b"),
        ("/?id", "true"),
        ("/?id=", ""),
        ("/?i%64=7", "7"),
        ("/?id=1+2&other=x", "1 2"),
        ("/?x=1", ""),
    ] {
        let r = request(&format!("GET http://shop.example.com{uri}"), &[]);
        let h = super::hashing::hashing(&config, "u", &r).expect("hashes");
        assert_eq!(h.key, key, "{uri}");
        assert!(h.target.is_some(), "{uri}");
    }
}

#[test]
fn query_arguments_read_as_ngx_get_uri_args() {
    // Decoded, `+` as a space, no value without `=`, nameless and empty pairs skipped.
    let args = crate::kong::router_fields::uri_args("/p?a=1&=skip&b&c=x+y%21&&a=2");
    let s = |v: &str| Some(v.to_string());
    assert_eq!(
        args,
        [
            ("a".to_string(), s("1")),
            ("b".to_string(), None),
            ("c".to_string(), s("x y!")),
            ("a".to_string(), s("2")),
        ]
    );
}
