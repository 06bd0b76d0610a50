//! PEM blocks read the way OpenSSL's `PEM_read_bio` does, which is what
//! lua-resty-openssl (`x509.new`, `pkey.new`) uses under Kong's typedefs:
//! text before, between and after blocks is skipped, trailing whitespace
//! of each line is ignored, the END line must name the BEGIN label, and a
//! block with headers (`Proc-Type: 4,ENCRYPTED`, ...) needs a passphrase
//! Kong never has. Where OpenSSL is laxer (leading blanks, odd line
//! lengths, non-canonical base64) the double is stricter, never laxer.
//!
//! No rule here is Kong code: Kong 3.10 pins lua-resty-openssl 1.5.1
//! (kong-latest.rockspec:37), whose `x509.new` calls `PEM_read_bio_X509`
//! (lib/resty/openssl/x509/init.lua:94-117) and `pkey.new` tries
//! `PEM_read_bio_PrivateKey`/`PEM_read_bio_PUBKEY`/DER/JWK loaders
//! (lib/resty/openssl/pkey.lua:57-159, 466-514), on OpenSSL 3.4.1
//! (.requirements:7, crypto/pem/pem_lib.c `PEM_read_bio_ex`). The reason
//! strings below are OpenSSL's `PEM_R_*` texts; line numbers in OpenSSL
//! were not checked.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

/// One `-----BEGIN <label>-----` ... `-----END <label>-----` block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Block {
    pub label: String,
    /// The decoded body, or why it could not be decoded.
    pub der: Result<Vec<u8>, String>,
}

/// Every block of `text`, in order. An unterminated block ends the scan
/// with an error block (OpenSSL stops there too).
pub(crate) fn blocks(text: &str) -> Vec<Block> {
    let mut out = Vec::new();
    let mut lines = text.split('\n').map(|l| l.trim_end());
    while let Some(line) = lines.next() {
        let Some(label) = line
            .strip_prefix("-----BEGIN ")
            .and_then(|l| l.strip_suffix("-----"))
        else {
            continue;
        };
        let end = format!("-----END {label}-----");
        let mut body = String::new();
        // OpenSSL's reason strings (PEM_R_BAD_END_LINE, PEM_R_BAD_BASE64_DECODE,
        // PEM_R_NO_START_LINE); Kong shows them inside format_error's
        // "error:<code>:PEM routines:...:<reason>:<file>:<line>:" (err.lua:85-86)
        let mut result = Err("bad end line".to_string());
        let mut stop = true;
        let mut first = true;
        for l in lines.by_ref() {
            if l == end {
                result = decode(&body);
                stop = false;
                break;
            }
            if l.starts_with("-----") {
                break;
            }
            if first && l.contains(':') {
                // encrypted (or otherwise annotated) PEM: needs a passphrase
                // (OpenSSL PEM_get_EVP_CIPHER_INFO; Kong passes no passphrase,
                // typedefs.lua:225,235). The message is the double's own words.
                result = Err("PEM headers: encrypted PEM needs a passphrase".into());
                stop = !lines.by_ref().any(|rest| rest == end);
                break;
            }
            first = false;
            body.push_str(l);
        }
        out.push(Block {
            label: label.to_string(),
            der: result,
        });
        if stop {
            break;
        }
    }
    out
}

fn decode(body: &str) -> Result<Vec<u8>, String> {
    if body.is_empty() {
        // the double's own words (no OpenSSL reason string is reproduced)
        return Err("empty PEM body".into());
    }
    STANDARD
        .decode(body.as_bytes())
        .map_err(|_| "bad base64 decode".to_string())
}

/// OpenSSL's `PEM_bytes_read_bio`: the first block whose label is one of
/// `labels`; a malformed block before it aborts the read.
pub(crate) fn first<'a>(blocks: &'a [Block], labels: &[&str]) -> Result<&'a Block, String> {
    for b in blocks {
        if labels.contains(&b.label.as_str()) {
            return Ok(b);
        }
        if let Err(e) = &b.der {
            return Err(e.clone());
        }
    }
    Err("no start line".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skips_text_and_other_blocks() {
        let text = "junk\n-----BEGIN FOO-----\nAAEC\n-----END FOO-----\r\nmore\n\
                    -----BEGIN CERTIFICATE-----  \nAQID\nBA==\n-----END CERTIFICATE-----\n";
        let bs = blocks(text);
        assert_eq!(bs.len(), 2);
        let b = first(&bs, &["CERTIFICATE"]).unwrap();
        assert_eq!(b.der, Ok(vec![1, 2, 3, 4]));
    }

    #[test]
    fn malformed_blocks() {
        let bs = blocks("-----BEGIN CERTIFICATE-----\nAQID\n-----END X509 CERTIFICATE-----\n");
        assert!(first(&bs, &["CERTIFICATE"]).unwrap().der.is_err());
        let bs = blocks("-----BEGIN CERTIFICATE-----\nAQID\n");
        assert_eq!(bs[0].der, Err("bad end line".into()));
        let bs = blocks("-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n");
        assert_eq!(bs[0].der, Err("bad base64 decode".into()));
        let enc = "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\n\
                   DEK-Info: AES-128-CBC,00\n\nAQID\n-----END RSA PRIVATE KEY-----\n";
        assert!(blocks(enc)[0].der.is_err());
        assert_eq!(
            first(&blocks("nothing"), &["CERTIFICATE"]).unwrap_err(),
            "no start line"
        );
        // a broken block before the wanted one aborts, like OpenSSL
        let bs = blocks(
            "-----BEGIN FOO-----\n!!\n-----END FOO-----\n-----BEGIN CERTIFICATE-----\nAQID\n-----END CERTIFICATE-----\n",
        );
        assert!(first(&bs, &["CERTIFICATE"]).is_err());
    }
}
