//! A secret's value never appears in Debug, Display, an error, a report or a panic.

#![allow(dead_code)] // Fields are read only through Debug, which dead-code analysis ignores.

use std::panic;
use std::str::FromStr;

use proptest::prelude::*;
use settings::{ExposeSecret, ProblemKind, SecretBox, SecretString, Settings};

/// A parser that repeats its input in its error, as many real parsers do.
#[derive(Debug)]
struct Echoing(String);

impl FromStr for Echoing {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        if s.starts_with("ok") {
            Ok(Echoing(s.to_owned()))
        } else {
            Err(format!("cannot use {s} here; quoted: '{s}'"))
        }
    }
}

fn echo_parse(raw: &str) -> Result<u64, String> {
    raw.parse().map_err(|_| format!("bad value {raw}"))
}

#[derive(Settings)]
struct Secrets {
    /// An API token
    token: SecretString,
    pin: SecretBox<u32>,
    #[settings(secret)]
    dsn: String,
    #[settings(secret)]
    echoing: Echoing,
    #[settings(secret, parse_with = echo_parse)]
    custom: u64,
    keys: Vec<SecretString>,
    #[settings(secret)]
    ports: Vec<u16>,
    maybe: Option<SecretString>,
    #[settings(secret, default = "fallback-password")]
    defaulted: String,
    visible: String,
}

/// A parser that quotes its input the way `{:?}` does: quotes and backslashes escaped.
#[derive(Debug)]
struct Mode;

impl FromStr for Mode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        if s == "fast" {
            Ok(Mode)
        } else {
            Err(format!("unknown mode {s:?}"))
        }
    }
}

fn parse_token(raw: &str) -> Result<SecretString, String> {
    if raw.starts_with("tok_") {
        Ok(SecretString::from(raw.to_owned()))
    } else {
        Err(format!("not a token: {raw}"))
    }
}

/// Secret fields whose parsers quote or echo their input in ways the first scrubber missed.
#[derive(Settings)]
struct Quoting {
    #[settings(secret)]
    mode: Mode,
    /// A secret type stays secret whatever parses it.
    #[settings(parse_with = parse_token)]
    token: SecretString,
}

/// Every way a load of [`Quoting`] can be formatted.
fn quoting_output(mode: &str, token: &str) -> String {
    let vars = [("MODE", mode), ("TOKEN", token)];
    match Quoting::from_source_with_report(&settings::Vars::new(vars)) {
        Ok((q, report)) => format!("{q:?}\n{report}\n{report:?}"),
        Err(err) => format!("{err}\n{err:?}\n{:?}", err.problems()),
    }
}

#[test]
fn parse_with_on_a_secret_type_keeps_it_secret() {
    let loaded = quoting_output("fast", "tok_s3cret-value");
    assert!(loaded.contains("TOKEN = [REDACTED]"), "{loaded}");
    assert!(!loaded.contains("s3cret"), "{loaded}");
    let failed = quoting_output("fast", "bad_s3cret-value");
    assert!(failed.contains("TOKEN from given variables"), "{failed}");
    assert!(!failed.contains("s3cret"), "{failed}");
}

#[test]
fn a_quote_inside_a_secret_does_not_end_its_redaction() {
    let failed = quoting_output("ab\"cdefghSECRET", "tok_x");
    assert!(failed.contains("MODE from given variables"), "{failed}");
    assert!(!failed.contains("SECRET"), "{failed}");
}

/// The first run of `len` characters of `secret` that appears in `output`, if any.
fn shared_run(secret: &str, output: &str, len: usize) -> Option<String> {
    let chars: Vec<char> = secret.chars().collect();
    if chars.len() < len {
        return output.contains(secret).then(|| secret.to_owned());
    }
    chars
        .windows(len)
        .map(|w| w.iter().collect::<String>())
        .find(|run| output.contains(run.as_str()))
}

fn valid(secret: &str) -> Vec<(String, String)> {
    [
        ("TOKEN", secret.to_owned()),
        ("PIN", "1234".to_owned()),
        ("DSN", format!("postgres://u:{secret}@db")),
        ("ECHOING", format!("ok{secret}")),
        ("CUSTOM", "1".to_owned()),
        ("KEYS", format!("{secret},other")),
        ("PORTS", "1,2".to_owned()),
        ("MAYBE", secret.to_owned()),
        ("VISIBLE", "shown".to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

/// Every secret field set to something invalid that contains `secret`.
fn invalid(secret: &str) -> Vec<(String, String)> {
    [
        ("PIN", format!("{secret}x")),
        ("ECHOING", secret.to_owned()),
        ("CUSTOM", secret.to_owned()),
        ("PORTS", format!("1,{secret}x,3")),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

/// Every way a load or a loaded struct can be formatted.
fn all_output(vars: Vec<(String, String)>) -> String {
    let mut out = String::new();
    match Secrets::from_vars(vars.clone()) {
        Ok(s) => {
            out.push_str(&format!("{s:?}\n{s:#?}\n"));
        }
        Err(err) => {
            out.push_str(&format!("{err}\n{err:?}\n{err:#?}\n"));
            for problem in err.problems() {
                out.push_str(&format!("{problem}\n{problem:?}\n"));
            }
        }
    }
    if let Ok((_, report)) = Secrets::from_source_with_report(&settings::Vars::new(vars)) {
        out.push_str(&format!("{report}\n{report:?}\n"));
    }
    out
}

#[test]
fn debug_redacts_every_secret_field() {
    let s = Secrets::from_vars(valid("hunter2-value")).unwrap();
    assert_eq!(s.token.expose_secret(), "hunter2-value");
    assert_eq!(*s.pin.expose_secret(), 1234);
    assert_eq!(s.defaulted, "fallback-password");
    let debug = format!("{s:?}");
    assert_eq!(
        debug,
        "Secrets { token: [REDACTED], pin: [REDACTED], dsn: [REDACTED], echoing: [REDACTED], \
         custom: [REDACTED], keys: [REDACTED], ports: [REDACTED], maybe: Some([REDACTED]), \
         defaulted: [REDACTED], visible: \"shown\" }"
    );
    let mut vars = valid("hunter2-value");
    vars.retain(|(k, _)| k != "MAYBE");
    let s = Secrets::from_vars(vars).unwrap();
    assert!(format!("{s:?}").contains("maybe: None"));
}

#[test]
fn errors_for_secret_fields_never_echo_the_input() {
    let err = Secrets::from_vars(invalid("hunter2-value")).unwrap_err();
    let text = err.to_string();
    assert!(!text.contains("hunter2"), "{text}");
    // The problems say what is wrong without the value.
    let reasons: Vec<_> = err
        .problems()
        .iter()
        .filter_map(|p| match &p.kind {
            ProblemKind::Invalid { reason, input, .. } => {
                assert!(input.is_none(), "{p:?}");
                Some(reason.as_str())
            }
            _ => None,
        })
        .collect();
    assert_eq!(
        reasons,
        [
            "invalid digit found in string",
            "the parser's message is withheld because it could reveal the secret value",
            "the parser's message is withheld because it could reveal the secret value",
            "item 2: invalid digit found in string",
        ]
    );
    assert!(text.contains("PIN from given variables: expected u32 (an integer from 0 to 4294967295) (secret): invalid digit found in string"), "{text}");
}

#[test]
fn a_quoted_echo_is_withheld_and_a_transformed_one_redacted() {
    #[derive(Debug)]
    struct Quoting;
    impl FromStr for Quoting {
        type Err = String;
        fn from_str(s: &str) -> Result<Self, String> {
            match s.strip_prefix("upper:") {
                Some(rest) => Err(format!(
                    "unknown key '{}' (keys start with sk_)",
                    rest.to_uppercase()
                )),
                None => Err(format!("unknown key '{s}' (keys start with sk_)")),
            }
        }
    }
    #[derive(Settings)]
    struct Q {
        #[settings(secret)]
        key: Quoting,
    }
    // The message holds the input: it is withheld whole.
    let text = Q::from_vars([("KEY", "pk_live_123456")])
        .unwrap_err()
        .to_string();
    assert!(
        text.contains("expected Quoting (secret): the parser's message is withheld"),
        "{text}"
    );
    assert!(!text.contains("pk_live"), "{text}");
    // It quotes a transformed input: the quoted part is redacted, the rest kept.
    let text = Q::from_vars([("KEY", "upper:pklivekey")])
        .unwrap_err()
        .to_string();
    assert!(
        text.contains("expected Quoting (secret): unknown key [REDACTED] (keys start with sk_)"),
        "{text}"
    );
    assert!(!text.to_lowercase().contains("pklive"), "{text}");
}

#[test]
fn the_report_shows_values_of_plain_fields_only() {
    let (_, report) =
        Secrets::from_source_with_report(&settings::Vars::new(valid("hunter2-value"))).unwrap();
    let text = report.to_string();
    assert!(!text.contains("hunter2"), "{text}");
    assert!(!text.contains("fallback-password"), "{text}");
    assert!(
        text.contains("  TOKEN = [REDACTED] (from given variables)"),
        "{text}"
    );
    assert!(
        text.contains("  DEFAULTED = [REDACTED] (default)"),
        "{text}"
    );
    assert!(
        text.contains("  VISIBLE = shown (from given variables)"),
        "{text}"
    );
    assert!(
        report
            .entries()
            .iter()
            .filter(|e| e.secret)
            .all(|e| e.value.is_none())
    );
}

#[test]
fn secrets_do_not_reach_panic_messages() {
    let previous = panic::take_hook();
    panic::set_hook(Box::new(|_| {}));
    let failed = panic::catch_unwind(|| Secrets::from_vars(invalid("hunter2-value")).unwrap());
    let loaded = panic::catch_unwind(|| {
        let s = Secrets::from_vars(valid("hunter2-value")).unwrap();
        panic!("pipeline failed with {s:?}");
    });
    panic::set_hook(previous);
    for payload in [failed.unwrap_err(), loaded.unwrap_err()] {
        let message = payload
            .downcast_ref::<String>()
            .cloned()
            .unwrap_or_default();
        assert!(!message.is_empty());
        assert!(!message.contains("hunter2"), "{message}");
    }
}

/// Secret-looking values: long enough that they cannot appear in a message by chance.
fn secret_value() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z0-9]{10,40}",
        "[!-~]{10,40}",
        "\\PC{10,30}",
        // All of Unicode, control characters, quotes and backslashes included.
        "(?s).{10,30}",
        "[\"'`\\\\a-zA-Z0-9]{10,40}",
        "[a-z]{6,12}[ ,;][a-z]{6,12}",
    ]
    .prop_filter("must not look valid to any field", |s| {
        !s.starts_with("ok") && !s.trim().is_empty() && s.trim().len() >= 6
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn no_secret_value_appears_in_any_output(secret in secret_value()) {
        let failed = all_output(invalid(&secret));
        let loaded = all_output(valid(&secret));
        let quoting = quoting_output(&secret, &secret) + &quoting_output(&secret, &format!("tok_{secret}"));
        // Eight characters of a random secret cannot appear in a message by chance.
        for output in [&failed, &loaded, &quoting] {
            let leaked = shared_run(secret.trim(), output, 8);
            prop_assert!(leaked.is_none(), "secret {:?} leaked {:?} into:\n{}", secret, leaked, output);
        }
        // The error still reports every secret field, by name.
        for var in ["PIN", "ECHOING", "CUSTOM", "PORTS"] {
            prop_assert!(failed.contains(&format!("{var} from given variables")), "{}", failed);
        }
    }
}
