//! Where things go on the picture: a state's arcs (Kong's wheel, or a pie of weights), the
//! positions whose target changes, and ring segments as SVG path commands.

use std::fmt::Write;

use super::{CX, CY, n};
use crate::explain::report::{Analysis, RingState};
use crate::kong::config::Upstream;
use crate::kong::ring;

/// An arc: its target (`None` where there is none) and its span from `.1` to `.2`, in
/// turns from the top, clockwise.
pub(super) type Arc<'a> = (Option<&'a str>, f64, f64);

/// The arcs of one state's wheel: Kong's when it hashes, else a pie of weight shares.
pub(super) fn arcs(a: &Analysis) -> Vec<Arc<'_>> {
    let whole = vec![(None, 0.0, 1.0)];
    let arcs = match &a.ring {
        RingState::Built(r) => {
            let size = f64::from(r.wheel_size());
            let owners = r.index_owners();
            let runs = runs(&owners).into_iter();
            let runs = runs.filter(|run| run.0.is_some());
            runs.map(|(o, from, to)| (o, from as f64 / size, to as f64 / size))
                .collect()
        }
        RingState::NotUsed => pie(a.rows.iter().map(|r| (r.target.as_str(), r.weight_share))),
        RingState::Failed { .. } => Vec::new(),
    };
    if arcs.is_empty() { whole } else { arcs }
}

/// The summary inside a built wheel: one arc per target, its wheel share, in legend order.
pub(super) fn share_arcs(a: &Analysis) -> Vec<Arc<'_>> {
    let RingState::Built(_) = a.ring else {
        return Vec::new(); // the pie of weights is already its own summary
    };
    let shares = a
        .rows
        .iter()
        .map(|r| (&r.target[..], r.wheel_share.unwrap_or(0.0)));
    pie(shares)
}

pub(super) fn pie<'a>(shares: impl Iterator<Item = (&'a str, f64)>) -> Vec<Arc<'a>> {
    let mut at = 0.0;
    let shares = shares.filter(|s| s.1 > 0.0);
    let arc = |(t, s): (&'a str, f64)| {
        let from = at;
        at += s;
        (Some(t), from, at)
    };
    shares.map(arc).collect()
}

/// Maximal runs of equal values: (value, first index, end index exclusive).
pub(super) fn runs<T: PartialEq + Copy>(values: &[T]) -> Vec<(T, usize, usize)> {
    let mut out: Vec<(T, usize, usize)> = Vec::new();
    for (i, &v) in values.iter().enumerate() {
        match out.last_mut() {
            Some(last) if last.0 == v => last.2 = i + 1,
            _ => out.push((v, i, i + 1)),
        }
    }
    out
}

/// The positions whose target changes, in turns, and the fraction of keys they hold.
/// Only when both wheels are built and the same size: otherwise a key sits at another
/// position on each wheel, so the keys that move are no set of arcs.
pub(super) fn moved_arcs(a: &Analysis, b: &Analysis) -> Option<(Vec<(f64, f64)>, f64)> {
    let (RingState::Built(x), RingState::Built(y)) = (&a.ring, &b.ring) else {
        return None;
    };
    if x.wheel_size() != y.wheel_size() {
        return None;
    }
    let size = f64::from(x.wheel_size());
    let (xs, ys) = (x.index_owners(), y.index_owners());
    let changed: Vec<bool> = xs.iter().zip(&ys).map(|(p, q)| p != q).collect();
    let moved = changed.iter().filter(|&&c| c).count() as f64 / size;
    let runs = runs(&changed).into_iter().filter(|r| r.0);
    let arcs = runs.map(|(_, from, to)| (from as f64 / size, to as f64 / size));
    Some((arcs.collect(), moved))
}

/// A ring segment between radii `r0 < r1`, from `from` to `to` turns, as path commands.
pub(super) fn segment(d: &mut String, (r0, r1): (f64, f64), from: f64, to: f64) {
    // An SVG arc cannot close a circle and picks its side by a flag: halves stay below 180°.
    if to - from > 0.5 {
        let mid = (from + to) / 2.0;
        segment(d, (r0, r1), from, mid);
        segment(d, (r0, r1), mid, to);
        return;
    }
    let [a, b, c, e] = [(r1, from), (r1, to), (r0, to), (r0, from)].map(|(r, t)| {
        let (x, y) = point(r, t);
        format!("{} {}", n(x), n(y))
    });
    let (r0, r1) = (n(r0), n(r1));
    let _ = write!(d, "M{a}A{r1} {r1} 0 0 1 {b}L{c}A{r0} {r0} 0 0 0 {e}Z");
}

/// The point at `radius` and `turns` from the top, clockwise.
pub(super) fn point(radius: f64, turns: f64) -> (f64, f64) {
    let angle = turns * std::f64::consts::TAU;
    (CX + radius * angle.sin(), CY - radius * angle.cos())
}

/// Where `key` hashes on a built wheel, in turns (the middle of its slot).
pub(super) fn key_turns(u: &Upstream, a: &Analysis, key: &str) -> Option<f64> {
    let RingState::Built(r) = &a.ring else {
        return None;
    };
    // As `report::analyse`: with nothing to hash Kong looks up "" whatever the key.
    let hashed = if u.hashes_nothing() { "" } else { key };
    let index = ring::wheel_index(hashed, r.wheel_size());
    Some((f64::from(index) - 0.5) / f64::from(r.wheel_size()))
}
