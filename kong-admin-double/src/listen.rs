//! `proxy_listen` and `stream_listen` as Kong 3.10 parses them at start-up, so `GET /` reports
//! the `proxy_listeners` and `stream_listeners` a controller reads to learn which ports Kong
//! serves (KIC v3.5.13 does, through go-kong v0.78.0 `kong/listeners.go`).
//! Sources: kong/conf_loader/listeners.lua (cited as L), kong/conf_loader/parse.lua:90-99 (the
//! comma split of an `array` setting), kong/tools/ip.lua (address forms).

use serde_json::{Map, Value, json};

/// Kong's defaults (kong/templates/kong_defaults.lua:27-28).
pub const DEFAULT_PROXY_LISTEN: &str =
    "0.0.0.0:8000 reuseport backlog=16384, 0.0.0.0:8443 http2 ssl reuseport backlog=16384";
pub const DEFAULT_STREAM_LISTEN: &str = "off";

// L 16-23, in Kong's order: the order decides the `listener` text's flags.
const HTTP_FLAGS: &[&str] = &[
    "ssl",
    "http2",
    "proxy_protocol",
    "deferred",
    "bind",
    "reuseport",
    "backlog=%d+",
    "ipv6only=on",
    "ipv6only=off",
    "so_keepalive=on",
    "so_keepalive=off",
    "so_keepalive=%w*:%w*:%d*",
];
const STREAM_FLAGS: &[&str] = &[
    "udp",
    "ssl",
    "proxy_protocol",
    "bind",
    "reuseport",
    "backlog=%d+",
    "ipv6only=on",
    "ipv6only=off",
    "so_keepalive=on",
    "so_keepalive=off",
    "so_keepalive=%w*:%w*:%d*",
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Subsystem {
    Http,
    Stream,
}

/// One `*_listen` setting: the array Kong keeps (parse.lua:90-99) and the parsed listeners
/// (L 148-172), as `GET /` shows them under `configuration`.
#[derive(Clone, Debug, PartialEq)]
pub struct Listen {
    pub setting: Vec<String>,
    pub listeners: Vec<Map<String, Value>>,
}

impl Listen {
    /// Parses `value` as Kong parses the setting `name`; the Err is Kong's start-up message.
    pub fn parse(name: &str, value: &str, subsystem: Subsystem) -> Result<Listen, String> {
        // parse.lua:90-99: split on commas, strip, drop empty entries.
        let setting: Vec<String> = value
            .split(',')
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_string)
            .collect();
        let flags = match subsystem {
            Subsystem::Http => HTTP_FLAGS,
            Subsystem::Stream => STREAM_FLAGS,
        };
        let listeners =
            parse_listeners(&setting, flags).map_err(|usage| format!("{name} {usage}"))?;
        Ok(Listen { setting, listeners })
    }

    /// The `configuration` fields: `<name>` and `<name>ers` (L 151). Kong's cjson writes an
    /// empty listener table as `{}` (`stream_listen = off`; cjson's default for empty tables,
    /// kong/tools/cjson.lua sets no array metatable on it).
    pub fn fields(&self, name: &str) -> [(String, Value); 2] {
        let listeners = match self.listeners.is_empty() {
            true => json!({}),
            false => Value::Array(self.listeners.iter().cloned().map(Value::Object).collect()),
        };
        [
            (name.to_string(), json!(self.setting)),
            (format!("{name}ers"), listeners),
        ]
    }
}

// L 93-139.
fn parse_listeners(values: &[String], flags: &[&str]) -> Result<Vec<Map<String, Value>>, String> {
    let usage = format!(
        "must be of form: [off] | <ip>:<port> [{}], [... next entry ...]",
        flags.join("] [")
    );
    let Some(first) = values.first() else {
        return Err(usage);
    };
    if first.trim() == "off" {
        return Ok(Vec::new());
    }
    values
        .iter()
        .map(|entry| {
            let (remainder, mut listener, cleaned) = parse_option_flags(entry, flags);
            let (host, port) = address(&remainder).ok_or_else(|| usage.clone())?;
            let port_text = match &port {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            let text = match cleaned.is_empty() {
                true => format!("{host}:{port_text}"),
                false => format!("{host}:{port_text} {cleaned}"),
            };
            listener.insert("ip".into(), json!(host));
            listener.insert("port".into(), port);
            listener.insert("listener".into(), json!(text));
            Ok(listener)
        })
        .collect()
}

/// L 44-81: each flag found as a whitespace-separated word is removed and recorded `true`
/// (a pattern flag under the word it matched), else recorded `false` under its own name; the
/// cleaned flags (without `http2`, deprecated since nginx 1.25.1) are kept for the `listener`
/// text.
fn parse_option_flags(value: &str, flags: &[&str]) -> (String, Map<String, Value>, String) {
    let mut words: Vec<&str> = value.split_whitespace().collect();
    let mut result = Map::new();
    let mut cleaned: Vec<String> = Vec::new();
    for flag in flags {
        let found: Vec<usize> = (0..words.len())
            .filter(|&i| flag_matches(flag, words[i]))
            .collect();
        match found.first() {
            Some(&i) => {
                let word = words[i].to_string();
                if *flag != "http2" {
                    cleaned.push(word.clone());
                }
                result.insert(word, json!(true));
                for i in found.into_iter().rev() {
                    words.remove(i);
                }
            }
            None => {
                result.insert((*flag).to_string(), json!(false));
            }
        }
    }
    (words.join(" "), result, cleaned.join(" "))
}

/// Lua patterns of L 16-23: `%d+` one or more digits, `%w*` any alphanumerics.
fn flag_matches(flag: &str, word: &str) -> bool {
    match flag {
        "backlog=%d+" => word
            .strip_prefix("backlog=")
            .is_some_and(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit())),
        "so_keepalive=%w*:%w*:%d*" => word.strip_prefix("so_keepalive=").is_some_and(|rest| {
            let parts: Vec<&str> = rest.split(':').collect();
            parts.len() == 3
                && parts[..2]
                    .iter()
                    .all(|p| p.bytes().all(|b| b.is_ascii_alphanumeric()))
                && parts[2].bytes().all(|b| b.is_ascii_digit())
        }),
        literal => word == literal,
    }
}

/// L 112-131 with kong/tools/ip.lua: the host and port of `<ip>:<port>` or `<name>:<port>`.
/// An IP's port is a number (ip.lua:153-158); a name's stays the matched string (L 116).
fn address(remainder: &str) -> Option<(String, Value)> {
    let colons = remainder.matches(':').count();
    let without_colons = remainder.replace(':', "");
    // ip.lua:121-130 hostname_type.
    if colons > 1 {
        // ip.lua:167-184: `[addr]:port`; the address is kept as written (README: Kong
        // expands it).
        let (inner, port) = remainder.strip_prefix('[')?.split_once("]:")?;
        let port = number_port(port)?;
        return Some((format!("[{inner}]"), json!(port)));
    }
    if !without_colons.is_empty()
        && without_colons
            .bytes()
            .all(|b| b.is_ascii_digit() || b == b'.')
    {
        // ip.lua:136-161 normalize_ipv4: four 1-3 digit octets up to 255, then a port.
        let (ip, port) = remainder.split_once(':')?;
        let octets: Vec<&str> = ip.split('.').collect();
        if octets.len() != 4 || octets.iter().any(|o| o.is_empty() || o.len() > 3) {
            return None;
        }
        let octets: Vec<u16> = octets
            .iter()
            .map(|o| o.parse().ok())
            .collect::<Option<_>>()?;
        if octets.iter().any(|o| *o > 255) {
            return None;
        }
        let port = number_port(port)?;
        let host = format!("{}.{}.{}.{}", octets[0], octets[1], octets[2], octets[3]);
        return Some((host, json!(port)));
    }
    // L 116: `(.+):([%d]+)$`, the port left a string.
    let (host, port) = remainder.rsplit_once(':')?;
    if host.is_empty() || port.is_empty() || !port.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((host.to_string(), json!(port)))
}

/// ip.lua:153-158: digits, at most 65535.
fn number_port(text: &str) -> Option<u64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse::<u64>().ok().filter(|p| *p <= 65535)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(value: &str, subsystem: Subsystem) -> Vec<Map<String, Value>> {
        Listen::parse("proxy_listen", value, subsystem)
            .expect("valid")
            .listeners
    }

    /// Kong's default proxy_listen (kong_defaults.lua:27), as L 44-81 and 112-137 build it.
    #[test]
    fn default_proxy_listen() {
        let l = parsed(DEFAULT_PROXY_LISTEN, Subsystem::Http);
        assert_eq!(l.len(), 2);
        assert_eq!(l[0]["ip"], "0.0.0.0");
        assert_eq!(l[0]["port"], 8000);
        assert_eq!(l[0]["ssl"], false);
        assert_eq!(l[0]["reuseport"], true);
        assert_eq!(l[0]["backlog=16384"], true);
        assert!(
            l[0].get("backlog=%d+").is_none(),
            "found: recorded under the word"
        );
        assert_eq!(l[0]["so_keepalive=%w*:%w*:%d*"], false);
        assert_eq!(l[0]["listener"], "0.0.0.0:8000 reuseport backlog=16384");
        assert_eq!(l[1]["port"], 8443);
        assert_eq!(l[1]["ssl"], true);
        assert_eq!(l[1]["http2"], true);
        // http2 is left out of the listener text (L 66-69).
        assert_eq!(l[1]["listener"], "0.0.0.0:8443 ssl reuseport backlog=16384");
    }

    #[test]
    fn stream_listen_flags_and_off() {
        let l = parsed(
            "0.0.0.0:9000, 0.0.0.0:9443 ssl, 0.0.0.0:9053 udp",
            Subsystem::Stream,
        );
        let flags: Vec<(Value, Value, Value)> = l
            .iter()
            .map(|e| (e["port"].clone(), e["ssl"].clone(), e["udp"].clone()))
            .collect();
        assert_eq!(
            flags,
            [
                (json!(9000), json!(false), json!(false)),
                (json!(9443), json!(true), json!(false)),
                (json!(9053), json!(false), json!(true)),
            ]
        );
        assert!(l[0].get("http2").is_none(), "stream has no http2 flag");
        let off = Listen::parse("stream_listen", "off", Subsystem::Stream).expect("off");
        assert!(off.listeners.is_empty());
        assert_eq!(off.fields("stream_listen")[1].1, json!({}));
    }

    #[test]
    fn names_keep_a_string_port_and_ips_are_normalised() {
        let l = parsed("kong.local:8000, 010.0.0.1:80", Subsystem::Http);
        assert_eq!(l[0]["ip"], "kong.local");
        assert_eq!(l[0]["port"], "8000");
        assert_eq!(l[1]["ip"], "10.0.0.1");
        assert_eq!(l[1]["port"], 80);
        let v6 = parsed("[::]:8000 ssl", Subsystem::Http);
        assert_eq!(v6[0]["port"], 8000);
    }

    /// L 93-100, 127-129: the usage message, prefixed with the setting's name (L 156-158).
    #[test]
    fn invalid_entries_are_refused_with_kongs_usage() {
        for bad in [
            "",
            "0.0.0.0",
            "0.0.0.0:99999",
            "300.0.0.1:80",
            "0.0.0.0:80 ssl, :80",
        ] {
            let err = Listen::parse("stream_listen", bad, Subsystem::Stream).expect_err(bad);
            assert_eq!(
                err,
                "stream_listen must be of form: [off] | <ip>:<port> [udp] [ssl] [proxy_protocol] \
                 [bind] [reuseport] [backlog=%d+] [ipv6only=on] [ipv6only=off] [so_keepalive=on] \
                 [so_keepalive=off] [so_keepalive=%w*:%w*:%d*], [... next entry ...]",
                "{bad}"
            );
        }
    }
}
