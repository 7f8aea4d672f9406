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
mod config;
#[cfg(any(feature = "vault", feature = "aws"))]
pub(crate) mod http;
#[cfg(any(feature = "vault", feature = "aws"))]
mod resolve;
#[cfg(feature = "vault")]
pub mod vault;

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

impl Reference {
    /// The store's name, as used in messages and provenance: `vault`, `ssm`, `secretsmanager`.
    pub fn store(&self) -> &'static str {
        match self {
            Reference::Vault { .. } => "vault",
            Reference::Ssm { .. } => "ssm",
            Reference::SecretsManager { .. } => "secretsmanager",
        }
    }

    /// Parses a value. `None` when it is not a reference at all; `Some(Err)` when it starts like
    /// one but is malformed (the message does not repeat the value).
    pub fn parse(value: &str) -> Option<Result<Reference, String>> {
        let (scheme, rest) = value.split_once(':')?;
        Some(match scheme {
            "vault" => parse_vault(rest),
            "ssm" => {
                if rest.is_empty() {
                    Err("an ssm reference needs a parameter name: ssm:/path/NAME".to_owned())
                } else {
                    Ok(Reference::Ssm {
                        name: rest.to_owned(),
                    })
                }
            }
            "secretsmanager" => {
                let (id, key) = match rest.split_once('#') {
                    Some((id, key)) => (id, Some(key.to_owned())),
                    None => (rest, None),
                };
                if id.is_empty() || key.as_deref() == Some("") {
                    Err(
                        "a secretsmanager reference is secretsmanager:<secret id>[#<key>]"
                            .to_owned(),
                    )
                } else {
                    Ok(Reference::SecretsManager {
                        id: id.to_owned(),
                        key,
                    })
                }
            }
            _ => return None,
        })
    }
}

fn parse_vault(rest: &str) -> Result<Reference, String> {
    const FORM: &str = "a vault reference is vault:<mount>/<path>[?version=N]#<key>";
    let (location, key) = rest.rsplit_once('#').ok_or_else(|| FORM.to_owned())?;
    let (path, version) = match location.split_once('?') {
        Some((path, query)) => {
            let version = query
                .strip_prefix("version=")
                .and_then(|v| v.parse::<u64>().ok())
                .ok_or_else(|| FORM.to_owned())?;
            (path, Some(version))
        }
        None => (location, None),
    };
    let path = path.trim_matches('/');
    if path.is_empty() || !path.contains('/') || key.is_empty() {
        return Err(FORM.to_owned());
    }
    Ok(Reference::Vault {
        path: path.to_owned(),
        version,
        key: key.to_owned(),
    })
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
            "ssm:",
            "secretsmanager:#k",
        ] {
            assert!(matches!(Reference::parse(bad), Some(Err(_))), "{bad}");
        }
    }

    #[test]
    fn provenance_form() {
        let r = Reference::parse("vault:secret/app?version=2#K")
            .unwrap()
            .unwrap();
        assert_eq!(r.to_string(), "vault secret/app?version=2#K");
    }
}
