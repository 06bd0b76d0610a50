//! `KongPlugin` and `KongClusterPlugin` (configuration.konghq.com/v1): a Kong plugin
//! configuration attached to routes, services or consumers with the `konghq.com/plugins`
//! annotation. Unlike most CRDs their fields are top-level (no `spec`).

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, ObjectMeta, Time};
use kube::core::{ClusterResourceScope, NamespaceResourceScope};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use super::schema::{self, CATEGORIES, CrdNames, age_column, column, programmed_column};
use super::status::ConditionSchema;

/// CEL rules shared by both kinds, verbatim from KIC.
const RULES: &[(&str, &str)] = &[
    (
        "!(has(self.config) && has(self.configFrom))",
        "Using both config and configFrom fields is not allowed.",
    ),
    (
        "!(has(self.configFrom) && has(self.configPatches))",
        "Using both configFrom and configPatches fields is not allowed.",
    ),
    (
        "self.plugin == oldSelf.plugin",
        "The plugin field is immutable",
    ),
];

/// KongPlugin is the Schema for the kongplugins API.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(remote = "Self", rename_all = "camelCase")]
#[schemars(
    transform = schema::root_object,
    transform = schema::cel_rules(RULES),
)]
pub struct KongPlugin {
    #[serde(default)]
    #[schemars(skip)]
    pub metadata: ObjectMeta,
    /// PluginName is the name of the plugin to which to apply the config.
    pub plugin: String,
    /// Config contains the plugin configuration: what goes in the `config` key of the Kong
    /// Admin API request. Only one of `config` or `configFrom` may be used.
    // `default` tells schemars the field is optional, which `schema_with` hides.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "schema::free_form_object")]
    pub config: Option<serde_json::Value>,
    /// ConfigFrom references a secret containing the plugin configuration.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub config_from: Option<ConfigSource>,
    /// ConfigPatches represents JSON patches to the configuration of the plugin, with values
    /// from secrets. Applied to Config, or to an empty object.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub config_patches: Option<Vec<ConfigPatch>>,
    /// ConsumerRef is a reference to a particular consumer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consumer_ref: Option<String>,
    /// Disabled set if the plugin is disabled or not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disabled: Option<bool>,
    /// InstanceName is an optional custom name to identify an instance of the plugin.
    #[serde(rename = "instance_name", skip_serializing_if = "Option::is_none")]
    pub instance_name: Option<String>,
    /// Ordering overrides the normal plugin execution order (Kong Enterprise only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ordering: Option<PluginOrdering>,
    /// Protocols configures plugin to run on requests received on specific protocols.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub protocols: Option<Vec<PluginProtocol>>,
    /// RunOn configures the plugin to run on the first or the second or both nodes in case of
    /// a service mesh deployment.
    #[serde(rename = "run_on", skip_serializing_if = "Option::is_none")]
    #[schemars(extend("enum" = ["first", "second", "all"]))]
    pub run_on: Option<String>,
    /// Status represents the current status of the KongPlugin resource.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<KongPluginStatus>,
}

kube_object!(KongPlugin {
    kind: "KongPlugin",
    plural: "kongplugins",
    version: "v1",
    scope: NamespaceResourceScope,
    short_names: ["kp"],
    status: KongPluginStatus,
});

impl KongPlugin {
    fn crd_names() -> CrdNames {
        plugin_crd_names()
    }
}

/// KongClusterPlugin is the Schema for the kongclusterplugins API: a cluster-wide KongPlugin
/// whose secret references name their namespace.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(remote = "Self", rename_all = "camelCase")]
#[schemars(
    transform = schema::root_object,
    transform = schema::cel_rules(RULES),
)]
pub struct KongClusterPlugin {
    #[serde(default)]
    #[schemars(skip)]
    pub metadata: ObjectMeta,
    /// PluginName is the name of the plugin to which to apply the config.
    pub plugin: String,
    /// Config contains the plugin configuration: what goes in the `config` key of the Kong
    /// Admin API request. Only one of `config` or `configFrom` may be used.
    // `default` tells schemars the field is optional, which `schema_with` hides.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "schema::free_form_object")]
    pub config: Option<serde_json::Value>,
    /// ConfigFrom references a secret containing the plugin configuration.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub config_from: Option<NamespacedConfigSource>,
    /// ConfigPatches represents JSON patches to the configuration of the plugin, with values
    /// from secrets. Applied to Config, or to an empty object.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub config_patches: Option<Vec<NamespacedConfigPatch>>,
    /// ConsumerRef is a reference to a particular consumer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consumer_ref: Option<String>,
    /// Disabled set if the plugin is disabled or not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disabled: Option<bool>,
    /// InstanceName is an optional custom name to identify an instance of the plugin.
    #[serde(rename = "instance_name", skip_serializing_if = "Option::is_none")]
    pub instance_name: Option<String>,
    /// Ordering overrides the normal plugin execution order (Kong Enterprise only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ordering: Option<PluginOrdering>,
    /// Protocols configures plugin to run on requests received on specific protocols.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub protocols: Option<Vec<PluginProtocol>>,
    /// RunOn configures the plugin to run on the first or the second or both nodes in case of
    /// a service mesh deployment.
    #[serde(rename = "run_on", skip_serializing_if = "Option::is_none")]
    #[schemars(extend("enum" = ["first", "second", "all"]))]
    pub run_on: Option<String>,
    /// Status represents the current status of the KongClusterPlugin resource.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<KongClusterPluginStatus>,
}

kube_object!(KongClusterPlugin {
    kind: "KongClusterPlugin",
    plural: "kongclusterplugins",
    version: "v1",
    scope: ClusterResourceScope,
    short_names: ["kcp"],
    status: KongClusterPluginStatus,
});

impl KongClusterPlugin {
    fn crd_names() -> CrdNames {
        plugin_crd_names()
    }
}

fn plugin_crd_names() -> CrdNames {
    CrdNames {
        categories: &CATEGORIES,
        status_subresource: true,
        columns: vec![
            column(
                "Plugin-Type",
                "string",
                ".plugin",
                Some("Name of the plugin"),
                None,
            ),
            age_column(),
            column(
                "Disabled",
                "boolean",
                ".disabled",
                Some("Indicates if the plugin is disabled"),
                Some(1),
            ),
            column(
                "Config",
                "string",
                ".config",
                Some("Configuration of the plugin"),
                Some(1),
            ),
            programmed_column(),
        ],
        labels: &[],
        deprecation: None,
    }
}

/// Secret holding the whole plugin configuration (KongPlugin: same namespace).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConfigSource {
    /// Specifies a name and a key of a secret to refer to. The namespace is implicitly set to
    /// the one of referring object.
    pub secret_key_ref: SecretValueFromSource,
}

/// Key of a secret in the namespace of the referring object.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SecretValueFromSource {
    /// The secret containing the key.
    pub name: String,
    /// The key containing the value.
    pub key: String,
}

/// JSON patch (RFC 6902 `add`) of the plugin configuration with a value from a secret.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConfigPatch {
    /// Path is the JSON-Pointer value (RFC6901) that references a location within the target
    /// configuration.
    pub path: String,
    /// ValueFrom is the reference to a key of a secret where the patched value comes from.
    pub value_from: ConfigSource,
}

/// Secret holding the whole plugin configuration (KongClusterPlugin: explicit namespace).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct NamespacedConfigSource {
    /// Specifies a name, a namespace, and a key of a secret to refer to.
    pub secret_key_ref: NamespacedSecretValueFromSource,
}

/// Key of a secret in an explicit namespace.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct NamespacedSecretValueFromSource {
    /// The namespace containing the secret.
    pub namespace: String,
    /// The secret containing the key.
    pub name: String,
    /// The key containing the value.
    pub key: String,
}

/// JSON patch of a KongClusterPlugin configuration with a value from a secret.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct NamespacedConfigPatch {
    /// Path is the JSON path to add the patch.
    pub path: String,
    /// ValueFrom is the reference to a key of a secret where the patched value comes from.
    pub value_from: NamespacedConfigSource,
}

/// Plugin execution order overrides: phase (e.g. `access`) to plugin names.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PluginOrdering {
    /// Plugins, per phase, that this plugin must run before.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub before: Option<BTreeMap<String, Vec<String>>>,
    /// Plugins, per phase, that this plugin must run after.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after: Option<BTreeMap<String, Vec<String>>>,
}

/// A Kong protocol a plugin can be restricted to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum PluginProtocol {
    Http,
    Https,
    Grpc,
    Grpcs,
    Tcp,
    Tls,
    Udp,
}

impl PluginProtocol {
    /// Wire value, as Kong's `protocols` field expects it.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Http => "http",
            Self::Https => "https",
            Self::Grpc => "grpc",
            Self::Grpcs => "grpcs",
            Self::Tcp => "tcp",
            Self::Tls => "tls",
            Self::Udp => "udp",
        }
    }
}

/// Status of a KongPlugin or KongClusterPlugin.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct KongPluginStatus {
    /// Conditions describe the current conditions of the plugin. Known condition types are:
    /// "Programmed".
    #[serde(default = "pending_conditions")]
    #[schemars(
        with = "Vec<ConditionSchema>",
        length(max = 8),
        transform = schema::condition_list
    )]
    pub conditions: Vec<Condition>,
}

/// KongClusterPlugin's status has the same shape as KongPlugin's.
pub type KongClusterPluginStatus = KongPluginStatus;

/// KIC's default (applied by the API server): `Programmed` unknown until a controller reports.
fn pending_conditions() -> Vec<Condition> {
    vec![Condition {
        last_transition_time: Time(k8s_openapi::jiff::Timestamp::UNIX_EPOCH),
        message: "Waiting for controller".into(),
        observed_generation: None,
        reason: "Pending".into(),
        status: "Unknown".into(),
        type_: "Programmed".into(),
    }]
}

#[cfg(test)]
#[path = "plugin_tests.rs"]
mod tests;
