//! The grammar of a `.env` file: the Compose specification's `env_file` format and its
//! interpolation, with python-dotenv's behaviour where Compose is silent. The README's "`.env`
//! dialect" table is the user's description of the same rules; `tests/dotenv_dialect.rs` holds
//! the cases and what each tool answers.
//!
//! Parsing keeps each value as text and the variables it expands, unexpanded: the values those
//! variables hold are known only once the whole cascade is read (`super::expand`). Every
//! malformed statement is reported by its line, and parsing goes on after it; no message quotes
//! the text it is about, since that text may be a secret.

use zeroize::Zeroizing;

/// One `NAME=value` statement, in file order.
pub(crate) struct Definition {
    pub(crate) name: String,
    /// The line the statement starts on, 1-based.
    pub(crate) line: u32,
    /// The value, or `Err` when the statement names a variable but its value is malformed (the
    /// problem is reported separately).
    pub(crate) value: Result<Vec<Part>, ()>,
}

/// A piece of a value: literal text, or a variable to expand.
pub(crate) enum Part {
    Text(Zeroizing<String>),
    Var(Box<Var>),
}

/// `$NAME` or `${NAME...}`.
pub(crate) struct Var {
    pub(crate) name: String,
    /// The line the `$` is on.
    pub(crate) line: u32,
    pub(crate) op: Op,
    /// The word after the operator (`default`, `message`, `alt`), itself expanded.
    pub(crate) arg: Vec<Part>,
}

/// What a braced expansion does when its variable is unset (or empty, with `or_empty`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Op {
    /// `$NAME`, `${NAME}`: the value, empty when unset.
    Value,
    /// `${NAME-word}`, `${NAME:-word}`: the word instead.
    Default { or_empty: bool },
    /// `${NAME?message}`, `${NAME:?message}`: an error of the load.
    Required { or_empty: bool },
    /// `${NAME+word}`, `${NAME:+word}`: the word when set, else nothing.
    Alternative { or_empty: bool },
}

/// A malformed statement: its line and what is wrong, never the text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Malformed {
    pub(crate) line: u32,
    pub(crate) message: String,
}

/// Every statement of `text`, and every malformed one.
pub(crate) fn parse(text: &str) -> (Vec<Definition>, Vec<Malformed>) {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut cursor = Cursor {
        text,
        pos: 0,
        line: 1,
    };
    let mut definitions = Vec::new();
    let mut problems = Vec::new();
    loop {
        cursor.skip_blank_lines_and_comments();
        if cursor.peek().is_none() {
            break;
        }
        match statement(&mut cursor) {
            Ok(Some(definition)) => definitions.push(definition),
            Ok(None) => {}
            Err((malformed, name)) => {
                if let Some(name) = name {
                    definitions.push(Definition {
                        name,
                        line: malformed.line,
                        value: Err(()),
                    });
                }
                problems.push(malformed);
                cursor.skip_line();
            }
        }
    }
    (definitions, problems)
}

type Failure = (Malformed, Option<String>);

fn malformed(line: u32, message: impl Into<String>) -> Malformed {
    Malformed {
        line,
        message: message.into(),
    }
}

/// One statement, the cursor at its first character. On failure the cursor is on the line
/// after which parsing resumes, and the name is given when the statement got that far.
fn statement(c: &mut Cursor<'_>) -> Result<Option<Definition>, Failure> {
    let line = c.line;
    if c.rest().starts_with("export") && matches!(c.byte_at(6), Some(b' ' | b'\t')) {
        c.pos += 6;
        c.skip_blanks();
    }
    let start = c.pos;
    while c.peek().is_some_and(is_name_byte) {
        c.pos += 1;
    }
    let name = &c.text[start..c.pos];
    let right_after = c.peek();
    c.skip_blanks();
    match c.peek() {
        Some(b'=') if !name.is_empty() => c.pos += 1,
        None | Some(b'\n') if !name.is_empty() => return Ok(None),
        Some(b'#') if !name.is_empty() && right_after != Some(b'#') => return Ok(None),
        _ if name.is_empty() => {
            let message = "a statement must start with a variable name (letters, digits, '_', '.', '-'), \
                           optionally after `export `";
            return Err((malformed(line, message), None));
        }
        _ if right_after.is_some_and(|b| !matches!(b, b' ' | b'\t' | b'\r')) => {
            let message = "a variable name may hold only ASCII letters, digits, '_', '.' and '-'";
            return Err((malformed(line, message), None));
        }
        _ => {
            let message = "expected `=` after the variable name (a name cannot contain blanks)";
            return Err((malformed(line, message), None));
        }
    }
    let name = name.to_owned();
    let blank_before = c.skip_blanks();
    let value = match c.peek() {
        Some(b'\'') => single_quoted(c, line),
        Some(b'"') => double_quoted(c, line),
        _ => Ok(unquoted(c, line, blank_before)),
    };
    match value {
        Ok(Ok(parts)) => Ok(Some(Definition {
            name,
            line,
            value: Ok(parts),
        })),
        Ok(Err(problem)) | Err(problem) => Err((problem, Some(name))),
    }
}

/// An unquoted value: to the end of the line, a ` #` comment cut, blanks trimmed.
fn unquoted(c: &mut Cursor<'_>, line: u32, blank_before: bool) -> Result<Vec<Part>, Malformed> {
    let rest = c.rest();
    let end = rest.find('\n').unwrap_or(rest.len());
    let mut value = &rest[..end];
    let bytes = value.as_bytes();
    let comment = (0..bytes.len()).find(|&i| {
        bytes[i] == b'#'
            && if i == 0 {
                blank_before
            } else {
                matches!(bytes[i - 1], b' ' | b'\t')
            }
    });
    if let Some(i) = comment {
        value = &value[..i];
    }
    let value = value.trim_end_matches([' ', '\t', '\r', '\x0b', '\x0c']);
    c.pos += end;
    Interpolation::new(value, line, false).parts(None)
}

/// A value in single quotes: literal, `\'` for a quote; may span lines.
fn single_quoted(c: &mut Cursor<'_>, line: u32) -> Result<Result<Vec<Part>, Malformed>, Malformed> {
    let open = c.pos;
    let body = &c.text[open + 1..];
    let Some(close) = closing_quote(body, b'\'') else {
        return Err(unclosed(c, open, line, "single"));
    };
    let content = &body[..close];
    let mut text = Zeroizing::new(String::with_capacity(content.len()));
    let mut rest = content;
    while let Some(at) = rest.find(['\\', '\r']) {
        text.push_str(&rest[..at]);
        let tail = &rest[at..];
        if let Some(after) = tail.strip_prefix("\\'") {
            text.push('\'');
            rest = after;
        } else if tail.starts_with("\r\n") {
            rest = &tail[1..];
        } else {
            text.push_str(&tail[..1]);
            rest = &tail[1..];
        }
    }
    text.push_str(rest);
    c.advance_to(open + 1 + close + 1);
    Ok(after_closing_quote(c, line).map(|()| vec![Part::Text(text)]))
}

/// A value in double quotes: escapes and expansion; may span lines.
fn double_quoted(c: &mut Cursor<'_>, line: u32) -> Result<Result<Vec<Part>, Malformed>, Malformed> {
    let open = c.pos;
    let body = &c.text[open + 1..];
    let Some(close) = closing_quote(body, b'"') else {
        return Err(unclosed(c, open, line, "double"));
    };
    let content = &body[..close];
    c.advance_to(open + 1 + close + 1);
    let parts = Interpolation::new(content, line, true).parts(None);
    Ok(after_closing_quote(c, line).and(parts))
}

/// Where the quote that opened `body` closes. In double quotes a backslash escapes any
/// character; in single quotes only the quote itself (`\'`), everything else being literal.
fn closing_quote(body: &str, quote: u8) -> Option<usize> {
    let bytes = body.as_bytes();
    let mut i = 0;
    loop {
        match bytes.get(i)? {
            b'\\' if quote == b'"' || bytes.get(i + 1) == Some(&quote) => i += 2,
            b if *b == quote => return Some(i),
            _ => i += 1,
        }
    }
}

/// A quote that never closes: reported on its line, and parsing resumes on the next line, as if
/// the quote had been meant to close there (the likeliest mistake).
fn unclosed(c: &mut Cursor<'_>, open: usize, line: u32, kind: &str) -> Malformed {
    c.pos = open;
    c.line = line;
    malformed(
        line,
        format!(
            "a {kind}-quoted value is never closed (a quote inside it must be written \\{})",
            if kind == "single" { '\'' } else { '"' }
        ),
    )
}

/// After a closing quote: blanks, then a comment or the end of the line.
fn after_closing_quote(c: &mut Cursor<'_>, line: u32) -> Result<(), Malformed> {
    c.skip_blanks();
    match c.peek() {
        None | Some(b'\n' | b'#') => Ok(()),
        Some(_) => Err(malformed(
            c.line.max(line),
            "unexpected text after the closing quote (a comment there must start with #)",
        )),
    }
}

fn is_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-')
}

fn is_var_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_'
}

fn is_var_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

struct Cursor<'t> {
    text: &'t str,
    pos: usize,
    line: u32,
}

impl<'t> Cursor<'t> {
    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.pos).copied()
    }

    fn byte_at(&self, offset: usize) -> Option<u8> {
        self.text.as_bytes().get(self.pos + offset).copied()
    }

    fn rest(&self) -> &'t str {
        &self.text[self.pos..]
    }

    /// Skips spaces, tabs and other blanks that are not line breaks; true when there were any.
    fn skip_blanks(&mut self) -> bool {
        let start = self.pos;
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\r' | b'\x0b' | b'\x0c')) {
            self.pos += 1;
        }
        self.pos > start
    }

    /// Moves to `pos`, counting the line breaks passed.
    fn advance_to(&mut self, pos: usize) {
        let passed = self.text.as_bytes()[self.pos..pos]
            .iter()
            .filter(|b| **b == b'\n')
            .count();
        self.line = self
            .line
            .saturating_add(u32::try_from(passed).unwrap_or(u32::MAX));
        self.pos = pos;
    }

    /// Moves past the next line break, or to the end.
    fn skip_line(&mut self) {
        let end = self
            .rest()
            .find('\n')
            .map_or(self.text.len(), |i| self.pos + i + 1);
        self.advance_to(end);
    }

    fn skip_blank_lines_and_comments(&mut self) {
        loop {
            self.skip_blanks();
            match self.peek() {
                Some(b'\n') | Some(b'#') => self.skip_line(),
                _ => return,
            }
        }
    }
}

/// Splits a value's text into literal text and expansions.
struct Interpolation<'s> {
    text: &'s str,
    pos: usize,
    line: u32,
    /// In double quotes: backslash escapes apply.
    escapes: bool,
}

impl<'s> Interpolation<'s> {
    fn new(text: &'s str, line: u32, escapes: bool) -> Self {
        Interpolation {
            text,
            pos: 0,
            line,
            escapes,
        }
    }

    fn peek_at(&self, offset: usize) -> Option<u8> {
        self.text.as_bytes().get(self.pos + offset).copied()
    }

    /// The parts up to the end, or up to the `}` closing the `${` opened on line `open`.
    fn parts(&mut self, open: Option<u32>) -> Result<Vec<Part>, Malformed> {
        let mut parts = Vec::new();
        // Never more text than is left: the buffer is allocated once and never grows.
        let mut text = Zeroizing::new(String::with_capacity(self.text.len() - self.pos));
        loop {
            let rest = &self.text[self.pos..];
            let special = rest
                .bytes()
                .position(|b| matches!(b, b'$' | b'\\' | b'}' | b'\n' | b'\r'))
                .unwrap_or(rest.len());
            text.push_str(&rest[..special]);
            self.pos += special;
            let Some(b) = self.peek_at(0) else {
                return match open {
                    None => {
                        flush(&mut parts, &mut text, 0);
                        Ok(parts)
                    }
                    Some(line) => Err(malformed(line, "a `${` is never closed by `}`")),
                };
            };
            match b {
                b'}' if open.is_some() => {
                    self.pos += 1;
                    flush(&mut parts, &mut text, 0);
                    return Ok(parts);
                }
                b'\\' if self.escapes => {
                    let Some(next) = self.text[self.pos + 1..].chars().next() else {
                        text.push('\\');
                        self.pos += 1;
                        continue;
                    };
                    let unescaped = match next {
                        'n' => Some('\n'),
                        'r' => Some('\r'),
                        't' => Some('\t'),
                        '\\' | '"' | '\'' | '$' => Some(next),
                        'a' => Some('\x07'),
                        'b' => Some('\x08'),
                        'f' => Some('\x0c'),
                        'v' => Some('\x0b'),
                        _ => None,
                    };
                    match unescaped {
                        Some(ch) => {
                            text.push(ch);
                            self.pos += 1 + next.len_utf8();
                        }
                        // An unknown escape is kept as written, as python-dotenv does.
                        None => {
                            text.push('\\');
                            self.pos += 1;
                        }
                    }
                }
                b'\r' if self.peek_at(1) == Some(b'\n') => self.pos += 1,
                b'\n' => {
                    text.push('\n');
                    self.pos += 1;
                    self.line = self.line.saturating_add(1);
                }
                b'$' => match self.peek_at(1) {
                    Some(b'$') => {
                        text.push('$');
                        self.pos += 2;
                    }
                    Some(b'{') => {
                        flush(&mut parts, &mut text, self.text.len() - self.pos);
                        let var = self.braced()?;
                        parts.push(Part::Var(Box::new(var)));
                    }
                    Some(next) if is_var_start(next) => {
                        flush(&mut parts, &mut text, self.text.len() - self.pos);
                        let start = self.pos + 1;
                        let end = self.text[start..]
                            .bytes()
                            .position(|b| !is_var_byte(b))
                            .map_or(self.text.len(), |i| start + i);
                        parts.push(Part::Var(Box::new(Var {
                            name: self.text[start..end].to_owned(),
                            line: self.line,
                            op: Op::Value,
                            arg: Vec::new(),
                        })));
                        self.pos = end;
                    }
                    // A `$` before anything else is itself, as in Compose.
                    _ => {
                        text.push('$');
                        self.pos += 1;
                    }
                },
                _ => {
                    // '\\' outside double quotes, '\r' alone, '}' outside a `${`.
                    text.push(char::from(b));
                    self.pos += 1;
                }
            }
        }
    }

    /// `${NAME}` or `${NAME<op>word}`, the position at the `$`.
    fn braced(&mut self) -> Result<Var, Malformed> {
        let line = self.line;
        self.pos += 2;
        let start = self.pos;
        if !self.peek_at(0).is_some_and(is_var_start) {
            return Err(malformed(
                line,
                "`${` must be followed by a variable name (ASCII letters, digits and '_', not starting with a digit)",
            ));
        }
        while self.peek_at(0).is_some_and(is_var_byte) {
            self.pos += 1;
        }
        let name = self.text[start..self.pos].to_owned();
        let colon = self.peek_at(0) == Some(b':');
        let op_at = usize::from(colon);
        let op = match (self.peek_at(op_at), colon) {
            (Some(b'}'), false) => {
                self.pos += 1;
                return Ok(Var {
                    name,
                    line,
                    op: Op::Value,
                    arg: Vec::new(),
                });
            }
            (Some(b'-'), _) => Op::Default { or_empty: colon },
            (Some(b'?'), _) => Op::Required { or_empty: colon },
            (Some(b'+'), _) => Op::Alternative { or_empty: colon },
            (None, _) => return Err(malformed(line, "a `${` is never closed by `}`")),
            _ => {
                // The name is not shown: a `${` inside a password is read as one.
                return Err(malformed(
                    line,
                    "`${NAME` may be followed only by `}`, `-`, `:-`, `?`, `:?`, `+` or `:+`",
                ));
            }
        };
        self.pos += op_at + 1;
        let arg = self.parts(Some(line))?;
        Ok(Var {
            name,
            line,
            op,
            arg,
        })
    }
}

/// Moves the text gathered so far into `parts`, and starts a new buffer of `capacity`.
fn flush(parts: &mut Vec<Part>, text: &mut Zeroizing<String>, capacity: usize) {
    if !text.is_empty() {
        let full = std::mem::replace(text, Zeroizing::new(String::with_capacity(capacity)));
        parts.push(Part::Text(full));
    }
}

/// The variables `parts` expand, in order, each once.
pub(crate) fn expanded_names(parts: &[Part]) -> Vec<String> {
    fn walk(parts: &[Part], names: &mut Vec<String>) {
        for part in parts {
            if let Part::Var(var) = part {
                if !names.contains(&var.name) {
                    names.push(var.name.clone());
                }
                walk(&var.arg, names);
            }
        }
    }
    let mut names = Vec::new();
    walk(parts, &mut names);
    names
}
