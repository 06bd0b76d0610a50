//! Kong replicas of different versions (a rolling upgrade): `kingress run` reads each
//! replica's version on its `GET /` and gives each the config of its own version, so KIC's
//! version gates apply per replica. Here an HTTPRoute RequestRedirect: Kong's `redirect`
//! plugin from 3.9 (KIC v3.5.13 `internal/versions/versions.go` KongRedirectPluginCutoff),
//! which Kong 3.8.0 does not have (the double as 3.8.0 refuses it, as Kong does), and the
//! request-termination pair before.

mod support;

use kingress::translate::DEFAULT_CONTROLLER_NAME;
use kong_admin_double::{KongAdminDouble, KongRelease, ValidConfig};
use support::controlplane;
use support::run::{self, WAIT};

/// The plugins' names, a request-termination as `request-termination <status>` (a rule
/// without backendRefs also gets one, with 500: KIC's).
fn plugin_names(c: &ValidConfig) -> Vec<String> {
    c.plugins()
        .iter()
        .filter_map(|p| {
            let name = p["name"].as_str()?;
            Some(match name {
                "request-termination" => format!("{name} {}", p["config"]["status_code"]),
                _ => name.to_string(),
            })
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_of_different_kong_versions_each_get_their_own_config() {
    let newer = KongAdminDouble::start().await.expect("a Kong 3.10 replica");
    let url = newer.url();
    let older = kong_admin_double::Options {
        release: KongRelease::V3_8,
        ..kong_admin_double::Options::default()
    };
    let env = run::start_with_kong("versions", older, |mut o| {
        o.admin_apis.push(run::admin_api(url));
        o
    })
    .await;
    let class = controlplane::shared().unique_name("kong-class");
    env.apply(&format!(
        "apiVersion: gateway.networking.k8s.io/v1\nkind: GatewayClass\nmetadata: {{name: {class}}}\nspec: {{controllerName: {DEFAULT_CONTROLLER_NAME}}}\n---\napiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {{name: kong}}\nspec:\n  gatewayClassName: {class}\n  listeners: [{{name: http, port: 80, protocol: HTTP}}]\n---\napiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {{name: moved}}\nspec:\n  parentRefs: [{{name: kong}}]\n  hostnames: [old.example.com]\n  rules:\n  - matches: [{{path: {{type: PathPrefix, value: /}}}}]\n    filters:\n    - type: RequestRedirect\n      requestRedirect: {{hostname: new.example.com, statusCode: 301}}\n"
    ))
    .await;
    let older_config = env
        .wait("the request-termination redirect on the 3.8 replica", |c| {
            plugin_names(c).contains(&"request-termination 301".to_string())
        })
        .await;
    assert!(
        !plugin_names(&older_config).contains(&"redirect".to_string()),
        "{:?}",
        plugin_names(&older_config)
    );
    let newer_config = newer
        .wait_for_config(|c| plugin_names(c).contains(&"redirect".to_string()), WAIT)
        .await
        .expect("the redirect plugin on the 3.10 replica");
    assert!(
        !plugin_names(&newer_config).contains(&"request-termination 301".to_string()),
        "{:?}",
        plugin_names(&newer_config)
    );
    // The controller counts both in sync, each with its own config, and nothing was left out.
    let mut state = env.controller.state.clone();
    let state = tokio::time::timeout(
        WAIT,
        state.wait_for(|s| {
            s.applied.len() == 2
                && s.applied
                    .iter()
                    .all(|(r, id)| s.desired_for(r) == Some(id.as_str()))
        }),
    )
    .await
    .expect("both replicas in sync")
    .expect("controller running")
    .clone();
    assert!(state.exclusions.is_empty(), "{:?}", state.exclusions);
    assert!(state.errors.is_empty(), "{:?}", state.errors);
    assert_eq!(state.versions.len(), 2, "{:?}", state.versions);
}
