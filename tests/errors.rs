//! The one error: every problem at once, each named by variable, field, doc and expected type.

#![allow(dead_code)] // Most structs here exist to fail loading.
use settings::{Origin, ProblemKind, RawValue, SecretString, Settings, Source};

/// The struct of the source article.
#[derive(Settings)]
struct PipelineSettings {
    /// Shopify Admin API token
    shopify_api_key: SecretString,
    /// Shopify store URL
    shopify_store_url: String,
    /// Database connection string
    database_url: SecretString,
    /// Slack webhook for notifications
    slack_webhook_url: Option<String>,
    /// Logging level
    #[settings(default = "INFO")]
    log_level: String,
    /// Records per batch
    #[settings(default = 100)]
    batch_size: u32,
}

#[test]
fn every_problem_is_reported_at_once() {
    let err = PipelineSettings::from_vars([
        ("SHOPIFY_STORE_URL", "https://shop.example"),
        ("BATCH_SIZE", "ten"),
        ("DATABASE_URL", ""),
    ])
    .unwrap_err();
    assert_eq!(err.total(), 6);
    let vars: Vec<_> = err.problems().iter().map(|p| p.var.as_str()).collect();
    assert_eq!(vars, ["SHOPIFY_API_KEY", "DATABASE_URL", "BATCH_SIZE"]);

    let text = err.to_string();
    let expected = "\
3 of 6 settings are invalid:
  SHOPIFY_API_KEY: not set; expected a string (secret)
      field `shopify_api_key`: Shopify Admin API token
  DATABASE_URL: set but empty; expected a string (secret)
      field `database_url`: Database connection string
  BATCH_SIZE from given variables: expected u32 (an integer from 0 to 4294967295), got \"ten\": invalid digit found in string
      field `batch_size`: Records per batch
Set them in .env or as environment variables.";
    assert_eq!(text, expected);
    // Debug prints the same report, so `fn main() -> Result<(), settings::Error>` reads well.
    assert_eq!(format!("{err:?}"), expected);
}

#[test]
fn problems_are_data_for_programs() {
    let err = PipelineSettings::from_vars([
        ("SHOPIFY_API_KEY", "k"),
        ("SHOPIFY_STORE_URL", "u"),
        ("DATABASE_URL", "d"),
        ("BATCH_SIZE", "-1"),
    ])
    .unwrap_err();
    let [problem] = err.problems() else {
        panic!("expected one problem, got {err}");
    };
    assert_eq!(problem.var, "BATCH_SIZE");
    assert_eq!(problem.field, "batch_size");
    assert_eq!(problem.doc, "Records per batch");
    assert!(!problem.secret);
    assert_eq!(problem.expected, "u32 (an integer from 0 to 4294967295)");
    match &problem.kind {
        ProblemKind::Invalid {
            origin,
            found_as,
            reason,
            input,
        } => {
            assert_eq!(*origin, Origin::Vars);
            assert_eq!(found_as, "BATCH_SIZE");
            assert_eq!(reason, "invalid digit found in string");
            assert_eq!(input.as_deref(), Some("\"-1\""));
        }
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(
        problem.to_string(),
        "BATCH_SIZE from given variables: expected u32 (an integer from 0 to 4294967295), got \"-1\": invalid digit found in string"
    );
}

#[test]
fn one_problem_reads_in_the_singular() {
    let err =
        PipelineSettings::from_vars([("SHOPIFY_API_KEY", "k"), ("DATABASE_URL", "d")]).unwrap_err();
    assert!(
        err.to_string().starts_with("1 of 6 settings is invalid:\n"),
        "{err}"
    );
}

#[test]
fn long_inputs_are_truncated_and_escaped() {
    #[derive(Settings)]
    struct N {
        count: u8,
    }
    let long = format!("{}\n\"", "9".repeat(100));
    let err = N::from_vars([("COUNT", long)]).unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains(&format!("got \"{}…\"", "9".repeat(60))),
        "{text}"
    );
}

#[test]
fn list_items_are_named_by_position() {
    #[derive(Settings)]
    struct L {
        ports: Vec<u16>,
    }
    let err = L::from_vars([("PORTS", "80, http, 70000")]).unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains(
            "PORTS from given variables: expected a list separated by \",\", each item u16 (an integer from 0 to 65535), got \"80, http, 70000\": item 2 (\"http\"): invalid digit found in string; item 3 (\"70000\"): number too large to fit in target type"
        ),
        "{text}"
    );
}

/// A source that reports a value that is not valid UTF-8, as the process environment does.
struct NotUnicodeFor(&'static str);

impl Source for NotUnicodeFor {
    fn get(&self, name: &str) -> Option<RawValue> {
        (name == self.0).then_some(RawValue::NotUnicode)
    }
    fn origin(&self, _name: &str) -> Origin {
        Origin::Environment
    }
}

#[test]
fn a_value_that_is_not_utf8_is_an_error_naming_its_variable() {
    #[derive(Settings)]
    struct U {
        /// Where to write
        out_dir: String,
        other: Option<String>,
    }
    let err = U::from_source(&NotUnicodeFor("OUT_DIR")).unwrap_err();
    assert!(matches!(
        err.problems()[0].kind,
        ProblemKind::NotUnicode { .. }
    ));
    assert!(
        err.to_string().contains("OUT_DIR from environment: not valid UTF-8; expected a string\n      field `out_dir`: Where to write"),
        "{err}"
    );
    // A non-UTF-8 variable the struct does not read changes nothing.
    let ok = U::from_source(&NotUnicodeFor("UNRELATED"));
    assert!(matches!(
        ok.unwrap_err().problems()[0].kind,
        ProblemKind::Missing { .. }
    ));
}

#[test]
fn custom_from_str_errors_are_shown() {
    #[derive(Debug)]
    struct Level;
    impl std::str::FromStr for Level {
        type Err = String;
        fn from_str(_: &str) -> Result<Self, String> {
            Err("use one of debug, info, warn".to_owned())
        }
    }
    #[derive(Settings)]
    struct C {
        level: Level,
    }
    let err = C::from_vars([("LEVEL", "loud")]).unwrap_err();
    assert_eq!(
        err.problems()[0].to_string(),
        "LEVEL from given variables: expected Level, got \"loud\": use one of debug, info, warn"
    );
}
