//! Kong admin API test double (Kong Gateway 3.10 OSS, DB-less mode).
//!
//! [`validate`] checks a declarative configuration with Kong's own schema
//! rules and messages; [`ConfigError`] renders both of Kong's 400 bodies.
//! The HTTP server ([`KongAdminDouble`]) answers like Kong's admin API.

mod declarative;
mod entities;
mod errtree;
mod error;
mod net;
mod plugins;
mod schema;

mod typedefs;
mod valid;

pub use declarative::validate;
pub use errtree::{Key, Node};
pub use error::{ConfigError, DECLARATIVE_CONFIG_CODE};
pub use plugins::SUPPORTED_PLUGINS;
// server exports added in phase 2
pub use valid::ValidConfig;
