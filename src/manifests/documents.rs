//! A YAML stream split into its documents, without parsing it: each document is then read on
//! its own (in parallel, and one broken document never hides the next).
//!
//! A line that starts with `---` (then a space, a tab or its end) starts a document and a line
//! `...` ends one: YAML forbids both inside a document's content at the start of a line
//! (`c-forbidden`, YAML 1.2.2 §9.1.4), so splitting there is exact. Numbering follows the
//! stream as a YAML parser reads it: text before the first `---` is a document only if it holds
//! more than comments, every `---` starts one (an empty one is a null document). Directive lines
//! (`%YAML`, `%TAG`) are dropped: kingress reads no tags.

/// One document of a stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Document<'a> {
    /// 1-based position in the stream.
    pub index: usize,
    /// Lines of the stream before `text` starts (for error line numbers).
    pub line_offset: usize,
    pub text: &'a str,
}

impl Document<'_> {
    /// Holds nothing but whitespace and comments (a null document).
    pub fn is_empty(&self) -> bool {
        self.text
            .lines()
            .map(str::trim_start)
            .all(|l| l.is_empty() || l.starts_with('#') || l == "---")
    }
}

fn starts_document(line: &str) -> bool {
    line.strip_prefix("---")
        .is_some_and(|rest| rest.is_empty() || rest.starts_with([' ', '\t', '\r']))
}

fn ends_document(line: &str) -> bool {
    line.strip_prefix("...")
        .is_some_and(|rest| rest.trim_end_matches([' ', '\t', '\r']).is_empty())
}

/// Where an open document starts: byte, line, and whether a `---` opened it.
#[derive(Clone, Copy)]
struct Open {
    byte: usize,
    line: usize,
    marked: bool,
}

/// Closes the document from `open` to byte `end`; before the first `---` only content makes
/// a document.
fn close<'a>(docs: &mut Vec<Document<'a>>, text: &'a str, open: Open, end: usize) {
    let doc = Document {
        index: docs.len() + 1,
        line_offset: open.line,
        text: &text[open.byte..end],
    };
    if open.marked || !doc.is_empty() {
        docs.push(doc);
    }
}

/// The documents of `text`, in order.
pub fn split(text: &str) -> Vec<Document<'_>> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut docs = Vec::new();
    let mut current = Some(Open {
        byte: 0,
        line: 0,
        marked: false,
    });
    let mut offset = 0;
    for (line, raw) in text.split_inclusive('\n').enumerate() {
        let bare = raw.trim_end_matches(['\n', '\r']);
        if starts_document(bare) {
            if let Some(open) = current.take() {
                close(&mut docs, text, open, offset);
            }
            current = Some(Open {
                byte: offset,
                line,
                marked: true,
            });
        } else if ends_document(bare) || bare.starts_with('%') {
            if let Some(open) = current.take() {
                close(&mut docs, text, open, offset);
            }
        } else if current.is_none() && !bare.trim().is_empty() && !bare.starts_with('#') {
            // Content after `...` without a new `---`: a bare document.
            current = Some(Open {
                byte: offset,
                line,
                marked: false,
            });
        }
        offset += raw.len();
    }
    if let Some(open) = current {
        close(&mut docs, text, open, text.len());
    }
    docs
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(text: &str) -> Vec<(usize, usize, &str)> {
        split(text)
            .into_iter()
            .map(|d| (d.index, d.line_offset, d.text))
            .collect()
    }

    #[test]
    fn documents_are_numbered_as_a_yaml_parser_numbers_them() {
        assert_eq!(
            texts("a: 1\n---\nb: 2\n"),
            [(1, 0, "a: 1\n"), (2, 1, "---\nb: 2\n")]
        );
        // A leading `---` (or only comments before it) opens the first document.
        assert_eq!(texts("# c\n---\na: 1\n"), [(1, 1, "---\na: 1\n")]);
        assert_eq!(texts("---\na: 1\n"), [(1, 0, "---\na: 1\n")]);
        // `---` twice: an empty (null) document between; a trailing one too.
        assert_eq!(texts("a\n---\n---\nb\n---\n").len(), 4);
        assert_eq!(texts("a\n---\n---\nb\n")[1], (2, 1, "---\n"));
        // Content on the `---` line belongs to its document.
        assert_eq!(
            texts("--- {a: 1}\n--- [1]\n"),
            [(1, 0, "--- {a: 1}\n"), (2, 1, "--- [1]\n")]
        );
        assert_eq!(texts(""), []);
        assert_eq!(texts("\u{feff}a: 1"), [(1, 0, "a: 1")]);
    }

    #[test]
    fn markers_count_only_at_the_start_of_a_line_and_alone() {
        let text = "a: |\n  ---\n  text\nb: ---x\n----\n---x: 1\n";
        assert_eq!(texts(text).len(), 1, "none of these is a marker");
        assert_eq!(texts("a: 1\r\n---\r\nb: 2\r\n").len(), 2);
        assert_eq!(texts("a: 1\n--- # comment\nb: 2\n").len(), 2);
    }

    #[test]
    fn document_end_markers_and_directives() {
        assert_eq!(
            texts("a: 1\n...\n---\nb: 2\n"),
            [(1, 0, "a: 1\n"), (2, 2, "---\nb: 2\n")]
        );
        assert_eq!(texts("%YAML 1.2\n---\na: 1\n"), [(1, 1, "---\na: 1\n")]);
        assert_eq!(
            texts("a: 1\n...\nb: 2\n"),
            [(1, 0, "a: 1\n"), (2, 2, "b: 2\n")]
        );
    }
}
