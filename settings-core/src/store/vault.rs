//! HashiCorp Vault / OpenBao: KV v2 and v1 reads, token or AppRole login.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Mutex;

use serde_json::Value;
use zeroize::Zeroizing;

use super::http::{Http, Reply, Request, StoreOptions, Verdict};
use crate::percent::encode;
use crate::source::files::read_text_capped;
use crate::source::{RawValue, Source};

/// How to reach Vault. [`VaultConfig::from_source`] reads the usual variables.
#[derive(Clone, Default)]
#[non_exhaustive]
pub struct VaultConfig {
    /// `VAULT_ADDR` / `BAO_ADDR`, such as `https://vault.example:8200`.
    pub addr: Option<String>,
    /// `VAULT_TOKEN` / `BAO_TOKEN`, else the content of `~/.vault-token`.
    pub token: Option<Zeroizing<String>>,
    /// `VAULT_NAMESPACE` / `BAO_NAMESPACE`.
    pub namespace: Option<String>,
    /// `VAULT_CACERT` / `BAO_CACERT`: a PEM bundle of the CA that signed the server's certificate.
    pub ca_cert: Option<PathBuf>,
    /// AppRole credentials (`VAULT_ROLE_ID` and `VAULT_SECRET_ID`): a login replaces the token.
    pub approle: Option<(String, Zeroizing<String>)>,
}

impl std::fmt::Debug for VaultConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VaultConfig")
            .field("addr", &self.addr)
            .field("token", &self.token.as_ref().map(|_| "[REDACTED]"))
            .field("namespace", &self.namespace)
            .field("ca_cert", &self.ca_cert)
            .field(
                "approle",
                &self.approle.as_ref().map(|(role, _)| (role, "[REDACTED]")),
            )
            .finish()
    }
}

impl VaultConfig {
    /// Reads `BAO_*` then `VAULT_*` variables from `source` (the environment and `.env` files of
    /// a load), and `~/.vault-token` when no token variable is set.
    pub fn from_source(source: &dyn Source) -> VaultConfig {
        let var = |name: &str| {
            ["BAO_", "VAULT_"]
                .iter()
                .find_map(|prefix| super::config::var(source, &format!("{prefix}{name}")))
        };
        let plain = |name: &str| var(name).map(|v| v.to_string());
        let token = var("TOKEN").or_else(|| {
            let home = match source.get("HOME") {
                Some(RawValue::Text(home)) => PathBuf::from(home.as_str()),
                _ => return None,
            };
            let text = read_text_capped(&home.join(".vault-token"), 64 * 1024).ok()??;
            Some(Zeroizing::new(text.trim().to_owned()))
        });
        let approle = match (plain("ROLE_ID"), var("SECRET_ID")) {
            (Some(role), Some(secret)) => Some((role, secret)),
            _ => None,
        };
        VaultConfig {
            addr: plain("ADDR"),
            token: token.map(|t| Zeroizing::new(t.trim().to_owned())),
            namespace: plain("NAMESPACE"),
            ca_cert: plain("CACERT").map(PathBuf::from),
            approle,
        }
    }
}

/// A connected client.
pub(crate) struct Vault {
    http: Http,
    addr: String,
    namespace: Option<String>,
    token: Zeroizing<String>,
    /// True when the token came from our own login: it is revoked when the client is dropped.
    owns_token: bool,
    /// The mounts seen so far: prefix (`secret/`) and KV version. One lookup per mount.
    mounts: Mutex<Vec<(String, u8)>>,
}

/// A failed read, described for a person: store, path, what happened, what to do.
pub(crate) type Failure = String;

impl Vault {
    pub fn connect(config: &VaultConfig, options: &StoreOptions) -> Result<Vault, Failure> {
        let addr = config
            .addr
            .as_deref()
            .ok_or("vault: no address; set VAULT_ADDR (or BAO_ADDR)")?;
        let addr = super::check_address(addr, options.allow_insecure_http, "VAULT_ADDR")
            .map_err(|err| format!("vault: {err}"))?;
        let http =
            Http::new(options, config.ca_cert.as_deref()).map_err(|err| format!("vault: {err}"))?;
        let mut vault = Vault {
            http,
            addr,
            namespace: config.namespace.clone(),
            token: Zeroizing::new(String::new()),
            owns_token: false,
            mounts: Mutex::new(Vec::new()),
        };
        match (&config.approle, &config.token) {
            (Some((role, secret)), _) => {
                vault.token = vault.approle_login(role, secret)?;
                vault.owns_token = true;
            }
            (None, Some(token)) => vault.token = token.clone(),
            (None, None) => {
                return Err("vault: no token; set VAULT_TOKEN, write ~/.vault-token, or set VAULT_ROLE_ID and VAULT_SECRET_ID for AppRole".to_owned());
            }
        }
        Ok(vault)
    }

    fn approle_login(&self, role: &str, secret: &str) -> Result<Zeroizing<String>, Failure> {
        // Built as text, not as a serde_json::Value, so that no copy of the secret id outlives
        // this function unwiped.
        let role = Value::from(role).to_string();
        // A JSON string of the secret id, escaped into a buffer of the largest size it can take
        // (six bytes a character), so that it is never copied by a reallocation.
        let mut secret_json = Zeroizing::new(String::with_capacity(secret.len() * 6 + 2));
        secret_json.push('"');
        for c in secret.chars() {
            match c {
                '"' => secret_json.push_str("\\\""),
                '\\' => secret_json.push_str("\\\\"),
                c if c.is_control() => secret_json.push_str(&format!("\\u{:04x}", u32::from(c))),
                c => secret_json.push(c),
            }
        }
        secret_json.push('"');
        let body =
            crate::wiped::concat(&["{\"role_id\":", &role, ",\"secret_id\":", &secret_json, "}"]);
        let reply = self
            .send("POST", "auth/approle/login", body.as_bytes(), false)
            .map_err(|err| format!("vault AppRole login: {err}"))?;
        match reply.status {
            200 => {
                let mut json: Value =
                    parse(&reply.body).map_err(|e| format!("vault AppRole login: {e}"))?;
                let token = match json.pointer_mut("/auth/client_token") {
                    Some(Value::String(token)) => Some(Zeroizing::new(std::mem::take(token))),
                    _ => None,
                };
                crate::wiped::wipe_json(&mut json);
                token.ok_or_else(|| "vault AppRole login: the answer holds no token".to_owned())
            }
            // Vault answers a wrong secret id with 400, not 403.
            400 | 403 => Err(
                "vault AppRole login: permission denied: check VAULT_ROLE_ID and VAULT_SECRET_ID"
                    .to_owned(),
            ),
            status => Err(format!(
                "vault AppRole login: {}",
                status_text(status, &reply)
            )),
        }
    }

    fn send(
        &self,
        method: &'static str,
        route: &str,
        body: &[u8],
        with_token: bool,
    ) -> Result<Reply, Failure> {
        let header = |name: &str, value: &str| (name.to_owned(), Zeroizing::new(value.to_owned()));
        let mut headers = vec![header("X-Vault-Request", "true")];
        if with_token {
            headers.push(header("X-Vault-Token", &self.token));
        }
        if let Some(namespace) = &self.namespace {
            headers.push(header("X-Vault-Namespace", namespace));
        }
        if !body.is_empty() {
            headers.push(header("Content-Type", "application/json"));
        }
        let request = Request {
            method,
            url: format!("{}/v1/{route}", self.addr),
            headers,
            body: Zeroizing::new(body.to_vec()),
        };
        let judge = |reply: &Reply| match reply.status {
            412 | 429 => Verdict::Throttled,
            500 | 502..=599 => Verdict::Retry,
            _ => Verdict::Done,
        };
        self.http.send(&request, judge).map_err(|failure| {
            failure.describe(&self.addr, "check VAULT_ADDR and that the server is up")
        })
    }

    /// The mount of `path` (its prefix, `secret/`) and its KV version.
    fn mount_of(&self, path: &str) -> Result<(String, u8), Failure> {
        let known = self
            .lock_mounts()
            .iter()
            .find(|(mount, _)| format!("{path}/").starts_with(mount.as_str()))
            .cloned();
        if let Some(found) = known {
            return Ok(found);
        }
        let route = format!("sys/internal/ui/mounts/{}", encode(path, true));
        let reply = self.send("GET", &route, &[], true)?;
        let found = match reply.status {
            200 => {
                let json: Value = parse(&reply.body)?;
                let mount = json
                    .pointer("/data/path")
                    .and_then(Value::as_str)
                    .unwrap_or("");
                let version = json
                    .pointer("/data/options/version")
                    .and_then(Value::as_str);
                let version = if version == Some("2") { 2 } else { 1 };
                if mount.is_empty() {
                    guess_mount(path)
                } else {
                    (mount.to_owned(), version)
                }
            }
            // Without access to the mount table, assume the first segment is a KV v2 mount.
            403 => guess_mount(path),
            _ => return Err(status_text(reply.status, &reply)),
        };
        self.lock_mounts().push(found.clone());
        Ok(found)
    }

    fn lock_mounts(&self) -> std::sync::MutexGuard<'_, Vec<(String, u8)>> {
        self.mounts
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Reads the secret at `path` (`<mount>/<path>`): its key/value map. One request, plus one the
    /// first time a mount is seen.
    pub fn read(
        &self,
        path: &str,
        version: Option<u64>,
    ) -> Result<HashMap<String, Zeroizing<String>>, Failure> {
        let (mount, kv) = self.mount_of(path)?;
        let relative = path
            .strip_prefix(mount.as_str())
            .unwrap_or(path)
            .trim_start_matches('/');
        let route = if kv == 2 {
            let mut route = format!("{}data/{}", encode(&mount, true), encode(relative, true));
            if let Some(version) = version {
                route.push_str(&format!("?version={version}"));
            }
            route
        } else {
            format!("{}{}", encode(&mount, true), encode(relative, true))
        };
        let reply = self.send("GET", &route, &[], true)?;
        match reply.status {
            200 => {}
            404 => {
                let hint = if version.is_some() {
                    " (or that version was deleted)"
                } else {
                    ""
                };
                return Err(format!("not found: no secret at this path{hint}"));
            }
            _ => return Err(status_text(reply.status, &reply)),
        }
        let mut json: Value = parse(&reply.body)?;
        let data = if kv == 2 {
            json.pointer_mut("/data/data")
        } else {
            json.pointer_mut("/data")
        };
        let Some(Value::Object(map)) = data.map(Value::take) else {
            crate::wiped::wipe_json(&mut json);
            return Err("not found: the secret holds no data (deleted or destroyed)".to_owned());
        };
        crate::wiped::wipe_json(&mut json);
        // The strings are moved out of the parsed answer, not copied.
        Ok(map
            .into_iter()
            .map(|(key, value)| {
                let text = match value {
                    Value::String(text) => text,
                    mut other => {
                        let text = other.to_string();
                        crate::wiped::wipe_json(&mut other);
                        text
                    }
                };
                (key, Zeroizing::new(text))
            })
            .collect())
    }
}

impl Drop for Vault {
    /// Revokes a token this client made by logging in; never one the user gave.
    fn drop(&mut self) {
        if self.owns_token {
            let _ = self.send("POST", "auth/token/revoke-self", &[], true);
        }
    }
}

fn guess_mount(path: &str) -> (String, u8) {
    let first = path.split('/').next().unwrap_or(path);
    (format!("{first}/"), 2)
}

fn parse(body: &str) -> Result<Value, Failure> {
    serde_json::from_str(body).map_err(|_| "the answer is not valid JSON".to_owned())
}

/// What a status means, with what to do. The server's own text is never shown: a server (or
/// something in front of it) may echo the token or the path it was sent; it is read only to
/// recognise a sealed Vault.
fn status_text(status: u16, reply: &Reply) -> String {
    let sealed = serde_json::from_str::<Value>(&reply.body)
        .ok()
        .and_then(|json| {
            let errors = json.get("errors")?.as_array()?;
            Some(errors.iter().any(|e| e.as_str() == Some("Vault is sealed")))
        })
        .unwrap_or(false);
    match status {
        400 => "the request was refused as invalid (400)".to_owned(),
        403 => "permission denied (403): the token lacks a policy for this path, or has expired"
            .to_owned(),
        503 if sealed => "Vault is sealed (503): unseal it, then retry".to_owned(),
        404 => "not found (404)".to_owned(),
        429 => "rate limited (429), even after retries".to_owned(),
        500..=599 => format!("server error (HTTP {status}), even after retries"),
        _ => format!("unexpected answer (HTTP {status})"),
    }
}
