//! Kong's expressions router end to end: `kingress run` reads each replica's `router_flavor`
//! from its `GET /` and translates Ingress routes as KIC does for `expressions` (expression
//! and priority; the admin API double checks every expression with Kong's atc-router); when
//! replicas disagree, each gets the routes of its own flavor.

mod support;

use kong_admin_double::{KongAdminDouble, RouterFlavor, ValidConfig};
use support::run::{self, WAIT};

const INGRESS: &str = "apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec: {ports: [{name: http, port: 80}]}\n---\napiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: shop}\nspec:\n  ingressClassName: kong\n  rules:\n  - host: shop.example.com\n    http:\n      paths:\n      - {path: /cart, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}\n";

fn expressions() -> kong_admin_double::Options {
    kong_admin_double::Options {
        router_flavor: RouterFlavor::Expressions,
        ..kong_admin_double::Options::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_with_the_expressions_router_gets_expression_routes() {
    let env = run::start_with_kong("expressions", expressions(), |o| o).await;
    env.apply(INGRESS).await;
    let name = format!("{}.shop.web.shop.example.com.80", env.ns);
    let config = env
        .wait("the Ingress route as an expression", |c: &ValidConfig| {
            c.route(&name).is_some_and(|r| r["expression"].is_string())
        })
        .await;
    let route = config.route(&name).expect("route");
    // KIC v3.5.13's expression and priority for this rule (subtranslator/ingress_atc.go):
    // MF 2 (host, path), plain host, regex (Prefix), path length 2 + len("cart").
    assert_eq!(
        route["expression"],
        r#"(http.host == "shop.example.com") && ((http.path == "/cart") || (http.path ^= "/cart/"))"#
    );
    let priority = (3u64 << 44) + (2 << 41) + (1 << 32) + (1 << 16) + 6;
    assert_eq!(route["priority"], priority);
    assert!(
        route["paths"].is_null() && route["hosts"].is_null(),
        "{route}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_of_different_flavors_each_get_their_own_routes() {
    let traditional = KongAdminDouble::start().await.expect("second replica");
    let url = traditional.url();
    let env = run::start_with_kong("flavors", expressions(), |mut o| {
        o.admin_apis.push(run::admin_api(url));
        o
    })
    .await;
    env.apply(INGRESS).await;
    let name = format!("{}.shop.web.shop.example.com.80", env.ns);
    env.wait("an expression route on the expressions replica", |c| {
        c.route(&name)
            .is_some_and(|r| r["expression"].is_string() && r["paths"].is_null())
    })
    .await;
    traditional
        .wait_for_config(
            |c: &ValidConfig| {
                c.route(&name)
                    .is_some_and(|r| r["expression"].is_null() && r["paths"].is_array())
            },
            WAIT,
        )
        .await
        .expect("a traditional route on the traditional_compatible replica");
    // Each replica holds the config meant for it, as the controller sees it too.
    let mut state = env.controller.state.clone();
    let in_sync = |s: &kingress::controller::sync::SyncState| {
        s.applied.len() == 2
            && s.applied
                .iter()
                .all(|(r, id)| s.desired_for(r) == Some(id.as_str()))
    };
    let state = tokio::time::timeout(WAIT, state.wait_for(|s| in_sync(s)))
        .await
        .expect("both replicas reported in sync")
        .expect("controller running")
        .clone();
    let ids: std::collections::BTreeSet<&String> = state.applied.values().collect();
    assert_eq!(
        ids.len(),
        2,
        "different flavors, different configs: {state:?}"
    );
}
