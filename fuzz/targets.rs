//! The bodies of the fuzz targets, shared by cargo-fuzz (`fuzz/fuzz_targets/*.rs`, nightly,
//! libFuzzer) and by the stable runner (`tests/fuzz_corpus.rs`), which replays the corpus of
//! each target in every test run. Each takes any bytes and asserts the properties that must
//! hold for every input; a panic is a finding.

use settings::__private::testing::DotEnvFile;
use settings::__private::testing::{REDACTED, scrub};
use settings::store::Reference;
use settings::{Parse, SecretString, Settings};

/// The `.env` parser and its expansion: never panic, and every problem names a line that exists.
pub fn dotenv(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let lines = text.lines().count().max(1);
    if let Err(problems) = DotEnvFile::parse(std::path::Path::new(".env"), text) {
        assert!(!problems.is_empty());
        for problem in problems {
            let line = problem.line.expect("every problem names its line");
            assert!(
                line >= 1 && line as usize <= lines,
                "line {line} of {lines}"
            );
        }
    }
}

/// A secret run of at least 8 characters of `secret` found in `output`.
fn shared_run(secret: &str, output: &str, len: usize) -> Option<String> {
    let chars: Vec<char> = secret.chars().collect();
    chars
        .windows(len)
        .map(|w| w.iter().collect::<String>())
        .find(|run| output.contains(run.as_str()))
}

#[derive(Debug)]
pub struct Echo;

impl std::str::FromStr for Echo {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Err(format!("bad {s:?} or '{s}' or {s}"))
    }
}

#[derive(Settings)]
#[allow(dead_code)]
pub struct Coerced {
    port: u16,
    ratio: f64,
    on: bool,
    timeout: std::time::Duration,
    addr: Option<std::net::SocketAddr>,
    list: Vec<i64>,
    #[settings(secret)]
    echo: Echo,
    #[settings(secret)]
    secret_list: Vec<u32>,
    pin: settings::SecretBox<u32>,
    token: SecretString,
}

/// What a load of [`Coerced`] with every variable set to `value` prints about its secret fields.
fn secret_lines(value: &str) -> String {
    let vars = [
        "PORT",
        "RATIO",
        "ON",
        "TIMEOUT",
        "ADDR",
        "LIST",
        "ECHO",
        "SECRET_LIST",
        "PIN",
        "TOKEN",
    ]
    .map(|name| (name, value));
    // What the non-secret fields echo is shown on purpose: look only at secret fields.
    match Coerced::from_vars(vars) {
        Ok(loaded) => format!("{loaded:?}"),
        Err(err) => err
            .problems()
            .iter()
            .filter(|problem| problem.secret)
            .map(|problem| format!("{problem}\n{problem:?}\n"))
            .collect(),
    }
}

/// Every coercer: never panics; a value given to a secret field never appears in any output.
pub fn coerce(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = <std::time::Duration as Parse>::parse(text);
    let _ = <bool as Parse>::parse(text);
    let _ = <u64 as Parse>::parse(text);
    let _ = <char as Parse>::parse(text);
    let shown = secret_lines(text);
    let secret = text.trim();
    if secret.chars().count() >= 8 {
        // The fixed words of the messages ("from given variables") are not a leak: a run counts
        // only if the same load with an unrelated value does not print it too.
        static BASELINE: std::sync::OnceLock<String> = std::sync::OnceLock::new();
        let baseline = BASELINE.get_or_init(|| {
            [
                "\u{1}",
                "x\u{1}y,z",
                "1",
                "vault:\u{1}",
                "ssm:\u{1}",
                "secretsmanager:\u{1}",
            ]
            .map(secret_lines)
            .concat()
        });
        // Every run of 8 characters of what was printed, sorted for binary search.
        let printed: Vec<char> = shown.chars().collect();
        let mut runs: Vec<&[char]> = printed.windows(8).collect();
        runs.sort_unstable();
        let chars: Vec<char> = secret.chars().collect();
        for run in chars.windows(8) {
            if runs.binary_search(&run).is_ok() {
                let run: String = run.iter().collect();
                assert!(
                    baseline.contains(run.as_str()),
                    "{secret:?} leaked {run:?} into {shown}"
                );
            }
        }
    }
}

/// The reference grammar: never panics, is deterministic, and a reference it accepts shows
/// without white space or control characters.
pub fn reference(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let first = Reference::parse(text);
    assert_eq!(first, Reference::parse(text));
    if let Some(Ok(reference)) = first {
        let shown = reference.to_string();
        let (_, location) = shown.split_once(' ').unwrap_or(("", &shown));
        assert!(
            !location
                .chars()
                .any(|c| c.is_whitespace() || c.is_control()),
            "{shown:?}"
        );
    }
    // A malformed reference's message never depends on the value (which may be a secret): it is
    // the message of any malformed reference of the same store.
    if let Some(Err(message)) = Reference::parse(text) {
        let scheme = text.split_once(':').map_or(text, |(scheme, _)| scheme);
        let canonical = Reference::parse(&format!("{scheme}:\u{0}"));
        assert_eq!(Some(Err(message)), canonical);
    }
}

/// The scrubber: what it keeps of a message never shares four characters with the input.
pub fn scrub_message(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // The input is split in three: the message, the secret and the delimiter.
    let mut parts = text.splitn(3, '\u{1f}');
    let (Some(message), Some(raw)) = (parts.next(), parts.next()) else {
        return;
    };
    let delimiter = parts.next().unwrap_or(",");
    let kept = scrub(message, raw, delimiter);
    if kept.starts_with("the parser's message is withheld") || raw.contains('\u{1}') {
        return;
    }
    let kept = kept.replace(REDACTED, "\u{1}");
    if raw.chars().count() >= 4 {
        assert!(
            shared_run(raw, &kept, 4).is_none(),
            "{raw:?} shares a run with {kept:?}"
        );
    }
}
