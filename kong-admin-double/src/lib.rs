//! Kong admin API test double (Kong Gateway 3.10 OSS, DB-less mode).
//!
//! [`validate`] checks a declarative configuration with Kong's own schema
//! rules and messages; [`ConfigError`] renders both of Kong's 400 bodies.
//! The HTTP server ([`KongAdminDouble`]) answers like Kong's admin API.
//!
//! "Kong 3.10" in source comments means Kong master 22246ef28c, whose
//! kong/meta.lua:2-4 says 3.10.0; line numbers refer to that commit.

mod autofields;
mod checks;
mod declarative;
mod entities;
mod entity_checks;
mod entity_ids;
mod error;
mod errtree;
mod fullschema;
mod listen;
mod net;
mod pem;
mod plugins;
mod references;
mod release;
mod schema;
mod server;
mod tls;

mod typedefs;
mod valid;

pub use declarative::{validate, validate_as, validate_for};
pub use entities::route_expressions::RouterFlavor;
pub use error::{ConfigError, DECLARATIVE_CONFIG_CODE};
pub use errtree::{Key, Node};
pub use plugins::SUPPORTED_PLUGINS;
pub use release::KongRelease;
pub use server::{EMPTY_HASH, Fault, KongAdminDouble, Options};
pub use valid::ValidConfig;
