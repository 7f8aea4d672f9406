//! AWS SSM Parameter Store and Secrets Manager over JSON 1.1, signed with our own SigV4.

mod chain;
mod credentials;
mod sigv4;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Mutex, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};
use zeroize::Zeroizing;

pub use credentials::Credentials;

use super::http::{Http, Reply, Request, StoreOptions, Verdict};
use crate::source::Source;
use crate::store::config::var;

/// How to reach AWS. [`AwsConfig::from_source`] follows the AWS conventions.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct AwsConfig {
    /// Explicit credentials; else the credential chain of the AWS SDKs (see the README).
    pub credentials: Option<Credentials>,
    /// The provider the chain chose, when it is not a static key.
    pub(crate) provider: Option<chain::Provider>,
    /// Explicit region; else `AWS_REGION`, `AWS_DEFAULT_REGION`, the profile's `region`.
    pub region: Option<String>,
    /// Endpoint of SSM (`AWS_ENDPOINT_URL_SSM`, then `AWS_ENDPOINT_URL`).
    pub ssm_endpoint: Option<String>,
    /// Endpoint of Secrets Manager (`AWS_ENDPOINT_URL_SECRETS_MANAGER`, then `AWS_ENDPOINT_URL`).
    pub secrets_manager_endpoint: Option<String>,
    /// `AWS_CA_BUNDLE`: a PEM bundle of trusted roots.
    pub ca_bundle: Option<PathBuf>,
    /// Endpoint of STS (`AWS_ENDPOINT_URL_STS`, then `AWS_ENDPOINT_URL`), for roles and web
    /// identity; else the regional endpoint.
    pub sts_endpoint: Option<String>,
}

impl AwsConfig {
    /// Resolves credentials, region and endpoints from `source` (the environment and `.env`
    /// files of a load) and the shared AWS files.
    pub fn from_source(source: &dyn Source) -> Result<AwsConfig, String> {
        let endpoint = |specific: &str| {
            var(source, specific)
                .or_else(|| var(source, "AWS_ENDPOINT_URL"))
                .map(|e| e.trim_end_matches('/').to_owned())
        };
        let region = credentials::region(source)?;
        let provider = chain::choose(source)?;
        let (credentials, provider) = match provider {
            chain::Provider::Static(credentials) => (Some(credentials), None),
            other => (None, Some(other)),
        };
        Ok(AwsConfig {
            credentials,
            provider,
            region: Some(region),
            ssm_endpoint: endpoint("AWS_ENDPOINT_URL_SSM"),
            secrets_manager_endpoint: endpoint("AWS_ENDPOINT_URL_SECRETS_MANAGER"),
            ca_bundle: var(source, "AWS_CA_BUNDLE").map(|p| PathBuf::from(p.as_str())),
            sts_endpoint: endpoint("AWS_ENDPOINT_URL_STS"),
        })
    }
}

/// A connected client for both services.
pub(crate) struct Aws {
    http: Http,
    options: StoreOptions,
    provider: chain::Provider,
    /// The credentials in use and their expiry: fetched again before it.
    current: Mutex<chain::Fetched>,
    region: String,
    ssm_endpoint: String,
    secrets_manager_endpoint: String,
    sts_endpoint: String,
}

/// An AWS error: the `__type` (without its namespace) and the status. The message is not kept.
struct AwsError {
    kind: String,
    status: u16,
}

const THROTTLING: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottledException",
    "TooManyRequestsException",
    "ProvisionedThroughputExceededException",
    "TransactionInProgressException",
    "RequestLimitExceeded",
    "BandwidthLimitExceeded",
    "LimitExceededException",
    "RequestThrottled",
    "SlowDown",
    "PriorRequestNotComplete",
    "EC2ThrottledException",
];

impl Aws {
    pub fn connect(config: &AwsConfig, options: &StoreOptions) -> Result<Aws, String> {
        let provider = match (&config.credentials, &config.provider) {
            (Some(credentials), _) => chain::Provider::Static(credentials.clone()),
            (None, Some(provider)) => provider.clone(),
            (None, None) => return Err("aws: no credentials".to_owned()),
        };
        let region = config
            .region
            .as_deref()
            .ok_or("aws: no region; set AWS_REGION")?;
        let region = super::check_region(region)?;
        let endpoint = |given: &Option<String>, service: &str, what: &str| match given {
            Some(url) => super::check_address(url, options.allow_insecure_http, what)
                .map_err(|err| format!("aws: {err}")),
            None => Ok(format!("https://{service}.{region}.amazonaws.com")),
        };
        let ssm_endpoint = endpoint(&config.ssm_endpoint, "ssm", "the SSM endpoint")?;
        let secrets_manager_endpoint = endpoint(
            &config.secrets_manager_endpoint,
            "secretsmanager",
            "the Secrets Manager endpoint",
        )?;
        let sts_endpoint = endpoint(&config.sts_endpoint, "sts", "the STS endpoint")?;
        let http =
            Http::new(options, config.ca_bundle.as_deref()).map_err(|e| format!("aws: {e}"))?;
        let context = chain::Context {
            http: &http,
            options,
            region: &region,
            sts_endpoint: &sts_endpoint,
        };
        let current = provider.fetch(&context)?;
        Ok(Aws {
            http,
            options: options.clone(),
            provider,
            current: Mutex::new(current),
            ssm_endpoint,
            secrets_manager_endpoint,
            sts_endpoint,
            region,
        })
    }

    /// The credentials to sign with: fetched again when they near their expiry.
    fn credentials(&self) -> Result<Credentials, String> {
        let mut current = self.current.lock().unwrap_or_else(PoisonError::into_inner);
        if current.due(SystemTime::now()) {
            let context = chain::Context {
                http: &self.http,
                options: &self.options,
                region: &self.region,
                sts_endpoint: &self.sts_endpoint,
            };
            *current = self.provider.fetch(&context)?;
        }
        Ok(current.credentials.clone())
    }

    /// One JSON 1.1 call, signed, with retries on 5xx, 429, throttling and connection errors.
    fn call(&self, service: &str, target: &str, body: &Value) -> Result<Value, String> {
        let endpoint = if service == "ssm" {
            &self.ssm_endpoint
        } else {
            &self.secrets_manager_endpoint
        };
        let host = endpoint
            .split_once("://")
            .map_or(endpoint.as_str(), |(_, rest)| rest)
            .split('/')
            .next()
            .unwrap_or_default()
            .to_owned();
        let body = Zeroizing::new(body.to_string().into_bytes());
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let credentials = self.credentials()?;
        let signed = sigv4::sign(
            &credentials,
            &self.region,
            service,
            &host,
            sigv4::JSON_1_1,
            Some(target),
            &body,
            &sigv4::amz_date(now),
        );
        let mut headers = vec![
            (
                "content-type".to_owned(),
                Zeroizing::new("application/x-amz-json-1.1".to_owned()),
            ),
            ("x-amz-target".to_owned(), Zeroizing::new(target.to_owned())),
        ];
        headers.extend(signed.headers);
        let request = Request {
            method: "POST",
            url: format!("{endpoint}/"),
            headers,
            body,
        };
        let judge = |reply: &Reply| {
            let error = aws_error(reply);
            match (reply.status, error) {
                (_, Some(e)) if THROTTLING.contains(&e.kind.as_str()) => Verdict::Throttled,
                (429, _) => Verdict::Throttled,
                (500 | 502 | 503 | 504, _) => Verdict::Retry,
                _ => Verdict::Done,
            }
        };
        let reply = self.http.send(&request, judge).map_err(|failure| {
            failure.describe(
                endpoint,
                "check the network, AWS_REGION and AWS_ENDPOINT_URL",
            )
        })?;
        if reply.status == 200 {
            return serde_json::from_str(&reply.body)
                .map_err(|_| "the answer is not valid JSON".to_owned());
        }
        Err(match aws_error(&reply) {
            Some(error) => describe(&error),
            None => format!("unexpected answer (HTTP {})", reply.status),
        })
    }

    /// `GetParameters` for up to 10 names: the values found; missing names are absent.
    pub fn get_parameters(
        &self,
        names: &[&str],
    ) -> Result<HashMap<String, Zeroizing<String>>, String> {
        let answer = self.call(
            "ssm",
            "AmazonSSM.GetParameters",
            &json!({ "Names": names, "WithDecryption": true }),
        )?;
        let mut answer = answer;
        let mut values = HashMap::new();
        for (name, value, selector) in parameters(&mut answer) {
            // A selector (`name:3`, `name:label`) comes back as the plain name and its Selector.
            if let Some(selector) = selector {
                values.insert(format!("{name}{selector}"), value.clone());
            }
            values.insert(name, value);
        }
        crate::wiped::wipe_json(&mut answer);
        Ok(values)
    }

    /// `GetParametersByPath`, recursive and decrypted, following every page.
    pub fn get_parameters_by_path(
        &self,
        path: &str,
    ) -> Result<Vec<(String, Zeroizing<String>)>, String> {
        let mut values = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let mut body = json!({ "Path": path, "Recursive": true, "WithDecryption": true, "MaxResults": 10 });
            if let Some(token) = &token {
                body["NextToken"] = Value::String(token.clone());
            }
            let mut answer = self.call("ssm", "AmazonSSM.GetParametersByPath", &body)?;
            values.extend(parameters(&mut answer).map(|(name, value, _)| (name, value)));
            let next = answer
                .get("NextToken")
                .and_then(Value::as_str)
                .filter(|next| !next.is_empty())
                .map(str::to_owned);
            crate::wiped::wipe_json(&mut answer);
            match next {
                Some(next) => token = Some(next),
                None => return Ok(values),
            }
        }
    }

    /// Secret strings of up to 20 secrets in one `BatchGetSecretValue`; per-secret failures are
    /// `Err` entries.
    pub fn batch_get_secrets(
        &self,
        ids: &[&str],
    ) -> Result<HashMap<String, Result<Zeroizing<String>, String>>, String> {
        let mut answer = self.call(
            "secretsmanager",
            "secretsmanager.BatchGetSecretValue",
            &json!({ "SecretIdList": ids }),
        )?;
        let mut found: HashMap<String, Result<Zeroizing<String>, String>> = HashMap::new();
        for secret in answer
            .get("SecretValues")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let value = secret_string(secret);
            for field in ["Name", "ARN"] {
                if let Some(id) = secret.get(field).and_then(Value::as_str) {
                    found.insert(id.to_owned(), value.clone());
                }
            }
        }
        for error in answer
            .get("Errors")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(id) = error.get("SecretId").and_then(Value::as_str) {
                let kind = error
                    .get("ErrorCode")
                    .and_then(Value::as_str)
                    .unwrap_or("Error");
                let error = AwsError {
                    kind: kind.to_owned(),
                    status: 200,
                };
                found.insert(id.to_owned(), Err(describe(&error)));
            }
        }
        crate::wiped::wipe_json(&mut answer);
        Ok(found)
    }
}

/// The `(Name, Value, Selector)` of each parameter of an SSM answer; each value is moved out of
/// the answer, not copied.
fn parameters(
    answer: &mut Value,
) -> impl Iterator<Item = (String, Zeroizing<String>, Option<String>)> + '_ {
    let list = answer.get_mut("Parameters").and_then(Value::as_array_mut);
    list.into_iter().flatten().filter_map(|parameter| {
        let name = parameter.get("Name")?.as_str()?.to_owned();
        let value = match parameter.get_mut("Value")? {
            Value::String(value) => Zeroizing::new(std::mem::take(value)),
            _ => return None,
        };
        let selector = parameter
            .get("Selector")
            .and_then(Value::as_str)
            .map(str::to_owned);
        Some((name, value, selector))
    })
}

fn secret_string(secret: &Value) -> Result<Zeroizing<String>, String> {
    match secret.get("SecretString").and_then(Value::as_str) {
        Some(text) => Ok(Zeroizing::new(text.to_owned())),
        None => Err("the secret holds binary data, not a string".to_owned()),
    }
}

/// The error of a non-200 answer: JSON `__type`, or moto's XML for auth errors.
fn aws_error(reply: &Reply) -> Option<AwsError> {
    if reply.status == 200 {
        return None;
    }
    if let Ok(json) = serde_json::from_str::<Value>(&reply.body) {
        let kind = json.get("__type").and_then(Value::as_str)?;
        let kind = kind.rsplit_once('#').map_or(kind, |(_, k)| k);
        return Some(AwsError {
            kind: kind.to_owned(),
            status: reply.status,
        });
    }
    let between = |open: &str, close: &str| {
        let start = reply.body.find(open)? + open.len();
        let end = reply.body[start..].find(close)? + start;
        Some(reply.body[start..end].to_owned())
    };
    between("<Code>", "</Code>").map(|kind| AwsError {
        kind,
        status: reply.status,
    })
}

/// An AWS error for a person: the error code and our own advice. The server's message is never
/// shown: it may quote what it was sent (a parameter name that was a secret, a key id).
fn describe(error: &AwsError) -> String {
    let advice = match error.kind.as_str() {
        "ParameterNotFound" | "ResourceNotFoundException" | "ParameterVersionNotFound" => {
            "not found"
        }
        "AccessDeniedException"
        | "AccessDenied"
        | "UnrecognizedClientException"
        | "InvalidClientTokenId" => "permission denied: check the credentials and their IAM policy",
        "SignatureDoesNotMatch" => "signature rejected: check AWS_SECRET_ACCESS_KEY",
        "ExpiredTokenException" | "ExpiredToken" => "the session token has expired",
        "DecryptionFailure" => "cannot decrypt: check the KMS key policy",
        "ValidationException" | "InvalidParameterException" | "InvalidRequestException" => {
            "the request was refused as invalid: check the name"
        }
        kind if THROTTLING.contains(&kind) => "throttled: too many requests, even after retries",
        _ => "the request failed",
    };
    // An error code is an identifier; anything else in its place is not shown either.
    let code_like = !error.kind.is_empty()
        && error.kind.len() <= 64
        && error
            .kind
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.');
    // A failure inside a batch answer arrives with HTTP 200: no status is worth showing then.
    let status = (error.status != 200).then(|| format!("HTTP {}", error.status));
    let parts: Vec<&str> = [code_like.then_some(error.kind.as_str()), status.as_deref()]
        .into_iter()
        .flatten()
        .collect();
    if parts.is_empty() {
        advice.to_owned()
    } else {
        format!("{advice} ({})", parts.join(", "))
    }
}
