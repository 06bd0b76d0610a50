//! What a route sends traffic to: a Kubernetes Service's Kong service settings, upstream and
//! targets (ready endpoints, exact per-endpoint weights), the KongUpstreamPolicy applied to
//! the upstream, and whether Kong can build its consistent-hashing ring.

pub mod ring_capacity;
pub mod targets;
pub mod upstream_policy;
pub mod upstreams;
pub mod weights;
