//! Kong's limits on an upstream's health checks, in one place: the admin API refuses values
//! outside the schema's ranges; the health checker refuses one value the schema allows.

/// Counters (`successes`, `http_failures`, `tcp_failures`, `timeouts`): `one_byte_integer`,
/// 0..=255 (Kong 3.10 `kong/db/schema/entities/upstreams.lua` line 58).
pub const SCHEMA_MAX_COUNTER: i32 = 255;
/// What Kong's health checker (lua-resty-healthcheck) accepts of a counter: it asserts ≤ 254
/// (shared/reference/kong.md), so an upstream with 255 passes the admin API but its checker
/// fails to start.
pub const CHECKER_MAX_COUNTER: i32 = 254;
/// Intervals and the active probe's timeout: `seconds`, 0..=65535 (upstreams.lua line 48).
pub const SCHEMA_MAX_SECONDS: i32 = 65535;
/// `healthchecks.threshold`: a percentage, 0..=100 (upstreams.lua line 80).
pub const SCHEMA_MAX_THRESHOLD: i32 = 100;
