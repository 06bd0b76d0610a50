//! Plumbing shared by the hand-written top-level CRD types.
//!
//! kube's `CustomResource` derive is not used: KongPlugin/KongClusterPlugin have no `spec`, and
//! the derive makes `spec` mandatory when deserializing, while KIC (and the CRD schema) accept a
//! KongUpstreamPolicy without one. One bad object would otherwise fail a whole watcher list.

use serde::Serialize;

/// Wire form of a top-level object: the type's `apiVersion`/`kind`, then its own fields.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct WithTypeMeta<F> {
    pub api_version: &'static str,
    pub kind: &'static str,
    #[serde(flatten)]
    pub fields: F,
}

/// Implements `Resource`, `HasStatus`, `CustomResourceExt` and serde for a root type.
///
/// The type must derive serde with `#[serde(remote = "Self")]`: that turns the derives into
/// inherent `serialize`/`deserialize` functions over the fields, which the trait impls here wrap
/// to add `apiVersion`/`kind` (required by the API server, ignored when reading). It must also
/// have `metadata` and `status` fields and an inherent `fn crd_names() -> CrdNames`.
/// `group` defaults to `configuration.konghq.com`.
macro_rules! kube_object {
    (
        $ty:ident {
            kind: $kind:literal,
            plural: $plural:literal,
            version: $version:literal,
            scope: $scope:ty,
            short_names: [$($short:literal),*],
            status: $status:ty $(,)?
        }
    ) => {
        kube_object!($ty {
            group: "configuration.konghq.com",
            kind: $kind,
            plural: $plural,
            version: $version,
            scope: $scope,
            short_names: [$($short),*],
            status: $status,
        });
    };
    (
        $ty:ident {
            group: $group:literal,
            kind: $kind:literal,
            plural: $plural:literal,
            version: $version:literal,
            scope: $scope:ty,
            short_names: [$($short:literal),*],
            status: $status:ty $(,)?
        }
    ) => {
        impl ::kube::core::Resource for $ty {
            type DynamicType = ();
            type Scope = $scope;

            fn kind(_: &()) -> ::std::borrow::Cow<'_, str> {
                $kind.into()
            }

            fn group(_: &()) -> ::std::borrow::Cow<'_, str> {
                $group.into()
            }

            fn version(_: &()) -> ::std::borrow::Cow<'_, str> {
                $version.into()
            }

            fn plural(_: &()) -> ::std::borrow::Cow<'_, str> {
                $plural.into()
            }

            fn meta(&self) -> &::k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta {
                &self.metadata
            }

            fn meta_mut(
                &mut self,
            ) -> &mut ::k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta {
                &mut self.metadata
            }
        }

        impl ::kube::core::object::HasStatus for $ty {
            type Status = $status;

            fn status(&self) -> Option<&$status> {
                self.status.as_ref()
            }

            fn status_mut(&mut self) -> &mut Option<$status> {
                &mut self.status
            }
        }

        impl ::kube::core::CustomResourceExt for $ty {
            fn crd() -> ::k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition {
                $crate::crd::schema::build_crd::<Self>(Self::crd_names())
            }

            fn crd_name() -> &'static str {
                concat!($plural, ".", $group)
            }

            fn api_resource() -> ::kube::core::ApiResource {
                ::kube::core::ApiResource::erase::<Self>(&())
            }

            fn shortnames() -> &'static [&'static str] {
                &[$($short),*]
            }
        }

        impl ::serde::Serialize for $ty {
            fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                struct Fields<'a>(&'a $ty);

                impl ::serde::Serialize for Fields<'_> {
                    fn serialize<S: ::serde::Serializer>(
                        &self,
                        serializer: S,
                    ) -> Result<S::Ok, S::Error> {
                        // Inherent fn from `#[serde(remote = "Self")]`: just the fields.
                        $ty::serialize(self.0, serializer)
                    }
                }

                $crate::crd::object::WithTypeMeta {
                    api_version: concat!($group, "/", $version),
                    kind: $kind,
                    fields: Fields(self),
                }
                .serialize(serializer)
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $ty {
            fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                // Inherent fn from `#[serde(remote = "Self")]`; `apiVersion`/`kind` are ignored.
                $ty::deserialize(deserializer)
            }
        }
    };
}
