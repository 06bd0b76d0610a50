//! The common case in one pass: when a document starts with `apiVersion` and `kind` (as
//! kubectl, Helm and most generators write it), the kind is known before anything else is
//! read, so the rest of the mapping is decoded straight into that kind's type. The two keys
//! already read are replayed to the type in front of the remaining entries.
//!
//! Anything unusual (another key first, a `List`, a kind or apiVersion kingress does not
//! read, a missing name or required field, any error) gives `None`, and the caller reads the
//! document the general way, which words every problem; so this path changes speed, never
//! results.

use std::fmt;

use serde::de::value::StringDeserializer;
use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};

use super::decode::{IRRELEVANT_KINDS, missing_required, unknown_fields};
use crate::kinds::{Kind, KindSpec, Object, with_kind};

/// What one pass made of a document.
pub enum OnePass {
    /// An object of a kind kingress reads, with the paths of fields its type does not know.
    Object(Object, Vec<String>),
    /// A kind translation does not read.
    Irrelevant,
}

/// Reads `text` in one pass, or `None` when the general path must.
pub fn decode(text: &str) -> Option<OnePass> {
    match crate::yaml::decode_seed(text, 0, Leading).ok()? {
        Some(OnePass::Object(object, unknown)) => {
            let named = object.meta().name.as_deref().is_some_and(|n| !n.is_empty());
            named.then_some(OnePass::Object(object, unknown))
        }
        other => other,
    }
}

/// Reads the leading `apiVersion` and `kind`, then the rest as that kind.
struct Leading;

impl<'de> DeserializeSeed<'de> for Leading {
    type Value = Option<OnePass>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Option<OnePass>, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Leading {
    type Value = Option<OnePass>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a Kubernetes object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Option<OnePass>, A::Error> {
        // Every early return reads the mapping to its end: serde_norway panics on a mapping
        // left half-read.
        let (mut api_version, mut kind) = (None::<String>, None::<String>);
        while api_version.is_none() || kind.is_none() {
            match map.next_key::<String>()?.as_deref() {
                Some("apiVersion") if api_version.is_none() => {
                    api_version = Some(map.next_value()?)
                }
                Some("kind") if kind.is_none() => kind = Some(map.next_value()?),
                Some(_) => {
                    map.next_value::<IgnoredAny>()?;
                    return drained(map, None);
                }
                None => return Ok(None),
            }
        }
        let (Some(api_version), Some(kind)) = (api_version, kind) else {
            return drained(map, None);
        };
        if IRRELEVANT_KINDS.contains(&kind.as_str()) {
            return drained(map, Some(OnePass::Irrelevant));
        }
        let Some(known) = Kind::by_name(&kind) else {
            return drained(map, None);
        };
        // Another version than the preferred one takes the general path, which notes it.
        if known.info().preferred_api_version() != api_version {
            return drained(map, None);
        }
        let rest = Replay {
            prefix: vec![("apiVersion", api_version), ("kind", kind)],
            value: None,
            map,
        };
        let mut unknown = Vec::new();
        let note = unknown_fields(&mut unknown);
        let object = with_kind!(known, |K| {
            let object: K = serde_ignored::deserialize(rest, note)?;
            if missing_required(&object).is_some() {
                return Ok(None);
            }
            K::wrap(Box::new(object))
        });
        Ok(Some(OnePass::Object(object, unknown)))
    }
}

/// Reads the rest of `map` and gives `result`.
fn drained<'de, A: MapAccess<'de>>(
    mut map: A,
    result: Option<OnePass>,
) -> Result<Option<OnePass>, A::Error> {
    while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
    Ok(result)
}

/// A mapping whose first entries were already read: they are given again, then the rest.
struct Replay<A> {
    prefix: Vec<(&'static str, String)>,
    value: Option<String>,
    map: A,
}

impl<'de, A: MapAccess<'de>> Deserializer<'de> for Replay<A> {
    type Error = A::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, A::Error> {
        visitor.visit_map(self)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map struct enum
        identifier ignored_any
    }
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for Replay<A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        if self.prefix.is_empty() {
            return self.map.next_key_seed(seed);
        }
        let (key, value) = self.prefix.remove(0);
        self.value = Some(value);
        seed.deserialize(StringDeserializer::new(key.to_string()))
            .map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, A::Error> {
        match self.value.take() {
            Some(value) => seed.deserialize(StringDeserializer::new(value)),
            None => self.map.next_value_seed(seed),
        }
    }
}
