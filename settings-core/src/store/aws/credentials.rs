//! AWS credentials and region, from the conventions a user already has: the `AWS_*` variables
//! and the shared `credentials` and `config` files of `AWS_PROFILE` (`chain` decides which
//! provider of the chain applies).

use std::collections::HashMap;
use std::path::PathBuf;

use zeroize::Zeroizing;

use crate::source::Source;
use crate::store::config::var;

/// An access key, its secret and an optional session token.
#[derive(Clone)]
#[non_exhaustive]
pub struct Credentials {
    /// `AWS_ACCESS_KEY_ID`.
    pub access_key_id: String,
    /// `AWS_SECRET_ACCESS_KEY`; never printed.
    pub secret_access_key: Zeroizing<String>,
    /// `AWS_SESSION_TOKEN`, for temporary credentials; never printed.
    pub session_token: Option<Zeroizing<String>>,
}

impl Credentials {
    /// An access key and its secret, with a session token for temporary credentials.
    pub fn new(
        access_key_id: impl Into<String>,
        secret_access_key: impl Into<String>,
        session_token: Option<String>,
    ) -> Self {
        Credentials {
            access_key_id: access_key_id.into(),
            secret_access_key: Zeroizing::new(secret_access_key.into()),
            session_token: session_token.map(Zeroizing::new),
        }
    }
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"[REDACTED]")
            .field(
                "session_token",
                &self.session_token.as_ref().map(|_| "[REDACTED]"),
            )
            .finish()
    }
}

pub(super) fn home(source: &dyn Source) -> Option<PathBuf> {
    var(source, "HOME").map(|h| PathBuf::from(h.as_str()))
}

/// The profile in force: `AWS_PROFILE`, else `default`.
pub(super) fn profile(source: &dyn Source) -> String {
    var(source, "AWS_PROFILE").map_or_else(|| "default".to_owned(), |p| p.to_string())
}

pub(super) fn config_file(source: &dyn Source) -> Option<PathBuf> {
    var(source, "AWS_CONFIG_FILE")
        .map(|p| PathBuf::from(p.as_str()))
        .or_else(|| home(source).map(|h| h.join(".aws/config")))
}

/// `AWS_REGION`, `AWS_DEFAULT_REGION`, then the profile's `region`.
pub(crate) fn region(source: &dyn Source) -> Result<String, String> {
    if let Some(region) = var(source, "AWS_REGION").or_else(|| var(source, "AWS_DEFAULT_REGION")) {
        return Ok(region.to_string());
    }
    let profile = profile(source);
    config_file(source)
        .map(|f| read_ini(&f, true))
        .and_then(|mut sections| sections.remove(&profile))
        .and_then(|section| section.get("region").map(|r| r.to_string()))
        .ok_or_else(|| {
            "aws: no region; set AWS_REGION (or AWS_DEFAULT_REGION, or `region` in ~/.aws/config)"
                .to_owned()
        })
}

pub(super) type Sections = HashMap<String, HashMap<String, Zeroizing<String>>>;

/// Reads an INI file of sections. In the config file, `[profile name]` names profile `name`.
pub(super) fn read_ini(path: &std::path::Path, config: bool) -> Sections {
    let Ok(Some(text)) = crate::source::files::read_text_capped(path, 1024 * 1024) else {
        return Sections::new();
    };
    let mut sections = Sections::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            let name = name.trim();
            let name = if config {
                name.strip_prefix("profile ").map_or(name, str::trim)
            } else {
                name
            };
            current = Some(name.to_owned());
            continue;
        }
        if let (Some(section), Some((key, value))) = (&current, line.split_once('=')) {
            sections.entry(section.clone()).or_default().insert(
                key.trim().to_owned(),
                Zeroizing::new(value.trim().to_owned()),
            );
        }
    }
    sections
}
