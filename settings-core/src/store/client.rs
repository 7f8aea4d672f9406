//! A client of the secret stores for code that asks by name, configured as a load is.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use secrecy::SecretString;
use zeroize::Zeroizing;

use super::{Import, Reference, Resolver};

/// How long an answer is kept unless told otherwise.
const DEFAULT_TTL: Duration = Duration::from_secs(60);

/// A thread-safe client of Vault / OpenBao, SSM Parameter Store and Secrets Manager, for code
/// that asks for secrets by name rather than through a struct: `get` one reference, `get_many`
/// in one batch, `get_all` of a path or prefix. Made by
/// [`Loader::store_client`](crate::Loader::store_client), with the configuration, the errors and
/// the secrecy of a load;
/// answers are kept for a time-to-live (a minute unless [`Client::with_ttl`] says otherwise).
///
/// ```ignore
/// // (Compiled as part of the `settings` crate's README, "Asking by name".)
/// let stores = settings::Loader::new().store_client();
/// let key = stores.get("vault:secret/pipeline#SHOPIFY_API_KEY")?;
/// let all = stores.get_all("ssm:/pipeline/production")?; // {"DATABASE_URL": ..., ...}
/// ```
pub struct Client {
    resolver: Resolver,
    ttl: Duration,
    cache: Mutex<HashMap<String, (Instant, Cached)>>,
}

/// What the cache keeps of one answer.
enum Cached {
    One(Zeroizing<String>),
    All(Vec<(String, Zeroizing<String>)>),
}

/// A reference or location that could not be read: which one, and why. Never holds a value.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct StoreError {
    /// The reference or location asked for, as written.
    pub location: String,
    /// Why it could not be read.
    pub message: String,
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.location, self.message)
    }
}

impl std::error::Error for StoreError {}

fn error(location: &str, message: impl Into<String>) -> StoreError {
    StoreError {
        location: location.to_owned(),
        message: message.into(),
    }
}

impl Client {
    pub(crate) fn new(resolver: Resolver) -> Self {
        Client {
            resolver,
            ttl: DEFAULT_TTL,
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// Keeps answers this long; `Duration::ZERO` asks the store every time.
    pub fn with_ttl(mut self, ttl: Duration) -> Self {
        self.ttl = ttl;
        self
    }

    /// Forgets every kept answer: the next calls ask the stores.
    pub fn invalidate(&self) {
        self.cache
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }

    /// One secret: `vault:secret/app#KEY`, `ssm:/app/key`, `secretsmanager:app#key`.
    pub fn get(&self, reference: &str) -> Result<SecretString, StoreError> {
        self.get_many(&[reference])
            .pop()
            .unwrap_or_else(|| Err(error(reference, "no answer")))
    }

    /// Several secrets, in as few requests as each store allows (one read per Vault path, ten
    /// SSM names and twenty Secrets Manager secrets per call); the answers in the order asked.
    pub fn get_many(&self, references: &[&str]) -> Vec<Result<SecretString, StoreError>> {
        let mut answers: Vec<Option<Result<SecretString, StoreError>>> =
            references.iter().map(|_| None).collect();
        let mut wanted: Vec<(usize, Reference)> = Vec::new();
        {
            let cache = self.cache.lock().unwrap_or_else(PoisonError::into_inner);
            for (i, text) in references.iter().enumerate() {
                match Reference::parse(text) {
                    None => {
                        answers[i] = Some(Err(error(
                            text,
                            "not a reference (vault:PATH#KEY, ssm:NAME, secretsmanager:ID[#KEY])",
                        )));
                    }
                    Some(Err(message)) => answers[i] = Some(Err(error(text, message))),
                    Some(Ok(reference)) => match cache.get(&reference.to_string()) {
                        Some((at, Cached::One(value))) if at.elapsed() < self.ttl => {
                            answers[i] = Some(Ok(secret(value)));
                        }
                        _ => wanted.push((i, reference)),
                    },
                }
            }
        }
        if !wanted.is_empty() {
            let batch: Vec<Reference> = wanted.iter().map(|(_, r)| r.clone()).collect();
            let resolved = self.resolver.resolve(&batch);
            let mut cache = self.cache.lock().unwrap_or_else(PoisonError::into_inner);
            for ((i, reference), answer) in wanted.into_iter().zip(resolved) {
                answers[i] = Some(match answer {
                    Ok(value) => {
                        let shown = secret(&value);
                        if !self.ttl.is_zero() {
                            cache.insert(
                                reference.to_string(),
                                (Instant::now(), Cached::One(value)),
                            );
                        }
                        Ok(shown)
                    }
                    Err(message) => Err(error(references[i], message)),
                });
            }
        }
        answers
            .into_iter()
            .zip(references)
            .map(|(answer, text)| answer.unwrap_or_else(|| Err(error(text, "no answer"))))
            .collect()
    }

    /// Every key of a Vault path (`vault:secret/app`), every parameter under an SSM prefix
    /// (`ssm:/app/production`, all pages), or every key of a Secrets Manager secret that is a
    /// JSON object (`secretsmanager:app`), named as `Loader::vault_path` and the other imports
    /// name them: upper case, `/` and other punctuation as `_`.
    pub fn get_all(&self, location: &str) -> Result<BTreeMap<String, SecretString>, StoreError> {
        let import = parse_location(location).map_err(|message| error(location, message))?;
        let key = format!("all {location}");
        {
            let cache = self.cache.lock().unwrap_or_else(PoisonError::into_inner);
            if let Some((at, Cached::All(pairs))) = cache.get(&key)
                && at.elapsed() < self.ttl
            {
                return Ok(pairs.iter().map(|(k, v)| (k.clone(), secret(v))).collect());
            }
        }
        let pairs = self
            .resolver
            .import(&import)
            .map_err(|message| error(location, message))?;
        let all = pairs.iter().map(|(k, v)| (k.clone(), secret(v))).collect();
        if !self.ttl.is_zero() {
            self.cache
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .insert(key, (Instant::now(), Cached::All(pairs)));
        }
        Ok(all)
    }
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

fn secret(value: &Zeroizing<String>) -> SecretString {
    SecretString::from(value.as_str())
}

/// `vault:PATH`, `ssm:PREFIX` or `secretsmanager:ID` as an import.
fn parse_location(location: &str) -> Result<Import, String> {
    let (store, rest) = location
        .split_once(':')
        .ok_or("expected vault:PATH, ssm:PREFIX or secretsmanager:ID")?;
    if rest.is_empty() || rest.contains('#') {
        return Err("a location names a path, a prefix or a secret, without #KEY".to_owned());
    }
    match store {
        #[cfg(feature = "vault")]
        "vault" => Ok(Import::Vault(rest.trim_matches('/').to_owned())),
        #[cfg(feature = "aws")]
        "ssm" if rest.starts_with('/') => Ok(Import::Ssm(rest.to_owned())),
        #[cfg(feature = "aws")]
        "ssm" => Err("an SSM prefix starts with /".to_owned()),
        #[cfg(feature = "aws")]
        "secretsmanager" => Ok(Import::SecretsManager(rest.to_owned())),
        #[allow(unreachable_patterns)] // Reachable when a store's feature is off.
        "vault" | "ssm" | "secretsmanager" => Err(format!(
            "the {store} store needs the `{}` feature",
            if store == "vault" { "vault" } else { "aws" }
        )),
        _ => Err("expected vault:PATH, ssm:PREFIX or secretsmanager:ID".to_owned()),
    }
}
