//! What a hostile or unlucky file, value or server can make a load do: the trust boundaries of
//! the README's security model. Files in the working directory, store replies and values are
//! not trusted; code and the process environment (here `Loader::vars`) are.

mod common;

use std::sync::mpsc;
use std::time::Duration;

use common::TempDir;
use settings::{Error, Loader, SecretString, Settings};

#[derive(Settings)]
#[allow(dead_code)]
struct App {
    name: String,
    database_url: SecretString,
}

/// Runs `load` on another thread and fails the test if it has not finished in 30 s: a read
/// that blocks (a FIFO) must fail the load, not hang it.
fn without_hanging<T: Send + 'static>(load: impl FnOnce() -> T + Send + 'static) -> T {
    let (send, receive) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = send.send(load());
    });
    receive
        .recv_timeout(Duration::from_secs(30))
        .expect("the load finished instead of blocking on the file")
}

#[cfg(unix)]
fn fifo(dir: &TempDir, name: &str) -> std::path::PathBuf {
    let path = dir.path().join(name);
    let status = std::process::Command::new("mkfifo")
        .arg(&path)
        .status()
        .expect("mkfifo runs");
    assert!(status.success());
    path
}

#[cfg(unix)]
#[test]
fn fifos_devices_and_directories_named_as_files_are_refused() {
    let dir = TempDir::new("trust-fifo");
    let pipe = fifo(&dir, "pipe");
    let (pipe_text, dir_text) = (pipe.display().to_string(), dir.path().display().to_string());
    let err: Error = without_hanging(move || {
        Loader::new()
            .vars([
                ("NAME_FILE", "/dev/zero".to_owned()),
                ("DATABASE_URL_FILE", pipe_text),
            ])
            .dir(dir_text)
            .load::<App>()
            .unwrap_err()
    });
    let text = err.to_string();
    assert!(
        text.contains("NAME from secret file /dev/zero: is not a regular file; refused"),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "DATABASE_URL from secret file {}: is not a regular file; refused",
            pipe.display()
        )),
        "{text}"
    );
}

#[cfg(unix)]
#[test]
fn a_fifo_in_place_of_a_dot_env_file_is_refused() {
    let dir = TempDir::new("trust-fifo-env");
    fifo(&dir, ".env");
    let path = dir.path().to_owned();
    let err = without_hanging(move || {
        Loader::new()
            .vars([("NAME", "n"), ("DATABASE_URL", "d")])
            .dir(path)
            .load::<App>()
            .unwrap_err()
    });
    let text = err.to_string();
    assert!(
        text.contains(".env: is not a regular file; refused"),
        "{text}"
    );
}

#[test]
fn a_dot_env_file_over_the_limit_is_refused() {
    let dir = TempDir::new("trust-big-env");
    dir.write(".env", format!("NAME={}\n", "x".repeat(1024 * 1024)));
    let err = Loader::new()
        .vars([("DATABASE_URL", "d")])
        .dir(dir.path())
        .load::<App>()
        .unwrap_err();
    assert!(
        err.to_string()
            .contains(".env: is larger than 1 MiB; refused"),
        "{err}"
    );
}

#[derive(Settings)]
#[allow(dead_code)]
struct Pipeline {
    db_password: SecretString,
    batch: u32,
    label: String,
}

#[test]
fn a_value_built_from_a_secret_is_a_secret_wherever_it_lands() {
    let dir = TempDir::new("trust-expand");
    dir.write(
        ".env",
        "DB_PASSWORD=hunter2-s3cret\nBATCH=${DB_PASSWORD}\nVIA=${DB_PASSWORD}\nLABEL=db-${VIA}\n",
    );
    let err = Loader::new()
        .vars(Vec::<(String, String)>::new())
        .dir(dir.path())
        .load::<Pipeline>()
        .unwrap_err();
    let text = format!("{err}\n{:?}", err.problems());
    assert!(text.contains("BATCH from"), "{text}");
    assert!(!text.contains("s3cret"), "{text}");
    assert!(err.problems()[0].secret);

    // Through another variable, and from a store credential: kept out of the report.
    dir.write(
        ".env",
        "DB_PASSWORD=hunter2-s3cret\nBATCH=7\nVAULT_TOKEN=hvs.tok-s3cret\nVIA=${DB_PASSWORD}\nLABEL=db-${VIA}\n",
    );
    let (_, report) = Loader::new()
        .vars(Vec::<(String, String)>::new())
        .dir(dir.path())
        .load_with_report::<Pipeline>()
        .unwrap();
    let text = format!("{report}\n{report:?}");
    assert!(text.contains("LABEL = [REDACTED]"), "{text}");
    assert!(text.contains("BATCH = 7"), "{text}");
    assert!(!text.contains("s3cret"), "{text}");
    dir.write(
        ".env",
        "DB_PASSWORD=p\nBATCH=7\nVAULT_TOKEN=hvs.tok-s3cret\nLABEL=${VAULT_TOKEN}\n",
    );
    let (_, report) = Loader::new()
        .vars(Vec::<(String, String)>::new())
        .dir(dir.path())
        .load_with_report::<Pipeline>()
        .unwrap();
    assert!(
        report.to_string().contains("LABEL = [REDACTED]"),
        "{report}"
    );
}

#[test]
fn a_secret_that_starts_like_a_reference_is_an_error_or_escaped_never_a_location() {
    let dir = TempDir::new("trust-literal");
    let load = |value: &str| {
        Loader::new()
            .vars([("NAME", "n"), ("DATABASE_URL", value)])
            .dir(dir.path())
            .load_with_report::<App>()
    };
    // Not a path: a malformed reference, reported without the value, with the escape to use.
    let err = load("ssm:Pa55-SECRET").unwrap_err().to_string();
    assert!(err.contains("an ssm reference is ssm:/path/NAME"), "{err}");
    assert!(err.contains("written with `literal:` before it"), "{err}");
    assert!(!err.contains("Pa55"), "{err}");
    // Escaped, it is the value itself.
    let (app, report) = load("literal:ssm:Pa55-SECRET").unwrap();
    use settings::ExposeSecret;
    assert_eq!(app.database_url.expose_secret(), "ssm:Pa55-SECRET");
    assert!(!report.to_string().contains("Pa55"), "{report}");
}

#[test]
fn every_way_in_applies_the_reference_rule() {
    use settings::ExposeSecret;
    let refs = [
        ("NAME", "vault:secret/app#NAME"),
        ("DATABASE_URL", "secretsmanager:app#url"),
    ];
    let from_vars = App::from_vars(refs).unwrap_err().to_string();
    let from_source = App::from_source(&settings::Vars::new(refs))
        .unwrap_err()
        .to_string();
    for text in [&from_vars, &from_source] {
        assert!(
            text.contains("DATABASE_URL from given variables: holds a secret-store reference, which from_env, from_vars and from_source do not resolve: load with T::load() or a settings::Loader"),
            "{text}"
        );
        assert!(
            text.contains("NAME from given variables: holds a secret-store reference, but field `name` is not secret"),
            "{text}"
        );
    }
    // A malformed one is refused too, and an escaped literal is the value itself.
    let err = App::from_vars([("NAME", "n"), ("DATABASE_URL", "ssm:Pa55")])
        .unwrap_err()
        .to_string();
    assert!(err.contains("an ssm reference is ssm:/path/NAME"), "{err}");
    let app = App::from_vars([
        ("NAME", "literal:vault:x"),
        ("DATABASE_URL", "literal:ssm:Pa55"),
    ])
    .unwrap();
    assert_eq!(app.name, "vault:x");
    assert_eq!(app.database_url.expose_secret(), "ssm:Pa55");
}
