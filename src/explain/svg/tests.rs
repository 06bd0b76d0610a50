//! The picture against the analysis: arcs read back from the SVG's paths add up to each
//! target's wheel share (or weight share without a wheel), the moved band to the moved
//! fraction, and every text is escaped into well-formed XML.

use std::collections::BTreeMap;

use super::*;
use crate::explain::report::analyse;
use crate::kong::config::{Target, Upstream};

fn upstream(name: &str, targets: &[(&str, Option<u32>)]) -> Upstream {
    Upstream {
        name: name.into(),
        algorithm: Some("consistent-hashing".into()),
        hash_on: Some("header".into()),
        hash_on_header: Some("x-lb".into()),
        targets: targets
            .iter()
            .map(|&(t, w)| Target {
                target: t.into(),
                weight: w,
            })
            .collect(),
        ..Upstream::default()
    }
}

fn three() -> Upstream {
    let targets = [
        ("10.0.0.1:80", Some(100)),
        ("10.0.0.2:80", Some(50)),
        ("10.0.0.3:8080", Some(250)),
    ];
    upstream("three", &targets)
}

fn explained(u: Upstream, other: Option<Upstream>, keys: &[&str]) -> Explanation {
    let keys: Vec<String> = keys.iter().map(|k| k.to_string()).collect();
    let other = other.map(|o| ("other state".to_string(), o));
    Explanation {
        upstreams: vec![Explained::new("test".into(), u, other, &keys)],
        notes: Vec::new(),
    }
}

/// Turns per path subpath `M a A … b L c A … e Z`, read back from the outer arc's ends.
fn path_turns(d: &str) -> Vec<f64> {
    let mut out = Vec::new();
    for sub in d.split('M').filter(|s| !s.is_empty()) {
        let nums: Vec<f64> = sub
            .split(|c: char| c == ' ' || c.is_ascii_alphabetic())
            .filter(|s| !s.is_empty())
            .map(|s| s.parse().expect("number"))
            .collect();
        // x0 y0 | r r rot large sweep x1 y1 | x2 y2 | r r rot large sweep x3 y3
        assert_eq!(nums.len(), 18, "{sub}");
        let angle = |x: f64, y: f64| (x - CX).atan2(CY - y) / std::f64::consts::TAU;
        let span = (angle(nums[7], nums[8]) - angle(nums[0], nums[1])).rem_euclid(1.0);
        // Halves are at most 180°, so a span near a full turn is a tiny arc rounded backwards.
        out.push(if span > 0.75 { span - 1.0 } else { span });
    }
    out
}

/// Total (arcs, turns) per group in `svg`, keyed `class` or `class target`.
fn groups(svg: &str) -> BTreeMap<String, (usize, f64)> {
    let mut out: BTreeMap<String, (usize, f64)> = BTreeMap::new();
    for g in svg.split("<g class=\"").skip(1) {
        let (class, rest) = g.split_once('"').expect("class closes");
        let name = match rest.strip_prefix(" data-target=\"") {
            Some(t) => format!("{class} {}", t.split('"').next().unwrap_or_default()),
            None => class.to_string(),
        };
        let Some((_, d)) = g.split_once(" d=\"") else {
            continue;
        };
        let turns = path_turns(d.split('"').next().unwrap_or_default());
        let entry = out.entry(name).or_default();
        entry.0 += turns.len();
        entry.1 += turns.iter().sum::<f64>();
    }
    out
}

/// Coordinates have two decimals: an arc end is off by at most 0.005·√2 px, which on the
/// smallest outer radius read (112px) is 1e-5 turn.
fn close(turns: f64, share: f64, arcs: usize) {
    let tolerance = arcs as f64 * 2e-5;
    assert!(
        (turns - share).abs() <= tolerance,
        "{turns} turns vs share {share} over {arcs} arcs"
    );
}

#[test]
fn arcs_add_up_to_each_wheel_share() {
    let e = explained(three(), None, &["foo"]);
    let a = &e.upstreams[0].analysis;
    // Exactly, before drawing: runs of slots are the shares.
    for row in &a.rows {
        let sum: f64 = arcs(a)
            .iter()
            .filter(|x| x.0 == Some(row.target.as_str()))
            .map(|x| x.2 - x.1)
            .sum();
        let share = row.wheel_share.expect("built wheel");
        assert!(
            (sum - share).abs() < 1e-9,
            "{}: {sum} vs {share}",
            row.target
        );
    }
    // And as drawn, within the rounding of the coordinates.
    let svg = e.to_svg();
    let drawn = groups(&svg);
    assert_eq!(drawn.len(), 6, "a wheel and a summary: {drawn:?}");
    for row in &a.rows {
        let share = row.wheel_share.unwrap_or_default();
        let (arcs, turns) = drawn[&format!("wheel {}", row.target)];
        assert!(arcs > 50, "{arcs} arcs: the wheel interleaves targets");
        close(turns, share, arcs);
        let (arcs, turns) = drawn[&format!("share {}", row.target)];
        assert!(arcs <= 2, "one summary arc per target, halved past 180°");
        close(turns, share, arcs);
    }
    well_formed(&svg);
}

#[test]
fn a_pie_of_weights_when_kong_does_not_hash() {
    let mut u = three();
    (u.algorithm, u.hash_on) = (Some("round-robin".into()), None);
    let e = explained(u, None, &["k"]);
    let a = &e.upstreams[0].analysis;
    let svg = e.to_svg();
    let drawn = groups(&svg);
    assert_eq!(drawn.len(), 3, "a pie only: {drawn:?}");
    for row in &a.rows {
        let (arcs, turns) = drawn[&format!("wheel {}", row.target)];
        close(turns, row.weight_share, arcs);
    }
    assert!(svg.contains("Kong does not hash for this upstream (round-robin)"));
    assert!(svg.contains("(not sticky)"));
    assert!(!svg.contains("<line x1"), "no key tick without a wheel");
    well_formed(&svg);
}

#[test]
fn one_target_is_a_whole_ring_and_a_failed_wheel_is_grey() {
    let e = explained(upstream("one", &[("10.0.0.1", None)]), None, &[]);
    let drawn = groups(&e.to_svg());
    let (arcs, turns) = drawn["wheel 10.0.0.1:8000"];
    assert!(arcs >= 2, "a full circle needs two arcs");
    close(turns, 1.0, arcs);

    let mut six = upstream("six", &[]);
    six.slots = Some(100);
    six.targets = (1..=6)
        .map(|i| Target {
            target: format!("10.0.0.{i}:80"),
            weight: None,
        })
        .collect();
    let svg = explained(six, None, &["a"]).to_svg();
    let drawn = groups(&svg);
    assert_eq!(drawn.keys().collect::<Vec<_>>(), ["wheel"]);
    assert!(svg.contains("RING BUILD FAILS"), "{svg}");
    assert!(svg.contains("(none: 503)"));
}

#[test]
fn the_moved_band_is_the_moved_fraction() {
    let mut more = three();
    more.targets.push(Target {
        target: "10.0.0.4:80".into(),
        weight: Some(100),
    });
    let e = explained(three(), Some(more), &["foo", "bar"]);
    let c = e.upstreams[0].compared.as_ref().expect("compared");
    let fraction = c.moved_fraction.expect("both hash");
    let svg = e.to_svg();
    let drawn = groups(&svg);
    let (arcs, turns) = drawn["moved"];
    close(turns, fraction, arcs);
    for row in &c.analysis.rows {
        let (arcs, turns) = drawn[&format!("wheel-compared {}", row.target)];
        close(turns, row.wheel_share.unwrap_or_default(), arcs);
    }
    assert!(svg.contains(&format!("{} of keys move", percent(fraction))));
    assert!(svg.contains("compared with upstream three  (other state)"));
    well_formed(&svg);

    // Different wheel sizes: a key moves position, so there is no band, only the number.
    let mut bigger = three();
    bigger.slots = Some(20_000);
    let svg = explained(three(), Some(bigger), &[]).to_svg();
    assert!(!groups(&svg).contains_key("moved"));
    assert!(svg.contains("The wheels differ in size (10000 and 20000 slots)"));
}

#[test]
fn with_nothing_to_hash_every_key_sits_where_the_empty_string_does() {
    let mut u = three();
    u.hash_on = None;
    let e = explained(u, None, &["a", "b"]);
    let svg = e.to_svg();
    assert!(svg.contains("Nothing to hash (hash_on unset)"), "{svg}");
    let ticks: Vec<&str> = svg.lines().filter(|l| l.starts_with("<line ")).collect();
    assert_eq!(ticks.len(), 2);
    assert_eq!(ticks[0], ticks[1], "both keys hash \"\"");
}

#[test]
fn text_is_escaped() {
    let mut u = three();
    u.name = "a<b>&\"c'".into();
    let e = explained(u, None, &["<script>&'\"", "bell\u{7}", " padded "]);
    let svg = e.to_svg();
    assert!(svg.contains("a&lt;b&gt;&amp;&quot;c&apos;"), "{svg}");
    assert!(svg.contains("&lt;script&gt;&amp;&apos;&quot;"));
    assert!(svg.contains("bell\\u{7}"));
    assert!(svg.contains("&quot; padded &quot;"));
    assert!(!svg.contains("<script"));
    well_formed(&svg);
    let html = e.to_html();
    assert!(html.starts_with("<!DOCTYPE html>\n<html lang=\"en\">"));
    assert!(html.contains("<title>kingress explain: a&lt;b&gt;&amp;&quot;c&apos;</title>"));
    assert!(!html.contains("<script"));
    let body = html
        .split_once("<body>")
        .and_then(|(_, b)| b.split_once("</body>"))
        .map(|(b, _)| b)
        .expect("a body");
    well_formed(&format!("<body>{body}</body>"));
}

#[test]
fn several_upstreams_stack_with_their_own_ids() {
    let mut e = explained(three(), Some(three()), &[]);
    e.upstreams
        .extend(explained(three(), Some(three()), &[]).upstreams);
    let svg = e.to_svg();
    assert_eq!(svg.matches("<svg ").count(), 1);
    assert!(svg.contains("id=\"moved-0\"") && svg.contains("id=\"moved-1\""));
    assert!(svg.contains("0.00% of keys move"));
    let html = e.to_html();
    assert_eq!(html.matches("<svg ").count(), 2);
    well_formed(&svg);
}

#[test]
fn output_is_deterministic() {
    let render = || explained(three(), Some(three()), &["x"]).to_html();
    assert_eq!(render(), render());
    assert_eq!(n(-0.001), "0.00");
    assert_eq!(wrap("aa bb cc", 5), ["aa bb", "cc"]);
    assert_eq!(wrap("toolongword x", 4), ["toolongword", "x"]);
    let a = analyse(&three(), &[]);
    let total: f64 = arcs(&a).iter().map(|x| x.2 - x.1).sum();
    assert!((total - 1.0).abs() < 1e-12);
}

/// A small well-formedness check (no XML crate in the tree): tags nest and close, attributes
/// are quoted, `<` never appears in text and every `&` starts a predefined or numeric entity.
fn well_formed(doc: &str) {
    let entity = |s: &str| {
        ["amp;", "lt;", "gt;", "quot;", "apos;"]
            .iter()
            .any(|e| s.starts_with(e))
    };
    let text_ok =
        |t: &str| t.match_indices('&').all(|(i, _)| entity(&t[i + 1..])) && !t.contains('>');
    let mut stack: Vec<&str> = Vec::new();
    let mut rest = doc;
    while let Some(open) = rest.find('<') {
        assert!(
            text_ok(&rest[..open]),
            "bad text: {:?}",
            &rest[..open.min(80)]
        );
        let after = &rest[open + 1..];
        let close = after.find('>').expect("tag closes");
        let tag = &after[..close];
        rest = &after[close + 1..];
        if let Some(name) = tag.strip_prefix('/') {
            assert_eq!(stack.pop(), Some(name), "closing </{name}>");
            continue;
        }
        let (tag, empty) = match tag.strip_suffix('/') {
            Some(t) => (t, true),
            None => (tag, false),
        };
        let (name, mut attrs) = tag.split_once(' ').unwrap_or((tag, ""));
        assert!(
            !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'),
            "tag {name:?}"
        );
        while let Some((key, value)) = attrs.trim_start().split_once("=\"") {
            assert!(
                !key.is_empty() && !key.contains(char::is_whitespace),
                "{key:?}"
            );
            let (value, more) = value.split_once('"').expect("attribute closes");
            assert!(text_ok(value) && !value.contains('<'), "{value:?}");
            attrs = more;
        }
        assert!(attrs.trim().is_empty(), "unquoted attribute in <{tag}>");
        if !empty {
            stack.push(name);
        }
    }
    assert!(text_ok(rest));
    assert!(stack.is_empty(), "unclosed {stack:?}");
}
