//! Runtime of the [`settings`](https://docs.rs/settings-rs) crate. Depend on `settings-rs`
//! (whose library is `settings`), not on this crate: it re-exports everything here together with
//! the derive.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

// The tree follows a value: where it comes from (`source`, `loader`, `store`), how a field
// reads it (`field`), and what comes out (`output`).
mod field;
pub mod loader;
pub mod meta;
mod output;
mod settings;
pub mod source;
pub mod store;
pub mod token;
mod wiped;

pub use field::{coerce, parse};
pub use output::{docs, error, redact, report};
pub use source::{dotenv, secret_files};

pub use error::{Error, Problem, ProblemKind};
pub use loader::Loader;
pub use parse::Parse;
pub use report::{Report, Summary};
pub use settings::Settings;
pub use source::{Environment, Origin, Source, Vars};

pub use secrecy::{self, ExposeSecret, SecretBox, SecretString};
pub use zeroize;

/// What the generated code calls. Not public API: it may change in any release.
#[doc(hidden)]
pub mod __private {
    pub use crate::field::coerce::{
        List, Probe, Secret, SecretText, ViaFromStr, ViaParse, With, with,
    };
    pub use crate::field::context::Context;
    pub use crate::meta::{DefaultValue, FieldKind, FieldMeta, StructMeta};

    /// Debug-prints as `[REDACTED]`: stands in for secret fields in generated `Debug` impls.
    pub struct Redacted;

    impl core::fmt::Debug for Redacted {
        fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
            f.write_str(crate::output::redact::REDACTED)
        }
    }
}
