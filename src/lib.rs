#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

/// Derives [`Settings`](trait@Settings) and a `Debug` that prints `[REDACTED]` for secret fields.
///
/// See the [crate documentation](crate) for the attribute reference.
pub use settings_derive::Settings;

pub use settings_core::{
    Environment, Error, ExposeSecret, Loader, Origin, Parse, Problem, ProblemKind, Report,
    SecretBox, SecretString, Settings, Source, Summary, Vars, coerce, docs, dotenv, error, loader,
    meta, parse, redact, report, secrecy, secret_files, source, store, token, zeroize,
};

#[doc(hidden)]
pub use settings_core::__private;
