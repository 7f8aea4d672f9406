//! The [`Settings`] trait that `#[derive(Settings)]` implements.

use crate::field::context::{Context, run};
use crate::loader::Loader;
use crate::meta::StructMeta;
use crate::output::error::Error;
use crate::output::report::Report;
use crate::source::{Environment, Source, Vars};

/// A struct whose fields are read from environment variables. Derive it with
/// `#[derive(settings::Settings)]`; every method but the metadata is provided.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a settings struct",
    label = "`{Self}` does not derive `Settings`",
    note = "add #[derive(settings::Settings)] to `{Self}` to use it with #[settings(nested)]"
)]
pub trait Settings: Sized {
    /// The static description of the struct: fields, variable names, docs, defaults.
    const META: &'static StructMeta;

    #[doc(hidden)]
    /// Generated: reads every field through `ctx`; `None` when any of them failed.
    fn __load(ctx: &mut Context<'_>) -> Option<Self>;

    /// Reads the process environment (never modifying it). Every problem is in the error.
    #[inline]
    fn from_env() -> Result<Self, Error> {
        Self::from_source(&Environment)
    }

    /// Reads the given `(name, value)` pairs only; the process environment is not touched.
    fn from_vars<I, K, V>(vars: I) -> Result<Self, Error>
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        Self::from_source(&Vars::new(vars))
    }

    /// Reads the process environment, then the `.env` cascade of the profile named by
    /// `ENVIRONMENT` (default `development`), `NAME_FILE` secret files, then defaults: see
    /// [`Loader`] for the order and the options. The process environment is never modified.
    fn load() -> Result<Self, Error> {
        Loader::new().load()
    }

    /// Like [`Settings::load`], and also returns a [`Report`] of where each value came from,
    /// safe to log.
    fn load_with_report() -> Result<(Self, Report), Error> {
        Loader::new().load_with_report()
    }

    /// Reads any [`Source`]. Like [`Settings::from_env`] and [`Settings::from_vars`], it resolves
    /// no secret-store reference: a field that holds one is an error that says to use
    /// [`Settings::load`] or a [`Loader`].
    #[inline]
    fn from_source(source: &dyn Source) -> Result<Self, Error> {
        run::<Self>(source, Vec::new(), false, false).map(|(value, _)| value)
    }

    /// Reads any [`Source`], and returns the [`Report`] too.
    fn from_source_with_report(source: &dyn Source) -> Result<(Self, Report), Error> {
        run::<Self>(source, Vec::new(), true, false)
    }

    /// A `.env.example` file documenting every variable: each under its doc comment, type and
    /// default; required ones blank (`NAME=`), optional ones commented out with their default,
    /// and no default of a secret.
    fn env_example() -> String {
        crate::output::docs::env_example(Self::META)
    }

    /// A Markdown table of every variable: name, type, whether it is required, its default and
    /// its description.
    fn markdown_table() -> String {
        crate::output::docs::markdown_table(Self::META)
    }
}
