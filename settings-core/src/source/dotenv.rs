//! `.env` files: parsed by dotenvy's iterator (so quoting and `${VAR}` expansion are dotenvy's),
//! with the line of every definition recorded for error messages and reports.
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

/// The largest `.env` file read: 1 MiB. A larger one is refused, not truncated.
pub const MAX_ENV_FILE_BYTES: u64 = 1024 * 1024;

/// The variables of one `.env` file, each with the line that defined it.
pub struct DotEnvFile {
    path: Arc<Path>,
    values: HashMap<String, (Zeroizing<String>, u32)>,
    /// The variables each value expands (`$NAME`, `${NAME}`), as written in its definition.
    expands: HashMap<String, Vec<String>>,
    /// Names defined more than once, with every line that defines them.
    duplicates: Vec<(String, Vec<u32>)>,
}

impl DotEnvFile {
    /// Reads and parses `path`. `Ok(None)` when the file does not exist; every malformed line is
    /// reported, by number.
    pub fn read(path: &Path) -> Result<Option<DotEnvFile>, Vec<SourceProblem>> {
        let text = match read_text_capped(path, MAX_ENV_FILE_BYTES) {
            Ok(Some(text)) => text,
            Ok(None) => return Err(vec![SourceProblem::new(path, None, "is not valid UTF-8")]),
            Err(FileError::NotFound) => return Ok(None),
            Err(err) => return Err(vec![SourceProblem::new(path, None, err.to_string())]),
        };
        Self::parse(path, &text).map(Some)
    }

    /// Parses the text of a `.env` file that was read from `path`.
    pub fn parse(path: &Path, text: &str) -> Result<DotEnvFile, Vec<SourceProblem>> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let (all_lines, expands) = definition_lines(text);
        let lines: HashMap<&str, u32> = all_lines
            .iter()
            .filter_map(|(name, lines)| Some((name.as_str(), *lines.last()?)))
            .collect();
        let mut duplicates: Vec<(String, Vec<u32>)> = all_lines
            .iter()
            .filter(|(_, lines)| lines.len() > 1)
            .map(|(name, lines)| (name.clone(), lines.clone()))
            .collect();
        duplicates.sort_by_key(|(_, lines)| lines[0]);
        let mut values = HashMap::new();
        let mut problems = Vec::new();
        for item in dotenvy::from_read_iter(text.as_bytes()) {
            match item {
                Ok((key, value)) => {
                    let line = lines.get(key.as_str()).copied().unwrap_or(0);
                    values.insert(key, (Zeroizing::new(value), line));
                }
                Err(dotenvy::Error::LineParse(content, _)) => {
                    let content = Zeroizing::new(content);
                    let line = line_of(text, &content);
                    problems.push(SourceProblem::new(
                        path,
                        line,
                        "cannot be parsed (the line is not shown; check its quotes and the NAME=value form)",
                    ));
                }
                Err(err) => {
                    problems.push(SourceProblem::new(
                        path,
                        None,
                        format!("cannot be read: {err}"),
                    ));
                    break;
                }
            }
        }
        if problems.is_empty() {
            Ok(DotEnvFile {
                path: Arc::from(path),
                values,
                expands,
                duplicates,
            })
        } else {
            Err(problems)
        }
    }

    /// The file's path as it was given.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Names the file defines more than once (the last definition wins), with their lines.
    pub fn duplicates(&self) -> &[(String, Vec<u32>)] {
        &self.duplicates
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
        self.values
            .get(name)
            .map(|(value, _)| RawValue::Text(value.clone()))
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

/// The 1-based lines on which each variable is defined, in order, and the variables the last
/// definition of each expands.
///
/// Follows the structure dotenvy's parser sees: optional `export`, `NAME=value`, comments after
/// white space, and values in quotes that span lines (whose inner lines define nothing).
fn definition_lines(text: &str) -> (HashMap<String, Vec<u32>>, HashMap<String, Vec<String>>) {
    let mut lines = HashMap::new();
    let mut expands: HashMap<String, Vec<String>> = HashMap::new();
    let mut open_quote: Option<char> = None;
    // The definition being read and the raw text of its value so far.
    let mut current: Option<(String, Zeroizing<String>)> = None;
    let mut finish = |current: &mut Option<(String, Zeroizing<String>)>| {
        if let Some((name, value)) = current.take() {
            expands.insert(name, expanded_names(&value));
        }
    };
    for (index, line) in text.lines().enumerate() {
        let number = u32::try_from(index + 1).unwrap_or(u32::MAX);
        if let Some(quote) = open_quote {
            if let Some((_, value)) = &mut current {
                value.push('\n');
                value.push_str(line);
            }
            open_quote = scan_value(line, Some(quote));
            if open_quote.is_none() {
                finish(&mut current);
            }
            continue;
        }
        let trimmed = line.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let statement = trimmed
            .strip_prefix("export ")
            .map_or(trimmed, str::trim_start);
        let Some((key, value)) = statement.split_once('=') else {
            continue;
        };
        let key = key.trim_end();
        if !key.is_empty() {
            lines
                .entry(key.to_owned())
                .or_insert_with(Vec::new)
                .push(number);
            current = Some((key.to_owned(), Zeroizing::new(value.to_owned())));
        }
        open_quote = scan_value(value, None);
        if open_quote.is_none() {
            finish(&mut current);
        }
    }
    finish(&mut current);
    (lines, expands)
}

/// The variables a raw value expands: `$NAME` and `${NAME...}` outside single quotes, `\$`
/// escapes and a ` #` comment after an unquoted value honoured. Used to know which values were
/// built from which variables, never to build them.
pub(crate) fn expanded_names(value: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut chars = value.chars().peekable();
    let (mut single, mut double, mut after_space) = (false, false, true);
    while let Some(c) = chars.next() {
        match c {
            '\'' if !double => single = !single,
            '"' if !single => double = !double,
            '\\' if !single => {
                chars.next();
            }
            '#' if !single && !double && after_space => break,
            '$' if !single => {
                if chars.peek() == Some(&'{') {
                    chars.next();
                }
                let mut name = String::new();
                while let Some(&next) = chars.peek() {
                    if next.is_ascii_alphanumeric() || next == '_' {
                        name.push(next);
                        chars.next();
                    } else {
                        break;
                    }
                }
                if !name.is_empty() && !names.contains(&name) {
                    names.push(name);
                }
            }
            _ => {}
        }
        after_space = c.is_whitespace();
    }
    names
}

/// Scans a value (or a continuation line) and returns the quote still open at its end, if any.
fn scan_value(text: &str, mut open: Option<char>) -> Option<char> {
    let mut chars = text.chars().peekable();
    let mut after_space = open.is_none();
    while let Some(c) = chars.next() {
        match open {
            Some('"') => match c {
                '\\' => {
                    chars.next();
                }
                '"' => open = None,
                _ => {}
            },
            Some(_) => match c {
                '\\' => {
                    chars.next();
                }
                '\'' => open = None,
                _ => {}
            },
            None => match c {
                '#' if after_space => return None,
                '\\' => {
                    chars.next();
                }
                '"' | '\'' => open = Some(c),
                _ => {}
            },
        }
        after_space = c.is_whitespace();
    }
    open
}

/// The line number at which the logical line `content` (as dotenvy reports it) starts.
fn line_of(text: &str, content: &str) -> Option<u32> {
    let first = content.lines().next().unwrap_or("");
    let first = first.trim_end_matches('\r');
    text.lines()
        .position(|line| line.trim_end_matches('\r') == first)
        .and_then(|index| u32::try_from(index + 1).ok())
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
            shown[0].starts_with(".env line 2: cannot be parsed"),
            "{shown:?}"
        );
        assert!(
            shown[1].starts_with(".env line 4: cannot be parsed"),
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
        let f = file("A=1\nB=${A}-$C\nD='$A'\nH=\"multi\n${A}\"\nI=x #$A\n");
        assert_eq!(f.expands("B"), ["A", "C"]);
        assert!(f.expands("D").is_empty(), "single quotes are literal");
        assert_eq!(f.expands("H"), ["A"]);
        assert!(f.expands("I").is_empty(), "a comment expands nothing");
        assert!(f.expands("A").is_empty());
        assert_eq!(
            expanded_names("\"x\\$A ${F:-$G}\""),
            ["F", "G"],
            "an escaped $ expands nothing"
        );
    }

    #[test]
    fn a_byte_order_mark_is_skipped() {
        let f = file("\u{feff}A=1\n");
        assert_eq!(text(&f, "A"), "1");
    }
}
