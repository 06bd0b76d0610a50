//! Gateway API: which of a route's parentRefs name a Gateway of ours, and which of that
//! Gateway's listeners take the route. Translation attaches a route through it, status
//! reports it; both read the same rules.

pub mod attachment;
pub mod grants;
pub mod hostnames;
pub mod listeners;
pub mod route;
