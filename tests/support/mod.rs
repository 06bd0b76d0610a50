//! Shared support code for integration tests: include it with `mod support;`.
//!
//! - [`controlplane`]: a real kube-apiserver and etcd, started once per test binary on loopback
//!   (binaries built by `tests/controlplane/ensure.sh`), with kingress's CRDs and the Gateway
//!   API CRDs installed. `support::controlplane::shared()` starts it on first use.
//! - [`apply`]: apply multi-document YAML to it, server-side.
//! - [`cluster`]: kube-controller-manager, kube-scheduler and a kwok node beside it (the
//!   conformance run).
//! - [`golden`]: the `UPDATE_GOLDEN=1` switch of the golden tests.
//! - [`helm`]: the real helm binary, `helm template`, and the rendered objects.
//! - [`observe`]: poll until something holds; status conditions and Events.
//! - [`run`]: a `kingress run` controller watching a namespace of its own, pushing to a
//!   Kong admin API double.
//!
//! Each test binary uses only part of this, hence the `dead_code` allowance.
#![allow(dead_code)]

pub mod apply;
pub mod cluster;
pub mod controlplane;
pub mod golden;
pub mod helm;
pub mod observe;
pub mod process;
pub mod restart;
pub mod run;
