//! Expansion over the whole cascade of `.env` files.
//!
//! `${NAME}` on a line of a file takes the value a field named `NAME` would take: the process
//! environment (or what stands in for it), then the files from the highest to the lowest, with
//! one rule of Compose kept inside a file: only its earlier lines count. An empty value counts as
//! not set where a non-empty one follows, as it does for a field. So `.env` can write
//! `DATABASE_URL=postgres://${DB_HOST}/app` once and `.env.staging` set only `DB_HOST`, and a
//! higher file can extend a lower one with `PATH_EXTRA=${PATH_EXTRA}:/more`: a definition of a
//! name that expands the same name sees only what is below it. Definitions that expand each
//! other (`A=${B}` in one file, `B=${A}` in another) are an error.
//!
//! Definitions are expanded on demand and once each; a chain of more than `MAX_DEPTH`
//! definitions waiting on each other is refused, so a hostile file cannot exhaust the stack.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use zeroize::Zeroizing;

use super::MAX_ENV_FILE_BYTES;
use super::UnsetReference;
use super::expand::{Failure, expand};
use super::grammar::Definition;
use crate::source::SourceProblem;

/// The longest chain of definitions that wait on each other's expansion.
const MAX_DEPTH: usize = 64;

/// The longest expanded value, as long as the largest file: `A=$A$A`, repeated, doubles at each
/// line and would otherwise exhaust memory with a file of a few hundred bytes.
const MAX_VALUE: usize = MAX_ENV_FILE_BYTES as usize;

/// The most bytes all the expanded values of a cascade may hold together.
const MAX_TOTAL: usize = 16 * MAX_VALUE;

/// The expanded value of one definition, or why it has none.
pub(super) type Outcome = Result<Zeroizing<String>, String>;

enum Slot {
    Todo,
    Busy,
    Done(Outcome),
}

/// What a lookup found in one definition.
enum Found {
    Value(Zeroizing<String>),
    /// A definition that failed: it counts as set but empty, so it is not also reported unset.
    Failed,
    /// A definition whose expansion is under way: skipped.
    Busy,
}

/// The result of expanding every definition of every file.
pub(super) struct Expanded {
    /// Per file, per definition (in file order): the outcome.
    pub(super) outcomes: Vec<Vec<Outcome>>,
    /// Per file: the variables expanded with `$NAME` / `${NAME}` that are set nowhere.
    pub(super) unset: Vec<Vec<UnsetReference>>,
    pub(super) problems: Vec<SourceProblem>,
}

struct Cascade<'a> {
    paths: &'a [Arc<Path>],
    /// Per file, highest precedence first: the definitions in file order.
    definitions: &'a [Vec<Definition>],
    /// Per file: each name's definitions, by index, in file order.
    index: Vec<HashMap<&'a str, Vec<usize>>>,
    slots: Vec<Vec<Slot>>,
    outside: &'a dyn Fn(&str) -> Option<Zeroizing<String>>,
    unset: Vec<Vec<UnsetReference>>,
    problems: Vec<SourceProblem>,
    depth: usize,
    /// Bytes of expanded values so far.
    total: usize,
    /// Names whose lookup found only a definition under way: a cycle.
    cycles: Vec<String>,
}

/// Expands every definition of `definitions` (one list per file, highest precedence first).
pub(super) fn expand_all(
    paths: &[Arc<Path>],
    definitions: &[Vec<Definition>],
    outside: &dyn Fn(&str) -> Option<Zeroizing<String>>,
) -> Expanded {
    let index = definitions
        .iter()
        .map(|file| {
            let mut by_name: HashMap<&str, Vec<usize>> = HashMap::new();
            for (k, definition) in file.iter().enumerate() {
                by_name.entry(definition.name.as_str()).or_default().push(k);
            }
            by_name
        })
        .collect();
    let mut cascade = Cascade {
        paths,
        definitions,
        index,
        slots: definitions
            .iter()
            .map(|file| file.iter().map(|_| Slot::Todo).collect())
            .collect(),
        outside,
        unset: definitions.iter().map(|_| Vec::new()).collect(),
        problems: Vec::new(),
        depth: 0,
        total: 0,
        cycles: Vec::new(),
    };
    // Lowest file first, lines in order: most lookups find a definition already expanded.
    for f in (0..definitions.len()).rev() {
        for k in 0..definitions[f].len() {
            cascade.value_of(f, k);
        }
    }
    let outcomes = cascade
        .slots
        .into_iter()
        .map(|file| {
            file.into_iter()
                .map(|slot| match slot {
                    Slot::Done(outcome) => outcome,
                    Slot::Todo | Slot::Busy => Err("it was not expanded".to_owned()),
                })
                .collect()
        })
        .collect();
    Expanded {
        outcomes,
        unset: cascade.unset,
        problems: cascade.problems,
    }
}

impl Cascade<'_> {
    /// The value of definition `k` of file `f`, expanding it first if need be.
    fn value_of(&mut self, f: usize, k: usize) -> Found {
        match &self.slots[f][k] {
            Slot::Done(Ok(value)) => return Found::Value(value.clone()),
            Slot::Done(Err(_)) => return Found::Failed,
            Slot::Busy => return Found::Busy,
            Slot::Todo => {}
        }
        let (definitions, paths) = (self.definitions, self.paths);
        let definition = &definitions[f][k];
        let path = &paths[f];
        let outcome = match &definition.value {
            Err(()) => Err(format!(
                "the line that defines it ({} line {}) cannot be parsed",
                path.display(),
                definition.line
            )),
            Ok(_) if self.depth >= MAX_DEPTH => {
                self.problems.push(SourceProblem::new(
                    path,
                    Some(definition.line),
                    format!(
                        "the expansion of `{}` waits on more than {MAX_DEPTH} other definitions",
                        definition.name
                    ),
                ));
                Err(format!(
                    "its definition ({} line {}) expands too deeply",
                    path.display(),
                    definition.line
                ))
            }
            Ok(parts) => {
                self.slots[f][k] = Slot::Busy;
                self.depth += 1;
                let mut unset = Vec::new();
                let mark = self.cycles.len();
                let limit = MAX_VALUE.min(MAX_TOTAL.saturating_sub(self.total));
                let result = expand(
                    parts,
                    &mut |name| self.lookup(name, f, k),
                    &mut unset,
                    limit,
                );
                if let Ok(value) = &result {
                    self.total += value.len();
                }
                self.depth -= 1;
                self.unset[f].extend(unset.into_iter().map(|(name, line)| UnsetReference {
                    name,
                    line,
                    definition: definition.name.clone(),
                }));
                let cycle: Vec<String> = self.cycles.drain(mark..).collect();
                if let Some(other) = cycle.first() {
                    self.problems.push(SourceProblem::new(
                        path,
                        Some(definition.line),
                        format!(
                            "`{}` expands `{other}`, whose own expansion comes back to it: \
                             definitions may not expand each other",
                            definition.name
                        ),
                    ));
                }
                result.map_err(|failure| {
                    let (line, message, why) = match failure {
                        Failure::Required { line, message } => {
                            (line, message, "requires a variable that is not set")
                        }
                        Failure::TooLong => (
                            definition.line,
                            format!(
                                "the expansion of `{}` is longer than {} bytes, or the \
                                 expansions of the files together are longer than {} bytes",
                                definition.name, MAX_VALUE, MAX_TOTAL
                            ),
                            "expands to too long a value",
                        ),
                    };
                    self.problems
                        .push(SourceProblem::new(path, Some(line), message));
                    format!(
                        "its definition ({} line {}) {why}",
                        path.display(),
                        definition.line
                    )
                })
            }
        };
        let found = match &outcome {
            Ok(value) => Found::Value(value.clone()),
            Err(_) => Found::Failed,
        };
        self.slots[f][k] = Slot::Done(outcome);
        found
    }

    /// What `name` holds as seen from definition `k` of file `f`: `Some("")` when it is set but
    /// empty everywhere it is set, `None` when it is set nowhere.
    fn lookup(&mut self, name: &str, f: usize, k: usize) -> Option<Zeroizing<String>> {
        let mut empty = false;
        match (self.outside)(name) {
            Some(value) if !value.is_empty() => return Some(value),
            Some(_) => empty = true,
            None => {}
        }
        // A definition of `name` that expands `name` extends what is below it: it does not see
        // the files above its own.
        let extends = self.definitions[f][k].name == name;
        for g in 0..self.definitions.len() {
            if extends && g < f {
                continue;
            }
            let Some(indices) = self.index[g].get(name) else {
                continue;
            };
            let candidate = if g == f {
                indices.iter().rev().find(|&&j| j < k).copied()
            } else {
                indices.last().copied()
            };
            let Some(j) = candidate else {
                continue;
            };
            match self.value_of(g, j) {
                Found::Value(value) if !value.is_empty() => return Some(value),
                Found::Value(_) | Found::Failed => empty = true,
                Found::Busy => self.cycles.push(name.to_owned()),
            }
        }
        empty.then(|| Zeroizing::new(String::new()))
    }
}
