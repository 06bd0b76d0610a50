//! One module per route kind: each reads its objects from the snapshot and produces Kong
//! services and routes, asking [`super::gateway`] whether a route attaches and
//! [`super::backends`] for its upstream.

pub mod httproute;
pub mod ingress;
