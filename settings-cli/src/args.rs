//! Command-line parsing: a handful of commands, each with its help text.

/// What to do.
#[derive(Debug, PartialEq)]
pub enum Command {
    Token(Token),
    Check(Cascade),
    List(Cascade),
    Exec(Cascade, Watching, Vec<String>),
}

/// `exec --watch` and its options: what to do when a resolved value changes.
#[derive(Debug, Default, PartialEq)]
pub struct Watching {
    pub watch: bool,
    /// Send this signal instead of restarting (`HUP`, `USR1`, ...).
    pub signal: Option<String>,
    /// How long a stopped command has before it is killed.
    pub grace: Option<std::time::Duration>,
    /// How often store values are asked again.
    pub interval: Option<std::time::Duration>,
    /// How often the files are looked at.
    pub poll: Option<std::time::Duration>,
}

#[derive(Debug, PartialEq)]
pub enum Token {
    ApiKey {
        prefix: String,
    },
    Password {
        length: usize,
        alphabet: Option<String>,
        each_class: bool,
    },
    Hex {
        bytes: usize,
    },
    Urlsafe {
        bytes: usize,
    },
    DatabaseUrl {
        scheme: String,
        user: String,
        host: String,
        port: Option<u16>,
        database: String,
        length: usize,
    },
}

/// Where the cascade is: `--profile`, `--dir`, extra files, a secrets directory.
#[derive(Debug, Default, PartialEq)]
pub struct Cascade {
    pub profile: Option<String>,
    pub dir: Option<String>,
    pub files: Vec<String>,
    pub secrets_dir: Option<String>,
    pub production_files: bool,
    /// `--var NAME`: also resolve these names, from `NAME_FILE` too.
    pub vars: Vec<String>,
}

/// Help asked for, or a usage mistake with the help of the command concerned.
pub enum Usage {
    Help(&'static str),
    Error(String, &'static str),
}

pub const HELP: &str = "\
settings: tokens, and the .env cascade, secret files and secret-store references of the
`settings` crate, for pipelines in any language.

Usage:
  settings token <kind> [options]   generate a secure token (api-key, password, hex, urlsafe, database-url)
  settings check [cascade options]  check the .env files of a profile; non-zero exit on errors
  settings list [cascade options]   every variable the cascade defines, with its source, never its value
  settings exec [cascade options] -- COMMAND [ARGS...]
                                    run COMMAND with the resolved variables in its environment

Run `settings <command> --help` for the options of a command.";

pub const TOKEN_HELP: &str = "\
settings token: print a secure token. Bytes come from the operating system's CSPRNG, and choices
from an alphabet are unbiased.

Usage:
  settings token api-key [--prefix sk]          sk_ + 32 random bytes, URL-safe
  settings token password [--length 24] [--alphabet CHARS] [--each-class]
                                                letters, digits and !@#$%^&* by default;
                                                --each-class: at least one of each class
  settings token hex [BYTES]                    BYTES random bytes (default 32) as hex
  settings token urlsafe [BYTES]                BYTES random bytes (default 32), base64url
  settings token database-url --user U --host H --database D [--scheme postgres] [--port P] [--length 32]
                                                a URL with a generated, percent-encoded password";

/// The options every cascade command takes, shared by their help texts.
macro_rules! cascade_options {
    () => {
        "Cascade options (as the library's Loader):
  --profile P           the profile (default: $ENVIRONMENT, else development)
  --dir D               where the .env files are (default: the current directory)
  --file F              also read this file (repeatable; it must exist)
  --secrets-dir D       read secrets from files named after their variables
  --production-files    let the production profile read .env files too
  --var NAME            also resolve NAME as a load would: from NAME, from the file that
                        NAME_FILE names, the secrets directory or a reference (repeatable;
                        without it a NAME_FILE is handed over as written, never read)"
    };
}

pub const CHECK_HELP: &str = concat!(
    "\
settings check: check the .env cascade of a profile: syntax errors (by file and line), keys
defined twice in a file, NAME and NAME_FILE both set, secret files that cannot be read, and
store references that cannot be resolved. Warns when a .env file that holds values is not
ignored by git. Exits 1 when there are errors.

Usage: settings check [cascade options]

",
    cascade_options!()
);

pub const LIST_HELP: &str = concat!(
    "\
settings list: every variable the cascade defines, with its source and never its value.

Usage: settings list [cascade options]

",
    cascade_options!()
);

pub const EXEC_HELP: &str = concat!(
    "\
settings exec: resolve the cascade, secret files and store references exactly as the library
does, then run COMMAND with them in its environment (the process environment wins, as in a
load). Prints no values. COMMAND replaces this process, so its exit code and signals are its own.

Usage: settings exec [--watch [watch options]] [cascade options] -- COMMAND [ARGS...]

With --watch, COMMAND runs as a child and the values keep being resolved: when one changes
(a rotated secret, an edited .env file, a swapped secret volume), COMMAND is stopped (SIGTERM,
then SIGKILL after the grace period) and started again with the new values, or, with --signal,
sent a signal instead. Signals sent to `settings` (TERM, INT, HUP, QUIT, USR1, USR2) go to
COMMAND; the exit code is COMMAND's. Only the names of the changed variables are printed.

Watch options:
  --watch               keep watching after starting COMMAND
  --signal SIG          send SIG (HUP, USR1, USR2, INT, TERM, QUIT) instead of restarting
  --grace D             how long COMMAND has to stop before it is killed (default 10s)
  --interval D          ask the stores again this often (default 5m)
  --poll D              look at the files this often (default 1s)

",
    cascade_options!()
);

pub fn parse(argv: &[String]) -> Result<Command, Usage> {
    let Some((command, rest)) = argv.split_first() else {
        return Err(Usage::Error("a command is missing".to_owned(), HELP));
    };
    match command.as_str() {
        "-h" | "--help" | "help" => Err(Usage::Help(HELP)),
        "token" => parse_token(rest).map(Command::Token),
        "check" => parse_cascade(rest, CHECK_HELP).map(Command::Check),
        "list" => parse_cascade(rest, LIST_HELP).map(Command::List),
        "exec" => {
            let split = rest.iter().position(|a| a == "--");
            let (options, command) = match split {
                Some(at) => (&rest[..at], &rest[at + 1..]),
                None if rest.iter().any(|a| a == "-h" || a == "--help") => {
                    return Err(Usage::Help(EXEC_HELP));
                }
                None => {
                    return Err(Usage::Error(
                        "exec needs `--` before the command to run".to_owned(),
                        EXEC_HELP,
                    ));
                }
            };
            let (watching, options) = parse_watching(options)?;
            let cascade = parse_cascade(&options, EXEC_HELP)?;
            if command.is_empty() {
                return Err(Usage::Error(
                    "exec needs a command after `--`".to_owned(),
                    EXEC_HELP,
                ));
            }
            Ok(Command::Exec(cascade, watching, command.to_vec()))
        }
        other => Err(Usage::Error(format!("unknown command `{other}`"), HELP)),
    }
}

/// Takes the watch options out of `exec`'s options; the rest are the cascade's.
fn parse_watching(args: &[String]) -> Result<(Watching, Vec<String>), Usage> {
    let mut watching = Watching::default();
    let mut rest = Vec::new();
    let mut seen: Vec<&str> = Vec::new();
    let mut iter = args.iter();
    let duration = |name: &str, value: Option<&String>| {
        let value =
            value.ok_or_else(|| Usage::Error(format!("{name} needs a value"), EXEC_HELP))?;
        <std::time::Duration as settings::Parse>::parse(value)
            .ok()
            .filter(|d| !d.is_zero())
            .ok_or_else(|| {
                Usage::Error(
                    format!("{name} takes a duration such as 500ms, 10s or 5m, not `{value}`"),
                    EXEC_HELP,
                )
            })
    };
    while let Some(arg) = iter.next() {
        let name = arg.as_str();
        if matches!(
            name,
            "--watch" | "--signal" | "--grace" | "--interval" | "--poll"
        ) {
            if seen.contains(&name) {
                return Err(Usage::Error(format!("{name} is given twice"), EXEC_HELP));
            }
            seen.push(name);
        }
        match name {
            "--watch" => watching.watch = true,
            "--signal" => {
                let value = iter
                    .next()
                    .ok_or_else(|| Usage::Error("--signal needs a value".to_owned(), EXEC_HELP))?;
                let upper = value.to_ascii_uppercase();
                let signal = upper.strip_prefix("SIG").unwrap_or(&upper).to_owned();
                if !matches!(
                    signal.as_str(),
                    "HUP" | "USR1" | "USR2" | "INT" | "TERM" | "QUIT"
                ) {
                    return Err(Usage::Error(
                        format!("--signal takes HUP, USR1, USR2, INT, TERM or QUIT, not `{value}`"),
                        EXEC_HELP,
                    ));
                }
                watching.signal = Some(signal);
            }
            "--grace" => watching.grace = Some(duration(name, iter.next())?),
            "--interval" => watching.interval = Some(duration(name, iter.next())?),
            "--poll" => watching.poll = Some(duration(name, iter.next())?),
            _ => rest.push(arg.clone()),
        }
    }
    if !watching.watch && seen.iter().any(|name| *name != "--watch") {
        return Err(Usage::Error(
            format!("{} needs --watch", seen.join(", ")),
            EXEC_HELP,
        ));
    }
    Ok((watching, rest))
}

fn parse_cascade(args: &[String], help: &'static str) -> Result<Cascade, Usage> {
    let mut cascade = Cascade::default();
    let mut iter = args.iter();
    let mut seen: Vec<&str> = Vec::new();
    while let Some(arg) = iter.next() {
        let repeatable = matches!(arg.as_str(), "--file" | "--var");
        if !repeatable && seen.contains(&arg.as_str()) {
            return Err(Usage::Error(format!("{arg} is given twice"), help));
        }
        seen.push(arg);
        let mut value = |name: &str| {
            iter.next()
                .cloned()
                .ok_or_else(|| Usage::Error(format!("{name} needs a value"), help))
        };
        match arg.as_str() {
            "-h" | "--help" => return Err(Usage::Help(help)),
            "--profile" => cascade.profile = Some(value("--profile")?),
            "--dir" => cascade.dir = Some(value("--dir")?),
            "--file" => cascade.files.push(value("--file")?),
            "--var" => cascade.vars.push(value("--var")?),
            "--secrets-dir" => cascade.secrets_dir = Some(value("--secrets-dir")?),
            "--production-files" => cascade.production_files = true,
            other if other.starts_with('-') => {
                return Err(Usage::Error(format!("unknown option `{other}`"), help));
            }
            other => {
                return Err(Usage::Error(format!("unexpected argument `{other}`"), help));
            }
        }
    }
    Ok(cascade)
}

fn parse_token(args: &[String]) -> Result<Token, Usage> {
    let Some((kind, rest)) = args.split_first() else {
        return Err(Usage::Error(
            "which token? api-key, password, hex, urlsafe or database-url".to_owned(),
            TOKEN_HELP,
        ));
    };
    if kind == "-h" || kind == "--help" || rest.iter().any(|a| a == "-h" || a == "--help") {
        return Err(Usage::Help(TOKEN_HELP));
    }
    let mut options: Vec<(&str, Option<&str>)> = Vec::new();
    let mut positional: Vec<&str> = Vec::new();
    let mut iter = rest.iter().peekable();
    while let Some(arg) = iter.next() {
        if let Some(name) = arg.strip_prefix("--") {
            if options.iter().any(|(seen, _)| *seen == name) {
                return Err(Usage::Error(format!("--{name} is given twice"), TOKEN_HELP));
            }
            if name == "each-class" {
                options.push((name, None));
            } else {
                let value = iter
                    .next()
                    .ok_or_else(|| Usage::Error(format!("--{name} needs a value"), TOKEN_HELP))?;
                options.push((name, Some(value.as_str())));
            }
        } else {
            positional.push(arg);
        }
    }
    let allowed: &[&str] = match kind.as_str() {
        "api-key" => &["prefix"],
        "password" => &["length", "alphabet", "each-class"],
        "hex" | "urlsafe" => &[],
        "database-url" => &["scheme", "user", "host", "port", "database", "length"],
        other => {
            return Err(Usage::Error(
                format!("unknown token kind `{other}`"),
                TOKEN_HELP,
            ));
        }
    };
    if let Some((name, _)) = options.iter().find(|(name, _)| !allowed.contains(name)) {
        return Err(Usage::Error(
            format!("`token {kind}` has no option --{name}"),
            TOKEN_HELP,
        ));
    }
    let positional_allowed = if matches!(kind.as_str(), "hex" | "urlsafe") {
        1
    } else {
        0
    };
    if let Some(extra) = positional.get(positional_allowed) {
        return Err(Usage::Error(
            format!("unexpected argument `{extra}`"),
            TOKEN_HELP,
        ));
    }
    let get = |name: &str| {
        options
            .iter()
            .find(|(n, _)| *n == name)
            .and_then(|(_, v)| *v)
    };
    let number = |name: &str, text: Option<&str>, default: usize| -> Result<usize, Usage> {
        match text {
            None => Ok(default),
            Some(text) => text.parse().map_err(|_| {
                Usage::Error(
                    format!("{name} must be a whole number, not `{text}`"),
                    TOKEN_HELP,
                )
            }),
        }
    };
    let required = |name: &str| {
        get(name)
            .map(str::to_owned)
            .ok_or_else(|| Usage::Error(format!("`token database-url` needs --{name}"), TOKEN_HELP))
    };
    Ok(match kind.as_str() {
        "api-key" => Token::ApiKey {
            prefix: get("prefix").unwrap_or("sk").to_owned(),
        },
        "password" => Token::Password {
            length: number("--length", get("length"), 24)?,
            alphabet: get("alphabet").map(str::to_owned),
            each_class: options.iter().any(|(n, _)| *n == "each-class"),
        },
        "hex" => Token::Hex {
            bytes: number("BYTES", positional.first().copied(), 32)?,
        },
        "urlsafe" => Token::Urlsafe {
            bytes: number("BYTES", positional.first().copied(), 32)?,
        },
        _ => Token::DatabaseUrl {
            scheme: get("scheme").unwrap_or("postgres").to_owned(),
            user: required("user")?,
            host: required("host")?,
            port: match get("port") {
                None => None,
                Some(p) => Some(p.parse().map_err(|_| {
                    Usage::Error(
                        format!("--port must be a port number, not `{p}`"),
                        TOKEN_HELP,
                    )
                })?),
            },
            database: required("database")?,
            length: number("--length", get("length"), 32)?,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(line: &str) -> Vec<String> {
        line.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn commands_parse() {
        assert!(
            matches!(parse(&argv("token api-key --prefix pk")), Ok(Command::Token(Token::ApiKey { prefix })) if prefix == "pk")
        );
        assert!(matches!(
            parse(&argv("token hex 16")),
            Ok(Command::Token(Token::Hex { bytes: 16 }))
        ));
        assert!(matches!(
            parse(&argv("token password --length 12 --each-class")),
            Ok(Command::Token(Token::Password {
                length: 12,
                each_class: true,
                ..
            }))
        ));
        let Ok(Command::Exec(cascade, _, command)) =
            parse(&argv("exec --profile staging --dir cfg -- env -0"))
        else {
            panic!("exec did not parse");
        };
        assert_eq!(cascade.profile.as_deref(), Some("staging"));
        assert_eq!(cascade.dir.as_deref(), Some("cfg"));
        assert_eq!(command, ["env", "-0"]);
        let Ok(Command::Exec(cascade, watching, _)) = parse(&argv(
            "exec --watch --signal sighup --grace 3s --profile p --interval 1m --poll 250ms -- x",
        )) else {
            panic!("exec --watch did not parse");
        };
        assert_eq!(cascade.profile.as_deref(), Some("p"));
        assert_eq!(
            watching,
            Watching {
                watch: true,
                signal: Some("HUP".to_owned()),
                grace: Some(std::time::Duration::from_secs(3)),
                interval: Some(std::time::Duration::from_secs(60)),
                poll: Some(std::time::Duration::from_millis(250)),
            }
        );
    }

    #[test]
    fn mistakes_are_usage_errors() {
        for line in [
            "",
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
            "exec --watch --interval -- true",
        ] {
            assert!(
                matches!(parse(&argv(line)), Err(Usage::Error(..))),
                "{line}"
            );
        }
    }
}
