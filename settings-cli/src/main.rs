//! `settings`: secure tokens, and the `.env` cascade, secret files and store references of the
//! `settings` crate, for people and for pipelines written in any language.

mod args;
mod commands;
mod get;
mod inject;
mod scan;
#[cfg(unix)]
mod supervise;

use std::process::ExitCode;

fn main() -> ExitCode {
    use clap::Parser;
    // Usage errors exit with 2 and help or --version with 0, as clap does.
    commands::run(args::Cli::parse())
}
