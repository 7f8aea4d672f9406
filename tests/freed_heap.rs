//! Secrets left in freed memory. A recording global allocator copies every block this process
//! frees while it is armed into an arena; after each scenario the arena is searched for the
//! plaintext of the secrets it handled. A copy found there is one that was dropped without being
//! wiped: readable in a core dump, a swap file, or by the next allocation that reuses the block.
//!
//! Every source is covered: given variables, a `.env` file, `NAME_FILE`, a secrets directory,
//! tokens, and (with the store features, against the real servers) Vault and AWS. The copies
//! that cannot be wiped are listed in the README ("Secrets in memory"), with the number allowed
//! here for each; any other copy fails the test.

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::UnsafeCell;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use common::TempDir;
use settings::{ExposeSecret, Loader, SecretString, Settings};

const ARENA_BYTES: usize = 64 << 20;

struct Arena(UnsafeCell<[u8; ARENA_BYTES]>);

// SAFETY: written only through `USED`'s disjoint reservations, read only while disarmed.
unsafe impl Sync for Arena {}

static FREED: Arena = Arena(UnsafeCell::new([0; ARENA_BYTES]));
static USED: AtomicUsize = AtomicUsize::new(0);
static SKIPPED: AtomicUsize = AtomicUsize::new(0);
static ARMED: AtomicBool = AtomicBool::new(false);

struct Recording;

// SAFETY: every call is forwarded to the system allocator; dealloc copies the block first,
// which it may read since it is still allocated.
unsafe impl GlobalAlloc for Recording {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        unsafe { System.alloc_zeroed(layout) }
    }

    // `realloc` is not overridden: the default moves the block through `alloc` and `dealloc`,
    // so the old block is recorded too.
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if ARMED.load(Ordering::SeqCst) {
            let size = layout.size();
            let start = USED.fetch_add(size, Ordering::SeqCst);
            if start + size <= ARENA_BYTES {
                unsafe {
                    let arena = FREED.0.get().cast::<u8>();
                    std::ptr::copy_nonoverlapping(ptr, arena.add(start), size);
                }
            } else {
                SKIPPED.fetch_add(size, Ordering::SeqCst);
            }
        }
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Recording = Recording;

/// The tests of this binary share the arena: one at a time.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Runs `scenario` armed, and returns how many times each needle it names appears in the
/// memory freed meanwhile (everything it made dropped before it returns).
fn freed_copies(scenario: impl FnOnce() -> Vec<String>) -> Vec<(String, usize)> {
    let (needles, freed) = armed(scenario);
    needles
        .into_iter()
        .map(|needle| {
            let count = count(freed, needle.as_bytes());
            (needle, count)
        })
        .collect()
}

/// Runs `scenario` with the allocator armed: its result, and what was freed meanwhile (valid
/// until the next scenario).
fn armed<T>(scenario: impl FnOnce() -> T) -> (T, &'static [u8]) {
    USED.store(0, Ordering::SeqCst);
    SKIPPED.store(0, Ordering::SeqCst);
    ARMED.store(true, Ordering::SeqCst);
    let result = scenario();
    ARMED.store(false, Ordering::SeqCst);
    assert_eq!(SKIPPED.load(Ordering::SeqCst), 0, "the arena was too small");
    let used = USED.load(Ordering::SeqCst).min(ARENA_BYTES);
    // SAFETY: disarmed, so nothing writes to the arena any more; the tests that arm it are
    // serialised by SERIAL.
    let freed = unsafe { std::slice::from_raw_parts(FREED.0.get().cast::<u8>(), used) };
    (result, freed)
}

fn count(haystack: &[u8], needle: &[u8]) -> usize {
    haystack
        .windows(needle.len())
        .filter(|w| *w == needle)
        .count()
}

#[derive(Settings)]
#[allow(dead_code)]
struct App {
    api_token: SecretString,
    db_password: SecretString,
    #[settings(secret)]
    pin: u32,
    name: String,
}

fn assert_none(scenario: &str, found: &[(String, usize)]) {
    for (needle, count) in found {
        assert_eq!(*count, 0, "{scenario}: {count} freed copies of {needle}");
    }
}

#[test]
fn no_secret_is_left_in_freed_memory() {
    let _serial = SERIAL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    // Given variables (the environment's stand-in), coerced into secret fields.
    let found = freed_copies(|| {
        let app = App::from_vars([
            ("API_TOKEN", "FreedHeapVars0001"),
            ("DB_PASSWORD", "FreedHeapVars0002"),
            ("PIN", "97531"),
            ("NAME", "n"),
        ])
        .unwrap();
        assert_eq!(app.api_token.expose_secret(), "FreedHeapVars0001");
        drop(app);
        vec!["FreedHeapVars0001".into(), "FreedHeapVars0002".into()]
    });
    assert_none("given variables", &found);

    // NAME_FILE and a secrets directory.
    let dir = TempDir::new("freed-files");
    let token_file = dir.write("token", "FreedHeapFile0001\n");
    dir.write("secrets/db_password", "FreedHeapFile0002");
    let found = freed_copies(|| {
        let app: App = Loader::new()
            .dir(dir.path())
            .secrets_dir(dir.path().join("secrets"))
            .vars([
                ("API_TOKEN_FILE", token_file.to_str().unwrap()),
                ("PIN", "1"),
                ("NAME", "n"),
            ])
            .load()
            .unwrap();
        drop(app);
        vec!["FreedHeapFile0001".into(), "FreedHeapFile0002".into()]
    });
    assert_none("secret files", &found);

    // A .env file.
    let env_dir = TempDir::new("freed-dotenv");
    env_dir.write(
        ".env",
        "API_TOKEN=FreedHeapDotenv01\nDB_PASSWORD=\"FreedHeapDotenv02\"\nPIN=1\nNAME=n\n\
         EXTRA=\"FreedHeapDotenv03\\tb ${API_TOKEN} ${UNSET:-FreedHeapDotenv05}\"\n\
         QUOTED='FreedHeapDotenv04\nsecond line'\n",
    );
    let found = freed_copies(|| {
        let (app, report) = Loader::new()
            .dir(env_dir.path())
            .vars(Vec::<(String, String)>::new())
            .load_with_report::<App>()
            .unwrap();
        drop((app, report));
        (1..=5).map(|i| format!("FreedHeapDotenv0{i}")).collect()
    });
    // Our parser builds every value, escaped and expanded, at its final size.
    assert_none(".env files", &found);

    // Tokens: made, exposed once, dropped.
    #[cfg(feature = "token")]
    let found = freed_copies(|| {
        let mut made = Vec::new();
        for token in [
            settings::token::api_key("sk").unwrap(),
            settings::token::hex(32).unwrap(),
            settings::token::urlsafe(32).unwrap(),
            settings::token::Password::of_length(32).generate().unwrap(),
            settings::token::DatabaseUrl {
                scheme: "postgres".into(),
                user: "app".into(),
                host: "db".into(),
                port: Some(5432),
                database: "orders".into(),
                password: settings::token::Password::of_length(32),
            }
            .generate()
            .unwrap(),
        ] {
            // The needle is the random part: long enough to be found only where it was copied.
            let text = token.expose_secret();
            let random = match text.split_once("//app:") {
                Some((_, rest)) => rest.split('@').next().unwrap_or(rest),
                None => text.strip_prefix("sk_").unwrap_or(text),
            };
            made.push(random.chars().take(16).collect());
        }
        made
    });
    #[cfg(feature = "token")]
    assert_none("tokens", &found);
}

#[cfg(all(feature = "vault", feature = "aws"))]
#[path = "common/seed.rs"]
#[allow(dead_code)]
mod seed;

/// Store answers, against the real servers. What the HTTP client keeps of a request or an
/// answer in its own buffers cannot be wiped from here: the README lists those copies, and the
/// bounds below are theirs.
#[cfg(all(feature = "vault", feature = "aws"))]
#[test]
fn store_secrets_left_in_freed_memory_are_only_the_listed_ones() {
    use seed::*;
    use serde_json::json;
    let _serial = SERIAL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let path = unique("freed");
    vault_put(
        &path,
        json!({ "API_TOKEN": "FreedHeapVault0001", "DB_PASSWORD": "FreedHeapVault0002" }),
    );
    let (status, _) = vault(
        "POST",
        "auth/token/create",
        Some(
            json!({ "id": format!("FreedHeapVaultTok{}", std::process::id()), "policies": ["root"] }),
        ),
    );
    assert_eq!(status, 200);
    let token = format!("FreedHeapVaultTok{}", std::process::id());
    let dir = TempDir::new("freed-vault");
    let found = freed_copies(|| {
        let app: App = Loader::new()
            .dir(dir.path())
            .vars([
                ("VAULT_ADDR", format!("http://{VAULT}")),
                ("VAULT_TOKEN", token.clone()),
                ("API_TOKEN", format!("vault:secret/{path}#API_TOKEN")),
                ("DB_PASSWORD", format!("vault:secret/{path}#DB_PASSWORD")),
                ("PIN", "1".into()),
                ("NAME", "n".into()),
            ])
            .load()
            .unwrap();
        assert_eq!(app.db_password.expose_secret(), "FreedHeapVault0002");
        drop(app);
        vec!["FreedHeapVault0001".into(), token.clone()]
    });
    eprintln!("vault: {found:?}");
    let [(_, value), (_, token_copies)] = &found[..] else {
        unreachable!()
    };
    assert!(*value <= HTTP_BUFFER_COPIES, "vault value: {found:?}");
    // Two requests: the mount lookup and the read.
    assert!(
        *token_copies <= 2 * TOKEN_HEADER_COPIES,
        "vault token: {found:?}"
    );

    let name = format!("/{}", unique("freed"));
    ssm_put(&format!("{name}/api"), "FreedHeapSsm000001");
    secret_put(
        &format!("{}-sm", &name[1..]),
        "{\"pw\":\"FreedHeapSm0000001\"}",
    );
    let found = freed_copies(|| {
        let app: App = Loader::new()
            .dir(dir.path())
            .vars([
                ("AWS_ACCESS_KEY_ID", "testing".to_owned()),
                ("AWS_SECRET_ACCESS_KEY", "FreedHeapAwsKey001".to_owned()),
                ("AWS_REGION", "us-east-1".to_owned()),
                ("AWS_ENDPOINT_URL", format!("http://{MOTO}")),
                ("API_TOKEN", format!("ssm:{name}/api")),
                (
                    "DB_PASSWORD",
                    format!("secretsmanager:{}-sm#pw", &name[1..]),
                ),
                ("PIN", "1".into()),
                ("NAME", "n".into()),
            ])
            .load()
            .unwrap();
        assert_eq!(app.db_password.expose_secret(), "FreedHeapSm0000001");
        drop(app);
        vec![
            "FreedHeapSsm000001".into(),
            "FreedHeapSm0000001".into(),
            "FreedHeapAwsKey001".into(),
        ]
    });
    eprintln!("aws: {found:?}");
    assert!(found[0].1 <= HTTP_BUFFER_COPIES, "ssm: {found:?}");
    // The secret string is a JSON object, so it arrives with escaped quotes.
    assert!(
        found[1].1 <= HTTP_BUFFER_COPIES + ESCAPED_JSON_COPIES,
        "secrets manager: {found:?}"
    );
    assert_eq!(
        found[2].1, 0,
        "the AWS secret key is only ever used to sign"
    );
    // An AppRole login: the secret id we send, and the token Vault sends back (random, so found
    // by its form: `s.` and 24 letters and digits).
    let _ = vault(
        "POST",
        "sys/auth/approle",
        Some(json!({ "type": "approle" })),
    );
    let role = unique("freed-role");
    let policy = format!("path \"secret/data/{path}\" {{ capabilities = [\"read\"] }}");
    let (status, _) = vault(
        "PUT",
        &format!("sys/policies/acl/{role}"),
        Some(json!({ "policy": policy })),
    );
    assert_eq!(status, 204);
    let (status, _) = vault(
        "POST",
        &format!("auth/approle/role/{role}"),
        Some(json!({ "token_policies": [role] })),
    );
    assert_eq!(status, 204);
    let (_, role_id) = vault("GET", &format!("auth/approle/role/{role}/role-id"), None);
    let role_id = role_id["data"]["role_id"].as_str().unwrap().to_owned();
    let secret_id = format!("FreedHeapSecretId{}", std::process::id());
    let (status, _) = vault(
        "POST",
        &format!("auth/approle/role/{role}/custom-secret-id"),
        Some(json!({ "secret_id": secret_id })),
    );
    assert_eq!(status, 200);
    let ((), freed) = armed(|| {
        let app: App = Loader::new()
            .dir(dir.path())
            .vars([
                ("VAULT_ADDR", format!("http://{VAULT}")),
                ("VAULT_ROLE_ID", role_id.clone()),
                ("VAULT_SECRET_ID", secret_id.clone()),
                ("API_TOKEN", format!("vault:secret/{path}#API_TOKEN")),
                ("DB_PASSWORD", format!("vault:secret/{path}#DB_PASSWORD")),
                ("PIN", "1".into()),
                ("NAME", "n".into()),
            ])
            .load()
            .unwrap();
        drop(app);
    });
    let secret_copies = count(freed, secret_id.as_bytes());
    let tokens = vault_tokens(freed);
    eprintln!("approle: secret id {secret_copies}, tokens {tokens:?}");
    // The login request.
    assert!(
        secret_copies <= REQUEST_BUFFER_COPIES,
        "secret id: {secret_copies}"
    );
    // The login's answer, then the mount lookup, the read and the revocation with it.
    assert_eq!(tokens.len(), 1, "one token made by the login: {tokens:?}");
    assert!(
        tokens[0] <= HTTP_BUFFER_COPIES + 3 * TOKEN_HEADER_COPIES,
        "approle token: {tokens:?}"
    );
}

/// How many times each distinct Vault service token (`s.` and 24 letters and digits) appears.
#[cfg(all(feature = "vault", feature = "aws"))]
fn vault_tokens(freed: &[u8]) -> Vec<usize> {
    let mut found: std::collections::BTreeMap<&[u8], usize> = std::collections::BTreeMap::new();
    for (i, w) in freed.windows(26).enumerate() {
        let before = i.checked_sub(1).map(|j| freed[j]);
        if w.starts_with(b"s.")
            && w[2..].iter().all(u8::is_ascii_alphanumeric)
            && !before.is_some_and(|b| b.is_ascii_alphanumeric())
            && freed.get(i + 26).is_none_or(|b| !b.is_ascii_alphanumeric())
        {
            *found.entry(w).or_default() += 1;
        }
    }
    found.into_values().collect()
}

/// Copies of an answer in the HTTP client's read buffer, one per connection (README: "Secrets
/// in memory").
#[cfg(all(feature = "vault", feature = "aws"))]
const HTTP_BUFFER_COPIES: usize = 1;
/// Copies of a string that arrives with JSON escapes (a quote, a backslash): serde_json decodes
/// it in a scratch buffer of its own (README: "Secrets in memory").
#[cfg(all(feature = "vault", feature = "aws"))]
const ESCAPED_JSON_COPIES: usize = 2;
/// Copies of a request body in the HTTP client's write buffer (README: "Secrets in memory").
#[cfg(all(feature = "vault", feature = "aws"))]
const REQUEST_BUFFER_COPIES: usize = 1;
/// Copies of the Vault token per request: the `http` crate's header value that ureq makes of
/// ours, and ureq's buffer of the request as written (README: "Secrets in memory").
#[cfg(all(feature = "vault", feature = "aws"))]
const TOKEN_HEADER_COPIES: usize = 2;
