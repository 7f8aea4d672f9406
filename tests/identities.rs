//! The AWS credential chain where pipelines run: web identity and roles through STS, the shared
//! files' `role_arn` and `credential_process`, container credentials and instance metadata.
//!
//! Real servers: moto serves STS (`AssumeRoleWithWebIdentity`, `AssumeRole`), SSM and the
//! instance metadata endpoints, on loopback. Stand-in: the ECS/EKS container credentials
//! endpoint has no real server here, so `ContainerStandIn` below answers on loopback as AWS
//! documents it (GET with an `Authorization` header, JSON credentials with an `Expiration`).
//! Nothing here reaches 169.254.169.254 or 169.254.170.2: every endpoint is a loopback one.

#![cfg(all(feature = "vault", feature = "aws"))]

#[allow(dead_code)]
mod common;
#[path = "common/proxy.rs"]
#[allow(dead_code)]
mod proxy;
#[path = "common/seed.rs"]
#[allow(dead_code)]
mod seed;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use common::TempDir;
use proxy::Proxy;
use seed::*;
use settings::{ExposeSecret, Loader, SecretString, Settings};

#[derive(Settings)]
struct App {
    api_key: SecretString,
}

/// A parameter in moto's SSM, and the reference to it.
fn parameter(value: &str) -> String {
    let name = format!("/{}/api_key", unique("identity"));
    ssm_put(&name, value);
    format!("ssm:{name}")
}

/// A load of `App` from `API_KEY=reference` with these variables (and nothing of the machine's:
/// `Loader::vars` stands in for the environment; HOME is a directory of the test's own).
fn load(home: &TempDir, reference: &str, vars: &[(&str, String)]) -> Result<App, settings::Error> {
    require(MOTO, "moto_server");
    let mut all = vec![
        ("API_KEY".to_owned(), reference.to_owned()),
        ("AWS_REGION".to_owned(), "us-east-1".to_owned()),
        ("AWS_ENDPOINT_URL".to_owned(), format!("http://{MOTO}")),
        ("HOME".to_owned(), home.path().display().to_string()),
    ];
    all.extend(vars.iter().map(|(k, v)| (k.to_string(), v.clone())));
    Loader::new()
        .dir(home.path())
        .vars(all)
        .store_options(quick())
        .load()
}

fn off() -> (&'static str, String) {
    ("AWS_EC2_METADATA_DISABLED", "true".to_owned())
}

#[test]
fn web_identity_is_traded_with_sts_for_credentials() {
    let home = TempDir::new("id-web");
    let token = home.write(
        "token.jwt",
        "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJjaSJ9.c2lnbmF0dXJl\n",
    );
    let sts = Proxy::start(MOTO);
    let reference = parameter("via-web-identity");
    let app = load(
        &home,
        &reference,
        &[
            ("AWS_WEB_IDENTITY_TOKEN_FILE", token.display().to_string()),
            (
                "AWS_ROLE_ARN",
                "arn:aws:iam::123456789012:role/ci".to_owned(),
            ),
            ("AWS_ROLE_SESSION_NAME", "pipeline".to_owned()),
            ("AWS_ENDPOINT_URL_STS", sts.url()),
            off(),
        ],
    )
    .unwrap();
    assert_eq!(app.api_key.expose_secret(), "via-web-identity");
    assert_eq!(sts.requests(), 1, "one AssumeRoleWithWebIdentity");
}

#[test]
fn a_profile_assumes_its_role_with_its_source_profile() {
    let home = TempDir::new("id-role");
    home.write(
        ".aws/credentials",
        "[base]\naws_access_key_id = AKIDBASE\naws_secret_access_key = base-secret\n",
    );
    home.write(
        ".aws/config",
        "[profile app]\nrole_arn = arn:aws:iam::123456789012:role/app\nsource_profile = base\nregion = us-east-1\n",
    );
    let sts = Proxy::start(MOTO);
    let reference = parameter("via-assumed-role");
    let app = load(
        &home,
        &reference,
        &[
            ("AWS_PROFILE", "app".to_owned()),
            ("AWS_ENDPOINT_URL_STS", sts.url()),
            off(),
        ],
    )
    .unwrap();
    assert_eq!(app.api_key.expose_secret(), "via-assumed-role");
    assert_eq!(sts.requests(), 1, "one signed AssumeRole");
}

#[test]
fn a_credential_process_is_run_and_its_output_never_shown() {
    let home = TempDir::new("id-process");
    let script = home.write(
        "creds.sh",
        "#!/bin/sh\necho '{\"Version\": 1, \"AccessKeyId\": \"AKIDPROC\", \"SecretAccessKey\": \"proc-s3cret\", \"SessionToken\": \"proc-token\"}'\n",
    );
    let failing = home.write(
        "failing.sh",
        "#!/bin/sh\necho 'proc-s3cret-in-output'\nexit 3\n",
    );
    home.write(
        ".aws/config",
        format!(
            "[default]\ncredential_process = sh {}\n[profile broken]\ncredential_process = sh {}\n",
            script.display(),
            failing.display()
        ),
    );
    let reference = parameter("via-process");
    let app = load(&home, &reference, &[off()]).unwrap();
    assert_eq!(app.api_key.expose_secret(), "via-process");
    let err = load(
        &home,
        &reference,
        &[("AWS_PROFILE", "broken".to_owned()), off()],
    )
    .unwrap_err();
    let text = err.to_string();
    assert!(text.contains("credential_process failed"), "{text}");
    assert!(!text.contains("proc-s3cret"), "{text}");
}

#[test]
fn instance_metadata_takes_a_session_token_first() {
    let home = TempDir::new("id-imds");
    // moto serves the instance metadata paths; the proxy counts what is asked of them.
    let imds = Proxy::start(MOTO);
    let reference = parameter("via-imds");
    let app = load(
        &home,
        &reference,
        &[("AWS_EC2_METADATA_SERVICE_ENDPOINT", imds.url())],
    )
    .unwrap();
    assert_eq!(app.api_key.expose_secret(), "via-imds");
    assert_eq!(
        imds.requests(),
        3,
        "the IMDSv2 token, the role's name, its credentials"
    );
}

#[test]
fn with_nothing_configured_the_error_lists_the_chain() {
    let home = TempDir::new("id-none");
    let err = load(&home, "ssm:/nothing/here", &[off()]).unwrap_err();
    let text = err.to_string();
    for step in [
        "aws: no credentials; tried, in order: environment:",
        "web identity: AWS_WEB_IDENTITY_TOKEN_FILE is not set",
        "profile `default`: not in",
        "container: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI and AWS_CONTAINER_CREDENTIALS_FULL_URI are not set",
        "instance metadata: turned off by AWS_EC2_METADATA_DISABLED",
    ] {
        assert!(text.contains(step), "{step}: {text}");
    }
}

#[test]
fn a_file_cannot_point_the_chain_at_another_host() {
    let home = TempDir::new("id-file");
    home.write(
        ".env",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI=http://127.0.0.1:9/creds\nAWS_EC2_METADATA_SERVICE_ENDPOINT=http://127.0.0.1:9\n",
    );
    let err = load(&home, "ssm:/x", &[]).unwrap_err();
    assert!(
        err.to_string()
            .contains("a file may not choose where credentials are sent or read from"),
        "{err}"
    );
}

/// STAND-IN for the ECS / EKS Pod Identity container credentials endpoint (no real server
/// exists here): answers `GET` with the documented JSON when the `Authorization` header holds
/// the token, 401 otherwise. Each answer's credentials expire `life` after it is made.
struct ContainerStandIn {
    url: String,
    requests: Arc<AtomicUsize>,
    refused: Arc<AtomicUsize>,
}

impl ContainerStandIn {
    fn start(token: &'static str, life: Duration) -> ContainerStandIn {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/v1/credentials", listener.local_addr().unwrap());
        let requests = Arc::new(AtomicUsize::new(0));
        let refused = Arc::new(AtomicUsize::new(0));
        let (count, no) = (requests.clone(), refused.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let mut stream = stream;
                let mut buf = [0u8; 8192];
                let n = stream.read(&mut buf).unwrap_or(0);
                let head = String::from_utf8_lossy(&buf[..n]).to_ascii_lowercase();
                count.fetch_add(1, Ordering::SeqCst);
                let authorized = head.contains(&format!("authorization: {token}"));
                let response = if authorized {
                    let expires = SystemTime::now() + life;
                    let body = format!(
                        r#"{{"AccessKeyId":"ASIASTANDIN","SecretAccessKey":"standin-secret","Token":"standin-token","Expiration":"{}"}}"#,
                        iso8601(expires)
                    );
                    format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                        body.len()
                    )
                } else {
                    no.fetch_add(1, Ordering::SeqCst);
                    "HTTP/1.1 401 Unauthorized\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                        .to_owned()
                };
                let _ = stream.write_all(response.as_bytes());
            }
        });
        ContainerStandIn {
            url,
            requests,
            refused,
        }
    }
}

fn iso8601(time: SystemTime) -> String {
    let secs = time
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let (days, rest) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil date from days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

#[test]
fn container_credentials_are_fetched_again_before_they_expire() {
    let standin = ContainerStandIn::start("pod-identity-token", Duration::from_secs(6));
    let home = TempDir::new("id-container");
    let token_file = home.write("eks-token", "pod-identity-token\n");
    let reference = parameter("via-container");
    let stores = Loader::new()
        .vars([
            ("AWS_REGION", "us-east-1".to_owned()),
            ("AWS_ENDPOINT_URL", format!("http://{MOTO}")),
            ("HOME", home.path().display().to_string()),
            ("AWS_CONTAINER_CREDENTIALS_FULL_URI", standin.url.clone()),
            (
                "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
                token_file.display().to_string(),
            ),
            ("AWS_EC2_METADATA_DISABLED", "true".to_owned()),
        ])
        .store_options(quick())
        .store_client()
        .with_ttl(Duration::ZERO);
    let seen = Mutex::new(Vec::new());
    // Ten seconds of asking, past the first credentials' six: they are replaced before expiry.
    for _ in 0..20 {
        let value = stores.get(&reference).unwrap();
        seen.lock().unwrap().push(value.expose_secret().to_owned());
        std::thread::sleep(Duration::from_millis(500));
    }
    assert!(seen.lock().unwrap().iter().all(|v| v == "via-container"));
    let fetched = standin.requests.load(Ordering::SeqCst);
    assert!(
        (3..=8).contains(&fetched),
        "{fetched} fetches in ten seconds of six-second credentials"
    );
    assert_eq!(
        standin.refused.load(Ordering::SeqCst),
        0,
        "the token was sent"
    );
}

#[test]
fn a_wrong_container_token_is_refused_and_named_without_the_token() {
    let standin = ContainerStandIn::start("the-right-token", Duration::from_secs(600));
    let home = TempDir::new("id-container-bad");
    let err = load(
        &home,
        "ssm:/x",
        &[
            ("AWS_CONTAINER_CREDENTIALS_FULL_URI", standin.url.clone()),
            (
                "AWS_CONTAINER_AUTHORIZATION_TOKEN",
                "a-wrong-t0ken".to_owned(),
            ),
            off(),
        ],
    )
    .unwrap_err();
    let text = err.to_string();
    assert!(text.contains("container credentials: HTTP 401"), "{text}");
    assert!(!text.contains("a-wrong-t0ken"), "{text}");
}

#[test]
fn a_profile_role_can_take_its_source_from_the_environment_or_a_token_file() {
    let home = TempDir::new("id-source");
    let token = home.write(
        "irsa-token",
        "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJwb2QifQ.c2ln\n",
    );
    home.write(
        ".aws/config",
        format!(
            "[profile from-env]\nrole_arn = arn:aws:iam::123456789012:role/env\ncredential_source = Environment\n\
             [profile from-file]\nrole_arn = arn:aws:iam::123456789012:role/pod\nweb_identity_token_file = {}\n\
             [profile wrong]\nrole_arn = arn:aws:iam::123456789012:role/x\ncredential_source = Somewhere\n",
            token.display()
        ),
    );
    let sts = Proxy::start(MOTO);
    let reference = parameter("via-profile-source");
    let env = load(
        &home,
        &reference,
        &[
            ("AWS_PROFILE", "from-env".to_owned()),
            ("AWS_ACCESS_KEY_ID", "AKIDENV".to_owned()),
            ("AWS_SECRET_ACCESS_KEY", "env-secret".to_owned()),
            ("AWS_ENDPOINT_URL_STS", sts.url()),
        ],
    );
    // Keys in the environment come first in the chain: the profile's role is not assumed.
    assert_eq!(env.unwrap().api_key.expose_secret(), "via-profile-source");
    assert_eq!(sts.requests(), 0);
    let file = load(
        &home,
        &reference,
        &[
            ("AWS_PROFILE", "from-file".to_owned()),
            ("AWS_ENDPOINT_URL_STS", sts.url()),
            off(),
        ],
    );
    assert_eq!(file.unwrap().api_key.expose_secret(), "via-profile-source");
    assert_eq!(
        sts.requests(),
        1,
        "one AssumeRoleWithWebIdentity for the profile's token file"
    );
    let err = load(
        &home,
        &reference,
        &[("AWS_PROFILE", "wrong".to_owned()), off()],
    )
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("credential_source must be Environment, Ec2InstanceMetadata or EcsContainer"),
        "{err}"
    );
}
