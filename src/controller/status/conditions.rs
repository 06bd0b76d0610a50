//! metav1 Conditions that keep their `lastTransitionTime` unless their status flips.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};

use crate::controller::field_limits::{CONDITION_MESSAGE, truncate};

/// A condition kingress wants, before times and generations are filled in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Wanted {
    pub type_: &'static str,
    pub status: bool,
    pub reason: String,
    pub message: String,
}

impl Wanted {
    pub fn new(
        type_: &'static str,
        status: bool,
        reason: &str,
        message: impl Into<String>,
    ) -> Self {
        Wanted {
            type_,
            status,
            reason: reason.to_string(),
            message: message.into(),
        }
    }

    /// The existing condition of this type unchanged in substance (status unknown to us),
    /// else `fallback`.
    pub fn keep_or(type_: &'static str, existing: &[Condition], fallback: Wanted) -> Wanted {
        existing
            .iter()
            .find(|c| c.type_ == type_)
            .map(|c| Wanted {
                type_,
                status: c.status == "True",
                reason: c.reason.clone(),
                message: c.message.clone(),
            })
            .unwrap_or(fallback)
    }
}

/// `Programmed` from the newest configuration a Kong replica accepted: `held` when `holds`
/// says the object is in it, else `pending`; with none known yet (right after a restart) the
/// existing condition is kept, or `pending`. The conditions share `pending`'s type.
pub fn programmed(
    accepted: Option<&crate::translate::Facts>,
    holds: impl FnOnce(&crate::translate::Facts) -> bool,
    held: Wanted,
    pending: Wanted,
    existing: &[Condition],
) -> Wanted {
    match accepted {
        Some(facts) if holds(facts) => held,
        Some(_) => pending,
        None => Wanted::keep_or(pending.type_, existing, pending),
    }
}

/// [`programmed`] with the wording Gateway API kinds and KongUpstreamPolicy share:
/// `True`/`Programmed` once a replica's configuration holds the object, `False`/`Pending` until
/// then.
pub fn programmed_or_pending(
    accepted: Option<&crate::translate::Facts>,
    holds: impl FnOnce(&crate::translate::Facts) -> bool,
    existing: &[Condition],
) -> Wanted {
    let held = Wanted::new("Programmed", true, "Programmed", "");
    let pending = Wanted::new(
        "Programmed",
        false,
        "Pending",
        "not yet in a configuration a Kong replica accepted",
    );
    programmed(accepted, holds, held, pending, existing)
}

fn status_str(status: bool) -> &'static str {
    if status { "True" } else { "False" }
}

/// Builds `wanted` as Conditions: `lastTransitionTime` comes from the existing condition of
/// the same type when its status is unchanged, else it is `now`.
pub fn build(
    wanted: Vec<Wanted>,
    existing: &[Condition],
    generation: Option<i64>,
    now: &Time,
) -> Vec<Condition> {
    wanted
        .into_iter()
        .map(|w| {
            let status = status_str(w.status);
            let since = existing
                .iter()
                .find(|c| c.type_ == w.type_ && c.status == status)
                .map_or_else(|| now.clone(), |c| c.last_transition_time.clone());
            Condition {
                last_transition_time: since,
                message: truncate(w.message, CONDITION_MESSAGE),
                observed_generation: generation,
                reason: w.reason,
                status: status.to_string(),
                type_: w.type_.to_string(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn time(s: &str) -> Time {
        Time(s.parse().expect("timestamp"))
    }

    #[test]
    fn programmed_follows_the_accepted_config_or_keeps_what_is_there() {
        let held = Wanted::new("Programmed", true, "Programmed", "");
        let pending = Wanted::new("Programmed", false, "Pending", "waiting");
        let facts = crate::translate::Facts::default();
        let yes = programmed(Some(&facts), |_| true, held.clone(), pending.clone(), &[]);
        assert_eq!(yes, held);
        let no = programmed(Some(&facts), |_| false, held.clone(), pending.clone(), &[]);
        assert_eq!(no, pending);
        // No accepted config known: the existing condition stays, else pending.
        let existing = build(
            vec![held.clone()],
            &[],
            Some(1),
            &time("2024-01-01T00:00:00Z"),
        );
        let kept = programmed(None, |_| false, held.clone(), pending.clone(), &existing);
        assert_eq!(kept, held);
        assert_eq!(
            programmed(None, |_| true, held, pending.clone(), &[]),
            pending
        );
    }

    #[test]
    fn transition_time_changes_only_when_status_flips() {
        let t0 = time("2024-01-01T00:00:00Z");
        let t1 = time("2024-01-02T00:00:00Z");
        let first = build(
            vec![Wanted::new("Accepted", true, "Accepted", "")],
            &[],
            Some(1),
            &t0,
        );
        assert_eq!(first[0].last_transition_time, t0);
        // Same status, new reason/message and generation: time kept.
        let same = build(
            vec![Wanted::new("Accepted", true, "Accepted", "still")],
            &first,
            Some(2),
            &t1,
        );
        assert_eq!(same[0].last_transition_time, t0);
        assert_eq!(same[0].observed_generation, Some(2));
        let flipped = build(
            vec![Wanted::new("Accepted", false, "Conflicted", "x")],
            &same,
            Some(2),
            &t1,
        );
        assert_eq!(flipped[0].last_transition_time, t1);
        assert_eq!(flipped[0].status, "False");
    }

    #[test]
    fn keep_or_reuses_the_existing_condition() {
        let t0 = time("2024-01-01T00:00:00Z");
        let existing = build(
            vec![Wanted::new("Programmed", true, "Programmed", "")],
            &[],
            Some(1),
            &t0,
        );
        let kept = Wanted::keep_or(
            "Programmed",
            &existing,
            Wanted::new("Programmed", false, "Pending", ""),
        );
        assert!(kept.status);
        let fallback = Wanted::keep_or(
            "Programmed",
            &[],
            Wanted::new("Programmed", false, "Pending", ""),
        );
        assert!(!fallback.status);
    }
}
