//! Kong's side: declarative config types and the consistent-hashing ring.
