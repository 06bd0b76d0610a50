//! How Kong's `traditional_compatible` router sees a traditional route: the ATC expression and
//! priority Kong 3.10 derives from its fields (`kong/router/transform.lua` `get_expression`
//! 320-431 and `get_priority` 532-638, split by path first, 673-730), so that kingress can match
//! a request with Kong's own engine (atc-router) as Kong does. Checked against Kong's file run
//! under LuaJIT (`tests/kong_router.rs`).
//!
//! Kong's priority is not the bit layout its comment draws: `lshift_uint64` shifts a plain Lua
//! number with 32-bit `bit.lshift` (shift count modulo 32), so the match weight lands at bit 29,
//! the header count at bit 20 and the regex priority at bit 19, each a signed 32-bit value; only
//! the plain-host (bit 60) and regex (bit 51) flags are 64-bit. A 32-bit part that is negative
//! (a route with four or more kinds of match, or a regex priority from 4096, or below 0) has
//! no single value once LuaJIT converts it to `uint64_t`: the interpreter makes it 2^63
//! (`lj_num2u64`, OpenResty LuaJIT 2.1 `src/lj_obj.h` 1013-1022, x86_64), code the JIT
//! compiled sign-extends it, and Kong's router build runs either depending on how hot its loop
//! is (tried with Debian's LuaJIT 2.1.0-beta3 and OpenResty's luajit2 of March 2024: the 58th
//! iteration of a loop switches). [`priority`] gives both; on arm64 the interpreter makes it 0
//! (not modelled).

use serde_json::{Map, Value};

const LOGICAL_OR: &str = " || ";
const LOGICAL_AND: &str = " && ";

/// A route as Kong holds it (its declarative JSON), read for its matching fields.
pub type KongRoute = Map<String, Value>;

/// `is_null`: absent or JSON null.
fn field<'a>(route: &'a KongRoute, name: &str) -> Option<&'a Value> {
    route.get(name).filter(|v| !v.is_null())
}

/// `is_empty_field`: absent, null, or an empty array or object.
fn non_empty<'a>(route: &'a KongRoute, name: &str) -> Option<&'a Value> {
    field(route, name).filter(|v| match v {
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
        _ => true,
    })
}

fn strings(v: Option<&Value>) -> Vec<&str> {
    v.and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

/// `escape_str` (transform.lua 43-59): a raw string unless the value holds `"#`.
fn escape_str(s: &str) -> String {
    if !s.contains("\"#") {
        return format!("r#\"{s}\"#");
    }
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// `split_host_port` (transform.lua 65-100): `host:port` when what follows the first `:` is a
/// number.
pub fn split_host_port(key: &str) -> (&str, Option<u64>) {
    match key.split_once(':') {
        Some((host, port)) => match port.parse::<u64>() {
            Ok(p) => (host, Some(p)),
            Err(_) => (key, None),
        },
        None => (key, None),
    }
}

/// `replace_dashes_lower` (kong/tools/string.lua 383-415): a header name as Kong's router and
/// balancer name its field or variable (`X-Tenant` → `x_tenant`).
pub fn replace_dashes_lower(name: &str) -> String {
    // LuaJIT's `string.lower` maps ASCII letters only.
    name.to_ascii_lowercase().replace('-', "_")
}

/// `is_regex_magic` (kong/router/utils.lua 265-267).
pub fn is_regex(path: &str) -> bool {
    path.starts_with('~')
}

/// `gen_for_field` (transform.lua 136-162).
fn gen_for_field(
    name: &str,
    values: &[&str],
    op: impl Fn(&str) -> &'static str,
    transform: impl Fn(&str, &str) -> String,
) -> Option<String> {
    if values.is_empty() {
        return None;
    }
    let parts: Vec<String> = values
        .iter()
        .map(|v| {
            let op = op(v);
            format!("{name} {op} {}", escape_str(&transform(op, v)))
        })
        .collect();
    Some(format!("({})", parts.join(LOGICAL_OR)))
}

/// `parse_ip_addr` (transform.lua 165-188): an IPv4 CIDR as its network address, computed
/// with 32-bit shifts (a `/0` keeps the address: LuaJIT shifts by 32 modulo 32).
fn parse_ip_addr(ip: &str) -> (String, Option<u32>) {
    let Some((addr, mask)) = ip.split_once('/') else {
        return (ip.to_string(), None);
    };
    let Ok(mask) = mask.parse::<u32>() else {
        return (ip.to_string(), None);
    };
    let Ok(v4) = addr.parse::<std::net::Ipv4Addr>() else {
        return (addr.to_string(), Some(mask));
    };
    let shift = (32u32.wrapping_sub(mask)) & 31;
    let cidr = (u32::from(v4) >> shift) << shift;
    (std::net::Ipv4Addr::from(cidr).to_string(), Some(mask))
}

/// `gen_for_nets` (transform.lua 191-259).
fn gen_for_nets(ip_field: &str, port_field: &str, values: Option<&Value>) -> Option<String> {
    let values = values?.as_array().filter(|a| !a.is_empty())?;
    let mut parts = Vec::new();
    for v in values {
        let v = v.as_object().filter(|o| !o.is_empty())?;
        let ip = v.get("ip").and_then(Value::as_str);
        let port = v.get("port").and_then(Value::as_u64);
        let exp_ip = ip.map(|ip| match parse_ip_addr(ip) {
            (addr, Some(mask)) => format!("{ip_field} in {addr}/{mask}"),
            (addr, None) => format!("{ip_field} == {addr}"),
        });
        let exp_port = port.map(|p| format!("{port_field} == {p}"));
        parts.push(match (exp_ip, exp_port) {
            (None, Some(p)) => p,
            (Some(i), None) => i,
            (Some(i), Some(p)) => format!("({i}{LOGICAL_AND}{p})"),
            (None, None) => String::new(),
        });
    }
    Some(format!("({})", parts.join(LOGICAL_OR)))
}

/// `is_stream_route` (transform.lua 262-278): its first protocol is a stream one.
pub fn is_stream(route: &KongRoute) -> bool {
    matches!(
        strings(field(route, "protocols")).first(),
        Some(&("tcp" | "udp" | "tls" | "tls_passthrough"))
    )
}

/// `get_expression` (transform.lua 320-431). An expressions-flavor route's own expression is
/// returned as it is.
pub fn expression(route: &KongRoute) -> String {
    if let Some(e) = field(route, "expression").and_then(Value::as_str) {
        return e.to_string();
    }
    let mut parts: Vec<String> = Vec::new();
    let snis = strings(non_empty(route, "snis"));
    let sni = gen_for_field(
        "tls.sni",
        &snis,
        |sni| {
            if sni.starts_with('*') {
                "=^"
            } else if sni.ends_with('*') {
                "^="
            } else {
                "=="
            }
        },
        |op, sni| {
            if op == "^=" {
                return sni[..sni.len() - 1].to_string();
            }
            let mut sni = sni;
            if sni.len() > 1 && sni.ends_with('.') {
                sni = &sni[..sni.len() - 1];
            }
            if op == "=^" {
                sni = &sni[1..];
            }
            sni.to_string()
        },
    );
    if let Some(snis) = sni {
        // Kong #6425: SNIs only count for the TLS protocol of the route's kind.
        let protocol = if is_stream(route) { "tls" } else { "https" };
        parts.push(format!(
            "(net.protocol != r#\"{protocol}\"#{LOGICAL_OR}{snis})"
        ));
    }
    parts.extend(gen_for_nets(
        "net.src.ip",
        "net.src.port",
        non_empty(route, "sources"),
    ));
    parts.extend(gen_for_nets(
        "net.dst.ip",
        "net.dst.port",
        non_empty(route, "destinations"),
    ));
    if is_stream(route) {
        return parts.join(LOGICAL_AND);
    }
    let methods = strings(non_empty(route, "methods"));
    parts.extend(gen_for_field(
        "http.method",
        &methods,
        |_| "==",
        |_, m| m.to_string(),
    ));
    let hosts = strings(non_empty(route, "hosts"));
    if !hosts.is_empty() {
        let exprs: Vec<String> = hosts
            .iter()
            .map(|h| {
                let (host, port) = split_host_port(h);
                let (op, host) = if let Some(rest) = host.strip_prefix('*') {
                    ("=^", rest)
                } else if let Some(rest) = host.strip_suffix('*') {
                    ("^=", rest)
                } else {
                    ("==", host)
                };
                let exp = format!("http.host {op} r#\"{host}\"#");
                match port {
                    Some(p) => format!("({exp}{LOGICAL_AND}net.dst.port == {p})"),
                    None => exp,
                }
            })
            .collect();
        parts.push(format!("({})", exprs.join(LOGICAL_OR)));
    }
    let paths = strings(non_empty(route, "paths"));
    parts.extend(gen_for_field(
        "http.path",
        &paths,
        |p| if is_regex(p) { "~" } else { "^=" },
        |op, p| match op {
            // Anchored as the traditional router's regexes, named groups in Rust's syntax.
            "~" => format!("^{}", p[1..].replace("?<", "?P<")),
            _ => p.to_string(),
        },
    ));
    if let Some(headers) = non_empty(route, "headers").and_then(Value::as_object) {
        // Kong walks them in `pairs` order (a Lua hash's); by name here. The order of `&&`
        // terms does not change what matches.
        let groups: Vec<String> = headers
            .iter()
            .map(|(name, values)| {
                let field = format!("any(lower(http.headers.{}))", replace_dashes_lower(name));
                let exprs: Vec<String> = strings(Some(values))
                    .iter()
                    .map(|v| {
                        let (op, v) = match v.strip_prefix("~*") {
                            Some(rest) => ("~", rest),
                            None => ("==", *v),
                        };
                        // `value:lower()`: ASCII only, as LuaJIT's.
                        format!("{field} {op} {}", escape_str(&v.to_ascii_lowercase()))
                    })
                    .collect();
                format!("({})", exprs.join(LOGICAL_OR))
            })
            .collect();
        parts.push(groups.join(LOGICAL_AND));
    }
    parts.join(LOGICAL_AND)
}

/// Kong's priority of a route: what its code gives interpreted and JIT-compiled (equal unless a
/// 32-bit part is negative, see the module's notes).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Priority {
    pub interpreted: u64,
    pub compiled: u64,
}

impl Priority {
    fn exact(v: u64) -> Priority {
        Priority {
            interpreted: v,
            compiled: v,
        }
    }

    /// Whether Kong's value depends on LuaJIT's compilation state.
    pub fn is_ambiguous(&self) -> bool {
        self.interpreted != self.compiled
    }
}

/// The expression Kong's `expressions` router gives a route (Kong 3.10
/// `kong/router/expressions.lua` 29-52): its own expression (or its traditional fields'), with
/// `net.port` read as `net.dst.port` (transform.lua 733-760), and its protocols unless it
/// has only `https`, `tls` or `tls_passthrough` (so that Kong can redirect).
pub fn expressions_flavor_expression(route: &KongRoute) -> String {
    let mut exp = expression(route);
    if exp.contains("net.port") {
        exp = amend_net_port(&exp);
    }
    let protocols = strings(field(route, "protocols"));
    if let [only] = protocols.as_slice()
        && matches!(*only, "https" | "tls" | "tls_passthrough")
    {
        return exp;
    }
    let protocol = gen_for_field(
        "net.protocol",
        &protocols,
        |_| "==",
        |_, p| {
            match p {
                "tls_passthrough" => "tcp",
                "grpc" => "http",
                "grpcs" => "https",
                other => other,
            }
            .to_string()
        },
    );
    match protocol {
        Some(p) => format!("{exp}{LOGICAL_AND}{p}"),
        None => exp,
    }
}

/// `(net\.port)(\s*)([=><!])` → `net.dst.port$2$3` (transform.lua 737-738).
fn amend_net_port(exp: &str) -> String {
    let mut out = String::with_capacity(exp.len() + 8);
    let mut rest = exp;
    while let Some(i) = rest.find("net.port") {
        out.push_str(&rest[..i]);
        let after = &rest[i + "net.port".len()..];
        let spaces = after.len() - after.trim_start().len();
        match after[spaces..].chars().next() {
            Some('=' | '>' | '<' | '!') => {
                out.push_str("net.dst.port");
                out.push_str(&after[..spaces]);
            }
            _ => {
                out.push_str("net.port");
                out.push_str(&after[..spaces]);
            }
        }
        rest = &after[spaces..];
    }
    out.push_str(rest);
    out
}

/// A 32-bit LuaJIT value (`bit.lshift` of a number) converted to `uint64_t` on x86_64: a
/// negative one becomes 2^63 interpreted, its sign extension compiled.
fn u64_of_i32(v: i32, compiled: bool) -> u64 {
    match (v < 0, compiled) {
        (false, _) => v as u64,
        (true, false) => 1 << 63,
        (true, true) => v as i64 as u64,
    }
}

/// LuaJIT's `bit.tobit` of a Lua number (its value modulo 2^32, as a signed 32-bit integer).
fn tobit(n: f64) -> i32 {
    (n.rem_euclid(4_294_967_296.0) as u64 as u32) as i32
}

/// `stream_get_priority` (transform.lua 447-529): 64-bit all along.
fn stream_priority(route: &KongRoute) -> u64 {
    const SNI: u64 = 1 << 61;
    let weight = |name: &str| -> u64 {
        let mut w = 0;
        for v in non_empty(route, name)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(ip) = v.get("ip").and_then(Value::as_str) {
                w |= if ip.contains('/') { 1 } else { 1 << 3 };
            }
            if v.get("port").is_some_and(|p| !p.is_null()) {
                w |= 1 << 2;
            }
        }
        w
    };
    let sources = non_empty(route, "sources").is_some();
    let destinations = non_empty(route, "destinations").is_some();
    let sni = non_empty(route, "snis").is_some() || (sources && destinations);
    (if sni { SNI } else { 0 }) | (weight("sources") << 4) | weight("destinations")
}

/// What `get_priority` weighs of a traditional HTTP route (transform.lua 548-606).
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct Parts {
    /// How many of sources, destinations, methods, hosts, headers, SNIs and paths it has.
    pub match_kinds: u32,
    /// Header names, at most 255.
    pub headers: u32,
    /// Its hosts hold no wildcard.
    pub plain_host_only: bool,
    /// Its paths are regexes.
    pub regex: bool,
    pub regex_priority: f64,
    /// The length of its prefix paths (0 for regexes).
    pub path_length: u32,
}

/// [`Parts`] of a traditional HTTP route of uniform paths.
pub fn parts(route: &KongRoute) -> Parts {
    let present = [
        "sources",
        "destinations",
        "methods",
        "hosts",
        "snis",
        "paths",
    ];
    let mut match_kinds = present
        .iter()
        .filter(|f| non_empty(route, f).is_some())
        .count() as u32;
    let headers = non_empty(route, "headers")
        .and_then(Value::as_object)
        .map_or(0, Map::len);
    if headers > 0 {
        match_kinds += 1;
    }
    // `type(hosts) == "table"`: an empty array counts, an absent or null field does not.
    let plain_host_only = match field(route, "hosts") {
        Some(Value::Array(hosts)) => !hosts
            .iter()
            .any(|h| h.as_str().is_some_and(|h| h.contains('*'))),
        _ => false,
    };
    let paths = strings(non_empty(route, "paths"));
    let regex = paths.first().is_some_and(|p| is_regex(p));
    Parts {
        match_kinds,
        headers: headers.min(255) as u32,
        plain_host_only,
        regex,
        regex_priority: field(route, "regex_priority")
            .and_then(Value::as_f64)
            .unwrap_or(0.0),
        path_length: match paths.first() {
            Some(p) if !regex => p.len() as u32,
            _ => 0,
        },
    }
}

/// `get_priority` (transform.lua 532-638) for one route of uniform paths (see
/// [`split_by_path`]), as Kong on x86_64 computes it.
pub fn priority(route: &KongRoute) -> Priority {
    const EXPRESSION_ONLY: u64 = 0xFF << 56;
    const PLAIN_HOST_ONLY: u64 = 1 << 60;
    const REGEX_URL: u64 = 1 << 51;
    if field(route, "expression").is_some() {
        let own = field(route, "priority")
            .and_then(Value::as_u64)
            .unwrap_or(0);
        return Priority::exact(EXPRESSION_ONLY | own);
    }
    if is_stream(route) {
        return Priority::exact(stream_priority(route));
    }
    let Parts {
        match_kinds,
        headers,
        plain_host_only,
        regex: regex_url,
        regex_priority,
        path_length,
    } = parts(route);
    let (match_weight, headers, uri_length) =
        (match_kinds as i32, headers as i32, path_length as i32);
    let regex_priority = if regex_url { regex_priority } else { 0.0 };
    // The 32-bit parts: `bit.lshift` of a number shifts by the count modulo 32.
    let parts = [
        match_weight.wrapping_shl(61 % 32),
        headers.wrapping_shl(52 % 32),
        tobit(regex_priority).wrapping_shl(19),
        uri_length & 0x7FFFF,
    ];
    let flags = (if plain_host_only { PLAIN_HOST_ONLY } else { 0 })
        | (if regex_url { REGEX_URL } else { 0 });
    let value = |compiled: bool| {
        if flags == 0 {
            // `bit.bor` of numbers only: a 32-bit result, converted when Kong adds the matcher.
            u64_of_i32(parts.iter().fold(0, |a, p| a | p), compiled)
        } else {
            // With a `uint64_t` among them each number is converted on its own.
            parts
                .iter()
                .fold(flags, |a, p| a | u64_of_i32(*p, compiled))
        }
    };
    Priority {
        interpreted: value(false),
        compiled: value(true),
    }
}

/// Kong's namespace for the ids of split routes (transform.lua 644).
const SPLIT_NAMESPACE: uuid::Uuid = uuid::uuid!("7f145bf9-0dce-4f91-98eb-debbce4b9f6b");

/// `split_routes_and_services_by_path` (transform.lua 673-730): a route whose paths mix
/// regexes and prefixes of different lengths becomes one route per group (regexes together,
/// prefixes by length, in order of first appearance), each with the id
/// `uuid_v5(namespace, "<route id>#<group number>")`; any other route stays as it is.
pub fn split_by_path(route: &KongRoute) -> Vec<KongRoute> {
    let paths = strings(non_empty(route, "paths"));
    if paths.len() <= 1 || field(route, "expression").is_some() {
        return vec![route.clone()];
    }
    let mut groups: Vec<(usize, Vec<&str>)> = Vec::new();
    for p in &paths {
        let key = if is_regex(p) { 0 } else { p.len() };
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, g)) => g.push(p),
            None => groups.push((key, vec![p])),
        }
    }
    if groups.len() == 1 {
        return vec![route.clone()];
    }
    let id = route.get("id").and_then(Value::as_str).unwrap_or_default();
    groups
        .into_iter()
        .enumerate()
        .map(|(i, (_, paths))| {
            let mut split = route.clone();
            split.insert("paths".into(), paths.into());
            let name = format!("{id}#{}", i + 1);
            let new_id = uuid::Uuid::new_v5(&SPLIT_NAMESPACE, name.as_bytes());
            split.insert("id".into(), new_id.to_string().into());
            split
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn route(v: Value) -> KongRoute {
        v.as_object().cloned().expect("object")
    }

    #[test]
    fn escaping_follows_kong() {
        assert_eq!(escape_str("/a"), "r#\"/a\"#");
        assert_eq!(escape_str("a\"#b\\"), "\"a\\\"#b\\\\\"");
    }

    #[test]
    fn split_ids_are_kongs_uuid_v5() {
        // Python's uuid.uuid5(UUID("7f145bf9-0dce-4f91-98eb-debbce4b9f6b"), "r1#2") (RFC 4122
        // v5, as resty.jit-uuid's factory_v5).
        let r = route(json!({"id": "r1", "paths": ["/a", "~/b", "/cc"]}));
        let split = split_by_path(&r);
        let ids: Vec<&str> = split.iter().map(|r| r["id"].as_str().unwrap()).collect();
        assert_eq!(ids.len(), 3);
        assert_eq!(ids[1], "97346e0e-c397-5c69-b3c6-ae71dfb670a3");
        assert_eq!(split[1]["paths"], json!(["~/b"]));
    }

    #[test]
    fn expressions_flavor_adds_protocols_and_reads_net_port_as_dst() {
        let r = route(
            json!({"expression": "net.port == 80 && http.path ^= \"/a\"",
            "protocols": ["grpc", "grpcs"], "priority": 7}),
        );
        assert_eq!(
            expressions_flavor_expression(&r),
            "net.dst.port == 80 && http.path ^= \"/a\" && (net.protocol == r#\"http\"# || net.protocol == r#\"https\"#)"
        );
        assert_eq!(priority(&r), Priority::exact((0xFF << 56) | 7));
        let https = route(json!({"expression": "http.host == \"a\"", "protocols": ["https"]}));
        assert_eq!(expressions_flavor_expression(&https), "http.host == \"a\"");
    }

    #[test]
    fn a_32_bit_part_that_turns_negative_becomes_bit_63() {
        // Four kinds of match: 4 << 29 is negative as a signed 32-bit value.
        let r = route(
            json!({"methods": ["GET"], "hosts": ["*.a"], "paths": ["/x"],
            "headers": {"x": ["1"]}}),
        );
        let p = priority(&r);
        assert_eq!(p.interpreted, 1 << 63);
        assert_eq!(p.compiled, 0xFFFF_FFFF_8010_0002);
        let three = route(json!({"methods": ["GET"], "hosts": ["*.a"], "paths": ["/xy"]}));
        assert_eq!(priority(&three), Priority::exact((3 << 29) | 3));
        assert!(!priority(&three).is_ambiguous());
    }
}
