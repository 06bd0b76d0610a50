//! The value Kong's balancer hashes for a request, and where it lands.

use serde::Serialize;
use serde_json::Value;

use crate::kong::route_transform::replace_dashes_lower;
use crate::kong::router_fields::{HttpRequest, uri_args};

/// The value Kong's balancer hashes for the request (Kong 3.10 `kong/runloop/balancer/init.lua`
/// 107-190 `get_value_to_hash`, `hash_fallback` when the first is missing) and the target of
/// that value on Kong's wheel.
#[derive(Debug, Serialize)]
pub struct Hashing {
    /// The `hash_on` (or `hash_fallback`) that gave the value.
    pub hash_on: String,
    /// What Kong hashes (`""` when nothing is found, as Kong does).
    pub key: String,
    pub target: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// [`Hashing`] for the upstream `name` of `config`; None when Kong does not hash for it.
pub(super) fn hashing(config: &Value, name: &str, request: &HttpRequest) -> Option<Hashing> {
    let path = std::path::Path::new("the Kong config");
    let upstream =
        super::super::kong_config::upstream_in(config, path, name, &mut Vec::new()).ok()?;
    let on = upstream.hash_on.as_deref().unwrap_or("none");
    if on == "none" {
        return None;
    }
    let header = |name: &Option<String>| -> Option<String> {
        let wanted = replace_dashes_lower(name.as_deref()?);
        // nginx joins repeated headers with ", " (`$http_<name>`, nginx 1.23+).
        let values: Vec<&str> = request
            .headers
            .iter()
            .filter(|(n, _)| replace_dashes_lower(n) == wanted)
            .map(|(_, v)| v.as_str())
            .collect();
        (!values.is_empty()).then(|| values.join(", "))
    };
    // `get_query_arg` (Kong 3.10 kong/runloop/balancer/init.lua 62-101): the decoded value,
    // `true` for an argument without `=`, several values sorted and joined with ",".
    let query = |name: &Option<String>| -> Option<String> {
        let wanted = name.as_deref()?;
        let mut values: Vec<String> = uri_args(&request.uri)
            .into_iter()
            .filter(|(n, _)| n == wanted)
            .map(|(_, v)| v.unwrap_or_else(|| "true".to_string()))
            .collect();
        match values.len() {
            0 => None,
            1 => values.pop(),
            _ => {
                values.sort();
                Some(values.join(","))
            }
        }
    };
    let cookie = || -> Option<String> {
        let wanted = upstream.hash_on_cookie.as_deref()?;
        request
            .headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case("cookie"))
            .flat_map(|(_, v)| v.split(';'))
            .find_map(|c| {
                let (n, v) = c.trim().split_once('=')?;
                (n == wanted).then(|| v.to_string())
            })
    };
    let mut note = None;
    let mut value = |on: &str, header_name: &Option<String>, arg: &Option<String>| match on {
        "header" => header(header_name),
        "query_arg" => query(arg),
        "ip" => match request.client_ip {
            Some(ip) => Some(ip.to_string()),
            None => {
                note = Some("hash_on ip: give --client-ip".to_string());
                None
            }
        },
        // nginx's `$uri`: decoded, dot segments resolved, slashes merged.
        "path" => Some(
            String::from_utf8_lossy(&crate::kong::uri::router_path(request.uri.as_bytes()))
                .into_owned(),
        ),
        "cookie" => {
            let found = cookie();
            if found.is_none() {
                note = Some(
                    "no such cookie: Kong makes one up (a random UUID), so the target is any"
                        .into(),
                );
            }
            found
        }
        "consumer" => {
            note = Some("hash_on consumer: the consumer is known only once authenticated".into());
            None
        }
        other => {
            note = Some(format!("hash_on {other}: not modelled here"));
            None
        }
    };
    let (used, key) = match value(on, &upstream.hash_on_header, &upstream.hash_on_query_arg) {
        Some(v) => (on.to_string(), v),
        None => {
            let fallback = upstream.hash_fallback.as_deref().unwrap_or("none");
            match fallback {
                "none" => (on.to_string(), String::new()),
                f => match value(
                    f,
                    &upstream.hash_fallback_header,
                    &upstream.hash_fallback_query_arg,
                ) {
                    Some(v) => (f.to_string(), v),
                    None => (f.to_string(), String::new()),
                },
            }
        }
    };
    let analysis = super::super::analyse(&upstream, std::slice::from_ref(&key));
    Some(Hashing {
        hash_on: used,
        target: analysis.choices.into_iter().next().and_then(|(_, t)| t),
        key,
        note,
    })
}
