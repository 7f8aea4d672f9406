//! `settings`: secure tokens, and the `.env` cascade, secret files and store references of the
//! `settings` crate, for people and for pipelines written in any language.

mod args;
mod commands;
#[cfg(unix)]
mod supervise;

use std::process::ExitCode;

fn main() -> ExitCode {
    let argv: Vec<String> = match std::env::args_os()
        .skip(1)
        .map(|a| a.into_string())
        .collect()
    {
        Ok(argv) => argv,
        Err(_) => {
            eprintln!("settings: arguments must be valid UTF-8");
            return ExitCode::from(2);
        }
    };
    match args::parse(&argv) {
        Ok(command) => commands::run(command),
        Err(args::Usage::Help(text)) => {
            println!("{text}");
            ExitCode::SUCCESS
        }
        Err(args::Usage::Error(message, help)) => {
            eprintln!("settings: {message}\n\n{help}");
            ExitCode::from(2)
        }
    }
}
