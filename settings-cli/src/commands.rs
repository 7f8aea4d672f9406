//! What each command does, on top of the library's `Loader`.

use std::path::Path;
use std::process::{Command as Process, ExitCode};

use settings::token::{self, DatabaseUrl, Password};
use settings::{ExposeSecret, Loader, Origin, SecretString};

use serde_json::{Value, json};

use crate::args::{Cascade, Cli, Command, Format, Shell, Token, Watching};

pub fn run(cli: Cli) -> ExitCode {
    match cli.command {
        Command::Token(kind) => token(kind),
        Command::Check { cascade, format } => check(&cascade, format),
        Command::List { cascade, format } => list(&cascade, format),
        Command::Get {
            what,
            reveal,
            cascade,
        } => crate::get::get(&loader(&cascade), &what, reveal),
        Command::Inject {
            input,
            output,
            cascade,
        } => crate::inject::inject(&loader(&cascade), &input, &output),
        Command::Exec {
            watching,
            cascade,
            command,
        } if watching.watch => exec_watching(&cascade, &watching, &command),
        Command::Exec {
            cascade, command, ..
        } => exec(&cascade, &command),
        Command::Scan(scan) => crate::scan::run(&scan),
        Command::Completions { shell } => completions(shell),
        Command::Man => man(),
    }
}

fn completions(shell: Shell) -> ExitCode {
    use clap::CommandFactory;
    let shell = match shell {
        Shell::Bash => clap_complete::Shell::Bash,
        Shell::Zsh => clap_complete::Shell::Zsh,
        Shell::Fish => clap_complete::Shell::Fish,
    };
    clap_complete::generate(
        shell,
        &mut Cli::command(),
        "settings",
        &mut std::io::stdout(),
    );
    ExitCode::SUCCESS
}

fn man() -> ExitCode {
    use clap::CommandFactory;
    match clap_mangen::Man::new(Cli::command()).render(&mut std::io::stdout()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("settings man: {err}");
            ExitCode::from(1)
        }
    }
}

/// A problem or warning of `check` as JSON: never a value.
fn problem_json(kind: &str, problem: &settings::SourceProblem) -> Value {
    json!({
        "kind": kind,
        "name": problem.name,
        "file": problem.path.display().to_string(),
        "line": problem.line,
        "message": problem.message,
    })
}

pub(crate) fn loader(cascade: &Cascade) -> Loader {
    let mut loader = Loader::new();
    if let Some(profile) = &cascade.profile {
        loader = loader.profile(profile.clone());
    }
    if let Some(dir) = &cascade.dir {
        loader = loader.dir(dir);
    }
    for file in &cascade.files {
        loader = loader.file(file);
    }
    if let Some(dir) = &cascade.secrets_dir {
        loader = loader.secrets_dir(dir);
    }
    loader.files_in_production(cascade.production_files)
}

fn token(kind: Token) -> ExitCode {
    let made: Result<SecretString, token::TokenError> = match kind {
        Token::ApiKey { prefix } => token::api_key(&prefix),
        Token::Password {
            length,
            alphabet,
            each_class,
        } => {
            let password = Password {
                length,
                alphabet: alphabet.unwrap_or_else(|| token::DEFAULT_ALPHABET.to_owned()),
                each_class,
            };
            let made = password.generate();
            let bits = password.entropy_bits();
            if made.is_ok() && bits < 64.0 {
                eprintln!(
                    "settings token: warning: this password has about {bits:.0} bits of entropy; 64 or more is advised (a longer password or a larger alphabet)"
                );
            }
            made
        }
        Token::Hex { bytes } => token::hex(bytes),
        Token::Urlsafe { bytes } => token::urlsafe(bytes),
        Token::DatabaseUrl {
            scheme,
            user,
            host,
            port,
            database,
            length,
        } => DatabaseUrl {
            scheme,
            user,
            host,
            port,
            database,
            password: Password::of_length(length),
        }
        .generate(),
    };
    match made {
        // Printing the token is the point of the command.
        Ok(secret) => {
            println!("{}", secret.expose_secret());
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("settings token: {err}");
            ExitCode::from(2)
        }
    }
}

fn check(cascade: &Cascade, format: Format) -> ExitCode {
    let loader = loader(cascade);
    // Everything the cascade defines, resolved as a load would: the files' syntax, secret
    // files, references. The export reads the files itself and reports what is wrong with them.
    let mut problems = match loader.export_including(&cascade.vars) {
        Ok(_) => Vec::new(),
        Err(err) => err.source_problems().to_vec(),
    };
    // What only `check` looks at: expansions of variables set nowhere, keys defined twice, and
    // files git would commit.
    let (sources, _reported_above) = loader.sources();
    problems.extend(sources.unset_references());
    let profile = sources.profile().to_owned();
    let mut warnings = Vec::new();
    let mut files = 0;
    let mut variables = 0;
    for file in sources.files() {
        files += 1;
        variables += file.definitions().count();
        for (name, lines) in file.duplicates() {
            let shown: Vec<String> = lines.iter().map(u32::to_string).collect();
            problems.push(
                settings::SourceProblem::new(
                    file.path(),
                    lines.first().copied(),
                    format!(
                        "`{name}` is defined {} times (lines {}); the last one wins",
                        lines.len(),
                        shown.join(", ")
                    ),
                )
                .with_name(name),
            );
        }
        if file.definitions().next().is_some() && !ignored_by_git(file.path()) {
            warnings.push(settings::SourceProblem::new(
                file.path(),
                None,
                "holds values but is not ignored by git: add it to .gitignore so it is never committed",
            ));
        }
    }
    if format == Format::Json {
        let all: Vec<Value> = problems
            .iter()
            .map(|p| problem_json("error", p))
            .chain(warnings.iter().map(|w| problem_json("warning", w)))
            .collect();
        println!("{}", Value::Array(all));
        return if problems.is_empty() {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        };
    }
    for warning in &warnings {
        eprintln!("warning: {warning}");
    }
    if problems.is_empty() {
        println!("ok: profile {profile}, {files} files, {variables} definitions");
        ExitCode::SUCCESS
    } else {
        for problem in &problems {
            eprintln!("error: {problem}");
        }
        eprintln!(
            "{} {} in the cascade of profile {profile}",
            problems.len(),
            if problems.len() == 1 {
                "error"
            } else {
                "errors"
            }
        );
        ExitCode::from(1)
    }
}

/// True when git ignores `path`, or when git cannot tell (no git, not in a repository).
fn ignored_by_git(path: &Path) -> bool {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path.file_name().map(Path::new).unwrap_or(path);
    let status = Process::new("git")
        .arg("-C")
        .arg(dir)
        .args(["check-ignore", "-q"])
        .arg(name)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status();
    match status {
        Ok(status) => status.code() != Some(1),
        Err(_) => true,
    }
}

fn list(cascade: &Cascade, format: Format) -> ExitCode {
    let loader = loader(cascade);
    let (sources, problems) = loader.sources();
    use settings::Source as _;
    let mut variables = Vec::new();
    for name in sources.defined_names() {
        let origin = sources.origin(&name);
        let reference = match sources.get(&name) {
            Some(settings::RawValue::Text(value)) => {
                match settings::store::Reference::parse(&value) {
                    Some(Ok(reference)) => Some(reference.to_string()),
                    _ => None,
                }
            }
            _ => None,
        };
        if format == Format::Json {
            let (file, line) = match &origin {
                Origin::File { path, line } => (Some(path.display().to_string()), *line),
                Origin::SecretFile { path } => (Some(path.display().to_string()), None),
                _ => (None, None),
            };
            variables.push(json!({
                "kind": "variable",
                "name": name,
                "source": describe(&origin),
                "file": file,
                "line": line,
                "reference": reference,
            }));
        } else {
            let reference = reference.map_or(String::new(), |r| format!(" -> {r}"));
            println!("{name}\t{}{reference}", describe(&origin));
        }
    }
    if format == Format::Json {
        variables.extend(problems.iter().map(|p| problem_json("error", p)));
        println!("{}", Value::Array(variables));
    } else {
        for problem in &problems {
            eprintln!("error: {problem}");
        }
    }
    if problems.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

fn describe(origin: &Origin) -> String {
    match origin {
        Origin::Environment => "environment".to_owned(),
        other => other.to_string(),
    }
}

#[cfg(unix)]
fn exec_watching(cascade: &Cascade, watching: &Watching, command: &[String]) -> ExitCode {
    crate::supervise::exec_watching(loader(cascade), cascade.vars.clone(), watching, command)
}

#[cfg(not(unix))]
fn exec_watching(_: &Cascade, _: &Watching, _: &[String]) -> ExitCode {
    eprintln!("settings exec --watch supervises its command with Unix signals: it runs on Unix");
    ExitCode::from(2)
}

fn exec(cascade: &Cascade, command: &[String]) -> ExitCode {
    let export = match loader(cascade).export_including(&cascade.vars) {
        Ok(export) => export,
        Err(err) => {
            eprintln!("settings exec: the settings could not be resolved; nothing was run.\n{err}");
            return ExitCode::from(1);
        }
    };
    let Some(process) = command_with(command, &export, "nothing was run") else {
        return ExitCode::from(1);
    };
    run_replacing(process, &command[0])
}

/// `command` with the export's values in its environment; `None`, with the variables named on
/// standard error, when a value holds a NUL byte, which no environment variable can hold.
/// `refusal` says what then happens (`nothing was run`). Never prints a value.
pub(crate) fn command_with(
    command: &[String],
    export: &settings::Export,
    refusal: &str,
) -> Option<Process> {
    let with_nul: Vec<&str> = export
        .vars()
        .iter()
        .filter(|var| var.expose_value().contains('\0'))
        .map(|var| var.name())
        .collect();
    if !with_nul.is_empty() {
        eprintln!(
            "settings exec: {refusal}: {} {} a NUL byte, which an environment variable cannot hold",
            with_nul.join(", "),
            if with_nul.len() == 1 { "holds" } else { "hold" }
        );
        return None;
    }
    let mut process = Process::new(&command[0]);
    process.args(&command[1..]);
    // Each value is the one a load would see: the process environment's own where it wins,
    // with references resolved and NAME_FILE read.
    for var in export.vars() {
        process.env(var.name(), var.expose_value());
    }
    Some(process)
}

#[cfg(unix)]
fn run_replacing(mut process: Process, program: &str) -> ExitCode {
    use std::os::unix::process::CommandExt;
    // Only returns on failure; on success the command is this process from now on.
    let err = process.exec();
    eprintln!("settings exec: cannot run `{program}`: {err}");
    ExitCode::from(127)
}

#[cfg(not(unix))]
fn run_replacing(mut process: Process, program: &str) -> ExitCode {
    match process.status() {
        Ok(status) => ExitCode::from(status.code().map_or(1, |c| c as u8)),
        Err(err) => {
            eprintln!("settings exec: cannot run `{program}`: {err}");
            ExitCode::from(127)
        }
    }
}
