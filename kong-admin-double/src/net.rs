//! Ports of Kong's address/name helpers (`kong.tools.ip`, `kong.tools.http`,
//! `kong.tools.uri`, typedefs' custom validators). Messages are Kong's
//! strings verbatim unless a comment says otherwise. Line references are to
//! Kong 3.10 (master 22246ef28c).

/// Kind of address `normalize_ip` recognised.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum AddrType {
    Ipv4,
    Ipv6,
    Name,
}

/// Result of Kong's `normalize_ip`: normalized host and optional port.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Addr {
    pub kind: AddrType,
    pub host: String,
    pub port: Option<u32>,
}

/// `hostname_type`: >1 colon is IPv6, digits and dots is IPv4, else a name.
/// kong/tools/ip.lua:121-130.
pub(crate) fn hostname_type(name: &str) -> AddrType {
    let colons = name.matches(':').count();
    if colons > 1 {
        return AddrType::Ipv6;
    }
    let rest: String = name.chars().filter(|c| *c != ':').collect();
    if !rest.is_empty() && rest.chars().all(|c| c.is_ascii_digit() || c == '.') {
        return AddrType::Ipv4;
    }
    AddrType::Name
}

/// `tonumber(port) > 65535` -> "invalid port number": kong/tools/ip.lua:153-158,
/// 180-183, 229-232.
fn parse_port(p: &str) -> Result<u32, String> {
    // Lua's tonumber on a long digit string overflows to a float > 65535
    match p.parse::<u64>() {
        Ok(n) if n <= 65535 => Ok(n as u32),
        _ => Err("invalid port number".to_string()),
    }
}

/// `normalize_ipv4`: kong/tools/ip.lua:136-161 (1-3 digit octets <= 255,
/// optional `:digits` port; "%d.%d.%d.%d" drops leading zeros).
fn normalize_ipv4(address: &str) -> Result<(String, Option<u32>), String> {
    let bad = || format!("invalid ipv4 address: {address}");
    let (ip, port) = match address.split_once(':') {
        Some((ip, port)) => {
            if port.is_empty() || !port.chars().all(|c| c.is_ascii_digit()) {
                return Err(bad());
            }
            (ip, Some(port))
        }
        None => (address, None),
    };
    let octets: Vec<&str> = ip.split('.').collect();
    if octets.len() != 4 {
        return Err(bad());
    }
    let mut nums = [0u32; 4];
    for (i, o) in octets.iter().enumerate() {
        if o.is_empty() || o.len() > 3 || !o.chars().all(|c| c.is_ascii_digit()) {
            return Err(bad());
        }
        nums[i] = o.parse::<u32>().map_err(|_| bad())?;
        if nums[i] > 255 {
            return Err(bad());
        }
    }
    let port = match port {
        Some(p) => Some(parse_port(p)?),
        None => None,
    };
    Ok((
        format!("{}.{}.{}.{}", nums[0], nums[1], nums[2], nums[3]),
        port,
    ))
}

/// `normalize_ipv6`: kong/tools/ip.lua:167-218. Kong splits `[..]` with
/// `%b[]` (balanced brackets, ip.lua:168); this takes the first `]`, which
/// differs only for nested brackets (message and port handling).
fn normalize_ipv6(address: &str) -> Result<(String, Option<u32>), String> {
    let mut port = None;
    let mut check = address.to_string();
    if let Some(rest) = address.strip_prefix('[') {
        let Some(close) = rest.find(']') else {
            return Err(format!("invalid ipv6 address: {address}"));
        };
        check = rest[..close].to_string();
        let after = &rest[close + 1..];
        if !after.is_empty() {
            // ip.lua:176-178: `^:(%d-)$` or "invalid ipv6 address" (no address)
            let Some(p) = after.strip_prefix(':') else {
                return Err("invalid ipv6 address".to_string());
            };
            if !p.chars().all(|c| c.is_ascii_digit()) {
                return Err("invalid ipv6 address".to_string());
            }
            // Lua: tonumber("") is nil and then compared: Kong errors; treat as invalid
            // (ip.lua:180-181 raises "attempt to compare nil with number": not a
            // validation message in Kong, so this one is the double's guess)
            if p.is_empty() {
                return Err("invalid ipv6 address".to_string());
            }
            port = Some(parse_port(p)?);
        }
    }
    // ip.lua:191-202: pad a leading/trailing `:` with 0, expand the first `::`
    if check.starts_with(':') {
        check = format!("0{check}");
    }
    if check.ends_with(':') {
        check.push('0');
    }
    if let Some(pos) = check.find("::") {
        let count = check.matches(':').count();
        let fill = ":".to_string() + &"0:".repeat(8usize.saturating_sub(count));
        check = format!("{}{}{}", &check[..pos], fill, &check[pos + 2..]);
    }
    // ip.lua:203-207: exactly eight 1-4 hex digit groups
    let groups: Vec<&str> = check.split(':').collect();
    let valid = groups.len() == 8
        && groups
            .iter()
            .all(|g| !g.is_empty() && g.len() <= 4 && g.chars().all(|c| c.is_ascii_hexdigit()));
    if !valid {
        return Err(format!("invalid ipv6 address: {address}"));
    }
    // ip.lua:208-217: zero-padded, lower-cased
    let norm: Vec<String> = groups
        .iter()
        .map(|g| format!("{:0>4}", g.to_ascii_lowercase()))
        .collect();
    Ok((norm.join(":"), port))
}

/// `check_hostname`: letters, digits, `-`, `.`, `_`; no label may end with
/// `-` and only the last label (FQDN dot) may be empty.
/// kong/tools/ip.lua:224-251 (port `:(%d+)$` at 226-233, charset at 234-237,
/// labels at 243-249).
fn check_hostname(address: &str) -> Result<(String, Option<u32>), String> {
    let mut name = address;
    let mut port = None;
    if let Some(idx) = address.rfind(':') {
        let p = &address[idx + 1..];
        if !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()) {
            name = &address[..idx];
            port = Some(parse_port(p)?);
        }
    }
    let bad = || format!("invalid hostname: {address}");
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.' || c == '_')
    {
        return Err(bad());
    }
    let segments: Vec<&str> = name.split('.').collect();
    let n = segments.len();
    for (i, seg) in segments.iter().enumerate() {
        if seg.ends_with('-') || (seg.is_empty() && i + 1 != n) {
            return Err(bad());
        }
    }
    Ok((name.to_string(), port))
}

/// Kong's `normalize_ip`: IPv4, IPv6 (`[v6]:port`), or a hostname.
/// kong/tools/ip.lua:266-277. Unlike Kong, an IPv6 `host` comes back in
/// brackets (what `format_host`, ip.lua:309-310, adds); only targets use it.
pub(crate) fn normalize_ip(address: &str) -> Result<Addr, String> {
    let kind = hostname_type(address);
    let (host, port) = match kind {
        AddrType::Ipv4 => normalize_ipv4(address)?,
        AddrType::Ipv6 => {
            let (h, p) = normalize_ipv6(address)?;
            (format!("[{h}]"), p)
        }
        AddrType::Name => check_hostname(address)?,
    };
    Ok(Addr { kind, host, port })
}

/// typedefs.host: any address without a port.
/// `validate_host`: kong/db/schema/typedefs.lua:24-35.
pub(crate) fn validate_host(host: &str) -> Result<(), String> {
    match normalize_ip(host) {
        Err(e) if e == "invalid port number" => Err("must not have a port".into()),
        Err(_) => Err(format!("invalid value: {host}")),
        Ok(a) if a.port.is_some() => Err("must not have a port".into()),
        Ok(_) => Ok(()),
    }
}

/// typedefs.host_with_optional_port: `normalize_ip`'s own error.
/// kong/db/schema/typedefs.lua:38-41.
pub(crate) fn validate_host_with_optional_port(host: &str) -> Result<(), String> {
    normalize_ip(host).map(|_| ())
}

/// typedefs.sni: a name, never an IP, without a port.
/// `validate_sni`: kong/db/schema/typedefs.lua:154-169.
pub(crate) fn validate_sni(host: &str) -> Result<(), String> {
    match normalize_ip(host) {
        Err(e) if e == "invalid port number" => Err("must not have a port".into()),
        Err(_) => Err(format!("invalid value: {host}")),
        Ok(a) if a.kind != AddrType::Name => Err("must not be an IP".into()),
        Ok(a) if a.port.is_some() => Err("must not have a port".into()),
        Ok(_) => Ok(()),
    }
}

/// `validate_wildcard_host`: the first `*` must be the first or last byte,
/// there may be only one, and it is replaced by `wildcard` before the SNI
/// checks (so messages show the substituted host, as in Kong).
/// kong/db/schema/typedefs.lua:172-202 (188-199 repeat `validate_sni`).
pub(crate) fn validate_wildcard_host(host: &str) -> Result<(), String> {
    let mut host = host.to_string();
    if let Some(idx) = host.find('*') {
        if idx != 0 && idx + 1 != host.len() {
            return Err("wildcard must be leftmost or rightmost character".into());
        }
        if host.matches('*').count() > 1 {
            return Err("only one wildcard must be specified".into());
        }
        host = host.replace('*', "wildcard");
    }
    validate_sni(&host)
}

/// Route hosts: wildcards replaced, then `host_with_optional_port`.
/// `validate_host_with_wildcards`: kong/db/schema/typedefs.lua:495-498.
pub(crate) fn validate_host_with_wildcards(host: &str) -> Result<(), String> {
    validate_host_with_optional_port(&host.replace('*', "abc"))
}

/// What luasocket 3.0-rc1 `url.parse` (kong-latest.rockspec:17; src/url.lua
/// 126-175) finds: whether `host` and `scheme` are set. Lua patterns on
/// bytes, `%w` being ASCII alphanumerics.
pub(crate) fn socket_url_host_and_scheme(url: &str) -> (bool, bool) {
    let b = url.as_bytes();
    // url.lua:135-138: the fragment, from the first '#'
    let b = &b[..b.iter().position(|&c| c == b'#').unwrap_or(b.len())];
    // url.lua:140-141: "^([%w][%w%+%-%.]*)%:"
    let run = b
        .iter()
        .skip(1)
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'-' | b'.'))
        .count();
    let scheme = b.first().is_some_and(u8::is_ascii_alphanumeric) && b.get(1 + run) == Some(&b':');
    let rest = if scheme { &b[run + 2..] } else { b };
    // url.lua:143-146: "^//([^/]*)"; without an authority there is no host (160)
    let Some(after) = rest.strip_prefix(b"//") else {
        return (false, scheme);
    };
    let authority = &after[..after.iter().position(|&c| c == b'/').unwrap_or(after.len())];
    // url.lua:161-162: userinfo up to the first '@'
    let authority = match authority.iter().position(|&c| c == b'@') {
        Some(at) => &authority[at + 1..],
        None => authority,
    };
    // url.lua:163-164: ":([^:%]]*)$", the port after the last ':' unless a
    // ']' follows it
    let authority = match authority.iter().rposition(|&c| c == b':') {
        Some(colon) if !authority[colon..].contains(&b']') => &authority[..colon],
        _ => authority,
    };
    // url.lua:165-168: a host whenever something is left
    (!authority.is_empty(), scheme)
}

/// `validate_url`: kong/db/schema/typedefs.lua:205-221. `url.parse` only
/// fails on an empty string (url.lua:131), which `len_min` refuses first.
pub(crate) fn validate_url(url: &str) -> Result<(), String> {
    let (host, scheme) = socket_url_host_and_scheme(url);
    if !host {
        return Err("missing host in url".into()); // typedefs.lua:212-214
    }
    if !scheme {
        return Err("missing scheme in url".into()); // typedefs.lua:216-218
    }
    Ok(())
}

/// `^[a-zA-Z0-9-_]+$` of kong/tools/http.lua:286.
fn is_token_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-' || c == '_'
}

/// `tools.http.validate_header_name`: kong/tools/http.lua:281-292. (Kong's
/// PCRE `$` also matches before a final `\n`; the double refuses that.)
pub(crate) fn validate_header_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("no header name provided".into());
    }
    if name.chars().all(is_token_char) {
        return Ok(());
    }
    Err(format!(
        "bad header name '{name}', allowed characters are A-Z, a-z, 0-9, '_', and '-'"
    ))
}

/// `validate_cookie_name`, which Kong 3.10 sets to `validate_http_token`
/// (kong/tools/http.lua:298, 251-272): an RFC 2616 token, i.e. no control bytes
/// (0-31, 127), no bytes from 0x80 up, and none of ` \t()<>@,;:\"/?={}[]`.
pub(crate) fn validate_cookie_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("no token provided".into()); // http.lua:262-264
    }
    let forbidden = |b: u8| !(0x20..0x7f).contains(&b) || b" \t()<>@,;:\\\"/?={}[]".contains(&b);
    if !name.bytes().any(forbidden) {
        return Ok(());
    }
    // http.lua:270-272
    Err(
        "contains one or more invalid characters. ASCII control characters (0-31;127), \
         space, tab and the characters ()<>@,;:\\\"/?={}[] are not allowed."
            .into(),
    )
}

/// Why `validate_path` failed; routes tolerate RFC 3986 failures (regexes).
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum PathErr {
    Rfc3986(String),
    Percent(String),
}

/// typedefs.path's custom validator (RFC 3986 characters, percent-encoding).
/// `validate_path`: kong/db/schema/typedefs.lua:71-93 (error codes "rfc3986"
/// at 79, "percent" at 88).
pub(crate) fn validate_path(path: &str) -> Result<(), PathErr> {
    const SUB_DELIMS: &str = ".-_~/%:@!$&'()*+,;=";
    let ok_chars = path.starts_with('/')
        && path
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || SUB_DELIMS.contains(c));
    if !ok_chars {
        return Err(PathErr::Rfc3986(format!(
            "invalid path: '{path}' (characters outside of the reserved list of RFC 3986 found)"
        )));
    }
    let b = path.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let ok = i + 2 < b.len()
                && b.get(i + 1).is_some_and(|c| c.is_ascii_hexdigit())
                && b.get(i + 2).is_some_and(|c| c.is_ascii_hexdigit());
            if !ok {
                // typedefs.lua:84-88 quotes `%.?.?` of the string with valid
                // escapes already replaced by "___"; same text unless another
                // `%` follows within two bytes (Kong: "%4_", here "%4%")
                let end = (i + 3).min(b.len());
                return Err(PathErr::Percent(format!(
                    "invalid url-encoded value: '{}'",
                    &path[i..end]
                )));
            }
            i += 3;
        } else {
            i += 1;
        }
    }
    Ok(())
}

/// `kong.tools.uri.normalize(path, true)`: decode unreserved `%XX`,
/// upper-case other escapes, and remove dot segments.
/// kong/tools/uri.lua:78-167. Kong decodes every escape that is not a
/// RESERVED_CHARS one (uri.lua:28-59, so `%20` too), not only unreserved
/// ones, and works on bytes; see the README's divergence list.
pub(crate) fn normalize_uri(path: &str) -> String {
    let b = path.as_bytes();
    let mut decoded = String::with_capacity(path.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && b[i + 1].is_ascii_hexdigit()
            && b[i + 2].is_ascii_hexdigit()
        {
            let hex = &path[i + 1..i + 3];
            let v = u8::from_str_radix(hex, 16).unwrap_or(0);
            let c = v as char;
            if c.is_ascii_alphanumeric() || "-._~".contains(c) {
                decoded.push(c);
            } else {
                decoded.push('%');
                decoded.push_str(&hex.to_ascii_uppercase());
            }
            i += 3;
        } else {
            decoded.push(b[i] as char);
            i += 1;
        }
    }
    if !decoded.contains('.') {
        return decoded;
    }
    // RFC 3986 5.2.4 remove_dot_segments (uri.lua:104-166)
    let mut out: Vec<&str> = Vec::new();
    let segs: Vec<&str> = decoded.split('/').collect();
    let last = segs.len() - 1;
    for (idx, seg) in segs.iter().enumerate().skip(1) {
        match *seg {
            "." => {
                if idx == last {
                    out.push("");
                }
            }
            ".." => {
                out.pop();
                if idx == last {
                    out.push("");
                }
            }
            s => out.push(s),
        }
    }
    format!("/{}", out.join("/"))
}

/// typedefs.utf8_name (service/route/plugin instance names).
/// `validate_utf8_name`: kong/db/schema/typedefs.lua:137-151 (its UTF-8 check,
/// 139-142, cannot fail on a Rust `str`).
pub(crate) fn validate_utf8_name(name: &str) -> Result<(), String> {
    let ok = name
        .chars()
        .all(|c| !c.is_ascii() || c.is_ascii_alphanumeric() || ".-_~".contains(c));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "invalid value '{name}': the only accepted ascii characters are alphanumerics or ., -, _, and ~"
        ))
    }
}

/// typedefs.tag: printable ASCII except `,` and `/`, or any UTF-8.
/// `validate_tag`: kong/db/schema/typedefs.lua:118-134 (space is allowed).
pub(crate) fn validate_tag(tag: &str) -> Result<(), String> {
    let ok = tag
        .chars()
        .all(|c| !c.is_ascii() || ((' '..='~').contains(&c) && c != ',' && c != '/'));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "invalid tag '{tag}': expected printable ascii (except `,` and `/`) or valid utf-8 sequences"
        ))
    }
}

/// The `uuid` validator's pattern: 8-4-4-4-12 hex digits, any case.
/// kong/db/schema/init.lua:159, 338-343.
pub(crate) fn is_uuid(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    let lens = [8, 4, 4, 4, 12];
    parts.len() == 5
        && parts
            .iter()
            .zip(lens)
            .all(|(p, l)| p.len() == l && p.chars().all(|c| c.is_ascii_hexdigit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostnames() {
        assert!(normalize_ip("example.com").is_ok());
        assert!(normalize_ip("example.com.").is_ok());
        assert!(normalize_ip("my_service").is_ok());
        assert_eq!(
            normalize_ip("example-.org").unwrap_err(),
            "invalid hostname: example-.org"
        );
        assert!(normalize_ip("hello..example.com").is_err());
        assert!(normalize_ip(".example").is_err());
        assert_eq!(
            normalize_ip("1234").unwrap_err(),
            "invalid ipv4 address: 1234"
        );
        assert_eq!(normalize_ip("a:70000").unwrap_err(), "invalid port number");
    }

    #[test]
    fn ips_normalize() {
        let a = normalize_ip("010.0.0.1:80").unwrap();
        assert_eq!((a.host.as_str(), a.port), ("10.0.0.1", Some(80)));
        let a = normalize_ip("[::1]:8080").unwrap();
        assert_eq!(a.host, "[0000:0000:0000:0000:0000:0000:0000:0001]");
        assert_eq!(a.port, Some(8080));
        assert!(normalize_ip("256.0.0.1").is_err());
    }

    #[test]
    fn host_validators() {
        assert_eq!(
            validate_host("a.com:80").unwrap_err(),
            "must not have a port"
        );
        assert_eq!(validate_host("a b").unwrap_err(), "invalid value: a b");
        assert_eq!(validate_sni("1.2.3.4").unwrap_err(), "must not be an IP");
    }

    #[test]
    fn wildcard_hosts() {
        for ok in [
            "*.example.com",
            "example.*",
            "*",
            "A.Example.COM",
            "a.example.com.",
        ] {
            assert_eq!(validate_wildcard_host(ok), Ok(()), "{ok}");
        }
        let cases = [
            (
                "a.*.com",
                "wildcard must be leftmost or rightmost character",
            ),
            ("*.a.*", "only one wildcard must be specified"),
            ("**", "only one wildcard must be specified"),
            ("*.a b", "invalid value: wildcard.a b"),
            ("*.a.com:443", "must not have a port"),
            ("a.com:99999", "must not have a port"),
            ("10.0.0.1", "must not be an IP"),
            ("[::1]", "must not be an IP"),
        ];
        for (host, err) in cases {
            assert_eq!(validate_wildcard_host(host).unwrap_err(), err, "{host}");
        }
    }

    #[test]
    fn paths() {
        assert!(validate_path("/a/b%2F").is_ok());
        assert_eq!(
            validate_path("/a%zz").unwrap_err(),
            PathErr::Percent("invalid url-encoded value: '%zz'".into())
        );
        assert!(matches!(validate_path("/a b"), Err(PathErr::Rfc3986(_))));
        assert_eq!(normalize_uri("/a/./b/../c"), "/a/c");
        assert_eq!(normalize_uri("/%7Efoo%2f"), "/~foo%2F");
    }
}
