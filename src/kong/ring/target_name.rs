//! A target as Kong names it: `normalize_ip` and `format_host` (IPv4 without leading zeros,
//! IPv6 fully expanded in brackets, hostnames checked), and its port (8000 by default).

use super::DEFAULT_TARGET_PORT;

/// Kong's `format_host(normalize_ip(target), 8000)` split as in
/// `load_targets_into_memory`: (`target.name`, `target.port`).
pub(super) fn normalize_target(target: &str) -> Result<(String, u16), &'static str> {
    // hostname_type decides by exclusion, then the matching check validates.
    let mut rest = target.bytes().filter(|&b| b != b':').peekable();
    let v4ish = rest.peek().is_some() && rest.all(|b| b.is_ascii_digit() || b == b'.');
    let (name, port) = if target.bytes().filter(|&b| b == b':').count() > 1 {
        let (addr, port) = normalize_ipv6(target)?;
        (format!("[{addr}]"), port)
    } else if v4ish {
        normalize_ipv4(target)?
    } else {
        check_hostname(target)?
    };
    Ok((name, port.unwrap_or(DEFAULT_TARGET_PORT)))
}

fn parse_port(digits: &str) -> Result<u16, &'static str> {
    match digits.bytes().all(|b| b.is_ascii_digit()) {
        true => digits.parse().map_err(|_| "invalid port number"),
        false => Err("invalid port number"),
    }
}

fn normalize_ipv4(address: &str) -> Result<(String, Option<u16>), &'static str> {
    const BAD: &str = "invalid ipv4 address";
    let (addr, port) = match address.split_once(':') {
        Some((addr, port)) => (addr, Some(parse_port(port).map_err(|_| BAD)?)),
        None => (address, None),
    };
    let octet = |s: &str| match s.len() {
        1..=3 => s.parse::<u8>().map_err(|_| BAD), // digits only, checked by the caller
        _ => Err(BAD),
    };
    let octets: Vec<u8> = addr.split('.').map(octet).collect::<Result<_, _>>()?;
    match octets[..] {
        [a, b, c, d] => Ok((format!("{a}.{b}.{c}.{d}"), port)),
        _ => Err(BAD),
    }
}

/// The fully expanded, lower-case address without brackets, and the port.
fn normalize_ipv6(address: &str) -> Result<(String, Option<u16>), &'static str> {
    const BAD: &str = "invalid ipv6 address";
    // "[addr]" with an optional ":port", or a bare address without port. A
    // nested '[' (Lua's %b[]) would leave non-hex text, so the first ']' will do.
    let (mut check, port) = match address.strip_prefix('[') {
        Some(inner) => match inner.split_once(']').ok_or(BAD)? {
            (addr, "") => (addr.to_string(), None),
            (addr, rest) => (
                addr.to_string(),
                Some(parse_port(rest.strip_prefix(':').ok_or(BAD)?)?),
            ),
        },
        None => (address.to_string(), None),
    };
    if check.starts_with(':') {
        check.insert(0, '0');
    }
    if check.ends_with(':') {
        check.push('0');
    }
    if check.contains("::") {
        let colons = check.bytes().filter(|&b| b == b':').count();
        let zeros = format!(":{}", "0:".repeat(8usize.saturating_sub(colons)));
        check = check.replacen("::", &zeros, 1);
    }
    let groups: Vec<&str> = check.split(':').collect();
    let hex = |g: &&str| (1..=4).contains(&g.len()) && g.bytes().all(|b| b.is_ascii_hexdigit());
    if groups.len() != 8 || !groups.iter().all(hex) {
        return Err(BAD);
    }
    let groups: Vec<String> = groups
        .iter()
        .map(|g| format!("{:0>4}", g.to_ascii_lowercase()))
        .collect();
    Ok((groups.join(":"), port))
}

fn check_hostname(address: &str) -> Result<(String, Option<u16>), &'static str> {
    const BAD: &str = "invalid hostname";
    let (name, port) = match address.rsplit_once(':') {
        Some((name, port)) if !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) => {
            (name, Some(parse_port(port)?))
        }
        _ => (address, None),
    };
    let allowed = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_');
    let labels: Vec<&str> = name.split('.').collect();
    let last = labels.len() - 1;
    // A trailing dot (FQDN) is fine; other empty labels and a trailing '-' are not.
    let bad_label = |(i, l): (usize, &&str)| l.ends_with('-') || (l.is_empty() && i != last);
    if name.is_empty() || !name.bytes().all(allowed) || labels.iter().enumerate().any(bad_label) {
        return Err(BAD);
    }
    Ok((name.to_string(), port))
}
