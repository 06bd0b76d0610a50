//! Problems found during translation: collected, never thrown, so one bad object
//! leaves the rest of the configuration intact.

use std::fmt;

use serde::Serialize;

use super::names::ObjectRef;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The object (or part of it) was left out of the Kong configuration.
    Error,
    /// Translated, but Kong will not do what the object seems to ask for.
    Warning,
    /// Translated as asked; worth knowing (e.g. limits kingress adjusted on request).
    Info,
}

/// Fixed categories, usable as metric labels and Event reasons.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum Reason {
    ServiceNotFound,
    PortNotFound,
    PolicyNotFound,
    PolicyConflict,
    InvalidAnnotation,
    UnsupportedMatch,
    /// An HTTPRoute filter KIC (and so kingress) cannot translate.
    UnsupportedFilter,
    InvalidBackend,
    SecretNotFound,
    InvalidPolicy,
    NotAttached,
    WeightRounded,
    RingCapacity,
    Excluded,
    PluginNotFound,
    /// A `<namespace>:<name>` plugin no ReferenceGrant opens.
    PluginNotPermitted,
    InvalidPlugin,
    RateLimitPerReplica,
    Ignored,
    /// A value the apiserver (offline, nothing else checks) or Kong would refuse.
    InvalidValue,
    /// A host whose certificate another Secret provides (one certificate per SNI in Kong).
    SniConflict,
    /// A TLS Secret whose tls.crt and tls.key are not a key pair.
    InvalidCertificate,
    /// A credential Secret KIC (and so kingress) cannot make a credential of.
    InvalidCredential,
    /// Two credentials with one value Kong keeps unique.
    CredentialConflict,
    /// A kind KIC deprecates (TCPIngress, UDPIngress).
    Deprecated,
    /// Kong entities other than KIC's, where KIC's would be refused by Kong.
    DiffersFromKic,
    /// A route Kong's router would refuse (its expression): left out.
    InvalidRoute,
}

impl Reason {
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::ServiceNotFound => "ServiceNotFound",
            Reason::PortNotFound => "PortNotFound",
            Reason::PolicyNotFound => "PolicyNotFound",
            Reason::PolicyConflict => "PolicyConflict",
            Reason::InvalidAnnotation => "InvalidAnnotation",
            Reason::UnsupportedMatch => "UnsupportedMatch",
            Reason::UnsupportedFilter => "UnsupportedFilter",
            Reason::InvalidBackend => "InvalidBackend",
            Reason::SecretNotFound => "SecretNotFound",
            Reason::InvalidPolicy => "InvalidPolicy",
            Reason::NotAttached => "NotAttached",
            Reason::WeightRounded => "WeightRounded",
            Reason::RingCapacity => "RingCapacity",
            Reason::Excluded => "Excluded",
            Reason::PluginNotFound => "PluginNotFound",
            Reason::PluginNotPermitted => "PluginNotPermitted",
            Reason::InvalidPlugin => "InvalidPlugin",
            Reason::RateLimitPerReplica => "RateLimitPerReplica",
            Reason::Ignored => "Ignored",
            Reason::InvalidValue => "InvalidValue",
            Reason::SniConflict => "SniConflict",
            Reason::InvalidCertificate => "InvalidCertificate",
            Reason::InvalidCredential => "InvalidCredential",
            Reason::CredentialConflict => "CredentialConflict",
            Reason::Deprecated => "Deprecated",
            Reason::DiffersFromKic => "DiffersFromKic",
            Reason::InvalidRoute => "InvalidRoute",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Problem {
    pub severity: Severity,
    pub reason: Reason,
    pub object: ObjectRef,
    /// JSON path of the offending field in the object, e.g. `spec.rules[0].backendRefs[1].port`.
    pub field: Option<String>,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sev = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        };
        write!(f, "{sev}: {}", self.object)?;
        if let Some(field) = &self.field {
            write!(f, ": {field}")?;
        }
        write!(f, ": {}", self.message)
    }
}

/// Collects problems; sorted and de-duplicated at the end for deterministic output.
#[derive(Debug, Default)]
pub struct Problems(Vec<Problem>);

impl Problems {
    pub fn error(
        &mut self,
        object: &ObjectRef,
        reason: Reason,
        field: Option<String>,
        message: String,
    ) {
        self.push(Severity::Error, object, reason, field, message);
    }

    pub fn warning(
        &mut self,
        object: &ObjectRef,
        reason: Reason,
        field: Option<String>,
        message: String,
    ) {
        self.push(Severity::Warning, object, reason, field, message);
    }

    pub fn info(
        &mut self,
        object: &ObjectRef,
        reason: Reason,
        field: Option<String>,
        message: String,
    ) {
        self.push(Severity::Info, object, reason, field, message);
    }

    fn push(
        &mut self,
        severity: Severity,
        object: &ObjectRef,
        reason: Reason,
        field: Option<String>,
        message: String,
    ) {
        self.0.push(Problem {
            severity,
            reason,
            object: object.clone(),
            field,
            message,
        });
    }

    /// Adds problems found earlier (e.g. once per translation, for the whole cluster).
    pub fn extend(&mut self, problems: &[Problem]) {
        self.0.extend_from_slice(problems);
    }

    pub fn into_sorted(mut self) -> Vec<Problem> {
        self.0.sort();
        self.0.dedup();
        self.0
    }
}
