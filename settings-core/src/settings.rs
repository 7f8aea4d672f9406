//! The [`Settings`] trait that `#[derive(Settings)]` implements.

use std::path::Path;

use crate::error::Error;
use crate::load::{Context, run};
use crate::meta::StructMeta;
use crate::report::Report;
use crate::source::{Environment, Layered, Source, Vars, read_dotenv};

/// A struct whose fields are read from environment variables. Derive it with
/// `#[derive(settings::Settings)]`; every method but the metadata is provided.
pub trait Settings: Sized {
    /// The static description of the struct: fields, variable names, docs, defaults.
    const META: &'static StructMeta;

    #[doc(hidden)]
    /// Generated: reads every field through `ctx`; `None` when any of them failed.
    fn __load(ctx: &mut Context<'_>) -> Option<Self>;

    /// Reads the process environment (never modifying it). Every problem is in the error.
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

    /// Reads the process environment, then a `.env` file in the current directory if there is
    /// one; variables of the process win. The process environment is never modified.
    fn load() -> Result<Self, Error> {
        load_default::<Self>(false).map(|(value, _)| value)
    }

    /// Like [`Settings::load`], and also returns a [`Report`] of where each value came from,
    /// safe to log.
    fn load_with_report() -> Result<(Self, Report), Error> {
        load_default::<Self>(true).map(|(value, report)| (value, report.unwrap_or_else(empty)))
    }

    /// Reads any [`Source`].
    fn from_source(source: &dyn Source) -> Result<Self, Error> {
        run::<Self>(source, Vec::new(), false).map(|(value, _)| value)
    }

    /// Reads any [`Source`], and returns the [`Report`] too.
    fn from_source_with_report(source: &dyn Source) -> Result<(Self, Report), Error> {
        run::<Self>(source, Vec::new(), true)
            .map(|(value, report)| (value, report.unwrap_or_else(empty)))
    }

    /// A `.env.example` file documenting every variable (see [`crate::docs::env_example`]).
    fn env_example() -> String {
        crate::docs::env_example(Self::META)
    }

    /// A Markdown table of every variable (see [`crate::docs::markdown_table`]).
    fn markdown_table() -> String {
        crate::docs::markdown_table(Self::META)
    }
}

fn empty() -> Report {
    Report::new(Vec::new())
}

fn load_default<T: Settings>(with_report: bool) -> Result<(T, Option<Report>), Error> {
    let mut layers: Vec<Box<dyn Source>> = vec![Box::new(Environment)];
    let mut problems = Vec::new();
    match read_dotenv(Path::new(".env")) {
        Ok(Some(file)) => layers.push(Box::new(file)),
        Ok(None) => {}
        Err(problem) => problems.push(problem),
    }
    run::<T>(&Layered::new(layers), problems, with_report)
}
