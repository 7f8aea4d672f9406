//! Seeding the real servers through their HTTP APIs, and finding them (loudly).

use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::{Value, json};

pub const VAULT: &str = "127.0.0.1:8200";
pub const SEALED_VAULT: &str = "127.0.0.1:8300";
pub const MOTO: &str = "127.0.0.1:5000";
pub const MOTO_AUTH: &str = "127.0.0.1:5001";
pub const ROOT_TOKEN: &str = "root";

/// Store options for tests: fast retries, so fault tests take milliseconds, not seconds;
/// timeouts generous enough for a busy machine (moto evaluates IAM policies in Python).
pub fn quick() -> settings::store::StoreOptions {
    let mut options = settings::store::StoreOptions::default();
    options.connect_timeout = std::time::Duration::from_secs(2);
    options.request_timeout = std::time::Duration::from_secs(10);
    options.attempts = 3;
    options.base_delay = std::time::Duration::from_millis(5);
    options.throttle_delay = std::time::Duration::from_millis(10);
    options
}

/// The accessors of every token the Vault holds. Tokens of other tests may expire meanwhile,
/// so a test compares which accessors are new, not how many there are.
pub fn token_accessors() -> std::collections::HashSet<String> {
    let (_, answer) = vault("GET", "auth/token/accessors?list=true", None);
    answer["data"]["keys"]
        .as_array()
        .map(|keys| {
            keys.iter()
                .filter_map(|k| k.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .proxy(None)
        .build()
        .into()
}

/// Fails the test with instructions when a server is not running. Never skips.
pub fn require(addr: &str, what: &str) {
    if std::net::TcpStream::connect(addr).is_err() {
        panic!(
            "\n\n*** {what} is not running on {addr}. The store tests run against real servers: \
             start them with `scripts/stores.sh start`, or run the whole suite with `scripts/test.sh`. ***\n"
        );
    }
}

/// A path segment no other test uses.
pub fn unique(label: &str) -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    format!(
        "{label}-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

pub fn vault(method: &str, route: &str, body: Option<Value>) -> (u16, Value) {
    require(VAULT, "OpenBao (bao server -dev)");
    let url = format!("http://{VAULT}/v1/{route}");
    let request = ureq::http::Request::builder()
        .method(method)
        .uri(&url)
        .header("X-Vault-Token", ROOT_TOKEN)
        .body(body.map(|b| b.to_string()).unwrap_or_default())
        .unwrap();
    let mut response = agent().run(request).unwrap();
    let status = response.status().as_u16();
    let text = response.body_mut().read_to_string().unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// Writes a KV v2 secret under `secret/`.
pub fn vault_put(path: &str, data: Value) {
    let (status, answer) = vault(
        "POST",
        &format!("secret/data/{path}"),
        Some(json!({ "data": data })),
    );
    assert_eq!(status, 200, "seeding secret/{path}: {answer}");
}

/// One AWS JSON 1.1 call to moto, with an unchecked signature naming region and service.
pub fn moto(service: &str, target: &str, body: Value) -> (u16, Value) {
    require(MOTO, "moto_server");
    let auth = format!(
        "AWS4-HMAC-SHA256 Credential=testing/20261127/us-east-1/{service}/aws4_request, SignedHeaders=host, Signature=00"
    );
    let request = ureq::http::Request::builder()
        .method("POST")
        .uri(format!("http://{MOTO}/"))
        .header("Authorization", auth)
        .header("X-Amz-Target", target)
        .header("Content-Type", "application/x-amz-json-1.1")
        .body(body.to_string())
        .unwrap();
    let mut response = agent().run(request).unwrap();
    let status = response.status().as_u16();
    let text = response.body_mut().read_to_string().unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

pub fn ssm_put(name: &str, value: &str) {
    let (status, answer) = moto(
        "ssm",
        "AmazonSSM.PutParameter",
        json!({ "Name": name, "Value": value, "Type": "SecureString", "Overwrite": true }),
    );
    assert_eq!(status, 200, "seeding {name}: {answer}");
}

pub fn secret_put(name: &str, value: &str) {
    let (status, answer) = moto(
        "secretsmanager",
        "secretsmanager.CreateSecret",
        json!({ "Name": name, "SecretString": value }),
    );
    assert_eq!(status, 200, "seeding {name}: {answer}");
}

/// An IAM form call to the moto that checks signatures (allowed before auth is on).
pub fn iam(params: &[(&str, &str)]) -> String {
    require(MOTO_AUTH, "moto_server with auth (port 5001)");
    let mut form: Vec<String> = vec!["Version=2010-05-08".to_owned()];
    form.extend(params.iter().map(|(k, v)| format!("{k}={}", encode(v))));
    let auth = "AWS4-HMAC-SHA256 Credential=testing/20261127/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=00";
    let request = ureq::http::Request::builder()
        .method("POST")
        .uri(format!("http://{MOTO_AUTH}/"))
        .header("Authorization", auth)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(form.join("&"))
        .unwrap();
    let mut response = agent().run(request).unwrap();
    response.body_mut().read_to_string().unwrap_or_default()
}

fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Switches signature checks on for the moto on port 5001 after `free` more actions.
pub fn reset_auth(free: u32) {
    require(MOTO_AUTH, "moto_server with auth (port 5001)");
    let request = ureq::http::Request::builder()
        .method("POST")
        .uri(format!("http://{MOTO_AUTH}/moto-api/reset-auth"))
        .body(free.to_string())
        .unwrap();
    let mut response = agent().run(request).unwrap();
    let text = response.body_mut().read_to_string().unwrap_or_default();
    assert_eq!(response.status().as_u16(), 200, "reset-auth: {text}");
}

/// The text between two markers of an XML answer.
pub fn xml_value(xml: &str, tag: &str) -> Option<String> {
    let open = format!("<{tag}>");
    let start = xml.find(&open)? + open.len();
    let end = xml[start..].find(&format!("</{tag}>"))? + start;
    Some(xml[start..end].to_owned())
}
