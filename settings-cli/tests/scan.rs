//! `settings scan`, the real binary: a planted corpus of a few hundred secrets in every format
//! and language (all found), a corpus of look-alikes (none found), masked output, SARIF, the
//! baseline, staged changes, history, and the pre-commit hook.

#[path = "../../tests/common/mod.rs"]
mod common;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Output};

use common::TempDir;
use serde_json::Value;

fn scan(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_settings"))
        .arg("scan")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("the settings binary runs")
}

fn json(output: &Output) -> Vec<Value> {
    serde_json::from_slice::<Value>(&output.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&output.stdout)))
        .as_array()
        .unwrap()
        .clone()
}

fn git(dir: &Path, args: &[&str]) -> Output {
    Command::new("git")
        .args([
            "-c",
            "user.name=Test",
            "-c",
            "user.email=test@example.invalid",
        ])
        .args(["-c", "commit.gpgsign=false"])
        .args(args)
        .current_dir(dir)
        .output()
        .expect("git runs")
}

/// A small deterministic generator, so that a failure can be reproduced.
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn text(&mut self, alphabet: &[u8], length: usize) -> String {
        (0..length)
            .map(|_| char::from(alphabet[(self.next() % alphabet.len() as u64) as usize]))
            .collect()
    }
}

const UPPER_DIGITS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const HEX: &[u8] = b"0123456789abcdef";
const B64URL: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// One secret of each format, fresh: (rule, value).
fn secrets(random: &mut Random) -> Vec<(&'static str, String)> {
    let r = random;
    vec![
        (
            "aws-access-key-id",
            format!("AKIA{}", r.text(UPPER_DIGITS, 16)),
        ),
        ("github-token", format!("ghp_{}", r.text(ALNUM, 36))),
        ("github-token", format!("gho_{}", r.text(ALNUM, 36))),
        ("github-token", format!("ghs_{}", r.text(ALNUM, 36))),
        ("github-token", format!("ghu_{}", r.text(ALNUM, 36))),
        (
            "github-fine-grained-token",
            format!("github_pat_{}_{}", r.text(ALNUM, 22), r.text(ALNUM, 59)),
        ),
        ("gitlab-token", format!("glpat-{}", r.text(ALNUM, 20))),
        (
            "slack-token",
            format!(
                "xoxb-{}-{}-{}",
                r.text(b"0123456789", 11),
                r.text(b"0123456789", 12),
                r.text(ALNUM, 24)
            ),
        ),
        (
            "slack-webhook",
            format!(
                "https://hooks.slack.com/services/T{}/B{}/{}",
                r.text(UPPER_DIGITS, 8),
                r.text(UPPER_DIGITS, 10),
                r.text(ALNUM, 24)
            ),
        ),
        ("stripe-live-key", format!("sk_live_{}", r.text(ALNUM, 24))),
        ("stripe-live-key", format!("rk_live_{}", r.text(ALNUM, 99))),
        ("shopify-token", format!("shpat_{}", r.text(HEX, 32))),
        ("shopify-token", format!("shppa_{}", r.text(HEX, 32))),
        ("shopify-token", format!("shpca_{}", r.text(HEX, 32))),
        ("openai-key", format!("sk-proj-{}", r.text(B64URL, 120))),
        (
            "anthropic-key",
            format!("sk-ant-api03-{}", r.text(B64URL, 93)),
        ),
        ("google-api-key", format!("AIza{}", r.text(B64URL, 35))),
        (
            "jwt",
            format!(
                "eyJhbGciOiJIUzI1NiJ9.eyJ{}.{}",
                r.text(B64URL, 40),
                r.text(B64URL, 43)
            ),
        ),
        ("settings-api-key", format!("sk_{}", r.text(B64URL, 43))),
        ("url-password", r.text(ALNUM, 16)),
        (
            "assigned-secret",
            format!("{}{}", r.text(ALNUM, 20), r.next() % 1000),
        ),
    ]
}

/// `value` in a line of `language`, as people write it; the URL rule gets a URL around it.
fn line(language: &str, rule: &str, value: &str, i: usize) -> String {
    let value = if rule == "url-password" {
        format!("postgres://etl_{i}:{value}@db{i}.internal:5432/app")
    } else {
        value.to_owned()
    };
    let name = if rule == "assigned-secret" {
        format!("api_secret_{i}")
    } else {
        format!("setting_{i}")
    };
    match language {
        "py" => format!("{name} = \"{value}\"\n"),
        "rs" => format!("const {}: &str = \"{value}\";\n", name.to_uppercase()),
        "js" => format!("const {name} = '{value}';\n"),
        "ts" => format!("export const {name}: string = \"{value}\";\n"),
        "yaml" => format!("{name}: {value}\n"),
        "toml" => format!("{name} = \"{value}\"\n"),
        "json" => format!("  \"{name}\": \"{value}\",\n"),
        _ => format!("{}={value}\n", name.to_uppercase()),
    }
}

const LANGUAGES: &[&str] = &["py", "rs", "js", "ts", "yaml", "toml", "json", "env"];

/// Writes the planted corpus into `dir`: a few hundred secrets over files of every language, and
/// a tree of look-alikes under `lookalikes/`. The secrets' places: (file, line, rule).
fn plant(dir: &Path) -> BTreeSet<(String, usize, &'static str)> {
    let write = |name: &str, text: &str| {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    let mut random = Random(0x5eed_1234_abcd_9876);
    let mut planted = BTreeSet::new();
    for (f, language) in LANGUAGES.iter().enumerate() {
        for copy in 0..2 {
            let name = if *language == "env" {
                format!("config{copy}/.env")
            } else {
                format!("src{copy}/file{f}.{language}")
            };
            let mut text = String::from("# a file of the planted corpus\n");
            let mut lineno = 1;
            for (i, (rule, value)) in secrets(&mut random).into_iter().enumerate() {
                text.push_str(&line(language, rule, &value, i));
                lineno += 1;
                planted.insert((name.clone(), lineno, rule));
            }
            write(&name, &text);
        }
    }
    // Look-alikes: references, placeholders, documentation examples, hashes, UUIDs.
    write(
        "lookalikes/app.py",
        "API_KEY = os.environ[\"API_KEY\"]\naws_key = \"AKIAIOSFODNN7EXAMPLE\"\naws_secret = \"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\"\n\
         token = \"ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"\nchecksum = \"d41d8cd98f00b204e9800998ecf8427e\"\n\
         request_id = \"550e8400-e29b-41d4-a716-446655440000\"\nsecret_name = \"prod/db/password\"\n",
    );
    write(
        "lookalikes/.env",
        "DATABASE_URL=vault:secret/app#DATABASE_URL\nSHOPIFY_API_KEY=ssm:/app/shopify\nSTRIPE_KEY=${STRIPE_KEY}\n\
         PASSWORD=changeme\nDB_URL=postgres://user:password@localhost/db\nAPI_TOKEN=<your token here>\n",
    );
    write(
        "lookalikes/config.yaml",
        "password: \"{{ vault:secret/app#DB_PASSWORD }}\"\nsha256: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\n\
         key_length: 32\napi_key_header: X-Api-Key\n",
    );
    write(
        "lookalikes/README.md",
        "Set `AWS_SECRET_ACCESS_KEY` and `GITHUB_TOKEN=ghp_...` in your environment.\n",
    );
    planted
}

#[test]
fn every_planted_secret_is_found_and_no_look_alike_is() {
    let dir = TempDir::new("scan-planted");
    let planted = plant(dir.path());
    assert!(planted.len() >= 300, "{} planted", planted.len());
    let output = scan(dir.path(), &["--format", "json"]);
    assert_eq!(output.status.code(), Some(1));
    let found: BTreeSet<(String, usize, String)> = json(&output)
        .iter()
        .map(|f| {
            (
                f["file"].as_str().unwrap().to_owned(),
                f["line"].as_u64().unwrap() as usize,
                f["rule"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let missed: Vec<_> = planted
        .iter()
        .filter(|(file, line, rule)| !found.contains(&(file.clone(), *line, (*rule).to_owned())))
        .collect();
    assert!(
        missed.is_empty(),
        "recall below 100%: {} missed, e.g. {:?}",
        missed.len(),
        &missed[..missed.len().min(10)]
    );
    assert_eq!(
        found.len(),
        planted.len(),
        "nothing else, look-alikes included: {found:?}"
    );
}

/// For `scripts/scan-compare.sh`: writes the planted corpus to `$SCAN_CORPUS`, and where its
/// secrets are to `$SCAN_MANIFEST` (outside the corpus, so that no tool scans it).
#[test]
#[ignore = "run by scripts/scan-compare.sh"]
fn write_planted_corpus() {
    let dir = std::path::PathBuf::from(
        std::env::var("SCAN_CORPUS").expect("SCAN_CORPUS names a directory"),
    );
    let planted = plant(&dir);
    let manifest: Vec<Value> = planted
        .iter()
        .map(|(file, line, rule)| serde_json::json!({ "file": file, "line": line, "rule": rule }))
        .collect();
    let manifest_path = std::env::var("SCAN_MANIFEST").expect("SCAN_MANIFEST names a file");
    std::fs::write(manifest_path, Value::Array(manifest).to_string()).unwrap();
}

#[test]
fn output_is_masked_and_sarif_has_what_code_scanning_needs() {
    let dir = TempDir::new("scan-output");
    let key = "AKIA2OGYBAH63UIQY5TQ";
    let token = "ghp_1a2B3c4D5e6F7g8H9i0J1k2L3m4N5o6P7q8R";
    dir.write(
        "deploy.sh",
        format!("export AWS_ACCESS_KEY_ID={key}\ncurl -H \"Authorization: token {token}\" api\n"),
    );
    let text = scan(dir.path(), &[]);
    assert_eq!(text.status.code(), Some(1));
    let shown = String::from_utf8_lossy(&text.stdout).to_string();
    assert!(
        shown.contains("deploy.sh:1:26 aws-access-key-id AKIA…(20 chars)"),
        "{shown}"
    );
    assert!(
        shown.contains("deploy.sh:2:31 github-token ghp_…(40 chars)"),
        "{shown}"
    );
    let everything = format!("{shown}{}", String::from_utf8_lossy(&text.stderr));
    assert!(
        !everything.contains(&key[4..]) && !everything.contains(&token[4..]),
        "{everything}"
    );

    let output = scan(dir.path(), &["--format", "sarif"]);
    let sarif: Value = serde_json::from_slice(&output.stdout).unwrap();
    // The required fields of SARIF 2.1.0 for a result GitHub code scanning can place.
    assert_eq!(sarif["version"], "2.1.0");
    let run = &sarif["runs"][0];
    assert_eq!(run["tool"]["driver"]["name"], "settings scan");
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    assert!(
        rules
            .iter()
            .all(|r| r["id"].is_string() && r["shortDescription"]["text"].is_string())
    );
    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), 2);
    for result in results {
        assert!(result["message"]["text"].is_string());
        let id = result["ruleId"].as_str().unwrap();
        let index = result["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[index]["id"], id);
        let location = &result["locations"][0]["physicalLocation"];
        assert_eq!(location["artifactLocation"]["uri"], "deploy.sh");
        assert!(location["region"]["startLine"].as_u64().unwrap() >= 1);
        assert!(result["partialFingerprints"]["settingsScan/v1"].is_string());
    }
    assert!(!String::from_utf8_lossy(&output.stdout).contains(&key[4..]));
}

#[test]
fn a_baseline_accepts_known_findings_by_fingerprint() {
    let dir = TempDir::new("scan-baseline");
    dir.write(
        "old.py",
        "legacy_token = \"ghp_1a2B3c4D5e6F7g8H9i0J1k2L3m4N5o6P7q8R\"\n",
    );
    let update = scan(dir.path(), &["--update-baseline"]);
    assert!(update.status.success());
    let baseline =
        std::fs::read_to_string(dir.path().join(".settings-scan-baseline.json")).unwrap();
    assert!(
        !baseline.contains("1a2B3c4D5e6F"),
        "no value in the baseline: {baseline}"
    );
    assert!(
        scan(dir.path(), &[]).status.success(),
        "the accepted finding is not reported"
    );
    // Moved to another line, it is the same finding.
    dir.write(
        "old.py",
        "# moved\n\nlegacy_token = \"ghp_1a2B3c4D5e6F7g8H9i0J1k2L3m4N5o6P7q8R\"\n",
    );
    assert!(scan(dir.path(), &[]).status.success());
    dir.write(
        "new.py",
        "new_key = \"AKIA2OGYBAH63UIQY5TQ\"  # a new one\n",
    );
    let output = scan(dir.path(), &["--format", "json"]);
    assert_eq!(output.status.code(), Some(1));
    let found = json(&output);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0]["file"], "new.py");
    // An inline allow accepts one line.
    dir.write(
        "new.py",
        "new_key = \"AKIA2OGYBAH63UIQY5TQ\"  # settings-scan:allow (a test fixture)\n",
    );
    assert!(scan(dir.path(), &[]).status.success());
}

fn repository(label: &str) -> TempDir {
    let dir = TempDir::new(label);
    assert!(
        git(dir.path(), &["init", "-q"]).status.success(),
        "git init"
    );
    dir
}

#[test]
fn staged_sees_only_what_is_about_to_be_committed() {
    let dir = repository("scan-staged");
    dir.write(
        "committed.py",
        "token = \"ghp_1a2B3c4D5e6F7g8H9i0J1k2L3m4N5o6P7q8R\"\n",
    );
    git(dir.path(), &["add", "."]);
    assert!(
        git(dir.path(), &["commit", "-qm", "first"])
            .status
            .success()
    );
    dir.write("staged.py", "x = 1\nkey = \"AKIA2OGYBAH63UIQY5TQ\"\n");
    dir.write(
        "unstaged.py",
        "key = \"sk_live_4eC39HqLyjWDarjtT1zdp7dcTYooMQauvdEDq54Nio\"\n",
    );
    git(dir.path(), &["add", "staged.py"]);
    let output = scan(dir.path(), &["--staged", "--format", "json"]);
    assert_eq!(
        output.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let found = json(&output);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0]["file"], "staged.py");
    assert_eq!(found[0]["line"], 2);
    assert_eq!(found[0]["rule"], "aws-access-key-id");
}

#[test]
fn history_finds_a_secret_deleted_later() {
    let dir = repository("scan-history");
    dir.write(
        "app.py",
        "stripe = \"sk_live_4eC39HqLyjWDarjtT1zdp7dcTYooMQauvdEDq54Nio\"\n",
    );
    git(dir.path(), &["add", "."]);
    git(dir.path(), &["commit", "-qm", "add the key"]);
    let added = String::from_utf8_lossy(&git(dir.path(), &["rev-parse", "HEAD"]).stdout)
        .trim()
        .to_owned();
    dir.write("app.py", "stripe = os.environ[\"STRIPE_KEY\"]\n");
    git(dir.path(), &["commit", "-qam", "remove the key"]);
    assert!(
        scan(dir.path(), &[]).status.success(),
        "the files are clean now"
    );
    let output = scan(dir.path(), &["--history", "--format", "json"]);
    assert_eq!(output.status.code(), Some(1));
    let found = json(&output);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0]["rule"], "stripe-live-key");
    assert_eq!(found[0]["commit"], added.as_str());
    let text = String::from_utf8_lossy(&scan(dir.path(), &["--history"]).stdout).to_string();
    assert!(
        text.starts_with(&format!(
            "{}:app.py:1:11 stripe-live-key sk_l…",
            &added[..12]
        )),
        "{text}"
    );
}

#[test]
fn the_hook_refuses_a_commit_that_adds_a_key() {
    let dir = repository("scan-hook");
    let install = scan(dir.path(), &["--install-hook"]);
    assert!(
        install.status.success(),
        "{}",
        String::from_utf8_lossy(&install.stderr)
    );
    dir.write("fine.py", "x = 1\n");
    git(dir.path(), &["add", "."]);
    assert!(git(dir.path(), &["commit", "-qm", "fine"]).status.success());
    dir.write("leak.py", "aws = \"AKIA2OGYBAH63UIQY5TQ\"\n");
    git(dir.path(), &["add", "."]);
    let commit = git(dir.path(), &["commit", "-qm", "leak"]);
    assert!(!commit.status.success(), "the hook refuses the commit");
    let said = String::from_utf8_lossy(&commit.stdout).to_string()
        + &String::from_utf8_lossy(&commit.stderr);
    assert!(
        said.contains("leak.py:1:8 aws-access-key-id AKIA…(20 chars)"),
        "{said}"
    );
    let log = String::from_utf8_lossy(&git(dir.path(), &["log", "--oneline"]).stdout).to_string();
    assert_eq!(log.lines().count(), 1, "{log}");
}

#[test]
fn every_secret_ever_committed_is_found_in_history() {
    let dir = repository("scan-history-planted");
    let mut random = Random(0x0dd_ba11_cafe_f00d);
    let mut planted: BTreeSet<(String, usize, &'static str)> = BTreeSet::new();
    // Five commits, each adding a file of every format in one language; then one removing all.
    for (c, language) in ["py", "ts", "yaml", "toml", "env"].iter().enumerate() {
        let name = format!("commit{c}.{language}");
        let mut text = String::new();
        for (i, (rule, value)) in secrets(&mut random).into_iter().enumerate() {
            text.push_str(&line(language, rule, &value, i));
            planted.insert((name.clone(), i + 1, rule));
        }
        dir.write(&name, text);
        git(dir.path(), &["add", "."]);
        assert!(
            git(dir.path(), &["commit", "-qm", &format!("commit {c}")])
                .status
                .success()
        );
    }
    git(
        dir.path(),
        &[
            "rm",
            "-q",
            "commit0.py",
            "commit1.ts",
            "commit2.yaml",
            "commit3.toml",
            "commit4.env",
        ],
    );
    git(dir.path(), &["commit", "-qm", "remove them all"]);
    assert!(
        scan(dir.path(), &[]).status.success(),
        "nothing is left in the files"
    );
    let output = scan(dir.path(), &["--history", "--format", "json"]);
    let found: BTreeSet<(String, usize, String)> = json(&output)
        .iter()
        .map(|f| {
            (
                f["file"].as_str().unwrap().to_owned(),
                f["line"].as_u64().unwrap() as usize,
                f["rule"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let missed: Vec<_> = planted
        .iter()
        .filter(|(file, line, rule)| !found.contains(&(file.clone(), *line, (*rule).to_owned())))
        .collect();
    assert!(planted.len() >= 100, "{}", planted.len());
    assert!(missed.is_empty(), "missed in history: {missed:?}");
}
