//! kingress: translate Kubernetes objects into Kong configuration.
//!
//! The translator (`translate`) is pure and synchronous; I/O lives at the edges.

pub mod crd;
pub mod kong;
