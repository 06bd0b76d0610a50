//! Will Kong be able to build the consistent-hashing ring of an upstream?
//!
//! Kong places about 160 points per target on a wheel of `slots` positions; when they do
//! not fit it abandons the build, silently apart from a log line: the upstream answers
//! "No peers are available" (503), and a key on the wheel's top two positions never gets an
//! answer (Kong's lookup loops; see `kong::ring`). kingress knows every target before Kong does, so it
//! builds the same wheel (`kong::ring`) and warns, naming the smallest `slots` that works.

use crate::kong::config::Upstream;
use crate::kong::ring::{self, RingBuildError, RingTarget};

/// Kong's default `slots`.
pub const DEFAULT_SLOTS: u32 = 10_000;
/// Warn when the wheel is fuller than this: a few more endpoints would break it.
const FULL_WARNING: f64 = 0.9;

/// A capacity finding about one upstream.
#[derive(Clone, Debug, PartialEq)]
pub struct Capacity {
    pub message: String,
    /// The build fails now (not merely close to failing).
    pub fails: bool,
}

/// Kong builds a wheel whenever it runs consistent hashing, even with nothing to hash
/// (see [`Upstream::effective_algorithm`]).
pub fn uses_ring(upstream: &Upstream) -> bool {
    upstream.effective_algorithm() == "consistent-hashing"
}

/// What the ring computations found, without the upstream's name: a pure function of the
/// targets, weights and slots, so it is cached across translations.
#[derive(Clone, Debug, PartialEq)]
enum Outcome {
    Fits,
    Fails {
        wheel_size: u32,
        targets: usize,
        total_points: u64,
        fix: String,
    },
    NearlyFull {
        placed: u32,
        wheel_size: u32,
        advice: String,
    },
}

fn compute(targets: &[RingTarget], slots: u32) -> Outcome {
    match ring::build(targets, slots) {
        Err(RingBuildError::WheelFull {
            wheel_size,
            targets: count,
            total_points,
            ..
        }) => {
            let fix = match ring::min_working_slots(targets, slots.saturating_add(1)) {
                Some(min) => {
                    let roomy = (total_points as f64 / FULL_WARNING).ceil() as u32;
                    match ring::min_working_slots(targets, roomy.max(min)) {
                        Some(r) if r > min => format!(
                            "set spec.slots to at least {min} ({r} leaves 10% headroom for scaling)"
                        ),
                        _ => format!("set spec.slots to at least {min}"),
                    }
                }
                None => format!(
                    "no slots value up to {} fits; use fewer targets or another algorithm",
                    ring::MAX_SLOTS
                ),
            };
            Outcome::Fails {
                wheel_size,
                targets: count,
                total_points,
                fix,
            }
        }
        // Invalid targets or slots are Kong schema errors, reported by Kong itself.
        Err(_) => Outcome::Fits,
        Ok(built) => {
            let placed: u32 = built.points().iter().map(|(_, p)| p).sum();
            let fill = f64::from(placed) / f64::from(built.wheel_size());
            if fill <= FULL_WARNING {
                return Outcome::Fits;
            }
            let want = (f64::from(placed) / FULL_WARNING).ceil() as u32;
            let advice = match ring::min_working_slots(targets, want) {
                Some(min) => format!("set spec.slots to at least {min} to keep 10% headroom"),
                None => "no larger slots value helps; plan for fewer targets".to_string(),
            };
            Outcome::NearlyFull {
                placed,
                wheel_size: built.wheel_size(),
                advice,
            }
        }
    }
}

pub fn check(upstream: &Upstream) -> Option<Capacity> {
    if !uses_ring(upstream) || upstream.targets.is_empty() {
        return None;
    }
    let targets: Vec<(String, u32)> = upstream
        .targets
        .iter()
        .map(|t| (t.target.clone(), t.effective_weight()))
        .collect();
    let slots = upstream
        .slots
        .and_then(|s| u32::try_from(s).ok())
        .unwrap_or(DEFAULT_SLOTS);
    match cache::outcome(targets, slots) {
        Outcome::Fits => None,
        Outcome::Fails {
            wheel_size,
            targets: count,
            total_points,
            fix,
        } => Some(Capacity {
            message: format!(
                "Kong cannot build the consistent-hashing ring of upstream {}: {count} targets need {total_points} points on a {wheel_size}-slot wheel; Kong leaves the upstream without a balancer (503 \"No peers are available\"; requests hashing to the wheel's top two positions hang); {fix}",
                upstream.name
            ),
            fails: true,
        }),
        Outcome::NearlyFull {
            placed,
            wheel_size,
            advice,
        } => Some(Capacity {
            message: format!(
                "the consistent-hashing ring of upstream {} is {:.0}% full ({placed} of {wheel_size} slots for {} targets); a few more endpoints and Kong cannot build it; {advice}",
                upstream.name,
                f64::from(placed) / f64::from(wheel_size) * 100.0,
                upstream.targets.len()
            ),
            fails: false,
        }),
    }
}

/// Marks the start of a translation: outcomes no translation used since the previous mark
/// are dropped, so the cache holds at most two translations' worth of upstreams.
pub fn new_round() {
    cache::new_round();
}

/// Building Kong's wheel costs about as much as translating the upstream's Service several
/// times over; between two translations almost every upstream is unchanged.
mod cache {
    use std::sync::LazyLock;

    use super::{Outcome, RingTarget, compute};
    use crate::translate::round_cache::RoundCache;

    type Key = (u32, Vec<(String, u32)>);

    static OUTCOMES: LazyLock<RoundCache<Key, Outcome>> = LazyLock::new(RoundCache::default);

    pub(super) fn new_round() {
        OUTCOMES.new_round();
    }

    pub(super) fn outcome(targets: Vec<(String, u32)>, slots: u32) -> Outcome {
        OUTCOMES.get((slots, targets), |(slots, targets)| {
            let targets: Vec<RingTarget> = targets
                .iter()
                .map(|(t, w)| RingTarget::new(t.clone(), *w))
                .collect();
            compute(&targets, *slots)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kong::config::Target;

    fn upstream(n: usize, slots: Option<i64>) -> Upstream {
        Upstream {
            name: "u".into(),
            algorithm: Some("consistent-hashing".into()),
            hash_on: Some("header".into()),
            hash_on_header: Some("x-lb".into()),
            slots,
            targets: (1..=n)
                .map(|i| Target {
                    target: format!("10.6.0.{i}:80"),
                    weight: None,
                })
                .collect(),
            ..Default::default()
        }
    }

    #[test]
    fn six_targets_do_not_fit_in_slots_100() {
        let c = check(&upstream(6, Some(100))).expect("finding");
        assert!(c.fails);
        assert!(
            c.message
                .contains("6 targets need 960 points on a 1000-slot wheel"),
            "{}",
            c.message
        );
        let min: u32 = c
            .message
            .rsplit("at least ")
            .next()
            .and_then(|s| s.split(' ').next())
            .and_then(|s| s.parse().ok())
            .expect("minimum slots in message");
        assert!(
            ring::build(
                &upstream(6, None)
                    .targets
                    .iter()
                    .map(|t| RingTarget::new(t.target.clone(), 100))
                    .collect::<Vec<_>>(),
                min
            )
            .is_ok()
        );
    }

    #[test]
    fn sixty_two_targets_fail_at_default_slots() {
        let c = check(&upstream(62, None)).expect("finding");
        assert!(c.fails, "{}", c.message);
    }

    #[test]
    fn few_targets_build_without_findings() {
        for n in [2, 3] {
            assert_eq!(check(&upstream(n, None)), None);
            assert_eq!(check(&upstream(n, Some(10))), None);
        }
    }

    #[test]
    fn nearly_full_wheel_warns_without_failing() {
        // 58 targets × 160 points = 9280 of 10000 slots: builds, but with under 10% headroom.
        let c = check(&upstream(58, None)).expect("finding");
        assert!(!c.fails, "{}", c.message);
        assert!(c.message.contains("% full"), "{}", c.message);
    }

    #[test]
    fn only_wheels_kong_builds_are_checked() {
        let mut u = upstream(62, None);
        u.algorithm = Some("least-connections".into());
        assert_eq!(check(&u), None);
        // hash_on "none" in the config makes Kong store round-robin (upstreams.lua:333-337).
        let mut u = upstream(62, None);
        u.hash_on = Some("none".into());
        assert_eq!(check(&u), None);
        // Without hash_on the algorithm stays consistent-hashing and Kong builds the wheel.
        let mut u = upstream(62, None);
        u.hash_on = None;
        assert!(check(&u).is_some_and(|c| c.fails));
    }
}
