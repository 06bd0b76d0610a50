//! The golden-file update switch: `UPDATE_GOLDEN=1` rewrites golden files instead of comparing
//! them. Any other value is refused, so `UPDATE_GOLDEN=0` (or a typo) never turns a golden test
//! into one that passes by rewriting its expectations. scripts/test refuses to run with it set.

/// True when golden files are to be rewritten.
pub fn update_golden() -> bool {
    match std::env::var_os("UPDATE_GOLDEN") {
        None => false,
        Some(v) if v == "1" => true,
        Some(v) => panic!("UPDATE_GOLDEN must be 1 (rewrite golden files) or unset; got {v:?}"),
    }
}
