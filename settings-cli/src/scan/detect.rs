//! Finding secrets in a text: the known formats through one automaton over their prefixes, URLs
//! with a password, and high-entropy literals assigned to names that say they hold a secret.

use std::sync::OnceLock;

use aho_corasick::{AhoCorasick, MatchKind};

use super::known::{self, RULES, Rule};

/// One secret found: the rule, and where its value sits in the text (bytes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    pub rule: &'static str,
    pub description: &'static str,
    pub start: usize,
    pub end: usize,
}

/// The rules that are not prefixes: their names and descriptions.
pub const URL_PASSWORD: (&str, &str) = ("url-password", "URL with a password");
pub const AWS_SECRET_KEY: (&str, &str) = ("aws-secret-access-key", "AWS secret access key");
pub const ASSIGNED_SECRET: (&str, &str) = (
    "assigned-secret",
    "high-entropy literal assigned to a key, token, secret or password",
);

/// Every prefix of every known rule, and which rule it belongs to.
struct Automaton {
    matcher: AhoCorasick,
    owners: Vec<(&'static str, &'static Rule)>,
}

fn automaton() -> &'static Automaton {
    static AUTOMATON: OnceLock<Automaton> = OnceLock::new();
    AUTOMATON.get_or_init(|| {
        let mut owners = Vec::new();
        for rule in RULES {
            for prefix in rule.prefixes {
                owners.push((*prefix, rule));
            }
        }
        // `://` finds URLs with a password; `=` and `:` are not searched for: the assignment
        // rule looks at lines that name a secret.
        let mut patterns: Vec<&str> = owners.iter().map(|(p, _)| *p).collect();
        patterns.push("://");
        let matcher = AhoCorasick::builder()
            .match_kind(MatchKind::Standard)
            .build(&patterns)
            .expect("the prefixes are plain strings");
        Automaton { matcher, owners }
    })
}

/// Every secret in `text`, in order, without overlaps; lines holding `settings-scan:allow` are
/// skipped.
pub fn detect(text: &str) -> Vec<Hit> {
    let automaton = automaton();
    let mut hits: Vec<Hit> = Vec::new();
    for found in automaton.matcher.find_overlapping_iter(text) {
        let start = found.start();
        let Some((prefix, rule)) = automaton.owners.get(found.pattern().as_usize()) else {
            if let Some(hit) = url_password(text, start) {
                hits.push(hit);
            }
            continue;
        };
        if let Some(end) = known::match_at(text, start, prefix, rule)
            && !known::is_placeholder(&text[start..end])
        {
            hits.push(Hit {
                rule: rule.id,
                description: rule.description,
                start,
                end,
            });
        }
    }
    assigned_secrets(text, &mut hits);
    hits.sort_by_key(|h| (h.start, std::cmp::Reverse(h.end)));
    let mut kept: Vec<Hit> = Vec::new();
    for hit in hits {
        if kept.last().is_some_and(|last| hit.start < last.end) {
            continue;
        }
        kept.push(hit);
    }
    kept.retain(|hit| !allowed(text, hit.start));
    kept
}

/// True when the line of `at` says its secret is accepted: `settings-scan:allow`.
fn allowed(text: &str, at: usize) -> bool {
    let start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    let end = text[at..].find('\n').map_or(text.len(), |i| at + i);
    text[start..end].contains("settings-scan:allow")
}

/// `scheme://user:password@host`, the password found at `://` (`at`).
fn url_password(text: &str, at: usize) -> Option<Hit> {
    let bytes = text.as_bytes();
    let scheme_start = text[..at]
        .rfind(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '+' | '.' | '-')))
        .map_or(0, |i| i + 1);
    if scheme_start == at || !bytes[scheme_start].is_ascii_alphabetic() {
        return None;
    }
    let rest = &text[at + 3..];
    let authority_end = rest
        .find(|c: char| {
            c == '/'
                || c == '?'
                || c == '#'
                || c.is_whitespace()
                || matches!(c, '"' | '\'' | '`' | '<' | '>')
        })
        .unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    let at_sign = authority.rfind('@')?;
    let userinfo = &authority[..at_sign];
    let (user, password) = userinfo.split_once(':')?;
    if password.len() < 4 || user.is_empty() || authority[at_sign + 1..].is_empty() {
        return None;
    }
    let lower = password.to_ascii_lowercase();
    let placeholder = known::is_placeholder(password)
        || password.starts_with('$')
        || password.starts_with('%')
        || password.contains('{')
        || password.chars().all(|c| c == '*' || c == 'x' || c == 'X')
        || [
            "password", "passwd", "secret", "pass", "pwd", "user", "admin", "root", "guest",
            "postgres",
        ]
        .contains(&lower.as_str());
    if placeholder {
        return None;
    }
    let start = at + 3 + user.len() + 1;
    Some(Hit {
        rule: URL_PASSWORD.0,
        description: URL_PASSWORD.1,
        start,
        end: start + password.len(),
    })
}

/// Names that say a value is a secret.
const SECRET_WORDS: &[&str] = &[
    "key",
    "token",
    "secret",
    "password",
    "passwd",
    "pwd",
    "credential",
];

/// High-entropy literals assigned to such names, in the assignment forms of Python, Rust,
/// JavaScript/TypeScript, YAML, TOML, JSON and `.env` files: `name = "v"`, `name: v`,
/// `"name": "v"`, `NAME=v`, `name := "v"`, `name => "v"`.
fn assigned_secrets(text: &str, hits: &mut Vec<Hit>) {
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let lower = line.to_ascii_lowercase();
        if SECRET_WORDS.iter().any(|w| lower.contains(w))
            && let Some((start, end)) = assignment(line)
        {
            // An AWS secret key has no prefix: 40 characters of base64, under an AWS name.
            let value = &line[start..end];
            let aws = lower.contains("aws")
                && lower.contains("secret")
                && value.len() == 40
                && value
                    .bytes()
                    .all(|c| c.is_ascii_alphanumeric() || c == b'/' || c == b'+');
            let (rule, description) = if aws { AWS_SECRET_KEY } else { ASSIGNED_SECRET };
            hits.push(Hit {
                rule,
                description,
                start: offset + start,
                end: offset + end,
            });
        }
        offset += line.len();
    }
}

/// The value of `line`'s assignment, when its name says secret and its value looks like one.
fn assignment(line: &str) -> Option<(usize, usize)> {
    let bytes = line.as_bytes();
    // The operator: the first `=`, `:` or `:=` / `=>` outside quotes.
    let mut quote = None;
    let mut op = None;
    for (i, &c) in bytes.iter().enumerate() {
        match (quote, c) {
            (Some(q), _) if c == q => quote = None,
            (Some(_), _) => {}
            (None, b'"' | b'\'' | b'`') => quote = Some(c),
            (None, b'=' | b':') => {
                // `==`, `!=`, `::`, `<=`, `>=` are not assignments; `://` is a URL.
                let next = bytes.get(i + 1).copied();
                let prev = i.checked_sub(1).map(|p| bytes[p]);
                if matches!(next, Some(b'=')) && c == b'='
                    || matches!(prev, Some(b'!' | b'<' | b'>' | b'='))
                    || (c == b':' && matches!(next, Some(b':' | b'/')))
                {
                    return None;
                }
                op = Some(i);
                break;
            }
            _ => {}
        }
    }
    let mut op = op?;
    let name_end = op;
    // `name: Type = "value"` (Rust, TypeScript): the type annotation is not the value.
    if bytes[op] == b':' {
        let rest = &line[op + 1..];
        if let Some(eq) = rest.find('=')
            && !rest[..eq].contains(['"', '\'', '`'])
            && rest[..eq].trim().chars().all(|c| {
                c.is_alphanumeric()
                    || matches!(c, '&' | '\'' | '<' | '>' | '_' | ' ' | ':' | '[' | ']')
            })
            && !rest[eq + 1..].starts_with('=')
        {
            op = op + 1 + eq;
        }
    }
    let name = line[..name_end]
        .trim()
        .trim_end_matches(':')
        .trim_matches(|c| matches!(c, '"' | '\'' | '`'))
        .rsplit(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')))
        .next()?
        .to_ascii_lowercase();
    if name.is_empty() || !SECRET_WORDS.iter().any(|w| name.contains(w)) {
        return None;
    }
    // Names that hold something else: `token_url`, `key_id`, `public_key`, `password_file`.
    if [
        "url", "uri", "file", "path", "_id", "public", "name", "length", "len", "type", "endpoint",
        "header", "env", "var", "ttl", "expir", "count",
    ]
    .iter()
    .any(|w| name.contains(w))
    {
        return None;
    }
    let mut value_start = op + 1;
    if matches!(bytes.get(value_start), Some(b'=' | b'>')) {
        value_start += 1;
    }
    while bytes
        .get(value_start)
        .is_some_and(|c| c.is_ascii_whitespace())
    {
        value_start += 1;
    }
    // A string prefix: Rust's r"..." and b"...", Python's r"..." and f"...".
    if matches!(bytes.get(value_start), Some(b'r' | b'b' | b'f'))
        && matches!(bytes.get(value_start + 1), Some(b'"' | b'\''))
    {
        value_start += 1;
    }
    let (start, end) = match bytes.get(value_start) {
        Some(&q @ (b'"' | b'\'' | b'`')) => {
            let start = value_start + 1;
            let end = start + line[start..].find(char::from(q))?;
            (start, end)
        }
        Some(_) => {
            let start = value_start;
            let end = start
                + line[start..]
                    .find(|c: char| c.is_whitespace() || matches!(c, ',' | ';' | '#' | ')' | '}'))
                    .unwrap_or(line.len() - start);
            // Unquoted in code, a value is a name: `_bindgen_ty_7::TOKEN`, `self.api_key`.
            let value = &line[start..end];
            let path = value.contains("::")
                || (value.contains('.')
                    && value
                        .bytes()
                        .all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'.'));
            if path {
                return None;
            }
            (start, end)
        }
        None => return None,
    };
    let value = &line[start..end];
    looks_secret(value).then_some((start, end))
}

/// A literal that reads like a generated secret: long enough, letters and digits, high entropy,
/// and not a reference, a variable, a placeholder or an identifier.
pub fn looks_secret(value: &str) -> bool {
    if value.len() < 16 || value.len() > 512 {
        return false;
    }
    let lower = value.to_ascii_lowercase();
    let reference = [
        "vault:",
        "ssm:",
        "secretsmanager:",
        "literal:",
        "env:",
        "file:",
        "http://",
        "https://",
    ]
    .iter()
    .any(|p| lower.starts_with(p));
    if reference || known::is_placeholder(value) || value.contains('$') || value.contains('(') {
        return false;
    }
    // Secrets hold no blanks and no backslashes (a Windows path, an escape sequence).
    if value.contains(char::is_whitespace) || value.contains('\\') {
        return false;
    }
    let digits = value.bytes().any(|c| c.is_ascii_digit());
    let letters = value.bytes().any(|c| c.is_ascii_alphabetic());
    if !(digits && letters) {
        return false;
    }
    // A UUID or a hash of hex digits is an identifier more often than a secret.
    let hexish = value.bytes().all(|c| c.is_ascii_hexdigit() || c == b'-');
    if hexish {
        return false;
    }
    entropy(value) >= 3.5
}

/// Shannon entropy in bits per character.
pub fn entropy(value: &str) -> f64 {
    let mut counts = [0u32; 256];
    for c in value.bytes() {
        counts[usize::from(c)] += 1;
    }
    let n = value.len() as f64;
    counts
        .iter()
        .filter(|c| **c > 0)
        .map(|c| {
            let p = f64::from(*c) / n;
            -p * p.log2()
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(text: &str) -> Vec<&'static str> {
        detect(text).iter().map(|h| h.rule).collect()
    }

    #[test]
    fn assignments_in_each_language() {
        for line in [
            "API_KEY=q8Zt3Lx9Vb2Nm7Kp4Rw1Yc6",
            "api_key = \"q8Zt3Lx9Vb2Nm7Kp4Rw1Yc6\"",
            "const apiToken = 'q8Zt3Lx9Vb2Nm7Kp4Rw1Yc6';",
            "let secret: &str = \"q8Zt3Lx9Vb2Nm7Kp4Rw1Yc6\";",
            "  password: q8Zt3Lx9Vb2Nm7Kp4Rw1Yc6",
            "{\"client_secret\": \"q8Zt3Lx9Vb2Nm7Kp4Rw1Yc6\"}",
            "auth_token := \"q8Zt3Lx9Vb2Nm7Kp4Rw1Yc6\"",
        ] {
            assert_eq!(rules(line), ["assigned-secret"], "{line}");
        }
    }

    #[test]
    fn not_secrets() {
        for line in [
            "API_KEY=vault:secret/app#API_KEY",
            "api_key = os.environ[\"API_KEY\"]",
            "password: ${DB_PASSWORD}",
            "token_url = \"https://auth.example.com/oauth/token\"",
            "secret = \"changeme-changeme-changeme\"",
            "key_id = \"550e8400-e29b-41d4-a716-446655440000\"",
            "checksum_key = \"d41d8cd98f00b204e9800998ecf8427e\"",
            "password = \"\"",
            "if password == \"q8Zt3Lx9Vb2Nm7Kp4Rw1Yc6\" {",
            "pub const IFLA_INET6_TOKEN: _bindgen_ty_7 = _bindgen_ty_7::IFLA_INET6_TOKEN;",
            "let key = r\"SOFTWARE\\WOW6432Node\\Microsoft\\VisualStudio\\SxS\\VS7\";",
            "let authority_str = \"[fe80::1:2:3:4%25eth0]\";",
            "api_key = self.config.api_key2",
            "DATABASE_URL=postgres://etl:${DB_PASSWORD}@db/app",
            "url = \"postgres://user:password@localhost/db\"",
            "api_key = \"q8Zt3Lx9Vb2Nm7Kp4Rw1Yc6\" # settings-scan:allow",
        ] {
            assert!(rules(line).is_empty(), "{line}: {:?}", rules(line));
        }
    }

    #[test]
    fn an_aws_secret_key_is_named_as_such() {
        for line in [
            "aws_secret_access_key = 9xK2mP7vQ4rT1wZ8yB3nC6dF0gH5jL2kM4pR7sT1",
            "AWS_SECRET_ACCESS_KEY=9xK2mP7vQ4rT1wZ8yB3nC6dF0gH5jL2kM4pR7sT1",
            "  \"awsSecretKey\": \"9xK2mP7vQ4rT1wZ8yB3nC6dF0gH5jL2kM4pR/+T1\"",
        ] {
            assert_eq!(rules(line), ["aws-secret-access-key"], "{line}");
        }
        assert!(
            rules("aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY").is_empty()
        );
    }

    #[test]
    fn urls_with_a_password() {
        let text = "DATABASE_URL=postgres://etl:Zk8%21q2Lm9x@db.internal:5432/app";
        let hits = detect(text);
        assert_eq!(hits.len(), 1, "{hits:?}");
        assert_eq!(hits[0].rule, "url-password");
        assert_eq!(&text[hits[0].start..hits[0].end], "Zk8%21q2Lm9x");
    }
}
