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
