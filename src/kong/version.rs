//! Kong's version, as its admin API reports it (`GET /` `version`, e.g. `3.10.0` or
//! `3.4.3.12-enterprise-edition`) and as KIC v3.5.13 gates features on it
//! (`internal/versions/versions.go` 8-14).

use std::fmt;

/// `major.minor.patch`; further segments and suffixes are ignored.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct KongVersion {
    pub major: u32,
    pub minor: u32,
    pub patch: u32,
}

impl KongVersion {
    pub const fn new(major: u32, minor: u32, patch: u32) -> Self {
        KongVersion {
            major,
            minor,
            patch,
        }
    }
}

/// The newest Kong OSS release kingress validates against (the admin API double's schemas).
pub const DEFAULT: KongVersion = KongVersion::new(3, 10, 0);
/// KIC's `KongRedirectPluginCutoff` (`internal/versions/versions.go` 11, `run.go` 209): from
/// it, HTTPRoute RequestRedirect filters become Kong's `redirect` plugin.
pub const REDIRECT_PLUGIN: KongVersion = KongVersion::new(3, 9, 0);
/// KIC's `KongStickySessionsCutoff`: the `sticky-sessions` algorithm.
pub const STICKY_SESSIONS: KongVersion = KongVersion::new(3, 11, 0);

impl Default for KongVersion {
    fn default() -> Self {
        DEFAULT
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{0:?} is not a Kong version (major.minor[.patch])")]
pub struct VersionError(String);

impl std::str::FromStr for KongVersion {
    type Err = VersionError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let core = s.trim().split(['-', '+', ' ']).next().unwrap_or_default();
        let mut parts = core.split('.').map(str::parse::<u32>);
        let err = || VersionError(s.to_string());
        let major = parts.next().and_then(Result::ok).ok_or_else(err)?;
        let minor = parts.next().and_then(Result::ok).ok_or_else(err)?;
        let patch = match parts.next() {
            None => 0,
            Some(p) => p.map_err(|_| err())?,
        };
        Ok(KongVersion::new(major, minor, patch))
    }
}

impl fmt::Display for KongVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_what_kong_reports() {
        assert_eq!("3.10.0".parse(), Ok(KongVersion::new(3, 10, 0)));
        assert_eq!(
            "3.4.3.12-enterprise-edition".parse(),
            Ok(KongVersion::new(3, 4, 3))
        );
        assert_eq!("3.11".parse(), Ok(KongVersion::new(3, 11, 0)));
        assert!("three".parse::<KongVersion>().is_err());
        assert!(KongVersion::new(3, 10, 9) < STICKY_SESSIONS);
    }
}
