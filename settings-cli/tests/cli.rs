//! The real `settings` binary, run as a pipeline would run it.

#[path = "../../tests/common/mod.rs"]
mod common;
#[path = "../../tests/common/seed.rs"]
#[allow(dead_code)]
mod seed;

use std::path::Path;
use std::process::{Command, Output};

use common::TempDir;
use serde_json::json;

/// Runs `settings` in `dir` with only PATH and `vars` in its environment.
fn settings(dir: &Path, args: &[&str], vars: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_settings"));
    command.args(args).current_dir(dir).env_clear();
    if let Some(path) = std::env::var_os("PATH") {
        command.env("PATH", path);
    }
    command.env("NO_PROXY", "127.0.0.1,localhost");
    for (name, value) in vars {
        command.env(name, value);
    }
    command.output().expect("the settings binary runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn tokens() {
    let dir = TempDir::new("cli-token");
    let hex = settings(dir.path(), &["token", "hex", "16"], &[]);
    assert!(hex.status.success());
    let text = stdout(&hex);
    assert_eq!(text.trim().len(), 32);
    assert!(text.trim().bytes().all(|b| b.is_ascii_hexdigit()));

    let key = stdout(&settings(
        dir.path(),
        &["token", "api-key", "--prefix", "sk"],
        &[],
    ));
    assert!(key.starts_with("sk_") && key.trim().len() == 46, "{key}");

    let password = stdout(&settings(
        dir.path(),
        &["token", "password", "--length", "24"],
        &[],
    ));
    assert_eq!(password.trim_end_matches('\n').chars().count(), 24);

    let url = stdout(&settings(dir.path(), &["token", "urlsafe", "24"], &[]));
    assert_eq!(url.trim().len(), 32);

    let db = stdout(&settings(
        dir.path(),
        &[
            "token",
            "database-url",
            "--user",
            "etl",
            "--host",
            "db",
            "--port",
            "5432",
            "--database",
            "orders",
        ],
        &[],
    ));
    assert!(
        db.starts_with("postgres://etl:") && db.trim().ends_with("@db:5432/orders"),
        "{db}"
    );

    // Two runs never print the same token.
    let again = stdout(&settings(dir.path(), &["token", "hex", "16"], &[]));
    assert_ne!(text, again);
}

#[test]
fn usage_mistakes_exit_2_with_help() {
    let dir = TempDir::new("cli-usage");
    for args in [
        &["frobnicate"][..],
        &["token", "sha1"],
        &["token", "hex", "many"],
        &["check", "--nope"],
        &["exec", "true"],
    ] {
        let output = settings(dir.path(), args, &[]);
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert!(
            stderr(&output).starts_with("settings: "),
            "{args:?}: {}",
            stderr(&output)
        );
        assert!(stderr(&output).contains("Usage"), "{args:?}");
    }
    for args in [
        &["--help"][..],
        &["token", "--help"],
        &["check", "--help"],
        &["list", "--help"],
        &["exec", "--help"],
    ] {
        let output = settings(dir.path(), args, &[]);
        assert!(output.status.success(), "{args:?}");
        assert!(stdout(&output).contains("Usage"), "{args:?}");
    }
}

#[test]
fn check_passes_a_good_cascade() {
    let dir = TempDir::new("cli-check-ok");
    dir.write(".env", "NAME=app\n");
    dir.write(".env.staging", "NAME=staging\n");
    let output = settings(dir.path(), &["check", "--profile", "staging"], &[]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(
        stdout(&output).trim(),
        "ok: profile staging, 2 files, 2 definitions"
    );
}

#[test]
fn check_reports_syntax_duplicates_and_unresolvable_references() {
    let dir = TempDir::new("cli-check-bad");
    dir.write(".env", "A=1\nthis is not a definition s3cret\n");
    dir.write(".env.local", "A=1\nB=2\nA=3\n");
    dir.write(
        ".env.development",
        "DB=vault:secret/app#K\nTOKEN_FILE=/nonexistent/token\n",
    );
    let output = settings(dir.path(), &["check"], &[]);
    assert_eq!(output.status.code(), Some(1));
    let err = stderr(&output);
    assert!(
        err.contains("error: .env line 2: cannot be parsed"),
        "{err}"
    );
    assert!(
        err.contains(
            "error: .env.local line 1: `A` is defined 2 times (lines 1, 3); the last one wins"
        ),
        "{err}"
    );
    assert_eq!(err.matches("cannot be parsed").count(), 1, "{err}");
    assert!(
        err.contains("DB: vault: no address; set VAULT_ADDR"),
        "{err}"
    );
    assert!(
        err.contains("secret file /nonexistent/token: TOKEN: does not exist"),
        "{err}"
    );
    assert!(!err.contains("s3cret"), "{err}");
}

#[test]
fn check_warns_about_env_files_git_does_not_ignore() {
    let dir = TempDir::new("cli-check-git");
    dir.write(".env", "TOKEN=t\n");
    let git = |args: &[&str]| {
        Command::new("git")
            .args(args)
            .current_dir(dir.path())
            .output()
    };
    if git(&["init", "-q"]).is_err() {
        panic!("git is needed for this test");
    }
    let output = settings(dir.path(), &["check"], &[]);
    assert!(output.status.success());
    assert!(
        stderr(&output).contains("warning: .env holds values but is not ignored by git"),
        "{}",
        stderr(&output)
    );
    dir.write(".gitignore", ".env\n");
    let output = settings(dir.path(), &["check"], &[]);
    assert!(!stderr(&output).contains("warning"), "{}", stderr(&output));
}

#[test]
fn list_shows_sources_never_values() {
    let dir = TempDir::new("cli-list");
    dir.write(
        ".env",
        "NAME=app\nPASSWORD=hunter2-s3cret\nDB=vault:secret/app#K\n",
    );
    dir.write(".env.development", "NAME=dev\n");
    let output = settings(dir.path(), &["list"], &[("PASSWORD", "from-env-s3cret")]);
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(text.contains("NAME\t.env.development line 1\n"), "{text}");
    assert!(text.contains("PASSWORD\tenvironment\n"), "{text}");
    assert!(
        text.contains("DB\t.env line 3 -> vault secret/app#K\n"),
        "{text}"
    );
    assert!(
        !text.contains("s3cret") && !text.contains("app\n"),
        "{text}"
    );
}

#[test]
fn exec_passes_resolved_values_and_forwards_the_exit_code() {
    let path = seed::unique("cli-exec");
    seed::vault_put(&path, json!({ "K": "from-vault" }));
    let dir = TempDir::new("cli-exec");
    let secret = dir.write("token", "from-secret-file\n");
    dir.write(
        ".env",
        format!(
            "NAME=from-file\nOVERRIDDEN=from-file\nDB=vault:secret/{path}#K\nTOKEN_FILE={}\n",
            secret.display()
        ),
    );
    let vault = format!("http://{}", seed::VAULT);
    let script = "printf '%s|%s|%s|%s' \"$NAME\" \"$OVERRIDDEN\" \"$DB\" \"$TOKEN\"; exit 7";
    let output = settings(
        dir.path(),
        &["exec", "--", "sh", "-c", script],
        &[
            ("OVERRIDDEN", "from-env"),
            ("VAULT_ADDR", &vault),
            ("VAULT_TOKEN", seed::ROOT_TOKEN),
        ],
    );
    assert_eq!(output.status.code(), Some(7), "{}", stderr(&output));
    assert_eq!(
        stdout(&output),
        "from-file|from-env|from-vault|from-secret-file"
    );
    assert!(
        stderr(&output).is_empty(),
        "settings exec prints nothing: {}",
        stderr(&output)
    );
}

#[test]
fn exec_runs_nothing_when_a_value_cannot_be_resolved() {
    let dir = TempDir::new("cli-exec-fail");
    dir.write(".env", "DB=vault:secret/app#K\n");
    let marker = dir.path().join("ran");
    let output = settings(
        dir.path(),
        &["exec", "--", "touch", marker.to_str().unwrap()],
        &[],
    );
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("nothing was run"),
        "{}",
        stderr(&output)
    );
    assert!(!marker.exists());
}

#[cfg(unix)]
#[test]
fn exec_forwards_signals() {
    use std::os::unix::process::ExitStatusExt;
    let dir = TempDir::new("cli-exec-signal");
    let output = settings(
        dir.path(),
        &["exec", "--", "sh", "-c", "kill -TERM $$"],
        &[],
    );
    assert_eq!(
        output.status.signal(),
        Some(15),
        "the command's own death by SIGTERM is seen"
    );
}
