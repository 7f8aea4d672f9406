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
        &["check", "extra"],
        &["check", "--profile", "a", "--profile", "b"],
        &["exec", "true"],
        &["get"],
        &["inject", "-i", "template"],
        &["completions", "tcsh"],
    ] {
        let output = settings(dir.path(), args, &[]);
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        let err = stderr(&output);
        assert!(err.starts_with("error: "), "{args:?}: {err}");
        assert!(
            err.contains("Usage: settings") || err.contains("try '--help'"),
            "{args:?}: {err}"
        );
    }
    let extra = stderr(&settings(dir.path(), &["check", "extra"], &[]));
    assert!(extra.contains("unexpected argument 'extra'"), "{extra}");
    let twice = stderr(&settings(
        dir.path(),
        &["check", "--profile", "a", "--profile", "b"],
        &[],
    ));
    assert!(twice.contains("cannot be used multiple times"), "{twice}");
}

#[test]
fn misspelt_commands_and_options_get_a_suggestion() {
    let dir = TempDir::new("cli-suggest");
    let command = stderr(&settings(dir.path(), &["chek"], &[]));
    assert!(
        command.contains("similar subcommand exists: 'check'"),
        "{command}"
    );
    let option = stderr(&settings(dir.path(), &["check", "--profil", "x"], &[]));
    assert!(
        option.contains("similar argument exists: '--profile'"),
        "{option}"
    );
}

#[test]
fn every_command_has_help_and_the_tool_a_version() {
    let dir = TempDir::new("cli-help");
    for command in [
        "token",
        "check",
        "list",
        "get",
        "inject",
        "exec",
        "completions",
        "man",
    ] {
        let output = settings(dir.path(), &[command, "--help"], &[]);
        assert!(output.status.success(), "{command}");
        let help = stdout(&output);
        assert!(
            help.contains(&format!("Usage: settings {command}")),
            "{command}: {help}"
        );
    }
    let top = stdout(&settings(dir.path(), &["--help"], &[]));
    assert!(top.contains("Exit codes:"), "{top}");
    let version = settings(dir.path(), &["--version"], &[]);
    assert!(version.status.success());
    assert_eq!(
        stdout(&version).trim(),
        format!("settings {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn completions_for_three_shells_and_a_man_page() {
    let dir = TempDir::new("cli-completions");
    for (shell, marker) in [
        ("bash", "complete -F _settings"),
        ("zsh", "#compdef settings"),
        ("fish", "complete -c settings"),
    ] {
        let output = settings(dir.path(), &["completions", shell], &[]);
        assert!(output.status.success(), "{shell}");
        let script = stdout(&output);
        assert!(script.contains(marker), "{shell}: {script}");
        assert!(
            script.contains("inject"),
            "{shell}: the subcommands are in it"
        );
    }
    let man = stdout(&settings(dir.path(), &["man"], &[]));
    assert!(
        man.starts_with(".ie") || man.contains(".TH settings"),
        "{man}"
    );
    assert!(man.contains("Exit codes"), "{man}");
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
    dir.write(
        ".env",
        "A=1\nthis is not a definition s3cret\nC=${NOWHERE}\nD=\"s3cret\" tail\n",
    );
    dir.write(".env.local", "A=1\nB=2\nA=3\n");
    dir.write(
        ".env.development",
        "DB=vault:secret/app#K\nTOKEN_FILE=/nonexistent/token\n",
    );
    let output = settings(dir.path(), &["check", "--var", "TOKEN"], &[]);
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
    assert!(
        err.contains(
            "error: .env line 4: cannot be parsed: unexpected text after the closing quote"
        ),
        "{err}"
    );
    assert!(
        err.contains("error: .env line 3: `NOWHERE` is expanded here but is set nowhere"),
        "{err}"
    );
    assert_eq!(err.matches(": cannot be parsed").count(), 2, "{err}");
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
        stderr(&output).contains("warning: .env: holds values but is not ignored by git"),
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
        &["exec", "--var", "TOKEN", "--", "sh", "-c", script],
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

#[test]
fn exec_reads_a_name_file_only_when_asked() {
    let dir = TempDir::new("cli-exec-file-vars");
    let token = dir.write("token", "from-secret-file\n");
    let credentials = dir.write("credentials", "[default]\naws_secret_access_key=s3cret\n");
    dir.write(".env", format!("TOKEN_FILE={}\n", token.display()));
    let script = "printf '%s|%s|%s|%s' \"$LOG_FILE\" \"${LOG-unset}\" \"${AWS_SHARED_CREDENTIALS-unset}\" \"${TOKEN-unset}\"";
    // An unrelated LOG_FILE (naming a file that does not exist) and the AWS credentials file
    // are passed through as they are, never read.
    let vars = [
        ("LOG_FILE", "/nonexistent/app.log"),
        ("AWS_SHARED_CREDENTIALS_FILE", credentials.to_str().unwrap()),
    ];
    let output = settings(dir.path(), &["exec", "--", "sh", "-c", script], &vars);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(stdout(&output), "/nonexistent/app.log|unset|unset|unset");
    let output = settings(
        dir.path(),
        &["exec", "--var", "TOKEN", "--", "sh", "-c", script],
        &vars,
    );
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(
        stdout(&output),
        "/nonexistent/app.log|unset|unset|from-secret-file"
    );
}

#[test]
fn exec_names_a_variable_holding_a_nul_byte_and_runs_nothing() {
    let dir = TempDir::new("cli-exec-nul");
    dir.write("value", "before\0after");
    let marker = dir.path().join("ran");
    let output = settings(
        dir.path(),
        &[
            "exec",
            "--var",
            "BINARY",
            "--",
            "touch",
            marker.to_str().unwrap(),
        ],
        &[("BINARY_FILE", dir.path().join("value").to_str().unwrap())],
    );
    assert_eq!(output.status.code(), Some(1));
    let err = stderr(&output);
    assert!(
        err.contains("nothing was run: BINARY holds a NUL byte"),
        "{err}"
    );
    assert!(!err.contains("before") && !err.contains("after"), "{err}");
    assert!(!marker.exists());
}

#[cfg(unix)]
#[test]
fn check_refuses_a_fifo_instead_of_hanging() {
    let dir = TempDir::new("cli-fifo");
    let fifo = dir.path().join("pipe");
    assert!(
        Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    dir.write(".env", format!("X_FILE={}\n", fifo.display()));
    let mut child = Command::new(env!("CARGO_BIN_EXE_settings"))
        .args(["check", "--var", "X"])
        .current_dir(dir.path())
        .env_clear()
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // A guard against a hang, not a speed target: reading a FIFO would block forever.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("settings check hung on a FIFO");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    let output = child.wait_with_output().unwrap();
    assert_eq!(status.code(), Some(1));
    assert!(
        stderr(&output).contains("X: is not a regular file; refused"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn token_mistakes_are_refused_with_a_word() {
    let dir = TempDir::new("cli-token-mistakes");
    let one = settings(dir.path(), &["token", "password", "--alphabet", "a"], &[]);
    assert_eq!(one.status.code(), Some(2));
    assert!(stdout(&one).is_empty());
    assert!(
        stderr(&one).contains("the alphabet needs at least two characters"),
        "{}",
        stderr(&one)
    );
    let weak = settings(
        dir.path(),
        &["token", "password", "--length", "8", "--alphabet", "ab"],
        &[],
    );
    assert!(weak.status.success());
    assert!(
        stderr(&weak).contains("about 8 bits of entropy"),
        "{}",
        stderr(&weak)
    );
    for args in [
        &[
            "token",
            "database-url",
            "--scheme",
            "x y",
            "--user",
            "u",
            "--host",
            "h",
            "--database",
            "d",
        ][..],
        &[
            "token",
            "database-url",
            "--user",
            "u",
            "--host",
            "evil.com/x?y#",
            "--database",
            "d",
        ][..],
        &["token", "hex", "16", "16"][..],
        &["token", "hex", "--length", "1", "--length", "2"][..],
        &["check", "--profile", "a", "--profile", "b"][..],
        &["list", "stray"][..],
    ] {
        let output = settings(dir.path(), args, &[]);
        assert_eq!(
            output.status.code(),
            Some(2),
            "{args:?}: {}",
            stderr(&output)
        );
        assert!(stdout(&output).is_empty(), "{args:?}");
    }
}

/// `settings exec --watch` in `dir`, running `script` under `sh`, with its output piped.
fn watching(dir: &Path, options: &[&str], script: &str) -> std::process::Child {
    let mut command = Command::new(env!("CARGO_BIN_EXE_settings"));
    command
        .arg("exec")
        .arg("--watch")
        .args(["--poll", "50ms", "--grace", "2s"])
        .args(options)
        .args(["--", "sh", "-c", script])
        .current_dir(dir)
        .env_clear()
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    if let Some(path) = std::env::var_os("PATH") {
        command.env("PATH", path);
    }
    command.spawn().expect("the settings binary runs")
}

/// Waits until `file` holds `lines` lines, at most ten seconds; its lines.
fn lines_of(file: &Path, lines: usize) -> Vec<String> {
    let end = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let text = std::fs::read_to_string(file).unwrap_or_default();
        let found: Vec<String> = text.lines().map(str::to_owned).collect();
        if found.len() >= lines || std::time::Instant::now() > end {
            return found;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

fn signal(child: &std::process::Child, name: &str) {
    let status = Command::new("kill")
        .args(["-s", name, &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

/// The child logs what it starts with and how it ends; the log is the test's only view of it.
const CHILD: &str = r#"echo "start $$ $TOKEN" >> log
trap 'echo "term $$" >> log; exit 7' TERM
trap 'echo "hup $$ $TOKEN" >> log' HUP
while :; do sleep 0.05; done"#;

#[test]
fn exec_watch_restarts_the_command_when_a_value_changes() {
    let dir = TempDir::new("cli-exec-watch");
    dir.write(".env", "TOKEN=one\nOTHER=x\n");
    let settings = watching(dir.path(), &[], CHILD);
    let log = dir.path().join("log");
    let first = lines_of(&log, 1);
    assert!(first[0].ends_with(" one"), "{first:?}");

    dir.write(".env", "TOKEN=two\nOTHER=x\n");
    let lines = lines_of(&log, 3);
    let first_pid = first[0].split(' ').nth(1).unwrap().to_owned();
    assert_eq!(lines[1], format!("term {first_pid}"), "{lines:?}");
    assert!(
        lines[2].starts_with("start ") && lines[2].ends_with(" two"),
        "{lines:?}"
    );
    assert_ne!(
        lines[2].split(' ').nth(1).unwrap(),
        first_pid,
        "a new process"
    );

    // A signal to `settings` goes to the command, whose exit code becomes ours.
    signal(&settings, "TERM");
    let output = settings.wait_with_output_or_kill();
    assert_eq!(output.status.code(), Some(7), "{}", stderr(&output));
    let err = stderr(&output);
    assert!(err.contains("TOKEN changed; restarting `sh`"), "{err}");
    assert!(!err.contains("two") && !err.contains("one"), "{err}");
}

#[test]
fn exec_watch_can_signal_instead_of_restarting() {
    let dir = TempDir::new("cli-exec-watch-hup");
    dir.write(".env", "TOKEN=one\n");
    let settings = watching(dir.path(), &["--signal", "HUP"], CHILD);
    let log = dir.path().join("log");
    let first = lines_of(&log, 1);
    let pid = first[0].split(' ').nth(1).unwrap().to_owned();
    dir.write(".env", "TOKEN=two\n");
    let lines = lines_of(&log, 2);
    // The same process, told to reload; its environment is the one it started with.
    assert_eq!(lines[1], format!("hup {pid} one"), "{lines:?}");
    // SIGINT goes to the command, which does not trap it and dies of it: so does `settings`.
    signal(&settings, "INT");
    let output = settings.wait_with_output_or_kill();
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(output.status.signal(), Some(2), "{:?}", output.status);
    assert!(stderr(&output).contains("TOKEN changed; sending SIGHUP to `sh`"));
}

#[test]
fn exec_watch_passes_on_how_the_command_ended() {
    use std::os::unix::process::ExitStatusExt;
    let dir = TempDir::new("cli-exec-watch-exit");
    dir.write(".env", "TOKEN=one\n");
    let done = watching(dir.path(), &[], "exit 3").wait_with_output_or_kill();
    assert_eq!(done.status.code(), Some(3));
    let killed = watching(dir.path(), &[], "kill -KILL $$").wait_with_output_or_kill();
    assert_eq!(killed.status.signal(), Some(9), "{:?}", killed.status);
    let refused = watching(dir.path(), &["--signal", "STOP"], "true").wait_with_output_or_kill();
    assert_eq!(refused.status.code(), Some(2));
    let unresolved = {
        dir.write(".env", "TOKEN=vault:secret/x#K\n");
        watching(dir.path(), &["--var", "TOKEN"], "echo ran > ran").wait_with_output_or_kill()
    };
    assert_eq!(unresolved.status.code(), Some(1));
    assert!(
        !dir.path().join("ran").exists(),
        "nothing runs when a value cannot be resolved"
    );
}

trait WaitOrKill {
    fn wait_with_output_or_kill(self) -> Output;
}

impl WaitOrKill for std::process::Child {
    /// The output, killing the process if it has not ended within twenty seconds.
    fn wait_with_output_or_kill(mut self) -> Output {
        let end = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while std::time::Instant::now() < end {
            if let Ok(Some(_)) = self.try_wait() {
                return self.wait_with_output().unwrap();
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        let _ = self.kill();
        self.wait_with_output().unwrap()
    }
}

// ---------------------------------------------------------------- get, inject, JSON

/// The variables that point the command at the test stores.
fn store_vars() -> Vec<(&'static str, String)> {
    vec![
        ("VAULT_ADDR", format!("http://{}", seed::VAULT)),
        ("VAULT_TOKEN", seed::ROOT_TOKEN.to_owned()),
        ("AWS_ACCESS_KEY_ID", "testing".to_owned()),
        ("AWS_SECRET_ACCESS_KEY", "testing".to_owned()),
        ("AWS_REGION", "us-east-1".to_owned()),
        ("AWS_ENDPOINT_URL", format!("http://{}", seed::MOTO)),
        ("AWS_EC2_METADATA_DISABLED", "true".to_owned()),
    ]
}

fn with_stores(dir: &Path, args: &[&str]) -> Output {
    seed::require(seed::VAULT, "OpenBao (bao server -dev)");
    seed::require(seed::MOTO, "moto_server");
    let vars = store_vars();
    let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
    settings(dir, args, &vars)
}

#[test]
fn get_prints_one_secret_from_a_store_or_the_cascade() {
    let path = seed::unique("cli-get");
    seed::vault_put(&path, json!({ "DB_PASSWORD": "get-vault-value" }));
    let parameter = format!("/{}/token", seed::unique("cli-get"));
    seed::ssm_put(&parameter, "get-ssm-value");
    let dir = TempDir::new("cli-get");
    dir.write(
        ".env",
        format!("PLAIN=from-file\nDB_PASSWORD=vault:secret/{path}#DB_PASSWORD\n"),
    );
    let vault = with_stores(
        dir.path(),
        &["get", &format!("vault:secret/{path}#DB_PASSWORD")],
    );
    assert!(vault.status.success(), "{}", stderr(&vault));
    // Not a terminal: the value alone, no newline, as `$(...)` and pipes want it.
    assert_eq!(stdout(&vault), "get-vault-value");
    let ssm = with_stores(dir.path(), &["get", &format!("ssm:{parameter}")]);
    assert_eq!(stdout(&ssm), "get-ssm-value", "{}", stderr(&ssm));
    let name = with_stores(dir.path(), &["get", "DB_PASSWORD"]);
    assert_eq!(
        stdout(&name),
        "get-vault-value",
        "a variable resolved as a load would"
    );
    assert_eq!(
        stdout(&with_stores(dir.path(), &["get", "PLAIN"])),
        "from-file"
    );

    let missing = with_stores(dir.path(), &["get", "NOWHERE"]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(
        stderr(&missing).contains("NOWHERE is set nowhere"),
        "{}",
        stderr(&missing)
    );
    let absent = with_stores(dir.path(), &["get", &format!("vault:secret/{path}#ABSENT")]);
    assert_eq!(absent.status.code(), Some(1));
    assert!(stdout(&absent).is_empty());
    let pasted = with_stores(dir.path(), &["get", "sk_live pasted-s3cret"]);
    assert_eq!(pasted.status.code(), Some(1));
    assert!(!stderr(&pasted).contains("s3cret"), "{}", stderr(&pasted));
}

/// Runs `settings ARGS` under a pseudo-terminal (`script`), so that its standard output is a
/// terminal; what the terminal showed.
fn in_terminal(dir: &Path, args: &str) -> (Option<i32>, String) {
    let vars = store_vars();
    let mut command = Command::new("script");
    command
        .args(["-q", "-e", "-c"])
        .arg(format!("{} {args}", env!("CARGO_BIN_EXE_settings")))
        .arg("/dev/null")
        .current_dir(dir)
        .env("NO_PROXY", "127.0.0.1,localhost");
    for (name, value) in &vars {
        command.env(name, value);
    }
    let output = command.output().expect("script (util-linux) runs");
    (output.status.code(), stdout(&output))
}

#[test]
fn get_refuses_a_terminal_unless_told_to_reveal() {
    seed::require(seed::VAULT, "OpenBao (bao server -dev)");
    let path = seed::unique("cli-get-tty");
    seed::vault_put(&path, json!({ "K": "tty-s3cret-value" }));
    let dir = TempDir::new("cli-get-tty");
    let reference = format!("vault:secret/{path}#K");
    let (code, shown) = in_terminal(dir.path(), &format!("get {reference}"));
    assert_eq!(code, Some(2), "{shown}");
    assert!(
        shown.contains("refusing to print a secret to a terminal"),
        "{shown}"
    );
    assert!(!shown.contains("tty-s3cret-value"), "{shown}");
    let (code, shown) = in_terminal(dir.path(), &format!("get --reveal {reference}"));
    assert_eq!(code, Some(0), "{shown}");
    // For a person, a newline ends it.
    assert!(shown.contains("tty-s3cret-value\r\n"), "{shown:?}");
}

#[test]
fn inject_renders_references_from_two_stores_into_a_private_file() {
    use std::os::unix::fs::PermissionsExt;
    let path = seed::unique("cli-inject");
    seed::vault_put(
        &path,
        json!({ "USER": "etl", "PASSWORD": "inject-vault-pw" }),
    );
    let parameter = format!("/{}/api", seed::unique("cli-inject"));
    seed::ssm_put(&parameter, "inject-ssm-key");
    let dir = TempDir::new("cli-inject");
    dir.write(".env", "REGION=eu-west-1\n");
    let template = dir.write(
        "app.toml.tmpl",
        format!(
            "# rendered by settings inject\n[db]\nurl = \"postgres://{{{{ vault:secret/{path}#USER }}}}:{{{{vault:secret/{path}#PASSWORD}}}}@db/app\"\n[api]\nkey = \"{{{{ ssm:{parameter} }}}}\"\nregion = \"{{{{ REGION }}}}\"\nliteral = \"\\{{{{ not a placeholder }}}}\"\n"
        ),
    );
    let out = dir.path().join("app.toml");
    let output = with_stores(
        dir.path(),
        &[
            "inject",
            "-i",
            template.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
        ],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stdout(&output).is_empty() && stderr(&output).is_empty(),
        "prints nothing"
    );
    let rendered = std::fs::read_to_string(&out).unwrap();
    assert_eq!(
        rendered,
        "# rendered by settings inject\n[db]\nurl = \"postgres://etl:inject-vault-pw@db/app\"\n[api]\nkey = \"inject-ssm-key\"\nregion = \"eu-west-1\"\nliteral = \"{{ not a placeholder }}\"\n"
    );
    let mode = std::fs::metadata(&out).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "{mode:o}");

    // One placeholder that cannot be resolved: the render fails whole; the old file stays as
    // it was, and nothing else is left behind.
    let broken = dir.write(
        "broken.tmpl",
        format!("a = \"{{{{ vault:secret/{path}#PASSWORD }}}}\"\nb = \"{{{{ ssm:{parameter}-absent }}}}\"\n"),
    );
    let output = with_stores(
        dir.path(),
        &[
            "inject",
            "-i",
            broken.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
        ],
    );
    assert_eq!(output.status.code(), Some(1));
    let err = stderr(&output);
    assert!(
        err.contains("ParameterNotFound") && err.contains("nothing was written"),
        "{err}"
    );
    assert!(!err.contains("inject-vault-pw"), "{err}");
    assert_eq!(std::fs::read_to_string(&out).unwrap(), rendered);
    let fresh = dir.path().join("fresh.toml");
    let output = with_stores(
        dir.path(),
        &[
            "inject",
            "-i",
            broken.to_str().unwrap(),
            "-o",
            fresh.to_str().unwrap(),
        ],
    );
    assert_eq!(output.status.code(), Some(1));
    assert!(!fresh.exists(), "no file is made by a failed render");
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn check_and_list_speak_json_for_ci() {
    let dir = TempDir::new("cli-json");
    dir.write(
        ".env",
        "A=1\nthis is not a definition s3cret\nC=${NOWHERE}\nA=2\nKEY=vault:secret/app#K\n",
    );
    let output = settings(dir.path(), &["check", "--format", "json"], &[]);
    assert_eq!(output.status.code(), Some(1));
    let problems: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    let problems = problems.as_array().unwrap();
    let find = |line: u64| {
        problems
            .iter()
            .find(|p| p["line"] == line && p["file"] == ".env")
            .unwrap_or_else(|| panic!("line {line}: {problems:?}"))
    };
    assert_eq!(find(2)["kind"], "error");
    assert!(
        find(2)["message"]
            .as_str()
            .unwrap()
            .starts_with("cannot be parsed")
    );
    assert_eq!(find(3)["name"], "NOWHERE");
    assert_eq!(find(1)["name"], "A");
    assert!(!stdout(&output).contains("s3cret"));

    let output = settings(dir.path(), &["list", "--format", "json"], &[]);
    let listed: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    let key = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == "KEY")
        .unwrap();
    assert_eq!(key["kind"], "variable");
    assert_eq!(key["file"], ".env");
    assert_eq!(key["line"], 5);
    assert_eq!(key["reference"], "vault secret/app#K");
    assert!(!stdout(&output).contains("\"2\""), "never a value");
}
