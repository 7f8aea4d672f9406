//! Keeping values out of messages: redaction of secret inputs and truncation of shown ones.

/// What is printed in place of a secret.
pub const REDACTED: &str = "[REDACTED]";

const WITHHELD: &str = "the parser's message is withheld because it could reveal the secret value";

/// The longest parser message kept for a secret field; a longer one is cut before it is checked.
const MAX_MESSAGE_CHARS: usize = 500;

/// The length of a run of characters that a message may not share with a secret input.
const RUN: usize = 4;

/// Makes a parser's error message safe to show for a secret field whose input was `raw`.
///
/// The message is withheld whole when it shares a run of four or more characters with the input
/// (as written, or escaped the way `{:?}` escapes it), or holds the input or any list item of it
/// (split on `delimiter`) that is shorter than that. A message kept has its quoted fragments
/// (`'…'`, `"…"`, `` `…` ``) replaced by `[REDACTED]` all the same, since parsers quote the input
/// they reject, sometimes transformed.
pub fn scrub(message: &str, raw: &str, delimiter: &str) -> String {
    let message: String = message.chars().take(MAX_MESSAGE_CHARS).collect();
    if leaks(&message, raw, delimiter) {
        WITHHELD.to_owned()
    } else {
        redact_quoted(&message)
    }
}

/// True when `message` shares a run of [`RUN`] characters with `raw` or its escaped form, or
/// holds a shorter piece of it whole.
fn leaks(message: &str, raw: &str, delimiter: &str) -> bool {
    // Every run of the message, sorted for binary search, so that a long input (a list of many
    // thousands of items) costs time in proportion to its length.
    let mut runs: Vec<&str> = runs_of(message).collect();
    runs.sort_unstable();
    runs.dedup();
    let escaped = zeroize::Zeroizing::new(raw.escape_debug().to_string());
    let shares_run = |text: &str| runs_of(text).any(|run| runs.binary_search(&run).is_ok());
    if shares_run(raw) || shares_run(&escaped) {
        return true;
    }
    // A piece shorter than a run is looked for whole; the message is at most
    // MAX_MESSAGE_CHARS long, so each look is short.
    let short = |piece: &str| {
        let piece = piece.trim();
        !piece.is_empty() && piece.chars().count() < RUN && message.contains(piece)
    };
    short(raw) || (!delimiter.is_empty() && raw.split(delimiter).any(short))
}

/// Every run of [`RUN`] characters of `text`, in order.
fn runs_of(text: &str) -> impl Iterator<Item = &str> {
    let ends: Vec<usize> = text
        .char_indices()
        .map(|(i, _)| i)
        .chain(std::iter::once(text.len()))
        .collect();
    (0..ends.len().saturating_sub(RUN)).map(move |i| &text[ends[i]..ends[i + RUN]])
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
            scrub("invalid value 'HUNTER2X' at 3", "hunter2x", ","),
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
        assert_eq!(scrub("item 2 is bad", "qq,2", ","), WITHHELD);
    }

    #[test]
    fn a_message_sharing_four_characters_with_the_input_is_withheld() {
        // A `{s:?}` message around a quote: the quoted part is cut short by the inner quote.
        let raw = "ab\"cdefghSECRET";
        let message = format!("unknown mode {raw:?}");
        assert_eq!(scrub(&message, raw, ","), WITHHELD);
        // Escaped the way Debug escapes it: every run of the raw text is broken by a backslash.
        let raw = "a\"b\"c\"d\"e\"f";
        assert_eq!(scrub(&format!("no {raw:?}"), raw, ","), WITHHELD);
        assert_eq!(scrub("ends in CRET", "SECRET", ","), WITHHELD);
        assert_eq!(
            scrub("no overlap at all", "zzqzzqzz", ","),
            "no overlap at all"
        );
    }

    #[test]
    fn a_long_list_is_checked_item_by_item() {
        let raw = (0..20_000)
            .map(|i| format!("bad{i}"))
            .collect::<Vec<_>>()
            .join(",");
        let message = "item 1: invalid digit found in string";
        assert_eq!(scrub(message, &raw, ","), message);
        assert_eq!(scrub("item 1: bad19999", &raw, ","), WITHHELD);
    }

    #[test]
    fn long_inputs_are_truncated() {
        let shown = show_input(&"x".repeat(100));
        assert!(shown.ends_with("…\""));
        assert_eq!(shown.chars().filter(|c| *c == 'x').count(), 60);
    }
}
