//! `settings get`: one secret on standard output, for a shell script.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use settings::store::Reference;
use settings::zeroize::Zeroizing;
use settings::{ExposeSecret, Loader};

pub fn get(loader: &Loader, what: &str, reveal: bool) -> ExitCode {
    let mut stdout = std::io::stdout();
    let terminal = stdout.is_terminal();
    if terminal && !reveal {
        eprintln!(
            "settings get: refusing to print a secret to a terminal, where it can be seen; \
             capture it (`VALUE=$(settings get ...)`), pipe it, or pass --reveal"
        );
        return ExitCode::from(2);
    }
    let value = match resolve(loader, what) {
        Ok(value) => value,
        Err(message) => {
            eprintln!("settings get: {message}");
            return ExitCode::from(1);
        }
    };
    // A newline only for a person: `$(...)` would keep none anyway, a pipe gets the value.
    let written = stdout
        .write_all(value.as_bytes())
        .and_then(|()| {
            if terminal {
                stdout.write_all(b"\n")
            } else {
                Ok(())
            }
        })
        .and_then(|()| stdout.flush());
    match written {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("settings get: cannot write the value: {err}");
            ExitCode::from(1)
        }
    }
}

/// The value of a reference, or of a variable of the cascade resolved as a load would.
pub fn resolve(loader: &Loader, what: &str) -> Result<Zeroizing<String>, String> {
    match Reference::parse(what) {
        Some(Ok(_)) => loader
            .store_client()
            .get(what)
            .map(|secret| Zeroizing::new(secret.expose_secret().to_owned()))
            .map_err(|err| err.to_string()),
        Some(Err(message)) => Err(format!("{what}: {message}")),
        None if is_name(what) => {
            let (mut values, mut problems) = variables(loader, &[what]);
            values
                .pop()
                .map(|(_, value)| value)
                .ok_or_else(|| problems.pop().unwrap_or_default())
        }
        // The argument is not echoed: it may be a secret pasted in the wrong place.
        None => Err(
            "the argument is neither a reference (vault:PATH#KEY, ssm:NAME, secretsmanager:ID[#KEY]) nor a variable name"
                .to_owned(),
        ),
    }
}

/// Variables of the cascade, each resolved as a load would (from `NAME`, the file `NAME_FILE`
/// names, the secrets directory or a reference): the values found, and a problem for each name
/// that is not (never a value).
pub fn variables<'n>(
    loader: &Loader,
    names: &[&'n str],
) -> (Vec<(&'n str, Zeroizing<String>)>, Vec<String>) {
    let export = match loader.export_only(names.iter().copied()) {
        Ok(export) => export,
        Err(err) => return (Vec::new(), vec![err.to_string()]),
    };
    let mut values = Vec::new();
    let mut problems = Vec::new();
    for name in names {
        match export.vars().iter().find(|var| var.name() == *name) {
            Some(var) => values.push((*name, Zeroizing::new(var.expose_value().to_owned()))),
            None => problems.push(format!(
                "{name} is set nowhere: not in the environment, the .env cascade, a NAME_FILE or the secrets directory"
            )),
        }
    }
    (values, problems)
}

/// A variable name: letters, digits and `_`, not starting with a digit.
pub fn is_name(text: &str) -> bool {
    let mut chars = text.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}
