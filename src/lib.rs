//! kingress: translate Kubernetes objects into Kong configuration.
//!
//! The translator ([`translate`]) is pure and synchronous: objects in a [`snapshot::Snapshot`]
//! in, a [`kong::config::KongConfig`] and problems out. I/O lives at the edges
//! ([`manifests`] for files; the controller for the cluster and Kong's admin API).

pub mod api;
pub mod cli;
pub mod controller;
pub mod crd;
pub mod explain;
pub mod kinds;
pub mod kong;
pub mod manifests;
pub mod snapshot;
pub mod synthetic;
pub mod translate;
pub mod yaml;
