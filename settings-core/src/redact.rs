//! Keeping values out of messages: redaction of secret inputs and truncation of shown ones.

/// What is printed in place of a secret.
pub const REDACTED: &str = "[REDACTED]";

const WITHHELD: &str = "the parser's message is withheld because it could reveal the secret value";

/// Makes a parser's error message safe to show for a secret field whose input was `raw`.
///
/// Quoted fragments (`'…'`, `"…"`, `` `…` ``) are replaced by `[REDACTED]`, since parsers quote
/// the input they reject. If the input, its trimmed form, or any list item of it (split on
/// `delimiter`) still appears anywhere, the whole message is withheld.
pub fn scrub(message: &str, raw: &str, delimiter: &str) -> String {
    let unquoted = redact_quoted(message);
    let mut pieces = vec![raw, raw.trim()];
    if !delimiter.is_empty() {
        pieces.extend(raw.split(delimiter).map(str::trim));
    }
    let escaped = raw.escape_debug().to_string();
    let leaks = pieces
        .iter()
        .copied()
        .chain(std::iter::once(escaped.as_str()))
        .filter(|piece| !piece.is_empty())
        .any(|piece| unquoted.contains(piece));
    if leaks { WITHHELD.to_owned() } else { unquoted }
}

fn redact_quoted(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(start) = rest.find(['\'', '"', '`']) {
        let quote = rest[start..].chars().next().unwrap_or('"');
        let after = &rest[start + 1..];
        match after.find(quote) {
            // An apostrophe inside a word ("can't") is not a quote.
            Some(end) if !(quote == '\'' && is_apostrophe(rest, start)) => {
                out.push_str(&rest[..start]);
                out.push_str(REDACTED);
                rest = &after[end + 1..];
            }
            _ => {
                out.push_str(&rest[..start + 1]);
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

fn is_apostrophe(text: &str, at: usize) -> bool {
    let before = text[..at].chars().next_back();
    let after = text[at + 1..].chars().next();
    matches!((before, after), (Some(b), Some(a)) if b.is_alphanumeric() && a.is_alphanumeric())
}

/// Quotes a non-secret input for an error message, escaped and cut to a readable length.
pub(crate) fn show_input(raw: &str) -> String {
    const MAX_CHARS: usize = 60;
    let mut shown: String = raw.chars().take(MAX_CHARS).collect();
    if shown.len() < raw.len() {
        shown.push('…');
    }
    format!("{:?}", shown)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_fragments_are_redacted() {
        assert_eq!(
            scrub("invalid value 'hunter2x' at 3", "zzz", ","),
            "invalid value [REDACTED] at 3"
        );
        assert_eq!(
            scrub("can't parse `abc`", "zzz", ","),
            "can't parse [REDACTED]"
        );
    }

    #[test]
    fn a_message_that_still_contains_the_input_is_withheld() {
        assert_eq!(scrub("bad input hunter2 here", "hunter2", ","), WITHHELD);
        assert_eq!(scrub("bad item abc", "xyz, abc", ","), WITHHELD);
        assert_eq!(scrub("plain failure", "hunter2", ","), "plain failure");
    }

    #[test]
    fn long_inputs_are_truncated() {
        let shown = show_input(&"x".repeat(100));
        assert!(shown.ends_with("…\""));
        assert_eq!(shown.chars().filter(|c| *c == 'x').count(), 60);
    }
}
