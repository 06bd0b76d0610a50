//! What each Kong replica's configuration is translated for: its Kong version (KIC's version
//! gates, e.g. the `redirect` plugin from 3.9) and its router flavor (expression routes or
//! traditional ones). Replicas that report the same version and flavor share one config; a
//! rolling upgrade or a cluster whose replicas run different flavors gets one config per
//! [`Profile`], each pushed only to the replicas it was made for.
//!
//! KIC v3.5.13 refuses to start unless the replicas it finds at start-up agree on version and
//! flavor (`internal/manager/utils/kongconfig/root.go` 33-43) and then translates once for
//! every replica, those found later included (`internal/manager/run.go` 142-223).

use std::collections::BTreeMap;
use std::sync::Arc;

use super::pusher::Desired;
use crate::kong::router_flavor::RouterFlavor;
use crate::kong::version::KongVersion;
use crate::translate::Options;

/// What one config is translated for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Profile {
    pub version: KongVersion,
    /// `traditional_compatible` or `expressions`: `traditional` routes are the same as
    /// `traditional_compatible` ones, so those replicas share a config.
    pub flavor: RouterFlavor,
}

impl Profile {
    pub fn new(version: KongVersion, flavor: RouterFlavor) -> Profile {
        let flavor = match flavor {
            RouterFlavor::Expressions => RouterFlavor::Expressions,
            RouterFlavor::Traditional | RouterFlavor::TraditionalCompatible => {
                RouterFlavor::TraditionalCompatible
            }
        };
        Profile { version, flavor }
    }

    /// `options` set up for this profile.
    pub fn apply(&self, options: &mut Options) {
        options.kong_version = self.version;
        options.router_flavor = self.flavor;
    }
}

/// What the replicas reported on their `GET /`, and the choices made from it.
pub struct Reports<'a> {
    pub versions: &'a BTreeMap<String, KongVersion>,
    pub flavors: &'a BTreeMap<String, RouterFlavor>,
    /// `--kong-version`, which replaces every reported version.
    pub fixed: Option<KongVersion>,
    /// What translation uses before any replica reports (the translate options').
    pub default: Profile,
}

impl Reports<'_> {
    /// The profile of replicas that reported nothing usable (their `GET /` failed), whose
    /// facts drive status: the oldest version (which every replica's newer Kong accepts too,
    /// bar removals) and the flavor all share, `traditional_compatible` when they disagree
    /// (every flavor accepts its routes: Kong 3.10 `kong/db/schema/entities/routes.lua`
    /// 41-137).
    pub fn primary(&self) -> Profile {
        let version = self
            .fixed
            .or_else(|| self.versions.values().min().copied())
            .unwrap_or(self.default.version);
        let mut flavors = self
            .flavors
            .values()
            .map(|f| Profile::new(version, *f).flavor);
        let flavor = match flavors.next() {
            None => self.default.flavor,
            Some(first) if flavors.all(|f| f == first) => first,
            Some(_) => RouterFlavor::TraditionalCompatible,
        };
        Profile::new(version, flavor)
    }

    /// The profile of one replica that reported on its `GET /`.
    pub fn replica(&self, replica: &str, primary: Profile) -> Profile {
        of_replica(
            self.versions.get(replica).copied(),
            self.flavors.get(replica).copied(),
            self.fixed,
            primary,
        )
    }
}

/// A replica's profile from what it reported; what it did not report is the primary's.
fn of_replica(
    version: Option<KongVersion>,
    flavor: Option<RouterFlavor>,
    fixed: Option<KongVersion>,
    primary: Profile,
) -> Profile {
    Profile::new(
        fixed.or(version).unwrap_or(primary.version),
        flavor.unwrap_or(primary.flavor),
    )
}

/// A replica's `GET /` as its pusher read it: version and `router_flavor`, unparsed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RootReport {
    pub version: Option<String>,
    pub router_flavor: Option<String>,
}

/// The configs of one translation, by profile: what the pushers choose from.
#[derive(Debug)]
pub struct Configs {
    primary: Profile,
    fixed: Option<KongVersion>,
    by_profile: BTreeMap<Profile, Arc<Desired>>,
    /// One config for every replica, whatever it reports.
    uniform: bool,
}

impl Configs {
    /// `by_profile` must hold `primary`'s config.
    pub fn new(
        primary: Profile,
        fixed: Option<KongVersion>,
        by_profile: BTreeMap<Profile, Arc<Desired>>,
    ) -> Configs {
        debug_assert!(by_profile.contains_key(&primary));
        Configs {
            primary,
            fixed,
            by_profile,
            uniform: false,
        }
    }

    /// The same config for every replica.
    pub fn uniform(desired: Arc<Desired>) -> Configs {
        let primary = Profile::new(KongVersion::default(), RouterFlavor::default());
        Configs {
            primary,
            fixed: None,
            by_profile: BTreeMap::from([(primary, desired)]),
            uniform: true,
        }
    }

    pub fn primary(&self) -> Option<&Arc<Desired>> {
        self.by_profile.get(&self.primary)
    }

    /// The config for a replica whose `GET /` said `root` (None: it could not be read, the
    /// primary config); None while its profile's config is not translated yet (the
    /// translation follows the pusher's report).
    pub fn for_replica(&self, root: Option<&RootReport>) -> Option<&Arc<Desired>> {
        let Some(root) = root.filter(|_| !self.uniform) else {
            return self.primary();
        };
        let profile = of_replica(
            root.version.as_deref().and_then(|v| v.parse().ok()),
            root.router_flavor.as_deref().and_then(|f| f.parse().ok()),
            self.fixed,
            self.primary,
        );
        self.by_profile.get(&profile)
    }

    /// Each profile's config identity.
    pub fn ids(&self) -> impl Iterator<Item = (Profile, &str)> {
        self.by_profile.iter().map(|(p, d)| (*p, d.id()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const V38: KongVersion = KongVersion::new(3, 8, 0);
    const V310: KongVersion = KongVersion::new(3, 10, 0);

    fn reports<'a>(
        versions: &'a BTreeMap<String, KongVersion>,
        flavors: &'a BTreeMap<String, RouterFlavor>,
        fixed: Option<KongVersion>,
    ) -> Reports<'a> {
        Reports {
            versions,
            flavors,
            fixed,
            default: Profile::new(V310, RouterFlavor::TraditionalCompatible),
        }
    }

    fn desired(text: &str) -> Arc<Desired> {
        Arc::new(Desired::new(text.to_string()))
    }

    #[test]
    fn primary_is_the_oldest_version_and_the_shared_flavor() {
        let versions = BTreeMap::from([("a".into(), V310), ("b".into(), V38)]);
        let flavors = BTreeMap::from([
            ("a".into(), RouterFlavor::Expressions),
            ("b".into(), RouterFlavor::Expressions),
        ]);
        let r = reports(&versions, &flavors, None);
        assert_eq!(r.primary(), Profile::new(V38, RouterFlavor::Expressions));
        assert_eq!(
            r.replica("a", r.primary()),
            Profile::new(V310, RouterFlavor::Expressions)
        );
        // --kong-version replaces what replicas report.
        let fixed = reports(&versions, &flavors, Some(V310));
        assert_eq!(
            fixed.replica("b", fixed.primary()),
            Profile::new(V310, RouterFlavor::Expressions)
        );
    }

    #[test]
    fn disagreeing_flavors_make_a_traditional_primary_and_traditional_shares_it() {
        let versions = BTreeMap::new();
        let flavors = BTreeMap::from([
            ("a".into(), RouterFlavor::Expressions),
            ("b".into(), RouterFlavor::Traditional),
        ]);
        let r = reports(&versions, &flavors, None);
        let primary = r.primary();
        assert_eq!(
            primary,
            Profile::new(V310, RouterFlavor::TraditionalCompatible)
        );
        assert_eq!(r.replica("b", primary), primary);
        assert_eq!(r.replica("a", primary).flavor, RouterFlavor::Expressions);
        // Nothing reported: the translate options' profile.
        let none = BTreeMap::new();
        assert_eq!(reports(&none, &BTreeMap::new(), None).primary(), primary);
    }

    #[test]
    fn a_pusher_finds_its_profile_or_waits_for_it() {
        let primary = Profile::new(V38, RouterFlavor::TraditionalCompatible);
        let newer = Profile::new(V310, RouterFlavor::TraditionalCompatible);
        let configs = Configs::new(
            primary,
            None,
            BTreeMap::from([(primary, desired("{}")), (newer, desired("{\"a\":1}"))]),
        );
        let root = |v: &str, f: &str| RootReport {
            version: Some(v.into()),
            router_flavor: Some(f.into()),
        };
        let pick = |r: Option<&RootReport>| configs.for_replica(r).map(|d| d.id().to_string());
        let primary_id = configs.primary().map(|d| d.id().to_string());
        assert_eq!(pick(None), primary_id, "GET / unread: the primary");
        assert_eq!(
            pick(Some(&root("3.10.0", "traditional"))),
            Some(desired("{\"a\":1}").id().to_string())
        );
        // Enterprise versions carry a fourth segment and a suffix.
        assert_eq!(
            pick(Some(&root(
                "3.8.1.0-enterprise-edition",
                "traditional_compatible"
            ))),
            None,
            "3.8.1 is not translated for yet"
        );
        assert_eq!(pick(Some(&root("3.8.0", "expressions"))), None);
        let unreadable = RootReport::default();
        assert_eq!(pick(Some(&unreadable)), primary_id);
        let uniform = Configs::uniform(desired("{}"));
        assert!(
            uniform
                .for_replica(Some(&root("3.4.0", "expressions")))
                .is_some()
        );
    }
}
