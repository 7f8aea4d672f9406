//! The command line, defined once with clap: parsing, every `--help`, suggestions for misspelt
//! commands and options, `--version`, shell completions and the man page all come from here.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

const EXIT_CODES: &str = "\
Exit codes:
  0  success
  1  problems found (check), a value that cannot be resolved (get, inject, exec), a failed command
  2  usage error: an unknown command or option, a missing or extra argument, an option twice
  exec returns the command's own exit code, or ends by the signal that ended the command.";

/// Tokens, and the .env cascade, secret files and secret-store references of the `settings`
/// crate, for pipelines in any language.
#[derive(Debug, Parser)]
#[command(
    name = "settings",
    version,
    after_help = EXIT_CODES,
    arg_required_else_help = true,
    propagate_version = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// What to do.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print a secure token from the operating system's CSPRNG (unbiased choices).
    #[command(subcommand)]
    Token(Token),
    /// Check the .env cascade of a profile: malformed lines by file and line, expansions of
    /// variables set nowhere, keys defined twice, NAME and NAME_FILE both set, secret files that
    /// cannot be read, references that cannot be resolved. Warns about .env files with values
    /// that git does not ignore. Exits 1 when there are errors.
    Check {
        #[command(flatten)]
        cascade: Cascade,
        /// `json`: one object per problem (kind, name, file, line, message), never a value.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Every variable the cascade defines, with its source, never its value.
    List {
        #[command(flatten)]
        cascade: Cascade,
        /// `json`: one object per variable (name, source, file, line, reference), never a value.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Print one secret for a script: a reference (vault:secret/app#KEY, ssm:/app/key,
    /// secretsmanager:app#key) or a variable of the cascade, resolved as a load would.
    ///
    /// No newline is added unless standard output is a terminal, and printing to a terminal
    /// needs --reveal: `DB_URL=$(settings get vault:secret/app#DATABASE_URL)`.
    Get {
        /// A secret-store reference, or the name of a variable of the cascade.
        what: String,
        /// Print to a terminal too (where someone may be watching the screen).
        #[arg(long)]
        reveal: bool,
        #[command(flatten)]
        cascade: Cascade,
    },
    /// Render a template whose text holds `{{ REFERENCE }}` or `{{ NAME }}` into a file created
    /// with mode 0600, for programs that read secrets only from their own configuration files.
    ///
    /// Every placeholder is resolved before anything is written: if one cannot be, the render
    /// fails whole and no file is written. `\{{` writes a literal `{{`.
    Inject {
        /// The template.
        #[arg(short = 'i', long = "in", value_name = "TEMPLATE")]
        input: PathBuf,
        /// The file to write (replaced whole, never half-written).
        #[arg(short = 'o', long = "out", value_name = "FILE")]
        output: PathBuf,
        #[command(flatten)]
        cascade: Cascade,
    },
    /// Resolve the cascade, secret files and store references exactly as the library does, then
    /// run COMMAND with them in its environment (the process environment wins, as in a load).
    /// Prints no values. COMMAND replaces this process, so its exit code and signals are its own.
    ///
    /// With --watch, COMMAND runs as a child and the values keep being resolved: when one
    /// changes (a rotated secret, an edited .env file, a swapped secret volume), COMMAND is
    /// stopped (SIGTERM, then SIGKILL after the grace period) and started again with the new
    /// values, or, with --signal, sent a signal instead. Signals sent to `settings` (TERM, INT,
    /// HUP, QUIT, USR1, USR2) go to COMMAND; the exit code is COMMAND's. Only the names of the
    /// changed variables are printed.
    Exec {
        #[command(flatten)]
        watching: Watching,
        #[command(flatten)]
        cascade: Cascade,
        /// The command to run, after `--`.
        #[arg(last = true, required = true, num_args = 1.., value_name = "COMMAND")]
        command: Vec<String>,
    },
    /// Find secrets before they leak: in the files (git's, .gitignore respected, or any
    /// directory), in the staged changes, or in every commit reachable from HEAD.
    ///
    /// Findings are printed as `file:line:column rule masked` (a short prefix and the length,
    /// never the value). Exits 1 when there are findings not in the baseline. A line holding
    /// `settings-scan:allow` is accepted as it is.
    Scan(ScanArgs),
    /// Print a completion script for a shell: `settings completions bash > /etc/bash_completion.d/settings`.
    Completions {
        /// The shell.
        shell: Shell,
    },
    /// Print the man page (roff): `settings man > settings.1`.
    Man,
}

/// The shells completions are made for.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
}

/// What `settings scan` looks at and how it reports.
#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Files or directories (default: the current directory).
    pub paths: Vec<PathBuf>,
    /// Only the changes about to be committed.
    #[arg(long, conflicts_with = "history")]
    pub staged: bool,
    /// Every commit reachable from HEAD: a secret deleted later is still leaked.
    #[arg(long)]
    pub history: bool,
    /// `json`, or `sarif` (SARIF 2.1.0, for GitHub code scanning).
    #[arg(long, value_enum, default_value_t = ScanFormat::Text)]
    pub format: ScanFormat,
    /// The baseline of accepted findings (default: .settings-scan-baseline.json at the top).
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// Accept every current finding: write them (fingerprints, never values) to the baseline.
    #[arg(long)]
    pub update_baseline: bool,
    /// Add a git pre-commit hook that runs `settings scan --staged`.
    #[arg(long, conflicts_with_all = ["staged", "history", "update_baseline"])]
    pub install_hook: bool,
}

/// How `scan` prints.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum ScanFormat {
    /// `file:line:column rule masked`.
    #[default]
    Text,
    /// A JSON array of findings.
    Json,
    /// SARIF 2.1.0.
    Sarif,
}

/// How `check` and `list` print.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Lines for a person.
    #[default]
    Text,
    /// A JSON array, for a CI job.
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Token {
    /// PREFIX_ + 32 random bytes, URL-safe.
    ApiKey {
        #[arg(long, default_value = "sk")]
        prefix: String,
    },
    /// Letters, digits and !@#$%^&* by default.
    Password {
        #[arg(long, default_value_t = 24)]
        length: usize,
        /// The characters to choose from.
        #[arg(long)]
        alphabet: Option<String>,
        /// At least one character of each class (lower, upper, digit, symbol) in the alphabet.
        #[arg(long)]
        each_class: bool,
    },
    /// BYTES random bytes as hex.
    Hex {
        #[arg(default_value_t = 32)]
        bytes: usize,
    },
    /// BYTES random bytes, base64url.
    Urlsafe {
        #[arg(default_value_t = 32)]
        bytes: usize,
    },
    /// A database URL with a generated, percent-encoded password.
    DatabaseUrl {
        #[arg(long, default_value = "postgres")]
        scheme: String,
        #[arg(long)]
        user: String,
        #[arg(long)]
        host: String,
        #[arg(long)]
        port: Option<u16>,
        #[arg(long)]
        database: String,
        /// The password's length.
        #[arg(long, default_value_t = 32)]
        length: usize,
    },
}

/// Where the cascade is, as the library's Loader.
#[derive(Debug, Default, Args)]
#[command(next_help_heading = "Cascade options")]
pub struct Cascade {
    /// The profile (default: $ENVIRONMENT, else development).
    #[arg(long, value_name = "P")]
    pub profile: Option<String>,
    /// Where the .env files are (default: the current directory).
    #[arg(long, value_name = "D")]
    pub dir: Option<String>,
    /// Also read this file (repeatable; it must exist).
    #[arg(long = "file", value_name = "F")]
    pub files: Vec<String>,
    /// Read secrets from files named after their variables.
    #[arg(long, value_name = "D")]
    pub secrets_dir: Option<String>,
    /// Let the production profile read .env files too.
    #[arg(long)]
    pub production_files: bool,
    /// Also resolve NAME as a load would: from NAME, from the file NAME_FILE names, the secrets
    /// directory or a reference (repeatable; without it a NAME_FILE is handed over as written).
    #[arg(long = "var", value_name = "NAME")]
    pub vars: Vec<String>,
}

/// `exec --watch` and its options.
#[derive(Debug, Default, Args)]
#[command(next_help_heading = "Watch options")]
pub struct Watching {
    /// Keep watching after starting COMMAND; restart it when a value changes.
    #[arg(long)]
    pub watch: bool,
    /// Send this signal instead of restarting.
    #[arg(
        long,
        value_enum,
        ignore_case = true,
        requires = "watch",
        value_name = "SIG"
    )]
    pub signal: Option<Signal>,
    /// How long COMMAND has to stop before it is killed (default 10s).
    #[arg(long, value_parser = duration, requires = "watch", value_name = "D")]
    pub grace: Option<Duration>,
    /// Ask the stores again this often (default 5m).
    #[arg(long, value_parser = duration, requires = "watch", value_name = "D")]
    pub interval: Option<Duration>,
    /// Look at the files this often (default 1s).
    #[arg(long, value_parser = duration, requires = "watch", value_name = "D")]
    pub poll: Option<Duration>,
}

/// The signals `exec --watch --signal` sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Signal {
    #[value(alias = "sighup")]
    Hup,
    #[value(alias = "sigusr1")]
    Usr1,
    #[value(alias = "sigusr2")]
    Usr2,
    #[value(alias = "sigint")]
    Int,
    #[value(alias = "sigterm")]
    Term,
    #[value(alias = "sigquit")]
    Quit,
}

impl Signal {
    /// `HUP`, as `SIG` + this names the signal.
    pub fn name(self) -> &'static str {
        match self {
            Signal::Hup => "HUP",
            Signal::Usr1 => "USR1",
            Signal::Usr2 => "USR2",
            Signal::Int => "INT",
            Signal::Term => "TERM",
            Signal::Quit => "QUIT",
        }
    }
}

/// A duration such as 500ms, 10s or 5m, as the library reads them; never zero.
fn duration(text: &str) -> Result<Duration, String> {
    <Duration as settings::Parse>::parse(text)
        .ok()
        .filter(|d| !d.is_zero())
        .ok_or_else(|| format!("expected a duration such as 500ms, 10s or 5m, not `{text}`"))
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    fn parse(line: &str) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("settings").chain(line.split_whitespace()))
    }

    #[test]
    fn the_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn commands_parse() {
        let Ok(Cli {
            command:
                Command::Exec {
                    cascade,
                    watching,
                    command,
                },
        }) = parse(
            "exec --watch --signal SIGHUP --grace 3s --profile p --interval 1m --poll 250ms -- env -0",
        )
        else {
            panic!("exec did not parse");
        };
        assert_eq!(cascade.profile.as_deref(), Some("p"));
        assert_eq!(command, ["env", "-0"]);
        assert!(watching.watch);
        assert_eq!(watching.signal, Some(Signal::Hup));
        assert_eq!(watching.grace, Some(Duration::from_secs(3)));
        assert_eq!(watching.interval, Some(Duration::from_secs(60)));
        assert_eq!(watching.poll, Some(Duration::from_millis(250)));
        assert!(matches!(
            parse("token password --length 12 --each-class"),
            Ok(Cli {
                command: Command::Token(Token::Password {
                    length: 12,
                    each_class: true,
                    ..
                })
            })
        ));
        assert!(matches!(
            parse("check --format json --file a --file b"),
            Ok(Cli { command: Command::Check { format: Format::Json, cascade } }) if cascade.files == ["a", "b"]
        ));
    }

    #[test]
    fn mistakes_are_usage_errors() {
        for line in [
            "frobnicate",
            "token",
            "token sha1",
            "token hex x",
            "check --nope",
            "exec env",
            "exec --",
            "token password --prefix x",
            "token database-url --user u",
            "token hex 16 16",
            "token api-key --prefix a --prefix b",
            "check --profile a --profile b",
            "check extra",
            "list --dir a --dir b",
            "exec --signal HUP -- true",
            "exec --watch --watch -- true",
            "exec --watch --signal KILL -- true",
            "exec --watch --grace soon -- true",
            "exec --watch --poll 0s -- true",
            "get",
            "get a b",
            "inject -i t",
            "completions tcsh",
        ] {
            let err = parse(line).expect_err(line);
            assert_eq!(err.exit_code(), 2, "{line}: {err}");
        }
    }
}
