//! Which Kong release the double answers as. Kong 3.10 is the default and what every schema
//! here is; Kong 3.8 differs from it, for what the double validates, only where listed below
//! (a diff of 3.8.0 and 3.10.0 over the entity, typedef, declarative and modelled plugin
//! schemas: `git diff 3.8.0 22246ef28c -- kong/db/schema kong/plugins/<modelled>
//! kong/constants.lua`; every other file the double follows is the same in both).

/// A Kong OSS release.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub enum KongRelease {
    /// Kong 3.8.0.
    V3_8,
    /// Kong 3.10.0.
    #[default]
    V3_10,
}

impl KongRelease {
    /// The `version` its `GET /` reports (kong/meta.lua).
    pub fn version(self) -> &'static str {
        match self {
            KongRelease::V3_8 => "3.8.0",
            KongRelease::V3_10 => "3.10.0",
        }
    }

    /// Whether the release bundles plugin `name`: `redirect` is new in 3.9 (Kong 3.9.0
    /// kong/constants.lua:46; absent from 3.8.0's list, lines 1-46).
    pub fn bundles(self, name: &str) -> bool {
        !(name == "redirect" && self < KongRelease::V3_10)
    }

    /// Kong 3.8 gives certificates' nested `snis` no id or `certificate` when it validates a
    /// config a second time with the full schema (3.8.0
    /// kong/db/schema/others/declarative_config.lua `generate_ids` and
    /// `populate_ids_for_validation` skip every field of the parent's schema, the transient
    /// `snis` included; fixed in 3.9.0 by Kong PR #14082, CHANGELOG "a valid declarative config
    /// with certificate/sni entities cannot be loaded in dbless mode"), so each such sni fails
    /// the full pass's required `certificate` unless it names it itself (as KIC and kingress
    /// write them).
    pub(crate) fn loses_nested_snis(self) -> bool {
        self == KongRelease::V3_8
    }
}
