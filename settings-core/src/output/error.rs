//! The one error a load returns: every missing and invalid variable, together.

use std::borrow::Cow;
use std::fmt;

use crate::source::{Origin, SourceProblem};

/// Loading failed. Lists every problem found, in field order; nothing was half-loaded.
///
/// `Display` and `Debug` print the same report:
///
/// ```text
/// 2 of 6 settings are invalid:
///   SHOPIFY_API_KEY: not set; expected a string (secret)
///       field `shopify_api_key`: Shopify Admin API token
///   BATCH_SIZE from environment: expected u32 (an integer from 0 to 4294967295), got "ten": invalid digit found in string
///       field `batch_size`: Records per batch
/// Set them in .env or as environment variables.
/// ```
///
/// The values of secret fields never appear, neither here nor in [`Problem`].
#[derive(Clone, PartialEq)]
pub struct Error {
    problems: Vec<Problem>,
    sources: Vec<SourceProblem>,
    total: usize,
    hint: Option<&'static str>,
}

/// One variable that could not be loaded.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Problem {
    /// The variable's name, prefix included (the primary name when aliases exist).
    pub var: String,
    /// Accepted older names of the variable.
    pub aliases: &'static [&'static str],
    /// The Rust field, as a dotted path for nested structs (`replica.host`).
    pub field: String,
    /// The field's doc comment.
    pub doc: &'static str,
    /// What a valid value looks like.
    pub expected: Cow<'static, str>,
    /// True when the field is secret: no input is kept for it.
    pub secret: bool,
    /// What is wrong.
    pub kind: ProblemKind,
}

/// What is wrong with one variable.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ProblemKind {
    /// The variable is not set, or set to the empty string, and the field is required.
    Missing {
        /// True when it was set but empty.
        empty: bool,
    },
    /// The value could not be coerced to the field's type.
    Invalid {
        /// Where the value came from, under which name.
        origin: Origin,
        /// The name the value was found under (the primary name or an alias).
        found_as: String,
        /// Why it was rejected. For secret fields, scrubbed of the input.
        reason: String,
        /// The rejected input, truncated; `None` for secret fields.
        input: Option<String>,
    },
    /// The value is not valid UTF-8. It is never shown.
    NotUnicode {
        /// Where the value came from.
        origin: Origin,
        /// The name the value was found under.
        found_as: String,
    },
    /// The source could not produce the value: an unreadable or oversized secret file, both
    /// `NAME` and `NAME_FILE` set.
    Unavailable {
        /// Where the value would have come from.
        origin: Origin,
        /// The name it was looked up under.
        found_as: String,
        /// What went wrong; never contains the value.
        message: String,
    },
}

impl Error {
    pub(crate) fn new(problems: Vec<Problem>, sources: Vec<SourceProblem>, total: usize) -> Self {
        Error {
            problems,
            sources,
            total,
            hint: None,
        }
    }

    /// Replaces the closing hint, for loaders that know better where settings belong.
    pub(crate) fn with_hint(mut self, hint: &'static str) -> Self {
        self.hint = Some(hint);
        self
    }

    /// Every variable that could not be loaded, in field order.
    pub fn problems(&self) -> &[Problem] {
        &self.problems
    }

    /// Problems with sources as a whole, such as a `.env` file that cannot be parsed.
    pub fn source_problems(&self) -> &[SourceProblem] {
        &self.sources
    }

    /// How many settings (variables) the struct reads in all.
    pub fn total(&self) -> usize {
        self.total
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let count = self.problems.len();
        if count > 0 {
            let verb = if count == 1 { "is" } else { "are" };
            writeln!(f, "{count} of {} settings {verb} invalid:", self.total)?;
        }
        for problem in &self.problems {
            writeln!(f, "  {problem}")?;
            let summary = crate::meta::first_paragraph(problem.doc);
            if summary.is_empty() {
                writeln!(f, "      field `{}`", problem.field)?;
            } else {
                writeln!(f, "      field `{}`: {summary}", problem.field)?;
            }
        }
        if !self.sources.is_empty() {
            let n = self.sources.len();
            writeln!(
                f,
                "{n} {} with the sources:",
                if n == 1 { "problem" } else { "problems" }
            )?;
            for source in &self.sources {
                writeln!(f, "  {source}")?;
            }
        }
        if let Some(hint) = self.hint {
            return f.write_str(hint);
        }
        match (count > 0, self.sources.is_empty()) {
            (true, true) => f.write_str("Set them in .env or as environment variables."),
            (true, false) => f.write_str(
                "Fix the sources, and set the settings in .env or as environment variables.",
            ),
            (false, _) => f.write_str("Fix the problems above."),
        }
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl std::error::Error for Error {}

impl fmt::Display for Problem {
    /// One line: the variable, where its value came from, and what is wrong.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secret = if self.secret { " (secret)" } else { "" };
        match &self.kind {
            ProblemKind::Missing { empty } => {
                let state = if *empty { "set but empty" } else { "not set" };
                write!(
                    f,
                    "{}: {state}; expected {}{secret}",
                    self.var, self.expected
                )?;
                if !self.aliases.is_empty() {
                    write!(f, " (also read from {})", self.aliases.join(", "))?;
                }
                Ok(())
            }
            ProblemKind::Invalid {
                origin,
                found_as,
                reason,
                input,
            } => {
                write!(f, "{found_as} from {origin}: expected {}", self.expected)?;
                match input {
                    Some(input) => write!(f, ", got {input}")?,
                    None => write!(f, "{secret}")?,
                }
                if !reason.is_empty() {
                    write!(f, ": {reason}")?;
                }
                Ok(())
            }
            ProblemKind::Unavailable {
                origin,
                found_as,
                message,
            } => write!(f, "{found_as} from {origin}: {message}"),
            ProblemKind::NotUnicode { origin, found_as } => {
                write!(
                    f,
                    "{found_as} from {origin}: not valid UTF-8{secret}; expected {}",
                    self.expected
                )
            }
        }
    }
}
