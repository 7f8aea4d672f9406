//! Secrets from stores: HashiCorp Vault / OpenBao, AWS SSM Parameter Store, AWS Secrets Manager.
//!
//! Two ways in:
//! - **References**: a variable's value names where the secret is, `vault:secret/app#KEY`,
//!   `ssm:/app/KEY`, `secretsmanager:app/prod#password`; [`crate::Loader`] resolves every
//!   reference of a load in batches before the fields are read.
//! - **Imports**: `Loader::vault_path`, `Loader::ssm_path` and `Loader::secretsmanager_secret`
//!   read a whole path or secret and offer its keys as variables.
//!
//! Reference parsing lives here and is always compiled, so that a reference to a store whose cargo
//! feature is off is a clear error rather than a literal value.

use std::fmt;

#[cfg(feature = "aws")]
pub mod aws;
#[cfg(any(feature = "vault", feature = "aws"))]
mod client;
#[cfg(any(feature = "vault", feature = "aws"))]
mod config;
#[cfg(any(feature = "vault", feature = "aws"))]
pub(crate) mod http;
#[cfg(any(feature = "vault", feature = "aws"))]
mod resolve;
#[cfg(feature = "vault")]
pub mod vault;

#[cfg(any(feature = "vault", feature = "aws"))]
pub use client::{Client, StoreError};
#[cfg(any(feature = "vault", feature = "aws"))]
pub use config::ALLOW_INSECURE_HTTP_VAR;
#[cfg(feature = "aws")]
pub(crate) use config::check_region;
#[cfg(any(feature = "vault", feature = "aws"))]
pub(crate) use config::{StoreVars, check_address};
#[cfg(any(feature = "vault", feature = "aws"))]
pub use http::StoreOptions;
#[cfg(any(feature = "vault", feature = "aws"))]
pub(crate) use resolve::{Import, Resolver};

/// Where a secret lives, as written in a variable.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Reference {
    /// `vault:<mount>/<path>[?version=N]#<key>`
    Vault {
        /// Mount and path, `secret/myapp/production`.
        path: String,
        /// A pinned KV v2 version.
        version: Option<u64>,
        /// The key in the secret's data.
        key: String,
    },
    /// `ssm:<parameter name>`, with an optional `:version` or `:label` selector.
    Ssm {
        /// `/myapp/production/DATABASE_URL`
        name: String,
    },
    /// `secretsmanager:<secret id>[#<key>]`: without a key, the whole secret string.
    SecretsManager {
        /// Name or ARN of the secret.
        id: String,
        /// A key of the secret's JSON object.
        key: Option<String>,
    },
}

/// A resolved reference: the secret, or why it could not be had.
pub(crate) type Resolved = Result<zeroize::Zeroizing<String>, String>;

impl Reference {
    /// The answer for a reference to a store whose cargo feature is off.
    pub(crate) fn without_feature(&self) -> Resolved {
        let store = self.store();
        let feature = if store == "vault" { "vault" } else { "aws" };
        Err(format!(
            "settings was built without the `{feature}` feature, which {store} references need"
        ))
    }

    /// The store's name, as used in messages and provenance: `vault`, `ssm`, `secretsmanager`.
    pub fn store(&self) -> &'static str {
        match self {
            Reference::Vault { .. } => "vault",
            Reference::Ssm { .. } => "ssm",
            Reference::SecretsManager { .. } => "secretsmanager",
        }
    }

    /// Parses a value. `None` when it is not a reference at all (a value that starts with
    /// [`LITERAL_PREFIX`] never is); `Some(Err)` when it starts like one but is malformed (the
    /// message does not repeat the value).
    pub fn parse(value: &str) -> Option<Result<Reference, String>> {
        if value.starts_with(LITERAL_PREFIX) {
            return None;
        }
        let (scheme, rest) = value.split_once(':')?;
        Some(match scheme {
            "vault" => parse_vault(rest),
            "ssm" => parse_ssm(rest),
            "secretsmanager" => parse_secrets_manager(rest),
            _ => return None,
        })
    }
}

/// What the value of a field turns out to be, by the one rule every entry point applies.
pub(crate) enum FieldValue<'v> {
    /// Not a reference: the value as it is.
    Plain,
    /// Escaped with [`LITERAL_PREFIX`]: the value without it.
    Literal(&'v str),
    /// A reference the field may hold, to resolve.
    Reference(Reference),
    /// A reference the field may not hold, or a malformed one: why.
    Refused(String),
}

/// Applies the reference rule to `value`, read for the field at `path`: a reference resolves
/// only into a secret field, or one marked `allow_reference`.
pub(crate) fn classify<'v>(
    value: &'v str,
    field: &crate::meta::FieldMeta,
    path: &str,
) -> FieldValue<'v> {
    if let Some(literal) = unescape_literal(value) {
        return FieldValue::Literal(literal);
    }
    match Reference::parse(value) {
        None => FieldValue::Plain,
        Some(Err(message)) => FieldValue::Refused(message),
        Some(Ok(_)) if !field.secret && !field.allow_reference => FieldValue::Refused(format!(
            "holds a secret-store reference, but field `{path}` is not secret; mark it \
             #[settings(secret)], or #[settings(allow_reference)] if its value is not a secret"
        )),
        Some(Ok(reference)) => FieldValue::Reference(reference),
    }
}

/// True when `value` may be a reference or an escaped literal: the cheap test that lets a load
/// skip [`classify`] for almost every value.
#[inline]
pub(crate) fn may_be_reference(value: &str) -> bool {
    matches!(value.as_bytes().first(), Some(b'v' | b's' | b'l')) && value.contains(':')
}

/// Written before a value that would otherwise be read as a reference (`literal:ssm:abc` is the
/// value `ssm:abc`): the prefix is removed and the rest taken as it is.
pub const LITERAL_PREFIX: &str = "literal:";

/// The value itself when it is escaped with [`LITERAL_PREFIX`].
pub fn unescape_literal(value: &str) -> Option<&str> {
    value.strip_prefix(LITERAL_PREFIX)
}

/// How to write a value that starts like a reference, for the end of a malformed one's message.
const LITERAL_HINT: &str =
    "a value that is not a reference but starts like one is written with `literal:` before it";

/// Characters of store paths and names: letters, digits and `_ . - /`.
fn path_chars(text: &str) -> bool {
    text.bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-' | b'/'))
}

/// Characters of a key inside a secret: anything printable but white space, `#` and `?`.
fn key_chars(text: &str) -> bool {
    !text.is_empty()
        && text
            .chars()
            .all(|c| !c.is_whitespace() && !c.is_control() && c != '#' && c != '?')
}

fn parse_vault(rest: &str) -> Result<Reference, String> {
    let form =
        || format!("a vault reference is vault:<mount>/<path>[?version=N]#<key>; {LITERAL_HINT}");
    let (location, key) = rest.rsplit_once('#').ok_or_else(form)?;
    let (path, version) = match location.split_once('?') {
        Some((path, query)) => {
            let version = query
                .strip_prefix("version=")
                .and_then(|v| v.parse::<u64>().ok())
                .ok_or_else(form)?;
            (path, Some(version))
        }
        None => (location, None),
    };
    let path = path.trim_matches('/');
    let segments_ok = path
        .split('/')
        .all(|segment| !segment.is_empty() && segment != "." && segment != "..");
    if !path.contains('/') || !segments_ok || !path_chars(path) || !key_chars(key) {
        return Err(form());
    }
    Ok(Reference::Vault {
        path: path.to_owned(),
        version,
        key: key.to_owned(),
    })
}

/// `ssm:/path/NAME`, with an optional `:version` or `:label` selector, or a parameter ARN.
fn parse_ssm(rest: &str) -> Result<Reference, String> {
    let valid = if let Some(arn) = rest.strip_prefix("arn:") {
        // arn:<partition>:ssm:<region>:<account>:parameter/<name>
        let parts: Vec<&str> = arn.splitn(5, ':').collect();
        let lower = |part: &str| {
            part.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        };
        parts.len() == 5
            && !parts[0].is_empty()
            && lower(parts[0])
            && parts[1] == "ssm"
            && lower(parts[2])
            && parts[3].bytes().all(|b| b.is_ascii_digit())
            && parts[4]
                .strip_prefix("parameter/")
                .is_some_and(|name| !name.is_empty() && path_chars(name))
    } else {
        let (name, selector) = match rest.rsplit_once(':') {
            Some((name, selector)) => (name, Some(selector)),
            None => (rest, None),
        };
        name.starts_with('/')
            && name.len() > 1
            && !name.contains("//")
            && path_chars(name)
            && selector.is_none_or(|s| {
                !s.is_empty()
                    && s.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b))
            })
    };
    if valid {
        Ok(Reference::Ssm {
            name: rest.to_owned(),
        })
    } else {
        Err(format!(
            "an ssm reference is ssm:/path/NAME[:version or :label] or a parameter ARN; {LITERAL_HINT}"
        ))
    }
}

/// `secretsmanager:<name or ARN>[#<key>]`.
fn parse_secrets_manager(rest: &str) -> Result<Reference, String> {
    let (id, key) = match rest.split_once('#') {
        Some((id, key)) => (id, Some(key)),
        None => (rest, None),
    };
    let id_ok = !id.is_empty()
        && id.len() <= 2048
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/_+=.@-:".contains(&b));
    if id_ok && key.is_none_or(key_chars) {
        Ok(Reference::SecretsManager {
            id: id.to_owned(),
            key: key.map(str::to_owned),
        })
    } else {
        Err(format!(
            "a secretsmanager reference is secretsmanager:<secret name or ARN>[#<key>]; {LITERAL_HINT}"
        ))
    }
}

impl fmt::Display for Reference {
    /// The provenance form: `vault secret/app#KEY`, `ssm /app/KEY`, `secretsmanager app#key`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reference::Vault { path, version, key } => {
                write!(f, "vault {path}")?;
                if let Some(version) = version {
                    write!(f, "?version={version}")?;
                }
                write!(f, "#{key}")
            }
            Reference::Ssm { name } => write!(f, "ssm {name}"),
            Reference::SecretsManager { id, key: Some(key) } => {
                write!(f, "secretsmanager {id}#{key}")
            }
            Reference::SecretsManager { id, key: None } => write!(f, "secretsmanager {id}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_parse() {
        assert_eq!(
            Reference::parse("vault:secret/myapp/production#DATABASE_URL"),
            Some(Ok(Reference::Vault {
                path: "secret/myapp/production".into(),
                version: None,
                key: "DATABASE_URL".into()
            }))
        );
        assert_eq!(
            Reference::parse("vault:secret/app?version=3#k"),
            Some(Ok(Reference::Vault {
                path: "secret/app".into(),
                version: Some(3),
                key: "k".into()
            }))
        );
        assert_eq!(
            Reference::parse("ssm:/myapp/production/DATABASE_URL"),
            Some(Ok(Reference::Ssm {
                name: "/myapp/production/DATABASE_URL".into()
            }))
        );
        assert_eq!(
            Reference::parse("secretsmanager:myapp/production#password"),
            Some(Ok(Reference::SecretsManager {
                id: "myapp/production".into(),
                key: Some("password".into())
            }))
        );
        assert_eq!(
            Reference::parse("secretsmanager:plain"),
            Some(Ok(Reference::SecretsManager {
                id: "plain".into(),
                key: None
            }))
        );
        assert_eq!(Reference::parse("postgres://u:p@h/db"), None);
        assert_eq!(Reference::parse("no scheme"), None);
        for bad in [
            "vault:secret#k",
            "vault:secret/app",
            "vault:secret/app?version=x#k",
            "vault:secret/../sys#k",
            "vault:secret/a b#k",
            "vault:secret/app#a key",
            "ssm:",
            "ssm:Pa55-SECRET",
            "ssm:/a b",
            "ssm://double",
            "ssm:/x:",
            "ssm:arn:sm\u{f}:ssm::$:parameter/",
            "ssm:arn:aws:ssm:us-east-1:123:parameter/",
            "secretsmanager:#k",
            "secretsmanager:a b",
            "secretsmanager:app#",
        ] {
            assert!(matches!(Reference::parse(bad), Some(Err(_))), "{bad}");
        }
        for ok in [
            "ssm:/app/x:3",
            "ssm:/app/x:prod-label",
            "ssm:arn:aws:ssm:us-east-1:123456789012:parameter/app/x",
            "secretsmanager:arn:aws:secretsmanager:us-east-1:1:secret:app-AbCd#k",
        ] {
            assert!(matches!(Reference::parse(ok), Some(Ok(_))), "{ok}");
        }
        assert_eq!(Reference::parse("literal:ssm:Pa55-SECRET"), None);
        assert_eq!(unescape_literal("literal:ssm:x"), Some("ssm:x"));
    }

    #[test]
    fn provenance_form() {
        let r = Reference::parse("vault:secret/app?version=2#K")
            .unwrap()
            .unwrap();
        assert_eq!(r.to_string(), "vault secret/app?version=2#K");
    }
}
