//! Kong's consistent-hashing wheel, rebuilt exactly as Kong builds it in
//! `kong/runloop/balancer/consistent_hashing.lua` (2.7+; 2.2-2.6 ran the same
//! wheel from lua-resty-dns-client, which also refused a target once
//! N * 160 >= P), so kingress can predict where a key lands, each address's
//! traffic share, and whether Kong can build the wheel at all: when it cannot,
//! Kong only logs a CRIT line and keeps an empty wheel. A lookup on it answers
//! "No peers are available", except on the top two indexes P-1 and P, where
//! getPeer never returns (lines 160-163: the walk ends on meeting index
//! `hashValue + 1` at the loop's top, but index 0 becomes P inside the loop):
//! the request hangs in its worker. tests/kong_ring.rs shows both with Kong's code.
//!
//! Kong details reproduced here, each of which changes results:
//! - wheel size P = `slots` if `slots >= 1000`, else 1000;
//! - the hash is luaxxhash's XXH32 (seed 0) as an *unsigned* number
//!   (luaxxhash 1.0.0, `luaxxhash.lua` line 63: `tonumber(ffi.cast("uint32_t",
//!   …))`), so `get_continuum_index` (`consistent_hashing.lua` line 37) is
//!   `h % P + 1` on 0..2^32-1, for point placement and key lookup alike;
//! - targets are normalised like Kong's targets DAO (IPv4 without leading
//!   zeros, IPv6 fully expanded in brackets, default port 8000), sorted by
//!   (name bytes, port), and each gets `floor(w / W * N * 160)` points (at
//!   least 1 if `w > 0`), in f64 and in Lua's order; weight-0 targets count in N;
//! - point `i` hashes `"<ip>:" .. ":<port>" .. " " .. i` (`10.0.0.1::80 1`,
//!   `[0000:…:0001]::80 1`); a taken slot makes the address want one more
//!   point, and once its counter passes P the whole build is abandoned.
//!
//! Hostnames: Kong resolves them and puts one address per DNS record on the
//! wheel (named by the record's IP). Offline we cannot, so a hostname target
//! is one address named by itself, as Kong does for a ttl=0 name.

mod target_name;

use std::collections::HashMap;

use thiserror::Error;
use xxhash_rust::xxh32::xxh32;

use target_name::normalize_target;

/// Port Kong's targets DAO appends when a target has none.
pub const DEFAULT_TARGET_PORT: u16 = 8000;
/// Kong's upstream schema bounds for `slots`.
pub const MIN_SLOTS: u32 = 10;
pub const MAX_SLOTS: u32 = 65536;
/// Kong's target schema bound for `weight`.
pub const MAX_WEIGHT: u32 = 65535;
/// `MIN_CONTINUUM_SIZE`: smaller `slots` are silently raised to this.
const MIN_WHEEL: u32 = 1000;
/// `SERVER_POINTS`: points per target when all weights are equal.
const SERVER_POINTS: f64 = 160.0;
const EMPTY: u32 = u32::MAX;

/// A Kong target: `"ip:port"`, `"[v6]:port"` or `"host:port"`; without a
/// port Kong uses 8000.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RingTarget {
    pub target: String,
    pub weight: u32,
}

impl RingTarget {
    pub fn new(target: impl Into<String>, weight: u32) -> Self {
        Self {
            target: target.into(),
            weight,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RingBuildError {
    #[error("invalid target {target:?}: {reason}")]
    InvalidTarget {
        target: String,
        reason: &'static str,
    },
    #[error("slots {0} is outside Kong's range {MIN_SLOTS}..={MAX_SLOTS}")]
    SlotsOutOfRange(u32),
    /// Kong logs "consistent hashing balancer requires more entries …" and the
    /// new balancer keeps an empty wheel: requests get "No peers are available"
    /// (or hang, for keys on the top two indexes; see the module docs).
    #[error(
        "Kong cannot build the consistent-hashing wheel: {wheel_size} slots (slots={slots}) \
         for {targets} targets needing {total_points} points; it gave up on {address} after \
         {wheel_size} tries with {placed} of its {address_points} points placed; raise slots"
    )]
    WheelFull {
        slots: u32,
        wheel_size: u32,
        targets: usize,
        total_points: u64,
        address: String,
        address_points: u64,
        placed: u32,
    },
}

/// A built wheel: `wheel[j]` owns Kong's 1-based index `j + 1` (an index into
/// `labels`, or `EMPTY`). Addresses are kept in Kong's sorted order.
#[derive(Debug, Clone)]
pub struct Ring {
    wheel: Vec<u32>,
    labels: Vec<String>,
    points: Vec<u32>,
}

/// Kong's wheel size for an upstream's `slots`.
pub fn wheel_size_for(slots: u32) -> u32 {
    slots.max(MIN_WHEEL)
}

/// Kong's `get_continuum_index`: the 1-based wheel index `key` hashes to.
pub fn wheel_index(key: &str, wheel_size: u32) -> u32 {
    slot_of(xxh32(key.as_bytes(), 0), wheel_size) as u32 + 1
}

/// 0-based slot of a hash: Kong's index minus one.
fn slot_of(hash: u32, wheel_size: u32) -> usize {
    (hash % wheel_size) as usize
}

/// Builds the wheel Kong builds for these targets and `slots`. No targets, or
/// only weight-0 ones, give an empty wheel (Kong: `0/0` points) on which every
/// lookup is `None`.
pub fn build(targets: &[RingTarget], slots: u32) -> Result<Ring, RingBuildError> {
    if !(MIN_SLOTS..=MAX_SLOTS).contains(&slots) {
        return Err(RingBuildError::SlotsOutOfRange(slots));
    }
    let plan = Plan::new(targets)?;
    let wheel_size = wheel_size_for(slots);
    let mut wheel = vec![EMPTY; wheel_size as usize];
    match plan.fill(&mut wheel, plan.hasher()) {
        Ok(placed) => {
            let mut points = vec![0; plan.labels.len()];
            for (addr, placed) in plan.addrs.iter().zip(placed) {
                points[addr.owner as usize] += placed;
            }
            Ok(Ring {
                wheel,
                labels: plan.labels,
                points,
            })
        }
        Err((addr, placed)) => Err(RingBuildError::WheelFull {
            slots,
            wheel_size,
            targets: plan.addrs.len(),
            total_points: plan.entries.iter().sum(),
            address: plan.labels[plan.addrs[addr].owner as usize].clone(),
            address_points: plan.entries[addr],
            placed,
        }),
    }
}

/// The smallest `slots` in `max(from, 10)..=65536` for which [`build`]
/// succeeds; `None` if there is none or a target is invalid (see `build`).
///
/// Success is not monotonic in `slots` (each size reshuffles every point), so
/// every candidate is built in turn; the only ones skipped provably fail or
/// repeat: wheels smaller than the total points or not larger than one
/// address's points, and `slots` 10..=1000, which all mean a 1000-slot wheel.
/// No headroom is added: the answer is the exact minimum and may sit right
/// next to failing values. Pass the headroom you want as `from` (e.g. the
/// current slots, or twice the total points) and check any other value with
/// `build`.
pub fn min_working_slots(targets: &[RingTarget], from: u32) -> Option<u32> {
    let plan = Plan::new(targets).ok()?;
    let start = from.max(MIN_SLOTS);
    let total: u64 = plan.entries.iter().sum();
    let need = total.max(plan.entries.iter().max().map_or(0, |e| e + 1));
    // Names hash the same whatever the wheel size, so candidates share them.
    let (mut hash, mut cache) = (plan.hasher(), vec![Vec::new(); plan.addrs.len()]);
    let mut cached = |addr: usize, i: u32| {
        let hashes: &mut Vec<u32> = &mut cache[addr];
        while hashes.len() < i as usize {
            hashes.push(hash(addr, hashes.len() as u32 + 1));
        }
        hashes[i as usize - 1]
    };
    let mut wheel = Vec::with_capacity(MAX_SLOTS as usize);
    let mut fits = |wheel_size: u32| {
        wheel.clear();
        wheel.resize(wheel_size as usize, EMPTY);
        u64::from(wheel_size) >= need && plan.fill(&mut wheel, &mut cached).is_ok()
    };
    if start > MAX_SLOTS {
        None
    } else if total == 0 || (start <= MIN_WHEEL && fits(MIN_WHEEL)) {
        Some(start)
    } else {
        let first = start
            .max(MIN_WHEEL + 1)
            .max(need.min(u64::from(u32::MAX)) as u32);
        (first..=MAX_SLOTS).find(|&slots| fits(slots))
    }
}

struct Addr {
    /// Index of its `ip:port` in [`Plan::labels`].
    owner: u32,
    /// `"<ip>:" .. ":<port>" .. " "`; the point number follows.
    prefix: Vec<u8>,
}

/// Validated addresses in Kong's order with their initial point counts.
struct Plan {
    addrs: Vec<Addr>,
    /// Distinct `ip:port`s, in Kong's order.
    labels: Vec<String>,
    entries: Vec<u64>,
}

impl Plan {
    fn new(targets: &[RingTarget]) -> Result<Self, RingBuildError> {
        let mut parsed = Vec::with_capacity(targets.len());
        for t in targets {
            let invalid = |reason| RingBuildError::InvalidTarget {
                target: t.target.clone(),
                reason,
            };
            if t.weight > MAX_WEIGHT {
                return Err(invalid("weight above 65535"));
            }
            parsed.push((normalize_target(&t.target).map_err(invalid)?, t.weight));
        }
        // sort_hosts_and_addresses: name (LuaJIT compares bytes), then port.
        parsed.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        let total: u64 = parsed.iter().map(|p| u64::from(p.1)).sum();
        let count = parsed.len() as f64;
        let entries = parsed
            .iter()
            .map(|&(_, w)| match total {
                0 => 0, // Lua: floor(0/0 * …) is NaN and the loop never runs
                // Same operations in the same order as Lua, so the same float.
                _ => ((f64::from(w) / total as f64 * count * SERVER_POINTS).floor() as u64)
                    .max(u64::from(w > 0)),
            })
            .collect();
        // Targets equal once normalised (`10.0.0.1` and `10.0.0.1:8000`) are two targets
        // to Kong: /config takes both (their raw strings differ), the balancer loads both
        // (targets.lua load_targets_into_memory) and each places its own points under the same
        // names, so the second collides with the first and takes the next free ones. They
        // own the wheel together, as one address: one label, sorted next to each other.
        let mut labels: Vec<String> = Vec::new();
        let addrs = parsed
            .into_iter()
            .map(|((name, port), _)| {
                let label = format!("{name}:{port}");
                if labels.last() != Some(&label) {
                    labels.push(label);
                }
                Addr {
                    prefix: format!("{name}::{port} ").into_bytes(),
                    owner: labels.len() as u32 - 1,
                }
            })
            .collect();
        Ok(Self {
            addrs,
            labels,
            entries,
        })
    }

    /// Hashes point `i`'s name for address `addr`. Calls come with `i` counting
    /// up, so the decimal is bumped in place rather than formatted each time.
    fn hasher(&self) -> impl FnMut(usize, u32) -> u32 + '_ {
        let (mut buf, mut last) = (Vec::with_capacity(64), (usize::MAX, 0));
        move |addr, i| {
            let start = self.addrs[addr].prefix.len();
            if last == (addr, i.wrapping_sub(1)) {
                increment_decimal(&mut buf, start);
            } else {
                buf.clear();
                buf.extend_from_slice(&self.addrs[addr].prefix);
                buf.extend_from_slice(i.to_string().as_bytes());
            }
            last = (addr, i);
            xxh32(&buf, 0)
        }
    }

    /// `afterHostUpdate`'s loop, literally. `wheel` must be all `EMPTY`.
    /// Returns the points placed per address, or where the build gave up:
    /// (address, points it had placed).
    fn fill(
        &self,
        wheel: &mut [u32],
        mut hash: impl FnMut(usize, u32) -> u32,
    ) -> Result<Vec<u32>, (usize, u32)> {
        let wheel_size = wheel.len() as u32;
        let mut placed_per = Vec::with_capacity(self.entries.len());
        for (addr, &initial) in self.entries.iter().enumerate() {
            let (mut wanted, mut placed, mut i) = (initial, 0u32, 1u32);
            while u64::from(i) <= wanted {
                let slot = &mut wheel[slot_of(hash(addr, i), wheel_size)];
                if *slot == EMPTY {
                    *slot = self.addrs[addr].owner;
                    placed += 1;
                } else {
                    wanted += 1; // "move the problem forward"
                }
                i += 1;
                // Checked after every try, so even a final success at i = P fails.
                if i > wheel_size {
                    return Err((addr, placed));
                }
            }
            placed_per.push(placed);
        }
        Ok(placed_per)
    }
}

/// Adds one to the decimal number in `buf[start..]`.
fn increment_decimal(buf: &mut Vec<u8>, start: usize) {
    for digit in buf[start..].iter_mut().rev() {
        if *digit < b'9' {
            *digit += 1;
            return;
        }
        *digit = b'0';
    }
    buf.insert(start, b'1');
}

impl Ring {
    pub fn wheel_size(&self) -> u32 {
        self.wheel.len() as u32
    }

    /// True when no address has a point: Kong then has no peer for any key.
    pub fn is_empty(&self) -> bool {
        self.points.iter().all(|&p| p == 0)
    }

    /// Points per address (`ip:port`, IPv6 as `[expanded]:port`), Kong's order.
    pub fn points(&self) -> Vec<(String, u32)> {
        self.labels
            .iter()
            .cloned()
            .zip(self.points.iter().copied())
            .collect()
    }

    /// How many wheel indexes a lookup ends on each address from, all
    /// addresses healthy (what Kong's harness prints as `OWN`).
    pub fn owned(&self) -> Vec<(String, u32)> {
        let mut counts = vec![0u32; self.labels.len()];
        for owner in self.owners().into_iter().filter(|&o| o != EMPTY) {
            counts[owner as usize] += 1;
        }
        self.labels.iter().cloned().zip(counts).collect()
    }

    /// Fraction of wheel indexes whose lookup ends on each address: the real
    /// traffic share for well-spread keys, all addresses healthy.
    pub fn shares(&self) -> Vec<(String, f64)> {
        let size = f64::from(self.wheel_size());
        let owned = self.owned().into_iter();
        owned.map(|(l, n)| (l, f64::from(n) / size)).collect()
    }

    /// The address Kong picks for `key` when every address is healthy.
    pub fn lookup(&self, key: &str) -> Option<&str> {
        self.lookup_healthy(key, |_| true)
    }

    /// Kong's `getPeer`: from the key's index walk down, wrapping from index 1
    /// to the top, to the first slot whose address `healthy` accepts.
    pub fn lookup_healthy(&self, key: &str, healthy: impl Fn(&str) -> bool) -> Option<&str> {
        let ok: Vec<bool> = self.labels.iter().map(|l| healthy(l)).collect();
        let start = wheel_index(key, self.wheel_size()) as usize;
        let (below, above) = self.wheel.split_at(start);
        let mut walk = below.iter().rev().chain(above.iter().rev());
        let owner = walk.find(|&&o| o != EMPTY && ok[o as usize])?;
        Some(&self.labels[*owner as usize])
    }

    /// Fraction of keys whose address differs between `self` and `other`, all
    /// healthy, addresses matched by `ip:port`. With equal wheel sizes it is
    /// the fraction of the common wheel's indexes whose owner differs. With
    /// different sizes a key hash `h` lands on `h mod P1` and `h mod P2`, so it
    /// is counted exactly over the residues of `h` modulo lcm(P1, P2), i.e.
    /// for well-spread hashes (bias at most lcm / 2^32).
    pub fn moved_fraction(&self, other: &Ring) -> f64 {
        let (na, nb) = (self.labels.len(), other.labels.len());
        let ids: HashMap<&str, u32> = self.labels.iter().map(String::as_str).zip(0..).collect();
        // One id space: shared labels agree, other labels never collide.
        let none = (na + nb) as u32;
        let remap = other.labels.iter().enumerate();
        let remap: Vec<u32> = remap
            .map(|(i, l)| ids.get(l.as_str()).copied().unwrap_or((na + i) as u32))
            .collect();
        let ids = |r: &Ring, id: &dyn Fn(u32) -> u32| -> Vec<u32> {
            let owners = r.owners().into_iter();
            owners
                .map(|o| if o == EMPTY { none } else { id(o) })
                .collect()
        };
        let (a, b) = (ids(self, &|o| o), ids(other, &|o| remap[o as usize]));
        let g = gcd(a.len(), b.len());
        let lcm = (a.len() / g * b.len()) as u64;
        // CRT: residues mod lcm <-> index pairs (i, j) with i = j (mod g), so per
        // class c mod g the matches are sum over owners of count_a * count_b.
        let (mut matches, mut count) = (0u64, vec![0u64; na + nb + 1]);
        for c in 0..g {
            let (class_a, class_b) = (a[c..].iter().step_by(g), b[c..].iter().step_by(g));
            class_a.clone().for_each(|&o| count[o as usize] += 1);
            matches += class_b.map(|&o| count[o as usize]).sum::<u64>();
            class_a.for_each(|&o| count[o as usize] = 0);
        }
        (lcm - matches) as f64 / lcm as f64
    }

    /// The address a key on each 0-based index lands on, all healthy (`None`
    /// only when no address has a point): the wheel `explain -o svg` draws.
    pub fn index_owners(&self) -> Vec<Option<&str>> {
        let label = |o: u32| self.labels.get(o as usize).map(String::as_str);
        self.owners().into_iter().map(label).collect()
    }

    /// Owner of each 0-based index after the downward walk, all healthy.
    fn owners(&self) -> Vec<u32> {
        let Some(top) = self.wheel.iter().rposition(|&o| o != EMPTY) else {
            return vec![EMPTY; self.wheel.len()];
        };
        let mut current = self.wheel[top];
        let walk = |&o: &u32| {
            current = if o == EMPTY { current } else { o };
            current
        };
        self.wheel.iter().map(walk).collect()
    }
}

fn gcd(a: usize, b: usize) -> usize {
    if b == 0 { a } else { gcd(b, a % b) }
}

#[cfg(test)]
mod tests;
