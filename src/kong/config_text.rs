//! A Kong config's JSON text as a list of pieces shared with the translator's cache.
//!
//! At 10k Services the text is ~16 MB. Kept whole it would be a second copy of the
//! incremental translator's per-entity fragments, plus a third as the escaped
//! `{"config": "…"}` body, and each new config would copy all of it. As pieces, a new
//! config costs a list of pointers; the body is escaped as it streams to each replica, and
//! the id and md5 are computed over the pieces.

use std::sync::{Arc, OnceLock};

use bytes::Bytes;

/// JSON text shared between configs, with its length once escaped into the body,
/// computed once when the fragment is made.
#[derive(Debug)]
pub struct Fragment {
    text: Box<str>,
    escaped_len: usize,
}

impl Fragment {
    pub fn new(text: String) -> Arc<Fragment> {
        let mut counter = Counter(0);
        escape(&mut counter, &text);
        Arc::new(Fragment {
            text: text.into_boxed_str(),
            escaped_len: counter.0,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }
}

#[derive(Clone, Debug)]
enum Piece {
    Static(&'static str),
    Shared(Arc<Fragment>),
    Owned(Box<str>),
}

impl Piece {
    fn as_str(&self) -> &str {
        match self {
            Piece::Static(s) => s,
            Piece::Shared(f) => &f.text,
            Piece::Owned(s) => s,
        }
    }

    fn escaped_len(&self) -> usize {
        match self {
            Piece::Shared(f) => f.escaped_len,
            Piece::Static(_) | Piece::Owned(_) => {
                let mut counter = Counter(0);
                escape(&mut counter, self.as_str());
                counter.0
            }
        }
    }
}

/// The text, in order; see the module docs.
#[derive(Debug, Default)]
pub struct ConfigText {
    pieces: Vec<Piece>,
    len: usize,
    /// Length of the `POST /config` body, computed on first use.
    body_len: OnceLock<usize>,
}

/// Escaped bytes per body chunk: large enough that per-chunk costs vanish, small enough that
/// a replica's push never holds much more than the pieces themselves.
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
    pub fn push_static(&mut self, s: &'static str) {
        self.len += s.len();
        self.pieces.push(Piece::Static(s));
    }

    pub fn push_shared(&mut self, f: Arc<Fragment>) {
        self.len += f.text.len();
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

    pub fn pieces(&self) -> impl Iterator<Item = &str> {
        self.pieces.iter().map(Piece::as_str)
    }

    /// The whole text in one string (tests, tools; the controller never needs it).
    pub fn concat(&self) -> String {
        let mut s = String::with_capacity(self.len);
        self.pieces().for_each(|p| s.push_str(p));
        s
    }

    /// XXH3-128 of the text, as [`config_id`](super::admin_api::config_id) computes it.
    pub fn id(&self) -> String {
        let mut h = xxhash_rust::xxh3::Xxh3::new();
        self.pieces().for_each(|p| h.update(p.as_bytes()));
        format!("{:032x}", h.digest128())
    }

    /// md5 of the text: Kong's `configuration_hash` once it holds it.
    pub fn md5(&self) -> String {
        let mut h = md5::Context::new();
        self.pieces().for_each(|p| h.consume(p.as_bytes()));
        format!("{:x}", h.compute())
    }

    /// Length of the `{"config": "<text>"}` body.
    pub fn body_len(&self) -> usize {
        *self.body_len.get_or_init(|| {
            let escaped: usize = self.pieces.iter().map(Piece::escaped_len).sum();
            BODY_START.len() + escaped + BODY_END.len()
        })
    }

    /// The `{"config": "<text>"}` body in chunks, escaped as they are taken.
    pub fn body_chunks(self: Arc<Self>) -> impl Iterator<Item = Bytes> + Send + 'static {
        let mut next = 0;
        let mut started = false;
        let mut done = false;
        std::iter::from_fn(move || {
            if done {
                return None;
            }
            let mut chunk = Vec::with_capacity(CHUNK + CHUNK / 8);
            if !started {
                started = true;
                chunk.extend_from_slice(BODY_START.as_bytes());
            }
            while chunk.len() < CHUNK {
                let Some(piece) = self.pieces.get(next) else {
                    chunk.extend_from_slice(BODY_END.as_bytes());
                    done = true;
                    break;
                };
                escape(&mut chunk, piece.as_str());
                next += 1;
            }
            Some(Bytes::from(chunk))
        })
    }

    /// The whole body at once.
    pub fn body(&self) -> Bytes {
        let mut body = Vec::with_capacity(self.body_len());
        body.extend_from_slice(BODY_START.as_bytes());
        for p in self.pieces() {
            escape(&mut body, p);
        }
        body.extend_from_slice(BODY_END.as_bytes());
        Bytes::from(body)
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
        t.push_static("{\"_format_version\":\"3.0\",\"services\":[");
        t.push_shared(Fragment::new(
            "{\"name\":\"a \\\"q\\\" \\\\ \\n é\"}".to_string(),
        ));
        t.push_static(",");
        t.push_owned("{\"x\":1}".to_string());
        t.push_static("]}");
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
        assert_eq!(t.body().as_ref(), expected.as_slice());
        assert_eq!(t.body_len(), expected.len());
    }

    #[test]
    fn chunks_make_the_body_whatever_the_sizes() {
        // Enough pieces for several chunks.
        let mut t = ConfigText::default();
        let mut whole = String::new();
        t.push_static("[");
        whole.push('[');
        for i in 0..20_000 {
            let piece = format!(
                "{}{{\"name\":\"svc-{i}\",\"q\":\"\\\"\"}}",
                if i > 0 { "," } else { "" }
            );
            whole.push_str(&piece);
            t.push_shared(Fragment::new(piece));
        }
        t.push_static("]");
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
    fn escaping_matches_serde_json_for_every_ascii_byte() {
        let all: String = (0u8..128).map(char::from).chain("é€😀".chars()).collect();
        let mut out = Vec::new();
        escape(&mut out, &all);
        let expected = serde_json::to_string(&all).expect("json");
        assert_eq!(
            String::from_utf8(out).expect("utf-8"),
            expected[1..expected.len() - 1]
        );
    }

    #[test]
    fn an_empty_text_is_an_empty_string_body() {
        let t = Arc::new(ConfigText::default());
        let body: Vec<u8> = t.clone().body_chunks().collect::<Vec<_>>().concat();
        assert_eq!(body, b"{\"config\":\"\"}");
        assert_eq!(t.body_len(), body.len());
    }
}
