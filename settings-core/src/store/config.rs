//! Which variables configure the stores, and which sources may set them.
//!
//! Files in the working directory are not trusted to say where credentials go: a `.env` file
//! that set `VAULT_ADDR` would have the user's token (from the environment or `~/.vault-token`)
//! sent to a host of its choosing. So every setting that names a host, a CA or a file to read
//! credentials from is taken from the environment (or code) only, as the Vault and AWS
//! command-line tools read them; credentials themselves, a profile, a region and a namespace may
//! also come from the files. Within each layer `BAO_*` wins over `VAULT_*`; across layers the
//! environment wins.

use zeroize::Zeroizing;

use crate::source::{Origin, RawValue, Source, Vars};

/// The trimmed value of `name`, when it is set to more than white space.
pub(crate) fn var(source: &dyn Source, name: &str) -> Option<Zeroizing<String>> {
    match source.get(name) {
        Some(RawValue::Text(value)) if !value.trim().is_empty() => {
            Some(Zeroizing::new(value.trim().to_owned()))
        }
        _ => None,
    }
}

/// The environment variable that allows `http://` store addresses other than loopback.
pub const ALLOW_INSECURE_HTTP_VAR: &str = "SETTINGS_ALLOW_INSECURE_HTTP";

/// Which store a setting configures.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Store {
    Vault,
    Aws,
}

/// Vault settings of the `BAO_*`/`VAULT_*` pairs that say where the token goes or which file is
/// sent to log in: environment only.
/// `JWT_VARIABLE` names the variable whose value is sent as the JWT: a file may not point it at
/// another secret.
const VAULT_LOCATIONS: &[&str] = &[
    "ADDR",
    "CACERT",
    "JWT_FILE",
    "JWT_VARIABLE",
    "K8S_TOKEN_FILE",
];
/// Vault settings that may come from the files too.
const VAULT_CREDENTIALS: &[&str] = &[
    "TOKEN",
    "NAMESPACE",
    "ROLE_ID",
    "SECRET_ID",
    "ROLE",
    "AUTH_METHOD",
    "AUTH_MOUNT",
    "JWT",
    "JWT_AUDIENCE",
];
/// AWS settings that say where requests go or which files hold credentials: environment only.
const AWS_LOCATIONS: &[&str] = &[
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_SSM",
    "AWS_ENDPOINT_URL_SECRETS_MANAGER",
    "AWS_CA_BUNDLE",
    "AWS_SHARED_CREDENTIALS_FILE",
    "AWS_CONFIG_FILE",
    "AWS_ENDPOINT_URL_STS",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
    "AWS_EC2_METADATA_SERVICE_ENDPOINT",
    // The role a web identity token is traded for: a file choosing it could have the program
    // assume a role of someone else's, and read their secrets as its own.
    "AWS_ROLE_ARN",
];
/// AWS settings that may come from the files too. A region is checked to look like one.
const AWS_CREDENTIALS: &[&str] = &[
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_PROFILE",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_ROLE_SESSION_NAME",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN",
    // A file may only turn instance metadata off: it is on when unset.
    "AWS_EC2_METADATA_DISABLED",
    "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
];

/// The store settings of one load, each under one name (`VAULT_*` for a pair), and the
/// settings that a file tried to give but may not.
pub(crate) struct StoreVars {
    vars: Vars,
    refused: Vec<(Store, String, Origin)>,
}

impl StoreVars {
    /// Reads the store settings: locations from `env` only, the rest from `env` then `all` (the
    /// whole cascade).
    pub fn read(env: &dyn Source, all: &dyn Source) -> StoreVars {
        let mut pairs: Vec<(String, String)> = Vec::new();
        let mut refused = Vec::new();
        let text = |source: &dyn Source, name: &str| var(source, name).map(|v| v.to_string());
        let mut location = |store: Store, names: &[String], canonical: &str| {
            if let Some(value) = names.iter().find_map(|name| text(env, name)) {
                pairs.push((canonical.to_owned(), value));
            } else if let Some(name) = names.iter().find(|name| text(all, name).is_some()) {
                refused.push((store, name.clone(), all.origin(name)));
            }
        };
        let pair = |key: &str| [format!("BAO_{key}"), format!("VAULT_{key}")];
        for key in VAULT_LOCATIONS {
            location(Store::Vault, &pair(key), &format!("VAULT_{key}"));
        }
        for name in AWS_LOCATIONS {
            location(Store::Aws, &[(*name).to_owned()], name);
        }
        // Where GitHub Actions' request token is sent, for a Vault JWT login.
        location(
            Store::Vault,
            &["ACTIONS_ID_TOKEN_REQUEST_URL".to_owned()],
            "ACTIONS_ID_TOKEN_REQUEST_URL",
        );
        for store in [Store::Vault, Store::Aws] {
            location(store, &["HOME".to_owned()], "HOME");
        }
        pairs.dedup_by(|a, b| a.0 == b.0);
        for key in VAULT_CREDENTIALS {
            let names = pair(key);
            let value = names
                .iter()
                .find_map(|name| text(env, name))
                .or_else(|| names.iter().find_map(|name| text(all, name)));
            if let Some(value) = value {
                pairs.push((format!("VAULT_{key}"), value));
            }
        }
        for name in AWS_CREDENTIALS {
            if let Some(value) = text(all, name) {
                pairs.push(((*name).to_owned(), value));
            }
        }
        // The variable that holds a CI job's ID token, as GitLab CI names it for the job.
        let named = pairs
            .iter()
            .find(|(name, _)| name == "VAULT_JWT_VARIABLE")
            .map(|(_, value)| value.clone());
        if let Some(named) = named
            && let Some(value) = text(env, &named).or_else(|| text(all, &named))
        {
            pairs.push((named, value));
        }
        refused.dedup_by(|a, b| a.1 == b.1 && a.0 == b.0);
        StoreVars {
            vars: Vars::new(pairs),
            refused,
        }
    }

    /// The settings, to read a store's configuration from.
    pub fn source(&self) -> &dyn Source {
        &self.vars
    }

    /// Why `store` cannot be configured from these settings: a location set only in a file.
    pub fn refused(&self, store: Store) -> Option<String> {
        let (_, name, origin) = self.refused.iter().find(|(s, ..)| *s == store)?;
        let code = match store {
            Store::Vault => "Loader::vault_config",
            Store::Aws => "Loader::aws_config",
        };
        Some(format!(
            "{name} is set in {origin} but not in the environment, and a file may not choose where \
             credentials are sent or read from: set {name} in the environment, or in code with {code}"
        ))
    }
}

/// Checks a store address: `https://`, or `http://` to a loopback host or when allowed; no user
/// name or password, query or fragment in it. `what` names the setting in messages, which never
/// repeat the address.
pub(crate) fn check_address(addr: &str, allow_http: bool, what: &str) -> Result<String, String> {
    let addr = addr.trim().trim_end_matches('/');
    let (scheme, rest) = addr
        .split_once("://")
        .ok_or_else(|| format!("{what} must be a URL such as https://host:port"))?;
    let authority = rest.split('/').next().unwrap_or_default();
    if authority.is_empty()
        || authority.contains('@')
        || rest.contains(['?', '#'])
        || rest.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(format!(
            "{what} must be a URL such as https://host:port, with no user name, query or fragment"
        ));
    }
    match scheme.to_ascii_lowercase().as_str() {
        "https" => {}
        "http" if allow_http || is_loopback(authority) => {}
        "http" => {
            return Err(format!(
                "{what} uses http:// to a host that is not loopback, which would send credentials \
                 in the clear; use https://, or set {ALLOW_INSECURE_HTTP_VAR}=true in the environment \
                 (StoreOptions::allow_insecure_http in code) to allow it"
            ));
        }
        _ => {
            return Err(format!(
                "{what} must start with https:// (or http:// for loopback)"
            ));
        }
    }
    Ok(addr.to_owned())
}

/// True for `localhost`, `127.x.x.x` and `[::1]`, with or without a port.
fn is_loopback(authority: &str) -> bool {
    let host = match authority.strip_prefix('[') {
        Some(rest) => rest.split(']').next().unwrap_or_default(),
        None => authority
            .rsplit_once(':')
            .map_or(authority, |(host, _)| host),
    };
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Checks that a region looks like one (`eu-west-1`): a DNS label, so that it cannot change the
/// host it is put into. The value is not repeated.
#[cfg(feature = "aws")]
pub(crate) fn check_region(region: &str) -> Result<String, String> {
    let region = region.trim();
    let valid = (1..=63).contains(&region.len())
        && region.starts_with(|c: char| c.is_ascii_lowercase())
        && !region.ends_with('-')
        && region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if valid {
        Ok(region.to_owned())
    } else {
        Err("aws: the region is not a region name such as eu-west-1 (lowercase letters, digits and '-')".to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses() {
        for ok in [
            "https://vault.example:8200/",
            "http://127.0.0.1:8200",
            "http://localhost:8200",
            "http://[::1]:8200",
            "http://127.9.9.9",
        ] {
            assert!(check_address(ok, false, "VAULT_ADDR").is_ok(), "{ok}");
        }
        for bad in [
            "http://10.0.0.1:8200",
            "http://127.0.0.1.evil.example",
            "http://x@127.0.0.1:8200",
            "https://u:p@vault.example",
            "ftp://vault",
            "vault.example:8200",
            "https://vault.example/?x=1",
            "https://",
        ] {
            assert!(check_address(bad, false, "VAULT_ADDR").is_err(), "{bad}");
        }
        assert!(check_address("http://10.0.0.1:8200", true, "VAULT_ADDR").is_ok());
    }

    #[cfg(feature = "aws")]
    #[test]
    fn regions() {
        for ok in ["us-east-1", "eu-central-1", "us-gov-west-1", "cn-north-1"] {
            assert!(check_region(ok).is_ok(), "{ok}");
        }
        for bad in [
            "x@127.0.0.1:18203/",
            "US-EAST-1",
            "",
            "a/b",
            "eu-west-1.",
            "-x",
        ] {
            assert!(check_region(bad).is_err(), "{bad}");
        }
    }
}
