//! Exact traffic splits across the Services of one upstream.
//!
//! Each backend b has a route weight w_b and n_b serving endpoints; all endpoints of one
//! backend get the same target weight t_b. We want n_b·t_b ∝ w_b, i.e. t_b = w_b·L / n_b
//! for a common multiplier L. The smallest L making every t_b an integer is
//!
//! ```text
//! L = lcm over backends with w_b > 0 and n_b > 0 of  n_b / gcd(w_b, n_b)
//! ```
//!
//! When every w_b is divisible by n_b, L = 1 and t_b = w_b / n_b: exactly KIC's numbers,
//! so configs that KIC already split exactly do not churn. Otherwise the split is still
//! exact, where KIC's integer division (rounding 0 up to 1) is not: 99/1 over 10+10 pods
//! gives targets of 99 and 1 (aggregate 99:1), not KIC's 9 and 1 (about 90:10).
//!
//! Kong caps a target weight at 65535. If the exact t_b would exceed it, we scale so the
//! largest t_b is 65535 and round each to nearest (never below 1 for w_b > 0): each
//! backend's aggregate then deviates from the exact share by at most n_b·0.5 out of
//! n_b·t_b, a relative error of at most 1/(2·t_b) — under 0.8% whenever t_b ≥ 64. The one
//! exception is a share that rounds to 0: it is raised to 1 so the backend still gets traffic,
//! which gives it more than its exact share.
//! `exact` reports which case applied so the translator can warn.

/// One backend of an upstream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Backend {
    /// The route's weight for this backend (Gateway API: 0..=1_000_000, unset = 1).
    pub weight: u32,
    /// Serving (ready, not terminating) endpoints after de-duplication.
    pub endpoints: usize,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Distribution {
    /// Target weight for every endpoint of each backend, in input order.
    pub per_endpoint: Vec<u32>,
    /// False when the exact split needed weights above Kong's 65535 and was rounded.
    pub exact: bool,
}

pub const MAX_TARGET_WEIGHT: u32 = 65535;

fn gcd(mut a: u128, mut b: u128) -> u128 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

pub fn distribute(backends: &[Backend]) -> Distribution {
    let live = |b: &Backend| b.weight > 0 && b.endpoints > 0;
    // Compute L, stopping once it is clearly too large to be useful (overflow guard).
    let mut l: u128 = 1;
    let mut overflow = false;
    for b in backends.iter().filter(|b| live(b)) {
        let n = b.endpoints as u128;
        let need = n / gcd(u128::from(b.weight), n);
        l = l / gcd(l, need) * need;
        if l > u128::from(u64::MAX) {
            overflow = true;
            break;
        }
    }
    if !overflow {
        let exact: Vec<u128> = backends
            .iter()
            .map(|b| {
                if live(b) {
                    u128::from(b.weight) * l / b.endpoints as u128
                } else {
                    0
                }
            })
            .collect();
        if exact.iter().all(|&t| t <= u128::from(MAX_TARGET_WEIGHT)) {
            return Distribution {
                per_endpoint: exact.into_iter().map(|t| t as u32).collect(),
                exact: true,
            };
        }
    }
    // Scaled: the largest per-endpoint share becomes 65535.
    let max_share = backends
        .iter()
        .filter(|b| live(b))
        .map(|b| f64::from(b.weight) / b.endpoints as f64)
        .fold(0.0_f64, f64::max);
    let scale = f64::from(MAX_TARGET_WEIGHT) / max_share;
    let per_endpoint = backends
        .iter()
        .map(|b| {
            if live(b) {
                let t = (f64::from(b.weight) / b.endpoints as f64 * scale).round();
                t.clamp(1.0, f64::from(MAX_TARGET_WEIGHT)) as u32
            } else {
                0
            }
        })
        .collect();
    Distribution {
        per_endpoint,
        exact: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(weight: u32, endpoints: usize) -> Backend {
        Backend { weight, endpoints }
    }

    fn aggregate(backends: &[Backend], d: &Distribution) -> Vec<u64> {
        backends
            .iter()
            .zip(&d.per_endpoint)
            .map(|(b, &t)| b.endpoints as u64 * u64::from(t))
            .collect()
    }

    #[test]
    fn fifty_fifty_over_four_and_two() {
        let bs = [b(50, 4), b(50, 2)];
        let d = distribute(&bs);
        assert_eq!(d.per_endpoint, vec![25, 50]);
        assert!(d.exact);
        assert_eq!(aggregate(&bs, &d), vec![100, 100]);
    }

    #[test]
    fn fifty_fifty_over_eight_and_two() {
        let d = distribute(&[b(50, 8), b(50, 2)]);
        assert_eq!(d.per_endpoint, vec![25, 100]);
    }

    #[test]
    fn canary_99_1_is_exact() {
        let bs = [b(99, 10), b(1, 10)];
        let d = distribute(&bs);
        assert_eq!(d.per_endpoint, vec![99, 1]);
        assert_eq!(aggregate(&bs, &d), vec![990, 10]);
    }

    #[test]
    fn kic_numbers_when_division_is_exact() {
        // KIC: t = w / n. 100/2 = 50, 30/3 = 10.
        assert_eq!(
            distribute(&[b(100, 2), b(30, 3)]).per_endpoint,
            vec![50, 10]
        );
        assert_eq!(distribute(&[b(75, 1), b(25, 1)]).per_endpoint, vec![75, 25]);
    }

    #[test]
    fn single_backend_default_weight() {
        // Gateway API default weight 1 over 3 pods: all targets equal (KIC also gives 1).
        assert_eq!(distribute(&[b(1, 3)]).per_endpoint, vec![1]);
    }

    #[test]
    fn zero_weight_and_no_endpoints() {
        let d = distribute(&[b(0, 3), b(10, 2), b(5, 0)]);
        assert_eq!(d.per_endpoint, vec![0, 5, 0]);
        assert!(d.exact);
    }

    #[test]
    fn scaled_when_exact_exceeds_kong_range() {
        // Coprime endpoint counts force L = 7·11·13·17 = 17017; 1_000_000·L/7 is far above 65535.
        let bs = [b(1_000_000, 7), b(1, 11), b(3, 13), b(2, 17)];
        let d = distribute(&bs);
        assert!(!d.exact);
        assert!(
            d.per_endpoint
                .iter()
                .all(|&t| (1..=MAX_TARGET_WEIGHT).contains(&t))
        );
        assert_eq!(d.per_endpoint[0], MAX_TARGET_WEIGHT);
        // Documented bound: per-backend relative error ≤ 1/(2·t_b) on the largest backend.
        let agg = aggregate(&bs, &d);
        let total: u64 = agg.iter().sum();
        let share0 = agg[0] as f64 / total as f64;
        let want0 = 1_000_000.0 / 1_000_006.0;
        assert!((share0 - want0).abs() < 1.0 / (2.0 * 65535.0) + 1e-4);
    }

    #[test]
    fn exact_when_lcm_fits() {
        let bs = [b(1, 7), b(1, 11), b(1, 13)];
        let d = distribute(&bs);
        assert!(d.exact);
        let agg = aggregate(&bs, &d);
        assert!(agg.iter().all(|&a| a == agg[0]));
    }
}
