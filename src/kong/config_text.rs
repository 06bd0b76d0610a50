//! A Kong config's JSON text as a list of pieces shared with the translator's cache.
//!
//! At 10k Services the text is ~16 MB. Kept whole it would be a second copy of the
//! incremental translator's per-entity fragments, plus a third as the escaped
//! `{"config": "…"}` body, and each new config would copy all of it. As pieces, a new
//! config costs a list of pointers.
//!
//! Pieces are kept escaped as the body carries them (a JSON string's contents): a fragment
//! is escaped once, when translation makes it, and every push after that is a plain copy
//! (escaping byte by byte cost ~45 ms per push at 10k). The id is computed over the escaped
//! text, which determines the text; the unescaped text (md5, tests) is decoded when needed.

use std::sync::Arc;

use bytes::Bytes;

/// JSON text shared between configs, escaped once when the fragment is made.
#[derive(Debug)]
pub struct Fragment {
    escaped: Box<str>,
    /// Bytes of the text before escaping.
    len: usize,
}

impl Fragment {
    pub fn new(text: String) -> Arc<Fragment> {
        let mut escaped = Vec::with_capacity(text.len() + text.len() / 8);
        escape(&mut escaped, &text);
        Arc::new(Fragment {
            // Escaping keeps UTF-8 valid: only ASCII is added.
            escaped: String::from_utf8(escaped)
                .unwrap_or_default()
                .into_boxed_str(),
            len: text.len(),
        })
    }
}

#[derive(Clone, Debug)]
enum Piece {
    /// Already escaped (glue the code writes).
    Static(&'static str),
    Shared(Arc<Fragment>),
    /// Escaped when pushed.
    Owned(Box<str>),
}

/// The text, in order; see the module docs.
#[derive(Debug, Default)]
pub struct ConfigText {
    pieces: Vec<Piece>,
    /// Bytes of text (unescaped).
    len: usize,
}

/// Bytes per body chunk: large enough that per-chunk costs vanish, small enough that a
/// replica's push never holds much more than the pieces themselves.
const CHUNK: usize = 256 * 1024;

const BODY_START: &str = "{\"config\":\"";
const BODY_END: &str = "\"}";

impl From<String> for ConfigText {
    fn from(text: String) -> Self {
        let mut t = ConfigText::default();
        t.push_owned(text);
        t
    }
}

impl ConfigText {
    /// Glue JSON text that needs no escaping (no `"`, `\\` or control characters).
    pub fn push_plain(&mut self, s: &'static str) {
        debug_assert!(!s.bytes().any(|b| b == b'"' || b == b'\\' || b < 0x20));
        self.len += s.len();
        self.pieces.push(Piece::Static(s));
    }

    /// Glue JSON text given escaped (`escaped`) and as is (`text`, for its length).
    pub fn push_escaped(&mut self, escaped: &'static str, text_len: usize) {
        self.len += text_len;
        self.pieces.push(Piece::Static(escaped));
    }

    pub fn push_shared(&mut self, f: Arc<Fragment>) {
        self.len += f.len;
        self.pieces.push(Piece::Shared(f));
    }

    pub fn push_owned(&mut self, s: String) {
        self.len += s.len();
        self.pieces.push(Piece::Owned(s.into_boxed_str()));
    }

    /// Bytes of text.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Calls `f` with the escaped text, piece by piece.
    fn for_each_escaped(&self, mut f: impl FnMut(&[u8])) {
        let mut scratch = Vec::new();
        for piece in &self.pieces {
            match piece {
                Piece::Static(s) => f(s.as_bytes()),
                Piece::Shared(fragment) => f(fragment.escaped.as_bytes()),
                Piece::Owned(s) => {
                    scratch.clear();
                    escape(&mut scratch, s);
                    f(&scratch);
                }
            }
        }
    }

    /// The whole text in one string (tests, tools; the controller never needs it).
    pub fn concat(&self) -> String {
        let mut escaped = Vec::new();
        self.for_each_escaped(|b| escaped.extend_from_slice(b));
        let mut quoted = Vec::with_capacity(escaped.len() + 2);
        quoted.push(b'"');
        quoted.extend_from_slice(&escaped);
        quoted.push(b'"');
        // Our own escaping of valid UTF-8: always decodes.
        serde_json::from_slice(&quoted).unwrap_or_default()
    }

    /// XXH3-128 of the escaped text, as [`config_id`](super::admin_api::config_id)
    /// computes it from the text.
    pub fn id(&self) -> String {
        let mut h = xxhash_rust::xxh3::Xxh3::new();
        self.for_each_escaped(|b| h.update(b));
        format!("{:032x}", h.digest128())
    }

    /// md5 of the text: Kong's `configuration_hash` once it holds it.
    pub fn md5(&self) -> String {
        let mut h = md5::Context::new();
        let mut text = Vec::new();
        self.for_each_escaped(|b| {
            text.clear();
            unescape(&mut text, b);
            h.consume(&text);
        });
        format!("{:x}", h.compute())
    }

    /// Length of the `{"config": "<text>"}` body.
    pub fn body_len(&self) -> usize {
        let mut escaped = 0;
        for piece in &self.pieces {
            escaped += match piece {
                Piece::Static(s) => s.len(),
                Piece::Shared(f) => f.escaped.len(),
                Piece::Owned(s) => {
                    let mut counter = Counter(0);
                    escape(&mut counter, s);
                    counter.0
                }
            };
        }
        BODY_START.len() + escaped + BODY_END.len()
    }

    /// The `{"config": "<text>"}` body in chunks.
    pub fn body_chunks(self: Arc<Self>) -> impl Iterator<Item = Bytes> + Send + 'static {
        let mut next = 0;
        let mut started = false;
        let mut done = false;
        std::iter::from_fn(move || {
            if done {
                return None;
            }
            let mut chunk = Vec::with_capacity(CHUNK + CHUNK / 4);
            if !started {
                started = true;
                chunk.extend_from_slice(BODY_START.as_bytes());
            }
            while chunk.len() < CHUNK {
                match self.pieces.get(next) {
                    None => {
                        chunk.extend_from_slice(BODY_END.as_bytes());
                        done = true;
                        break;
                    }
                    Some(Piece::Static(s)) => chunk.extend_from_slice(s.as_bytes()),
                    Some(Piece::Shared(f)) => chunk.extend_from_slice(f.escaped.as_bytes()),
                    Some(Piece::Owned(s)) => escape(&mut chunk, s),
                }
                next += 1;
            }
            Some(Bytes::from(chunk))
        })
    }

    /// The whole body at once.
    pub fn body(self: &Arc<Self>) -> Bytes {
        Bytes::from(self.clone().body_chunks().collect::<Vec<_>>().concat())
    }
}

/// Decodes what [`escape`] wrote (a JSON string's contents without its quotes).
fn unescape(out: &mut Vec<u8>, escaped: &[u8]) {
    let mut i = 0;
    while i < escaped.len() {
        let b = escaped[i];
        if b != b'\\' || i + 1 >= escaped.len() {
            out.push(b);
            i += 1;
            continue;
        }
        let decoded = match escaped[i + 1] {
            b'n' => b'\n',
            b'r' => b'\r',
            b't' => b'\t',
            b'b' => 0x08,
            b'f' => 0x0c,
            b'u' if i + 5 < escaped.len() => {
                // Only control characters are written as \u00XX.
                let hex = std::str::from_utf8(&escaped[i + 2..i + 6]).unwrap_or("0");
                out.push(u8::from_str_radix(hex, 16).unwrap_or(0));
                i += 6;
                continue;
            }
            other => other,
        };
        out.push(decoded);
        i += 2;
    }
}

/// Writes `s` as the contents of a JSON string, escaped as serde_json escapes strings
/// (`"`, `\\` and control characters; everything else as is).
fn escape<W: std::io::Write>(out: &mut W, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let bytes = s.as_bytes();
    let mut start = 0;
    // Writing to a Vec or a counter cannot fail.
    for (i, &b) in bytes.iter().enumerate() {
        let escaped: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0x08 => b"\\b",
            0x0c => b"\\f",
            0x00..=0x1f => {
                let _ = out.write_all(&bytes[start..i]);
                let _ = out.write_all(&[
                    b'\\',
                    b'u',
                    b'0',
                    b'0',
                    HEX[(b >> 4) as usize],
                    HEX[(b & 0xf) as usize],
                ]);
                start = i + 1;
                continue;
            }
            _ => continue,
        };
        let _ = out.write_all(&bytes[start..i]);
        let _ = out.write_all(escaped);
        start = i + 1;
    }
    let _ = out.write_all(&bytes[start..]);
}

struct Counter(usize);

impl std::io::Write for Counter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len();
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> (ConfigText, String) {
        let mut t = ConfigText::default();
        let whole = "{\"_format_version\":\"3.0\",\"services\":[{\"name\":\"a \\\"q\\\" \\\\ \\n é\"},{\"x\":1}]}";
        t.push_escaped(
            "{\\\"_format_version\\\":\\\"3.0\\\",\\\"services\\\":[",
            "{\"_format_version\":\"3.0\",\"services\":[".len(),
        );
        t.push_shared(Fragment::new(
            "{\"name\":\"a \\\"q\\\" \\\\ \\n é\"}".to_string(),
        ));
        t.push_plain(",");
        t.push_owned("{\"x\":1}".to_string());
        t.push_plain("]}");
        (t, whole.to_string())
    }

    #[test]
    fn pieces_hash_and_escape_as_the_whole_text() {
        let (t, whole) = sample();
        assert_eq!(t.concat(), whole);
        assert_eq!(t.len(), whole.len());
        assert_eq!(t.id(), crate::kong::admin_api::config_id(&whole));
        assert_eq!(t.md5(), crate::kong::admin_api::config_hash(&whole));
        let expected = serde_json::to_vec(&serde_json::json!({ "config": whole })).expect("json");
        let t = Arc::new(t);
        assert_eq!(t.body().as_ref(), expected.as_slice());
        assert_eq!(t.body_len(), expected.len());
    }

    #[test]
    fn chunks_make_the_body_whatever_the_sizes() {
        // Enough pieces for several chunks.
        let mut t = ConfigText::default();
        let mut whole = String::new();
        t.push_plain("[");
        whole.push('[');
        for i in 0..20_000 {
            let piece = format!(
                "{}{{\"name\":\"svc-{i}\",\"q\":\"\\\"\"}}",
                if i > 0 { "," } else { "" }
            );
            whole.push_str(&piece);
            t.push_shared(Fragment::new(piece));
        }
        t.push_plain("]");
        whole.push(']');
        let t = Arc::new(t);
        let chunks: Vec<Bytes> = t.clone().body_chunks().collect();
        assert!(chunks.len() > 2, "{} chunks", chunks.len());
        let body: Vec<u8> = chunks.concat();
        let parsed: serde_json::Value = serde_json::from_slice(&body).expect("body is JSON");
        assert_eq!(parsed["config"].as_str(), Some(whole.as_str()));
        assert_eq!(body.len(), t.body_len());
    }

    #[test]
    fn escaping_matches_serde_json_and_decodes_back() {
        let all: String = (0u8..128).map(char::from).chain("é€😀".chars()).collect();
        let mut out = Vec::new();
        escape(&mut out, &all);
        let expected = serde_json::to_string(&all).expect("json");
        assert_eq!(
            String::from_utf8(out.clone()).expect("utf-8"),
            expected[1..expected.len() - 1]
        );
        let mut back = Vec::new();
        unescape(&mut back, &out);
        assert_eq!(String::from_utf8(back).expect("utf-8"), all);
        let mut t = ConfigText::default();
        t.push_shared(Fragment::new(all.clone()));
        assert_eq!(t.concat(), all);
        assert_eq!(t.len(), all.len());
        assert_eq!(t.md5(), crate::kong::admin_api::config_hash(&all));
    }

    #[test]
    fn an_empty_text_is_an_empty_string_body() {
        let t = Arc::new(ConfigText::default());
        let body: Vec<u8> = t.clone().body_chunks().collect::<Vec<_>>().concat();
        assert_eq!(body, b"{\"config\":\"\"}");
        assert_eq!(t.body_len(), body.len());
    }
}
