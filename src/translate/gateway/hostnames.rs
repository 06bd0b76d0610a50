//! An HTTPRoute's hostnames as its listeners narrow them, as KIC v3.5.13 does before
//! translating a route (`internal/controllers/gateway/route_utils.go` lines 594-689,
//! `filterHostnames`): a route without hostnames takes the union of its listeners' (none, so
//! every host, when one of them has no hostname); a route's hostname is kept when a listener
//! has no hostname or its wildcard covers it, replaced by the listener's when the route's
//! wildcard covers that, and dropped otherwise; a route left with none is not attached
//! (`NoMatchingListenerHostname`). Without this a route on a listener for `only.example.com`
//! would answer for every host on the proxy.

use gateway_api::apis::standard::gateways::GatewayListeners;
use kube::ResourceExt;

use super::attachment;
use super::route::{GatewayRoute, ParentRef};
use crate::snapshot::Snapshot;

/// KIC's `util.HostnamesMatch` (internal/util/hostname.go lines 21-68): whether `b` matches
/// `a` used as a mask, a `*` label of `a` standing for one or more labels of `b`.
pub fn hostnames_match(a: &str, b: &str) -> bool {
    let a: Vec<&str> = a.split('.').collect();
    let b: Vec<&str> = b.split('.').collect();
    let (mut i, mut j) = (0, 0);
    let mut wildcard = false;
    while i < a.len() && j < b.len() {
        if wildcard {
            match (j..b.len()).find(|&k| a[i] == b[k]) {
                Some(k) => j = k,
                None => return false,
            }
        }
        if a[i] == "*" {
            wildcard = true;
        } else {
            wildcard = false;
            if a[i] != b[j] {
                return false;
            }
        }
        i += 1;
        j += 1;
    }
    b.len() - j == a.len() - i
}

/// Whether two hostnames have a common match (either as the other's mask).
pub fn intersect(a: &str, b: &str) -> bool {
    hostnames_match(a, b) || hostnames_match(b, a)
}

/// Listeners whose hostname counts for HTTP routing (KIC's `isListenerHostnameEffective`).
fn effective(l: &GatewayListeners) -> bool {
    matches!(l.protocol.as_str(), "HTTP" | "HTTPS" | "TLS")
}

/// The listeners a route's hostnames are narrowed by: of each parentRef to one of our Gateways,
/// the listener it names, or every listener that takes the route.
fn listeners<'a, 'r>(
    snapshot: &'a Snapshot,
    route: &'r GatewayRoute<'_>,
    controller_name: &str,
) -> Vec<(&'r ParentRef, &'a GatewayListeners)> {
    let route_ns = route.namespace();
    let mut out = Vec::new();
    for (parent, gateway) in attachment::our_parents(snapshot, route, controller_name) {
        let gw_ns = gateway.namespace().unwrap_or_default();
        for l in attachment::named_listeners(parent, gateway) {
            if attachment::listener_admits(snapshot, l, &gw_ns, route.kind, route_ns) {
                out.push((parent, l));
            }
        }
    }
    out
}

/// The route's hostnames narrowed by its listeners, or None when none is left (the route is
/// then not attached).
pub fn effective_hostnames(
    snapshot: &Snapshot,
    route: &GatewayRoute<'_>,
    hostnames: &[String],
    controller_name: &str,
) -> Option<Vec<String>> {
    let listeners = listeners(snapshot, route, controller_name);
    if hostnames.is_empty() {
        let mut union: Vec<String> = Vec::new();
        for (parent, l) in &listeners {
            // A parentRef without a section counts only listeners whose hostname is effective.
            if parent.section_name.is_none() && !effective(l) {
                continue;
            }
            match l.hostname.as_deref().filter(|h| !h.is_empty()) {
                None => return Some(Vec::new()),
                Some(h) => {
                    if !union.iter().any(|u| u == h) {
                        union.push(h.to_string());
                    }
                }
            }
        }
        return Some(union);
    }
    let mut out: Vec<String> = Vec::new();
    for host in hostnames {
        let narrowed = listeners
            .iter()
            .find_map(|(_, l)| match l.hostname.as_deref() {
                None | Some("") => Some(host.clone()),
                Some(lh) if hostnames_match(lh, host) => Some(host.clone()),
                Some(lh) if hostnames_match(host, lh) => Some(lh.to_string()),
                Some(_) => None,
            });
        if let Some(h) = narrowed {
            out.push(h);
        }
    }
    (!out.is_empty()).then_some(out)
}

/// Whether a listener and the route's hostnames intersect (a listener or a route
/// without hostnames intersects every other).
pub fn listener_matches(l: &GatewayListeners, hostnames: &[String]) -> bool {
    match l.hostname.as_deref().filter(|h| !h.is_empty()) {
        None => true,
        Some(lh) => hostnames.is_empty() || hostnames.iter().any(|h| intersect(lh, h)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kic_hostname_masks() {
        for (a, b, want) in [
            ("foo.example.com", "foo.example.com", true),
            ("*.example.com", "foo.example.com", true),
            ("*.example.com", "a.b.example.com", true),
            ("*.example.com", "example.com", false),
            ("foo.example.com", "*.example.com", false),
            ("*.example.com", "*.example.com", true),
            ("bar.example.com", "foo.example.com", false),
            ("example.com", "foo.example.com", false),
        ] {
            assert_eq!(hostnames_match(a, b), want, "{a} masks {b}");
        }
        assert!(intersect("foo.example.com", "*.example.com"));
        assert!(!intersect("foo.example.com", "*.other.com"));
    }
}
