#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

/// Derives [`Settings`](trait@Settings) and a `Debug` that prints `[REDACTED]` for secret fields.
///
/// See the [crate documentation](crate) for the attribute reference.
pub use settings_derive::Settings;

pub use settings_core::{
    Entry, Environment, Error, Export, Exported, ExposeSecret, Lease, Loader, Origin, Parse,
    Problem, ProblemKind, RawValue, Report, SecretBox, SecretString, Settings, Source,
    SourceProblem, Status, Summary, Vars, meta, secrecy, store, zeroize,
};

#[cfg(feature = "token")]
pub use settings_core::token;

#[cfg(feature = "watch")]
pub use settings_core::{Change, Watch};

#[doc(hidden)]
pub use settings_core::{__cli, __private};
