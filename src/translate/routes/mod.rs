//! One module per route kind: each reads its objects from the snapshot and produces Kong
//! services and routes, asking [`super::gateway`] whether a route attaches and
//! [`super::backends`] for its upstream. Gateway API kinds live in [`gateway_api`]; Ingress and
//! KIC's TCPIngress/UDPIngress here.

pub mod gateway_api;
pub mod ingress;
pub mod l4_ingress;
