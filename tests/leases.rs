//! Vault leases and token lifetimes, against a real OpenBao with its database secrets engine
//! and a real PostgreSQL (both started by `scripts/stores.sh`): dynamic credentials that log in,
//! leases renewed by a watch, a new user at the role's maximum with the old one revoked, tokens
//! that outlive their TTL by renewal, and an AppRole token obtained again.

#![cfg(all(feature = "vault", feature = "watch"))]

#[allow(dead_code)]
mod common;
#[path = "common/proxy.rs"]
#[allow(dead_code)]
mod proxy;
#[path = "common/seed.rs"]
#[allow(dead_code)]
mod seed;

use std::collections::HashSet;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Once};
use std::time::{Duration, Instant};

use common::TempDir;
use proxy::Proxy;
use seed::*;
use serde_json::json;
use settings::{ExposeSecret, Loader, SecretString, Settings, Watch};

const POSTGRES: &str = "127.0.0.1:15432";

#[derive(Settings)]
struct Db {
    /// The database user: not a secret, but it comes from the same lease as the password.
    #[settings(allow_reference)]
    db_user: String,
    db_password: SecretString,
}

/// The database engine at `database/`, connected to the test PostgreSQL, with three roles:
/// `stable` (an hour), `renewing` (4 s, renewable up to 2 minutes), `short` (3 s, at most 8 s).
fn database_engine() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        require(VAULT, "OpenBao (bao server -dev)");
        require(POSTGRES, "PostgreSQL (scripts/stores.sh starts it)");
        // Already mounted when the dev server has run these tests before: a 400 then.
        let _ = vault("POST", "sys/mounts/database", Some(json!({ "type": "database" })));
        let (status, answer) = vault(
            "POST",
            "database/config/pg",
            Some(json!({
                "plugin_name": "postgresql-database-plugin",
                "allowed_roles": "*",
                "connection_url": format!("postgresql://{{{{username}}}}:{{{{password}}}}@{POSTGRES}/postgres?sslmode=disable"),
                "username": "postgres",
                "password": "postgres-test",
            })),
        );
        assert!(status == 200 || status == 204, "database config: {status} {answer}");
        let create = "CREATE ROLE \"{{name}}\" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}';";
        for (role, ttl, max) in [("stable", 3600, 3600), ("renewing", 4, 120), ("short", 3, 8)] {
            let (status, answer) = vault(
                "POST",
                &format!("database/roles/{role}"),
                Some(json!({
                    "db_name": "pg",
                    "default_ttl": ttl,
                    "max_ttl": max,
                    "creation_statements": [create],
                })),
            );
            assert!(status == 200 || status == 204, "role {role}: {status} {answer}");
        }
    });
}

/// True when `user` / `password` log in to the test PostgreSQL.
fn logs_in(user: &str, password: &str) -> bool {
    let output = Command::new("psql")
        .args([
            "-h",
            "127.0.0.1",
            "-p",
            "15432",
            "-U",
            user,
            "-d",
            "postgres",
        ])
        .args(["-tAc", "select 1"])
        .env("PGPASSWORD", password)
        .env("PGCONNECT_TIMEOUT", "5")
        .output()
        .expect("psql runs (Debian's postgresql-client)");
    output.status.success() && String::from_utf8_lossy(&output.stdout).trim() == "1"
}

fn db_loader(dir: &TempDir, addr: &str, role: &str, token: &str) -> Loader {
    Loader::new()
        .dir(dir.path())
        .vars([
            ("VAULT_ADDR".to_owned(), addr.to_owned()),
            ("VAULT_TOKEN".to_owned(), token.to_owned()),
            (
                "DB_USER".to_owned(),
                format!("vault:database/creds/{role}#username"),
            ),
            (
                "DB_PASSWORD".to_owned(),
                format!("vault:database/creds/{role}#password"),
            ),
        ])
        .store_options(quick())
        .poll_files_every(Duration::ZERO)
}

fn pair(watch: &Watch<Db>) -> (String, String) {
    let db = watch.get();
    (
        db.db_user.clone(),
        db.db_password.expose_secret().to_owned(),
    )
}

#[test]
fn dynamic_credentials_come_from_one_lease_and_log_in() {
    database_engine();
    let proxy = Proxy::start(VAULT);
    let dir = TempDir::new("lease-plain");
    let (db, report) = db_loader(&dir, &proxy.url(), "stable", ROOT_TOKEN)
        .load_with_report::<Db>()
        .unwrap();
    // The mount's type once, then one read for both keys: one lease, one database user.
    assert_eq!(proxy.requests(), 2);
    assert!(db.db_user.starts_with("v-"), "{}", db.db_user);
    assert!(logs_in(&db.db_user, db.db_password.expose_secret()));
    // The start-up report says how long the lease has, never its id or the password.
    let shown = report.to_string();
    for entry in report.entries() {
        let lease = entry.lease.expect("each value has its lease");
        assert!(lease.renewable);
        assert!(lease.remaining > Duration::from_secs(3500), "{lease:?}");
    }
    assert!(
        shown.contains("(lease: 3599s left, renewable)")
            || shown.contains("(lease: 3600s left, renewable)"),
        "{shown}"
    );
    assert!(!shown.contains(db.db_password.expose_secret()), "{shown}");
}

#[test]
fn a_watch_renews_its_lease_and_keeps_its_user() {
    database_engine();
    let dir = TempDir::new("lease-renew");
    let watch: Watch<Db> = db_loader(&dir, &format!("http://{VAULT}"), "renewing", ROOT_TOKEN)
        .refresh_every(Duration::from_secs(1))
        .watch()
        .unwrap();
    let (user, password) = pair(&watch);
    // Twice the lease's 4 seconds: without renewals the user would have expired.
    std::thread::sleep(Duration::from_secs(9));
    assert_eq!(pair(&watch).0, user, "the same user: renewed, not replaced");
    assert_eq!(watch.generation(), 0);
    assert!(watch.last_error().is_none(), "{:?}", watch.last_error());
    assert!(
        logs_in(&user, &password),
        "the renewed credentials still log in"
    );
    drop(watch);
    assert!(
        !logs_in(&user, &password),
        "the lease is revoked with the watch"
    );
}

#[test]
fn at_the_maximum_ttl_a_new_user_is_published_and_the_old_one_revoked() {
    database_engine();
    let dir = TempDir::new("lease-rotate");
    let watch = Arc::new(
        db_loader(&dir, &format!("http://{VAULT}"), "short", ROOT_TOKEN)
            .refresh_every(Duration::from_secs(1))
            .watch::<Db>()
            .unwrap(),
    );
    let first = pair(&watch);
    assert!(logs_in(&first.0, &first.1));
    // Another thread checks every pair it ever sees, as soon as it sees it: each one logs in,
    // so no username was handed out with another lease's password.
    let stop = Arc::new(AtomicBool::new(false));
    let seen: Arc<Mutex<Vec<(String, bool)>>> = Arc::default();
    let checker = {
        let (watch, stop, seen) = (watch.clone(), stop.clone(), seen.clone());
        std::thread::spawn(move || {
            let mut checked = HashSet::new();
            while !stop.load(Ordering::SeqCst) {
                let (user, password) = pair(&watch);
                if checked.insert(user.clone()) {
                    let ok = logs_in(&user, &password);
                    seen.lock().unwrap().push((user, ok));
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        })
    };
    let new = watch
        .wait_for_change(Duration::from_secs(20))
        .expect("a new user before the old one's maximum");
    let change = watch.last_change().unwrap();
    assert_eq!(
        change.names(),
        ["DB_PASSWORD", "DB_USER"],
        "both change together"
    );
    assert_ne!(new.db_user, first.0);
    assert!(logs_in(&new.db_user, new.db_password.expose_secret()));
    // The old lease is revoked once the new settings are out.
    let deadline = Instant::now() + Duration::from_secs(5);
    while logs_in(&first.0, &first.1) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(!logs_in(&first.0, &first.1), "the old user is revoked");
    stop.store(true, Ordering::SeqCst);
    checker.join().unwrap();
    let seen = seen.lock().unwrap();
    assert!(seen.len() >= 2, "{seen:?}");
    assert!(seen.iter().all(|(_, ok)| *ok), "{seen:?}");
}

#[test]
fn leases_can_be_kept_when_the_watch_ends() {
    database_engine();
    let dir = TempDir::new("lease-keep");
    let watch: Watch<Db> = db_loader(&dir, &format!("http://{VAULT}"), "stable", ROOT_TOKEN)
        .keep_leases_on_drop(true)
        .watch()
        .unwrap();
    let (user, password) = pair(&watch);
    drop(watch);
    assert!(
        logs_in(&user, &password),
        "kept: another process may go on using it"
    );
}

/// A policy that reads KV secrets under `secret/` and nothing else.
fn reader_policy() -> String {
    let name = "settings-tests-reader";
    let policy = "path \"secret/data/*\" { capabilities = [\"read\"] }";
    let (status, answer) = vault(
        "PUT",
        &format!("sys/policies/acl/{name}"),
        Some(json!({ "policy": policy })),
    );
    assert_eq!(status, 204, "{answer}");
    name.to_owned()
}

#[derive(Settings)]
struct Kv {
    api_key: SecretString,
}

fn kv_watch(dir: &TempDir, path: &str, auth: &[(&str, &str)]) -> Watch<Kv> {
    let mut vars = vec![
        ("VAULT_ADDR".to_owned(), format!("http://{VAULT}")),
        ("API_KEY".to_owned(), format!("vault:secret/{path}#K")),
    ];
    vars.extend(auth.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    Loader::new()
        .dir(dir.path())
        .vars(vars)
        .store_options(quick())
        .poll_files_every(Duration::ZERO)
        .refresh_every(Duration::from_millis(500))
        .watch()
        .unwrap()
}

/// Keeps a watch busy for `duration`, refreshing on demand too: every refresh must succeed.
fn keep_refreshing(watch: &Watch<Kv>, duration: Duration) {
    let end = Instant::now() + duration;
    while Instant::now() < end {
        watch.refresh_now().unwrap();
        std::thread::sleep(Duration::from_millis(300));
    }
    assert!(watch.last_error().is_none(), "{:?}", watch.last_error());
}

#[test]
fn a_short_lived_token_stays_valid_for_as_long_as_the_watch() {
    require(VAULT, "OpenBao (bao server -dev)");
    let path = unique("lease-token");
    vault_put(&path, json!({ "K": "kv-value" }));
    let policy = reader_policy();
    let (status, answer) = vault(
        "POST",
        "auth/token/create",
        Some(
            json!({ "policies": [policy], "ttl": "4s", "explicit_max_ttl": "120s", "renewable": true }),
        ),
    );
    assert_eq!(status, 200, "{answer}");
    let token = answer["auth"]["client_token"].as_str().unwrap().to_owned();
    let dir = TempDir::new("lease-token");
    let watch = kv_watch(&dir, &path, &[("VAULT_TOKEN", &token)]);
    // Three times the token's TTL.
    keep_refreshing(&watch, Duration::from_secs(12));
    assert_eq!(watch.get().api_key.expose_secret(), "kv-value");
    drop(watch);
    let (status, answer) = vault("POST", "auth/token/lookup", Some(json!({ "token": token })));
    assert_eq!(
        status, 200,
        "the user's token is renewed, never revoked: {answer}"
    );
}

#[test]
fn a_token_that_cannot_be_renewed_is_reported_without_being_shown() {
    require(VAULT, "OpenBao (bao server -dev)");
    let path = unique("lease-fixed");
    vault_put(&path, json!({ "K": "kv-value" }));
    let policy = reader_policy();
    let (_, answer) = vault(
        "POST",
        "auth/token/create",
        Some(json!({ "policies": [policy], "ttl": "3s", "renewable": false })),
    );
    let token = answer["auth"]["client_token"].as_str().unwrap().to_owned();
    let dir = TempDir::new("lease-fixed");
    let watch = kv_watch(&dir, &path, &[("VAULT_TOKEN", &token)]);
    let end = Instant::now() + Duration::from_secs(10);
    let error = loop {
        if let Some(error) = watch.last_error() {
            break error;
        }
        assert!(Instant::now() < end, "the coming expiry is reported");
        std::thread::sleep(Duration::from_millis(100));
    };
    let text = error.to_string();
    assert!(text.contains("cannot be renewed"), "{text}");
    assert!(text.contains("VAULT_TOKEN"), "{text}");
    assert!(!text.contains(&token), "{text}");
    assert_eq!(
        watch.get().api_key.expose_secret(),
        "kv-value",
        "the last good value stays"
    );
}

#[test]
fn an_approle_token_is_obtained_again_when_it_reaches_its_maximum() {
    require(VAULT, "OpenBao (bao server -dev)");
    let _ = vault(
        "POST",
        "sys/auth/approle",
        Some(json!({ "type": "approle" })),
    );
    let path = unique("lease-approle");
    vault_put(&path, json!({ "K": "via-approle" }));
    let policy = reader_policy();
    let (status, _) = vault(
        "POST",
        &format!("auth/approle/role/{path}"),
        Some(json!({ "token_policies": [policy], "token_ttl": "3s", "token_max_ttl": "5s" })),
    );
    assert_eq!(status, 204);
    let (_, role) = vault("GET", &format!("auth/approle/role/{path}/role-id"), None);
    let (_, secret) = vault("POST", &format!("auth/approle/role/{path}/secret-id"), None);
    let role_id = role["data"]["role_id"].as_str().unwrap().to_owned();
    let secret_id = secret["data"]["secret_id"].as_str().unwrap().to_owned();
    let dir = TempDir::new("lease-approle");
    let watch = kv_watch(
        &dir,
        &path,
        &[("VAULT_ROLE_ID", &role_id), ("VAULT_SECRET_ID", &secret_id)],
    );
    // More than twice the tokens' maximum of 5 s: only a new login keeps the reads working.
    keep_refreshing(&watch, Duration::from_secs(12));
    assert_eq!(watch.get().api_key.expose_secret(), "via-approle");
}
