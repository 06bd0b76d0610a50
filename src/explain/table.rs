//! The human-readable `kingress explain` output.

use std::fmt::Write;

use super::report::{Analysis, Explained, Explanation, RingState};
use crate::kong::config::Upstream;
use crate::kong::ring::RingBuildError;

impl Explanation {
    pub fn to_table(&self) -> String {
        let parts: Vec<String> = self.upstreams.iter().map(explained).collect();
        parts.join("\n")
    }
}

fn explained(e: &Explained) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "upstream {}  ({})", e.upstream.name, e.source);
    state(&mut out, &e.upstream, &e.analysis, true);
    let Some(c) = &e.compared else {
        keys(&mut out, &e.analysis);
        return out;
    };
    let _ = writeln!(
        out,
        "\ncompared with upstream {}  ({})",
        c.upstream.name, c.source
    );
    state(&mut out, &c.upstream, &c.analysis, false);
    match (c.moved_fraction, &c.moved_note) {
        (Some(f), _) => {
            let _ = writeln!(
                out,
                "\n  moved: {} of keys change target (counted over the whole wheel)",
                percent(f)
            );
        }
        (None, note) => {
            let _ = writeln!(
                out,
                "\n  moved: not comparable: {}",
                note.as_deref().unwrap_or("")
            );
        }
    }
    if !e.analysis.choices.is_empty() {
        let mut rows = vec![["KEY".to_string(), "TARGET".into(), "COMPARED".into()]];
        for ((key, before), (_, after)) in e.analysis.choices.iter().zip(&c.analysis.choices) {
            let (b, a) = (choice(&e.analysis, before), choice(&c.analysis, after));
            let mark = if before != after { "  (moved)" } else { "" };
            rows.push([quote(key), b, format!("{a}{mark}")]);
        }
        out.push('\n');
        grid(&mut out, &rows, &[false, false, false]);
    }
    out
}

/// The upstream's settings and targets; `explain` adds what the columns mean.
fn state(out: &mut String, u: &Upstream, a: &Analysis, explain: bool) {
    let configured = u.algorithm.as_deref().unwrap_or("round-robin (default)");
    let algorithm = match configured.starts_with(a.algorithm.as_str()) {
        true => a.algorithm.clone(),
        false => format!(
            "{} (configured {configured}; Kong runs {})",
            a.algorithm,
            why(u, a)
        ),
    };
    let _ = writeln!(out, "  algorithm  {algorithm}");
    if a.algorithm == "consistent-hashing" {
        let _ = writeln!(out, "  hash on    {}", hash_settings(u));
        if u.hashes_nothing() {
            let to = match &a.ring {
                RingState::Built(r) => r.lookup("").unwrap_or("no target").to_string(),
                _ => "no target".to_string(),
            };
            let _ = writeln!(
                out,
                "             nothing to hash: Kong hashes \"\" for every request, so all go to {to}"
            );
        }
        let slots = match u.slots {
            Some(_) => a.slots.to_string(),
            None => format!("{} (Kong's default)", a.slots),
        };
        let wheel = match a.wheel_size() {
            Some(w) if w != a.slots => format!("; wheel of {w} slots (Kong's minimum)"),
            _ => String::new(),
        };
        let _ = writeln!(out, "  slots      {slots}{wheel}");
    }
    if let RingState::Failed {
        error,
        min_working_slots,
    } = &a.ring
    {
        failure(out, error, *min_working_slots);
    }
    out.push('\n');
    if a.rows.is_empty() {
        let _ = writeln!(out, "  no targets: Kong has no peer and answers 503");
        return;
    }
    let built = matches!(a.ring, RingState::Built(_));
    let mut header = vec!["TARGET", "WEIGHT", "WEIGHT SHARE"];
    if built {
        header.extend(["POINTS", "WHEEL SHARE"]);
    }
    let mut rows = vec![header.into_iter().map(str::to_string).collect::<Vec<_>>()];
    for r in &a.rows {
        let mut row = vec![
            r.target.clone(),
            r.weight.to_string(),
            percent(r.weight_share),
        ];
        if built {
            row.push(r.points.map_or("-".into(), |p| p.to_string()));
            row.push(r.wheel_share.map_or("-".into(), percent));
        }
        rows.push(row);
    }
    grid(out, &rows, &[false, true, true, true, true]);
    let note = match &a.ring {
        RingState::Built(_) => {
            "  WHEEL SHARE is each target's share of keys (well-spread keys, all targets healthy):\n  \
             the real split. It departs from WEIGHT SHARE because points sit at hashed positions,\n  \
             a key goes to the nearest point at or below its own, and the gaps differ in length.\n"
                .to_string()
        }
        RingState::NotUsed => format!(
            "  Kong does not hash for this upstream: {} picks a target per request, so a key is\n  \
             not sticky. {}\n",
            a.algorithm,
            match a.algorithm.as_str() {
                "round-robin" => "Requests split by WEIGHT SHARE.",
                _ => "Weights bias the choice.",
            }
        ),
        RingState::Failed { .. } => String::new(),
    };
    if explain && !note.is_empty() {
        out.push('\n');
        out.push_str(&note);
    }
}

/// Why Kong runs another algorithm than configured.
fn why(u: &Upstream, a: &Analysis) -> &'static str {
    match (a.algorithm.as_str(), u.hash_on.as_deref()) {
        ("round-robin", _) => "round-robin because hash_on is none",
        _ => "consistent hashing because hash_on is set",
    }
}

fn hash_settings(u: &Upstream) -> String {
    // Kong has one cookie setting for both the input and the fallback.
    let input = |on: Option<&str>, header, query, capture| match on {
        Some("header") => format!("header {}", opt(header)),
        Some("cookie") => format!(
            "cookie {} (path {})",
            opt(u.hash_on_cookie.as_deref()),
            opt(u.hash_on_cookie_path.as_deref())
        ),
        Some("query_arg") => format!("query_arg {}", opt(query)),
        Some("uri_capture") => format!("uri_capture {}", opt(capture)),
        Some(other) => other.to_string(),
        None => "none".to_string(),
    };
    let on = input(
        u.hash_on.as_deref(),
        u.hash_on_header.as_deref(),
        u.hash_on_query_arg.as_deref(),
        u.hash_on_uri_capture.as_deref(),
    );
    let fallback = match u.hash_fallback.as_deref() {
        // Kong then hashes "" (ip is always there, a missing cookie is created).
        None | Some("none") if !matches!(u.hash_on.as_deref(), Some("ip" | "cookie")) => {
            "none (requests without it all hash \"\": see --key '')".into()
        }
        None | Some("none") => "none".into(),
        f => input(
            f,
            u.hash_fallback_header.as_deref(),
            u.hash_fallback_query_arg.as_deref(),
            u.hash_fallback_uri_capture.as_deref(),
        ),
    };
    format!("{on}; fallback {fallback}")
}

fn opt(v: Option<&str>) -> &str {
    v.unwrap_or("(unset)")
}

fn failure(out: &mut String, error: &RingBuildError, min: Option<u32>) {
    let _ = writeln!(
        out,
        "\n  !! RING BUILD FAILS: Kong cannot build this consistent-hashing wheel. It logs a CRIT\n  \
         !! line and answers requests with 503 \"No peers are available\"; a request whose key\n  \
         !! hashes to the wheel's top two positions never gets an answer (Kong's lookup loops)."
    );
    match error {
        RingBuildError::WheelFull {
            slots,
            wheel_size,
            targets,
            total_points,
            ..
        } => {
            let _ = writeln!(
                out,
                "  !! {targets} targets need {total_points} points; the wheel has {wheel_size} \
                 slots (slots={slots})."
            );
        }
        other => {
            let _ = writeln!(out, "  !! {other}.");
        }
    }
    let _ = match min {
        Some(m) => writeln!(
            out,
            "  !! Smallest working slots: {m} (exact; leave headroom for more endpoints)."
        ),
        None => writeln!(out, "  !! No slots value up to 65536 makes it work."),
    };
}

fn keys(out: &mut String, a: &Analysis) {
    if a.choices.is_empty() {
        return;
    }
    let mut rows = vec![["KEY".to_string(), "TARGET".into()]];
    for (key, target) in &a.choices {
        rows.push([quote(key), choice(a, target)]);
    }
    out.push('\n');
    grid(out, &rows, &[false, false]);
}

pub(super) fn choice(a: &Analysis, target: &Option<String>) -> String {
    match (&a.ring, target) {
        (_, Some(t)) => t.clone(),
        (RingState::NotUsed, None) => "(not sticky)".into(),
        (RingState::Failed { .. }, None) => "(none: 503)".into(),
        (RingState::Built(_), None) => "(none: no target has weight)".into(),
    }
}

/// Keys as typed, quoted only when blank or padded so they stay visible.
pub(super) fn quote(key: &str) -> String {
    match key.is_empty() || key.trim() != key {
        true => format!("{key:?}"),
        false => key.to_string(),
    }
}

pub(super) fn percent(f: f64) -> String {
    format!("{:.2}%", f * 100.0)
}

/// Aligned columns, two spaces apart, indented by two; `right` aligns numbers.
fn grid<R: AsRef<[String]>>(out: &mut String, rows: &[R], right: &[bool]) {
    let columns = rows.first().map_or(0, |r| r.as_ref().len());
    let width: Vec<usize> = (0..columns)
        .map(|c| {
            let len = |r: &R| r.as_ref().get(c).map_or(0, |s| s.chars().count());
            rows.iter().map(len).max().unwrap_or(0)
        })
        .collect();
    for row in rows {
        let mut line = String::from(" ");
        for (c, cell) in row.as_ref().iter().enumerate() {
            let _ = match right.get(c).copied().unwrap_or(false) {
                true => write!(line, " {cell:>w$}", w = width.get(c).map_or(0, |w| w + 1)),
                false => write!(line, " {cell:<w$}", w = width.get(c).map_or(0, |w| w + 1)),
            };
        }
        let _ = writeln!(out, "{}", line.trim_end());
    }
}
