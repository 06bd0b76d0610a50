//! The apiserver's length limits on the text kingress writes, and the cut that keeps a long
//! message within them (a write over the limit would be refused whole).

/// `metav1.Condition.message`.
pub const CONDITION_MESSAGE: usize = 32768;
/// `events.k8s.io/v1` Event `note`.
pub const EVENT_NOTE: usize = 1024;

/// At most `max` bytes, cut at a character boundary and marked with `...`.
pub fn truncate(mut s: String, max: usize) -> String {
    if s.len() > max {
        let mut end = max.saturating_sub(3);
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
        s.push_str("...");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_messages_are_cut_at_a_char_boundary() {
        let s = truncate("é".repeat(10), 7);
        assert!(s.len() <= 7, "{s}");
        assert!(s.ends_with("..."));
        assert_eq!(truncate("short".into(), 7), "short");
    }
}
