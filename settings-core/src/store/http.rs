//! The blocking HTTP client shared by the stores: timeouts, bounded retries with exponential
//! backoff and jitter. ureq starts no async runtime, so it is safe inside one.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use zeroize::Zeroizing;

/// Timeouts and retries of store requests.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct StoreOptions {
    /// Time to open a connection (default 3 s).
    pub connect_timeout: Duration,
    /// Time for a whole request, response included (default 15 s).
    pub request_timeout: Duration,
    /// Attempts per request, the first included (default 3).
    pub attempts: u32,
    /// Base delay of the exponential backoff (default 50 ms); the delay before retry `i` is a
    /// random fraction of `base * 2^i`, capped at 20 s.
    pub base_delay: Duration,
    /// Base delay after a throttling answer (default 1 s).
    pub throttle_delay: Duration,
    /// Allows `http://` store addresses to hosts other than loopback (default `false`):
    /// credentials then cross the network in the clear. Also set by
    /// `SETTINGS_ALLOW_INSECURE_HTTP=true` in the environment.
    pub allow_insecure_http: bool,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            connect_timeout: Duration::from_secs(3),
            request_timeout: Duration::from_secs(15),
            attempts: 3,
            base_delay: Duration::from_millis(50),
            throttle_delay: Duration::from_secs(1),
            allow_insecure_http: false,
        }
    }
}

/// One HTTP request.
pub(crate) struct Request {
    pub method: &'static str,
    pub url: String,
    /// Header values may hold a token: they are wiped when dropped.
    pub headers: Vec<(String, Zeroizing<String>)>,
    /// The body may hold a secret (an AppRole secret id): wiped when dropped.
    pub body: Zeroizing<Vec<u8>>,
}

/// A response: status and body. The body may hold secrets: it is wiped when dropped.
pub(crate) struct Reply {
    pub status: u16,
    pub body: Zeroizing<String>,
}

/// What the caller makes of a response.
pub(crate) enum Verdict {
    /// Final: hand it back.
    Done,
    /// Worth another attempt after a normal backoff.
    Retry,
    /// Worth another attempt after a throttling backoff.
    Throttled,
}

pub(crate) struct Http {
    agent: ureq::Agent,
    options: StoreOptions,
}

impl Http {
    /// A client; `ca_bundle` adds a PEM bundle of trusted roots (a private CA) in place of the
    /// built-in ones.
    pub fn new(options: &StoreOptions, ca_bundle: Option<&Path>) -> Result<Http, String> {
        let mut config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(options.connect_timeout))
            .timeout_global(Some(options.request_timeout))
            .max_redirects(0)
            .user_agent(concat!("settings-rs/", env!("CARGO_PKG_VERSION")));
        if let Some(path) = ca_bundle {
            let pem = crate::source::files::read_capped(path, 1024 * 1024)
                .map_err(|err| format!("the CA bundle {}: {err}", path.display()))?;
            let certs: Vec<_> = ureq::tls::parse_pem(&pem[..])
                .filter_map(|item| match item {
                    Ok(ureq::tls::PemItem::Certificate(cert)) => Some(cert),
                    _ => None,
                })
                .collect();
            if certs.is_empty() {
                return Err(format!(
                    "the CA bundle {} holds no certificate",
                    path.display()
                ));
            }
            let tls = ureq::tls::TlsConfig::builder()
                .root_certs(ureq::tls::RootCerts::Specific(Arc::new(certs)))
                .build();
            config = config.tls_config(tls);
        }
        Ok(Http {
            agent: config.build().into(),
            options: options.clone(),
        })
    }

    /// Sends `request`, retrying connection failures and the answers `judge` calls retryable.
    /// `Err` is a transport failure after the last attempt, or an answer refused at once,
    /// described without any secret.
    pub fn send(
        &self,
        request: &Request,
        judge: impl Fn(&Reply) -> Verdict,
    ) -> Result<Reply, Failure> {
        let attempts = self.options.attempts.max(1);
        let mut last_error = String::new();
        for attempt in 0..attempts {
            let base = match self.send_once(request) {
                Err(Failure::Final(err)) => return Err(Failure::Final(err)),
                Ok(reply) => match judge(&reply) {
                    Verdict::Done => return Ok(reply),
                    _ if attempt + 1 == attempts => return Ok(reply),
                    Verdict::Retry => self.options.base_delay,
                    Verdict::Throttled => self.options.throttle_delay,
                },
                Err(Failure::Retry(err)) => {
                    last_error = err;
                    self.options.base_delay
                }
            };
            if attempt + 1 < attempts {
                std::thread::sleep(backoff(base, attempt));
            }
        }
        Err(Failure::Retry(last_error))
    }

    fn send_once(&self, request: &Request) -> Result<Reply, Failure> {
        let mut builder = ureq::http::Request::builder()
            .method(request.method)
            .uri(&request.url);
        for (name, value) in &request.headers {
            builder = builder.header(name.as_str(), value.as_str());
        }
        let invalid = |err: ureq::http::Error| Failure::Final(format!("invalid request: {err}"));
        // A request without a body is sent as one, so that ureq adds no Content-Length to a GET.
        let sent = if request.body.is_empty() {
            self.agent.run(builder.body(()).map_err(invalid)?)
        } else {
            self.agent
                .run(builder.body(&request.body[..]).map_err(invalid)?)
        };
        let mut response = sent.map_err(|err| Failure::Retry(describe(err)))?;
        let status = response.status().as_u16();
        let too_large = || {
            // The server answered; asking again would bring the same answer.
            Failure::Final(format!(
                "the answer is larger than {} MiB; refused",
                MAX_REPLY_BYTES / (1024 * 1024)
            ))
        };
        let hint = response.body().content_length();
        if hint.is_some_and(|length| length > MAX_REPLY_BYTES) {
            return Err(too_large());
        }
        let mut reader = response.body_mut().as_reader();
        let mut bytes = crate::wiped::read_to_end(&mut reader, hint, MAX_REPLY_BYTES).map_err(
            |err| match err.kind() {
                std::io::ErrorKind::InvalidData => too_large(),
                _ => Failure::Retry(describe(ureq::Error::from(err))),
            },
        )?;
        let body = match String::from_utf8(std::mem::take(&mut *bytes)) {
            Ok(text) => Zeroizing::new(text),
            Err(err) => {
                drop(Zeroizing::new(err.into_bytes()));
                return Err(Failure::Final("the answer is not UTF-8 text".to_owned()));
            }
        };
        Ok(Reply { status, body })
    }
}

/// The largest answer read from a store.
const MAX_REPLY_BYTES: u64 = 8 * 1024 * 1024;

/// Why a request failed, and whether another attempt is worth making.
pub(crate) enum Failure {
    /// The connection failed or timed out: the server could not be reached.
    Retry(String),
    /// The server was reached, but what it sent is refused (too large); asking again would
    /// bring the same answer.
    Final(String),
}

impl Failure {
    /// The failure for a person, `server` being the address as the user configured it.
    pub fn describe(&self, server: &str, check: &str) -> String {
        match self {
            Failure::Retry(err) => format!("cannot reach {server}: {err}; {check}"),
            Failure::Final(err) => format!("{server}: {err}"),
        }
    }
}

/// A transport error in words. ureq's messages name hosts and causes, never request bodies.
fn describe(err: ureq::Error) -> String {
    match err {
        ureq::Error::Timeout(what) => format!("timed out ({what})"),
        ureq::Error::Io(io) => format!("connection failed: {io}"),
        other => other.to_string(),
    }
}

/// A random fraction of `base * 2^attempt`, capped at 20 s ("full jitter").
fn backoff(base: Duration, attempt: u32) -> Duration {
    let ceiling = base
        .saturating_mul(1 << attempt.min(16))
        .min(Duration::from_secs(20));
    ceiling.mul_f64(jitter())
}

/// A number in [0, 1) for jitter; not for secrets.
fn jitter() -> f64 {
    static STATE: AtomicU64 = AtomicU64::new(0);
    let seed = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    let mut x = STATE.fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed) ^ seed;
    x ^= x >> 33;
    x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
    x ^= x >> 33;
    (x >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_stays_under_its_ceiling() {
        for attempt in 0..6 {
            let delay = backoff(Duration::from_millis(100), attempt);
            assert!(delay < Duration::from_millis(100) * (1 << attempt));
        }
        assert!(backoff(Duration::from_secs(10), 10) <= Duration::from_secs(20));
    }
}
