//! The golden-file update switch: `UPDATE_GOLDEN=1` rewrites golden files instead of comparing
//! them. Any other value is refused, so `UPDATE_GOLDEN=0` (or a typo) never turns a golden test
//! into one that passes by rewriting its expectations. scripts/test refuses to run with it set.

use std::path::Path;

/// True when golden files are to be rewritten.
pub fn update_golden() -> bool {
    match std::env::var_os("UPDATE_GOLDEN") {
        None => false,
        Some(v) if v == "1" => true,
        Some(v) => panic!("UPDATE_GOLDEN must be 1 (rewrite golden files) or unset; got {v:?}"),
    }
}

/// Compares `actual` with the golden file `path` (absent = empty), noting a difference in
/// `failures` with a unified diff; with `update`, rewrites the file instead (removes it when
/// `actual` is empty).
pub fn check(path: &Path, actual: &str, update: bool, failures: &mut Vec<String>) {
    let expected = std::fs::read_to_string(path).unwrap_or_default();
    if expected == actual {
        return;
    }
    if update {
        if actual.is_empty() {
            let _ = std::fs::remove_file(path);
        } else {
            std::fs::write(path, actual).expect("write golden file");
        }
        return;
    }
    failures.push(format!("{}:\n{}", path.display(), diff(&expected, actual)));
}

/// Panics listing `failures` of [`check`], if any.
pub fn assert_matched(failures: &[String]) {
    assert!(
        failures.is_empty(),
        "golden mismatch (run with UPDATE_GOLDEN=1 to accept intended changes):\n{}",
        failures.join("\n")
    );
}

/// A unified diff of `actual` against `expected`, three lines of context.
pub fn diff(expected: &str, actual: &str) -> String {
    similar::TextDiff::from_lines(expected, actual)
        .unified_diff()
        .context_radius(3)
        .header("expected", "actual")
        .to_string()
}
