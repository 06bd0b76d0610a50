//! The path Kong's router matches: the request URI without its query, normalized (Kong 3.10
//! `kong/router/utils.lua` 57-64 `strip_uri_args`, `kong/tools/uri.lua` 78-166 `normalize`
//! with `merge_slashes`): percent-encoded bytes decoded unless reserved (reserved ones
//! upper-cased), dot segments removed, repeated slashes merged.

/// RFC 3986's reserved characters and `%`, which Kong keeps encoded (uri.lua 28).
const RESERVED: &[u8] = b"!*'();:@&=+$,/?%#[]";

/// `strip_uri_args`: up to the first `?` after the first byte, normalized.
pub fn router_path(request_uri: &[u8]) -> Vec<u8> {
    let end = request_uri
        .iter()
        .skip(1)
        .position(|b| *b == b'?')
        .map_or(request_uri.len(), |i| i + 1);
    normalize(&request_uri[..end], true)
}

fn hex(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

/// `normalize_decode` over the whole URI (uri.lua 48-59; `ngx.re.gsub` with
/// `%([\dA-F]{2})`, case-insensitive).
fn decode(uri: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(uri.len());
    let mut i = 0;
    while i < uri.len() {
        if uri[i] == b'%'
            && let (Some(h), Some(l)) = (
                uri.get(i + 1).copied().and_then(hex),
                uri.get(i + 2).copied().and_then(hex),
            )
        {
            let byte = h * 16 + l;
            if RESERVED.contains(&byte) {
                out.push(b'%');
                out.extend(uri[i + 1..i + 3].iter().map(u8::to_ascii_uppercase));
            } else {
                out.push(byte);
            }
            i += 3;
            continue;
        }
        out.push(uri[i]);
        i += 1;
    }
    out
}

/// Kong's `normalize(uri, merge_slashes)` (uri.lua 78-166), on bytes (decoding can yield
/// bytes that are not UTF-8, as Kong's does).
pub fn normalize(uri: &[u8], merge_slashes: bool) -> Vec<u8> {
    if uri.is_empty() || uri == b"/" {
        return uri.to_vec();
    }
    let decoded;
    let mut uri: &[u8] = if uri.contains(&b'%') {
        decoded = decode(uri);
        &decoded
    } else {
        uri
    };
    if !uri.contains(&b'.') && (!merge_slashes || !uri.windows(2).any(|w| w == b"//")) {
        return uri.to_vec();
    }
    let mut output: Vec<&[u8]> = Vec::new();
    while !uri.is_empty() {
        let at = |i: usize| uri.get(i).copied();
        if uri == b"/." {
            uri = b"/";
        } else if uri == b"/.." {
            uri = b"/";
            output.pop();
        } else if uri == b"." || uri == b".." {
            uri = b"";
        } else if at(0) == Some(b'.') && at(1) == Some(b'.') && at(2) == Some(b'/') {
            uri = &uri[3..];
        } else if (at(0) == Some(b'.') && at(1) == Some(b'/'))
            || (at(0) == Some(b'/') && at(1) == Some(b'.') && at(2) == Some(b'/'))
        {
            // `./` and `/./` (uri.lua 122-126).
            uri = &uri[2..];
        } else if at(0) == Some(b'/')
            && at(1) == Some(b'.')
            && at(2) == Some(b'.')
            && at(3) == Some(b'/')
        {
            uri = &uri[3..];
            output.pop();
        } else if merge_slashes && at(0) == Some(b'/') && at(1) == Some(b'/') {
            uri = &uri[1..];
        } else {
            match uri.iter().skip(1).position(|b| *b == b'/') {
                Some(i) => {
                    output.push(&uri[..i + 1]);
                    uri = &uri[i + 1..];
                }
                None => {
                    output.push(uri);
                    uri = b"";
                }
            }
        }
    }
    output.concat()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Kong 3.10 spec/01-unit/18-tools_uri_spec.lua, every `normalize` case.
    #[test]
    fn kongs_own_normalize_cases() {
        let n = |s: &[u8]| normalize(s, false);
        let m = |s: &[u8]| normalize(s, true);
        for s in ["", "/", "/a", "/a/", "/a/b/c", "/a/b/c/"] {
            assert_eq!(n(s.as_bytes()), s.as_bytes());
        }
        assert_eq!(n(b"/a%2Fb%2Fc/"), b"/a%2Fb%2Fc/");
        assert_eq!(
            n(b"/%20%21%23%24%25%26%27%28%29%2A%2B%2C%2F%3A%3B%3D%3F%40%5B%5D"),
            b"/ %21%23%24%25%26%27%28%29%2A%2B%2C%2F%3A%3B%3D%3F%40%5B%5D"
        );
        assert_eq!(n(b"/a%2fb%2fc/"), b"/a%2Fb%2Fc/");
        assert_eq!(n(b"/f%6f%6f"), b"/foo");
        assert_eq!(n(b"/%6B%6f%6e%67"), b"/kong");
        assert_eq!(n(b"/%2E"), b"/");
        assert_eq!(n(b"//"), b"//");
        assert_eq!(n(b"/./"), b"/");
        assert_eq!(n(b"/."), b"/");
        assert_eq!(n(b"/.."), b"/");
        assert_eq!(n(b"/../"), b"/");
        assert_eq!(n(b"/////"), b"/////");
        assert_eq!(n(b"/./.././../"), b"/");
        assert_eq!(n(b"/a/b/c/./../../g"), b"/a/g");
        assert_eq!(n(b"mid/content=5/../6"), b"mid/6");
        assert_eq!(m(b"//"), b"/");
        assert_eq!(m(b"/////"), b"/");
        assert_eq!(m(b"/a//b//"), b"/a/b/");
        assert_eq!(n(b"/endel%C3%B8st"), "/endeløst".as_bytes());
        assert_eq!(
            m(b"/%C3%A4/a/%2e./a%2E//a/%2e/./a/../a/%2e%2E/%5f%99%af%2f%2F"),
            b"/\xc3\xa4/a./a/_\x99\xaf%2F%2F"
        );
    }

    #[test]
    fn the_query_is_not_part_of_the_path() {
        assert_eq!(router_path(b"/a//b/../c?x=/../y"), b"/a/c");
        assert_eq!(router_path(b"?q"), b"?q");
    }
}
