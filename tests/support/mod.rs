//! Shared support code for integration tests: include it with `mod support;`.
//!
//! - [`controlplane`]: a real kube-apiserver and etcd, started once per test binary on loopback
//!   (binaries built by `tests/controlplane/ensure.sh`), with kingress's CRDs and the Gateway
//!   API CRDs installed. `support::controlplane::shared()` starts it on first use.
//! - [`apply`]: apply multi-document YAML to it, server-side.
//! - [`run`]: a `kingress run` controller watching a namespace of its own, pushing to a
//!   Kong admin API double.
//!
//! Each test binary uses only part of this, hence the `dead_code` allowance.
#![allow(dead_code)]

pub mod apply;
pub mod controlplane;
mod process;
pub mod restart;
pub mod run;
