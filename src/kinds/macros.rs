//! The macros behind the table of kinds in `kinds/mod.rs`: `kinds!` turns the table into
//! [`Kind`](super::Kind), [`Object`](super::Object) and each kind's
//! [`KindSpec`](super::KindSpec).

/// `Api` for a namespaced or cluster-scoped kind.
macro_rules! api_for {
    (true, $ty:ty, $client:ident, $ns:ident) => {
        match $ns {
            Some(ns) => Api::<$ty>::namespaced($client, ns),
            None => Api::<$ty>::all($client),
        }
    };
    (false, $ty:ty, $client:ident, $ns:ident) => {{
        let _ = $ns;
        Api::<$ty>::all($client)
    }};
}

/// `store`/`unstore` straight into the map, or through the snapshot's own methods for kinds
/// it indexes.
macro_rules! store_via {
    (map, $stored:ty) => {
        fn store(snapshot: &mut Snapshot, key: Key, object: Box<Self>) {
            Self::map_mut(snapshot).insert(key, object);
        }
        fn unstore(snapshot: &mut Snapshot, key: &Key) {
            Self::map_mut(snapshot).remove(key);
        }
    };
    (($store:ident, $unstore:ident), $stored:ty) => {
        fn store(snapshot: &mut Snapshot, key: Key, object: Box<Self>) {
            snapshot.$store(key, *object);
        }
        fn unstore(snapshot: &mut Snapshot, key: &Key) {
            snapshot.$unstore(key);
        }
    };
}

macro_rules! kinds {
    ($d:tt $(
        $(#[$doc:meta])*
        $variant:ident: $ty:ty {
            name: $name:literal,
            group: $group:expr,
            versions: [$($version:literal),+],
            namespaced: $namespaced:tt,
            map: $map:ident as $stored:ty, via $via:tt,
            labels: $labels:expr,
            fields: $fields:expr,
            reach: $reach:ident,
            status: $status:literal $(,)?
        }
    ),+ $(,)?) => {
        /// A kind kingress reads. Ordered by name, as kinds were when they were strings.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum Kind {
            $($(#[$doc])* $variant),+
        }

        impl Kind {
            /// Every kind, in the table's order.
            pub const ALL: &'static [Kind] = &[$(Kind::$variant),+];

            /// The kind's declaration.
            pub fn info(self) -> &'static KindInfo {
                match self {
                    $(Kind::$variant => &KindInfo {
                        name: $name,
                        group: $group,
                        versions: &[$($version),+],
                        namespaced: $namespaced,
                        labels: $labels,
                        fields: $fields,
                        reach: Reach::$reach,
                        status: $status,
                    }),+
                }
            }
        }

        /// Any object the snapshot can hold.
        #[derive(Clone, Debug)]
        pub enum Object {
            $($variant(Box<$ty>)),+
        }

        impl Object {
            pub fn kind(&self) -> Kind {
                match self {
                    $(Object::$variant(_) => Kind::$variant),+
                }
            }

            pub fn meta(&self) -> &ObjectMeta {
                match self {
                    $(Object::$variant(o) => &o.metadata),+
                }
            }

            pub fn meta_mut(&mut self) -> &mut ObjectMeta {
                match self {
                    $(Object::$variant(o) => &mut o.metadata),+
                }
            }
        }

        $(
            impl KindSpec for $ty {
                const KIND: Kind = Kind::$variant;
                type Stored = $stored;

                fn map(snapshot: &Snapshot) -> &BTreeMap<Key, $stored> {
                    &snapshot.$map
                }

                fn map_mut(snapshot: &mut Snapshot) -> &mut BTreeMap<Key, $stored> {
                    &mut snapshot.$map
                }

                fn wrap(object: Box<Self>) -> Object {
                    Object::$variant(object)
                }

                store_via!($via, $stored);

                fn api(client: kube::Client, namespace: Option<&str>) -> Api<Self> {
                    api_for!($namespaced, $ty, client, namespace)
                }

                fn guarded_api(
                    client: kube::Client,
                    namespace: Option<&str>,
                ) -> Api<DeserializeGuard<Self>> {
                    api_for!($namespaced, DeserializeGuard<$ty>, client, namespace)
                }
            }
        )+

        /// Runs `$body` with `$T` standing for the Rust type of `$kind`: generic code over
        /// [`KindSpec`] reaches every kind through it, so no kind can be left out.
        macro_rules! with_kind {
            ($d kind:expr, |$d t:ident| $d body:expr) => {
                match $d kind {
                    $($crate::kinds::Kind::$variant => {
                        #[allow(dead_code)]
                        type $d t = $ty;
                        $d body
                    })+
                }
            };
        }

        /// Runs `$body` with `$x` bound to the boxed object inside `$object`, whatever its kind.
        macro_rules! with_object {
            ($d object:expr, |$d x:ident| $d body:expr) => {
                match $d object {
                    $($crate::kinds::Object::$variant($d x) => $d body,)+
                }
            };
        }
    };
}
