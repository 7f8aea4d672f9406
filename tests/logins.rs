//! Vault / OpenBao logins where pipelines run: JWT/OIDC (a token in a variable, a file, the
//! variable GitLab CI names, or fetched from GitHub Actions) and Kubernetes.
//!
//! Real server: OpenBao's dev server, with its JWT auth method configured with a public key whose
//! private half this test signs tokens with (`openssl`), and its Kubernetes auth method.
//! Stand-ins, on loopback, where no real server exists here: GitHub's ID token endpoint
//! (`GitHubStandIn`), and the Kubernetes TokenReview API that OpenBao calls to check a
//! service-account token (`TokenReviewStandIn`); each follows the documented protocol.

#![cfg(feature = "vault")]

#[allow(dead_code)]
mod common;
#[path = "common/seed.rs"]
#[allow(dead_code)]
mod seed;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Once, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::TempDir;
use seed::*;
use serde_json::{Value, json};
use settings::{ExposeSecret, Loader, SecretString, Settings};

const ISSUER: &str = "https://ci.settings.test";
const AUDIENCE: &str = "settings-tests";

#[derive(Settings)]
struct App {
    api_key: SecretString,
}

fn base64url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n =
            chunk.iter().fold(0u32, |acc, b| acc << 8 | u32::from(*b)) << (8 * (3 - chunk.len()));
        for i in 0..=chunk.len() {
            out.push(char::from(ALPHABET[(n >> (18 - 6 * i) & 63) as usize]));
        }
    }
    out
}

/// The RSA key this test signs with, made once with `openssl`.
fn key_dir() -> &'static TempDir {
    static KEYS: OnceLock<TempDir> = OnceLock::new();
    KEYS.get_or_init(|| {
        let dir = TempDir::new("login-keys");
        let ok = Command::new("openssl")
            .args([
                "genpkey",
                "-algorithm",
                "RSA",
                "-pkeyopt",
                "rsa_keygen_bits:2048",
                "-out",
            ])
            .arg(dir.path().join("key.pem"))
            .output()
            .expect("openssl runs")
            .status
            .success();
        assert!(ok, "openssl makes a key");
        let ok = Command::new("openssl")
            .args(["pkey", "-pubout", "-in"])
            .arg(dir.path().join("key.pem"))
            .arg("-out")
            .arg(dir.path().join("pub.pem"))
            .status()
            .unwrap()
            .success();
        assert!(ok);
        dir
    })
}

/// A JWT signed with the test's key (RS256).
fn jwt(claims: Value) -> String {
    let header = base64url(br#"{"alg":"RS256","typ":"JWT"}"#);
    let payload = base64url(claims.to_string().as_bytes());
    let input = format!("{header}.{payload}");
    let dir = key_dir();
    let data = dir.write(&format!("input-{}", seed::unique("jwt")), &input);
    let signature = Command::new("openssl")
        .args(["dgst", "-sha256", "-sign"])
        .arg(dir.path().join("key.pem"))
        .arg(&data)
        .output()
        .unwrap();
    assert!(signature.status.success());
    format!("{input}.{}", base64url(&signature.stdout))
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn claims(audience: &str, expires_in: i64) -> Value {
    json!({
        "iss": ISSUER,
        "sub": "repo:example/pipeline:ref:refs/heads/main",
        "aud": audience,
        "iat": now(),
        "exp": (now() as i64 + expires_in),
    })
}

/// A KV secret readable under the test policy, and the JWT auth method set up for it.
fn jwt_engine() -> String {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        require(VAULT, "OpenBao (bao server -dev)");
        let policy = "path \"secret/data/*\" { capabilities = [\"read\"] }";
        let (status, _) = vault(
            "PUT",
            "sys/policies/acl/login-reader",
            Some(json!({ "policy": policy })),
        );
        assert_eq!(status, 204);
        let _ = vault("POST", "sys/auth/jwt", Some(json!({ "type": "jwt" })));
        let pem = std::fs::read_to_string(key_dir().path().join("pub.pem")).unwrap();
        let (status, answer) = vault(
            "POST",
            "auth/jwt/config",
            Some(json!({ "jwt_validation_pubkeys": [pem], "bound_issuer": ISSUER })),
        );
        assert!(status == 200 || status == 204, "{answer}");
        let (status, answer) = vault(
            "POST",
            "auth/jwt/role/ci",
            Some(json!({
                "role_type": "jwt",
                "bound_audiences": [AUDIENCE],
                "user_claim": "sub",
                "token_policies": ["login-reader"],
                "token_ttl": "60s",
            })),
        );
        assert!(status == 200 || status == 204, "{answer}");
    });
    let path = unique("login");
    vault_put(&path, json!({ "K": "via-login" }));
    format!("vault:secret/{path}#K")
}

fn load(reference: &str, vars: &[(&str, String)]) -> Result<App, settings::Error> {
    let dir = TempDir::new("login");
    let mut all = vec![
        ("VAULT_ADDR".to_owned(), format!("http://{VAULT}")),
        ("API_KEY".to_owned(), reference.to_owned()),
        ("HOME".to_owned(), dir.path().display().to_string()),
    ];
    all.extend(vars.iter().map(|(k, v)| (k.to_string(), v.clone())));
    Loader::new()
        .dir(dir.path())
        .vars(all)
        .store_options(quick())
        .load()
}

/// The tests of this file make tokens, and one counts them: one test at a time.
fn serial() -> std::sync::MutexGuard<'static, ()> {
    static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

#[test]
fn a_jwt_login_reads_and_its_token_is_revoked_after_the_load() {
    let _serial = serial();
    let reference = jwt_engine();
    let token = jwt(claims(AUDIENCE, 300));
    let before = token_accessors();
    let app = load(
        &reference,
        &[("VAULT_ROLE", "ci".into()), ("VAULT_JWT", token.clone())],
    )
    .unwrap();
    assert_eq!(app.api_key.expose_secret(), "via-login");
    assert_eq!(
        token_accessors(),
        before,
        "the login's token is revoked after a plain load"
    );

    // From a file, and from the variable a GitLab job names for its ID token.
    let dir = TempDir::new("login-file");
    let file = dir.write("id-token", format!("{token}\n"));
    let from_file = load(
        &reference,
        &[
            ("VAULT_ROLE", "ci".into()),
            ("VAULT_JWT_FILE", file.display().to_string()),
        ],
    );
    assert_eq!(from_file.unwrap().api_key.expose_secret(), "via-login");
    let gitlab = load(
        &reference,
        &[
            ("VAULT_ROLE", "ci".into()),
            ("VAULT_JWT_VARIABLE", "VAULT_ID_TOKEN".into()),
            ("VAULT_ID_TOKEN", token),
        ],
    );
    assert_eq!(gitlab.unwrap().api_key.expose_secret(), "via-login");
}

#[test]
fn refused_jwt_logins_say_why_without_the_token() {
    let _serial = serial();
    let reference = jwt_engine();
    let cases = [
        (
            "ci",
            jwt(claims("another-audience", 300)),
            "audience (aud) is not one the role accepts",
        ),
        ("ci", jwt(claims(AUDIENCE, -600)), "the token has expired"),
        (
            "no-such-role",
            jwt(claims(AUDIENCE, 300)),
            "no such role; check VAULT_ROLE",
        ),
    ];
    for (role, token, why) in cases {
        let err = load(
            &reference,
            &[("VAULT_ROLE", role.into()), ("VAULT_JWT", token.clone())],
        )
        .unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains(&format!("vault JWT login (auth/jwt, role {role})")),
            "{text}"
        );
        assert!(text.contains(why), "{why}: {text}");
        assert!(!text.contains(&token[..20]), "{text}");
    }
}

/// STAND-IN for GitHub Actions' ID token endpoint: `GET <url>&audience=<aud>` with
/// `Authorization: Bearer <request token>` answers `{"value": <jwt>}`.
fn github_standin(request_token: &'static str, jwt: String) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!(
        "http://{}/_apis/token?api-version=2.0",
        listener.local_addr().unwrap()
    );
    let served = Arc::new(AtomicUsize::new(0));
    let count = served.clone();
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            let mut buf = [0u8; 8192];
            let n = stream.read(&mut buf).unwrap_or(0);
            let head = String::from_utf8_lossy(&buf[..n]).to_string();
            let line = head.lines().next().unwrap_or_default();
            let ok = line.contains(&format!("audience={AUDIENCE}"))
                && head
                    .to_ascii_lowercase()
                    .contains(&format!("authorization: bearer {request_token}"));
            let response = if ok {
                count.fetch_add(1, Ordering::SeqCst);
                let body = json!({ "value": jwt }).to_string();
                format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                )
            } else {
                "HTTP/1.1 401 Unauthorized\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                    .to_owned()
            };
            let _ = stream.write_all(response.as_bytes());
        }
    });
    (url, served)
}

#[test]
fn in_github_actions_the_id_token_is_fetched_for_the_audience() {
    let _serial = serial();
    let reference = jwt_engine();
    let (url, served) = github_standin("gh-request-token", jwt(claims(AUDIENCE, 300)));
    let app = load(
        &reference,
        &[
            ("VAULT_ROLE", "ci".into()),
            ("VAULT_JWT_AUDIENCE", AUDIENCE.into()),
            ("ACTIONS_ID_TOKEN_REQUEST_URL", url.clone()),
            ("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "gh-request-token".into()),
        ],
    )
    .unwrap();
    assert_eq!(app.api_key.expose_secret(), "via-login");
    assert_eq!(served.load(Ordering::SeqCst), 1);
    let err = load(
        &reference,
        &[
            ("VAULT_ROLE", "ci".into()),
            ("VAULT_JWT_AUDIENCE", AUDIENCE.into()),
            ("ACTIONS_ID_TOKEN_REQUEST_URL", url),
            (
                "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
                "a-wrong-request-token".into(),
            ),
        ],
    )
    .unwrap_err();
    let text = err.to_string();
    assert!(text.contains("id-token: write"), "{text}");
    assert!(!text.contains("a-wrong-request-token"), "{text}");
}

/// STAND-IN for the Kubernetes TokenReview API that OpenBao's Kubernetes auth method calls:
/// `POST /apis/authentication.k8s.io/v1/tokenreviews` answers whether the token in the review is
/// the one this "cluster" issued, for service account `pipelines/etl`.
fn tokenreview_standin(valid: String) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let reviews = Arc::new(AtomicUsize::new(0));
    let count = reviews.clone();
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            let mut data = Vec::new();
            let mut buf = [0u8; 16384];
            // Headers, then as much body as content-length says.
            loop {
                let n = stream.read(&mut buf).unwrap_or(0);
                if n == 0 {
                    break;
                }
                data.extend_from_slice(&buf[..n]);
                let text = String::from_utf8_lossy(&data);
                if let Some(end) = text.find("\r\n\r\n") {
                    let length = text[..end]
                        .lines()
                        .find_map(|l| {
                            let (k, v) = l.split_once(':')?;
                            k.eq_ignore_ascii_case("content-length")
                                .then(|| v.trim().parse::<usize>().ok())?
                        })
                        .unwrap_or(0);
                    if data.len() >= end + 4 + length {
                        break;
                    }
                }
            }
            let text = String::from_utf8_lossy(&data).to_string();
            count.fetch_add(1, Ordering::SeqCst);
            let authenticated = text.contains(&valid);
            let body = json!({
                "apiVersion": "authentication.k8s.io/v1",
                "kind": "TokenReview",
                "status": if authenticated {
                    json!({ "authenticated": true, "user": {
                        "username": "system:serviceaccount:pipelines:etl",
                        "uid": "etl-uid-1",
                        "groups": ["system:serviceaccounts", "system:serviceaccounts:pipelines"],
                    }})
                } else {
                    json!({ "authenticated": false, "error": "invalid token" })
                },
            })
            .to_string();
            let response = format!(
                "HTTP/1.1 201 Created\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = stream.write_all(response.as_bytes());
        }
    });
    (url, reviews)
}

#[test]
fn a_pod_logs_in_with_its_service_account_token() {
    let _serial = serial();
    require(VAULT, "OpenBao (bao server -dev)");
    let path = unique("k8s");
    vault_put(&path, json!({ "K": "via-kubernetes" }));
    let policy = "path \"secret/data/*\" { capabilities = [\"read\"] }";
    vault(
        "PUT",
        "sys/policies/acl/login-reader",
        Some(json!({ "policy": policy })),
    );
    // A service-account token with the claims of Kubernetes' service-account token secrets
    // (its signature is the cluster's to check: here, the TokenReview stand-in's).
    let header = base64url(br#"{"alg":"RS256","kid":"k"}"#);
    let payload = base64url(
        json!({
            "iss": "kubernetes/serviceaccount",
            "sub": "system:serviceaccount:pipelines:etl",
            "kubernetes.io/serviceaccount/namespace": "pipelines",
            "kubernetes.io/serviceaccount/service-account.name": "etl",
            "kubernetes.io/serviceaccount/service-account.uid": "etl-uid-1",
            "kubernetes.io/serviceaccount/secret.name": "etl-token",
        })
        .to_string()
        .as_bytes(),
    );
    let sa_token = format!(
        "{header}.{payload}.{}",
        base64url(b"signature-checked-by-the-cluster")
    );
    let (host, reviews) = tokenreview_standin(sa_token.clone());
    let mount = unique("kubernetes").replace('-', "");
    let (status, answer) = vault(
        "POST",
        &format!("sys/auth/{mount}"),
        Some(json!({ "type": "kubernetes" })),
    );
    assert!(status == 200 || status == 204, "{answer}");
    // OpenBao wants a cluster CA with `disable_local_ca_jwt`; the stand-in speaks plain HTTP on
    // loopback, so this one is never used.
    let ca = TempDir::new("k8s-ca");
    let made = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=stand-in",
            "-keyout",
        ])
        .arg(ca.path().join("key.pem"))
        .arg("-out")
        .arg(ca.path().join("ca.pem"))
        .output()
        .unwrap();
    assert!(made.status.success());
    let ca_pem = std::fs::read_to_string(ca.path().join("ca.pem")).unwrap();
    let (status, answer) = vault(
        "POST",
        &format!("auth/{mount}/config"),
        Some(
            json!({ "kubernetes_host": host, "disable_local_ca_jwt": true, "kubernetes_ca_cert": ca_pem }),
        ),
    );
    assert!(status == 200 || status == 204, "{answer}");
    let (status, answer) = vault(
        "POST",
        &format!("auth/{mount}/role/etl"),
        Some(json!({
            "bound_service_account_names": ["etl"],
            "bound_service_account_namespaces": ["pipelines"],
            "token_policies": ["login-reader"],
            "token_ttl": "60s",
        })),
    );
    assert!(status == 200 || status == 204, "{answer}");
    let dir = TempDir::new("k8s-token");
    let file = dir.write("token", &sa_token);
    // The token file's presence is enough to choose the Kubernetes login.
    let app = load(
        &format!("vault:secret/{path}#K"),
        &[
            ("VAULT_ROLE", "etl".into()),
            ("VAULT_AUTH_MOUNT", mount.clone()),
            ("VAULT_K8S_TOKEN_FILE", file.display().to_string()),
        ],
    )
    .unwrap();
    assert_eq!(app.api_key.expose_secret(), "via-kubernetes");
    assert!(
        reviews.load(Ordering::SeqCst) >= 1,
        "OpenBao asked the cluster"
    );

    let wrong = dir.write(
        "wrong",
        format!("{header}.{payload}.{}", base64url(b"forged")),
    );
    let err = load(
        &format!("vault:secret/{path}#K"),
        &[
            ("VAULT_ROLE", "etl".into()),
            ("VAULT_AUTH_MOUNT", mount.clone()),
            ("VAULT_AUTH_METHOD", "kubernetes".into()),
            ("VAULT_K8S_TOKEN_FILE", wrong.display().to_string()),
        ],
    )
    .unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains(&format!(
            "vault Kubernetes login (auth/{mount}, role etl): refused"
        )),
        "{text}"
    );
    assert!(!text.contains(&payload[..20]), "{text}");
}

#[test]
fn a_file_cannot_name_the_token_file_a_login_sends() {
    let _serial = serial();
    let dir = TempDir::new("login-trust");
    dir.write(
        ".env",
        "VAULT_ROLE=ci\nVAULT_JWT_FILE=/home/someone/.aws/credentials\n",
    );
    let err = Loader::new()
        .dir(dir.path())
        .vars([
            ("VAULT_ADDR", format!("http://{VAULT}")),
            ("API_KEY", "vault:secret/x#K".to_owned()),
            ("HOME", dir.path().display().to_string()),
        ])
        .store_options(quick())
        .load::<App>()
        .unwrap_err();
    assert!(
        err.to_string().contains("VAULT_JWT_FILE is set in"),
        "{err}"
    );
    // Nor point the login at another variable's secret.
    dir.write(
        ".env",
        "VAULT_ROLE=ci\nVAULT_JWT_VARIABLE=AWS_SECRET_ACCESS_KEY\n",
    );
    let err = Loader::new()
        .dir(dir.path())
        .vars([
            ("VAULT_ADDR", format!("http://{VAULT}")),
            ("API_KEY", "vault:secret/x#K".to_owned()),
            ("HOME", dir.path().display().to_string()),
            ("AWS_SECRET_ACCESS_KEY", "not-for-vault".to_owned()),
        ])
        .store_options(quick())
        .load::<App>()
        .unwrap_err();
    assert!(
        err.to_string().contains("VAULT_JWT_VARIABLE is set in"),
        "{err}"
    );
}

/// A watch keeps a JWT login alive past its token's maximum: the login is made again.
#[cfg(feature = "watch")]
#[test]
fn a_watch_logs_in_again_when_its_jwt_login_token_reaches_its_maximum() {
    let _serial = serial();
    let reference = jwt_engine();
    let (status, answer) = vault(
        "POST",
        "auth/jwt/role/ci-short",
        Some(json!({
            "role_type": "jwt",
            "bound_audiences": [AUDIENCE],
            "user_claim": "sub",
            "token_policies": ["login-reader"],
            "token_ttl": "3s",
            "token_max_ttl": "5s",
        })),
    );
    assert!(status == 200 || status == 204, "{answer}");
    let dir = TempDir::new("login-watch");
    let watch: settings::Watch<App> = Loader::new()
        .dir(dir.path())
        .vars([
            ("VAULT_ADDR", format!("http://{VAULT}")),
            ("API_KEY", reference),
            ("HOME", dir.path().display().to_string()),
            ("VAULT_ROLE", "ci-short".to_owned()),
            ("VAULT_JWT", jwt(claims(AUDIENCE, 600))),
        ])
        .store_options(quick())
        .poll_files_every(Duration::ZERO)
        .refresh_every(Duration::from_millis(500))
        .watch()
        .unwrap();
    // Twice the login token's maximum of 5 s: only a new login keeps the reads working.
    let end = std::time::Instant::now() + Duration::from_secs(12);
    while std::time::Instant::now() < end {
        watch.refresh_now().unwrap();
        std::thread::sleep(Duration::from_millis(300));
    }
    assert_eq!(watch.get().api_key.expose_secret(), "via-login");
}
