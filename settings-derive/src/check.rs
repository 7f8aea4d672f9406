//! Rules across fields: no two fields, or aliases, read the same variable.

use std::collections::HashMap;

use proc_macro2::Span;

use crate::ast::{Container, Kind};
use crate::errors::Errors;

pub fn check(container: &Container<'_>, errors: &mut Errors) {
    let mut seen: HashMap<String, String> = HashMap::new();
    for field in &container.fields {
        if matches!(field.kind, Kind::Nested { .. } | Kind::Skipped) {
            continue;
        }
        let field_name = field.ident.to_string();
        let primary = (field.primary_name(&container.prefix), field.key_span);
        let aliases = field.aliases.iter().map(|a| (a.value(), a.span()));
        for (name, span) in std::iter::once(primary).chain(aliases) {
            claim(&mut seen, name, span, &field_name, errors);
        }
    }
}

fn claim(
    seen: &mut HashMap<String, String>,
    name: String,
    span: Span,
    field: &str,
    errors: &mut Errors,
) {
    match seen.get(&name) {
        Some(owner) if owner == field => errors.at(
            span,
            format!("variable `{name}` is listed twice for field `{field}`"),
        ),
        Some(owner) => errors.at(
            span,
            format!("variable `{name}` is already read by field `{owner}`; rename one with `env = \"...\"`"),
        ),
        None => {
            seen.insert(name, field.to_owned());
        }
    }
}
