//! One credential Secret → one Kong credential, as KIC v3.5.13 reads it
//! (`internal/dataplane/kongstate/kongstate.go` lines 129-198, `credentials.go` lines 75-272,
//! go-kong v0.78.0 `kong/credentials.go` for the fields): the type from the
//! `konghq.com/credential` label only, every `data` key a string except `redirect_uris`
//! (split on commas), `hash_secret` (a boolean; unparsable: false) and `ttl` (an integer;
//! unparsable: left out), keys matched to the type's fields by name (case-insensitively as a
//! fallback), unknown keys ignored, a key naming a field that is not a string (`created_at`,
//! `tags`, `consumer`, mtls-auth's `ca_certificate`) failing the credential, and the tags the
//! Secret's own.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::api::Secret;
use crate::kong::config::Credential;
use crate::translate::names::{self, ObjectRef};
use crate::translate::secret_values;

pub const LABEL: &str = "konghq.com/credential";

/// KIC's SupportedTypes (`internal/admission/validation/consumers/credentials/vars.go`
/// lines 10-18), with the consumer field each goes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Type {
    KeyAuth,
    BasicAuth,
    HmacAuth,
    Jwt,
    Acl,
    OAuth2,
    MtlsAuth,
}

impl Type {
    fn parse(label: &str) -> Option<Type> {
        Some(match label {
            "key-auth" => Type::KeyAuth,
            "basic-auth" => Type::BasicAuth,
            "hmac-auth" => Type::HmacAuth,
            "jwt" => Type::Jwt,
            "acl" => Type::Acl,
            "oauth2" => Type::OAuth2,
            "mtls-auth" => Type::MtlsAuth,
            _ => return None,
        })
    }

    pub fn label(self) -> &'static str {
        match self {
            Type::KeyAuth => "key-auth",
            Type::BasicAuth => "basic-auth",
            Type::HmacAuth => "hmac-auth",
            Type::Jwt => "jwt",
            Type::Acl => "acl",
            Type::OAuth2 => "oauth2",
            Type::MtlsAuth => "mtls-auth",
        }
    }

    /// go-kong's string fields of the type (besides `id`), and the one KIC requires
    /// (`credentials.go` lines 83-169, in order of its checks).
    fn fields(self) -> (&'static [&'static str], &'static [&'static str]) {
        match self {
            Type::KeyAuth => (&["key"], &["key"]),
            Type::BasicAuth => (&["username", "password"], &["username"]),
            Type::HmacAuth => (&["username", "secret"], &["username"]),
            Type::Jwt => (&["key", "secret", "algorithm", "rsa_public_key"], &["key"]),
            Type::Acl => (&["group"], &["group"]),
            Type::OAuth2 => (
                &["name", "client_id", "client_secret", "client_type"],
                &["client_id", "name"],
            ),
            Type::MtlsAuth => (&["subject_name"], &["subject_name"]),
        }
    }

    /// Fields of other JSON types a `data` key can fill after KIC's conversions.
    fn converted(self) -> &'static [&'static str] {
        match self {
            Type::KeyAuth => &["ttl"],
            Type::OAuth2 => &["hash_secret", "redirect_uris"],
            _ => &[],
        }
    }

    /// go-kong fields no string decodes into: a `data` key naming one fails the credential.
    fn undecodable(self) -> &'static [&'static str] {
        match self {
            Type::MtlsAuth => &["created_at", "tags", "consumer", "ca_certificate"],
            _ => &["created_at", "tags", "consumer"],
        }
    }

    /// The uniqueness index KIC's conflict detector keeps for the type, with its name
    /// (`credentials_conflicts.go` lines 20-54): the field whose value must be unique.
    pub fn unique_field(self) -> Option<(&'static str, &'static str)> {
        match self {
            Type::KeyAuth => Some(("key", "key-auth on 'key'")),
            Type::HmacAuth => Some(("username", "hmac-auth on 'username'")),
            Type::Jwt => Some(("key", "jwt-auth on 'key'")),
            Type::BasicAuth => Some(("username", "basic-auth on 'username'")),
            Type::OAuth2 => Some(("client_id", "oauth2-credentials on 'client_id'")),
            Type::Acl | Type::MtlsAuth => None,
        }
    }
}

/// What became of one credential Secret.
#[derive(Debug)]
pub struct Read {
    /// The credential, or why there is none.
    pub credential: Result<(Type, Credential), String>,
    /// Problems that did not stop it (a value KIC defaulted or left out).
    pub notes: Vec<String>,
}

/// Go's `strconv.ParseBool`.
fn parse_bool(v: &str) -> Option<bool> {
    match v {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

/// Reads a credential Secret (already known to exist).
pub fn read(secret: &Secret) -> Read {
    let mut notes = Vec::new();
    let labels = secret.metadata.labels.as_ref();
    let Some(label) = labels.and_then(|l| l.get(LABEL)) else {
        let legacy = secret_values::texts(secret).contains_key("kongCredType");
        let why = match legacy {
            true => format!(
                "has no {LABEL} label: its kongCredType key is no longer read (KIC removed it in 3.2.0); add the label {LABEL}: <type>"
            ),
            false => format!("has no {LABEL} label: it is not a credential"),
        };
        return Read {
            credential: Err(why),
            notes,
        };
    };
    let Some(kind) = Type::parse(label) else {
        return Read {
            credential: Err(format!(
                "{LABEL}: {label:?} is not a credential type (key-auth, basic-auth, hmac-auth, jwt, acl, oauth2, mtls-auth)"
            )),
            notes,
        };
    };
    let mut values: BTreeMap<&'static str, Value> = BTreeMap::new();
    let (strings, required) = kind.fields();
    let data = secret_values::texts(secret);
    // KIC's conversions apply to every type (kongstate.go lines 150-188).
    let mut converted: BTreeMap<&str, Value> = BTreeMap::new();
    for (key, value) in &data {
        match key.as_str() {
            "redirect_uris" => {
                let uris = value.split(',').map(|s| Value::from(s.to_string()));
                converted.insert("redirect_uris", Value::Array(uris.collect()));
            }
            "hash_secret" => {
                let b = parse_bool(value).unwrap_or_else(|| {
                    // No value in messages: a Secret's values stay out of logs and Events.
                    notes.push("data.hash_secret is not a boolean; false (as KIC)".to_string());
                    false
                });
                converted.insert("hash_secret", Value::Bool(b));
            }
            "ttl" => match value.parse::<i64>() {
                Ok(n) => {
                    converted.insert("ttl", Value::from(n));
                }
                Err(_) => notes.push("data.ttl is not an integer; left out (as KIC)".to_string()),
            },
            _ => {}
        }
    }
    // A key names a field exactly, else case-insensitively (mapstructure's MatchName).
    let find = |field: &str| -> Option<&String> {
        match data.get_key_value(field) {
            Some((k, _)) => Some(k),
            None => data.keys().find(|k| k.eq_ignore_ascii_case(field)),
        }
    };
    for field in kind.undecodable() {
        if let Some(key) = find(field) {
            return Read {
                credential: Err(format!(
                    "data.{key}: the {field} of a {} credential cannot be given as a string",
                    kind.label()
                )),
                notes,
            };
        }
    }
    for field in strings.iter().copied().chain(["id"]) {
        if let Some(key) = find(field) {
            values.insert(field, Value::from(data[key].clone()));
        }
    }
    for field in kind.converted() {
        if let Some(v) = converted.get(field) {
            values.insert(field, v.clone());
        }
    }
    if kind == Type::Jwt {
        let empty = values.get("algorithm").is_none_or(|a| a == "");
        if empty {
            values.insert("algorithm", Value::from("HS256"));
        }
    }
    for field in required {
        if values.get(field).is_none_or(|v| v == "") {
            return Read {
                credential: Err(format!("a {} credential needs data.{field}", kind.label())),
                notes,
            };
        }
    }
    if kind == Type::MtlsAuth {
        return Read {
            credential: Err(
                "mtls-auth credentials are Kong Enterprise (Kong OSS has no mtls_auth_credentials); left out"
                    .to_string(),
            ),
            notes,
        };
    }
    let object = ObjectRef::of(secret);
    let mut credential: Credential = values
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
    let tags = names::tags(&object, secret.metadata.annotations.as_ref());
    credential.insert("tags".into(), Value::from(tags));
    Read {
        credential: Ok((kind, credential)),
        notes,
    }
}
