//! Strict mode: variables in the files that look like settings but belong to no field.

use std::collections::HashSet;

use super::Sources;
use crate::source::SourceProblem;

impl Sources<'_> {
    /// Variables in the files that look like settings of `meta` (they carry its prefix, or any
    /// variable when it has none) but belong to no field.
    pub(super) fn unknown_variables(
        &self,
        meta: &crate::meta::StructMeta,
        profile_var: &Option<String>,
    ) -> Vec<SourceProblem> {
        let mut known: HashSet<String> = HashSet::new();
        meta.visit_leaves(&mut |scope, _path, field| {
            let name = field.var_name(scope);
            known.insert(format!("{name}_FILE"));
            known.insert(name);
            for alias in field.aliases {
                known.insert(format!("{alias}_FILE"));
                known.insert((*alias).to_owned());
            }
        });
        if let Some(var) = profile_var {
            known.insert(var.clone());
        }
        let mut candidates: Vec<&str> = known
            .iter()
            .map(String::as_str)
            .filter(|n| !n.ends_with("_FILE"))
            .collect();
        candidates.sort_unstable();
        let mut problems = Vec::new();
        for file in &self.files {
            let mut definitions: Vec<_> = file.definitions().collect();
            definitions.sort_by_key(|(_, line)| *line);
            for (name, line) in definitions {
                if known.contains(name) || !name.starts_with(meta.prefix) {
                    continue;
                }
                let mut message = format!("`{name}` is not a setting of {}", meta.name);
                if let Some(close) = closest(name, &candidates) {
                    message.push_str(&format!("; did you mean `{close}`?"));
                }
                problems.push(
                    SourceProblem::new(file.path(), Some(line).filter(|l| *l > 0), message)
                        .with_name(name),
                );
            }
        }
        problems
    }
}

impl Sources<'_> {
    /// Every `$NAME` / `${NAME}` in the files of a variable set nowhere (it expanded to
    /// nothing), with its file and line: strict mode and `settings check` report them.
    pub fn unset_references(&self) -> Vec<SourceProblem> {
        let mut problems = Vec::new();
        for file in &self.files {
            for unset in file.unset_references() {
                let problem = match unset.shown_name() {
                    Some(name) => SourceProblem::new(
                        file.path(),
                        Some(unset.line),
                        format!(
                            "`{name}` is expanded here but is set nowhere (not in the environment, \
                             the other files or an earlier line of this one), so it expands to \
                             nothing; write `${{{name}-}}` if empty is meant"
                        ),
                    )
                    .with_name(name),
                    // The `$` may be part of a secret value: the word after it is not shown.
                    None => SourceProblem::new(
                        file.path(),
                        Some(unset.line),
                        format!(
                            "the value of `{}` expands a variable that is set nowhere, so it \
                             expands to nothing (its name is not shown: it may be part of a \
                             secret); write `$$` for a literal `$`",
                            unset.definition
                        ),
                    )
                    .with_name(unset.definition.clone()),
                };
                problems.push(problem);
            }
        }
        problems
    }
}

/// The candidate closest to `name`, if it is close enough to be a typo.
fn closest<'a>(name: &str, candidates: &[&'a str]) -> Option<&'a str> {
    candidates
        .iter()
        .map(|candidate| (edit_distance(name, candidate), *candidate))
        .filter(|(distance, candidate)| *distance <= 3.max(candidate.len() / 4))
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, candidate)| candidate)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = if ca == *cb {
                diagonal
            } else {
                1 + diagonal.min(above).min(row[j])
            };
            diagonal = above;
        }
    }
    row[b.len()]
}
