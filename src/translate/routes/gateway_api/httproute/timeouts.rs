//! HTTPRoute rule `timeouts.backendRequest` → the Kong service's connect, read and write
//! timeouts, as KIC v3.5.13 applies them (`subtranslator/httproute.go` 281-310): over the
//! rules sharing the service in KIC's order, the last rule whose backendRequest differs from
//! Kong's default (60 s) wins; a rule without one changes nothing. The Services'
//! `konghq.com/*-timeout` annotations apply over it (KIC's translator: tests/kic-oracle/
//! httproute-timeouts).
//!
//! Beyond KIC: `0s` means "no timeout" (Gateway API: implementations that cannot disable it
//! use their longest), which KIC sends as 0 and Kong refuses (services' timeouts are 1 to
//! 2^31-2 ms, Kong 3.10 `kong/db/schema/entities/services.lua` 11-14); kingress sends Kong's
//! longest, and clamps longer durations to it.

use gateway_api::apis::standard::httproutes::HttpRouteRules;

use crate::translate::Context;
use crate::translate::names::ObjectRef;
use crate::translate::problems::Reason;

/// Kong's default service timeouts (KIC's `DefaultServiceTimeout`).
const DEFAULT_MS: i64 = 60_000;
/// The longest timeout Kong takes on a service.
const KONG_MAX_MS: i64 = (1 << 31) - 2;

/// Milliseconds of a Gateway API Duration (`^([0-9]{1,5}(h|m|s|ms)){1,4}$`, a subset of Go's
/// `time.ParseDuration`), truncated as Go's `Duration.Milliseconds`; None when malformed.
pub fn parse_ms(text: &str) -> Option<i64> {
    let mut total: i64 = 0;
    let mut rest = text;
    let mut parts = 0;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 || digits > 5 {
            return None;
        }
        let n: i64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let (unit_ms, len) = if rest.starts_with("ms") {
            (1, 2)
        } else {
            match rest.as_bytes().first()? {
                b'h' => (3_600_000, 1),
                b'm' => (60_000, 1),
                b's' => (1_000, 1),
                _ => return None,
            }
        };
        rest = &rest[len..];
        total += n * unit_ms;
        parts += 1;
    }
    (parts > 0 && parts <= 4).then_some(total)
}

/// The timeout the rules sharing a Kong service give it, if any: `rules` are (HTTPRoute, rule,
/// its index) in KIC's order; problems are reported on the HTTPRoute.
pub fn backend_request_ms(
    ctx: &mut Context<'_>,
    rules: &[(&ObjectRef, &HttpRouteRules, usize)],
) -> Option<i64> {
    let mut applied = None;
    for &(obj, rule, i) in rules {
        let Some(text) = rule
            .timeouts
            .as_ref()
            .and_then(|t| t.backend_request.as_deref())
        else {
            continue;
        };
        let field = Some(format!("spec.rules[{i}].timeouts.backendRequest"));
        let Some(ms) = parse_ms(text) else {
            ctx.problems.error(
                obj,
                Reason::InvalidValue,
                field,
                format!("{text:?} is not a Gateway API duration (e.g. 10s, 1m30s, 500ms); ignored"),
            );
            continue;
        };
        if ms == DEFAULT_MS {
            continue;
        }
        let ms = match ms {
            0 => {
                ctx.problems.info(
                    obj,
                    Reason::DiffersFromKic,
                    field,
                    format!("0s disables the timeout; Kong cannot, so its longest ({KONG_MAX_MS} ms) is used (KIC sends 0, which Kong refuses)"),
                );
                KONG_MAX_MS
            }
            ms if ms > KONG_MAX_MS => {
                ctx.problems.warning(
                    obj,
                    Reason::InvalidValue,
                    field,
                    format!("{text} is longer than Kong's longest timeout; {KONG_MAX_MS} ms used"),
                );
                KONG_MAX_MS
            }
            ms => ms,
        };
        applied = Some(ms);
    }
    applied
}

#[cfg(test)]
mod tests {
    use super::parse_ms;

    #[test]
    fn gateway_durations_as_go_parses_them() {
        assert_eq!(parse_ms("10s"), Some(10_000));
        assert_eq!(parse_ms("1h30m"), Some(5_400_000));
        assert_eq!(parse_ms("500ms"), Some(500));
        assert_eq!(parse_ms("1m1s1ms"), Some(61_001));
        assert_eq!(parse_ms("0s"), Some(0));
        for bad in ["", "10", "1.5s", "s", "123456s", "1d", "1s1s1s1s1s", "-1s"] {
            assert_eq!(parse_ms(bad), None, "{bad}");
        }
    }
}
