//! `.env` files, read in the dialect of `grammar` (the Compose `env_file` format) and expanded
//! over the cascade (`expand_cascade`), with the line of every definition recorded for error
//! messages and reports.
//!
//! Nothing here writes to the process environment, and no line of a file is ever echoed: a
//! malformed line is reported by its number only, since it may hold a secret.

use std::collections::HashMap;
use std::fmt;
use std::path::Path;
use std::sync::Arc;

use zeroize::Zeroizing;

use crate::source::files::{FileError, read_text_capped};
use crate::source::{Origin, RawValue, Source, SourceProblem};

mod cascade;
mod expand;
mod grammar;

use grammar::Definition;

/// The largest `.env` file read: 1 MiB. A larger one is refused, not truncated.
pub const MAX_ENV_FILE_BYTES: u64 = 1024 * 1024;

/// The variables of one `.env` file, each with the line that defined it.
pub struct DotEnvFile {
    path: Arc<Path>,
    /// The definitions as parsed, until they are expanded.
    pending: Vec<Definition>,
    /// The value of each name's last definition, expanded, or why it has none.
    values: HashMap<String, (Result<Zeroizing<String>, String>, u32)>,
    /// The variables each value expands (`$NAME`, `${NAME...}`), as its last definition wrote them.
    expands: HashMap<String, Vec<String>>,
    /// Names defined more than once, with every line that defines them.
    duplicates: Vec<(String, Vec<u32>)>,
    /// Variables expanded with `$NAME` / `${NAME}` that are set nowhere.
    unset: Vec<UnsetReference>,
}

/// A `$NAME` or `${NAME}` of a variable set nowhere: it expands to nothing.
#[derive(Clone, PartialEq, Eq)]
pub struct UnsetReference {
    /// The variable expanded. It comes from a value's text: a `$` inside a password reads as
    /// one, so it is shown only when it looks like a variable's name (see `shown_name`).
    pub name: String,
    /// The line of the `$`.
    pub line: u32,
    /// The variable whose definition holds it.
    pub definition: String,
}

// The name may be a piece of a secret value: Debug shows it only as `shown_name` would.
impl fmt::Debug for UnsetReference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnsetReference")
            .field("name", &self.shown_name().unwrap_or("[withheld]"))
            .field("line", &self.line)
            .field("definition", &self.definition)
            .finish()
    }
}

impl UnsetReference {
    /// The expanded name, when showing it cannot show part of a secret: a conventional variable
    /// name (`DB_HOST`), in the definition of a variable whose name does not say secret.
    pub fn shown_name(&self) -> Option<&str> {
        let conventional = self
            .name
            .bytes()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == b'_');
        let upper = self.definition.to_ascii_uppercase();
        let secret = [
            "KEY",
            "TOKEN",
            "SECRET",
            "PASS",
            "PWD",
            "CREDENTIAL",
            "PRIVATE",
        ]
        .iter()
        .any(|word| upper.contains(word));
        (conventional && !secret).then_some(self.name.as_str())
    }
}

impl DotEnvFile {
    /// Parses the text of a `.env` file that was read from `path`, and expands it on its own.
    pub fn parse(path: &Path, text: &str) -> Result<DotEnvFile, Vec<SourceProblem>> {
        let (mut file, mut problems) = Self::parse_unexpanded(path, text);
        problems.extend(expand_cascade(std::slice::from_mut(&mut file), &Nothing));
        if problems.is_empty() {
            Ok(file)
        } else {
            Err(problems)
        }
    }

    /// Reads and parses `path`: the file (`None` when it does not exist or cannot be read) and
    /// every problem found. A file with malformed lines still holds its good ones.
    pub(crate) fn read_unexpanded(path: &Path) -> (Option<DotEnvFile>, Vec<SourceProblem>) {
        let text = match read_text_capped(path, MAX_ENV_FILE_BYTES) {
            Ok(Some(text)) => text,
            Ok(None) => {
                return (
                    None,
                    vec![SourceProblem::new(path, None, "is not valid UTF-8")],
                );
            }
            Err(FileError::NotFound) => return (None, Vec::new()),
            Err(err) => return (None, vec![SourceProblem::new(path, None, err.to_string())]),
        };
        let (file, problems) = Self::parse_unexpanded(path, &text);
        (Some(file), problems)
    }

    /// Parses `text`; the values are known once [`DotEnvFile::expand`] has run.
    pub(crate) fn parse_unexpanded(path: &Path, text: &str) -> (DotEnvFile, Vec<SourceProblem>) {
        let (definitions, malformed) = grammar::parse(text);
        let problems = malformed
            .into_iter()
            .map(|m| {
                SourceProblem::new(
                    path,
                    Some(m.line),
                    format!("cannot be parsed: {}", m.message),
                )
            })
            .collect();
        let mut lines: HashMap<&str, Vec<u32>> = HashMap::new();
        for definition in &definitions {
            lines
                .entry(definition.name.as_str())
                .or_default()
                .push(definition.line);
        }
        let mut duplicates: Vec<(String, Vec<u32>)> = lines
            .into_iter()
            .filter(|(_, lines)| lines.len() > 1)
            .map(|(name, lines)| (name.to_owned(), lines))
            .collect();
        duplicates.sort_by_key(|(_, lines)| lines[0]);
        let file = DotEnvFile {
            path: Arc::from(path),
            pending: definitions,
            values: HashMap::new(),
            expands: HashMap::new(),
            duplicates,
            unset: Vec::new(),
        };
        (file, problems)
    }

    /// The file's path as it was given.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Names the file defines more than once (the last definition wins), with their lines.
    pub fn duplicates(&self) -> &[(String, Vec<u32>)] {
        &self.duplicates
    }

    /// Variables the file expands with `$NAME` or `${NAME}` that are set nowhere (they expand
    /// to nothing), with the line of each expansion.
    pub fn unset_references(&self) -> &[UnsetReference] {
        &self.unset
    }

    /// The variables that the value of `name` expands, as its last definition wrote them.
    pub fn expands(&self, name: &str) -> &[String] {
        self.expands.get(name).map_or(&[], Vec::as_slice)
    }

    /// Every variable the file defines, with its line, in no particular order.
    pub fn definitions(&self) -> impl Iterator<Item = (&str, u32)> {
        self.values
            .iter()
            .map(|(name, (_, line))| (name.as_str(), *line))
    }
}

/// Expands `files` (highest precedence first) over the cascade, as `cascade` describes: each
/// `${NAME}` takes the value a field would, with `outside` (the process environment or what
/// stands in for it) over all the files. Returns the problems: failed `${NAME?message}`, chains
/// too deep.
pub(crate) fn expand_cascade(files: &mut [DotEnvFile], outside: &dyn Source) -> Vec<SourceProblem> {
    let outside = |name: &str| match outside.get(name) {
        Some(RawValue::Text(text)) => Some(text),
        _ => None,
    };
    let paths: Vec<Arc<Path>> = files.iter().map(|file| file.path.clone()).collect();
    let definitions: Vec<Vec<Definition>> = files
        .iter_mut()
        .map(|file| std::mem::take(&mut file.pending))
        .collect();
    let expanded = cascade::expand_all(&paths, &definitions, &outside);
    for ((file, definitions), (outcomes, unset)) in files
        .iter_mut()
        .zip(definitions)
        .zip(expanded.outcomes.into_iter().zip(expanded.unset))
    {
        for (definition, outcome) in definitions.into_iter().zip(outcomes) {
            let names = match &definition.value {
                Ok(parts) => grammar::expanded_names(parts),
                Err(()) => Vec::new(),
            };
            file.expands.insert(definition.name.clone(), names);
            file.values
                .insert(definition.name, (outcome, definition.line));
        }
        file.unset = unset;
    }
    expanded.problems
}

/// A source that sets nothing: a file expanded on its own sees no variable from outside it.
struct Nothing;

impl Source for Nothing {
    fn get(&self, _: &str) -> Option<RawValue> {
        None
    }

    fn origin(&self, _: &str) -> Origin {
        Origin::Environment
    }
}

/// `value` written as a `.env` value that reads back as `value` in this dialect: as it is when
/// nothing in it is special, else in single quotes (literal) when it holds no `'` or carriage
/// return and does not end in a backslash (which would escape the closing quote), else in double
/// quotes with `\\`, `\"`, `\$` and line breaks escaped.
pub fn quote(value: &str) -> String {
    let special = |c: char| c.is_whitespace() || "#\"'$\\`".contains(c) || c.is_control();
    if !value.is_empty() && !value.chars().any(special) {
        value.to_owned()
    } else if !value.contains(['\'', '\r']) && !value.ends_with('\\') {
        format!("'{value}'")
    } else {
        let mut out = String::with_capacity(value.len() + 2);
        out.push('"');
        for c in value.chars() {
            match c {
                '\\' => out.push_str("\\\\"),
                '"' => out.push_str("\\\""),
                '$' => out.push_str("\\$"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                c => out.push(c),
            }
        }
        out.push('"');
        out
    }
}

impl fmt::Debug for DotEnvFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut names: Vec<_> = self.values.keys().collect();
        names.sort();
        f.debug_struct("DotEnvFile")
            .field("path", &self.path)
            .field("names", &names)
            .finish()
    }
}

impl Source for DotEnvFile {
    fn get(&self, name: &str) -> Option<RawValue> {
        self.values.get(name).map(|(value, _)| match value {
            Ok(text) => RawValue::Text(text.clone()),
            Err(why) => RawValue::Failed(why.clone()),
        })
    }

    fn origin(&self, name: &str) -> Origin {
        Origin::File {
            path: self.path.clone(),
            line: self
                .values
                .get(name)
                .map(|(_, line)| *line)
                .filter(|l| *l > 0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(text: &str) -> DotEnvFile {
        DotEnvFile::parse(Path::new(".env"), text).unwrap()
    }

    fn text(file: &DotEnvFile, name: &str) -> String {
        match file.get(name) {
            Some(RawValue::Text(value)) => value.to_string(),
            other => panic!("{name}: {other:?}"),
        }
    }

    #[test]
    fn values_and_their_lines() {
        let f = file(
            "# comment\n\nA=1\nexport B = two\nC='single $NOT_EXPANDED'\nD=\"multi\nline\"\nE=${A}-x # note\nA=3\n",
        );
        assert_eq!(text(&f, "A"), "3");
        assert_eq!(text(&f, "B"), "two");
        assert_eq!(text(&f, "C"), "single $NOT_EXPANDED");
        assert_eq!(text(&f, "D"), "multi\nline");
        assert_eq!(text(&f, "E"), "1-x");
        let lines: HashMap<_, _> = f.definitions().collect();
        assert_eq!(lines["A"], 9);
        assert_eq!(lines["B"], 4);
        assert_eq!(lines["C"], 5);
        assert_eq!(lines["D"], 6);
        assert_eq!(lines["E"], 8);
        assert_eq!(
            f.origin("E"),
            Origin::File {
                path: Arc::from(Path::new(".env")),
                line: Some(8)
            }
        );
    }

    #[test]
    fn a_quoted_value_that_looks_like_a_definition_defines_nothing() {
        let f = file("A=\"first\nB=inside\"\nB=real\n");
        assert_eq!(text(&f, "A"), "first\nB=inside");
        let lines: HashMap<_, _> = f.definitions().collect();
        assert_eq!(lines["B"], 3);
    }

    #[test]
    fn malformed_lines_are_numbered_and_not_echoed() {
        let problems = DotEnvFile::parse(
            Path::new(".env"),
            "A=1\nthis is wrong-s3cret\nB=2\nC='open-s3cret\n",
        )
        .unwrap_err();
        let shown: Vec<_> = problems.iter().map(ToString::to_string).collect();
        assert_eq!(shown.len(), 2, "{shown:?}");
        assert!(
            shown[0].starts_with(".env line 2: cannot be parsed: expected `=`"),
            "{shown:?}"
        );
        assert!(
            shown[1].starts_with(
                ".env line 4: cannot be parsed: a single-quoted value is never closed"
            ),
            "{shown:?}"
        );
        assert!(shown.iter().all(|s| !s.contains("s3cret")));
    }

    #[test]
    fn duplicates_are_listed_with_their_lines() {
        let f = file("A=1\nB=2\nA=3\nC=4\nA=5\n");
        assert_eq!(f.duplicates(), [("A".to_owned(), vec![1, 3, 5])]);
    }

    #[test]
    fn the_variables_each_value_expands_are_known() {
        let f = file("A=1\nB=${A}-$C\nD='$A'\nH=\"multi\n${A}\"\nI=x #$A\nJ=\"x\\$A ${F:-$G}\"\n");
        assert_eq!(f.expands("B"), ["A", "C"]);
        assert!(f.expands("D").is_empty(), "single quotes are literal");
        assert_eq!(f.expands("H"), ["A"]);
        assert!(f.expands("I").is_empty(), "a comment expands nothing");
        assert!(f.expands("A").is_empty());
        assert_eq!(f.expands("J"), ["F", "G"], "an escaped $ expands nothing");
        let unset: Vec<_> = f
            .unset_references()
            .iter()
            .map(|u| (u.name.as_str(), u.line, u.shown_name()))
            .collect();
        assert_eq!(unset, [("C", 2, Some("C")), ("G", 7, Some("G"))]);
    }

    #[test]
    fn a_bad_line_keeps_the_good_ones_and_fails_its_own_name() {
        let (mut f, problems) =
            DotEnvFile::parse_unexpanded(Path::new(".env"), "A=1\nB=\"x\" y\nC=3\n");
        assert!(expand_cascade(std::slice::from_mut(&mut f), &Nothing).is_empty());
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].line, Some(2));
        assert_eq!(text(&f, "A"), "1");
        assert_eq!(text(&f, "C"), "3");
        assert!(
            matches!(f.get("B"), Some(RawValue::Failed(why)) if why.contains(".env line 2")),
            "{:?}",
            f.get("B")
        );
    }

    #[test]
    fn a_required_variable_that_is_unset_fails_the_value() {
        let problems = DotEnvFile::parse(
            Path::new(".env"),
            "A=\nB=${A:?set A to the API host}\nC=${A?}\nD=${Z?}\n",
        )
        .unwrap_err();
        let shown: Vec<_> = problems.iter().map(ToString::to_string).collect();
        assert_eq!(
            shown,
            [
                ".env line 2: A is required (unset or empty here): set A to the API host",
                ".env line 4: Z is required and is unset",
            ]
        );
    }

    #[test]
    fn lines_after_multi_line_values_are_counted_right() {
        let problems = DotEnvFile::parse(
            Path::new(".env"),
            "A=\"one\ntwo\"\nB=`x\nnot a definition\nC='three\r\nfour'\r\nD=${\nE=\"five\nsix\" tail\nF=ok\n",
        )
        .unwrap_err();
        let lines: Vec<_> = problems.iter().map(|p| p.line).collect();
        // Line 4: words without `=` (after a value in backticks, which are plain text here);
        // line 7: `${` with no name; line 9: text after the closing quote of lines 8 and 9.
        assert_eq!(lines, [Some(4), Some(7), Some(9)], "{problems:?}");
    }

    #[test]
    fn a_list_with_blanks_is_one_value() {
        let f = file("STORES=eu, us\n");
        assert_eq!(text(&f, "STORES"), "eu, us");
    }

    #[test]
    fn a_value_that_doubles_at_every_line_is_refused_not_built() {
        let mut text = String::from("L=0123456789abcdef\n");
        for _ in 0..40 {
            text.push_str("L=$L$L\n");
        }
        let problems = DotEnvFile::parse(Path::new(".env"), &text).unwrap_err();
        // 16 bytes doubled 16 times is 1 MiB: line 18 is the first too long.
        assert_eq!(problems[0].line, Some(18), "{problems:?}");
        assert!(problems[0].message.contains("longer than 1048576 bytes"));
    }

    #[test]
    fn a_byte_order_mark_is_skipped() {
        let f = file("\u{feff}A=1\n");
        assert_eq!(text(&f, "A"), "1");
    }
}
