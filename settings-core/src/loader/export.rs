//! Every variable of the cascade, resolved, for handing to another program (`settings exec`).

use std::fmt;
use std::path::Path;

use zeroize::Zeroizing;

use super::Loader;
use super::references::resolve_pending;
use crate::output::error::Error;
use crate::source::{Origin, RawValue, Source, SourceProblem};
use crate::store::{Reference, unescape_literal};

impl Loader {
    /// Every variable the sources define, resolved, for handing to another program
    /// (`settings exec`): the names in the files and store imports, the secrets directory's
    /// files, and environment variables that hold a reference. Each value is the one a load
    /// would see; references are resolved. A `NAME_FILE` is handed over as it is written: with
    /// no struct to say which names are settings, a file is read for `NAME` only when asked,
    /// with [`Loader::export_including`].
    pub fn export(&self) -> Result<Export, Error> {
        self.export_including(std::iter::empty::<String>())
    }

    /// Like [`Loader::export`], and also resolves each of `names` as a load would (from `NAME`,
    /// from the file `NAME_FILE` names, from the secrets directory or a reference), whether or
    /// not the cascade defines it.
    pub fn export_including<I, S>(&self, names: I) -> Result<Export, Error>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.export_names(names.into_iter().map(Into::into).collect(), true)
    }

    /// Exactly `names`, each resolved as a load would, and nothing else of the cascade: for
    /// `settings get` and `settings inject`. A name set nowhere is left out. Not public API.
    #[doc(hidden)]
    pub fn export_only<I, S>(&self, names: I) -> Result<Export, Error>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.export_names(names.into_iter().map(Into::into).collect(), false)
    }

    fn export_names(
        &self,
        names: std::collections::BTreeSet<String>,
        whole_cascade: bool,
    ) -> Result<Export, Error> {
        let (sources, mut problems, lazy) = self.prepare();
        let resolve = |refs: &[Reference]| self.resolve(&lazy, &sources, refs);
        let mut wanted = names;
        if whole_cascade {
            wanted.extend(sources.defined_names());
            for name in self.env_names() {
                if let Some(RawValue::Text(value)) = self.env().get(&name)
                    && Reference::parse(&value).is_some()
                {
                    wanted.insert(name);
                }
            }
        }
        let mut vars = Vec::new();
        let mut pending: Vec<(String, Reference)> = Vec::new();
        for name in wanted {
            let origin = sources.origin(&name);
            match sources.get(&name) {
                Some(RawValue::Text(value)) => match Reference::parse(&value) {
                    Some(Ok(reference)) => pending.push((name, reference)),
                    Some(Err(message)) => problems.push(variable_problem(&name, &origin, &message)),
                    None => vars.push(Exported {
                        name,
                        value: match unescape_literal(&value) {
                            Some(literal) => Zeroizing::new(literal.to_owned()),
                            None => value,
                        },
                        origin,
                    }),
                },
                Some(RawValue::NotUnicode) => {
                    problems.push(variable_problem(&name, &origin, "not valid UTF-8"))
                }
                Some(RawValue::Failed(message)) => {
                    problems.push(variable_problem(&name, &origin, &message))
                }
                None => {}
            }
        }
        for (name, answer, origin) in resolve_pending(pending, &resolve) {
            match answer {
                Ok(value) => vars.push(Exported {
                    name,
                    value,
                    origin,
                }),
                Err(message) => problems.push(variable_problem(&name, &origin, &message)),
            }
        }
        if problems.is_empty() {
            vars.sort_by(|a, b| a.name.cmp(&b.name));
            Ok(Export { vars })
        } else {
            Err(Error::new(Vec::new(), problems, 0))
        }
    }

    /// The names in the environment (the process's, or what stands in for it).
    fn env_names(&self) -> Vec<String> {
        self.env().names()
    }
}

/// A problem with one variable outside any struct, placed at its origin.
fn variable_problem(name: &str, origin: &Origin, message: &str) -> SourceProblem {
    let problem = match origin {
        Origin::File { path, line } => {
            SourceProblem::new(path, *line, format!("{name}: {message}"))
        }
        other => SourceProblem::new(
            Path::new(&other.to_string()),
            None,
            format!("{name}: {message}"),
        ),
    };
    problem.with_name(name)
}

/// Every variable of a [`Loader::export`], with its resolved value and origin.
pub struct Export {
    vars: Vec<Exported>,
}

impl Export {
    /// The variables, sorted by name.
    pub fn vars(&self) -> &[Exported] {
        &self.vars
    }
}

/// One exported variable. Its `Debug` never shows the value.
pub struct Exported {
    name: String,
    value: Zeroizing<String>,
    origin: Origin,
}

impl Exported {
    /// The variable's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Where the value came from.
    pub fn origin(&self) -> &Origin {
        &self.origin
    }

    /// The value: for handing to a child process, never for printing.
    pub fn expose_value(&self) -> &str {
        &self.value
    }
}

impl fmt::Debug for Exported {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Exported")
            .field("name", &self.name)
            .field("origin", &self.origin)
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for Export {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(&self.vars).finish()
    }
}
