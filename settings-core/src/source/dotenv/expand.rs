//! Expansion of parsed values: `$NAME`, `${NAME}` and the `-`, `?`, `+` forms, over whatever
//! the caller says a variable holds (for a load: the cascade, in the order a field sees it).

use zeroize::Zeroizing;

use super::grammar::{Op, Part};

/// Why a value could not be expanded.
pub(crate) enum Failure {
    /// A failed `${NAME?message}` / `${NAME:?message}`: the line and the message to show.
    Required { line: u32, message: String },
    /// The value would be longer than the limit (`A=$A$A` repeated doubles at every line).
    TooLong,
}

/// The longest message of `${NAME?message}` shown; longer ones are cut.
const MAX_MESSAGE: usize = 200;

enum Piece<'p> {
    Borrowed(&'p str),
    Owned(Zeroizing<String>),
}

impl Piece<'_> {
    fn as_str(&self) -> &str {
        match self {
            Piece::Borrowed(text) => text,
            Piece::Owned(text) => text,
        }
    }
}

/// `parts` expanded. `lookup` gives a variable's value (`Some("")` when set but empty, `None`
/// when set nowhere); every `$NAME` / `${NAME}` of a variable set nowhere is added to `unset`
/// with its line. The result is allocated once, at its final size, and may not be longer than
/// `limit` bytes.
pub(crate) fn expand(
    parts: &[Part],
    lookup: &mut dyn FnMut(&str) -> Option<Zeroizing<String>>,
    unset: &mut Vec<(String, u32)>,
    limit: usize,
) -> Result<Zeroizing<String>, Failure> {
    let mut pieces = Vec::new();
    collect(parts, lookup, unset, &mut pieces, &mut (0, limit))?;
    let length = pieces.iter().map(|p| p.as_str().len()).sum();
    let mut out = Zeroizing::new(String::with_capacity(length));
    for piece in &pieces {
        out.push_str(piece.as_str());
    }
    Ok(out)
}

fn collect<'p>(
    parts: &'p [Part],
    lookup: &mut dyn FnMut(&str) -> Option<Zeroizing<String>>,
    unset: &mut Vec<(String, u32)>,
    pieces: &mut Vec<Piece<'p>>,
    budget: &mut (usize, usize),
) -> Result<(), Failure> {
    for part in parts {
        let var = match part {
            Part::Text(text) => {
                spend(budget, text.len())?;
                pieces.push(Piece::Borrowed(text));
                continue;
            }
            Part::Var(var) => var,
        };
        let value = lookup(&var.name);
        // Counted whether or not it is used: a bound on what the lookups hold at once.
        spend(budget, value.as_ref().map_or(0, |v| v.len()))?;
        let counts = |or_empty: bool| match &value {
            Some(text) => !(or_empty && text.is_empty()),
            None => false,
        };
        match var.op {
            Op::Value => match value {
                Some(text) => pieces.push(Piece::Owned(text)),
                None => unset.push((var.name.clone(), var.line)),
            },
            Op::Default { or_empty } => {
                if counts(or_empty) {
                    pieces.extend(value.map(Piece::Owned));
                } else {
                    collect(&var.arg, lookup, unset, pieces, budget)?;
                }
            }
            Op::Alternative { or_empty } => {
                if counts(or_empty) {
                    collect(&var.arg, lookup, unset, pieces, budget)?;
                }
            }
            Op::Required { or_empty } => {
                if counts(or_empty) {
                    pieces.extend(value.map(Piece::Owned));
                } else {
                    return Err(Failure::Required {
                        line: var.line,
                        message: required_message(&var.name, or_empty, &var.arg),
                    });
                }
            }
        }
    }
    Ok(())
}

/// Counts `bytes` against the budget `(spent, limit)`.
fn spend(budget: &mut (usize, usize), bytes: usize) -> Result<(), Failure> {
    budget.0 = budget.0.saturating_add(bytes);
    if budget.0 > budget.1 {
        Err(Failure::TooLong)
    } else {
        Ok(())
    }
}

/// What a failed `${NAME?message}` says: the author's message when it is plain text (one that
/// expands variables is not shown: it could carry a value), else a sentence of our own.
fn required_message(name: &str, or_empty: bool, arg: &[Part]) -> String {
    let state = if or_empty { "unset or empty" } else { "unset" };
    let own: Option<String> = match arg {
        [Part::Text(text)] if !text.trim().is_empty() => {
            let text = text.trim();
            let cut = text
                .char_indices()
                .nth(MAX_MESSAGE)
                .map_or(text.len(), |(i, _)| i);
            Some(text[..cut].to_owned())
        }
        _ => None,
    };
    match own {
        Some(message) => format!("{name} is required ({state} here): {message}"),
        None => format!("{name} is required and is {state}"),
    }
}
