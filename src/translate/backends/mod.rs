//! What a route sends traffic to: a Kubernetes Service's Kong service settings, upstream and
//! targets (ready endpoints, exact per-endpoint weights), the KongUpstreamPolicy applied to
//! the upstream (and a deprecated KongIngress's upstream section), whether Kong can build its
//! consistent-hashing ring, upstream TLS (the CA certificates services verify their upstreams
//! with), and KongServiceFacades.

pub mod backend_tls_policy;
pub mod ca_certificates;
pub mod consistency;
pub mod kong_ingress;
pub mod ring_capacity;
pub mod service_facade;
pub mod targets;
pub mod upstream_policy;
pub mod upstream_tls;
pub mod upstreams;
pub mod weights;
