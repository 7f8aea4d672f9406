//! Resolving references in batches, and importing whole paths, against the configured stores.

use std::collections::HashMap;

use zeroize::Zeroizing;

use super::config::{Store, StoreVars};
use super::http::StoreOptions;
use super::{Reference, Resolved};

/// A path or secret whose keys become variables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Import {
    #[cfg(feature = "vault")]
    Vault(String),
    #[cfg(feature = "aws")]
    Ssm(String),
    #[cfg(feature = "aws")]
    SecretsManager(String),
}

impl Import {
    /// The provenance prefix of the import's values: `vault secret/app`.
    pub fn location(&self) -> String {
        match self {
            #[cfg(feature = "vault")]
            Import::Vault(path) => format!("vault {path}"),
            #[cfg(feature = "aws")]
            Import::Ssm(path) => format!("ssm {path}"),
            #[cfg(feature = "aws")]
            Import::SecretsManager(id) => format!("secretsmanager {id}"),
        }
    }
}

/// Connects to each store on first use, with the configuration given in code or found in the
/// variables of the load.
pub(crate) struct Resolver {
    config: StoreVars,
    options: StoreOptions,
    #[cfg(feature = "vault")]
    vault_config: Option<super::vault::VaultConfig>,
    #[cfg(feature = "vault")]
    vault: std::sync::OnceLock<Result<super::vault::Vault, String>>,
    /// For a client that lives as long as a watch: keep Vault leases (revoking them on drop
    /// when true).
    #[cfg(feature = "vault")]
    keep_leases: Option<bool>,
    #[cfg(feature = "aws")]
    aws_config: Option<super::aws::AwsConfig>,
    #[cfg(feature = "aws")]
    aws: std::sync::OnceLock<Result<super::aws::Aws, String>>,
}

impl Resolver {
    pub fn new(
        config: StoreVars,
        options: StoreOptions,
        #[cfg(feature = "vault")] vault_config: Option<super::vault::VaultConfig>,
        #[cfg(feature = "aws")] aws_config: Option<super::aws::AwsConfig>,
    ) -> Self {
        Resolver {
            config,
            options,
            #[cfg(feature = "vault")]
            vault_config,
            #[cfg(feature = "vault")]
            vault: std::sync::OnceLock::new(),
            #[cfg(feature = "vault")]
            keep_leases: None,
            #[cfg(feature = "aws")]
            aws_config,
            #[cfg(feature = "aws")]
            aws: std::sync::OnceLock::new(),
        }
    }

    #[cfg(feature = "vault")]
    fn vault(&self) -> Result<&super::vault::Vault, String> {
        self.vault
            .get_or_init(|| {
                let config = match &self.vault_config {
                    Some(config) => config.clone(),
                    None => match self.config.refused(Store::Vault) {
                        Some(refused) => return Err(format!("vault: {refused}")),
                        None => super::vault::VaultConfig::from_source(self.config.source()),
                    },
                };
                let vault = super::vault::Vault::connect(&config, &self.options)?;
                if let Some(revoke_on_drop) = self.keep_leases {
                    vault.keep_leases(revoke_on_drop)?;
                }
                Ok(vault)
            })
            .as_ref()
            .map_err(Clone::clone)
    }

    #[cfg(feature = "aws")]
    fn aws(&self) -> Result<&super::aws::Aws, String> {
        self.aws
            .get_or_init(|| {
                let config = match &self.aws_config {
                    Some(config) => Ok(config.clone()),
                    None => match self.config.refused(Store::Aws) {
                        Some(refused) => Err(format!("aws: {refused}")),
                        None => super::aws::AwsConfig::from_source(self.config.source()),
                    },
                };
                config.and_then(|config| super::aws::Aws::connect(&config, &self.options))
            })
            .as_ref()
            .map_err(Clone::clone)
    }

    /// Makes the Vault client keep its leases for as long as this resolver lives (a watch's),
    /// renewing them in [`Resolver::upkeep`] and revoking them when dropped if `revoke_on_drop`.
    #[cfg(feature = "vault")]
    pub fn keeping_leases(mut self, revoke_on_drop: bool) -> Self {
        self.keep_leases = Some(revoke_on_drop);
        self
    }

    /// The lease of the value of `reference`, if it came with one. Asks nothing.
    pub fn lease(&self, reference: &Reference) -> Option<crate::output::report::Lease> {
        match reference {
            #[cfg(feature = "vault")]
            Reference::Vault { path, .. } => {
                let vault = self.vault.get()?.as_ref().ok()?;
                vault
                    .lease_of(path)
                    .map(|view| crate::output::report::Lease {
                        remaining: view.remaining,
                        renewable: view.renewable,
                    })
            }
            _ => None,
        }
    }

    /// Renews the Vault token and leases that are due; whether the settings must be read again,
    /// and when to come back.
    #[cfg(all(feature = "vault", feature = "watch"))]
    pub fn upkeep(&self) -> super::vault::Upkeep {
        match self.vault.get() {
            Some(Ok(vault)) => vault.upkeep(),
            _ => super::vault::Upkeep::default(),
        }
    }

    /// When the Vault token or a lease is next due for renewal; asks nothing.
    #[cfg(all(feature = "vault", feature = "watch"))]
    pub fn next_due(&self) -> Option<std::time::Instant> {
        match self.vault.get() {
            Some(Ok(vault)) => vault.next_due(),
            _ => None,
        }
    }

    /// Revokes the leases that newer reads replaced; the problems, if any.
    #[cfg(all(feature = "vault", feature = "watch"))]
    pub fn revoke_retired(&self) -> Vec<String> {
        match self.vault.get() {
            Some(Ok(vault)) => vault.revoke_retired(),
            _ => Vec::new(),
        }
    }

    /// Resolves every reference, in as few requests as each store allows: one read per Vault
    /// path, SSM names 10 per call, Secrets Manager secrets 20 per call. The answer is in the
    /// order of `references`.
    pub fn resolve(&self, references: &[Reference]) -> Vec<Resolved> {
        let mut answers: Vec<Option<Resolved>> = vec![None; references.len()];
        #[cfg(feature = "vault")]
        self.resolve_vault(references, &mut answers);
        #[cfg(feature = "aws")]
        self.resolve_ssm(references, &mut answers);
        #[cfg(feature = "aws")]
        self.resolve_secrets_manager(references, &mut answers);
        answers
            .into_iter()
            .zip(references)
            .map(|(answer, reference)| answer.unwrap_or_else(|| reference.without_feature()))
            .collect()
    }

    #[cfg(feature = "vault")]
    fn resolve_vault(&self, references: &[Reference], answers: &mut [Option<Resolved>]) {
        let mut by_path: HashMap<(&str, Option<u64>), Vec<usize>> = HashMap::new();
        for (i, reference) in references.iter().enumerate() {
            if let Reference::Vault { path, version, .. } = reference {
                by_path
                    .entry((path.as_str(), *version))
                    .or_default()
                    .push(i);
            }
        }
        for ((path, version), indices) in by_path {
            let read = self.vault().and_then(|vault| vault.read(path, version));
            for i in indices {
                let Reference::Vault { key, .. } = &references[i] else {
                    continue;
                };
                answers[i] = Some(match &read {
                    Ok(data) => data
                        .get(key)
                        .cloned()
                        .ok_or_else(|| format!("the secret at {path} has no key {key}")),
                    Err(err) => Err(err.clone()),
                });
            }
        }
    }

    #[cfg(feature = "aws")]
    fn resolve_ssm(&self, references: &[Reference], answers: &mut [Option<Resolved>]) {
        let name_of = ssm_name;
        let found = in_batches(references, name_of, 10, |batch| {
            let values = self.aws()?.get_parameters(batch)?;
            Ok(batch
                .iter()
                .map(|name| {
                    values
                        .get(*name)
                        .cloned()
                        .ok_or_else(|| "not found (ParameterNotFound)".to_owned())
                })
                .collect())
        });
        for (i, reference) in references.iter().enumerate() {
            if let Some(name) = name_of(reference) {
                answers[i] = found.get(name).cloned();
            }
        }
    }

    #[cfg(feature = "aws")]
    fn resolve_secrets_manager(&self, references: &[Reference], answers: &mut [Option<Resolved>]) {
        let id_of = secret_id;
        let found = in_batches(references, id_of, 20, |batch| {
            let mut values = self.aws()?.batch_get_secrets(batch)?;
            Ok(batch
                .iter()
                .map(|id| {
                    values
                        .remove(*id)
                        .unwrap_or_else(|| Err("not found (ResourceNotFoundException)".to_owned()))
                })
                .collect())
        });
        for (i, reference) in references.iter().enumerate() {
            if let Reference::SecretsManager { id, key } = reference {
                let secret = found.get(id.as_str()).cloned();
                answers[i] = secret.map(|secret| match key {
                    None => secret,
                    Some(key) => secret.and_then(|text| json_key(&text, key)),
                });
            }
        }
    }

    /// Reads a whole path or secret: `(variable, value)` pairs.
    pub fn import(&self, import: &Import) -> Result<Vec<(String, Zeroizing<String>)>, String> {
        match import {
            #[cfg(feature = "vault")]
            Import::Vault(path) => {
                let data = self.vault()?.read(path, None)?;
                Ok(data
                    .into_iter()
                    .map(|(key, value)| (variable_of(&key), value))
                    .collect())
            }
            #[cfg(feature = "aws")]
            Import::Ssm(path) => {
                let prefix = format!("{}/", path.trim_end_matches('/'));
                let values = self.aws()?.get_parameters_by_path(path)?;
                Ok(values
                    .into_iter()
                    .map(|(name, value)| {
                        (
                            variable_of(name.strip_prefix(&prefix).unwrap_or(&name)),
                            value,
                        )
                    })
                    .collect())
            }
            #[cfg(feature = "aws")]
            Import::SecretsManager(id) => {
                let mut answer = self.aws()?.batch_get_secrets(&[id.as_str()])?;
                let text = answer
                    .remove(id.as_str())
                    .unwrap_or_else(|| Err("not found (ResourceNotFoundException)".to_owned()))?;
                // A JSON object gives one variable per key; any other string is one variable,
                // named after the last segment of the secret's name.
                let map = match serde_json::from_str::<serde_json::Value>(&text) {
                    Ok(serde_json::Value::Object(map)) => map,
                    Ok(mut other) => {
                        crate::wiped::wipe_json(&mut other);
                        let name = id.rsplit(['/', ':']).next().unwrap_or(id);
                        return Ok(vec![(variable_of(name), text)]);
                    }
                    Err(_) => {
                        let name = id.rsplit(['/', ':']).next().unwrap_or(id);
                        return Ok(vec![(variable_of(name), text)]);
                    }
                };
                Ok(map
                    .into_iter()
                    .map(|(key, value)| {
                        let text = match value {
                            serde_json::Value::String(text) => text,
                            mut other => {
                                let text = other.to_string();
                                crate::wiped::wipe_json(&mut other);
                                text
                            }
                        };
                        (variable_of(&key), Zeroizing::new(text))
                    })
                    .collect())
            }
        }
    }
}

#[cfg(feature = "aws")]
fn ssm_name(reference: &Reference) -> Option<&str> {
    match reference {
        Reference::Ssm { name } => Some(name),
        _ => None,
    }
}

#[cfg(feature = "aws")]
fn secret_id(reference: &Reference) -> Option<&str> {
    match reference {
        Reference::SecretsManager { id, .. } => Some(id),
        _ => None,
    }
}

/// Fetches the distinct keys that `key_of` picks from `references`, `size` per call of `fetch`
/// (which answers each key of its batch, in order); a failed call fails every key of its batch.
#[cfg(feature = "aws")]
fn in_batches<'r>(
    references: &'r [Reference],
    key_of: impl Fn(&'r Reference) -> Option<&'r str>,
    size: usize,
    fetch: impl Fn(&[&'r str]) -> Result<Vec<Resolved>, String>,
) -> HashMap<&'r str, Resolved> {
    let mut keys: Vec<&str> = references.iter().filter_map(key_of).collect();
    keys.sort_unstable();
    keys.dedup();
    let mut found = HashMap::new();
    for batch in keys.chunks(size) {
        match fetch(batch) {
            Ok(values) => found.extend(batch.iter().copied().zip(values)),
            Err(err) => found.extend(batch.iter().map(|key| (*key, Err(err.clone())))),
        }
    }
    found
}

/// The value of `key` in a secret string that holds a JSON object.
#[cfg(feature = "aws")]
fn json_key(text: &str, key: &str) -> Resolved {
    let mut json: serde_json::Value = serde_json::from_str(text)
        .map_err(|_| format!("the secret is not a JSON object, so it has no key {key}"))?;
    let found = match json.get_mut(key) {
        Some(serde_json::Value::String(value)) => Ok(Zeroizing::new(std::mem::take(value))),
        Some(serde_json::Value::Null) | None => Err(format!("the secret has no key {key}")),
        Some(other) => Ok(Zeroizing::new(other.to_string())),
    };
    crate::wiped::wipe_json(&mut json);
    found
}

/// The variable an imported key becomes: `db/url` under an SSM path, or a JSON key `db-url`,
/// is `DB_URL`.
fn variable_of(relative: &str) -> String {
    relative
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect()
}
