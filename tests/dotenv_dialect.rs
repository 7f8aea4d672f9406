//! The `.env` dialect against the differential corpus in `tests/dotenv/corpus.json`: for each
//! case, what docker compose, python-dotenv and Node's dotenv give. Ours must give Compose's
//! answer where Compose has one, else python-dotenv's, except for the cases that say why they
//! differ; the README lists every one of those.

mod common;

use std::collections::BTreeMap;

use common::TempDir;
use serde_json::Value;
use settings::{Loader, RawValue, Source};

/// What a tool makes of a file: its variables, or a refusal.
#[derive(Debug, PartialEq)]
enum Answer {
    Values(BTreeMap<String, String>),
    Error,
}

fn answer(value: &Value) -> Option<Answer> {
    match value {
        Value::Null => None,
        Value::String(s) if s == "error" => Some(Answer::Error),
        Value::Object(map) => Some(Answer::Values(
            map.iter()
                // python-dotenv lists a bare NAME with no value; no loader can use it.
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
                .collect(),
        )),
        other => panic!("not an answer: {other}"),
    }
}

fn corpus() -> Vec<Value> {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/dotenv/corpus.json"
    ))
    .unwrap();
    let corpus: Value = serde_json::from_str(&text).unwrap();
    corpus["cases"].as_array().unwrap().clone()
}

/// Our answer: the file read as a load reads it, in the environment the case gives.
fn ours(input: &str, env: &BTreeMap<String, String>) -> (Answer, Vec<Option<u32>>) {
    let dir = TempDir::new("dialect");
    dir.write(".env", input);
    let loader = Loader::new()
        .dir(dir.path())
        .vars(env.iter().map(|(k, v)| (k.clone(), v.clone())));
    let (sources, problems) = loader.sources();
    let lines = problems.iter().map(|p| p.line).collect();
    if !problems.is_empty() {
        return (Answer::Error, lines);
    }
    let mut values = BTreeMap::new();
    for file in sources.files() {
        for (name, _) in file.definitions() {
            match sources.get(name) {
                Some(RawValue::Text(text)) => {
                    values.insert(name.to_owned(), text.to_string());
                }
                other => panic!("{name}: {other:?}"),
            }
        }
    }
    (Answer::Values(values), lines)
}

#[test]
fn every_case_reads_as_compose_else_python_dotenv_reads_it() {
    let cases = corpus();
    assert!(cases.len() >= 80, "{} cases", cases.len());
    let mut failures = Vec::new();
    for case in &cases {
        let id = case["id"].as_str().unwrap();
        let input = case["input"].as_str().unwrap();
        let env: BTreeMap<String, String> = case
            .get("env")
            .and_then(Value::as_object)
            .map(|m| {
                m.iter()
                    .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
                    .collect()
            })
            .unwrap_or_default();
        let rule = answer(&case["compose"]).or_else(|| answer(&case["python_dotenv"]));
        let expected = match case.get("ours") {
            Some(ours) => {
                assert!(
                    case["why"].as_str().is_some_and(|w| !w.is_empty()),
                    "{id}: a deliberate difference says why"
                );
                let ours = answer(ours).unwrap();
                assert_ne!(
                    Some(&ours),
                    rule.as_ref(),
                    "{id}: `ours` differs from the rule"
                );
                ours
            }
            None => rule.unwrap_or_else(|| panic!("{id}: neither compose nor python-dotenv")),
        };
        let (got, lines) = ours(input, &env);
        let line_count = u32::try_from(input.lines().count().max(1)).unwrap();
        for line in &lines {
            assert!(
                line.is_some_and(|l| (1..=line_count).contains(&l)),
                "{id}: a problem names line {line:?} of {line_count}"
            );
        }
        if got != expected {
            failures.push(format!("{id}: expected {expected:?}, got {got:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_deliberate_difference_is_listed_in_the_readme() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    for case in corpus() {
        if case.get("ours").is_some() {
            let id = case["id"].as_str().unwrap();
            assert!(
                readme.contains(&format!("`{id}`")),
                "README does not list the deliberate difference `{id}`"
            );
        }
    }
}

mod properties {
    use std::path::Path;

    use proptest::prelude::*;
    use settings::__private::testing::{DotEnvFile, quote_env_value};
    use settings::{RawValue, Source};

    fn read_back(text: &str, name: &str) -> String {
        let file = DotEnvFile::parse(Path::new(".env"), text)
            .unwrap_or_else(|problems| panic!("{text:?}: {problems:?}"));
        match file.get(name) {
            Some(RawValue::Text(value)) => value.to_string(),
            other => panic!("{text:?}: {other:?}"),
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        /// What the writer of `env_example` quotes reads back as it was, whatever it holds:
        /// blanks at either end, `#`, quotes, `$`, backslashes, line breaks, any Unicode.
        #[test]
        fn a_quoted_value_reads_back(value in "(?s).{0,40}|[ #'\"$\\\\\n\r\ta-z{}]{0,20}") {
            let text = format!("A={}\nB=after\n", quote_env_value(&value));
            prop_assert_eq!(read_back(&text, "A"), value);
            prop_assert_eq!(read_back(&text, "B"), "after");
        }

        /// Random bytes never panic the parser, and every problem names a line of the file.
        #[test]
        fn any_text_parses_or_names_real_lines(text in "(?s).{0,200}|[ =#'\"$\\\\\n\r\t{}:?+\\-AB_]{0,80}") {
            let lines = text.split('\n').count() as u32;
            if let Err(problems) = DotEnvFile::parse(Path::new(".env"), &text) {
                for problem in problems {
                    let line = problem.line.expect("every problem names a line");
                    prop_assert!((1..=lines).contains(&line), "line {} of {}", line, lines);
                }
            }
        }
    }
}
