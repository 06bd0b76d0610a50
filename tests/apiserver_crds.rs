//! kingress's CRDs (`crds/`) and the Gateway API CRDs, installed into a real kube-apiserver
//! (see `tests/support/controlplane.rs`): the apiserver accepts valid objects, applies the
//! schemas' defaults, and rejects invalid ones with the CRDs' own validation messages.

mod support;

use serde_json::{Value, json};
use support::apply::{Mode, api_error_message, apply_yaml, try_apply_yaml};
use support::controlplane::shared;

const SAMPLE_CUSTOMIZATION: &str = "
apiVersion: configuration.konghq.com/v1beta1
kind: KongUpstreamPolicy
metadata:
  name: sample-customization
spec:
  algorithm: consistent-hashing
  hashOn:
    header: x-lb
  hashOnFallback:
    input: ip
";

/// Sends one upstream policy with the given `spec` (YAML, indented by two spaces) to a fresh
/// namespace and returns the apiserver's rejection message.
async fn rejected_upstream_policy(prefix: &str, spec: &str) -> String {
    let cp = shared();
    let ns = cp.namespace(prefix).await;
    let yaml = format!(
        "apiVersion: configuration.konghq.com/v1beta1\nkind: KongUpstreamPolicy\n\
         metadata:\n  name: invalid\nspec:\n{spec}"
    );
    api_error_message(try_apply_yaml(&cp.client().await, Some(&ns), &yaml, Mode::Create).await)
}

fn assert_contains(message: &str, expected: &str) {
    assert!(
        message.contains(expected),
        "apiserver message does not contain {expected:?}:\n{message}"
    );
}

#[tokio::test]
async fn upstream_policy_sample_customization_is_accepted() {
    let cp = shared();
    let ns = cp.namespace("kup-valid").await;
    let client = cp.client().await;
    let stored = apply_yaml(&client, Some(&ns), SAMPLE_CUSTOMIZATION).await;
    assert_eq!(stored.len(), 1);
    assert_eq!(
        stored[0].data["spec"],
        json!({
            "algorithm": "consistent-hashing",
            "hashOn": {"header": "x-lb"},
            "hashOnFallback": {"input": "ip"},
        })
    );
    assert_eq!(stored[0].metadata.namespace.as_deref(), Some(ns.as_str()));
}

#[tokio::test]
async fn upstream_policy_with_two_hash_on_inputs_is_rejected() {
    let message = rejected_upstream_policy(
        "kup-two-hash-on",
        "  algorithm: consistent-hashing\n  hashOn:\n    header: x-lb\n    cookie: session\n    \
         cookiePath: /\n",
    )
    .await;
    assert_contains(
        &message,
        "Only one of spec.hashOn.(input|cookie|header|uriCapture|queryArg) can be set.",
    );
}

#[tokio::test]
async fn upstream_policy_cookie_without_path_is_rejected() {
    let message = rejected_upstream_policy(
        "kup-cookie-no-path",
        "  algorithm: consistent-hashing\n  hashOn:\n    cookie: session\n",
    )
    .await;
    assert_contains(
        &message,
        "When spec.hashOn.cookie is set, spec.hashOn.cookiePath is required.",
    );
    assert!(
        !message.contains("Only one of"),
        "unexpected extra rule: {message}"
    );
}

#[tokio::test]
async fn upstream_policy_slots_below_minimum_are_rejected() {
    let message = rejected_upstream_policy("kup-slots", "  slots: 5\n").await;
    assert_contains(&message, "spec.slots");
    assert_contains(&message, "should be greater than or equal to 10");
}

#[tokio::test]
async fn kong_plugin_with_config_and_config_from_is_rejected() {
    let cp = shared();
    let ns = cp.namespace("kp-config-from").await;
    let yaml = "
apiVersion: configuration.konghq.com/v1
kind: KongPlugin
metadata:
  name: rate-limit
plugin: rate-limiting
config:
  minute: 5
configFrom:
  secretKeyRef:
    name: rate-limit-config
    key: config
";
    let message =
        api_error_message(try_apply_yaml(&cp.client().await, Some(&ns), yaml, Mode::Create).await);
    assert_contains(
        &message,
        "Using both config and configFrom fields is not allowed.",
    );
}

#[tokio::test]
async fn kong_plugin_plugin_field_is_immutable() {
    let cp = shared();
    let ns = cp.namespace("kp-immutable").await;
    let client = cp.client().await;
    let plugin = |name: &str| {
        format!(
            "apiVersion: configuration.konghq.com/v1\nkind: KongPlugin\nmetadata:\n  \
             name: auth\nplugin: {name}\n"
        )
    };
    let created = apply_yaml(&client, Some(&ns), &plugin("key-auth")).await;
    assert_eq!(created[0].data["plugin"], "key-auth");

    let message = api_error_message(
        try_apply_yaml(&client, Some(&ns), &plugin("basic-auth"), Mode::Apply).await,
    );
    assert_contains(&message, "The plugin field is immutable");

    // Re-applying the same plugin name is still fine.
    let reapplied = apply_yaml(&client, Some(&ns), &plugin("key-auth")).await;
    assert_eq!(reapplied[0].data["plugin"], "key-auth");
}

#[tokio::test]
async fn http_route_is_accepted_with_gateway_api_defaults() {
    let cp = shared();
    let ns = cp.namespace("httproute").await;
    let yaml = "
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: echo
spec:
  parentRefs:
  - name: kong
  hostnames: [echo.example.com]
  rules:
  - backendRefs:
    - name: echo
      port: 80
  - matches:
    - path:
        value: /api
      headers:
      - name: x-env
        value: canary
    backendRefs:
    - name: echo-canary
      port: 8080
      weight: 3
";
    let stored = apply_yaml(&cp.client().await, Some(&ns), yaml).await;
    let spec = &stored[0].data["spec"];
    assert_eq!(
        spec["parentRefs"],
        json!([{"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": "kong"}])
    );
    let rules = spec["rules"].as_array().expect("rules is a list");
    assert_eq!(rules.len(), 2, "{spec:#}");
    // A rule without matches matches every path.
    assert_eq!(
        rules[0]["matches"],
        json!([{"path": {"type": "PathPrefix", "value": "/"}}])
    );
    assert_eq!(
        rules[0]["backendRefs"],
        json!([{"group": "", "kind": "Service", "name": "echo", "port": 80, "weight": 1}])
    );
    assert_eq!(
        rules[1]["matches"],
        json!([{
            "path": {"type": "PathPrefix", "value": "/api"},
            "headers": [{"name": "x-env", "type": "Exact", "value": "canary"}],
        }])
    );
    assert_eq!(rules[1]["backendRefs"][0]["weight"], Value::from(3));
    assert_eq!(rules[1]["backendRefs"][0]["kind"], "Service");
}

#[tokio::test]
async fn rbac_is_enforced_for_impersonated_service_accounts() {
    let cp = shared();
    let ns = cp.namespace("rbac").await;
    let client = cp.client_as_service_account(&ns, "kingress").await;
    let plugins: kube::Api<kube::api::DynamicObject> = kube::Api::namespaced_with(
        client,
        &ns,
        &kube::discovery::ApiResource::from_gvk(&kube::core::GroupVersionKind::gvk(
            "configuration.konghq.com",
            "v1",
            "KongPlugin",
        )),
    );
    let err = plugins
        .list(&Default::default())
        .await
        .expect_err("a ServiceAccount without RoleBindings must not list KongPlugins");
    let kube::Error::Api(status) = err else {
        panic!("expected a Forbidden answer, got {err}");
    };
    assert_eq!(status.code, 403, "{status:?}");
    assert_contains(
        &status.message,
        &format!("system:serviceaccount:{ns}:kingress"),
    );
}
