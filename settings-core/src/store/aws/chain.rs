//! The AWS credential chain, in the order of the AWS SDKs: the environment's keys, web identity
//! (`AWS_WEB_IDENTITY_TOKEN_FILE` + `AWS_ROLE_ARN`), the profile of the shared files (keys,
//! `role_arn` with `source_profile` or `credential_source`, `web_identity_token_file`,
//! `credential_process`), container credentials (ECS, EKS Pod Identity), then instance metadata
//! (IMDSv2). The first provider that is configured is used; when none is, the error lists what
//! was tried, in order, and why it did not apply.
//!
//! Choosing a provider asks nothing; fetching its credentials may (STS, the container or
//! instance endpoints). Temporary credentials carry their expiry and are fetched again before it.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::Value;
use zeroize::Zeroizing;

use super::credentials::{Credentials, Sections, config_file, home, profile, read_ini};
use super::sigv4;
use crate::percent::encode;
use crate::source::Source;
use crate::store::config::var;
use crate::store::http::{Http, Reply, Request, StoreOptions, Verdict};

/// The endpoint of the instance metadata service when `AWS_EC2_METADATA_SERVICE_ENDPOINT` does
/// not name another.
const IMDS_ENDPOINT: &str = "http://169.254.169.254";
/// The ECS container credentials host, for a relative URI.
const ECS_HOST: &str = "http://169.254.170.2";
/// The largest answer of a `credential_process`.
const MAX_PROCESS_OUTPUT: usize = 64 * 1024;

/// Where credentials come from. Holds no secret but a static key pair.
#[derive(Clone)]
pub(crate) enum Provider {
    Static(Credentials),
    WebIdentity {
        token_file: PathBuf,
        role_arn: String,
        session: String,
    },
    AssumeRole {
        role_arn: String,
        session: String,
        external_id: Option<String>,
        source: Box<Provider>,
    },
    Process {
        command: String,
    },
    Container {
        url: String,
        token: Option<Zeroizing<String>>,
        token_file: Option<PathBuf>,
    },
    Imds {
        endpoint: String,
    },
}

impl std::fmt::Debug for Provider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe())
    }
}

impl Provider {
    /// What it is, for messages: never a secret.
    pub(crate) fn describe(&self) -> String {
        match self {
            Provider::Static(c) => format!("the access key {}", c.access_key_id),
            Provider::WebIdentity { role_arn, .. } => format!("web identity for {role_arn}"),
            Provider::AssumeRole {
                role_arn, source, ..
            } => format!("role {role_arn} assumed with {}", source.describe()),
            Provider::Process { .. } => "credential_process".to_owned(),
            Provider::Container { .. } => "container credentials".to_owned(),
            Provider::Imds { .. } => "instance metadata (IMDSv2)".to_owned(),
        }
    }
}

/// Credentials and when they expire (never, for static keys).
pub(crate) struct Fetched {
    pub(crate) credentials: Credentials,
    pub(crate) expires: Option<SystemTime>,
    pub(crate) fetched: SystemTime,
}

impl Fetched {
    /// True when the credentials should be fetched again: past half their life, or within five
    /// minutes of their expiry, whichever comes first.
    pub(crate) fn due(&self, now: SystemTime) -> bool {
        let Some(expires) = self.expires else {
            return false;
        };
        let life = expires
            .duration_since(self.fetched)
            .unwrap_or(Duration::ZERO);
        let margin = (life / 2).min(Duration::from_secs(300));
        now + margin >= expires
    }
}

/// What fetching needs besides the provider.
pub(crate) struct Context<'a> {
    pub(crate) http: &'a Http,
    pub(crate) options: &'a StoreOptions,
    pub(crate) region: &'a str,
    /// `AWS_ENDPOINT_URL_STS`, else `AWS_ENDPOINT_URL`, else the regional endpoint.
    pub(crate) sts_endpoint: &'a str,
}

/// Chooses the provider from the variables and the shared files, asking nothing. `Err` lists
/// every step of the chain and why it did not apply.
pub(crate) fn choose(source: &dyn Source) -> Result<Provider, String> {
    let mut tried: Vec<String> = Vec::new();
    // 1. The environment's keys.
    match (
        var(source, "AWS_ACCESS_KEY_ID"),
        var(source, "AWS_SECRET_ACCESS_KEY"),
    ) {
        (Some(id), Some(secret)) => {
            return Ok(Provider::Static(Credentials {
                access_key_id: id.to_string(),
                secret_access_key: secret,
                session_token: var(source, "AWS_SESSION_TOKEN"),
            }));
        }
        (Some(_), None) => tried
            .push("environment: AWS_ACCESS_KEY_ID is set without AWS_SECRET_ACCESS_KEY".to_owned()),
        _ => tried.push(
            "environment: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set".to_owned(),
        ),
    }
    // 2. Web identity from the environment.
    match (
        var(source, "AWS_WEB_IDENTITY_TOKEN_FILE"),
        var(source, "AWS_ROLE_ARN"),
    ) {
        (Some(file), Some(role)) => {
            return Ok(Provider::WebIdentity {
                token_file: PathBuf::from(file.as_str()),
                role_arn: role.to_string(),
                session: session_name(source),
            });
        }
        (Some(_), None) => tried.push(
            "web identity: AWS_WEB_IDENTITY_TOKEN_FILE is set without AWS_ROLE_ARN".to_owned(),
        ),
        _ => tried.push("web identity: AWS_WEB_IDENTITY_TOKEN_FILE is not set".to_owned()),
    }
    // 3. The profile of the shared files.
    let name = profile(source);
    let files = SharedFiles::read(source);
    match files.provider(&name, source, 0) {
        Ok(Some(provider)) => return Ok(provider),
        Ok(None) => tried.push(format!(
            "profile `{name}`: not in {} or {}",
            files.credentials_name, files.config_name
        )),
        Err(err) => return Err(format!("aws: profile `{name}`: {err}")),
    }
    // 4. Container credentials.
    match container(source) {
        Ok(Some(provider)) => return Ok(provider),
        Ok(None) => tried.push(
            "container: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI and AWS_CONTAINER_CREDENTIALS_FULL_URI are not set"
                .to_owned(),
        ),
        Err(err) => return Err(format!("aws: container credentials: {err}")),
    }
    // 5. Instance metadata.
    if var(source, "AWS_EC2_METADATA_DISABLED").is_some_and(|v| v.eq_ignore_ascii_case("true")) {
        tried.push("instance metadata: turned off by AWS_EC2_METADATA_DISABLED".to_owned());
    } else {
        let endpoint = var(source, "AWS_EC2_METADATA_SERVICE_ENDPOINT").map_or_else(
            || IMDS_ENDPOINT.to_owned(),
            |e| e.trim_end_matches('/').to_owned(),
        );
        return Ok(Provider::Imds { endpoint });
    }
    Err(format!(
        "aws: no credentials; tried, in order: {}",
        tried.join("; ")
    ))
}

fn session_name(source: &dyn Source) -> String {
    var(source, "AWS_ROLE_SESSION_NAME").map_or_else(
        || format!("settings-{}", std::process::id()),
        |s| s.to_string(),
    )
}

/// Container credentials: `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI` (ECS) or `..._FULL_URI` (EKS
/// Pod Identity, or any of the hosts the SDKs allow), with the authorization token of
/// `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE` or `AWS_CONTAINER_AUTHORIZATION_TOKEN`.
fn container(source: &dyn Source) -> Result<Option<Provider>, String> {
    let url = if let Some(relative) = var(source, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI") {
        if !relative.starts_with('/') {
            return Err("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI must start with /".to_owned());
        }
        format!("{ECS_HOST}{}", relative.as_str())
    } else if let Some(full) = var(source, "AWS_CONTAINER_CREDENTIALS_FULL_URI") {
        check_container_url(&full)?;
        full.to_string()
    } else {
        return Ok(None);
    };
    Ok(Some(Provider::Container {
        url,
        token: var(source, "AWS_CONTAINER_AUTHORIZATION_TOKEN"),
        token_file: var(source, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE")
            .map(|p| PathBuf::from(p.as_str())),
    }))
}

/// The hosts the AWS SDKs let a full container URI name: any over HTTPS; over HTTP, loopback,
/// the ECS host and the EKS Pod Identity hosts.
fn check_container_url(url: &str) -> Result<(), String> {
    let Some((scheme, rest)) = url.split_once("://") else {
        return Err("AWS_CONTAINER_CREDENTIALS_FULL_URI must be a URL".to_owned());
    };
    let authority = rest.split('/').next().unwrap_or_default();
    if authority.contains('@') {
        return Err("AWS_CONTAINER_CREDENTIALS_FULL_URI may not hold a user name".to_owned());
    }
    let host = if let Some(bracketed) = authority.strip_prefix('[') {
        bracketed.split(']').next().unwrap_or_default()
    } else {
        authority.rsplit_once(':').map_or(authority, |(h, _)| h)
    };
    let allowed = match scheme {
        "https" => true,
        "http" => {
            let loopback = host == "localhost"
                || host
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback());
            loopback || matches!(host, "169.254.170.2" | "169.254.170.23" | "fd00:ec2::23")
        }
        _ => false,
    };
    if allowed {
        Ok(())
    } else {
        Err("AWS_CONTAINER_CREDENTIALS_FULL_URI must use https, or http to loopback, 169.254.170.2 or the EKS Pod Identity host".to_owned())
    }
}

/// The shared `credentials` and `config` files.
struct SharedFiles {
    credentials: Sections,
    config: Sections,
    credentials_name: String,
    config_name: String,
}

impl SharedFiles {
    fn read(source: &dyn Source) -> SharedFiles {
        let credentials_path = var(source, "AWS_SHARED_CREDENTIALS_FILE")
            .map(|p| PathBuf::from(p.as_str()))
            .or_else(|| home(source).map(|h| h.join(".aws/credentials")));
        let config_path = config_file(source);
        let shown = |path: &Option<PathBuf>, default: &str| {
            path.as_deref()
                .map_or_else(|| default.to_owned(), |p| p.display().to_string())
        };
        SharedFiles {
            credentials: credentials_path
                .as_deref()
                .map(|p| read_ini(p, false))
                .unwrap_or_default(),
            config: config_path
                .as_deref()
                .map(|p| read_ini(p, true))
                .unwrap_or_default(),
            credentials_name: shown(&credentials_path, "~/.aws/credentials"),
            config_name: shown(&config_path, "~/.aws/config"),
        }
    }

    /// A key of profile `name`: the credentials file first, then the config file.
    fn get(&self, name: &str, key: &str) -> Option<Zeroizing<String>> {
        self.credentials
            .get(name)
            .and_then(|s| s.get(key))
            .or_else(|| self.config.get(name).and_then(|s| s.get(key)))
            .cloned()
    }

    fn has(&self, name: &str) -> bool {
        self.credentials.contains_key(name) || self.config.contains_key(name)
    }

    /// The provider of profile `name`, in the SDKs' order: a role to assume, web identity,
    /// static keys, `credential_process`. `None` when the profile does not exist.
    fn provider(
        &self,
        name: &str,
        source: &dyn Source,
        depth: usize,
    ) -> Result<Option<Provider>, String> {
        if depth > 4 {
            return Err("source_profile chains more than four profiles (a loop?)".to_owned());
        }
        if !self.has(name) {
            return Ok(None);
        }
        let get = |key: &str| self.get(name, key);
        if let Some(role_arn) = get("role_arn") {
            let session =
                get("role_session_name").map_or_else(|| session_name(source), |s| s.to_string());
            let external_id = get("external_id").map(|s| s.to_string());
            let source_provider = match (get("source_profile"), get("credential_source")) {
                (Some(profile), None) => {
                    // A profile that names itself uses its own keys as the source.
                    let provider = if profile.as_str() == name {
                        self.keys_or_process(name)
                    } else {
                        self.provider(&profile, source, depth + 1)?
                    };
                    provider.ok_or_else(|| {
                        format!("its source_profile `{}` has no credentials", profile.as_str())
                    })?
                }
                (None, Some(kind)) => match kind.as_str() {
                    "Environment" => match choose_environment(source) {
                        Some(provider) => provider,
                        None => return Err("credential_source = Environment, but AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set".to_owned()),
                    },
                    "Ec2InstanceMetadata" => Provider::Imds {
                        endpoint: var(source, "AWS_EC2_METADATA_SERVICE_ENDPOINT").map_or_else(
                            || IMDS_ENDPOINT.to_owned(),
                            |e| e.trim_end_matches('/').to_owned(),
                        ),
                    },
                    "EcsContainer" => container(source)?.ok_or(
                        "credential_source = EcsContainer, but no container credentials URI is set",
                    )?,
                    _ => {
                        return Err(
                            "credential_source must be Environment, Ec2InstanceMetadata or EcsContainer"
                                .to_owned(),
                        );
                    }
                },
                (Some(_), Some(_)) => {
                    return Err("set source_profile or credential_source, not both".to_owned());
                }
                (None, None) => {
                    if let Some(file) = get("web_identity_token_file") {
                        return Ok(Some(Provider::WebIdentity {
                            token_file: PathBuf::from(file.as_str()),
                            role_arn: role_arn.to_string(),
                            session,
                        }));
                    }
                    return Err("role_arn needs source_profile, credential_source or web_identity_token_file".to_owned());
                }
            };
            return Ok(Some(Provider::AssumeRole {
                role_arn: role_arn.to_string(),
                session,
                external_id,
                source: Box::new(source_provider),
            }));
        }
        Ok(self.keys_or_process(name))
    }

    fn keys_or_process(&self, name: &str) -> Option<Provider> {
        let get = |key: &str| self.get(name, key);
        if let (Some(id), Some(secret)) = (get("aws_access_key_id"), get("aws_secret_access_key")) {
            return Some(Provider::Static(Credentials {
                access_key_id: id.to_string(),
                secret_access_key: secret,
                session_token: get("aws_session_token"),
            }));
        }
        get("credential_process").map(|command| Provider::Process {
            command: command.to_string(),
        })
    }
}

fn choose_environment(source: &dyn Source) -> Option<Provider> {
    let id = var(source, "AWS_ACCESS_KEY_ID")?;
    let secret = var(source, "AWS_SECRET_ACCESS_KEY")?;
    Some(Provider::Static(Credentials {
        access_key_id: id.to_string(),
        secret_access_key: secret,
        session_token: var(source, "AWS_SESSION_TOKEN"),
    }))
}

impl Provider {
    /// The credentials, asking whatever the provider asks.
    pub(crate) fn fetch(&self, context: &Context<'_>) -> Result<Fetched, String> {
        let fetched = SystemTime::now();
        let (credentials, expires) = match self {
            Provider::Static(credentials) => (credentials.clone(), None),
            Provider::WebIdentity {
                token_file,
                role_arn,
                session,
            } => {
                let token = read_token(token_file, "the web identity token file")?;
                let body = form(&[
                    ("Action", "AssumeRoleWithWebIdentity"),
                    ("Version", "2011-06-15"),
                    ("RoleArn", role_arn),
                    ("RoleSessionName", session),
                    ("WebIdentityToken", &token),
                ]);
                sts(context, body, None)
                    .map_err(|e| format!("aws: web identity for {role_arn}: {e}"))?
            }
            Provider::AssumeRole {
                role_arn,
                session,
                external_id,
                source,
            } => {
                let source_credentials = source.fetch(context)?.credentials;
                let mut fields = vec![
                    ("Action", "AssumeRole"),
                    ("Version", "2011-06-15"),
                    ("RoleArn", role_arn.as_str()),
                    ("RoleSessionName", session.as_str()),
                ];
                if let Some(id) = external_id {
                    fields.push(("ExternalId", id));
                }
                sts(context, form(&fields), Some(&source_credentials))
                    .map_err(|e| format!("aws: assuming role {role_arn}: {e}"))?
            }
            Provider::Process { command } => process(command)?,
            Provider::Container {
                url,
                token,
                token_file,
            } => {
                let authorization = match (token_file, token) {
                    (Some(file), _) => {
                        Some(read_token(file, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE")?)
                    }
                    (None, Some(token)) => Some(token.clone()),
                    (None, None) => None,
                };
                let mut headers = Vec::new();
                if let Some(authorization) = authorization {
                    headers.push(("Authorization".to_owned(), authorization));
                }
                let reply = get(context, url, headers, 3)
                    .map_err(|e| format!("aws: container credentials: {e}"))?;
                credentials_json(&reply.body)
                    .map_err(|e| format!("aws: container credentials: {e}"))?
            }
            Provider::Imds { endpoint } => imds(context, endpoint)?,
        };
        Ok(Fetched {
            credentials,
            expires,
            fetched,
        })
    }
}

/// A token file's content, trimmed: at most 64 KiB, a regular file.
fn read_token(path: &Path, what: &str) -> Result<Zeroizing<String>, String> {
    match crate::source::files::read_text_capped(path, 64 * 1024) {
        Ok(Some(text)) => Ok(Zeroizing::new(text.trim().to_owned())),
        Ok(None) => Err(format!("aws: {what} is not valid UTF-8")),
        Err(err) => Err(format!("aws: {what}: {err}")),
    }
}

/// `key=value&...`, percent-encoded, built without copies of the values left behind.
fn form(fields: &[(&str, &str)]) -> Zeroizing<String> {
    let encoded: Vec<Zeroizing<String>> = fields
        .iter()
        .map(|(k, v)| Zeroizing::new(format!("{k}={}", encode(v, false))))
        .collect();
    let mut parts: Vec<&str> = Vec::new();
    for (i, field) in encoded.iter().enumerate() {
        if i > 0 {
            parts.push("&");
        }
        parts.push(field);
    }
    crate::wiped::concat(&parts)
}

/// One STS query call: signed with `credentials`, or not (web identity).
fn sts(
    context: &Context<'_>,
    body: Zeroizing<String>,
    credentials: Option<&Credentials>,
) -> Result<(Credentials, Option<SystemTime>), String> {
    let endpoint = context.sts_endpoint;
    let host = endpoint
        .split_once("://")
        .map_or(endpoint, |(_, rest)| rest)
        .split('/')
        .next()
        .unwrap_or_default()
        .to_owned();
    let mut headers = vec![(
        "content-type".to_owned(),
        Zeroizing::new(sigv4::FORM.to_owned()),
    )];
    if let Some(credentials) = credentials {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let signed = sigv4::sign(
            credentials,
            context.region,
            "sts",
            &host,
            sigv4::FORM,
            None,
            body.as_bytes(),
            &sigv4::amz_date(now),
        );
        headers.extend(signed.headers);
    }
    let request = Request {
        method: "POST",
        url: format!("{endpoint}/"),
        headers,
        body: Zeroizing::new(body.as_bytes().to_vec()),
    };
    let judge = |reply: &Reply| match reply.status {
        429 | 500..=599 => Verdict::Retry,
        _ => Verdict::Done,
    };
    let reply = context
        .http
        .send(&request, judge)
        .map_err(|f| f.describe(endpoint, "check AWS_ENDPOINT_URL_STS and the network"))?;
    if reply.status != 200 {
        // The error's code only; STS's message is not shown.
        let code = xml_value(&reply.body, "Code").unwrap_or_default();
        let code = if code.chars().all(|c| c.is_ascii_alphanumeric() || c == '.') {
            code.to_string()
        } else {
            String::new()
        };
        return Err(match (reply.status, code.as_str()) {
            (_, "") => format!("STS answered HTTP {}", reply.status),
            (_, "InvalidIdentityToken") => "STS refused the web identity token (InvalidIdentityToken): check its audience and issuer".to_owned(),
            (_, "ExpiredTokenException") => "the web identity token has expired (ExpiredTokenException)".to_owned(),
            (_, "AccessDenied") => "access denied (AccessDenied): the role's trust policy does not allow this principal".to_owned(),
            (status, code) => format!("STS answered HTTP {status} ({code})"),
        });
    }
    let field = |tag: &str| {
        xml_value(&reply.body, tag).ok_or_else(|| format!("the STS answer holds no {tag}"))
    };
    let credentials = Credentials {
        access_key_id: field("AccessKeyId")?.to_string(),
        secret_access_key: field("SecretAccessKey")?,
        session_token: Some(field("SessionToken")?),
    };
    let expires = xml_value(&reply.body, "Expiration").and_then(|e| parse_time(&e));
    Ok((credentials, expires))
}

/// The text of the first `<tag>...</tag>` of an XML answer.
fn xml_value(xml: &str, tag: &str) -> Option<Zeroizing<String>> {
    let open = format!("<{tag}>");
    let start = xml.find(&open)? + open.len();
    let end = start + xml[start..].find(&format!("</{tag}>"))?;
    Some(Zeroizing::new(
        xml[start..end]
            .trim()
            .replace("&amp;", "&")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&apos;", "'"),
    ))
}

/// `GET url`: short timeouts, a few attempts.
fn get(
    context: &Context<'_>,
    url: &str,
    headers: Vec<(String, Zeroizing<String>)>,
    attempts: u32,
) -> Result<Reply, String> {
    let mut options = context.options.clone();
    options.connect_timeout = options.connect_timeout.min(Duration::from_secs(1));
    options.request_timeout = options.request_timeout.min(Duration::from_secs(5));
    options.attempts = attempts;
    let http = Http::new(&options, None)?;
    let request = Request {
        method: "GET",
        url: url.to_owned(),
        headers,
        body: Zeroizing::new(Vec::new()),
    };
    let reply = http
        .send(&request, |reply| match reply.status {
            429 | 500..=599 => Verdict::Retry,
            _ => Verdict::Done,
        })
        .map_err(|f| f.describe(url, "check that the endpoint is reachable from here"))?;
    match reply.status {
        200 => Ok(reply),
        status => Err(format!("HTTP {status}")),
    }
}

/// The JSON the container endpoint, IMDS and `credential_process` answer with.
fn credentials_json(body: &str) -> Result<(Credentials, Option<SystemTime>), String> {
    let mut json: Value =
        serde_json::from_str(body).map_err(|_| "the answer is not valid JSON".to_owned())?;
    let mut take = |key: &str| match json.get_mut(key) {
        Some(Value::String(text)) => Some(Zeroizing::new(std::mem::take(text))),
        _ => None,
    };
    let id = take("AccessKeyId");
    let secret = take("SecretAccessKey");
    let token = take("Token").or_else(|| take("SessionToken"));
    let expires = take("Expiration").and_then(|e| parse_time(&e));
    crate::wiped::wipe_json(&mut json);
    match (id, secret) {
        (Some(id), Some(secret)) => Ok((
            Credentials {
                access_key_id: id.to_string(),
                secret_access_key: secret,
                session_token: token,
            },
            expires,
        )),
        _ => Err("the answer holds no AccessKeyId and SecretAccessKey".to_owned()),
    }
}

/// IMDSv2: a session token, the role's name, then its credentials.
fn imds(
    context: &Context<'_>,
    endpoint: &str,
) -> Result<(Credentials, Option<SystemTime>), String> {
    let fail = |e: String| {
        format!(
            "aws: instance metadata at {endpoint}: {e} (not on EC2? set AWS_EC2_METADATA_DISABLED=true to skip it)"
        )
    };
    let mut options = context.options.clone();
    options.connect_timeout = options.connect_timeout.min(Duration::from_secs(1));
    options.request_timeout = options.request_timeout.min(Duration::from_secs(2));
    options.attempts = 2;
    let http = Http::new(&options, None).map_err(fail)?;
    let token_request = Request {
        method: "PUT",
        url: format!("{endpoint}/latest/api/token"),
        headers: vec![(
            "X-aws-ec2-metadata-token-ttl-seconds".to_owned(),
            Zeroizing::new("21600".to_owned()),
        )],
        body: Zeroizing::new(Vec::new()),
    };
    let reply = http
        .send(&token_request, |_| Verdict::Done)
        .map_err(|f| fail(f.describe(endpoint, "")))?;
    if reply.status != 200 {
        return Err(fail(format!(
            "the session token was refused (HTTP {})",
            reply.status
        )));
    }
    let token = Zeroizing::new(reply.body.trim().to_owned());
    let with_token = || {
        vec![(
            "X-aws-ec2-metadata-token".to_owned(),
            Zeroizing::new(token.to_string()),
        )]
    };
    let base = format!("{endpoint}/latest/meta-data/iam/security-credentials/");
    let roles = get(context, &base, with_token(), 2).map_err(fail)?;
    let role = roles
        .body
        .lines()
        .next()
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .ok_or_else(|| fail("the instance has no IAM role".to_owned()))?
        .to_owned();
    let answer = get(
        context,
        &format!("{base}{}", encode(&role, true)),
        with_token(),
        2,
    )
    .map_err(fail)?;
    credentials_json(&answer.body).map_err(fail)
}

/// Runs a `credential_process` (through the shell, as the SDKs do) and reads its JSON. Its
/// output is never shown: it holds the credentials.
fn process(command: &str) -> Result<(Credentials, Option<SystemTime>), String> {
    let output = std::process::Command::new("sh")
        .args(["-c", command])
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::inherit())
        .output()
        .map_err(|e| format!("aws: credential_process could not run: {e}"))?;
    let stdout = Zeroizing::new(output.stdout);
    if !output.status.success() {
        return Err(format!(
            "aws: credential_process failed ({}); its output is not shown",
            output.status
        ));
    }
    if stdout.len() > MAX_PROCESS_OUTPUT {
        return Err("aws: credential_process wrote more than 64 KiB".to_owned());
    }
    let text = std::str::from_utf8(&stdout)
        .map_err(|_| "aws: credential_process wrote something that is not UTF-8".to_owned())?;
    let version = serde_json::from_str::<Value>(text)
        .ok()
        .and_then(|json| json.get("Version").and_then(Value::as_u64));
    if version != Some(1) {
        return Err("aws: credential_process must write JSON with \"Version\": 1".to_owned());
    }
    credentials_json(text).map_err(|e| format!("aws: credential_process: {e}"))
}

/// An ISO 8601 time in UTC (`2026-11-28T10:00:00Z`, fractions and `+00:00` allowed).
pub(crate) fn parse_time(text: &str) -> Option<SystemTime> {
    let text = text.trim();
    let (date, time) = text.split_once('T')?;
    let mut date = date.split('-').map(|p| p.parse::<i64>().ok());
    let (year, month, day) = (date.next()??, date.next()??, date.next()??);
    let time = time
        .trim_end_matches('Z')
        .trim_end_matches("+00:00")
        .split('.')
        .next()?;
    let mut time = time.split(':').map(|p| p.parse::<i64>().ok());
    let (hour, minute, second) = (time.next()??, time.next()??, time.next()??);
    if !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    let days = days_from_civil(year, month, day);
    let seconds = days * 86_400 + hour * 3600 + minute * 60 + second;
    u64::try_from(seconds)
        .ok()
        .map(|s| UNIX_EPOCH + Duration::from_secs(s))
}

/// Days since 1970-01-01 of a date of the proleptic Gregorian calendar.
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let yoe = year - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::Vars;

    fn chosen(pairs: &[(&str, &str)]) -> Result<Provider, String> {
        choose(&Vars::new(
            pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())),
        ))
    }

    #[test]
    fn the_chain_lists_what_it_tried() {
        let err = chosen(&[
            ("HOME", "/nonexistent"),
            ("AWS_EC2_METADATA_DISABLED", "true"),
        ])
        .unwrap_err();
        assert!(
            err.starts_with("aws: no credentials; tried, in order: environment:"),
            "{err}"
        );
        for step in [
            "web identity:",
            "profile `default`:",
            "container:",
            "instance metadata: turned off",
        ] {
            assert!(err.contains(step), "{step}: {err}");
        }
    }

    #[test]
    fn each_step_is_chosen_in_the_sdks_order() {
        let home = [("HOME", "/nonexistent")];
        let with = |extra: &[(&'static str, &'static str)]| {
            let mut all: Vec<(&str, &str)> = home.to_vec();
            all.extend_from_slice(extra);
            chosen(&all).map(|p| p.describe())
        };
        assert_eq!(
            with(&[
                ("AWS_ACCESS_KEY_ID", "AKID"),
                ("AWS_SECRET_ACCESS_KEY", "s"),
                ("AWS_WEB_IDENTITY_TOKEN_FILE", "/t"),
                ("AWS_ROLE_ARN", "arn:aws:iam::1:role/r")
            ])
            .unwrap(),
            "the access key AKID"
        );
        assert_eq!(
            with(&[
                ("AWS_WEB_IDENTITY_TOKEN_FILE", "/t"),
                ("AWS_ROLE_ARN", "arn:aws:iam::1:role/r"),
                ("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/v2/x")
            ])
            .unwrap(),
            "web identity for arn:aws:iam::1:role/r"
        );
        assert_eq!(
            with(&[(
                "AWS_CONTAINER_CREDENTIALS_FULL_URI",
                "http://127.0.0.1:9/creds"
            )])
            .unwrap(),
            "container credentials"
        );
        assert_eq!(with(&[]).unwrap(), "instance metadata (IMDSv2)");
        let refused = with(&[(
            "AWS_CONTAINER_CREDENTIALS_FULL_URI",
            "http://evil.example/creds",
        )])
        .unwrap_err();
        assert!(
            refused.contains("must use https, or http to loopback"),
            "{refused}"
        );
    }

    #[test]
    fn times() {
        let t = parse_time("2026-11-28T10:00:00Z").unwrap();
        assert_eq!(
            t.duration_since(UNIX_EPOCH).unwrap().as_secs(),
            1_795_860_000
        );
        assert_eq!(parse_time("2026-11-28T10:00:00.123+00:00"), Some(t));
        assert_eq!(parse_time("2026-13-28T10:00:00Z"), None);
        assert_eq!(parse_time("yesterday"), None);
    }

    #[test]
    fn fetched_credentials_are_due_before_they_expire() {
        let now = SystemTime::now();
        let fetched = |life: u64| Fetched {
            credentials: Credentials::new("a", "b", None),
            expires: Some(now + Duration::from_secs(life)),
            fetched: now,
        };
        assert!(!fetched(3600).due(now + Duration::from_secs(3000)));
        assert!(fetched(3600).due(now + Duration::from_secs(3301)));
        assert!(!fetched(10).due(now + Duration::from_secs(4)));
        assert!(fetched(10).due(now + Duration::from_secs(5)));
    }
}
