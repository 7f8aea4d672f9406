//! Secure tokens: lengths, alphabets, uniqueness, and a chi-square test that characters are uniform.

#![cfg(feature = "token")]

use std::collections::{HashMap, HashSet};

use settings::ExposeSecret;
use settings::token::{self, DEFAULT_ALPHABET, DatabaseUrl, Password, TokenError};

#[test]
fn hex_and_urlsafe_tokens_have_the_right_length_and_alphabet() {
    for bytes in [1, 2, 3, 16, 31, 32, 64] {
        let hex = token::hex(bytes).unwrap();
        assert_eq!(hex.expose_secret().len(), bytes * 2);
        assert!(
            hex.expose_secret()
                .bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        );
        let url = token::urlsafe(bytes).unwrap();
        assert_eq!(url.expose_secret().len(), (bytes * 4).div_ceil(3));
        assert!(
            url.expose_secret()
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        );
    }
    assert!(matches!(token::hex(0), Err(TokenError::Length(_))));
}

#[test]
fn api_keys_carry_their_prefix() {
    let key = token::api_key("sk").unwrap();
    let text = key.expose_secret();
    assert!(text.starts_with("sk_"), "{text}");
    assert_eq!(text.len(), 3 + 43, "sk_ + 32 bytes in base64url");
    assert!(
        token::api_key("sk_")
            .unwrap()
            .expose_secret()
            .starts_with("sk_")
    );
    // The separator is not doubled: `sk_` + 43 characters. (Checking for a leading `sk__`
    // failed one run in 64: the body may itself start with `_`.)
    assert_eq!(token::api_key("sk_").unwrap().expose_secret().len(), 3 + 43);
    assert!(matches!(
        token::api_key("s k"),
        Err(TokenError::Alphabet(_))
    ));
    assert!(
        format!("{key:?}").contains("REDACTED"),
        "tokens are secrets"
    );
}

#[test]
fn passwords_use_their_alphabet_and_length() {
    let password = Password::of_length(24).generate().unwrap();
    assert_eq!(password.expose_secret().chars().count(), 24);
    assert!(
        password
            .expose_secret()
            .chars()
            .all(|c| DEFAULT_ALPHABET.contains(c))
    );
    let digits = Password {
        length: 12,
        alphabet: "0123456789".into(),
        each_class: false,
    }
    .generate()
    .unwrap();
    assert!(digits.expose_secret().chars().all(|c| c.is_ascii_digit()));
    assert!(matches!(
        Password {
            alphabet: "aab".into(),
            ..Password::default()
        }
        .generate(),
        Err(TokenError::Alphabet(_))
    ));
    assert!(matches!(
        Password {
            alphabet: String::new(),
            ..Password::default()
        }
        .generate(),
        Err(TokenError::Alphabet(_))
    ));
    assert!(matches!(
        Password::of_length(0).generate(),
        Err(TokenError::Length(_))
    ));
}

#[test]
fn each_class_puts_one_of_every_class_in_every_password() {
    let spec = Password {
        length: 4,
        each_class: true,
        ..Password::default()
    };
    for _ in 0..500 {
        let password = spec.generate().unwrap();
        let text = password.expose_secret();
        assert!(text.chars().any(|c| c.is_ascii_lowercase()), "{text}");
        assert!(text.chars().any(|c| c.is_ascii_uppercase()), "{text}");
        assert!(text.chars().any(|c| c.is_ascii_digit()), "{text}");
        assert!(text.chars().any(|c| "!@#$%^&*".contains(c)), "{text}");
    }
    let too_short = Password {
        length: 3,
        each_class: true,
        ..Password::default()
    };
    assert!(matches!(too_short.generate(), Err(TokenError::Length(_))));
}

#[test]
fn tokens_do_not_repeat() {
    let mut seen = HashSet::new();
    for _ in 0..20_000 {
        assert!(seen.insert(token::hex(16).unwrap().expose_secret().to_owned()));
    }
    let mut seen = HashSet::new();
    for _ in 0..20_000 {
        assert!(
            seen.insert(
                Password::of_length(16)
                    .generate()
                    .unwrap()
                    .expose_secret()
                    .to_owned()
            )
        );
    }
}

/// Pearson's chi-square statistic of `counts` against a uniform distribution.
fn chi_square(counts: &HashMap<char, usize>, categories: usize, total: usize) -> f64 {
    let expected = total as f64 / categories as f64;
    let observed = counts
        .values()
        .map(|&n| (n as f64 - expected).powi(2) / expected)
        .sum::<f64>();
    // Categories never drawn count too.
    observed + (categories - counts.len()) as f64 * expected
}

#[test]
fn password_characters_are_uniform() {
    // 70 characters: not a divisor of 256, so a modulo draw would favour the first 46 of them.
    let alphabet: Vec<char> = DEFAULT_ALPHABET.chars().collect();
    assert_eq!(alphabet.len(), 70);
    let mut counts: HashMap<char, usize> = HashMap::new();
    let mut total = 0;
    for _ in 0..2_000 {
        let password = Password::of_length(128).generate().unwrap();
        for c in password.expose_secret().chars() {
            *counts.entry(c).or_default() += 1;
            total += 1;
        }
    }
    let statistic = chi_square(&counts, alphabet.len(), total);
    // 69 degrees of freedom: mean 69; 140 is beyond the 1e-7 tail, so a fair generator
    // practically never fails, while the bias of `byte % 70` (about 1.2x for 46 characters)
    // gives a statistic in the thousands with this many draws.
    assert!(
        statistic < 140.0,
        "chi-square {statistic:.1} with 69 degrees of freedom"
    );

    // The same test catches a biased generator: check the test itself.
    let mut biased: HashMap<char, usize> = HashMap::new();
    for byte in 0..=255u8 {
        for _ in 0..1_000 {
            *biased.entry(alphabet[usize::from(byte) % 70]).or_default() += 1;
        }
    }
    assert!(chi_square(&biased, 70, 256_000) > 1_000.0);
}

#[test]
fn database_urls_percent_encode_the_password() {
    let spec = DatabaseUrl {
        scheme: "postgres".into(),
        user: "etl".into(),
        host: "db.internal".into(),
        port: Some(5432),
        database: "orders".into(),
        password: Password {
            length: 32,
            alphabet: "ab@:/#%?".into(),
            each_class: false,
        },
    };
    let url = spec.generate().unwrap();
    let text = url.expose_secret();
    let rest = text.strip_prefix("postgres://etl:").unwrap();
    let (password, host) = rest.split_once('@').unwrap();
    assert_eq!(host, "db.internal:5432/orders");
    assert!(!password.contains(['@', ':', '/', '#', '?']), "{password}");
    // Decoding gives 32 characters of the alphabet back.
    let mut decoded = String::new();
    let mut chars = password.chars();
    while let Some(c) = chars.next() {
        if c == '%' {
            let hex: String = chars.by_ref().take(2).collect();
            decoded.push(char::from(u8::from_str_radix(&hex, 16).unwrap()));
        } else {
            decoded.push(c);
        }
    }
    assert_eq!(decoded.chars().count(), 32);
    assert!(decoded.chars().all(|c| "ab@:/#%?".contains(c)));
}
