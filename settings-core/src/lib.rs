//! Runtime of the [`settings`](https://docs.rs/settings-rs) crate. Depend on `settings-rs`
//! (whose library is `settings`), not on this crate: it re-exports everything here together with
//! the derive.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

// The tree follows a value: where it comes from (`source`, `loader`, `store`), how a field
// reads it (`field`), and what comes out (`output`). Only the families a user names are
// public modules (`meta`, `store`, `token`); every other public type is re-exported by name.
mod field;
mod loader;
pub mod meta;
mod output;
#[cfg(any(feature = "token", feature = "vault", feature = "aws"))]
mod percent;
mod settings;
mod source;
pub mod store;
#[cfg(feature = "token")]
pub mod token;
#[cfg(any(feature = "token", feature = "vault", feature = "aws"))]
mod wiped;

pub use field::parse::Parse;
#[cfg(feature = "watch")]
pub use loader::{Change, Watch};
pub use loader::{Export, Exported, Loader};
pub use output::error::{Error, Problem, ProblemKind};
pub use output::report::{Entry, Lease, Report, Status, Summary};
pub use settings::Settings;
pub use source::{Environment, Origin, RawValue, Source, SourceProblem, Vars};

pub use secrecy::{self, ExposeSecret, SecretBox, SecretString};
pub use zeroize;

/// For the `settings` command, which shows the cascade itself (its files, duplicate keys,
/// every name it defines). Not public API: it may change in any release.
#[doc(hidden)]
pub mod __cli {
    pub use crate::loader::Sources;
    pub use crate::source::dotenv::DotEnvFile;
}

/// What the generated code calls. Not public API: it may change in any release.
#[doc(hidden)]
pub mod __private {
    pub use crate::field::coerce::{
        FromStrValue, List, ParseFn, Probe, Secret, SecretText, ViaFromStr, ViaParse, With, with,
    };
    pub use crate::field::context::Context;
    pub use crate::meta::{DefaultValue, FieldKind, FieldMeta, StructMeta};

    /// The pieces the fuzz targets drive directly.
    pub mod testing {
        pub use crate::output::redact::{REDACTED, scrub};
        pub use crate::source::dotenv::{DotEnvFile, quote as quote_env_value};
        pub use crate::source::files::reads as file_reads;
    }

    /// Debug-prints as `[REDACTED]`: stands in for secret fields in generated `Debug` impls.
    pub struct Redacted;

    impl core::fmt::Debug for Redacted {
        fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
            f.write_str(crate::output::redact::REDACTED)
        }
    }
}
