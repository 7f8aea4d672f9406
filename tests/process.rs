//! `from_env` and `load` against a real process environment and current directory.
//!
//! No test here changes its own process: each parent test runs one `#[ignore]`d child test of this
//! same binary in a new process, with the environment and directory it needs, and checks what the
//! child printed.

mod common;

use std::ffi::OsStr;
use std::path::Path;
use std::process::Command;

use common::TempDir;

use settings::{SecretString, Settings};

#[derive(Settings)]
#[settings(prefix = "PIPE_")]
#[allow(dead_code)] // Read through Debug only.
struct Pipeline {
    api_key: SecretString,
    store_url: String,
    #[settings(default = 100)]
    batch_size: u32,
    webhook: Option<String>,
}

/// Loads `Pipeline` the way the parent asked and prints the outcome on one marked line.
fn child_report(result: Result<(Pipeline, settings::Report), settings::Error>) {
    match result {
        Ok((pipeline, report)) => println!("CHILD-OK {pipeline:?}\n{report}\nCHILD-END"),
        Err(err) => println!("CHILD-ERR {err}\nCHILD-END"),
    }
    let leaked = std::env::var_os("PIPE_STORE_URL").is_some()
        && std::env::var_os("FILE_ONLY_MARKER").is_some();
    println!("CHILD-ENV-MODIFIED {leaked}");
}

#[test]
#[ignore = "run in a child process by the tests below"]
fn child_from_env() {
    let result = Pipeline::from_env().and_then(|p| {
        let (_, report) = Pipeline::from_source_with_report(&settings::Environment)?;
        Ok((p, report))
    });
    child_report(result);
}

#[test]
#[ignore = "run in a child process by the tests below"]
fn child_load() {
    child_report(Pipeline::load_with_report());
}

fn run_child(test: &str, dir: &Path, vars: &[(&str, &OsStr)]) -> String {
    let exe = std::env::current_exe().unwrap();
    let mut command = Command::new(exe);
    command
        .args([
            test,
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .current_dir(dir)
        .env_clear();
    for (name, value) in vars {
        command.env(name, value);
    }
    let output = command.output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "child failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let start = stdout
        .find("CHILD-")
        .unwrap_or_else(|| panic!("child printed nothing:\n{stdout}"));
    stdout[start..].to_owned()
}

fn os(s: &str) -> &OsStr {
    OsStr::new(s)
}

#[test]
fn from_env_reads_the_process_environment() {
    let dir = TempDir::new("process");
    let out = run_child(
        "child_from_env",
        dir.path(),
        &[
            ("PIPE_API_KEY", os("sk-process-secret")),
            ("PIPE_STORE_URL", os("https://shop")),
            ("PIPE_WEBHOOK", os("https://hook")),
        ],
    );
    assert!(
        out.starts_with("CHILD-OK Pipeline { api_key: [REDACTED], store_url: \"https://shop\", batch_size: 100, webhook: Some(\"https://hook\") }"),
        "{out}"
    );
    assert!(
        out.contains("Settings loaded: 2 required, 1 of 2 optional set"),
        "{out}"
    );
    assert!(
        out.contains("  PIPE_API_KEY = [REDACTED] (from environment)"),
        "{out}"
    );
    assert!(!out.contains("sk-process-secret"), "{out}");
}

#[test]
fn from_env_reports_every_missing_variable() {
    let dir = TempDir::new("process");
    let out = run_child("child_from_env", dir.path(), &[]);
    assert!(
        out.starts_with("CHILD-ERR 2 of 4 settings are invalid:"),
        "{out}"
    );
    assert!(out.contains("PIPE_API_KEY: not set"), "{out}");
    assert!(out.contains("PIPE_STORE_URL: not set"), "{out}");
}

#[test]
fn load_reads_dot_env_and_the_process_wins() {
    let dir = TempDir::new("process");
    dir.write(
        ".env",
        "# pipeline\nPIPE_API_KEY='from-file-$ecret'\nPIPE_STORE_URL=https://file\nexport PIPE_BATCH_SIZE=25\nFILE_ONLY_MARKER=1\n",
    );
    let out = run_child(
        "child_load",
        dir.path(),
        &[("PIPE_STORE_URL", os("https://process"))],
    );
    assert!(
        out.starts_with("CHILD-OK Pipeline { api_key: [REDACTED], store_url: \"https://process\", batch_size: 25, webhook: None }"),
        "{out}"
    );
    assert!(
        out.contains("  PIPE_STORE_URL = https://process (from environment)"),
        "{out}"
    );
    assert!(
        out.contains("  PIPE_BATCH_SIZE = 25 (from .env line 4)"),
        "{out}"
    );
    assert!(
        out.contains("  PIPE_API_KEY = [REDACTED] (from .env line 2)"),
        "{out}"
    );
    assert!(!out.contains("from-file"), "{out}");
    // Loading never writes the file's variables into the process environment.
    assert!(out.contains("CHILD-ENV-MODIFIED false"), "{out}");
}

#[test]
fn load_without_a_dot_env_reads_the_environment_only() {
    let dir = TempDir::new("process");
    let out = run_child(
        "child_load",
        dir.path(),
        &[
            ("PIPE_API_KEY", os("k")),
            ("PIPE_STORE_URL", os("https://p")),
        ],
    );
    assert!(out.starts_with("CHILD-OK"), "{out}");
}

#[test]
fn a_malformed_dot_env_is_named_by_line_without_its_content() {
    let dir = TempDir::new("process");
    dir.write(
        ".env",
        "PIPE_STORE_URL=https://file\n\nPIPE_API_KEY='unterminated-s3cret\n",
    );
    let out = run_child("child_load", dir.path(), &[]);
    assert!(out.starts_with("CHILD-ERR"), "{out}");
    assert!(
        out.contains(".env line 3: cannot be parsed: a single-quoted value is never closed"),
        "{out}"
    );
    assert!(!out.contains("s3cret"), "{out}");
}

#[cfg(unix)]
#[test]
fn non_utf8_values_are_errors_for_their_variable_only() {
    use std::os::unix::ffi::OsStrExt;
    let dir = TempDir::new("process");
    let bad = OsStr::from_bytes(b"sk-\xff\xfe-secret");
    let out = run_child(
        "child_from_env",
        dir.path(),
        &[
            ("PIPE_API_KEY", bad),
            ("PIPE_STORE_URL", os("https://shop")),
        ],
    );
    assert!(out.starts_with("CHILD-ERR 1 of 4 settings is invalid:\n  PIPE_API_KEY from environment: not valid UTF-8 (secret); expected a string"), "{out}");
    assert!(!out.contains("secret\"") && !out.contains("sk-"), "{out}");

    // An unrelated variable with a non-UTF-8 value does not affect loading.
    let out = run_child(
        "child_from_env",
        dir.path(),
        &[
            ("PIPE_API_KEY", os("k")),
            ("PIPE_STORE_URL", os("https://shop")),
            ("UNRELATED", bad),
        ],
    );
    assert!(out.starts_with("CHILD-OK"), "{out}");
}

#[test]
fn from_env_refuses_a_reference_and_says_to_load() {
    let dir = TempDir::new("process-reference");
    let out = run_child(
        "child_from_env",
        dir.path(),
        &[
            ("PIPE_API_KEY", os("vault:secret/app#KEY")),
            ("PIPE_STORE_URL", os("ssm:/app/url")),
        ],
    );
    assert!(
        out.contains("PIPE_API_KEY from environment: holds a secret-store reference, which from_env, from_vars and from_source do not resolve: load with T::load() or a settings::Loader"),
        "{out}"
    );
    assert!(
        out.contains("PIPE_STORE_URL from environment: holds a secret-store reference, but field `store_url` is not secret"),
        "{out}"
    );
}
