//! HashiCorp Vault / OpenBao: KV v2 and v1 reads, token or AppRole login.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

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
    /// A JWT/OIDC or Kubernetes login (`VAULT_AUTH_METHOD`, `VAULT_ROLE`, ...): used when no
    /// token and no AppRole credentials are given.
    pub login: Option<VaultLogin>,
}

/// A login with an identity the platform gave the program.
#[derive(Clone)]
#[non_exhaustive]
pub enum VaultLogin {
    /// `auth/<mount>/login` with `role` and a JWT (an OIDC ID token of a CI job, say).
    Jwt {
        /// The auth method's mount: `jwt` unless `VAULT_AUTH_MOUNT` says otherwise.
        mount: String,
        /// `VAULT_ROLE`.
        role: String,
        /// Where the JWT comes from.
        jwt: JwtSource,
    },
    /// `auth/<mount>/login` with `role` and the pod's service-account token.
    Kubernetes {
        /// `kubernetes` unless `VAULT_AUTH_MOUNT` says otherwise.
        mount: String,
        /// `VAULT_ROLE`.
        role: String,
        /// `VAULT_K8S_TOKEN_FILE`, else the service-account token's usual path.
        token_file: PathBuf,
    },
}

/// Where the JWT of a [`VaultLogin::Jwt`] comes from. Read again at every login.
#[derive(Clone)]
#[non_exhaustive]
pub enum JwtSource {
    /// The token itself (`VAULT_JWT`, or the variable `VAULT_JWT_VARIABLE` names, as GitLab CI
    /// hands a job its ID token).
    Token(Zeroizing<String>),
    /// A file holding it (`VAULT_JWT_FILE`).
    File(PathBuf),
    /// GitHub Actions: fetched from `ACTIONS_ID_TOKEN_REQUEST_URL` with
    /// `ACTIONS_ID_TOKEN_REQUEST_TOKEN`, for `audience` (`VAULT_JWT_AUDIENCE`, default `vault`).
    GitHubActions {
        /// `ACTIONS_ID_TOKEN_REQUEST_URL`.
        url: String,
        /// `ACTIONS_ID_TOKEN_REQUEST_TOKEN`.
        request_token: Zeroizing<String>,
        /// The audience to ask for.
        audience: String,
    },
}

/// The path of a pod's service-account token.
pub const KUBERNETES_TOKEN_FILE: &str = "/var/run/secrets/kubernetes.io/serviceaccount/token";

impl std::fmt::Debug for VaultLogin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            VaultLogin::Jwt { mount, role, jwt } => {
                let from = match jwt {
                    JwtSource::Token(_) => "a variable".to_owned(),
                    JwtSource::File(path) => path.display().to_string(),
                    JwtSource::GitHubActions { audience, .. } => {
                        format!("GitHub Actions (audience {audience})")
                    }
                };
                write!(
                    f,
                    "Jwt {{ mount: {mount:?}, role: {role:?}, jwt from {from} }}"
                )
            }
            VaultLogin::Kubernetes {
                mount,
                role,
                token_file,
            } => write!(
                f,
                "Kubernetes {{ mount: {mount:?}, role: {role:?}, token_file: {token_file:?} }}"
            ),
        }
    }
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
            .field("login", &self.login)
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
        let home_token = || {
            let home = match source.get("HOME") {
                Some(RawValue::Text(home)) => PathBuf::from(home.as_str()),
                _ => return None,
            };
            let text = read_text_capped(&home.join(".vault-token"), 64 * 1024).ok()??;
            Some(Zeroizing::new(text.trim().to_owned()))
        };
        let approle = match (plain("ROLE_ID"), var("SECRET_ID")) {
            (Some(role), Some(secret)) => Some((role, secret)),
            _ => None,
        };
        let token = var("TOKEN");
        let login = if token.is_none() && approle.is_none() {
            login_from(source, &plain)
        } else {
            None
        };
        // `~/.vault-token` (what `vault login` leaves on a laptop) comes last.
        let token = match (&token, &approle, &login) {
            (None, None, None) => home_token(),
            _ => token,
        };
        VaultConfig {
            addr: plain("ADDR"),
            token: token.map(|t| Zeroizing::new(t.trim().to_owned())),
            namespace: plain("NAMESPACE"),
            ca_cert: plain("CACERT").map(PathBuf::from),
            approle,
            login,
        }
    }
}

/// The JWT or Kubernetes login the variables describe: `VAULT_AUTH_METHOD` (`jwt` or
/// `kubernetes`) chooses; without it, a JWT source (`VAULT_JWT`, `VAULT_JWT_FILE`,
/// `VAULT_JWT_VARIABLE`, GitHub Actions' token request variables) means JWT, and a
/// service-account token file means Kubernetes. Both need `VAULT_ROLE`.
fn login_from(source: &dyn Source, plain: &dyn Fn(&str) -> Option<String>) -> Option<VaultLogin> {
    let role = plain("ROLE")?;
    let secret = |name: &str| super::config::var(source, name);
    let jwt = if let Some(token) = ["BAO_JWT", "VAULT_JWT"].iter().find_map(|n| secret(n)) {
        Some(JwtSource::Token(token))
    } else if let Some(file) = plain("JWT_FILE") {
        Some(JwtSource::File(PathBuf::from(file)))
    } else if let Some(token) = plain("JWT_VARIABLE").and_then(|name| secret(&name)) {
        Some(JwtSource::Token(token))
    } else if let (Some(url), Some(request_token)) = (
        secret("ACTIONS_ID_TOKEN_REQUEST_URL"),
        secret("ACTIONS_ID_TOKEN_REQUEST_TOKEN"),
    ) {
        Some(JwtSource::GitHubActions {
            url: url.to_string(),
            request_token,
            audience: plain("JWT_AUDIENCE").unwrap_or_else(|| "vault".to_owned()),
        })
    } else {
        None
    };
    let token_file =
        plain("K8S_TOKEN_FILE").map_or_else(|| PathBuf::from(KUBERNETES_TOKEN_FILE), PathBuf::from);
    let method = plain("AUTH_METHOD").map(|m| m.to_ascii_lowercase());
    let kubernetes = || VaultLogin::Kubernetes {
        mount: plain("AUTH_MOUNT").unwrap_or_else(|| "kubernetes".to_owned()),
        role: role.clone(),
        token_file: token_file.clone(),
    };
    let with_jwt = |jwt: JwtSource| VaultLogin::Jwt {
        mount: plain("AUTH_MOUNT").unwrap_or_else(|| "jwt".to_owned()),
        role: role.clone(),
        jwt,
    };
    match (method.as_deref(), jwt) {
        (Some("kubernetes"), _) => Some(kubernetes()),
        (Some("jwt") | None, Some(jwt)) => Some(with_jwt(jwt)),
        (None, None) if token_file.is_file() => Some(kubernetes()),
        _ => None,
    }
}

/// A connected client.
pub(crate) struct Vault {
    http: Http,
    addr: String,
    namespace: Option<String>,
    token: Mutex<Zeroizing<String>>,
    /// True when the token came from our own login: it is revoked when the client is dropped.
    owns_token: bool,
    /// How our own login was made (AppRole, JWT, Kubernetes), kept to log in again when the
    /// token can no longer be renewed (for a client that lives as long as a watch).
    relogin: Option<Relogin>,
    /// The mounts seen so far: prefix (`secret/`) and KV version. One lookup per mount.
    mounts: Mutex<Vec<(String, u8)>>,
    /// Secrets read with a lease, by path.
    leases: Mutex<Leases>,
    /// The token's lifetime, known once the client keeps its leases (a watch's client).
    life: Mutex<Option<TokenLife>>,
}

/// A lease Vault granted with a secret (`lease_id`, `lease_duration`, `renewable`).
pub(crate) struct Grant {
    id: Zeroizing<String>,
    /// When the lease was granted or last renewed, and for how long.
    since: Instant,
    duration: Duration,
    /// The duration first granted: a renewal that gives less is near the role's maximum.
    #[cfg_attr(not(feature = "watch"), allow(dead_code))]
    first: Duration,
    renewable: bool,
    /// True once the lease cannot be extended for long: the next refresh reads a new secret.
    stale: bool,
}

impl Grant {
    fn expires(&self) -> Instant {
        self.since + self.duration
    }

    #[cfg_attr(not(feature = "watch"), allow(dead_code))] // Used by a watch's client.
    /// When to renew: at two thirds of the lease.
    fn renew_at(&self) -> Instant {
        self.since + self.duration.mul_f64(2.0 / 3.0)
    }
}

/// The leases of one client. A client that lives as long as a watch (`keep`) answers a read of
/// a path it holds a live lease for from its cache: one database user per program, renewed,
/// not a new one per refresh.
#[derive(Default)]
struct Leases {
    keep: bool,
    /// Revoke the held leases when the client is dropped.
    revoke_on_drop: bool,
    by_path: HashMap<String, (HashMap<String, Zeroizing<String>>, Grant)>,
    /// Leases replaced by a new read, revoked once the settings that used them are replaced.
    retired: Vec<Zeroizing<String>>,
}

/// What the lease of a value looks like from outside: no lease id, ever.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct LeaseView {
    pub(crate) remaining: Duration,
    pub(crate) renewable: bool,
}

#[cfg_attr(not(feature = "watch"), allow(dead_code))] // Used by a watch's client.
/// The token's own lifetime, from `auth/token/lookup-self`.
#[derive(Clone, Copy)]
struct TokenLife {
    since: Instant,
    ttl: Duration,
    renewable: bool,
}

#[cfg_attr(not(feature = "watch"), allow(dead_code))] // Used by a watch's client.
/// What a round of upkeep found: whether the settings must be read again (a lease ends), and
/// when the next round is due.
#[derive(Debug, Default)]
pub(crate) struct Upkeep {
    pub(crate) refresh: bool,
    pub(crate) next: Option<Instant>,
    pub(crate) problems: Vec<String>,
}

/// A login to make again.
#[derive(Clone)]
enum Relogin {
    AppRole(String, Zeroizing<String>),
    Identity(VaultLogin),
}

/// The keys and values of one secret.
type SecretData = HashMap<String, Zeroizing<String>>;

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
            token: Mutex::new(Zeroizing::new(String::new())),
            owns_token: false,
            relogin: None,
            mounts: Mutex::new(Vec::new()),
            leases: Mutex::new(Leases::default()),
            life: Mutex::new(None),
        };
        match (&config.approle, &config.token, &config.login) {
            (Some((role, secret)), _, _) => {
                *vault.lock_token() = vault.approle_login(role, secret)?;
                vault.owns_token = true;
                vault.relogin = Some(Relogin::AppRole(role.clone(), secret.clone()));
            }
            (None, Some(token), _) => *vault.lock_token() = token.clone(),
            (None, None, Some(login)) => {
                *vault.lock_token() = vault.identity_login(login)?;
                vault.owns_token = true;
                vault.relogin = Some(Relogin::Identity(login.clone()));
            }
            (None, None, None) => {
                return Err("vault: no token; set VAULT_TOKEN, write ~/.vault-token, set VAULT_ROLE_ID and VAULT_SECRET_ID for AppRole, or VAULT_ROLE with a JWT (VAULT_JWT, VAULT_JWT_FILE, GitHub Actions' id-token permission) or a Kubernetes service-account token".to_owned());
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

    /// A JWT/OIDC or Kubernetes login: `auth/<mount>/login` with the role and the token.
    fn identity_login(&self, login: &VaultLogin) -> Result<Zeroizing<String>, Failure> {
        let (kind, mount, role, jwt) = match login {
            VaultLogin::Jwt { mount, role, jwt } => ("JWT", mount, role, self.jwt_of(jwt)?),
            VaultLogin::Kubernetes {
                mount,
                role,
                token_file,
            } => {
                let token = read_text_capped(token_file, 64 * 1024)
                    .map_err(|e| {
                        format!(
                            "vault Kubernetes login: the service-account token {}: {e}",
                            token_file.display()
                        )
                    })?
                    .ok_or("vault Kubernetes login: the service-account token is not UTF-8")?;
                (
                    "Kubernetes",
                    mount,
                    role,
                    Zeroizing::new(token.trim().to_owned()),
                )
            }
        };
        let what = format!("vault {kind} login (auth/{mount}, role {role})");
        let jwt_json = Zeroizing::new(Value::from(jwt.as_str()).to_string());
        let role_json = Value::from(role.as_str()).to_string();
        let body = crate::wiped::concat(&["{\"role\":", &role_json, ",\"jwt\":", &jwt_json, "}"]);
        let route = format!("auth/{}/login", encode(mount.trim_matches('/'), true));
        let reply = self
            .send("POST", &route, body.as_bytes(), false)
            .map_err(|err| format!("{what}: {err}"))?;
        match reply.status {
            200 => {
                let mut json: Value = parse(&reply.body).map_err(|e| format!("{what}: {e}"))?;
                let token = match json.pointer_mut("/auth/client_token") {
                    Some(Value::String(token)) => Some(Zeroizing::new(std::mem::take(token))),
                    _ => None,
                };
                crate::wiped::wipe_json(&mut json);
                token.ok_or_else(|| format!("{what}: the answer holds no token"))
            }
            400 | 403 => Err(format!("{what}: {}", login_refusal(&reply))),
            status => Err(format!("{what}: {}", status_text(status, &reply))),
        }
    }

    /// The JWT of a login, read (or fetched, in GitHub Actions) now.
    fn jwt_of(&self, source: &JwtSource) -> Result<Zeroizing<String>, Failure> {
        match source {
            JwtSource::Token(token) => Ok(token.clone()),
            JwtSource::File(path) => read_text_capped(path, 64 * 1024)
                .map_err(|e| format!("vault JWT login: the token file {}: {e}", path.display()))?
                .map(|text| Zeroizing::new(text.trim().to_owned()))
                .ok_or_else(|| "vault JWT login: the token file is not UTF-8".to_owned()),
            JwtSource::GitHubActions {
                url,
                request_token,
                audience,
            } => {
                let base = check_token_url(url)?;
                let separator = if base.contains('?') { '&' } else { '?' };
                let request = Request {
                    method: "GET",
                    url: format!("{base}{separator}audience={}", encode(audience, false)),
                    headers: vec![(
                        "Authorization".to_owned(),
                        crate::wiped::concat(&["Bearer ", request_token]),
                    )],
                    body: Zeroizing::new(Vec::new()),
                };
                let reply = self
                    .http
                    .send(&request, |reply| match reply.status {
                        429 | 500..=599 => Verdict::Retry,
                        _ => Verdict::Done,
                    })
                    .map_err(|f| {
                        format!(
                            "vault JWT login: GitHub's ID token: {}",
                            f.describe(
                                "ACTIONS_ID_TOKEN_REQUEST_URL",
                                "check the job's `permissions: id-token: write`"
                            )
                        )
                    })?;
                if reply.status != 200 {
                    return Err(format!(
                        "vault JWT login: GitHub refused the ID token request (HTTP {}): check the job's `permissions: id-token: write`",
                        reply.status
                    ));
                }
                let mut json: Value = parse(&reply.body)?;
                let token = match json.get_mut("value") {
                    Some(Value::String(value)) => Some(Zeroizing::new(std::mem::take(value))),
                    _ => None,
                };
                crate::wiped::wipe_json(&mut json);
                token.ok_or_else(|| "vault JWT login: GitHub's answer holds no token".to_owned())
            }
        }
    }

    fn send(
        &self,
        method: &'static str,
        route: &str,
        body: &[u8],
        with_token: bool,
    ) -> Result<Reply, Failure> {
        if with_token {
            // A copy (wiped when dropped), so that the lock is not held during the request.
            let token = self.lock_token().clone();
            self.send_as(method, route, body, Some(&token))
        } else {
            self.send_as(method, route, body, None)
        }
    }

    /// One request, with `token` if given (the client's own, or one it is revoking).
    fn send_as(
        &self,
        method: &'static str,
        route: &str,
        body: &[u8],
        token: Option<&str>,
    ) -> Result<Reply, Failure> {
        let header = |name: &str, value: &str| (name.to_owned(), Zeroizing::new(value.to_owned()));
        let mut headers = vec![header("X-Vault-Request", "true")];
        if let Some(token) = token {
            headers.push(header("X-Vault-Token", token));
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
    /// first time a mount is seen. A secret that comes with a lease (dynamic credentials) is
    /// remembered with it; a client that keeps leases answers again from that while it lives.
    pub fn read(
        &self,
        path: &str,
        version: Option<u64>,
    ) -> Result<HashMap<String, Zeroizing<String>>, Failure> {
        {
            let leases = self.lock_leases();
            if leases.keep
                && let Some((data, grant)) = leases.by_path.get(path)
                && !grant.stale
                && grant.expires() > Instant::now()
            {
                return Ok(data.clone());
            }
        }
        let (data, grant) = self.read_once(path, version)?;
        if let Some(grant) = grant {
            let mut leases = self.lock_leases();
            let cached = if leases.keep {
                data.clone()
            } else {
                HashMap::new()
            };
            if let Some((_, old)) = leases.by_path.insert(path.to_owned(), (cached, grant))
                && leases.keep
            {
                leases.retired.push(old.id);
            }
        }
        Ok(data)
    }

    fn read_once(
        &self,
        path: &str,
        version: Option<u64>,
    ) -> Result<(SecretData, Option<Grant>), Failure> {
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
        let grant = grant_of(&mut json);
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
        let data = map
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
            .collect();
        Ok((data, grant))
    }

    /// The lease of the secret last read at `path`, if it came with one.
    pub fn lease_of(&self, path: &str) -> Option<LeaseView> {
        let leases = self.lock_leases();
        let (_, grant) = leases.by_path.get(path)?;
        Some(LeaseView {
            remaining: grant.expires().saturating_duration_since(Instant::now()),
            renewable: grant.renewable,
        })
    }

    /// Makes this client keep its leases (and answer from them) for as long as it lives, and
    /// revoke them when dropped if `revoke_on_drop`.
    /// Also learns the token's lifetime (one request), to renew it in time.
    pub fn keep_leases(&self, revoke_on_drop: bool) -> Result<(), Failure> {
        {
            let mut leases = self.lock_leases();
            leases.keep = true;
            leases.revoke_on_drop = revoke_on_drop;
        }
        let life = self.lookup_self()?;
        *self.lock_life() = Some(life);
        Ok(())
    }

    #[cfg_attr(not(feature = "watch"), allow(dead_code))] // Used by a watch's client.
    /// When the next renewal is due (of the token or of a lease), without asking anything.
    pub fn next_due(&self) -> Option<Instant> {
        let token = (*self.lock_life())
            .filter(|life| !life.ttl.is_zero())
            .map(|life| life.since + life.ttl.mul_f64(2.0 / 3.0));
        let leases = self.lock_leases();
        let lease = leases
            .by_path
            .values()
            .map(|(_, grant)| {
                if grant.stale {
                    Instant::now() + Duration::from_secs(1)
                } else {
                    grant.renew_at()
                }
            })
            .min();
        token.into_iter().chain(lease).min()
    }

    #[cfg_attr(not(feature = "watch"), allow(dead_code))] // Used by a watch's client.
    /// Revokes the leases that newer reads replaced: called once the settings that used them
    /// have been replaced.
    pub fn revoke_retired(&self) -> Vec<String> {
        let retired = std::mem::take(&mut self.lock_leases().retired);
        retired
            .iter()
            .filter_map(|id| self.revoke_lease(id).err())
            .collect()
    }

    #[cfg_attr(not(feature = "watch"), allow(dead_code))] // Used by a watch's client.
    /// Renews what is due: the token (or logs in again when it cannot be renewed and the login
    /// is ours) and every lease at two thirds of its duration. A lease that cannot be renewed
    /// for long becomes stale: the settings must be read again.
    pub fn upkeep(&self) -> Upkeep {
        let mut upkeep = Upkeep::default();
        let now = Instant::now();
        if let Err(problem) = self.token_upkeep(now) {
            upkeep.problems.push(problem);
        }
        let due: Vec<(String, Zeroizing<String>, Duration, bool)> = {
            let leases = self.lock_leases();
            leases
                .by_path
                .iter()
                .filter(|(_, (_, grant))| !grant.stale && grant.renew_at() <= now)
                .map(|(path, (_, g))| (path.clone(), g.id.clone(), g.first, g.renewable))
                .collect()
        };
        for (path, id, first, renewable) in due {
            let renewed = if renewable {
                self.renew_lease(&id, first)
            } else {
                Err(String::new())
            };
            let mut leases = self.lock_leases();
            let Some((_, grant)) = leases.by_path.get_mut(&path) else {
                continue;
            };
            match renewed {
                // Near the role's maximum, a renewal gives less than asked: time for a new one.
                Ok(granted) if granted >= first.mul_f64(0.5) => {
                    grant.since = Instant::now();
                    grant.duration = granted;
                }
                Ok(granted) => {
                    grant.since = Instant::now();
                    grant.duration = granted;
                    grant.stale = true;
                    upkeep.refresh = true;
                }
                Err(problem) => {
                    if !problem.is_empty() {
                        upkeep.problems.push(format!(
                            "vault: the lease of {path} was not renewed: {problem}"
                        ));
                    }
                    grant.stale = true;
                    upkeep.refresh = true;
                }
            }
        }
        upkeep.next = self.next_due();
        upkeep
    }

    #[cfg_attr(not(feature = "watch"), allow(dead_code))] // Used by a watch's client.
    /// Renews the token at two thirds of its time to live, or logs in again (our own AppRole
    /// login) when it can no longer be renewed for long.
    fn token_upkeep(&self, now: Instant) -> Result<(), Failure> {
        let Some(life) = *self.lock_life() else {
            return Ok(());
        };
        if life.ttl.is_zero() || life.since + life.ttl.mul_f64(2.0 / 3.0) > now {
            return Ok(()); // Never expires (root, periodic), or not due yet.
        }
        let renewed = if life.renewable {
            self.renew_self(life.ttl.max(Duration::from_secs(1)))
        } else {
            Err("the token is not renewable".to_owned())
        };
        match renewed {
            Ok(granted) if granted >= life.ttl.mul_f64(0.5) || self.relogin.is_none() => {
                *self.lock_life() = Some(TokenLife {
                    since: Instant::now(),
                    ttl: granted,
                    renewable: life.renewable,
                });
                if granted.is_zero() {
                    return Err(
                        "vault: the token (VAULT_TOKEN) has expired and cannot be renewed: give the program a renewable token, or AppRole credentials"
                            .to_owned(),
                    );
                }
                Ok(())
            }
            _ => match &self.relogin {
                Some(relogin) => {
                    let token = match relogin {
                        Relogin::AppRole(role, secret) => self.approle_login(role, secret)?,
                        Relogin::Identity(login) => self.identity_login(login)?,
                    };
                    let old = std::mem::replace(&mut *self.lock_token(), token);
                    let _ = self.revoke_token(&old);
                    let life = self.lookup_self()?;
                    *self.lock_life() = Some(life);
                    Ok(())
                }
                None => Err(
                    "vault: the token (VAULT_TOKEN) expires soon and cannot be renewed: give the program a renewable token, or AppRole credentials"
                        .to_owned(),
                ),
            },
        }
    }

    fn lookup_self(&self) -> Result<TokenLife, Failure> {
        let reply = self.send("GET", "auth/token/lookup-self", &[], true)?;
        if reply.status != 200 {
            return Err(format!(
                "vault: looking up the token: {}",
                status_text(reply.status, &reply)
            ));
        }
        let mut json: Value = parse(&reply.body)?;
        let ttl = json
            .pointer("/data/ttl")
            .and_then(Value::as_u64)
            .unwrap_or(0);
        let renewable = json
            .pointer("/data/renewable")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        crate::wiped::wipe_json(&mut json);
        Ok(TokenLife {
            since: Instant::now(),
            ttl: Duration::from_secs(ttl),
            renewable,
        })
    }

    #[cfg_attr(not(feature = "watch"), allow(dead_code))] // Used by a watch's client.
    /// `auth/token/renew-self`: the time to live granted.
    fn renew_self(&self, increment: Duration) -> Result<Duration, Failure> {
        let body = format!("{{\"increment\":\"{}s\"}}", increment.as_secs());
        let reply = self.send("POST", "auth/token/renew-self", body.as_bytes(), true)?;
        if reply.status != 200 {
            return Err(format!(
                "vault: renewing the token: {}",
                status_text(reply.status, &reply)
            ));
        }
        let mut json: Value = parse(&reply.body)?;
        let granted = json
            .pointer("/auth/lease_duration")
            .and_then(Value::as_u64)
            .unwrap_or(0);
        crate::wiped::wipe_json(&mut json);
        Ok(Duration::from_secs(granted))
    }

    #[cfg_attr(not(feature = "watch"), allow(dead_code))] // Used by a watch's client.
    fn revoke_token(&self, token: &str) -> Result<(), Failure> {
        self.send_as("POST", "auth/token/revoke-self", &[], Some(token))
            .map(|_| ())
    }

    #[cfg_attr(not(feature = "watch"), allow(dead_code))] // Used by a watch's client.
    /// `sys/leases/renew`: the duration granted.
    fn renew_lease(&self, id: &str, increment: Duration) -> Result<Duration, Failure> {
        let body = lease_body(id, Some(increment));
        let reply = self.send("PUT", "sys/leases/renew", body.as_bytes(), true)?;
        if reply.status != 200 {
            return Err(status_text(reply.status, &reply));
        }
        let mut json: Value = parse(&reply.body)?;
        let granted = json
            .get("lease_duration")
            .and_then(Value::as_u64)
            .unwrap_or(0);
        crate::wiped::wipe_json(&mut json);
        Ok(Duration::from_secs(granted))
    }

    /// `sys/leases/revoke`.
    fn revoke_lease(&self, id: &str) -> Result<(), Failure> {
        let body = lease_body(id, None);
        let reply = self.send("PUT", "sys/leases/revoke", body.as_bytes(), true)?;
        match reply.status {
            200 | 204 => Ok(()),
            status => Err(format!(
                "vault: a lease was not revoked: {}",
                status_text(status, &reply)
            )),
        }
    }

    fn lock_token(&self) -> MutexGuard<'_, Zeroizing<String>> {
        self.token.lock().unwrap_or_else(PoisonError::into_inner)
    }

    #[cfg_attr(not(feature = "watch"), allow(dead_code))] // Used by a watch's client.
    fn lock_life(&self) -> MutexGuard<'_, Option<TokenLife>> {
        self.life.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn lock_leases(&self) -> MutexGuard<'_, Leases> {
        self.leases.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The lease of an answer, taken out of it: `None` for a secret without one (KV).
fn grant_of(json: &mut Value) -> Option<Grant> {
    let id = match json.get_mut("lease_id") {
        Some(Value::String(id)) if !id.is_empty() => Zeroizing::new(std::mem::take(id)),
        _ => return None,
    };
    let duration = Duration::from_secs(json.get("lease_duration").and_then(Value::as_u64)?);
    let renewable = json
        .get("renewable")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    Some(Grant {
        id,
        since: Instant::now(),
        duration,
        first: duration,
        renewable,
        stale: false,
    })
}

/// `{"lease_id": ..., "increment": N}` built without copies left behind.
fn lease_body(id: &str, increment: Option<Duration>) -> Zeroizing<String> {
    let id = Zeroizing::new(Value::from(id).to_string());
    let increment = increment.map_or(String::new(), |d| format!(",\"increment\":{}", d.as_secs()));
    crate::wiped::concat(&["{\"lease_id\":", &id, &increment, "}"])
}

impl Drop for Vault {
    /// Revokes the leases this client kept, if told to, and a token it made by logging in;
    /// never a token the user gave.
    fn drop(&mut self) {
        let (held, retired) = {
            let mut leases = self.lock_leases();
            if !(leases.keep && leases.revoke_on_drop) {
                (Vec::new(), Vec::new())
            } else {
                let held: Vec<Zeroizing<String>> = leases
                    .by_path
                    .drain()
                    .map(|(_, (_, grant))| grant.id)
                    .collect();
                (held, std::mem::take(&mut leases.retired))
            }
        };
        for id in held.iter().chain(&retired) {
            let _ = self.revoke_lease(id);
        }
        if self.owns_token {
            let _ = self.send("POST", "auth/token/revoke-self", &[], true);
        }
    }
}

/// Why Vault refused a JWT or Kubernetes login, in our words: the server's own text is read to
/// recognise the reason, never shown (it may quote the token's claims).
fn login_refusal(reply: &Reply) -> String {
    let errors = serde_json::from_str::<Value>(&reply.body)
        .ok()
        .and_then(|json| {
            let errors = json.get("errors")?.as_array()?;
            Some(
                errors
                    .iter()
                    .filter_map(Value::as_str)
                    .collect::<Vec<_>>()
                    .join(" ")
                    .to_ascii_lowercase(),
            )
        })
        .unwrap_or_default();
    if errors.contains("audience") || errors.contains("aud claim") {
        "refused: the token's audience (aud) is not one the role accepts (bound_audiences)"
            .to_owned()
    } else if errors.contains("expired") || errors.contains("exp claim") {
        "refused: the token has expired; ask for a fresh one".to_owned()
    } else if errors.contains("role")
        && (errors.contains("not found") || errors.contains("could not be found"))
    {
        "refused: no such role; check VAULT_ROLE".to_owned()
    } else if errors.contains("issuer") || errors.contains("iss claim") {
        "refused: the token's issuer (iss) is not the one configured (bound_issuer)".to_owned()
    } else if errors.contains("signature") || errors.contains("verify") {
        "refused: the token's signature does not verify against the configured keys".to_owned()
    } else if errors.contains("bound")
        || errors.contains("not authorized")
        || errors.contains("claim")
    {
        "refused: the token's claims do not match the role's bounds".to_owned()
    } else {
        format!("refused ({}): check the role and the token", reply.status)
    }
}

/// The GitHub Actions token request URL: `https://`, or `http://` to loopback (a stand-in).
fn check_token_url(url: &str) -> Result<String, Failure> {
    let url = url.trim();
    let (scheme, rest) = url
        .split_once("://")
        .ok_or("vault JWT login: ACTIONS_ID_TOKEN_REQUEST_URL is not a URL")?;
    let authority = rest.split(['/', '?']).next().unwrap_or_default();
    let host = authority.rsplit_once(':').map_or(authority, |(h, _)| h);
    let loopback = host == "localhost"
        || host
            .trim_matches(['[', ']'])
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    if authority.contains('@') || !(scheme == "https" || (scheme == "http" && loopback)) {
        return Err(
            "vault JWT login: ACTIONS_ID_TOKEN_REQUEST_URL must be https (or http to loopback)"
                .to_owned(),
        );
    }
    Ok(url.to_owned())
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
