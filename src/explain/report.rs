//! What Kong does with an upstream: the balancer it runs, the wheel, key choices.

use serde_json::{Map, Value, json};

use crate::kong::config::Upstream;
use crate::kong::ring::{self, MAX_SLOTS, MIN_SLOTS, Ring, RingBuildError, RingTarget};

/// Kong's `slots` when the upstream sets none.
pub const DEFAULT_SLOTS: u32 = 10_000;

/// Every explained upstream, plus notes about the input for stderr.
#[derive(Debug)]
pub struct Explanation {
    pub upstreams: Vec<Explained>,
    pub notes: Vec<String>,
}

/// One upstream, optionally compared with its counterpart in another state.
#[derive(Debug)]
pub struct Explained {
    /// What the upstream belongs to (`Service default/echo port 80`, …).
    pub source: String,
    pub upstream: Upstream,
    pub analysis: Analysis,
    pub compared: Option<Comparison>,
}

#[derive(Debug)]
pub struct Comparison {
    pub source: String,
    pub upstream: Upstream,
    pub analysis: Analysis,
    /// Fraction of keys whose target changes, when both states hash on a working wheel.
    pub moved_fraction: Option<f64>,
    /// Why there is no moved fraction.
    pub moved_note: Option<String>,
}

#[derive(Debug)]
pub struct Analysis {
    /// The balancer Kong runs, which `hash_on` can override (see [`effective_algorithm`]).
    pub algorithm: String,
    /// `slots` as Kong applies it (default 10000).
    pub slots: u32,
    /// One row per target: in Kong's wheel order when the wheel was built, else as configured.
    pub rows: Vec<Row>,
    pub ring: RingState,
    /// Per `--key`, in the order given (duplicates dropped): the target Kong picks, if any.
    pub choices: Vec<(String, Option<String>)>,
}

#[derive(Debug)]
pub struct Row {
    /// `ip:port` as Kong names the address (normalised), or the target as written when
    /// Kong would reject it.
    pub target: String,
    pub weight: u32,
    pub weight_share: f64,
    pub points: Option<u32>,
    pub wheel_share: Option<f64>,
}

#[derive(Debug)]
pub enum RingState {
    /// Kong does not hash for this upstream: no wheel, keys are not sticky.
    NotUsed,
    Built(Ring),
    /// Kong cannot build the wheel: it logs a CRIT line and answers 503 "No peers are
    /// available", except for keys on the top two wheel positions, which hang (`kong::ring`).
    Failed {
        error: RingBuildError,
        /// Smallest `slots` from the current value up that works; `None` if none does.
        min_working_slots: Option<u32>,
    },
}

/// The balancer Kong runs (see [`Upstream::effective_algorithm`]).
pub fn effective_algorithm(upstream: &Upstream) -> String {
    upstream.effective_algorithm().to_string()
}

/// Kong's address name for a target (`10.0.0.1` → `10.0.0.1:8000`, IPv6 expanded), taken
/// from a one-target wheel so it is exactly the ring's own normalisation.
fn kong_label(target: &str) -> Option<String> {
    let ring = ring::build(&[RingTarget::new(target, 1)], MIN_SLOTS).ok()?;
    ring.points().into_iter().next().map(|(label, _)| label)
}

/// Analyses `upstream` and looks up `keys` on its wheel.
pub fn analyse(upstream: &Upstream, keys: &[String]) -> Analysis {
    let algorithm = effective_algorithm(upstream);
    let slots = upstream.slots.map_or(DEFAULT_SLOTS, |s| {
        u32::try_from(s.clamp(0, i64::from(u32::MAX))).unwrap_or(u32::MAX)
    });
    let total: u64 = upstream
        .targets
        .iter()
        .map(|t| u64::from(t.effective_weight()))
        .sum();
    let mut rows: Vec<Row> = upstream
        .targets
        .iter()
        .map(|t| Row {
            target: kong_label(&t.target).unwrap_or_else(|| t.target.clone()),
            weight: t.effective_weight(),
            weight_share: match total {
                0 => 0.0,
                _ => f64::from(t.effective_weight()) / total as f64,
            },
            points: None,
            wheel_share: None,
        })
        .collect();
    // Kong's order (name, then port) reads better than the config's; a built wheel
    // reorders them below anyway.
    rows.sort_by_cached_key(|r| match r.target.rsplit_once(':') {
        Some((name, port)) => (name.to_string(), port.parse::<u32>().ok()),
        None => (r.target.clone(), None),
    });
    let ring = match algorithm.as_str() {
        "consistent-hashing" => {
            let targets: Vec<RingTarget> = upstream
                .targets
                .iter()
                .map(|t| RingTarget::new(t.target.clone(), t.effective_weight()))
                .collect();
            match ring::build(&targets, slots) {
                Ok(ring) => RingState::Built(ring),
                Err(error) => RingState::Failed {
                    min_working_slots: ring::min_working_slots(
                        &targets,
                        slots.clamp(MIN_SLOTS, MAX_SLOTS),
                    ),
                    error,
                },
            }
        }
        _ => RingState::NotUsed,
    };
    if let RingState::Built(ring) = &ring {
        let shares = ring.shares();
        let mut ordered = Vec::with_capacity(rows.len());
        for ((label, points), (_, share)) in ring.points().into_iter().zip(shares) {
            // The ring's labels and rows' come from the same normalisation, so all match.
            if let Some(i) = rows.iter().position(|r| r.target == label) {
                let mut row = rows.swap_remove(i);
                row.points = Some(points);
                row.wheel_share = Some(share);
                ordered.push(row);
            }
        }
        ordered.append(&mut rows);
        rows = ordered;
    }
    let mut choices: Vec<(String, Option<String>)> = Vec::with_capacity(keys.len());
    for key in keys {
        if choices.iter().any(|(k, _)| k == key) {
            continue;
        }
        // With nothing to hash Kong looks up "" whatever the key (Upstream::hashes_nothing).
        let hashed = if upstream.hashes_nothing() { "" } else { key };
        let target = match &ring {
            RingState::Built(r) => r.lookup(hashed).map(str::to_string),
            _ => None,
        };
        choices.push((key.clone(), target));
    }
    Analysis {
        algorithm,
        slots,
        rows,
        ring,
        choices,
    }
}

impl Analysis {
    pub fn ring_build_failed(&self) -> bool {
        matches!(self.ring, RingState::Failed { .. })
    }

    /// Kong's wheel size, when Kong hashes and the slots are valid.
    pub fn wheel_size(&self) -> Option<u32> {
        match &self.ring {
            RingState::Built(r) => Some(r.wheel_size()),
            RingState::Failed {
                error: RingBuildError::WheelFull { wheel_size, .. },
                ..
            } => Some(*wheel_size),
            RingState::Failed {
                error: RingBuildError::SlotsOutOfRange(_),
                ..
            } => None,
            RingState::Failed { .. } => Some(ring::wheel_size_for(self.slots)),
            RingState::NotUsed => None,
        }
    }
}

impl Explained {
    /// Explains `upstream`, and compares it with `compared` (source, upstream) if given.
    pub fn new(
        source: String,
        upstream: Upstream,
        compared: Option<(String, Upstream)>,
        keys: &[String],
    ) -> Self {
        let analysis = analyse(&upstream, keys);
        let compared = compared.map(|(source, other)| {
            let after = analyse(&other, keys);
            let (moved_fraction, moved_note) = match (&analysis.ring, &after.ring) {
                (RingState::Built(a), RingState::Built(b)) => (Some(a.moved_fraction(b)), None),
                (a, b) => (None, Some(not_comparable(a, b, &analysis, &after))),
            };
            Comparison {
                source,
                upstream: other,
                analysis: after,
                moved_fraction,
                moved_note,
            }
        });
        Self {
            source,
            upstream,
            analysis,
            compared,
        }
    }
}

fn not_comparable(a: &RingState, b: &RingState, before: &Analysis, after: &Analysis) -> String {
    let why = |state: &RingState, analysis: &Analysis, which: &str| match state {
        RingState::NotUsed => Some(format!(
            "Kong does not hash in the {which} state ({}), so keys are not sticky",
            analysis.algorithm
        )),
        RingState::Failed { .. } => Some(format!(
            "Kong cannot build the wheel in the {which} state, so no key reaches any target"
        )),
        RingState::Built(_) => None,
    };
    if let (RingState::NotUsed, RingState::NotUsed) = (a, b) {
        return "Kong does not hash in either state, so keys are not sticky".to_string();
    }
    let reasons: Vec<String> = [why(a, before, "first"), why(b, after, "compared")]
        .into_iter()
        .flatten()
        .collect();
    reasons.join("; ")
}

impl Explanation {
    /// `{"upstreams": [...]}`, keys in a fixed order (see docs/explain.md).
    pub fn to_json(&self) -> Result<String, serde_json::Error> {
        let upstreams: Vec<Value> = self.upstreams.iter().map(Explained::to_json).collect();
        let mut text = serde_json::to_string_pretty(&json!({ "upstreams": upstreams }))?;
        text.push('\n');
        Ok(text)
    }
}

impl Explained {
    fn to_json(&self) -> Value {
        let mut out = state_json(&self.source, &self.upstream, &self.analysis);
        if let Some(c) = &self.compared {
            out.insert("moved_fraction".into(), json!(c.moved_fraction));
            out.insert("moved_fraction_note".into(), json!(c.moved_note));
            let other = state_json(&c.source, &c.upstream, &c.analysis);
            out.insert("compared_with".into(), Value::Object(other));
        }
        Value::Object(out)
    }
}

fn state_json(source: &str, u: &Upstream, a: &Analysis) -> Map<String, Value> {
    let built = match &a.ring {
        RingState::Built(r) => Some(r),
        _ => None,
    };
    let per_target = |f: &dyn Fn(&Row) -> Value| -> Value {
        Value::Object(a.rows.iter().map(|r| (r.target.clone(), f(r))).collect())
    };
    let (ring_error, min_working_slots) = match &a.ring {
        RingState::Failed {
            error,
            min_working_slots,
        } => (Some(error.to_string()), *min_working_slots),
        _ => (None, None),
    };
    let mut out = Map::new();
    let mut put = |k: &str, v: Value| {
        out.insert(k.to_string(), v);
    };
    put("name", json!(u.name));
    put("source", json!(source));
    put("algorithm", json!(a.algorithm));
    put("configured_algorithm", json!(u.algorithm));
    put(
        "consistent_hashing",
        json!(a.algorithm == "consistent-hashing"),
    );
    put("hashes_nothing", json!(u.hashes_nothing()));
    put("hash_on", json!(u.hash_on));
    put("hash_on_header", json!(u.hash_on_header));
    put("hash_on_cookie", json!(u.hash_on_cookie));
    put("hash_on_cookie_path", json!(u.hash_on_cookie_path));
    put("hash_on_query_arg", json!(u.hash_on_query_arg));
    put("hash_on_uri_capture", json!(u.hash_on_uri_capture));
    put("hash_fallback", json!(u.hash_fallback));
    put("hash_fallback_header", json!(u.hash_fallback_header));
    put("hash_fallback_query_arg", json!(u.hash_fallback_query_arg));
    put(
        "hash_fallback_uri_capture",
        json!(u.hash_fallback_uri_capture),
    );
    put("slots", json!(a.slots));
    put("wheel_size", json!(a.wheel_size()));
    put("ring_build_failed", json!(a.ring_build_failed()));
    put("ring_error", json!(ring_error));
    put("min_working_slots", json!(min_working_slots));
    put("weights", per_target(&|r| json!(r.weight)));
    put("weight_shares", per_target(&|r| json!(r.weight_share)));
    let wheel = |f: &dyn Fn(&Row) -> Value| built.map_or(Value::Null, |_| per_target(f));
    put("points", wheel(&|r| json!(r.points)));
    put("shares", wheel(&|r| json!(r.wheel_share)));
    let choices: Map<String, Value> = a
        .choices
        .iter()
        .map(|(k, t)| (k.clone(), json!(t)))
        .collect();
    put("choices", Value::Object(choices));
    out
}
