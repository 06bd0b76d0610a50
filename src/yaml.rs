//! Reading YAML the one way kingress does: libyaml (through serde_norway, the maintained fork
//! of serde_yaml) behind a nesting guard, with errors on one line.
//!
//! libyaml's scanner is quadratic in flow nesting (each `[`/`{` keeps a possible simple key
//! that every later token re-checks): 200,000 nested `[` take minutes before any depth limit
//! is reached. So a document with more than [`MAX_DEPTH`] flow openers is first walked by a
//! streaming parser (granit-parser, linear) that stops at the first node deeper than
//! [`MAX_DEPTH`]; other documents cannot nest that deep in flow style, and block nesting costs
//! indentation, so input size bounds it.

use std::fmt;

use granit_parser::{ErrorKind, Event, Parser};
use serde::de::{DeserializeOwned, DeserializeSeed};

/// How deep a document may nest. The deepest Kubernetes objects kingress reads nest about
/// 15 levels.
pub const MAX_DEPTH: usize = 64;

/// A parser or decoding error, on one line, with line numbers counted from the start of the
/// stream the text came from.
#[derive(Debug)]
pub struct YamlError(String);

impl YamlError {
    /// `e`, for text that starts after `line_offset` lines of its stream.
    pub fn new(e: &serde_norway::Error, line_offset: usize) -> Self {
        let message = e.to_string();
        let Some(at) = e.location() else {
            return YamlError(message);
        };
        // serde_norway ends the message with " at line L column C" (lines of this text).
        let suffix = format!(" at line {} column {}", at.line(), at.column());
        let head = message.strip_suffix(&suffix).unwrap_or(&message);
        YamlError(format!(
            "{head} at line {} column {}",
            at.line() + line_offset,
            at.column()
        ))
    }

    fn too_deep(line: usize, column: usize) -> Self {
        YamlError(format!(
            "nesting deeper than {MAX_DEPTH} levels at line {line} column {column}; refused"
        ))
    }
}

impl fmt::Display for YamlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for YamlError {}

/// Refuses `text` (one document, after `line_offset` lines of its stream) if it nests deeper
/// than [`MAX_DEPTH`], in time linear in its length.
pub fn check_depth(text: &str, line_offset: usize) -> Result<(), YamlError> {
    let openers = text.bytes().filter(|b| matches!(b, b'[' | b'{')).count();
    if openers <= MAX_DEPTH {
        return Ok(());
    }
    let mut depth = 0usize;
    for result in Parser::new_from_str(text) {
        let (event, span) = match result {
            Ok(event) => event,
            // The scanner's own limit (256 levels, found while looking ahead).
            Err(e) if matches!(e.kind(), ErrorKind::RecursionLimitExceeded) => {
                let at = e.marker();
                return Err(YamlError::too_deep(at.line() + line_offset, at.col() + 1));
            }
            // Any other syntax error is the real parse's to word: it sits where fewer than
            // 256 levels are open, so libyaml reaches it in bounded time.
            Err(_) => return Ok(()),
        };
        match event {
            Event::SequenceStart(..) | Event::MappingStart(..) => {
                depth += 1;
                if depth > MAX_DEPTH {
                    let line = span.start.line() + line_offset;
                    return Err(YamlError::too_deep(line, span.start.col() + 1));
                }
            }
            Event::SequenceEnd | Event::MappingEnd => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

/// Decodes one document of `text` (after `line_offset` lines of its stream) with `seed`.
pub fn decode_seed<'de, S: DeserializeSeed<'de>>(
    text: &'de str,
    line_offset: usize,
    seed: S,
) -> Result<S::Value, YamlError> {
    check_depth(text, line_offset)?;
    seed.deserialize(serde_norway::Deserializer::from_str(text))
        .map_err(|e| YamlError::new(&e, line_offset))
}

/// One YAML (or JSON) document as `T`.
pub fn from_str<T: DeserializeOwned>(text: &str) -> Result<T, YamlError> {
    decode_seed(text, 0, std::marker::PhantomData)
}

/// [`from_str`] for bytes (UTF-8).
pub fn from_slice<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, YamlError> {
    let text = std::str::from_utf8(bytes).map_err(|e| YamlError(format!("not UTF-8: {e}")))?;
    from_str(text)
}
