//! Expansion of parsed values: `$NAME`, `${NAME}` and the `-`, `?`, `+` forms, over whatever
//! the caller says a variable holds (for a load: the cascade, in the order a field sees it).

use zeroize::Zeroizing;

use super::grammar::{Op, Part};

/// A failed `${NAME?message}` / `${NAME:?message}`: the line and the message to show.
pub(crate) struct Required {
    pub(crate) line: u32,
    pub(crate) message: String,
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
/// with its line. The result is allocated once, at its final size.
pub(crate) fn expand(
    parts: &[Part],
    lookup: &mut dyn FnMut(&str) -> Option<Zeroizing<String>>,
    unset: &mut Vec<(String, u32)>,
) -> Result<Zeroizing<String>, Required> {
    let mut pieces = Vec::new();
    collect(parts, lookup, unset, &mut pieces)?;
    let mut out = Zeroizing::new(String::with_capacity(
        pieces.iter().map(|p| p.as_str().len()).sum(),
    ));
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
) -> Result<(), Required> {
    for part in parts {
        let var = match part {
            Part::Text(text) => {
                pieces.push(Piece::Borrowed(text));
                continue;
            }
            Part::Var(var) => var,
        };
        let value = lookup(&var.name);
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
                    collect(&var.arg, lookup, unset, pieces)?;
                }
            }
            Op::Alternative { or_empty } => {
                if counts(or_empty) {
                    collect(&var.arg, lookup, unset, pieces)?;
                }
            }
            Op::Required { or_empty } => {
                if counts(or_empty) {
                    pieces.extend(value.map(Piece::Owned));
                } else {
                    return Err(Required {
                        line: var.line,
                        message: required_message(&var.name, or_empty, &var.arg),
                    });
                }
            }
        }
    }
    Ok(())
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
