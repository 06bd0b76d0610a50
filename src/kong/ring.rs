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

use std::collections::HashMap;

use thiserror::Error;
use xxhash_rust::xxh32::xxh32;

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

/// Kong's `format_host(normalize_ip(target), 8000)` split as in
/// `load_targets_into_memory`: (`target.name`, `target.port`).
fn normalize_target(target: &str) -> Result<(String, u16), &'static str> {
    // hostname_type decides by exclusion, then the matching check validates.
    let mut rest = target.bytes().filter(|&b| b != b':').peekable();
    let v4ish = rest.peek().is_some() && rest.all(|b| b.is_ascii_digit() || b == b'.');
    let (name, port) = if target.bytes().filter(|&b| b == b':').count() > 1 {
        let (addr, port) = normalize_ipv6(target)?;
        (format!("[{addr}]"), port)
    } else if v4ish {
        normalize_ipv4(target)?
    } else {
        check_hostname(target)?
    };
    Ok((name, port.unwrap_or(DEFAULT_TARGET_PORT)))
}

fn parse_port(digits: &str) -> Result<u16, &'static str> {
    match digits.bytes().all(|b| b.is_ascii_digit()) {
        true => digits.parse().map_err(|_| "invalid port number"),
        false => Err("invalid port number"),
    }
}

fn normalize_ipv4(address: &str) -> Result<(String, Option<u16>), &'static str> {
    const BAD: &str = "invalid ipv4 address";
    let (addr, port) = match address.split_once(':') {
        Some((addr, port)) => (addr, Some(parse_port(port).map_err(|_| BAD)?)),
        None => (address, None),
    };
    let octet = |s: &str| match s.len() {
        1..=3 => s.parse::<u8>().map_err(|_| BAD), // digits only, checked by the caller
        _ => Err(BAD),
    };
    let octets: Vec<u8> = addr.split('.').map(octet).collect::<Result<_, _>>()?;
    match octets[..] {
        [a, b, c, d] => Ok((format!("{a}.{b}.{c}.{d}"), port)),
        _ => Err(BAD),
    }
}

/// The fully expanded, lower-case address without brackets, and the port.
fn normalize_ipv6(address: &str) -> Result<(String, Option<u16>), &'static str> {
    const BAD: &str = "invalid ipv6 address";
    // "[addr]" with an optional ":port", or a bare address without port. A
    // nested '[' (Lua's %b[]) would leave non-hex text, so the first ']' will do.
    let (mut check, port) = match address.strip_prefix('[') {
        Some(inner) => match inner.split_once(']').ok_or(BAD)? {
            (addr, "") => (addr.to_string(), None),
            (addr, rest) => (
                addr.to_string(),
                Some(parse_port(rest.strip_prefix(':').ok_or(BAD)?)?),
            ),
        },
        None => (address.to_string(), None),
    };
    if check.starts_with(':') {
        check.insert(0, '0');
    }
    if check.ends_with(':') {
        check.push('0');
    }
    if check.contains("::") {
        let colons = check.bytes().filter(|&b| b == b':').count();
        let zeros = format!(":{}", "0:".repeat(8usize.saturating_sub(colons)));
        check = check.replacen("::", &zeros, 1);
    }
    let groups: Vec<&str> = check.split(':').collect();
    let hex = |g: &&str| (1..=4).contains(&g.len()) && g.bytes().all(|b| b.is_ascii_hexdigit());
    if groups.len() != 8 || !groups.iter().all(hex) {
        return Err(BAD);
    }
    let groups: Vec<String> = groups
        .iter()
        .map(|g| format!("{:0>4}", g.to_ascii_lowercase()))
        .collect();
    Ok((groups.join(":"), port))
}

fn check_hostname(address: &str) -> Result<(String, Option<u16>), &'static str> {
    const BAD: &str = "invalid hostname";
    let (name, port) = match address.rsplit_once(':') {
        Some((name, port)) if !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) => {
            (name, Some(parse_port(port)?))
        }
        _ => (address, None),
    };
    let allowed = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_');
    let labels: Vec<&str> = name.split('.').collect();
    let last = labels.len() - 1;
    // A trailing dot (FQDN) is fine; other empty labels and a trailing '-' are not.
    let bad_label = |(i, l): (usize, &&str)| l.ends_with('-') || (l.is_empty() && i != last);
    if name.is_empty() || !name.bytes().all(allowed) || labels.iter().enumerate().any(bad_label) {
        return Err(BAD);
    }
    Ok((name.to_string(), port))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const THREE: [(&str, u32); 3] = [
        ("10.0.0.1:80", 100),
        ("10.0.0.2:80", 100),
        ("10.0.0.3:8080", 50),
    ];

    fn try_ring(targets: &[(&str, u32)], slots: u32) -> Result<Ring, RingBuildError> {
        build(
            &targets
                .iter()
                .map(|&(t, w)| RingTarget::new(t, w))
                .collect::<Vec<_>>(),
            slots,
        )
    }

    fn ring(targets: &[(&str, u32)], slots: u32) -> Ring {
        try_ring(targets, slots).expect("builds")
    }

    fn equal(prefix: &str, n: u32) -> Vec<RingTarget> {
        (1..=n)
            .map(|i| RingTarget::new(format!("{prefix}{i}:80"), 100))
            .collect()
    }

    fn points(r: &Ring) -> Vec<u32> {
        r.points().into_iter().map(|(_, p)| p).collect()
    }

    /// getPeer transcribed separately: walk down from 1-based `index`.
    fn walk(r: &Ring, mut index: usize, ok: impl Fn(&str) -> bool) -> Option<&str> {
        for _ in 0..r.wheel.len() {
            match r.labels.get(r.wheel[index - 1] as usize) {
                Some(label) if ok(label) => return Some(label),
                _ => index = if index == 1 { r.wheel.len() } else { index - 1 },
            }
        }
        None
    }

    fn owned(r: &Ring) -> Vec<u32> {
        r.owned().into_iter().map(|(_, n)| n).collect()
    }

    /// (wheel size, total points, address given up on, its points placed)
    fn wheel_full(targets: &[RingTarget], slots: u32) -> (u32, u64, String, u32) {
        match build(targets, slots) {
            Err(RingBuildError::WheelFull {
                wheel_size,
                total_points,
                address,
                placed,
                ..
            }) => (wheel_size, total_points, address, placed),
            other => panic!("expected WheelFull, got {other:?}"),
        }
    }

    // Expected values in these vectors are what Kong's own consistent_hashing.lua and
    // luaxxhash 1.0.0 print under LuaJIT (tests/kong-ring/kong_ring.lua); tests/kong_ring.rs
    // compares hundreds of random upstreams with that harness directly.
    #[test]
    fn check_and_scale_up_vectors() {
        let r = ring(&THREE, 10000);
        assert_eq!(
            (points(&r), owned(&r)),
            (vec![192, 192, 96], vec![4387, 3491, 2122])
        );
        assert_eq!(r.lookup("1.2.3.4"), Some("10.0.0.1:80"));
        assert_eq!(r.lookup("x"), Some("10.0.0.2:80"));
        assert_eq!(r.lookup("/foo"), Some("10.0.0.3:8080"));
        let r = ring(&[("10.0.0.4:80", 100), THREE[0], THREE[1], THREE[2]], 10000);
        assert_eq!(
            (points(&r), owned(&r)),
            (vec![182, 182, 91, 182], vec![3114, 2664, 1403, 2819])
        );
        assert_eq!(r.lookup("1.2.3.4"), Some("10.0.0.4:80"));
        assert_eq!(r.lookup("x"), Some("10.0.0.2:80"));
        assert_eq!(r.lookup("/foo"), Some("10.0.0.2:80"));
    }

    #[test]
    fn index_reads_the_hash_unsigned() {
        // XXH32("/foo") = 3971967166 >= 2^31: a signed reading would give 9871.
        assert_eq!(xxh32(b"/foo", 0), 3_971_967_166);
        assert_eq!(wheel_index("/foo", 10000), 7167);
        assert_eq!(wheel_index("x", 10000), 9515);
        assert_eq!(wheel_index("key-4", 10000), 8571);
    }

    #[test]
    fn ipv6_and_hostname_names_match_kong() {
        let targets = [
            ("[::1]:80", 100),
            ("example.com", 50),
            ("10.0.0.1:80", 100),
            ("Foo.internal:443", 7),
            ("10.0.0.9:80", 0),
        ];
        let r = ring(&targets, 1000);
        let v6 = "[0000:0000:0000:0000:0000:0000:0000:0001]:80";
        let want = [
            ("10.0.0.1:80", 311),
            ("10.0.0.9:80", 0),
            ("Foo.internal:443", 21),
            (v6, 311),
            ("example.com:8000", 155),
        ];
        assert_eq!(r.points(), want.map(|(l, p)| (l.to_string(), p)));
        assert_eq!(owned(&r), [382, 0, 22, 394, 202]);
        assert_eq!(r.lookup("a"), Some(v6));
        assert_eq!(r.lookup("1.2.3.4"), Some(v6));
    }

    #[test]
    fn capacity_and_min_working_slots() {
        // slots 100 means a 1000-slot wheel, and 960 points do not fit. Where Kong gives up
        // (address, points placed) was read from afterHostUpdate's locals at its CRIT log,
        // running Kong's file under LuaJIT (debug.getlocal in the ngx.log stub).
        let six = (1000, 960, "10.0.0.6:80".into(), 127);
        assert_eq!(wheel_full(&equal("10.0.0.", 6), 100), six);
        let many = (10000, 9920, "10.6.0.9:80".into(), 149);
        assert_eq!(wheel_full(&equal("10.6.0.", 62), 10000), many);
        for slots in (MIN_SLOTS..=MAX_SLOTS).step_by(97).chain([1000, MAX_SLOTS]) {
            for n in [2, 3] {
                assert!(build(&equal("10.2.0.", n), slots).is_ok(), "{n} at {slots}");
            }
        }
        for (targets, from) in [(equal("10.0.0.", 6), 100), (equal("10.6.0.", 62), 10000)] {
            let min = min_working_slots(&targets, from).expect("some slots work");
            assert!(build(&targets, min).is_ok());
            assert!((from..min).all(|s| build(&targets, s).is_err()), "{min}");
        }
        assert_eq!(min_working_slots(&equal("10.0.0.", 3), 0), Some(MIN_SLOTS));
        assert_eq!(min_working_slots(&equal("10.0.0.", 3), 4000), Some(4000));
        assert_eq!(min_working_slots(&equal("10.7.", 410), 10), None); // 65600 points
        assert_eq!(min_working_slots(&[], 70000), None);
        assert_eq!(min_working_slots(&[RingTarget::new("a..b", 1)], 10), None);
    }

    #[test]
    fn lookup_wraps_around_and_skips_unhealthy() {
        let r = ring(&[("10.0.0.1:80", 100), ("10.0.0.2:80", 100)], 65536);
        let lowest = r.wheel.iter().position(|&o| o != EMPTY).expect("points") + 1;
        let top = &r.labels[*r.wheel.iter().rfind(|&&o| o != EMPTY).expect("points") as usize];
        let key = (0..100_000)
            .map(|i| format!("k{i}"))
            .find(|k| (wheel_index(k, 65536) as usize) < lowest);
        let key = key.expect("a key below the first point");
        assert_eq!(r.lookup(&key), Some(top.as_str()));
        let not_top = |l: &str| l != top;
        let index = wheel_index(&key, 65536) as usize;
        assert_eq!(r.lookup_healthy(&key, not_top), walk(&r, index, not_top));
        assert_ne!(r.lookup_healthy(&key, not_top), Some(top.as_str()));
        for key in (0..2000).map(|i| i.to_string()) {
            assert_eq!(
                r.lookup(&key),
                walk(&r, wheel_index(&key, 65536) as usize, |_| true)
            );
            assert_eq!(
                r.lookup_healthy(&key, |l| l != "10.0.0.1:80"),
                Some("10.0.0.2:80")
            );
        }
        assert_eq!(r.lookup_healthy("x", |_| false), None);
    }

    #[test]
    fn weight_zero_targets() {
        // The weight-0 target still counts in N: 100/200 * 3 * 160 = 240.
        let r = ring(
            &[
                ("10.0.0.1:80", 100),
                ("10.0.0.2:80", 100),
                ("10.0.0.3:80", 0),
            ],
            10000,
        );
        assert_eq!((points(&r), r.shares()[2].1), (vec![240, 240, 0], 0.0));
        assert!((0..500).all(|i| r.lookup(&i.to_string()) != Some("10.0.0.3:80")));
        let all_zero = ring(&[("10.0.0.1:80", 0), ("10.0.0.2:80", 0)], 10000);
        assert!(all_zero.is_empty() && all_zero.lookup("x").is_none() && ring(&[], 10).is_empty());
        // A tiny weight still gets one point.
        assert_eq!(
            points(&ring(&[("10.0.0.1:80", 65535), ("10.0.0.2:80", 1)], 1000)),
            [319, 1]
        );
    }

    #[test]
    fn targets_are_normalised_and_validated_like_kong() {
        let v6 = "[2001:0db8:0000:0000:0000:0000:0000:0001]";
        for (input, name, port) in [
            ("010.000.000.001:80", "10.0.0.1", 80),
            ("10.0.0.1", "10.0.0.1", 8000),
            ("[2001:DB8::1]:443", v6, 443),
            ("2001:db8::1", v6, 8000),
            ("example.com.", "example.com.", 8000),
        ] {
            assert_eq!(
                normalize_target(input),
                Ok((name.to_string(), port)),
                "{input}"
            );
        }
        for input in [
            "1.2.3.256",
            "1.2.3.4:65536",
            "[::1]:",
            "::ffff:1.2.3.4",
            "a..b",
            "x-.io",
            "",
        ] {
            assert!(normalize_target(input).is_err(), "{input}");
        }
        // Two targets to Kong, one address: 160 points each, under one label (checked against
        // Kong's own code in tests/kong_ring.rs, which generates such pairs).
        let dup = ring(&[("10.0.0.1", 1), ("10.0.0.1:8000", 1)], 1000);
        assert_eq!(dup.points(), [("10.0.0.1:8000".to_string(), 320)]);
        assert!(try_ring(&[("10.0.0.1", 65536)], 1000).is_err());
        assert_eq!(
            try_ring(&[], 9).err(),
            Some(RingBuildError::SlotsOutOfRange(9))
        );
        assert!(try_ring(&[], 65537).is_err());
    }

    #[test]
    fn moved_fraction_matches_a_direct_count() {
        let two = ring(&THREE[..2], 10000);
        let three = ring(&[THREE[0], THREE[1], ("10.0.0.3:80", 100)], 10000);
        assert_eq!(two.moved_fraction(&two), 0.0);
        let owner = |r: &Ring, j: usize| walk(r, j + 1, |_| true).map(str::to_string);
        let direct = (0..10000)
            .filter(|&j| owner(&two, j) != owner(&three, j))
            .count();
        let moved = two.moved_fraction(&three);
        assert_eq!(
            (moved, three.moved_fraction(&two)),
            (direct as f64 / 10000.0, moved)
        );
        assert!((0.28..0.39).contains(&moved), "{moved}");
        // Different wheels: a hash residue mod lcm(1000, 1500) fixes both indexes.
        let (small, big) = (ring(&THREE[..2], 1000), ring(&THREE[..2], 1500));
        let direct = (0..3000)
            .filter(|&h| owner(&small, h % 1000) != owner(&big, h % 1500))
            .count();
        assert_eq!(small.moved_fraction(&big), direct as f64 / 3000.0);
        assert_eq!(ring(&[], 1000).moved_fraction(&small), 1.0);
    }

    proptest! {
        #![proptest_config(ProptestConfig {
            cases: 48,
            failure_persistence: None,
            ..Default::default()
        })]

        /// An address gets floor(w N 160 / W) points computed in f64, so it is
        /// within 1 of the exact value up to float error (three roundings of
        /// values below 2^13: far below 1e-6), or is the forced single point.
        /// Wrong N, W, rounding or point count breaks this. All points are on
        /// the wheel; shares are positive exactly for addresses with points and
        /// add up to 1. Wheels at most 1/3 full build with overwhelming odds.
        #[test]
        fn points_follow_weights(
            weights in prop::collection::vec(0u32..=65535, 1..40),
            load in 12u32..60,
        ) {
            let targets: Vec<_> = weights.iter().enumerate()
                .map(|(i, &w)| RingTarget::new(format!("10.9.0.{i}:80"), w)).collect();
            let n = targets.len() as u32;
            let slots = (n * 40 * load).clamp(1000, MAX_SLOTS);
            let r = build(&targets, slots).expect("at most 1/3 full");
            let total: u64 = weights.iter().map(|&w| u64::from(w)).sum();
            let mut owned = vec![0u32; r.labels.len()];
            r.wheel.iter().filter(|&&o| o != EMPTY).for_each(|&o| owned[o as usize] += 1);
            prop_assert_eq!(&owned, &r.points);
            let shares = r.shares();
            for ((label, p), (_, share)) in r.points().into_iter().zip(&shares) {
                let w = targets.iter().find(|t| t.target == label).map_or(0, |t| t.weight);
                let exact = (u64::from(w) * u64::from(n) * 160) as f64 / total.max(1) as f64;
                let p = f64::from(p);
                let rounded = match w > 0 && exact < 1.0 {
                    true => p == 1.0,
                    false => p <= exact + 1e-6 && p > exact - 1.0 - 1e-6,
                };
                prop_assert!(rounded, "{}: {} points for {}", label, p, exact);
                prop_assert_eq!(*share > 0.0, p > 0.0);
            }
            let sum: f64 = shares.iter().map(|s| s.1).sum();
            prop_assert!(total == 0 || (sum - 1.0).abs() < 1e-9);
        }
    }
}
