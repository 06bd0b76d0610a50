//! Ingress routes for Kong's expressions router, as KIC v3.5.13 makes them
//! (`subtranslator/ingress_atc.go` 29-404, `atc_utils.go` 9-64): one expression per route
//! group (its host and the `konghq.com/host-aliases`, its paths, then the
//! `konghq.com/headers.*`, `methods` and `snis` annotations) and a priority encoding what
//! Kong's traditional router would weigh (match fields, plain hosts, headers, regex paths,
//! path length), with the bits of routes from Ingresses on top.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use regex::Regex;

use crate::translate::routes::atc::{Matcher, VALID_HOST, VALID_SNI, header_field};

/// KIC's `FromResourceKindPriorityShiftBits` and `ResourceKindBitsIngress` (`atc_utils.go`
/// 9-22).
const INGRESS_KIND_BITS: u64 = 3 << 44;

/// `validMethods` (`atc_utils.go`).
static VALID_METHOD: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\A[A-Z]+$").expect("KIC's method pattern"));

/// One path of a route group: as the Ingress has it (runs of `/` collapsed, empty as `/`), and
/// its pathType.
pub struct IngressPath {
    pub path: String,
    pub path_type: String,
}

/// The expression and priority of a route group of host `host` and paths `paths`, with the
/// Ingress's `annotations`.
pub fn route(
    host: &str,
    paths: &[IngressPath],
    annotations: Option<&BTreeMap<String, String>>,
) -> (String, u64) {
    let empty = BTreeMap::new();
    let a = annotations.unwrap_or(&empty);
    let regex_prefix = match a.get("konghq.com/regex-prefix").map(String::as_str) {
        None | Some("") => "/~",
        Some(p) => p,
    };
    let hosts = hosts(host, a);
    let mut all = Vec::new();
    if !hosts.is_empty() {
        all.push(host_matcher(&hosts));
    }
    all.push(Matcher::Or(
        paths
            .iter()
            .filter_map(|p| path_matcher(p, regex_prefix))
            .collect(),
    ));
    let headers = crate::translate::annotations::headers(a);
    if let Some(h) = &headers {
        all.push(header_matcher(h));
    }
    let methods = comma_list(a.get("konghq.com/methods"), true);
    if !methods.is_empty() {
        all.push(Matcher::Or(
            methods
                .iter()
                .filter(|m| VALID_METHOD.is_match(m))
                .map(|m| Matcher::string("http.method", "==", m))
                .collect(),
        ));
    }
    let snis = comma_list(a.get("konghq.com/snis"), false);
    if !snis.is_empty() {
        all.push(Matcher::Or(
            snis.iter()
                .filter(|s| VALID_SNI.is_match(s))
                .map(|s| Matcher::string("tls.sni", "==", s))
                .collect(),
        ));
    }
    let expression = Matcher::And(all).render();
    let priority = priority(paths, regex_prefix, &hosts, &headers, &methods, &snis);
    (expression, priority)
}

/// The expression of the catch-all (a default backend): `http.path ^= "/"`, priority 0
/// (`translate_ingress.go` 243-267, `IngressDefaultBackendPriority`).
pub fn catch_all() -> (String, u64) {
    (Matcher::string("http.path", "^=", "/").render(), 0)
}

/// The rule's host, then the host aliases (KIC's `ExtractHostAliases`: none when empty).
fn hosts(host: &str, a: &BTreeMap<String, String>) -> Vec<String> {
    let mut out = Vec::new();
    if !host.is_empty() {
        out.push(host.to_string());
    }
    if let Some(v) = a.get("konghq.com/host-aliases").filter(|v| !v.is_empty()) {
        out.extend(comma_list(Some(v), false));
    }
    out
}

/// KIC's `extractCommaDelimitedStrings`: split on `,`, trimmed, empty ones dropped.
fn comma_list(v: Option<&String>, upper: bool) -> Vec<String> {
    v.map(|v| {
        v.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| match upper {
                true => s.to_uppercase(),
                false => s.to_string(),
            })
            .collect()
    })
    .unwrap_or_default()
}

/// `hostMatcherFromHosts` (`atc_utils.go` 48-64).
fn host_matcher(hosts: &[String]) -> Matcher {
    Matcher::Or(
        hosts
            .iter()
            .filter(|h| VALID_HOST.is_match(h))
            .map(|h| match h.strip_prefix('*') {
                Some(suffix) => Matcher::string("http.host", "=^", suffix),
                None => Matcher::string("http.host", "==", h),
            })
            .collect(),
    )
}

/// `pathMatcherFromIngressPath` (`ingress_atc.go` 108-149).
fn path_matcher(p: &IngressPath, regex_prefix: &str) -> Option<Matcher> {
    let path = p.path.as_str();
    Some(match p.path_type.as_str() {
        "Prefix" => {
            let base = path.trim_matches('/');
            if base.is_empty() {
                Matcher::string("http.path", "^=", "/")
            } else {
                Matcher::Or(vec![
                    Matcher::string("http.path", "==", &format!("/{base}")),
                    Matcher::string("http.path", "^=", &format!("/{base}/")),
                ])
            }
        }
        "Exact" => Matcher::string(
            "http.path",
            "==",
            &format!("/{}", path.trim_start_matches('/')),
        ),
        "ImplementationSpecific" => {
            if path.is_empty() {
                Matcher::string("http.path", "^=", "/")
            } else if let Some(rest) = path.strip_prefix(regex_prefix) {
                let regex = match rest {
                    "" => "^/".to_string(),
                    r if r.starts_with('^') => r.to_string(),
                    r => format!("^{r}"),
                };
                Matcher::string("http.path", "~", &regex)
            } else {
                Matcher::string("http.path", "^=", path)
            }
        }
        _ => return None,
    })
}

/// `headerMatcherFromHeaders` (`ingress_atc.go` 152-192): names sorted, `Host` skipped, values
/// of a header any-of (`~*` a regex), headers all-of.
fn header_matcher(headers: &BTreeMap<String, Vec<String>>) -> Matcher {
    let mut all = Vec::new();
    for (name, values) in headers {
        if values.is_empty() {
            continue;
        }
        let field = header_field(name);
        if field == "http.headers.host" {
            continue;
        }
        all.push(Matcher::Or(
            values
                .iter()
                .map(|v| match v.strip_prefix("~*") {
                    Some(re) => Matcher::string(field.clone(), "~", re),
                    None => Matcher::string(field.clone(), "==", v),
                })
                .collect(),
        ));
    }
    Matcher::And(all)
}

/// `calculateIngressRoutePriorityTraits` and `EncodeToPriority` (`ingress_atc.go` 218-404).
fn priority(
    paths: &[IngressPath],
    regex_prefix: &str,
    hosts: &[String],
    headers: &Option<BTreeMap<String, Vec<String>>>,
    methods: &[String],
    snis: &[String],
) -> u64 {
    let mut fields = 0u64;
    let mut regex = false;
    let mut longest = 0usize;
    if !paths.is_empty() {
        fields += 1;
    }
    for p in paths {
        let path = p.path.as_str();
        let len = match p.path_type.as_str() {
            "Exact" => {
                regex = true;
                1 + path.trim_start_matches('/').len()
            }
            "Prefix" => {
                regex = true;
                match path.trim_matches('/') {
                    "" => 1,
                    base => 2 + base.len(),
                }
            }
            "ImplementationSpecific" => match path.strip_prefix(regex_prefix) {
                Some(rest) => {
                    regex = true;
                    rest.len()
                }
                None => path.len(),
            },
            _ => 0,
        };
        longest = longest.max(len);
    }
    let plain_hosts = !hosts.is_empty() && hosts.iter().all(|h| !h.starts_with('*'));
    if !hosts.is_empty() {
        fields += 1;
    }
    let header_count = headers.as_ref().map_or(0, BTreeMap::len);
    if headers.is_some() {
        fields += 1;
    }
    if !methods.is_empty() {
        fields += 1;
    }
    if !snis.is_empty() {
        fields += 1;
    }
    let mut p = longest.min((1 << 16) - 1) as u64;
    if regex {
        p += 1 << 16;
    }
    if plain_hosts {
        p += 1 << 32;
    }
    p += (header_count.min(255) as u64) << 33;
    p += fields << 41;
    p + INGRESS_KIND_BITS
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(path: &str, path_type: &str) -> IngressPath {
        IngressPath {
            path: path.into(),
            path_type: path_type.into(),
        }
    }

    /// Values from KIC's golden corpus (expression-routes-on variants).
    #[test]
    fn priorities_of_kics_goldens() {
        let (e, p) = route("example.com", &[path("/whatever", "Exact")], None);
        assert_eq!(
            e,
            r#"(http.host == "example.com") && (http.path == "/whatever")"#
        );
        assert_eq!(p, 57178899677193);
        let (_, p) = route("example.com", &[path("/", "ImplementationSpecific")], None);
        assert_eq!(p, 57178899611649);
    }
}
