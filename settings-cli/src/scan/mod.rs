//! `settings scan`: secrets in files, in staged changes and in history, masked in every output.
//!
//! Files are walked in parallel by ripgrep's walker (`.gitignore` respected, so in a repository
//! the files git would track); binary files and files over 10 MiB are skipped and counted. Each
//! text goes through `detect`. A finding is shown as `file:line:column rule masked` (a short
//! prefix and the length, never the value) and identified in a baseline by a fingerprint: a
//! SHA-256 of the rule, the file and the value, so the baseline holds no secret.

pub mod detect;
#[allow(dead_code)] // Shared with the derive, which uses other parts of it.
mod known;
mod report;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::sync::Mutex;

use sha2::{Digest, Sha256};

use crate::args::ScanArgs;

/// Files larger than this are skipped (and counted).
const MAX_FILE: u64 = 10 * 1024 * 1024;
/// The baseline's default name, at the top of the scanned tree.
pub const BASELINE: &str = ".settings-scan-baseline.json";

/// One secret found.
#[derive(Debug, Clone)]
pub struct Finding {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub rule: &'static str,
    pub description: &'static str,
    /// The first characters and the length: `AKIA…(20)`.
    pub masked: String,
    pub fingerprint: String,
    /// The commit that added it, for `--history`.
    pub commit: Option<String>,
}

pub fn run(options: &ScanArgs) -> ExitCode {
    if options.install_hook {
        return report::install_hook();
    }
    let root = options
        .paths
        .first()
        .cloned()
        .unwrap_or_else(|| PathBuf::from("."));
    let scanned = if options.staged {
        staged(&root)
    } else if options.history {
        history(&root)
    } else {
        Ok(files(&options.paths))
    };
    let Scanned {
        mut findings,
        files,
        skipped,
    } = match scanned {
        Ok(scanned) => scanned,
        Err(message) => {
            eprintln!("settings scan: {message}");
            return ExitCode::from(2);
        }
    };
    findings.sort_by(|a, b| {
        (&a.file, a.line, a.column, &a.commit).cmp(&(&b.file, b.line, b.column, &b.commit))
    });
    let baseline_path = options.baseline.clone().unwrap_or_else(|| {
        if root.is_dir() {
            root.join(BASELINE)
        } else {
            PathBuf::from(BASELINE)
        }
    });
    if options.update_baseline {
        return report::write_baseline(&baseline_path, &findings);
    }
    let accepted = match report::read_baseline(&baseline_path) {
        Ok(accepted) => accepted,
        Err(message) => {
            eprintln!("settings scan: {}: {message}", baseline_path.display());
            return ExitCode::from(2);
        }
    };
    let new: Vec<&Finding> = findings
        .iter()
        .filter(|f| !accepted.contains(&f.fingerprint))
        .collect();
    report::print(options.format, &new);
    eprintln!(
        "settings scan: {} finding{} ({} in the baseline) in {files} file{}{}",
        new.len(),
        if new.len() == 1 { "" } else { "s" },
        findings.len() - new.len(),
        if files == 1 { "" } else { "s" },
        if skipped > 0 {
            format!("; {skipped} skipped (binary, or over 10 MiB)")
        } else {
            String::new()
        }
    );
    if new.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

struct Scanned {
    findings: Vec<Finding>,
    files: usize,
    skipped: usize,
}

/// The findings in `text`, shown as `file`.
pub fn findings_in(file: &str, text: &str, commit: Option<&str>) -> Vec<Finding> {
    detect::detect(text)
        .into_iter()
        .map(|hit| {
            let before = &text[..hit.start];
            let line = before.matches('\n').count() + 1;
            let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
            let value = &text[hit.start..hit.end];
            Finding {
                file: file.to_owned(),
                line,
                column,
                rule: hit.rule,
                description: hit.description,
                masked: mask(value),
                fingerprint: fingerprint(hit.rule, file, value),
                commit: commit.map(str::to_owned),
            }
        })
        .collect()
}

/// A short prefix and the length: enough to find it, not enough to use it.
pub fn mask(value: &str) -> String {
    let shown: String = value.chars().take(4).collect();
    format!("{shown}…({} chars)", value.chars().count())
}

/// SHA-256 of the rule, the file and the value, in hex: what a baseline keeps.
pub fn fingerprint(rule: &str, file: &str, value: &str) -> String {
    let mut hash = Sha256::new();
    for part in [rule, file, value] {
        hash.update(part.as_bytes());
        hash.update([0]);
    }
    hash.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// The files under `paths`, walked in parallel, `.gitignore` respected.
fn files(paths: &[PathBuf]) -> Scanned {
    let mut paths = paths.to_vec();
    if paths.is_empty() {
        paths.push(PathBuf::from("."));
    }
    let mut builder = ignore::WalkBuilder::new(&paths[0]);
    for path in &paths[1..] {
        builder.add(path);
    }
    // Hidden files are where `.env` files live: walk them, but never inside `.git`.
    builder
        .hidden(false)
        .git_ignore(true)
        .require_git(false)
        .filter_entry(|entry| entry.file_name() != ".git");
    let found = Mutex::new(Vec::new());
    let counts = Mutex::new((0usize, 0usize));
    builder.build_parallel().run(|| {
        Box::new(|entry| {
            let Ok(entry) = entry else {
                return ignore::WalkState::Continue;
            };
            if !entry.file_type().is_some_and(|t| t.is_file()) {
                return ignore::WalkState::Continue;
            }
            let path = entry.path();
            let shown = path
                .strip_prefix("./")
                .unwrap_or(path)
                .display()
                .to_string();
            match read_text(path) {
                Some(text) => {
                    let mut hits = findings_in(&shown, &text, None);
                    counts.lock().unwrap_or_else(|e| e.into_inner()).0 += 1;
                    if !hits.is_empty() {
                        found
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .append(&mut hits);
                    }
                }
                None => counts.lock().unwrap_or_else(|e| e.into_inner()).1 += 1,
            }
            ignore::WalkState::Continue
        })
    });
    let (files, skipped) = counts.into_inner().unwrap_or_else(|e| e.into_inner());
    Scanned {
        findings: found.into_inner().unwrap_or_else(|e| e.into_inner()),
        files,
        skipped,
    }
}

/// A file's text, or `None` for a binary or huge one. Invalid UTF-8 is read lossily: a secret
/// next to a stray byte is still a secret.
fn read_text(path: &Path) -> Option<String> {
    let meta = std::fs::metadata(path).ok()?;
    if meta.len() > MAX_FILE {
        return None;
    }
    let bytes = std::fs::read(path).ok()?;
    if bytes[..bytes.len().min(8192)].contains(&0) {
        return None;
    }
    Some(String::from_utf8_lossy(&bytes).into_owned())
}

fn git(root: &Path, args: &[&str]) -> Result<String, String> {
    let dir = if root.is_dir() {
        root
    } else {
        root.parent().unwrap_or(Path::new("."))
    };
    let output = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .map_err(|e| format!("cannot run git: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "git {} failed: {}",
            args.first().unwrap_or(&""),
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// The lines a patch adds, by file, with their line numbers in the new file.
fn added_lines(
    patch: &str,
    commit_marker: Option<&str>,
) -> Vec<(Option<String>, String, usize, String)> {
    let mut out = Vec::new();
    let mut commit: Option<String> = None;
    let mut file: Option<String> = None;
    let mut line = 0usize;
    for text in patch.lines() {
        if let Some(marker) = commit_marker
            && let Some(id) = text.strip_prefix(marker)
        {
            commit = Some(id.trim().to_owned());
            continue;
        }
        if let Some(path) = text.strip_prefix("+++ ") {
            file = path
                .strip_prefix("b/")
                .map(str::to_owned)
                .filter(|_| path != "/dev/null");
            continue;
        }
        if text.starts_with("--- ") {
            continue;
        }
        if let Some(header) = text.strip_prefix("@@ ") {
            // `@@ -a,b +c,d @@`: the new file's lines start at c.
            line = header
                .split(' ')
                .find_map(|part| part.strip_prefix('+'))
                .and_then(|range| range.split(',').next())
                .and_then(|n| n.parse().ok())
                .unwrap_or(1);
            continue;
        }
        if let Some(added) = text.strip_prefix('+') {
            if let Some(file) = &file {
                out.push((commit.clone(), file.clone(), line, added.to_owned()));
            }
            line += 1;
        } else if text.starts_with(' ') {
            line += 1;
        }
    }
    out
}

/// Findings in added lines, each at its own line number.
fn scan_added(lines: Vec<(Option<String>, String, usize, String)>) -> Scanned {
    let files = lines
        .iter()
        .map(|(_, file, _, _)| file.as_str())
        .collect::<BTreeSet<_>>()
        .len();
    let mut findings = Vec::new();
    for (commit, file, line, text) in lines {
        for mut finding in findings_in(&file, &text, commit.as_deref()) {
            finding.line = line;
            findings.push(finding);
        }
    }
    Scanned {
        findings,
        files,
        skipped: 0,
    }
}

/// `--staged`: the lines the next commit adds.
fn staged(root: &Path) -> Result<Scanned, String> {
    let patch = git(
        root,
        &[
            "diff",
            "--cached",
            "-U0",
            "--no-color",
            "--no-ext-diff",
            "--text",
        ],
    )?;
    Ok(scan_added(added_lines(&patch, None)))
}

/// `--history`: every line every commit reachable from HEAD added; a secret deleted later is
/// still found, with the commit that added it.
fn history(root: &Path) -> Result<Scanned, String> {
    let patch = git(
        root,
        &[
            "log",
            "-p",
            "-U0",
            "--no-color",
            "--no-ext-diff",
            "--text",
            "--format=commit-id %H",
            "HEAD",
        ],
    )?;
    let mut scanned = scan_added(added_lines(&patch, Some("commit-id ")));
    // The same secret in the same file, found again in later commits, is one finding: the
    // oldest, with the commit that added it (git log lists the newest first).
    let mut seen = BTreeSet::new();
    scanned.findings.reverse();
    scanned
        .findings
        .retain(|f| seen.insert(f.fingerprint.clone()));
    scanned.findings.reverse();
    Ok(scanned)
}
