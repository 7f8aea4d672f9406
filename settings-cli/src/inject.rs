//! `settings inject`: a template's placeholders resolved into a file of mode 0600, whole or not
//! at all.

use std::collections::{BTreeSet, HashMap};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use settings::store::Reference;
use settings::zeroize::Zeroizing;
use settings::{ExposeSecret, Loader};

use crate::get::is_name;

/// The largest template read.
const MAX_TEMPLATE: u64 = 1024 * 1024;

/// A piece of a template.
#[derive(Debug, PartialEq)]
enum Piece<'t> {
    Text(&'t str),
    Reference(&'t str),
    Name(&'t str),
}

pub fn inject(loader: &Loader, input: &Path, output: &Path) -> ExitCode {
    let shown = input.display();
    let template = match read_template(input) {
        Ok(text) => text,
        Err(message) => {
            eprintln!("settings inject: {shown}: {message}; nothing was written");
            return ExitCode::from(1);
        }
    };
    let pieces = match parse(&template) {
        Ok(pieces) => pieces,
        Err(problems) => {
            for problem in problems {
                eprintln!("settings inject: {shown} {problem}");
            }
            eprintln!("settings inject: nothing was written");
            return ExitCode::from(1);
        }
    };
    let (values, problems) = resolve(loader, &pieces);
    if !problems.is_empty() {
        for problem in &problems {
            eprintln!("settings inject: {problem}");
        }
        eprintln!(
            "settings inject: {} placeholder{} of {shown} could not be resolved; nothing was written",
            problems.len(),
            if problems.len() == 1 { "" } else { "s" }
        );
        return ExitCode::from(1);
    }
    let rendered = render(&pieces, &values);
    match write_whole(output, rendered.as_bytes()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!(
                "settings inject: cannot write {}: {err}; nothing was written",
                output.display()
            );
            ExitCode::from(1)
        }
    }
}

fn read_template(path: &Path) -> Result<String, String> {
    let meta = std::fs::metadata(path).map_err(|e| e.to_string())?;
    if !meta.is_file() {
        return Err("not a regular file".to_owned());
    }
    if meta.len() > MAX_TEMPLATE {
        return Err(format!("larger than {MAX_TEMPLATE} bytes"));
    }
    std::fs::read_to_string(path).map_err(|e| e.to_string())
}

/// Splits a template into text and placeholders: `{{ REFERENCE }}`, `{{ NAME }}`; `\{{` is a
/// literal `{{`. Every malformed placeholder is reported, by line and column, without its text.
fn parse(template: &str) -> Result<Vec<Piece<'_>>, Vec<String>> {
    let mut pieces = Vec::new();
    let mut problems = Vec::new();
    let mut rest = 0;
    while let Some(found) = template[rest..].find("{{") {
        let open = rest + found;
        if template[..open].ends_with('\\') {
            pieces.push(Piece::Text(&template[rest..open - 1]));
            pieces.push(Piece::Text("{{"));
            rest = open + 2;
            continue;
        }
        pieces.push(Piece::Text(&template[rest..open]));
        let (line, column) = position(template, open);
        let Some(length) = template[open + 2..].find("}}") else {
            problems.push(format!(
                "line {line}, column {column}: `{{{{` is never closed by `}}}}`"
            ));
            return Err(problems);
        };
        let inner = template[open + 2..open + 2 + length].trim();
        match Reference::parse(inner) {
            Some(Ok(_)) => pieces.push(Piece::Reference(inner)),
            Some(Err(message)) => {
                problems.push(format!("line {line}, column {column}: {message}"));
            }
            None if is_name(inner) => pieces.push(Piece::Name(inner)),
            None => problems.push(format!(
                "line {line}, column {column}: a placeholder holds a reference (vault:PATH#KEY, \
                 ssm:NAME, secretsmanager:ID[#KEY]) or a variable name; write \\{{{{ for a literal {{{{"
            )),
        }
        rest = open + 2 + length + 2;
    }
    pieces.push(Piece::Text(&template[rest..]));
    if problems.is_empty() {
        Ok(pieces)
    } else {
        Err(problems)
    }
}

/// The 1-based line and column (in characters) of byte `offset`.
fn position(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// Resolves every placeholder: references in one batch per store, names as a load would.
fn resolve<'t>(
    loader: &Loader,
    pieces: &[Piece<'t>],
) -> (HashMap<&'t str, Zeroizing<String>>, Vec<String>) {
    let references: BTreeSet<&str> = pieces
        .iter()
        .filter_map(|p| match p {
            Piece::Reference(r) => Some(*r),
            _ => None,
        })
        .collect();
    let names: BTreeSet<&str> = pieces
        .iter()
        .filter_map(|p| match p {
            Piece::Name(n) => Some(*n),
            _ => None,
        })
        .collect();
    let mut values = HashMap::new();
    let mut problems = Vec::new();
    if !references.is_empty() {
        let references: Vec<&str> = references.into_iter().collect();
        let answers = loader.store_client().get_many(&references);
        for (reference, answer) in references.into_iter().zip(answers) {
            match answer {
                Ok(secret) => {
                    values.insert(reference, Zeroizing::new(secret.expose_secret().to_owned()));
                }
                Err(err) => problems.push(err.to_string()),
            }
        }
    }
    if !names.is_empty() {
        let names: Vec<&str> = names.into_iter().collect();
        let (found, missing) = crate::get::variables(loader, &names);
        values.extend(found);
        problems.extend(missing);
    }
    (values, problems)
}

/// The rendered text, built at its final size.
fn render(pieces: &[Piece<'_>], values: &HashMap<&str, Zeroizing<String>>) -> Zeroizing<String> {
    let text = |piece: &Piece<'_>| -> usize {
        match piece {
            Piece::Text(t) => t.len(),
            Piece::Reference(k) | Piece::Name(k) => values.get(k).map_or(0, |v| v.len()),
        }
    };
    let mut out = Zeroizing::new(String::with_capacity(pieces.iter().map(text).sum()));
    for piece in pieces {
        match piece {
            Piece::Text(t) => out.push_str(t),
            Piece::Reference(k) | Piece::Name(k) => {
                if let Some(value) = values.get(k) {
                    out.push_str(value);
                }
            }
        }
    }
    out
}

/// Writes `bytes` to `path` whole or not at all: a new file of mode 0600 beside it, synced, then
/// renamed over it.
fn write_whole(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .ok_or_else(|| std::io::Error::other("the output names no file"))?;
    let temporary: PathBuf = dir.join(format!(
        ".{}.settings-{}.tmp",
        name.to_string_lossy(),
        std::process::id()
    ));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let result = options.open(&temporary).and_then(|mut file| {
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&temporary, path)
    });
    if result.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_and_escapes() {
        let pieces = parse("a {{ vault:secret/app#K }} b {{NAME}} \\{{ c }} {{ssm:/x}}").unwrap();
        assert_eq!(
            pieces,
            [
                Piece::Text("a "),
                Piece::Reference("vault:secret/app#K"),
                Piece::Text(" b "),
                Piece::Name("NAME"),
                Piece::Text(" "),
                Piece::Text("{{"),
                Piece::Text(" c }} "),
                Piece::Reference("ssm:/x"),
                Piece::Text(""),
            ]
        );
    }

    #[test]
    fn malformed_placeholders_are_placed_and_not_quoted() {
        let problems =
            parse("ok {{ NAME }}\n  {{ not a s3cret }}\n{{ vault:nohash }}\n{{ open").unwrap_err();
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert!(
            problems[0].starts_with("line 2, column 3: a placeholder holds"),
            "{problems:?}"
        );
        assert!(problems[1].starts_with("line 3, column 1:"), "{problems:?}");
        assert!(
            problems[2].starts_with("line 4, column 1: `{{` is never closed"),
            "{problems:?}"
        );
        assert!(problems.iter().all(|p| !p.contains("s3cret")));
    }
}
