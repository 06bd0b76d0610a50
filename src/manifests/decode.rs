//! One YAML document → the objects it holds and what is wrong with them.
//!
//! A document is read twice, never into an intermediate tree: a first pass takes only its
//! `apiVersion`, `kind` and `metadata.name` (skipping everything else), and once the kind is
//! known a second pass decodes it straight into that kind's type, noting unknown fields. Only
//! a `kind: List` is read into a JSON value, to decode its items.

use std::fmt;

use serde::de::{self, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::{Deserialize, Serialize};

use super::documents::Document;
use super::one_pass::{self, OnePass};
use crate::kinds::{Kind, KindSpec, Object, with_kind};
use crate::yaml::YamlError;

/// Kinds that often sit beside ingress manifests and are irrelevant to translation.
pub(super) const IRRELEVANT_KINDS: &[&str] = &[
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "ReplicaSet",
    "Pod",
    "Job",
    "CronJob",
    "ServiceAccount",
    "Role",
    "RoleBinding",
    "ClusterRole",
    "ClusterRoleBinding",
    "HorizontalPodAutoscaler",
    "PodDisruptionBudget",
    "NetworkPolicy",
    "CustomResourceDefinition",
    "PersistentVolumeClaim",
];

/// A problem with one object or document, before the file and document are attached.
#[derive(Debug, PartialEq, Eq)]
pub struct Found {
    /// `Kind name` when known.
    pub object: Option<String>,
    pub message: String,
    pub fatal: bool,
}

/// What a document gave.
#[derive(Debug, Default)]
pub struct Decoded {
    pub objects: Vec<Object>,
    pub problems: Vec<Found>,
    /// Objects of kinds translation does not read.
    pub ignored: usize,
}

impl Decoded {
    fn problem(&mut self, object: Option<String>, message: String, fatal: bool) {
        self.problems.push(Found {
            object,
            message,
            fatal,
        });
    }
}

/// `T` from a document's text, through [`crate::yaml`].
fn read<T: serde::de::DeserializeOwned>(text: &str, line_offset: usize) -> Result<T, YamlError> {
    crate::yaml::decode_seed(text, line_offset, std::marker::PhantomData)
}

/// Reads one document.
pub fn decode(doc: &Document<'_>) -> Decoded {
    let mut out = Decoded::default();
    if doc.is_empty() {
        return out;
    }
    match one_pass::decode(doc.text) {
        Some(OnePass::Object(object, unknown)) => {
            let label = format!(
                "{} {}",
                object.kind().as_str(),
                object.meta().name.as_deref().unwrap_or_default()
            );
            let version = object.kind().info().versions[0];
            accept(object, unknown, &label, &mut out, version);
            return out;
        }
        Some(OnePass::Irrelevant) => {
            out.ignored += 1;
            return out;
        }
        None => {}
    }
    let head: Head = match read(doc.text, doc.line_offset) {
        Ok(h) => h,
        Err(e) => {
            out.problem(None, format!("malformed YAML: {e}"), true);
            return out;
        }
    };
    let source = match &head {
        Head::Mapping { kind, .. } if kind == "Secret" => match secret_value(doc) {
            Ok(value) => Source::Value(value),
            Err(e) => {
                out.problem(None, format!("malformed YAML: {e}"), true);
                return out;
            }
        },
        _ => Source::Text(doc.text, doc.line_offset),
    };
    object(source, head, &mut out);
    out
}

/// A Secret as the apiserver reads it: its `data` values are base64 that Go's decoder takes
/// with line breaks in it ("New line characters (\r and \n) are ignored", encoding/base64
/// DecodeString, which encoding/json uses for []byte), as `kubectl create secret` and KIC's
/// own manifests write long values. k8s-openapi's ByteString does not, so they are removed first.
fn secret_value(doc: &Document<'_>) -> Result<serde_json::Value, YamlError> {
    let mut value: serde_json::Value = read(doc.text, doc.line_offset)?;
    if let Some(data) = value
        .get_mut("data")
        .and_then(serde_json::Value::as_object_mut)
    {
        for v in data.values_mut() {
            if let serde_json::Value::String(s) = v
                && s.contains(['\n', '\r'])
            {
                s.retain(|c| c != '\n' && c != '\r');
            }
        }
    }
    Ok(value)
}

/// Where an object's typed decoding reads from.
enum Source<'a> {
    /// A document's text, and the lines before it in the stream.
    Text(&'a str, usize),
    /// An item of a `List`.
    Value(serde_json::Value),
}

/// The parts of an object the loader needs before it knows the object's type.
#[derive(Debug, Default, PartialEq, Eq)]
enum Head {
    #[default]
    Null,
    NotMapping,
    Mapping {
        api_version: String,
        kind: String,
        name: Option<String>,
        items: bool,
    },
}

fn object(source: Source<'_>, head: Head, out: &mut Decoded) {
    let (api_version, kind, name) = match head {
        Head::Null => return,
        Head::NotMapping => {
            out.problem(
                None,
                "expected a Kubernetes object (a mapping with apiVersion and kind)".into(),
                true,
            );
            return;
        }
        Head::Mapping {
            api_version, kind, ..
        } if api_version.is_empty() || kind.is_empty() => {
            out.problem(None, "missing apiVersion or kind".into(), true);
            return;
        }
        Head::Mapping {
            api_version,
            kind,
            items: true,
            ..
        } if kind == "List" && api_version == "v1" => {
            list(source, out);
            return;
        }
        Head::Mapping {
            api_version,
            kind,
            name,
            ..
        } => (api_version, kind, name),
    };
    let label = format!("{kind} {}", name.as_deref().unwrap_or("<unnamed>"));
    if IRRELEVANT_KINDS.contains(&kind.as_str()) {
        out.ignored += 1;
        return;
    }
    let Some(known) = Kind::by_name(&kind) else {
        let message = match kind.as_str() {
            // Not watched either: the object holds a license key, and Kong OSS takes none.
            "KongLicense" => format!(
                "kind {kind} ({api_version}) is a Kong Enterprise license: kingress configures Kong OSS, which has no licenses; ignored"
            ),
            _ => format!("kind {kind} ({api_version}) is not read by kingress; ignored"),
        };
        out.problem(Some(label), message, false);
        out.ignored += 1;
        return;
    };
    let info = known.info();
    let Some(version) = info
        .versions
        .iter()
        .find(|v| info.api_version(v) == api_version)
    else {
        let message = format!(
            "apiVersion {api_version} is not supported for {kind}; use {}",
            info.preferred_api_version()
        );
        out.problem(Some(label), message, true);
        return;
    };
    if name.as_deref().is_none_or(str::is_empty) {
        let message = format!("invalid {kind}: missing required field metadata.name");
        out.problem(Some(label), message, true);
        return;
    }
    let decoded = with_kind!(known, |K| typed::<K>(source).map(|(o, unknown)| {
        let missing = missing_required(&o);
        (K::wrap(Box::new(o)), unknown, missing)
    }));
    match decoded {
        Ok((_, _, Some(field))) => {
            let message = format!("invalid {kind}: missing required field {field}");
            out.problem(Some(label), message, true);
        }
        Ok((object, unknown, None)) => accept(object, unknown, &label, out, version),
        Err(e) => out.problem(Some(label), format!("invalid {kind}: {e}"), true),
    }
}

/// Keeps a decoded object, noting the fields its type does not know. It is trimmed as the
/// controller trims what it watches (translation reads the same parts either way), which
/// also frees the spare room of lists decoded without a length. An object read at another
/// `version` than its kind's preferred one is marked so (its tags name that version).
fn accept(
    mut object: Object,
    unknown: Vec<String>,
    label: &str,
    out: &mut Decoded,
    version: &'static str,
) {
    crate::kinds::trim::trim(&mut object);
    object.mark_read_version(version);
    for field in unknown {
        out.problem(
            Some(label.to_string()),
            format!("unknown field {field} (ignored; the apiserver would drop it)"),
            false,
        );
    }
    default_namespace(&mut object);
    out.objects.push(object);
}

/// `kind: List`: each item as an object of its own (same document).
fn list(source: Source<'_>, out: &mut Decoded) {
    let value = match source {
        Source::Text(text, line_offset) => match read::<serde_json::Value>(text, line_offset) {
            Ok(v) => v,
            Err(e) => {
                let message = format!("malformed YAML: {e}");
                out.problem(None, message, true);
                return;
            }
        },
        Source::Value(v) => v,
    };
    let items = match value {
        serde_json::Value::Object(mut map) => map.remove("items"),
        _ => None,
    };
    for item in items
        .and_then(|i| match i {
            serde_json::Value::Array(items) => Some(items),
            _ => None,
        })
        .into_iter()
        .flatten()
    {
        let head = Head::deserialize(&item).unwrap_or(Head::NotMapping);
        object(Source::Value(item), head, out);
    }
}

/// Decodes `source` as `K`, collecting the paths of fields `K` does not know.
fn typed<K: KindSpec>(source: Source<'_>) -> Result<(K, Vec<String>), String> {
    let mut unknown = Vec::new();
    let note = unknown_fields(&mut unknown);
    let object = match source {
        Source::Text(text, line_offset) => {
            let seed = Ignoring(note, std::marker::PhantomData::<K>);
            crate::yaml::decode_seed(text, line_offset, seed).map_err(|e| e.to_string())?
        }
        Source::Value(value) => {
            serde_ignored::deserialize(value, note).map_err(|e| e.to_string())?
        }
    };
    Ok((object, unknown))
}

/// Collects into `unknown` the paths serde_ignored reports. `status` is written by
/// controllers; apiVersion/kind were matched already (some derived types do not keep them).
pub(super) fn unknown_fields(
    unknown: &mut Vec<String>,
) -> impl FnMut(serde_ignored::Path<'_>) + '_ {
    |path| {
        let p = field_path(&path);
        if !p.starts_with("status") && p != "apiVersion" && p != "kind" {
            unknown.push(p);
        }
    }
}

/// Decodes a `T`, passing the paths of fields `T` does not know to `F`.
struct Ignoring<F, T>(F, std::marker::PhantomData<T>);

impl<'de, F: FnMut(serde_ignored::Path<'_>), T: Deserialize<'de>> de::DeserializeSeed<'de>
    for Ignoring<F, T>
{
    type Value = T;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<T, D::Error> {
        serde_ignored::deserialize(d, self.0)
    }
}

/// A required field the Kubernetes types read leniently (k8s-openapi takes a missing
/// required string as ""), which the apiserver would insist on: the first one missing.
pub(super) fn missing_required<K: Serialize + 'static>(object: &K) -> Option<String> {
    let any: &dyn std::any::Any = object;
    if let Some(slice) = any.downcast_ref::<crate::api::EndpointSlice>() {
        return slice.address_type.is_empty().then(|| "addressType".into());
    }
    let ingress = any.downcast_ref::<crate::api::Ingress>()?;
    let rules = ingress.spec.as_ref()?.rules.as_deref()?;
    for (i, rule) in rules.iter().enumerate() {
        let paths = rule.http.as_ref().map(|h| h.paths.as_slice());
        for (j, path) in paths.into_iter().flatten().enumerate() {
            if path.path_type.is_empty() {
                return Some(format!("spec.rules[{i}].http.paths[{j}].pathType"));
            }
        }
    }
    None
}

/// A field path as the translator's problems write it: `spec.rules[0].backendRefs[1].x`
/// (serde_ignored's own display is `spec.rules.0.backendRefs.1.x`, with `?` for Options).
pub(super) fn field_path(path: &serde_ignored::Path<'_>) -> String {
    use serde_ignored::Path;
    match path {
        Path::Root => String::new(),
        Path::Seq { parent, index } => format!("{}[{index}]", field_path(parent)),
        Path::Map { parent, key } => match field_path(parent) {
            p if p.is_empty() => key.clone(),
            p => format!("{p}.{key}"),
        },
        Path::Some { parent }
        | Path::NewtypeStruct { parent }
        | Path::NewtypeVariant { parent } => field_path(parent),
    }
}

/// Namespaced objects without a namespace land in `default`, as with `kubectl apply`.
fn default_namespace(object: &mut Object) {
    if !object.kind().info().namespaced {
        return;
    }
    let meta = object.meta_mut();
    if meta.namespace.as_deref().is_none_or(str::is_empty) {
        meta.namespace = Some("default".to_string());
    }
}

/// Visitor methods for the values a pass does not look into: each gives `$none`, skipping
/// what it holds.
macro_rules! skip_others {
    ($out:ty, $none:expr) => {
        skip_others!(@scalars $out, $none; visit_bool: bool, visit_i64: i64, visit_u64: u64,
            visit_f64: f64, visit_i128: i128, visit_u128: u128, visit_bytes: &[u8]);
        fn visit_none<E: de::Error>(self) -> Result<$out, E> {
            Ok($none)
        }
        fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<$out, A::Error> {
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            Ok($none)
        }
    };
    (@scalars $out:ty, $none:expr; $($method:ident: $ty:ty),+) => {
        $(fn $method<E: de::Error>(self, _: $ty) -> Result<$out, E> {
            Ok($none)
        })+
    };
}

impl<'de> Deserialize<'de> for Head {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(HeadVisitor)
    }
}

struct HeadVisitor;

impl<'de> Visitor<'de> for HeadVisitor {
    type Value = Head;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a YAML document")
    }

    skip_others!(Head, Head::NotMapping);

    fn visit_str<E: de::Error>(self, _: &str) -> Result<Head, E> {
        Ok(Head::NotMapping)
    }

    // A null document (`~`, `null`) is no object and no problem.
    fn visit_unit<E: de::Error>(self) -> Result<Head, E> {
        Ok(Head::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Head, D::Error> {
        d.deserialize_any(HeadVisitor)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Head, A::Error> {
        let (mut api_version, mut kind, mut name, mut items) = (None, None, None, false);
        while let Some(key) = map.next_key::<MaybeString>()? {
            match key.0.as_deref() {
                Some("apiVersion") => api_version = map.next_value::<MaybeString>()?.0,
                Some("kind") => kind = map.next_value::<MaybeString>()?.0,
                Some("metadata") => name = map.next_value::<MetaName>()?.0,
                Some("items") => {
                    items = true;
                    map.next_value::<IgnoredAny>()?;
                }
                _ => drop(map.next_value::<IgnoredAny>()?),
            }
        }
        Ok(Head::Mapping {
            api_version: api_version.unwrap_or_default(),
            kind: kind.unwrap_or_default(),
            name,
            items,
        })
    }
}

/// A string, or `None` for any other value (which is skipped).
struct MaybeString(Option<String>);

impl<'de> Deserialize<'de> for MaybeString {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = MaybeString;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any value")
            }
            skip_others!(MaybeString, MaybeString(None));
            fn visit_unit<E: de::Error>(self) -> Result<MaybeString, E> {
                Ok(MaybeString(None))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<MaybeString, E> {
                Ok(MaybeString(Some(v.to_string())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<MaybeString, E> {
                Ok(MaybeString(Some(v)))
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<MaybeString, D::Error> {
                MaybeString::deserialize(d)
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<MaybeString, A::Error> {
                while m.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(MaybeString(None))
            }
        }
        d.deserialize_any(V)
    }
}

/// `metadata.name`, when `metadata` is a mapping and `name` a string.
struct MetaName(Option<String>);

impl<'de> Deserialize<'de> for MetaName {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = MetaName;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any value")
            }
            skip_others!(MetaName, MetaName(None));
            fn visit_unit<E: de::Error>(self) -> Result<MetaName, E> {
                Ok(MetaName(None))
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<MetaName, E> {
                Ok(MetaName(None))
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<MetaName, D::Error> {
                MetaName::deserialize(d)
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<MetaName, A::Error> {
                let mut name = None;
                while let Some(key) = m.next_key::<MaybeString>()? {
                    match key.0.as_deref() {
                        Some("name") => name = m.next_value::<MaybeString>()?.0,
                        _ => drop(m.next_value::<IgnoredAny>()?),
                    }
                }
                Ok(MetaName(name))
            }
        }
        d.deserialize_any(V)
    }
}
