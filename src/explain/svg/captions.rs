//! The words around the picture: the header line, the ring's centre, and the captions that
//! say what it shows and what Kong does.

use crate::explain::report::{Analysis, Comparison, Explained, RingState};
use crate::explain::table::percent;
use crate::kong::config::Upstream;

pub(super) fn summary(a: &Analysis) -> String {
    match &a.ring {
        RingState::Built(r) => format!("{}: wheel of {} slots", a.algorithm, r.wheel_size()),
        RingState::NotUsed => format!("{}: Kong does not hash, so there is no wheel", a.algorithm),
        RingState::Failed { .. } => format!("{}: Kong cannot build the wheel", a.algorithm),
    }
}

pub(super) fn center_label(a: &Analysis) -> String {
    match &a.ring {
        _ if a.rows.is_empty() => "no targets".into(),
        RingState::Built(r) if r.is_empty() => "no target has weight".into(),
        RingState::Built(r) => format!("{} slots", r.wheel_size()),
        RingState::NotUsed => format!("{} weights", a.algorithm),
        RingState::Failed { .. } => "no wheel".into(),
    }
}

/// What the picture shows and what Kong does, below it.
pub(super) fn captions(e: &Explained) -> Vec<String> {
    let c = e.compared.as_ref();
    let both = |f: &dyn Fn(&Analysis) -> bool| f(&e.analysis) || c.is_some_and(|c| f(&c.analysis));
    let mut out = Vec::new();
    if both(&|a| matches!(a.ring, RingState::Built(_))) {
        out.push(
            "The wide ring is Kong's wheel: each arc is a run of positions whose keys land on \
             that target, from index 1 at the top, clockwise. The thin ring inside adds them \
             up: one arc per target, its wheel share (its share of well-spread keys, all \
             targets healthy)."
                .to_string(),
        );
    }
    out.extend(state_caption(&e.upstream, &e.analysis, ""));
    if let Some(c) = c {
        out.push(
            "The outer pair of rings is this state, the inner pair the compared state.".into(),
        );
        out.extend(state_caption(&c.upstream, &c.analysis, "Compared state: "));
        out.push(moved_caption(&e.analysis, c));
    }
    if both(&|a| a.choices.iter().any(|(_, t)| t.is_some())) {
        out.push(
            "Numbered ticks: where each --key hashes; a key goes to the target of the arc it \
             falls in."
                .into(),
        );
    }
    out
}

pub(super) fn state_caption(u: &Upstream, a: &Analysis, prefix: &str) -> Option<String> {
    let text = match &a.ring {
        _ if a.rows.is_empty() => "No targets: Kong has no peer and answers 503.".into(),
        RingState::NotUsed => format!(
            "Kong does not hash for this upstream ({}): there is no wheel and keys are not \
             sticky. The ring shows weight shares: {}",
            a.algorithm,
            match a.algorithm.as_str() {
                "round-robin" => "requests split by weight.",
                _ => "weights bias the choice.",
            }
        ),
        RingState::Failed {
            error,
            min_working_slots,
        } => format!(
            "RING BUILD FAILS: {error}. Kong answers 503 \"No peers are available\", and a \
             request whose key hashes to the wheel's top two positions hangs. {}",
            match min_working_slots {
                Some(m) => format!("Smallest working slots: {m}."),
                None => "No slots value up to 65536 works.".into(),
            }
        ),
        RingState::Built(r) if r.is_empty() => {
            "No target has weight: the wheel has no points and Kong has no peer for any key.".into()
        }
        RingState::Built(r) if u.hashes_nothing() => format!(
            "Nothing to hash (hash_on unset): Kong hashes \"\" for every request, so all go \
             to {}.",
            r.lookup("").unwrap_or("no target")
        ),
        RingState::Built(_) => return None,
    };
    Some(format!("{prefix}{text}"))
}

pub(super) fn moved_caption(a: &Analysis, c: &Comparison) -> String {
    let Some(f) = c.moved_fraction else {
        let note = c.moved_note.as_deref().unwrap_or("");
        return format!("Keys that move: not comparable: {note}.");
    };
    match (a.wheel_size(), c.analysis.wheel_size()) {
        (Some(x), Some(y)) if x != y => format!(
            "{} of keys move. The wheels differ in size ({x} and {y} slots), so a key sits \
             at another position on each and the keys that move are no set of arcs: no band \
             is drawn.",
            percent(f)
        ),
        _ => format!(
            "{} of keys move: the hatched band marks the positions whose target changes.",
            percent(f)
        ),
    }
}

/// Words into lines of at most `columns` characters (a longer word keeps its own line).
pub(super) fn wrap(text: &str, columns: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for word in text.split(' ').filter(|w| !w.is_empty()) {
        match lines.last_mut() {
            Some(l) if l.chars().count() + 1 + word.chars().count() <= columns => {
                l.push(' ');
                l.push_str(word);
            }
            _ => lines.push(word.to_string()),
        }
    }
    lines
}
