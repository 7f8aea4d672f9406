//! The formats of secrets people leak, each a named rule: a prefix the issuer puts on its keys,
//! then a body of a known alphabet and length. The derive uses them to refuse a hardcoded secret
//! default; `settings scan` (which has this very file as `src/scan/known.rs`) finds them in
//! files, with all the prefixes in one automaton. No dependencies, so the derive stays light.

/// The alphabet of a rule's body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Alphabet {
    /// `A-Z 0-9`.
    UpperDigits,
    /// `A-Z a-z 0-9`.
    Alnum,
    /// `0-9 a-f A-F`.
    Hex,
    /// `A-Z a-z 0-9 _ -`.
    Base64Url,
    /// `A-Z a-z 0-9 _`.
    Word,
    /// `A-Z a-z 0-9 -`.
    AlnumDash,
    /// `A-Z a-z 0-9 /`: the path of a webhook.
    Path,
}

impl Alphabet {
    fn contains(self, c: u8) -> bool {
        match self {
            Alphabet::UpperDigits => c.is_ascii_uppercase() || c.is_ascii_digit(),
            Alphabet::Alnum => c.is_ascii_alphanumeric(),
            Alphabet::Hex => c.is_ascii_hexdigit(),
            Alphabet::Base64Url => c.is_ascii_alphanumeric() || c == b'_' || c == b'-',
            Alphabet::Word => c.is_ascii_alphanumeric() || c == b'_',
            Alphabet::AlnumDash => c.is_ascii_alphanumeric() || c == b'-',
            Alphabet::Path => c.is_ascii_alphanumeric() || c == b'/',
        }
    }
}

/// What follows a rule's prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Body {
    /// A run of `alphabet`, `min..=max` long, not followed by another character of it.
    Run {
        alphabet: Alphabet,
        min: usize,
        max: usize,
    },
    /// A PEM private key header: `-----BEGIN [RSA |EC |OPENSSH |...]PRIVATE KEY-----`.
    PrivateKey,
    /// A JWT: `eyJ...` then two more base64url segments after dots.
    Jwt,
}

/// One format.
#[derive(Debug, PartialEq, Eq)]
pub struct Rule {
    /// Its name in findings, `aws-access-key-id`.
    pub id: &'static str,
    /// What it finds, for a person.
    pub description: &'static str,
    /// What a key of this format starts with.
    pub prefixes: &'static [&'static str],
    pub body: Body,
}

const fn run(alphabet: Alphabet, min: usize, max: usize) -> Body {
    Body::Run { alphabet, min, max }
}

/// Every known format.
pub const RULES: &[Rule] = &[
    Rule {
        id: "aws-access-key-id",
        description: "AWS access key id",
        prefixes: &["AKIA", "ASIA", "ABIA", "ACCA"],
        body: run(Alphabet::UpperDigits, 16, 16),
    },
    Rule {
        id: "github-token",
        description: "GitHub token (personal, OAuth, app, refresh)",
        prefixes: &["ghp_", "gho_", "ghs_", "ghu_", "ghr_"],
        body: run(Alphabet::Alnum, 36, 36),
    },
    Rule {
        id: "github-fine-grained-token",
        description: "GitHub fine-grained personal access token",
        prefixes: &["github_pat_"],
        body: run(Alphabet::Word, 60, 100),
    },
    Rule {
        id: "gitlab-token",
        description: "GitLab personal access token",
        prefixes: &["glpat-"],
        body: run(Alphabet::Base64Url, 20, 64),
    },
    Rule {
        id: "slack-token",
        description: "Slack token",
        prefixes: &["xoxb-", "xoxp-", "xoxa-", "xoxr-", "xoxs-", "xapp-"],
        body: run(Alphabet::AlnumDash, 20, 255),
    },
    Rule {
        id: "slack-webhook",
        description: "Slack incoming webhook URL",
        prefixes: &["https://hooks.slack.com/services/"],
        body: run(Alphabet::Path, 30, 120),
    },
    Rule {
        id: "stripe-live-key",
        description: "Stripe live secret or restricted key",
        prefixes: &["sk_live_", "rk_live_"],
        body: run(Alphabet::Alnum, 24, 247),
    },
    Rule {
        id: "shopify-token",
        description: "Shopify access token",
        prefixes: &["shpat_", "shppa_", "shpca_", "shpss_"],
        body: run(Alphabet::Hex, 32, 32),
    },
    Rule {
        id: "anthropic-key",
        description: "Anthropic API key",
        prefixes: &["sk-ant-"],
        body: run(Alphabet::Base64Url, 80, 200),
    },
    Rule {
        id: "openai-key",
        description: "OpenAI API key",
        prefixes: &["sk-proj-", "sk-svcacct-", "sk-admin-"],
        body: run(Alphabet::Base64Url, 40, 300),
    },
    Rule {
        id: "openai-key-legacy",
        description: "OpenAI API key (legacy form)",
        prefixes: &["sk-"],
        body: run(Alphabet::Alnum, 48, 48),
    },
    Rule {
        id: "google-api-key",
        description: "Google API key",
        prefixes: &["AIza"],
        body: run(Alphabet::Base64Url, 35, 35),
    },
    Rule {
        id: "private-key",
        description: "private key block",
        prefixes: &["-----BEGIN "],
        body: Body::PrivateKey,
    },
    Rule {
        id: "jwt",
        description: "JSON Web Token",
        prefixes: &["eyJ"],
        body: Body::Jwt,
    },
    Rule {
        id: "settings-api-key",
        description: "API key made by `settings token api-key`",
        prefixes: &["sk_"],
        body: run(Alphabet::Base64Url, 43, 43),
    },
];

/// A secret of a known format in a text: the rule and the byte range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Found {
    pub rule: &'static Rule,
    pub start: usize,
    pub end: usize,
}

/// The end of a secret of `rule` whose prefix `prefix` starts at `start` in `text`, if one does.
pub fn match_at(text: &str, start: usize, prefix: &str, rule: &'static Rule) -> Option<usize> {
    let bytes = text.as_bytes();
    // A prefix glued to a word is part of something else (`TASIA...`, `mask_...`).
    if start > 0 {
        let before = bytes[start - 1];
        if before.is_ascii_alphanumeric() || before == b'_' {
            return None;
        }
    }
    let body = start + prefix.len();
    match rule.body {
        Body::Run { alphabet, min, max } => {
            let length = bytes[body.min(bytes.len())..]
                .iter()
                .take_while(|c| alphabet.contains(**c))
                .count();
            (min..=max).contains(&length).then_some(body + length)
        }
        Body::PrivateKey => {
            let rest = &text[body..];
            let end = rest.find("PRIVATE KEY-----")?;
            let kind = &rest[..end];
            (kind.len() <= 20 && kind.bytes().all(|c| c.is_ascii_uppercase() || c == b' '))
                .then_some(body + end + "PRIVATE KEY-----".len())
        }
        Body::Jwt => {
            let mut at = start;
            for segment in 0..3 {
                let length = bytes[at..]
                    .iter()
                    .take_while(|c| Alphabet::Base64Url.contains(**c))
                    .count();
                if length < 10 {
                    return None;
                }
                at += length;
                if segment < 2 {
                    if bytes.get(at) != Some(&b'.') {
                        return None;
                    }
                    at += 1;
                    if segment == 0 && !text[at..].starts_with("eyJ") {
                        return None;
                    }
                }
            }
            Some(at)
        }
    }
}

/// Every secret of a known format in `text`, in order; a placeholder is not one.
pub fn find_all(text: &str) -> Vec<Found> {
    let mut found: Vec<Found> = Vec::new();
    for rule in RULES {
        for prefix in rule.prefixes {
            for (start, _) in text.match_indices(prefix) {
                if let Some(end) = match_at(text, start, prefix, rule)
                    && !is_placeholder(&text[start..end])
                    && !found.iter().any(|f| f.start < end && start < f.end)
                {
                    found.push(Found { rule, start, end });
                }
            }
        }
    }
    found.sort_by_key(|f| f.start);
    found
}

/// A value that stands for a secret without being one: a documentation example, a run of
/// `x`s, a template.
pub fn is_placeholder(value: &str) -> bool {
    let lower = value.to_ascii_lowercase();
    const WORDS: &[&str] = &[
        "example",
        "xxxx",
        "changeme",
        "change_me",
        "your",
        "dummy",
        "placeholder",
        "redacted",
        "sample",
        "fake",
        "test_only",
        "<",
        "${",
        "{{",
        "...",
        "****",
    ];
    if WORDS.iter().any(|w| lower.contains(w)) {
        return true;
    }
    // A body that repeats one character (`AKIA0000000000000000`).
    let tail: Vec<u8> = value.bytes().rev().take(12).collect();
    tail.len() >= 12 && tail.iter().all(|c| *c == tail[0])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(text: &str) -> Vec<&'static str> {
        find_all(text).iter().map(|f| f.rule.id).collect()
    }

    #[test]
    fn each_rule_finds_its_format() {
        let cases = [
            ("AKIA2OGYBAH63UIQY5TQ", "aws-access-key-id"),
            ("ghp_1a2B3c4D5e6F7g8H9i0J1k2L3m4N5o6P7q8R", "github-token"),
            (
                "github_pat_11ABCDEFG0123456789abc_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456",
                "github-fine-grained-token",
            ),
            ("glpat-4Rq9vT2xLm8Zk1Pw7Nb3", "gitlab-token"),
            (
                "xoxb-2417283910-2417283911-Ab3dE5fG7hI9jK1lM3nO5pQ7",
                "slack-token",
            ),
            (
                "https://hooks.slack.com/services/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",
                "slack-webhook",
            ),
            (
                "sk_live_4eC39HqLyjWDarjtT1zdp7dcTYooMQauvdEDq54Nio",
                "stripe-live-key",
            ),
            ("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", "shopify-token"),
            ("AIzaSyD4-kLm9Qr2Tv8Wx1Yz3Ab5Cd7Ef9Gh0Ij", "google-api-key"),
            ("-----BEGIN OPENSSH PRIVATE KEY-----", "private-key"),
            ("-----BEGIN PRIVATE KEY-----", "private-key"),
            (
                "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
                "jwt",
            ),
            (
                "sk_Qh3Kp9Zx2Lm7Vt4Rw8Ny1Bc6Df0Gj5Hs3Ak9Pe2Qu7W",
                "settings-api-key",
            ),
        ];
        for (text, id) in cases {
            assert_eq!(ids(&format!("key = \"{text}\"")), [id], "{text}");
        }
    }

    #[test]
    fn look_alikes_are_not_findings() {
        for text in [
            "AKIAIOSFODNN7EXAMPLE",
            "TAKIA2OGYBAH63UIQY5TQ",
            "AKIA2OGYBAH63UIQY5TQX",
            "ghp_short",
            "sk_live_xxxxxxxxxxxxxxxxxxxxxxxx",
            "vault:secret/app#STRIPE_KEY",
            "${GITHUB_TOKEN}",
            "-----BEGIN PUBLIC KEY-----",
            "-----BEGIN CERTIFICATE-----",
            "550e8400-e29b-41d4-a716-446655440000",
            "d41d8cd98f00b204e9800998ecf8427e",
            "eyJhbGciOi.notajwt",
        ] {
            assert!(ids(text).is_empty(), "{text}: {:?}", ids(text));
        }
    }
}
