//! Kong admin API test double.
