//! Turns the Rust CRD types into `CustomResourceDefinition` objects whose schemas match what
//! KIC's controller-gen produces, so the API server accepts and rejects the same objects.

use std::collections::BTreeMap;

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::{
    CustomResourceColumnDefinition, CustomResourceDefinition, CustomResourceDefinitionNames,
    CustomResourceDefinitionSpec, CustomResourceDefinitionVersion, CustomResourceSubresourceStatus,
    CustomResourceSubresources, CustomResourceValidation, JSONSchemaProps,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::core::schema::{OptionalEnum, StructuralSchemaRewriter};
use kube::core::{ClusterResourceScope, CustomResourceExt, NamespaceResourceScope, Resource};
use schemars::generate::{SchemaGenerator, SchemaSettings};
use schemars::transform::{Transform, transform_subschemas};
use schemars::{JsonSchema, Schema, json_schema};
use serde_json::{Value, json};

/// API group of every KIC CRD.
pub const GROUP: &str = "configuration.konghq.com";

/// Category shared by the KIC CRDs (`kubectl get kong`).
pub(crate) const CATEGORIES: [&str; 2] = ["kong-ingress-controller", "kong"];

/// Schema of `T` in the structural form the API server requires: everything inlined, enums
/// hoisted (kube's rewriters), and without the `nullable`/`title` keys schemars adds but
/// controller-gen does not emit (`nullable` would change what the API server accepts).
pub(crate) fn structural_schema<T: JsonSchema>() -> JSONSchemaProps {
    let generator = SchemaSettings::openapi3()
        .with(|s| {
            s.inline_subschemas = true;
            s.meta_schema = None;
        })
        .with_transform(StructuralSchemaRewriter)
        .with_transform(OptionalEnum)
        .with_transform(ControllerGenStyle)
        .into_generator();
    let schema = generator.into_root_schema_for::<T>();
    // Only fails if schemars emitted something that is not a JSON schema object at all, which
    // the unit tests of every CRD would catch.
    serde_json::from_value(schema.to_value()).expect("schemars output is a valid JSONSchemaProps")
}

/// Removes schemars-isms that controller-gen never emits: `title`, and the `null` that `Option`
/// adds (`nullable`, `null` in enums). KIC's optional fields are not nullable; nullable ones
/// would make the API server accept and store nulls that KIC's CRDs do not.
#[derive(Clone, Copy, Debug)]
struct ControllerGenStyle;

impl Transform for ControllerGenStyle {
    fn transform(&mut self, schema: &mut Schema) {
        if let Some(obj) = schema.as_object_mut() {
            obj.remove("nullable");
            obj.remove("title");
            if let Some(Value::Array(values)) = obj.get_mut("enum") {
                values.retain(|v| !v.is_null());
            }
        }
        transform_subschemas(self, schema);
    }
}

/// Field transform for integers that are a plain Go `int` in KIC: controller-gen gives those no
/// `format`, while schemars tags `i32` as `int32` (also inside arrays).
pub(crate) fn go_int(schema: &mut Schema) {
    schema.remove("format");
    if let Some(Value::Object(items)) = schema.get_mut("items") {
        items.remove("format");
    }
}

/// Root transform adding the `apiVersion`/`kind`/`metadata` properties of top-level objects
/// (`metadata` is validated by the API server itself, CRDs only declare it as an object).
pub(crate) fn root_object(schema: &mut Schema) {
    let api_version = json!({
        "description": "APIVersion defines the versioned schema of this representation of an object.",
        "type": "string",
    });
    let kind = json!({
        "description": "Kind is a string value representing the REST resource this object represents.",
        "type": "string",
    });
    if let Some(Value::Object(props)) = schema.get_mut("properties") {
        props.insert("apiVersion".into(), api_version);
        props.insert("kind".into(), kind);
        props.insert("metadata".into(), json!({ "type": "object" }));
    }
}

/// Free-form JSON object (plugin `config`), kept as-is by the API server.
pub(crate) fn free_form_object(_: &mut SchemaGenerator) -> Schema {
    json_schema!({ "type": "object", "x-kubernetes-preserve-unknown-fields": true })
}

/// Free-form JSON value of any type (KongVault `config`), kept as-is by the API server.
pub(crate) fn free_form_value(_: &mut SchemaGenerator) -> Schema {
    json_schema!({ "x-kubernetes-preserve-unknown-fields": true })
}

/// Transform appending CEL rules (`(rule, message)`) to a schema's `x-kubernetes-validations`.
pub(crate) fn cel_rules(rules: &'static [(&'static str, &'static str)]) -> impl FnMut(&mut Schema) {
    move |schema: &mut Schema| {
        let list = rules
            .iter()
            .map(|(rule, message)| json!({ "message": message, "rule": rule }));
        match schema.get_mut("x-kubernetes-validations") {
            Some(Value::Array(existing)) => existing.extend(list),
            _ => {
                schema.insert("x-kubernetes-validations".into(), list.collect());
            }
        }
    }
}

/// Transform marking a list of conditions as a map keyed by `type`, like metav1 conditions.
pub(crate) fn condition_list(schema: &mut Schema) {
    schema.insert("x-kubernetes-list-type".into(), "map".into());
    schema.insert("x-kubernetes-list-map-keys".into(), json!(["type"]));
}

/// `additionalPrinterColumns` entry.
pub(crate) fn column(
    name: &str,
    type_: &str,
    json_path: &str,
    description: Option<&str>,
    priority: Option<i32>,
) -> CustomResourceColumnDefinition {
    CustomResourceColumnDefinition {
        name: name.into(),
        type_: type_.into(),
        json_path: json_path.into(),
        description: description.map(Into::into),
        priority,
        format: None,
    }
}

/// The `Age` column KIC's CRDs share.
pub(crate) fn age_column() -> CustomResourceColumnDefinition {
    column(
        "Age",
        "date",
        ".metadata.creationTimestamp",
        Some("Age"),
        None,
    )
}

/// The `Programmed` column of KIC's CRDs with a `Programmed` condition.
pub(crate) fn programmed_column() -> CustomResourceColumnDefinition {
    column(
        "Programmed",
        "string",
        r#".status.conditions[?(@.type=="Programmed")].status"#,
        None,
        None,
    )
}

/// CRD `scope` of a resource scope type.
pub(crate) trait ScopeName {
    const NAME: &'static str;
}

impl ScopeName for NamespaceResourceScope {
    const NAME: &'static str = "Namespaced";
}

impl ScopeName for ClusterResourceScope {
    const NAME: &'static str = "Cluster";
}

/// What differs between the KIC CRDs besides what the Rust type already knows.
pub(crate) struct CrdNames {
    /// `names.categories` (`kubectl get <category>`); none when empty.
    pub categories: &'static [&'static str],
    /// Whether the version has the `status` subresource.
    pub status_subresource: bool,
    pub columns: Vec<CustomResourceColumnDefinition>,
    pub labels: &'static [(&'static str, &'static str)],
    /// The version's `deprecationWarning` (and `deprecated: true`), for kinds KIC deprecates.
    pub deprecation: Option<String>,
}

/// Builds the single-version CRD of `K` (served, stored, with a status subresource).
pub(crate) fn build_crd<K>(names: CrdNames) -> CustomResourceDefinition
where
    K: Resource<DynamicType = ()> + CustomResourceExt + JsonSchema,
    K::Scope: ScopeName,
{
    let plural = K::plural(&());
    let kind = K::kind(&());
    let labels = (!names.labels.is_empty()).then(|| {
        names
            .labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect::<BTreeMap<_, _>>()
    });
    CustomResourceDefinition {
        metadata: ObjectMeta {
            name: Some(format!("{plural}.{}", K::group(&()))),
            labels,
            ..ObjectMeta::default()
        },
        spec: CustomResourceDefinitionSpec {
            group: K::group(&()).into_owned(),
            names: CustomResourceDefinitionNames {
                categories: (!names.categories.is_empty())
                    .then(|| names.categories.iter().map(|c| c.to_string()).collect()),
                kind: kind.to_string(),
                list_kind: Some(format!("{kind}List")),
                plural: plural.to_string(),
                short_names: (!K::shortnames().is_empty())
                    .then(|| K::shortnames().iter().map(|s| s.to_string()).collect()),
                singular: Some(kind.to_ascii_lowercase()),
            },
            scope: K::Scope::NAME.into(),
            versions: vec![CustomResourceDefinitionVersion {
                additional_printer_columns: (!names.columns.is_empty()).then_some(names.columns),
                deprecated: names.deprecation.is_some().then_some(true),
                deprecation_warning: names.deprecation,
                name: K::version(&()).into_owned(),
                schema: Some(CustomResourceValidation {
                    open_api_v3_schema: Some(structural_schema::<K>()),
                }),
                served: true,
                storage: true,
                subresources: names
                    .status_subresource
                    .then(|| CustomResourceSubresources {
                        status: Some(CustomResourceSubresourceStatus(json!({}))),
                        scale: None,
                    }),
                ..CustomResourceDefinitionVersion::default()
            }],
            ..CustomResourceDefinitionSpec::default()
        },
        status: None,
    }
}

/// `required: [spec]` on a root object.
pub(crate) fn spec_required(schema: &mut Schema) {
    schema.insert("required".into(), json!(["spec"]));
}

/// `required: [conditions]` on a status object.
pub(crate) fn conditions_required(schema: &mut Schema) {
    schema.insert("required".into(), json!(["conditions"]));
}

/// KIC's default conditions: `Programmed` Unknown, reason Pending, "Waiting for controller".
pub(crate) fn pending_conditions_default(schema: &mut Schema) {
    schema.insert(
        "default".into(),
        json!([{
            "lastTransitionTime": "1970-01-01T00:00:00Z",
            "message": "Waiting for controller",
            "reason": "Pending",
            "status": "Unknown",
            "type": "Programmed",
        }]),
    );
}
