//! Secret stores against real servers on loopback: OpenBao's dev server and moto (SSM, Secrets
//! Manager), started by `scripts/stores.sh` (and by `scripts/test.sh` and `.ci/run`). A test that
//! finds no server fails with instructions; none is skipped.

#![cfg(all(feature = "vault", feature = "aws"))]

mod common;
#[path = "common/proxy.rs"]
mod proxy;
#[path = "common/seed.rs"]
mod seed;

use std::time::{Duration, Instant};

use common::TempDir;
use proxy::{Fault, Proxy};
use seed::*;
use serde_json::json;
use settings::{ExposeSecret, Loader, Origin, ProblemKind, SecretString, Settings};

#[derive(Settings)]
struct Pipeline {
    /// Shopify Admin API token
    shopify_api_key: SecretString,
    /// Database connection string
    database_url: SecretString,
    #[settings(default = 100)]
    batch_size: u32,
}

fn vault_loader(dir: &TempDir, addr: &str, vars: Vec<(String, String)>) -> Loader {
    require(VAULT, "OpenBao (bao server -dev)");
    let mut all = vec![
        ("VAULT_ADDR".to_owned(), format!("http://{addr}")),
        ("VAULT_TOKEN".to_owned(), ROOT_TOKEN.to_owned()),
    ];
    all.extend(vars);
    Loader::new()
        .dir(dir.path())
        .vars(all)
        .store_options(quick())
}

fn aws_loader(dir: &TempDir, endpoint: &str, vars: Vec<(String, String)>) -> Loader {
    require(MOTO, "moto_server");
    let mut all = vec![
        ("AWS_ACCESS_KEY_ID".to_owned(), "testing".to_owned()),
        ("AWS_SECRET_ACCESS_KEY".to_owned(), "testing".to_owned()),
        ("AWS_REGION".to_owned(), "us-east-1".to_owned()),
        ("AWS_ENDPOINT_URL".to_owned(), endpoint.to_owned()),
    ];
    all.extend(vars);
    Loader::new()
        .dir(dir.path())
        .vars(all)
        .store_options(quick())
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

// ---------------------------------------------------------------- Vault / OpenBao

#[test]
fn vault_references_resolve_one_read_per_path() {
    let path = unique("pipeline");
    vault_put(
        &path,
        json!({ "SHOPIFY_API_KEY": "shpat_vault_s3cret", "DATABASE_URL": "postgres://vault-s3cret" }),
    );
    let dir = TempDir::new("vault-ref");
    // The .env file holds references only: no secret at all.
    dir.write(
        ".env",
        format!("SHOPIFY_API_KEY=vault:secret/{path}#SHOPIFY_API_KEY\nDATABASE_URL=vault:secret/{path}#DATABASE_URL\n"),
    );
    let proxy = Proxy::start(VAULT);
    let (app, report) = vault_loader(&dir, &proxy.url()[7..], vec![])
        .load_with_report::<Pipeline>()
        .unwrap();
    assert_eq!(app.shopify_api_key.expose_secret(), "shpat_vault_s3cret");
    assert_eq!(app.database_url.expose_secret(), "postgres://vault-s3cret");
    // One mount lookup, then one read for the path shared by both references.
    assert_eq!(proxy.requests(), 2);
    let text = report.to_string();
    assert!(
        text.contains(&format!(
            "SHOPIFY_API_KEY = [REDACTED] (from vault secret/{path}#SHOPIFY_API_KEY)"
        )),
        "{text}"
    );
    assert!(!text.contains("s3cret") && !format!("{app:?}").contains("s3cret"));
}

#[test]
fn vault_path_import_maps_keys_to_variables() {
    let path = unique("import");
    vault_put(
        &path,
        json!({ "SHOPIFY_API_KEY": "k", "DATABASE_URL": "d", "BATCH_SIZE": "7" }),
    );
    let dir = TempDir::new("vault-import");
    let (app, report) = vault_loader(&dir, VAULT, pairs(&[("BATCH_SIZE", "9")]))
        .vault_path(format!("secret/{path}"))
        .load_with_report::<Pipeline>()
        .unwrap();
    assert_eq!(app.database_url.expose_secret(), "d");
    assert_eq!(
        app.batch_size, 9,
        "the process environment wins over the store"
    );
    assert!(report.to_string().contains(&format!(
        "DATABASE_URL = [REDACTED] (from vault secret/{path}#DATABASE_URL)"
    )));
}

#[test]
fn vault_versions_can_be_pinned() {
    let path = unique("versions");
    vault_put(&path, json!({ "K": "first" }));
    vault_put(&path, json!({ "K": "second" }));
    let dir = TempDir::new("vault-version");
    let vars = pairs(&[
        (
            "SHOPIFY_API_KEY",
            &format!("vault:secret/{path}?version=1#K"),
        ),
        ("DATABASE_URL", &format!("vault:secret/{path}#K")),
    ]);
    let app: Pipeline = vault_loader(&dir, VAULT, vars).load().unwrap();
    assert_eq!(app.shopify_api_key.expose_secret(), "first");
    assert_eq!(app.database_url.expose_secret(), "second");
}

#[test]
fn vault_kv_version_1_mounts_work() {
    let (status, _) = vault(
        "POST",
        "sys/mounts/kv1",
        Some(json!({ "type": "kv", "options": { "version": "1" } })),
    );
    assert!(status == 204 || status == 400, "mounting kv1: {status}");
    let path = unique("v1");
    let (status, answer) = vault(
        "POST",
        &format!("kv1/{path}"),
        Some(json!({ "K": "from-kv1" })),
    );
    assert_eq!(status, 204, "{answer}");
    let dir = TempDir::new("vault-v1");
    let vars = pairs(&[
        ("SHOPIFY_API_KEY", &format!("vault:kv1/{path}#K")),
        ("DATABASE_URL", &format!("vault:kv1/{path}#K")),
    ]);
    let app: Pipeline = vault_loader(&dir, VAULT, vars).load().unwrap();
    assert_eq!(app.shopify_api_key.expose_secret(), "from-kv1");
}

#[test]
fn vault_approle_login() {
    let _ = vault(
        "POST",
        "sys/auth/approle",
        Some(json!({ "type": "approle" })),
    );
    let path = unique("approle");
    vault_put(&path, json!({ "K": "via-approle" }));
    let policy = format!("path \"secret/data/{path}\" {{ capabilities = [\"read\"] }}");
    let (status, _) = vault(
        "PUT",
        &format!("sys/policies/acl/{path}"),
        Some(json!({ "policy": policy })),
    );
    assert_eq!(status, 204);
    let (status, _) = vault(
        "POST",
        &format!("auth/approle/role/{path}"),
        Some(json!({ "token_policies": [path] })),
    );
    assert_eq!(status, 204);
    let (_, role) = vault("GET", &format!("auth/approle/role/{path}/role-id"), None);
    let (_, secret) = vault("POST", &format!("auth/approle/role/{path}/secret-id"), None);
    let role_id = role["data"]["role_id"].as_str().unwrap().to_owned();
    let secret_id = secret["data"]["secret_id"].as_str().unwrap().to_owned();
    let dir = TempDir::new("vault-approle");
    let reference = format!("vault:secret/{path}#K");
    let login = |secret_id: &str| {
        Loader::new()
            .dir(dir.path())
            .store_options(quick())
            .vars(pairs(&[
                ("VAULT_ADDR", &format!("http://{VAULT}")),
                ("VAULT_ROLE_ID", &role_id),
                ("VAULT_SECRET_ID", secret_id),
                ("SHOPIFY_API_KEY", &reference),
                ("DATABASE_URL", &reference),
            ]))
            .load::<Pipeline>()
    };
    let before = token_accessors();
    let app = login(&secret_id).unwrap();
    assert_eq!(
        token_accessors().difference(&before).count(),
        0,
        "the token made by the login is revoked after the load"
    );
    assert_eq!(app.shopify_api_key.expose_secret(), "via-approle");
    let err = login("00000000-0000-0000-0000-000000000000").unwrap_err();
    assert!(
        err.to_string().contains(
            "vault AppRole login: permission denied: check VAULT_ROLE_ID and VAULT_SECRET_ID"
        ),
        "{err}"
    );
}

#[test]
fn vault_faults_are_reported_together_and_name_store_path_and_variable() {
    let path = unique("faults");
    vault_put(&path, json!({ "PRESENT": "p" }));
    let dir = TempDir::new("vault-faults");
    let vars = pairs(&[
        ("SHOPIFY_API_KEY", &format!("vault:secret/{path}#ABSENT")),
        ("DATABASE_URL", &format!("vault:secret/{path}-missing#K")),
    ]);
    let err = vault_loader(&dir, VAULT, vars)
        .load::<Pipeline>()
        .unwrap_err();
    let text = err.to_string();
    assert_eq!(err.problems().len(), 2, "{text}");
    assert!(text.contains(&format!("SHOPIFY_API_KEY from vault secret/{path}#ABSENT: the secret at secret/{path} has no key ABSENT")), "{text}");
    assert!(
        text.contains(&format!(
            "DATABASE_URL from vault secret/{path}-missing#K: not found"
        )),
        "{text}"
    );
    match &err.problems()[0].kind {
        ProblemKind::Unavailable {
            origin: Origin::Store { location },
            ..
        } => {
            assert_eq!(location, &format!("vault secret/{path}#ABSENT"));
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn a_wrong_token_is_permission_denied_and_never_printed() {
    let path = unique("denied");
    vault_put(&path, json!({ "K": "v" }));
    let dir = TempDir::new("vault-denied");
    let reference = format!("vault:secret/{path}#K");
    let vars = pairs(&[
        ("VAULT_TOKEN", "hvs.wrong-token-s3cret"),
        ("SHOPIFY_API_KEY", &reference),
        ("DATABASE_URL", &reference),
    ]);
    let loader = Loader::new().dir(dir.path()).store_options(quick()).vars(
        [("VAULT_ADDR".to_owned(), format!("http://{VAULT}"))]
            .into_iter()
            .chain(vars),
    );
    let err = loader.load::<Pipeline>().unwrap_err();
    let text = err.to_string();
    assert!(text.contains("permission denied (403)"), "{text}");
    assert!(!text.contains("wrong-token"), "{text}");
}

#[test]
fn a_stopped_server_is_unreachable() {
    let dir = TempDir::new("vault-stopped");
    // Nothing listens on this port: the connection is refused at once.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    drop(listener);
    let reference = "vault:secret/app#K";
    let vars = pairs(&[("SHOPIFY_API_KEY", reference), ("DATABASE_URL", reference)]);
    let err = vault_loader(&dir, &addr, vars)
        .load::<Pipeline>()
        .unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains(&format!("cannot reach http://{addr}"))
            && text.contains("check VAULT_ADDR and that the server is up"),
        "{text}"
    );
    assert_eq!(err.problems().len(), 2);
}

#[test]
fn a_sealed_vault_says_so() {
    require(SEALED_VAULT, "the sealed OpenBao (port 8300)");
    let dir = TempDir::new("vault-sealed");
    let reference = "vault:secret/app#K";
    let vars = pairs(&[("SHOPIFY_API_KEY", reference), ("DATABASE_URL", reference)]);
    let err = vault_loader(&dir, SEALED_VAULT, vars)
        .load::<Pipeline>()
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("Vault is sealed (503): unseal it, then retry"),
        "{err}"
    );
}

#[test]
fn server_errors_and_throttling_are_retried() {
    let path = unique("retry");
    vault_put(&path, json!({ "K": "after-retries" }));
    let dir = TempDir::new("vault-retry");
    let proxy = Proxy::start(VAULT);
    proxy.fail_next([
        Fault::Status(500, "{\"errors\":[\"boom\"]}"),
        Fault::Status(429, "{\"errors\":[]}"),
    ]);
    let reference = format!("vault:secret/{path}#K");
    let vars = pairs(&[
        ("SHOPIFY_API_KEY", &reference),
        ("DATABASE_URL", &reference),
    ]);
    let app: Pipeline = vault_loader(&dir, &proxy.url()[7..], vars).load().unwrap();
    assert_eq!(app.shopify_api_key.expose_secret(), "after-retries");
    assert_eq!(
        proxy.requests(),
        4,
        "two injected failures, then the mount lookup and the read"
    );
}

#[test]
fn client_errors_are_not_retried() {
    let dir = TempDir::new("vault-no-retry");
    let proxy = Proxy::start(VAULT);
    proxy.fail_next([
        Fault::Status(
            200,
            "{\"data\":{\"path\":\"secret/\",\"options\":{\"version\":\"2\"}}}",
        ),
        Fault::Status(403, "{\"errors\":[\"permission denied\"]}"),
    ]);
    let vars = pairs(&[
        ("SHOPIFY_API_KEY", "vault:secret/x#K"),
        ("DATABASE_URL", "vault:secret/x#K"),
    ]);
    let err = vault_loader(&dir, &proxy.url()[7..], vars)
        .load::<Pipeline>()
        .unwrap_err();
    assert!(err.to_string().contains("permission denied (403)"), "{err}");
    assert_eq!(proxy.requests(), 2, "a 403 is final");
}

// ---------------------------------------------------------------- what a file may configure

/// A listener on loopback that records whether anything connected to it: a host that a file
/// tried to send credentials to.
struct Trap {
    listener: std::net::TcpListener,
}

impl Trap {
    fn new() -> Trap {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        Trap { listener }
    }

    fn addr(&self) -> String {
        self.listener.local_addr().unwrap().to_string()
    }

    fn was_contacted(&self) -> bool {
        self.listener.accept().is_ok()
    }
}

#[test]
fn a_file_cannot_choose_the_vault_address_the_token_goes_to() {
    let trap = Trap::new();
    let dir = TempDir::new("trust-bao-addr");
    // The environment names the real server with VAULT_*; the file tries BAO_ADDR, which used to
    // win because BAO_* beat VAULT_* across layers.
    dir.write(
        ".env",
        format!(
            "BAO_ADDR=http://{}\nSHOPIFY_API_KEY=vault:secret/trust#K\nDATABASE_URL=vault:secret/trust#K\n",
            trap.addr()
        ),
    );
    vault_put("trust", json!({ "K": "the-real-one" }));
    let app: Pipeline = vault_loader(&dir, VAULT, vec![]).load().unwrap();
    assert_eq!(app.shopify_api_key.expose_secret(), "the-real-one");
    assert!(!trap.was_contacted());

    // With no address in the environment (a token in ~/.vault-token, say), the file's address
    // is refused, with where to put it instead.
    let home = TempDir::new("trust-home");
    home.write(".vault-token", "s3cret-home-token\n");
    dir.write(
        ".env",
        format!(
            "VAULT_ADDR=http://{}\nSHOPIFY_API_KEY=vault:secret/trust#K\nDATABASE_URL=vault:secret/trust#K\n",
            trap.addr()
        ),
    );
    let err = Loader::new()
        .dir(dir.path())
        .vars([("HOME", home.path().to_str().unwrap())])
        .load::<Pipeline>()
        .unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains(".env line 1 but not in the environment, and a file may not choose where credentials are sent"),
        "{text}"
    );
    assert!(
        text.contains("set VAULT_ADDR in the environment, or in code with Loader::vault_config"),
        "{text}"
    );
    assert!(!trap.was_contacted());
    assert!(!text.contains("s3cret"), "{text}");
}

#[test]
fn the_environment_wins_over_files_for_every_bao_vault_pair() {
    let path = unique("pair");
    vault_put(&path, json!({ "K": "read-with-the-environment-token" }));
    let dir = TempDir::new("trust-pair");
    dir.write(
        ".env",
        format!("BAO_TOKEN=wrong-token-from-file\nSHOPIFY_API_KEY=vault:secret/{path}#K\nDATABASE_URL=vault:secret/{path}#K\n"),
    );
    let app: Pipeline = vault_loader(&dir, VAULT, vec![]).load().unwrap();
    assert_eq!(
        app.database_url.expose_secret(),
        "read-with-the-environment-token"
    );
}

#[test]
fn a_file_cannot_choose_aws_endpoints_or_credential_files_and_a_region_must_be_one() {
    let trap = Trap::new();
    let dir = TempDir::new("trust-aws");
    let refs = "SHOPIFY_API_KEY=ssm:/app/k\nDATABASE_URL=ssm:/app/k\n";
    let aws_env = [
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
    ];
    for (line, name) in [
        (
            format!("AWS_ENDPOINT_URL=http://{}", trap.addr()),
            "AWS_ENDPOINT_URL",
        ),
        (
            format!("AWS_ENDPOINT_URL_SSM=http://{}", trap.addr()),
            "AWS_ENDPOINT_URL_SSM",
        ),
        (
            "AWS_SHARED_CREDENTIALS_FILE=/etc/passwd".to_owned(),
            "AWS_SHARED_CREDENTIALS_FILE",
        ),
        ("HOME=/tmp".to_owned(), "HOME"),
    ] {
        dir.write(".env", format!("{line}\nAWS_REGION=us-east-1\n{refs}"));
        // Should the rule ever break, the request still goes to the trap on loopback, never to
        // AWS: the environment names the endpoint wherever the file does not.
        let mut vars: Vec<(String, String)> = pairs(&aws_env);
        if name != "AWS_ENDPOINT_URL" {
            vars.push(("AWS_ENDPOINT_URL".into(), format!("http://{}", trap.addr())));
        }
        let err = Loader::new()
            .dir(dir.path())
            .vars(vars)
            .store_options(quick())
            .load::<Pipeline>()
            .unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains(&format!("aws: {name} is set in "))
                && text.contains(&format!(
                    "set {name} in the environment, or in code with Loader::aws_config"
                )),
            "{name}: {text}"
        );
    }
    // A region that would change the host the request goes to.
    dir.write(".env", format!("AWS_REGION=x@{}/\n{refs}", trap.addr()));
    let mut vars: Vec<(String, String)> = pairs(&aws_env);
    vars.push(("AWS_ENDPOINT_URL".into(), format!("http://{}", trap.addr())));
    let err = Loader::new()
        .dir(dir.path())
        .vars(vars)
        .store_options(quick())
        .load::<Pipeline>()
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("aws: the region is not a region name"),
        "{err}"
    );
    assert!(!trap.was_contacted());
}

#[test]
fn plain_http_is_for_loopback_unless_the_user_opts_in() {
    require(VAULT, "OpenBao (bao server -dev)");
    let path = unique("http");
    vault_put(&path, json!({ "K": "over-plain-http" }));
    let dir = TempDir::new("trust-http");
    let reference = format!("vault:secret/{path}#K");
    // 0.0.0.0 is not a loopback address by name, but a connection to it reaches this machine:
    // it stands in for a remote host without sending anything off the machine.
    let vars = pairs(&[
        ("SHOPIFY_API_KEY", &reference),
        ("DATABASE_URL", &reference),
        ("VAULT_ADDR", "http://0.0.0.0:8200"),
        ("VAULT_TOKEN", ROOT_TOKEN),
    ]);
    let err = Loader::new()
        .dir(dir.path())
        .vars(vars.clone())
        .load::<Pipeline>()
        .unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("VAULT_ADDR uses http:// to a host that is not loopback"),
        "{text}"
    );
    assert!(text.contains("SETTINGS_ALLOW_INSECURE_HTTP=true"), "{text}");

    // Opted in through the environment, then in code.
    let mut opted = vars.clone();
    opted.push(("SETTINGS_ALLOW_INSECURE_HTTP".into(), "true".into()));
    let app: Pipeline = Loader::new()
        .dir(dir.path())
        .vars(opted)
        .store_options(quick())
        .load()
        .unwrap();
    assert_eq!(app.database_url.expose_secret(), "over-plain-http");
    let app: Pipeline = Loader::new()
        .dir(dir.path())
        .vars(vars)
        .store_options({
            let mut options = quick();
            options.allow_insecure_http = true;
            options
        })
        .load()
        .unwrap();
    assert_eq!(app.database_url.expose_secret(), "over-plain-http");
}

#[cfg(unix)]
#[test]
fn store_files_that_would_block_or_never_end_are_refused() {
    let dir = TempDir::new("trust-store-files");
    let home = TempDir::new("trust-fifo-home");
    let fifo = home.path().join(".vault-token");
    assert!(
        std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let refs = [
        ("SHOPIFY_API_KEY", "vault:secret/x#K"),
        ("DATABASE_URL", "vault:secret/x#K"),
    ];
    // A FIFO as ~/.vault-token: no token, rather than a load that waits for a writer forever.
    let mut vars = pairs(&refs);
    vars.push(("VAULT_ADDR".into(), format!("http://{VAULT}")));
    vars.push(("HOME".into(), home.path().to_str().unwrap().into()));
    let err = Loader::new()
        .dir(dir.path())
        .vars(vars)
        .load::<Pipeline>()
        .unwrap_err();
    assert!(err.to_string().contains("vault: no token"), "{err}");
    // /dev/zero as the CA bundle: refused, not read until memory runs out.
    let mut vars = pairs(&refs);
    vars.push(("VAULT_ADDR".into(), format!("http://{VAULT}")));
    vars.push(("VAULT_TOKEN".into(), ROOT_TOKEN.into()));
    vars.push(("VAULT_CACERT".into(), "/dev/zero".into()));
    let err = Loader::new()
        .dir(dir.path())
        .vars(vars)
        .load::<Pipeline>()
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("the CA bundle /dev/zero: is not a regular file; refused"),
        "{err}"
    );
}

#[test]
fn a_vault_error_body_is_never_printed() {
    let dir = TempDir::new("vault-echo");
    let proxy = Proxy::start(VAULT);
    // A server (or a gateway in front of it) that quotes the token it was sent.
    proxy.fail_next([Fault::Status(
        400,
        "{\"errors\":[\"permission check failed for token hvs.s3cret-echo\"]}",
    )]);
    let vars = pairs(&[
        ("SHOPIFY_API_KEY", "vault:secret/x#K"),
        ("DATABASE_URL", "vault:secret/x#K"),
        ("VAULT_TOKEN", "hvs.s3cret-echo"),
    ]);
    let err = vault_loader(&dir, &proxy.url()[7..], vars)
        .load::<Pipeline>()
        .unwrap_err();
    let text = err.to_string();
    assert!(text.contains("refused as invalid (400)"), "{text}");
    assert!(!text.contains("s3cret-echo"), "{text}");
}

#[test]
fn an_aws_error_message_is_never_printed_only_its_code() {
    let dir = TempDir::new("aws-echo");
    let proxy = Proxy::start(MOTO);
    proxy.fail_next([
        Fault::Status(
            400,
            "{\"__type\":\"AccessDeniedException\",\"message\":\"no access to s3cret-name-echo\"}",
        ),
        Fault::Status(400, "{\"__type\":\"s3cret-code-echo here\"}"),
    ]);
    let vars = pairs(&[
        ("SHOPIFY_API_KEY", "ssm:/app/s3cret-name-echo"),
        ("DATABASE_URL", "secretsmanager:app#s3cret-code-echo"),
    ]);
    let err = aws_loader(&dir, &proxy.url(), vars)
        .load::<Pipeline>()
        .unwrap_err();
    let problems: Vec<String> = err
        .problems()
        .iter()
        .map(|p| match &p.kind {
            ProblemKind::Unavailable { message, .. } => message.clone(),
            other => format!("{other:?}"),
        })
        .collect();
    assert_eq!(
        problems,
        [
            "permission denied: check the credentials and their IAM policy (AccessDeniedException, HTTP 400)",
            "the request failed (HTTP 400)",
        ],
        "{err}"
    );
}

#[test]
fn an_answer_over_the_size_limit_is_refused_at_once() {
    let dir = TempDir::new("vault-big");
    let proxy = Proxy::start(VAULT);
    proxy.fail_next([Fault::Big(9 * 1024 * 1024)]);
    let vars = pairs(&[
        ("SHOPIFY_API_KEY", "vault:secret/x#K"),
        ("DATABASE_URL", "vault:secret/x#K"),
    ]);
    let err = vault_loader(&dir, &proxy.url()[7..], vars)
        .load::<Pipeline>()
        .unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("the answer is larger than 8 MiB; refused"),
        "{text}"
    );
    assert!(!text.contains("cannot reach"), "{text}");
    assert_eq!(
        proxy.requests(),
        1,
        "a reply too large is not asked for again"
    );
}

#[test]
fn timeouts_are_bounded() {
    let dir = TempDir::new("vault-timeout");
    let proxy = Proxy::start(VAULT);
    proxy.fail_next([
        Fault::Hang(Duration::from_secs(3)),
        Fault::Hang(Duration::from_secs(3)),
        Fault::Hang(Duration::from_secs(3)),
    ]);
    let vars = pairs(&[
        ("SHOPIFY_API_KEY", "vault:secret/x#K"),
        ("DATABASE_URL", "vault:secret/x#K"),
    ]);
    let started = Instant::now();
    let err = vault_loader(&dir, &proxy.url()[7..], vars)
        .store_options({
            let mut options = quick();
            options.request_timeout = Duration::from_millis(800);
            options
        })
        .load::<Pipeline>()
        .unwrap_err();
    let elapsed = started.elapsed();
    assert!(err.to_string().contains("timed out"), "{err}");
    assert_eq!(proxy.requests(), 3, "three attempts");
    assert!(
        elapsed < Duration::from_secs(4),
        "gave up after {elapsed:?}"
    );
}

#[test]
fn a_reference_in_a_non_secret_field_needs_an_opt_in() {
    #[derive(Settings)]
    #[allow(dead_code)]
    struct Mixed {
        /// Printed in logs
        store_name: String,
        #[settings(allow_reference)]
        region: String,
    }
    let path = unique("nonsecret");
    vault_put(
        &path,
        json!({ "NAME": "leaked-if-allowed", "REGION": "eu-west-1" }),
    );
    let dir = TempDir::new("vault-nonsecret");
    let vars = pairs(&[
        ("STORE_NAME", &format!("vault:secret/{path}#NAME")),
        ("REGION", &format!("vault:secret/{path}#REGION")),
    ]);
    let err = vault_loader(&dir, VAULT, vars.clone())
        .load::<Mixed>()
        .unwrap_err();
    let text = err.to_string();
    assert_eq!(err.problems().len(), 1, "{text}");
    assert!(text.contains("STORE_NAME from given variables: holds a secret-store reference, but field `store_name` is not secret"), "{text}");
    assert!(!text.contains("leaked-if-allowed"));
}

// ---------------------------------------------------------------- SSM Parameter Store

#[test]
fn ssm_references_are_fetched_ten_per_request() {
    let prefix = format!("/{}", unique("refs"));
    let dir = TempDir::new("ssm-refs");
    let mut env = String::new();
    for i in 0..100 {
        ssm_put(&format!("{prefix}/P{i}"), &format!("value-{i}"));
        env.push_str(&format!("P{i}=ssm:{prefix}/P{i}\n"));
    }
    dir.write(".env", env);
    #[derive(Settings)]
    struct Hundred {
        #[settings(nested)]
        a: Fifty1,
        #[settings(nested)]
        b: Fifty2,
    }
    macro_rules! fifty {
        ($name:ident, $($field:ident),*) => {
            #[derive(Settings)]
            #[allow(dead_code)]
            struct $name { $($field: SecretString,)* }
        };
    }
    fifty!(
        Fifty1, p0, p1, p2, p3, p4, p5, p6, p7, p8, p9, p10, p11, p12, p13, p14, p15, p16, p17,
        p18, p19, p20, p21, p22, p23, p24, p25, p26, p27, p28, p29, p30, p31, p32, p33, p34, p35,
        p36, p37, p38, p39, p40, p41, p42, p43, p44, p45, p46, p47, p48, p49
    );
    fifty!(
        Fifty2, p50, p51, p52, p53, p54, p55, p56, p57, p58, p59, p60, p61, p62, p63, p64, p65,
        p66, p67, p68, p69, p70, p71, p72, p73, p74, p75, p76, p77, p78, p79, p80, p81, p82, p83,
        p84, p85, p86, p87, p88, p89, p90, p91, p92, p93, p94, p95, p96, p97, p98, p99
    );
    let proxy = Proxy::start(MOTO);
    let hundred: Hundred = aws_loader(&dir, &proxy.url(), vec![]).load().unwrap();
    assert_eq!(hundred.a.p7.expose_secret(), "value-7");
    assert_eq!(hundred.b.p99.expose_secret(), "value-99");
    assert_eq!(proxy.requests(), 10, "100 references in batches of 10");
}

#[test]
fn ssm_path_import_follows_every_page() {
    let prefix = format!("/{}", unique("bypath"));
    for i in 0..99 {
        ssm_put(&format!("{prefix}/KEY_{i}"), &format!("v{i}"));
    }
    ssm_put(&format!("{prefix}/db/url"), "postgres://nested");
    #[derive(Settings)]
    #[allow(dead_code)]
    struct Imported {
        key_0: SecretString,
        key_98: SecretString,
        db_url: SecretString,
    }
    let dir = TempDir::new("ssm-path");
    let proxy = Proxy::start(MOTO);
    let (imported, report) = aws_loader(&dir, &proxy.url(), vec![])
        .ssm_path(&prefix)
        .load_with_report::<Imported>()
        .unwrap();
    assert_eq!(imported.key_98.expose_secret(), "v98");
    assert_eq!(imported.db_url.expose_secret(), "postgres://nested");
    // 10 full pages of 10; a full page carries a NextToken (moto, like AWS, cannot know it was
    // the last), so the 11th request fetches the empty last page.
    assert!(
        proxy.requests() <= 11,
        "100 parameters, 10 per page: {} requests",
        proxy.requests()
    );
    assert!(
        report
            .to_string()
            .contains(&format!("KEY_0 = [REDACTED] (from ssm {prefix}#KEY_0)")),
        "{report}"
    );
}

#[test]
fn ssm_missing_parameters_and_throttling() {
    let prefix = format!("/{}", unique("missing"));
    ssm_put(&format!("{prefix}/present"), "here");
    let dir = TempDir::new("ssm-missing");
    let proxy = Proxy::start(MOTO);
    proxy.fail_next([Fault::Status(
        400,
        "{\"__type\":\"ThrottlingException\",\"message\":\"Rate exceeded\"}",
    )]);
    let vars = pairs(&[
        ("SHOPIFY_API_KEY", &format!("ssm:{prefix}/present")),
        ("DATABASE_URL", &format!("ssm:{prefix}/absent")),
    ]);
    let err = aws_loader(&dir, &proxy.url(), vars)
        .load::<Pipeline>()
        .unwrap_err();
    let text = err.to_string();
    assert_eq!(err.problems().len(), 1, "{text}");
    assert!(
        text.contains(&format!(
            "DATABASE_URL from ssm {prefix}/absent: not found (ParameterNotFound)"
        )),
        "{text}"
    );
    assert_eq!(proxy.requests(), 2, "the throttled call was retried once");
}

#[test]
fn sigv4_signatures_are_checked_by_moto_with_auth_on() {
    // Three actions without auth from now on: make a user, a key, a policy; then auth is on.
    reset_auth(3);
    let user = unique("signer");
    iam(&[("Action", "CreateUser"), ("UserName", &user)]);
    let key = iam(&[("Action", "CreateAccessKey"), ("UserName", &user)]);
    let policy =
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;
    let put = iam(&[
        ("Action", "PutUserPolicy"),
        ("UserName", &user),
        ("PolicyName", "all"),
        ("PolicyDocument", policy),
    ]);
    assert!(put.contains("PutUserPolicyResponse"), "{put}");
    let id = xml_value(&key, "AccessKeyId").expect("moto made an access key");
    let secret = xml_value(&key, "SecretAccessKey").expect("moto made a secret key");
    let dir = TempDir::new("sigv4");
    let load = |secret: &str| {
        Loader::new()
            .dir(dir.path())
            .store_options(quick())
            .vars(pairs(&[
                ("AWS_ACCESS_KEY_ID", &id),
                ("AWS_SECRET_ACCESS_KEY", secret),
                ("AWS_REGION", "us-east-1"),
                ("AWS_ENDPOINT_URL", &format!("http://{MOTO_AUTH}")),
                ("SHOPIFY_API_KEY", "ssm:/signed/absent"),
                ("DATABASE_URL", "ssm:/signed/absent"),
            ]))
            .load::<Pipeline>()
            .unwrap_err()
            .to_string()
    };
    let good = load(&secret);
    assert!(
        good.contains("not found (ParameterNotFound)"),
        "a valid signature gets an answer: {good}"
    );
    let bad = load("wrong-secret-key");
    assert!(
        bad.contains("signature rejected: check AWS_SECRET_ACCESS_KEY (SignatureDoesNotMatch"),
        "{bad}"
    );
    assert!(!bad.contains("wrong-secret-key"));
}

// ---------------------------------------------------------------- Secrets Manager

#[test]
fn secrets_manager_json_keys_plain_strings_and_imports() {
    let name = unique("sm");
    secret_put(&name, r#"{"password":"pw-s3cret","user":"etl"}"#);
    let plain = unique("sm-plain");
    secret_put(&plain, "plain-s3cret");
    let dir = TempDir::new("sm");
    let vars = pairs(&[
        ("SHOPIFY_API_KEY", &format!("secretsmanager:{plain}")),
        ("DATABASE_URL", &format!("secretsmanager:{name}#password")),
    ]);
    let proxy = Proxy::start(MOTO);
    let (app, report) = aws_loader(&dir, &proxy.url(), vars)
        .load_with_report::<Pipeline>()
        .unwrap();
    assert_eq!(app.shopify_api_key.expose_secret(), "plain-s3cret");
    assert_eq!(app.database_url.expose_secret(), "pw-s3cret");
    assert_eq!(
        proxy.requests(),
        1,
        "both secrets in one BatchGetSecretValue"
    );
    assert!(report.to_string().contains(&format!(
        "DATABASE_URL = [REDACTED] (from secretsmanager {name}#password)"
    )));

    #[derive(Settings)]
    #[allow(dead_code)]
    struct Db {
        password: SecretString,
        user: String,
    }
    let db: Db = aws_loader(&dir, MOTO_URL_DIRECT, vec![])
        .secretsmanager_secret(&name)
        .load()
        .unwrap();
    assert_eq!(db.password.expose_secret(), "pw-s3cret");
    assert_eq!(db.user, "etl");

    // A plain string secret is one variable, named after the last segment of its name.
    let token_name = format!("{}/api_token", unique("sm-plain-import"));
    secret_put(&token_name, "tok-s3cret");
    #[derive(Settings)]
    #[allow(dead_code)]
    struct Token {
        api_token: SecretString,
    }
    let token: Token = aws_loader(&dir, MOTO_URL_DIRECT, vec![])
        .secretsmanager_secret(&token_name)
        .load()
        .unwrap();
    assert_eq!(token.api_token.expose_secret(), "tok-s3cret");
}

const MOTO_URL_DIRECT: &str = "http://127.0.0.1:5000";

#[test]
fn secrets_manager_missing_secrets_and_keys() {
    let name = unique("sm-keys");
    secret_put(&name, r#"{"password":"pw"}"#);
    let dir = TempDir::new("sm-missing");
    let vars = pairs(&[
        ("SHOPIFY_API_KEY", &format!("secretsmanager:{name}-absent")),
        ("DATABASE_URL", &format!("secretsmanager:{name}#nokey")),
    ]);
    let err = aws_loader(&dir, MOTO_URL_DIRECT, vars)
        .load::<Pipeline>()
        .unwrap_err();
    let text = err.to_string();
    assert!(text.contains(&format!("SHOPIFY_API_KEY from secretsmanager {name}-absent: not found (ResourceNotFoundException")), "{text}");
    assert!(
        text.contains(&format!(
            "DATABASE_URL from secretsmanager {name}#nokey: the secret has no key nokey"
        )),
        "{text}"
    );
}

#[test]
fn the_vault_token_file_in_home_is_used() {
    let path = unique("tokenfile");
    vault_put(&path, json!({ "K": "via-token-file" }));
    let home = TempDir::new("vault-home");
    home.write(".vault-token", format!("{ROOT_TOKEN}\n"));
    let dir = TempDir::new("vault-tokenfile");
    let reference = format!("vault:secret/{path}#K");
    let app: Pipeline = Loader::new()
        .dir(dir.path())
        .store_options(quick())
        .vars(pairs(&[
            ("HOME", home.path().to_str().unwrap()),
            ("VAULT_ADDR", &format!("http://{VAULT}")),
            ("SHOPIFY_API_KEY", &reference),
            ("DATABASE_URL", &reference),
        ]))
        .load()
        .unwrap();
    assert_eq!(app.database_url.expose_secret(), "via-token-file");
}

#[test]
fn aws_profiles_come_from_the_shared_files() {
    let name = format!("/{}/key", unique("profile"));
    ssm_put(&name, "via-profile");
    let files = TempDir::new("aws-files");
    let credentials = files.write("credentials", "[default]\naws_access_key_id = wrong\naws_secret_access_key = wrong\n\n[pipeline]\naws_access_key_id = testing\naws_secret_access_key = testing\n");
    let config = files.write("config", "[profile pipeline]\nregion = us-east-1\n");
    let dir = TempDir::new("aws-profile");
    let reference = format!("ssm:{name}");
    let app: Pipeline = Loader::new()
        .dir(dir.path())
        .store_options(quick())
        .vars(pairs(&[
            ("AWS_PROFILE", "pipeline"),
            ("AWS_SHARED_CREDENTIALS_FILE", credentials.to_str().unwrap()),
            ("AWS_CONFIG_FILE", config.to_str().unwrap()),
            ("AWS_ENDPOINT_URL_SSM", MOTO_URL_DIRECT),
            ("SHOPIFY_API_KEY", &reference),
            ("DATABASE_URL", &reference),
        ]))
        .load()
        .unwrap();
    assert_eq!(app.shopify_api_key.expose_secret(), "via-profile");

    // Without a region anywhere, the error says where to set one.
    let err = Loader::new()
        .dir(dir.path())
        .vars(pairs(&[
            ("AWS_ACCESS_KEY_ID", "a"),
            ("AWS_SECRET_ACCESS_KEY", "b"),
            ("SHOPIFY_API_KEY", &reference),
            ("DATABASE_URL", &reference),
        ]))
        .load::<Pipeline>()
        .unwrap_err();
    assert!(
        err.to_string().contains("aws: no region; set AWS_REGION"),
        "{err}"
    );
}

#[test]
fn references_to_each_store_in_one_load() {
    let path = unique("mixed");
    vault_put(&path, json!({ "K": "from-vault" }));
    let name = format!("/{}/db", unique("mixed"));
    ssm_put(&name, "from-ssm");
    let dir = TempDir::new("mixed");
    let mut vars = pairs(&[
        ("VAULT_ADDR", &format!("http://{VAULT}")),
        ("VAULT_TOKEN", ROOT_TOKEN),
        ("SHOPIFY_API_KEY", &format!("vault:secret/{path}#K")),
        ("DATABASE_URL", &format!("ssm:{name}")),
    ]);
    vars.extend(pairs(&[
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("AWS_REGION", "us-east-1"),
        ("AWS_ENDPOINT_URL", MOTO_URL_DIRECT),
    ]));
    let app: Pipeline = Loader::new().dir(dir.path()).vars(vars).load().unwrap();
    assert_eq!(app.shopify_api_key.expose_secret(), "from-vault");
    assert_eq!(app.database_url.expose_secret(), "from-ssm");
}

#[test]
fn loading_inside_an_async_runtime_does_not_panic() {
    let path = unique("in-runtime");
    vault_put(&path, json!({ "K": "inside-tokio" }));
    let dir = TempDir::new("in-runtime");
    let reference = format!("vault:secret/{path}#K");
    let vars = pairs(&[
        ("SHOPIFY_API_KEY", &reference),
        ("DATABASE_URL", &reference),
    ]);
    let loader = vault_loader(&dir, VAULT, vars);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let app: Pipeline = runtime.block_on(async { loader.load() }).unwrap();
    assert_eq!(app.database_url.expose_secret(), "inside-tokio");
}

// ---------------------------------------------------------------- the client, by name

fn client_loader(vault: &str) -> Loader {
    require(VAULT, "OpenBao (bao server -dev)");
    require(MOTO, "moto_server");
    Loader::new()
        .vars(pairs(&[
            ("VAULT_ADDR", vault),
            ("VAULT_TOKEN", ROOT_TOKEN),
            ("AWS_ACCESS_KEY_ID", "testing"),
            ("AWS_SECRET_ACCESS_KEY", "testing"),
            ("AWS_REGION", "us-east-1"),
            ("AWS_ENDPOINT_URL", MOTO_URL_DIRECT),
        ]))
        .store_options(quick())
}

#[test]
fn the_client_gets_by_name_and_by_path_from_every_store() {
    fn shared<T: Send + Sync>(_: &T) {}
    let path = unique("client");
    vault_put(
        &path,
        json!({ "API_KEY": "client-vault-key", "db-url": "pg://v" }),
    );
    let prefix = format!("/{}", unique("client"));
    ssm_put(&format!("{prefix}/db/password"), "client-ssm-pw");
    ssm_put(&format!("{prefix}/token"), "client-ssm-token");
    let secret = unique("client-sm");
    secret_put(&secret, r#"{"user":"etl","password":"client-sm-pw"}"#);

    let client = client_loader(&format!("http://{VAULT}")).store_client();
    shared(&client);
    let key = client.get(&format!("vault:secret/{path}#API_KEY")).unwrap();
    assert_eq!(key.expose_secret(), "client-vault-key");
    let many = client.get_many(&[
        &format!("ssm:{prefix}/token"),
        &format!("secretsmanager:{secret}#password"),
        &format!("ssm:{prefix}/absent"),
    ]);
    assert_eq!(
        many[0].as_ref().unwrap().expose_secret(),
        "client-ssm-token"
    );
    assert_eq!(many[1].as_ref().unwrap().expose_secret(), "client-sm-pw");
    let missing = many[2].as_ref().unwrap_err();
    assert_eq!(missing.location, format!("ssm:{prefix}/absent"));
    assert!(missing.message.contains("ParameterNotFound"), "{missing}");

    let shown = |all: std::collections::BTreeMap<String, SecretString>| -> Vec<(String, String)> {
        all.into_iter()
            .map(|(k, v)| (k, v.expose_secret().to_owned()))
            .collect()
    };
    assert_eq!(
        shown(client.get_all(&format!("vault:secret/{path}")).unwrap()),
        [
            ("API_KEY".to_owned(), "client-vault-key".to_owned()),
            ("DB_URL".to_owned(), "pg://v".to_owned())
        ]
    );
    assert_eq!(
        shown(client.get_all(&format!("ssm:{prefix}")).unwrap()),
        [
            ("DB_PASSWORD".to_owned(), "client-ssm-pw".to_owned()),
            ("TOKEN".to_owned(), "client-ssm-token".to_owned())
        ]
    );
    assert_eq!(
        shown(client.get_all(&format!("secretsmanager:{secret}")).unwrap()),
        [
            ("PASSWORD".to_owned(), "client-sm-pw".to_owned()),
            ("USER".to_owned(), "etl".to_owned())
        ]
    );
    let bad = client.get("not-a-reference").unwrap_err();
    assert!(bad.message.contains("not a reference"), "{bad}");
    let bad = client
        .get_all(&format!("vault:secret/{path}#API_KEY"))
        .unwrap_err();
    assert!(bad.message.contains("without #KEY"), "{bad}");
    assert!(!format!("{client:?}").contains("client-"), "{client:?}");
}

#[test]
fn the_client_keeps_answers_for_its_ttl_and_is_shared_by_threads() {
    let path = unique("client-ttl");
    vault_put(&path, json!({ "K": "ttl-1" }));
    let proxy = Proxy::start(VAULT);
    let reference = format!("vault:secret/{path}#K");
    let client = std::sync::Arc::new(
        client_loader(&proxy.url())
            .store_client()
            .with_ttl(Duration::from_millis(500)),
    );
    assert_eq!(client.get(&reference).unwrap().expose_secret(), "ttl-1");
    let first = proxy.requests();
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let (client, reference) = (client.clone(), reference.clone());
            std::thread::spawn(move || {
                for _ in 0..25 {
                    assert_eq!(client.get(&reference).unwrap().expose_secret(), "ttl-1");
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    assert_eq!(
        proxy.requests(),
        first,
        "100 gets within the TTL ask nothing"
    );

    vault_put(&path, json!({ "K": "ttl-2" }));
    assert_eq!(client.get(&reference).unwrap().expose_secret(), "ttl-1");
    client.invalidate();
    assert_eq!(client.get(&reference).unwrap().expose_secret(), "ttl-2");
    vault_put(&path, json!({ "K": "ttl-3" }));
    std::thread::sleep(Duration::from_millis(600));
    assert_eq!(client.get(&reference).unwrap().expose_secret(), "ttl-3");

    let uncached = client_loader(&proxy.url())
        .store_client()
        .with_ttl(Duration::ZERO);
    let before = proxy.requests();
    uncached.get(&reference).unwrap();
    uncached.get(&reference).unwrap();
    assert!(proxy.requests() - before >= 2, "no TTL: every get asks");
}
