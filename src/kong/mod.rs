//! Kong's side: declarative config types and the consistent-hashing ring.

pub mod admin_api;
pub mod config;
pub mod config_text;
pub mod healthchecks;
pub mod listeners;
pub mod ring;
pub mod route_transform;
pub mod router_fields;
pub mod router_flavor;
pub mod uri;
pub mod version;
