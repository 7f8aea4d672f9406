//! What `settings scan` prints (text, JSON, SARIF 2.1.0), its baseline, and its git hook.

use std::collections::HashSet;
use std::path::Path;
use std::process::ExitCode;

use serde_json::{Value, json};

use super::{Finding, detect, known};
use crate::args::ScanFormat;

pub fn print(format: ScanFormat, findings: &[&Finding]) {
    match format {
        ScanFormat::Text => {
            for f in findings {
                let at = match &f.commit {
                    Some(commit) => format!("{}:{}:{}:{}", short(commit), f.file, f.line, f.column),
                    None => format!("{}:{}:{}", f.file, f.line, f.column),
                };
                println!("{at} {} {}", f.rule, f.masked);
            }
        }
        ScanFormat::Json => {
            let all: Vec<Value> = findings
                .iter()
                .map(|f| {
                    json!({
                        "file": f.file,
                        "line": f.line,
                        "column": f.column,
                        "rule": f.rule,
                        "description": f.description,
                        "masked": f.masked,
                        "fingerprint": f.fingerprint,
                        "commit": f.commit,
                    })
                })
                .collect();
            println!("{}", Value::Array(all));
        }
        ScanFormat::Sarif => println!("{}", sarif(findings)),
    }
}

fn short(commit: &str) -> &str {
    &commit[..commit.len().min(12)]
}

/// Every rule, for SARIF's tool description.
fn rules() -> Vec<(&'static str, &'static str)> {
    let mut rules: Vec<(&str, &str)> = known::RULES
        .iter()
        .map(|rule| (rule.id, rule.description))
        .collect();
    rules.push(detect::URL_PASSWORD);
    rules.push(detect::AWS_SECRET_KEY);
    rules.push(detect::ASSIGNED_SECRET);
    rules
}

/// SARIF 2.1.0, as GitHub code scanning reads it.
fn sarif(findings: &[&Finding]) -> Value {
    let rules = rules();
    let results: Vec<Value> = findings
        .iter()
        .map(|f| {
            let index = rules.iter().position(|(id, _)| *id == f.rule).unwrap_or(0);
            json!({
                "ruleId": f.rule,
                "ruleIndex": index,
                "level": "error",
                "message": { "text": format!("{}: {} (the value is not shown)", f.description, f.masked) },
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": { "uri": f.file.replace('\\', "/") },
                        "region": { "startLine": f.line, "startColumn": f.column },
                    }
                }],
                "partialFingerprints": { "settingsScan/v1": f.fingerprint },
            })
        })
        .collect();
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "settings scan",
                    "version": env!("CARGO_PKG_VERSION"),
                    "informationUri": "https://example.invalid/settings",
                    "rules": rules.iter().map(|(id, description)| json!({
                        "id": id,
                        "shortDescription": { "text": description },
                    })).collect::<Vec<_>>(),
                }
            },
            "results": results,
        }]
    })
}

/// The fingerprints a baseline accepts; none when it does not exist.
pub fn read_baseline(path: &Path) -> Result<HashSet<String>, String> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(HashSet::new()),
        Err(err) => return Err(err.to_string()),
    };
    let json: Value =
        serde_json::from_str(&text).map_err(|_| "not a baseline (invalid JSON)".to_owned())?;
    Ok(json["findings"]
        .as_array()
        .ok_or("not a baseline (no findings list)")?
        .iter()
        .filter_map(|f| f["fingerprint"].as_str().map(str::to_owned))
        .collect())
}

/// Records every current finding as accepted: fingerprints, rules and places, never values.
pub fn write_baseline(path: &Path, findings: &[Finding]) -> ExitCode {
    let all: Vec<Value> = findings
        .iter()
        .map(|f| json!({ "fingerprint": f.fingerprint, "rule": f.rule, "file": f.file, "line": f.line }))
        .collect();
    let text =
        serde_json::to_string_pretty(&json!({ "version": 1, "findings": all })).unwrap_or_default();
    match std::fs::write(path, text + "\n") {
        Ok(()) => {
            eprintln!(
                "settings scan: {} finding{} accepted in {}",
                findings.len(),
                if findings.len() == 1 { "" } else { "s" },
                path.display()
            );
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("settings scan: cannot write {}: {err}", path.display());
            ExitCode::from(1)
        }
    }
}

/// Adds a pre-commit hook that runs `settings scan --staged`.
pub fn install_hook() -> ExitCode {
    let output = std::process::Command::new("git")
        .args(["rev-parse", "--git-path", "hooks"])
        .output();
    let hooks = match output {
        Ok(out) if out.status.success() => String::from_utf8_lossy(&out.stdout).trim().to_owned(),
        _ => {
            eprintln!("settings scan: --install-hook runs inside a git repository");
            return ExitCode::from(2);
        }
    };
    let hook = Path::new(&hooks).join("pre-commit");
    if hook.exists() {
        eprintln!(
            "settings scan: {} already exists; add `settings scan --staged` to it yourself",
            hook.display()
        );
        return ExitCode::from(1);
    }
    let program = std::env::current_exe()
        .ok()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| "settings".to_owned());
    let script = format!(
        "#!/bin/sh\n# Added by `settings scan --install-hook`: a commit that adds a secret is refused.\nexec \"{program}\" scan --staged\n"
    );
    let written = std::fs::create_dir_all(&hooks).and_then(|()| std::fs::write(&hook, script));
    #[cfg(unix)]
    let written = written.and_then(|()| {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755))
    });
    match written {
        Ok(()) => {
            eprintln!("settings scan: installed {}", hook.display());
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("settings scan: cannot write {}: {err}", hook.display());
            ExitCode::from(1)
        }
    }
}
