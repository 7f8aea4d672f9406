//! Documentation generated from a struct's metadata: a `.env.example` file and a Markdown table.

use std::fmt::Write as _;

use crate::meta::{FieldKind, FieldMeta, StructMeta};

/// Renders a `.env.example`: each variable under its doc comment, type and default.
///
/// Required variables are left blank (`NAME=`), optional ones are commented out with their default,
/// and secrets never show a default.
pub fn env_example(meta: &StructMeta) -> String {
    let mut out = format!(
        "# Settings of {} (generated; do not put real secrets here)\n",
        meta.name
    );
    meta.visit_leaves(&mut |scope, path, field| {
        out.push('\n');
        for line in field.doc.lines() {
            if line.is_empty() {
                out.push_str("#\n");
            } else {
                let _ = writeln!(out, "# {line}");
            }
        }
        let _ = writeln!(out, "# {}", describe(path, field));
        let name = field.var_name(scope);
        match (&field.kind, field.default_display()) {
            (FieldKind::Required, _) => {
                let _ = writeln!(out, "{name}=");
            }
            (FieldKind::Default(_), Some(default)) if !default.contains('\n') => {
                let _ = writeln!(out, "# {name}={}", crate::source::dotenv::quote(default));
            }
            _ => {
                let _ = writeln!(out, "# {name}=");
            }
        }
    });
    out
}

/// Renders a Markdown table of the variables, for a README.
pub fn markdown_table(meta: &StructMeta) -> String {
    let mut out = String::from(
        "| Variable | Type | Required | Default | Description |\n|---|---|---|---|---|\n",
    );
    meta.visit_leaves(&mut |scope, _path, field| {
        let mut name = format!("`{}`", field.var_name(scope));
        for alias in field.aliases {
            let _ = write!(name, " (or `{alias}`)");
        }
        let ty = if field.secret {
            format!("`{}` (secret)", field.ty)
        } else {
            format!("`{}`", field.ty)
        };
        let required = if field.is_required() { "yes" } else { "no" };
        let default = match field.default_display() {
            Some(default) => format!("`{}`", default.replace('|', "\\|")),
            None if field.secret && matches!(field.kind, FieldKind::Default(_)) => {
                "(hidden)".to_owned()
            }
            None => String::new(),
        };
        let doc = field.summary().replace('|', "\\|");
        let _ = writeln!(out, "| {name} | {ty} | {required} | {default} | {doc} |");
    });
    out
}

fn describe(path: &str, field: &FieldMeta) -> String {
    let mut text = format!("{}: {}", path, field.ty);
    let state = match &field.kind {
        FieldKind::Required => "required".to_owned(),
        FieldKind::Optional => "optional".to_owned(),
        FieldKind::Default(_) => match field.default_display() {
            Some(default) => format!("default {default}"),
            None => "has a default".to_owned(),
        },
        FieldKind::Nested { .. } | FieldKind::Skipped => String::new(),
    };
    if !state.is_empty() {
        text.push_str(", ");
        text.push_str(&state);
    }
    if field.secret {
        text.push_str(", secret");
    }
    if !field.aliases.is_empty() {
        let _ = write!(text, "; also read from {}", field.aliases.join(", "));
    }
    text
}
