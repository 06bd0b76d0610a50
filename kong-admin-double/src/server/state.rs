//! Shared state of a running double: accepted configs, faults, counters.
//! Apart from `EMPTY_HASH` and the current hash, this is test-facility state.

use crate::listen::Listen;
use crate::{ConfigError, ValidConfig};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

/// The hash a node reports before any configuration was loaded.
// Kong 3.10 kong/constants.lua:217 DECLARATIVE_EMPTY_CONFIG_HASH; Kong also
// stores it for a loaded config with no entities
// (kong/db/declarative/import.lua:441-443), which the double does not.
pub const EMPTY_HASH: &str = "00000000000000000000000000000000";

/// Faults a test can inject at run time.
// Test facility: no Kong rule. FailNext/FailAlways answer with the messages
// of kong/api/routes/config.lua:160-181 (see http.rs).
#[derive(Clone, Debug, PartialEq)]
pub enum Fault {
    /// Stop listening: new connections are refused until [`Fault::Down`] is
    /// cleared (see `KongAdminDouble::set_down`).
    Down,
    /// Delay every response.
    Slow(Duration),
    /// Answer the next `count` requests with `status` (500, 503, ...).
    FailNext { status: u16, count: u32 },
    /// Answer every request with `status` until cleared.
    FailAlways { status: u16 },
    /// Reject any `POST /config` holding an entity of `entity_type`
    /// (plural, e.g. `"upstreams"`) named `name`, with a Kong-shaped 400.
    RejectEntity { entity_type: String, name: String },
}

#[derive(Default)]
pub(crate) struct Faults {
    pub slow: Option<Duration>,
    pub fail_next: Option<(u16, u32)>,
    pub fail_always: Option<u16>,
    pub reject: Vec<(String, String)>,
}

#[derive(Default)]
pub(crate) struct Inner {
    pub current: Option<ValidConfig>,
    pub hash: String,
    pub history: Vec<ValidConfig>,
    pub rejected: Vec<ConfigError>,
    pub faults: Faults,
}

pub(crate) struct State {
    pub inner: Mutex<Inner>,
    pub generation: tokio::sync::watch::Sender<u64>,
    pub requests: AtomicU64,
    /// Test facility: `POST /config` requests received, whatever the answer.
    pub config_posts: AtomicU64,
    /// Set while down: requests on kept-alive connections are dropped too.
    pub down: AtomicBool,
    pub admin_token: Option<String>,
    pub node_id: String,
    /// `proxy_listen` and `stream_listen`, parsed at start-up.
    pub listen: [Listen; 2],
    pub router_flavor: crate::RouterFlavor,
    pub release: crate::KongRelease,
}

impl State {
    pub fn new(admin_token: Option<String>, node_id: String, listen: [Listen; 2]) -> State {
        State {
            inner: Mutex::new(Inner {
                hash: EMPTY_HASH.to_string(),
                ..Inner::default()
            }),
            generation: tokio::sync::watch::channel(0).0,
            requests: AtomicU64::new(0),
            config_posts: AtomicU64::new(0),
            down: AtomicBool::new(false),
            admin_token,
            node_id,
            listen,
            router_flavor: crate::RouterFlavor::default(),
            release: crate::KongRelease::default(),
        }
    }

    /// Lock, recovering from a poisoned mutex (a panicking test thread).
    pub fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    // What a successful load does: Kong 3.10 kong/api/routes/config.lua:151
    // (load_into_cache_with_events stores the entities and the new hash).
    pub fn accept(&self, cfg: ValidConfig, hash: String) {
        {
            let mut g = self.lock();
            g.current = Some(cfg.clone());
            g.history.push(cfg);
            g.hash = hash;
        }
        self.generation.send_modify(|g| *g += 1);
    }

    // /status server.total_requests (kong/pdk/nginx.lua:87)
    pub fn count_request(&self) -> u64 {
        self.requests.fetch_add(1, Ordering::SeqCst) + 1
    }

    /// Status to fail this request with, consuming one `FailNext`.
    pub fn take_failure(&self) -> Option<u16> {
        let mut g = self.lock();
        if let Some(s) = g.faults.fail_always {
            return Some(s);
        }
        match g.faults.fail_next {
            Some((status, n)) if n > 0 => {
                g.faults.fail_next = if n > 1 { Some((status, n - 1)) } else { None };
                Some(status)
            }
            _ => None,
        }
    }
}
