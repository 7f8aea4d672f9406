//! Every rule of the derive, applied to the parsed form: the struct's shape, each field's
//! attributes against its type, and the rules across fields (no two fields read one variable).

use std::collections::HashMap;

use proc_macro2::Span;
use syn::LitStr;

use crate::ast::{Container, Field, Kind};
use crate::attr::{DefaultAttr, FieldAttrs};
use crate::errors::Errors;
use crate::ty::Shape;

pub fn check(container: &Container<'_>, errors: &mut Errors) {
    if !container.generics.params.is_empty() {
        errors.spanned(
            container.generics,
            "#[derive(Settings)] does not support generic structs",
        );
    }
    if let Some(prefix) = &container.attrs.prefix
        && !prefix.value.value().is_empty()
    {
        validate_name(&prefix.value, "prefix", errors);
    }
    for field in &container.fields {
        check_field(field, errors);
    }
    check_names(container, errors);
}

/// The rules of one field: which keys go together, valid names, and keys that need a type.
fn check_field(field: &Field<'_>, errors: &mut Errors) {
    let attrs = &field.attrs;
    check_combinations(attrs, errors);
    check_hardcoded_secret(field, errors);
    if let Some(env) = &attrs.env {
        validate_name(&env.value, "variable name", errors);
    }
    for alias in &attrs.aliases {
        validate_name(&alias.value, "alias", errors);
    }
    if let Some(d) = &attrs.delimiter {
        if d.value.value().is_empty() {
            errors.spanned(&d.value, "the delimiter cannot be empty");
        }
        if !Shape::of(field.value_ty).is_list() {
            errors.at(d.key, "`delimiter` applies to `Vec<T>` fields only");
        }
    }
    match &field.kind {
        Kind::Nested { prefix } => {
            if field.optional {
                errors.spanned(field.ty, "a `nested` field cannot be an `Option`");
            }
            if let (Some(attr), Some(text)) = (&attrs.prefix, prefix)
                && !text.is_empty()
            {
                validate_name(&attr.value, "prefix", errors);
            }
        }
        Kind::Default(..) if field.optional => {
            if let Some(default) = &attrs.default {
                errors.at(
                    default.key,
                    "`default` on an `Option` field: it is already `None` when not set; remove `default` or the `Option`",
                );
            }
        }
        _ => {}
    }
}

/// A secret field's default written as a string that holds a secret of a known format (an AWS
/// key, a GitHub token...): a hardcoded secret, refused at the literal.
fn check_hardcoded_secret(field: &Field<'_>, errors: &mut Errors) {
    if !field.secret {
        return;
    }
    let Some(default) = &field.attrs.default else {
        return;
    };
    let literal = match &default.value {
        DefaultAttr::Parsed(text) => Some(text.clone()),
        DefaultAttr::Expr(syn::Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Str(text),
            ..
        })) => Some(text.clone()),
        _ => None,
    };
    let Some(literal) = literal else {
        return;
    };
    if let Some(found) = crate::known_secrets::find_all(&literal.value()).first() {
        errors.spanned(
            &literal,
            format!(
                "a secret default is a hardcoded secret ({}): set it in the environment, a secret file or a secret store instead",
                found.rule.description
            ),
        );
    }
}

/// Keys that make no sense together on one field.
fn check_combinations(attrs: &FieldAttrs, errors: &mut Errors) {
    let present = |name: &'static str, key: Option<Span>| key.map(|span| (name, span));
    let others = [
        present("env", attrs.env.as_ref().map(|a| a.key)),
        present("alias", attrs.aliases.first().map(|a| a.key)),
        present("default", attrs.default.as_ref().map(|a| a.key)),
        present("secret", attrs.secret.as_ref().map(|a| a.key)),
        present(
            "allow_reference",
            attrs.allow_reference.as_ref().map(|a| a.key),
        ),
        present("delimiter", attrs.delimiter.as_ref().map(|a| a.key)),
        present("parse_with", attrs.parse_with.as_ref().map(|a| a.key)),
    ];
    if attrs.skip.is_some() {
        let also = [
            present("nested", attrs.nested.as_ref().map(|a| a.key)),
            present("prefix", attrs.prefix.as_ref().map(|a| a.key)),
        ];
        for (name, span) in others.iter().chain(&also).flatten() {
            errors.at(
                *span,
                format!("`{name}` cannot be combined with `skip`: a skipped field reads nothing"),
            );
        }
    } else if attrs.nested.is_some() {
        for (name, span) in others.iter().flatten() {
            errors.at(
                *span,
                format!("`{name}` cannot be combined with `nested`: set it on the nested struct's fields"),
            );
        }
    } else if let Some(prefix) = &attrs.prefix {
        errors.at(
            prefix.key,
            "`prefix` on a field needs `nested`: #[settings(nested, prefix = \"...\")]",
        );
    }
}

/// Variable names and prefixes: ASCII letters, digits and `_`, not starting with a digit.
fn validate_name(lit: &LitStr, what: &str, errors: &mut Errors) {
    let text = lit.value();
    let problem = if text.is_empty() {
        Some("cannot be empty".to_owned())
    } else if text.starts_with(|c: char| c.is_ascii_digit()) {
        Some("cannot start with a digit".to_owned())
    } else {
        text.chars()
            .find(|c| !(c.is_ascii_alphanumeric() || *c == '_'))
            .map(|c| format!("contains {c:?}; use only ASCII letters, digits and `_`"))
    };
    if let Some(problem) = problem {
        errors.spanned(lit, format!("invalid {what} {text:?}: {problem}"));
    }
}

/// No two fields, or aliases, read the same variable.
fn check_names(container: &Container<'_>, errors: &mut Errors) {
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
