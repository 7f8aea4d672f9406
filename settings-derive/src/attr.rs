//! Reads `#[settings(...)]` attributes and doc comments, keeping the span of every key and value.
//!
//! Nothing here knows about types or other fields: that is `ast.rs` and `check.rs`.

use proc_macro2::{Span, TokenTree};
use syn::meta::ParseNestedMeta;
use syn::{Attribute, Expr, ExprLit, Lit, LitStr, Path, Token};

use crate::errors::Errors;
use crate::symbol::*;

/// A key as written, with the span to point at.
#[derive(Clone)]
pub struct Spanned<T> {
    pub key: Span,
    pub value: T,
}

/// The struct's attributes.
#[derive(Default)]
pub struct StructAttrs {
    pub prefix: Option<Spanned<LitStr>>,
    pub krate: Option<Spanned<Path>>,
}

/// A field's attributes.
#[derive(Default)]
pub struct FieldAttrs {
    pub env: Option<Spanned<LitStr>>,
    pub aliases: Vec<Spanned<LitStr>>,
    pub default: Option<Spanned<DefaultAttr>>,
    pub skip: Option<Spanned<()>>,
    pub secret: Option<Spanned<()>>,
    pub allow_reference: Option<Spanned<()>>,
    pub nested: Option<Spanned<()>>,
    pub prefix: Option<Spanned<LitStr>>,
    pub delimiter: Option<Spanned<LitStr>>,
    pub parse_with: Option<Spanned<Path>>,
}

/// The three forms of `default`.
#[derive(Clone)]
pub enum DefaultAttr {
    /// `default`
    Trait,
    /// `default = "text"`
    Parsed(LitStr),
    /// `default = expr`
    Expr(Expr),
}

pub fn struct_attrs(attrs: &[Attribute], errors: &mut Errors) -> StructAttrs {
    let mut out = StructAttrs::default();
    for_each_key(attrs, errors, |meta, key, errors| {
        match key.as_str() {
            // prefix = "APP_"
            PREFIX => {
                if let Some(value) = string(&meta, errors)? {
                    set(errors, &mut out.prefix, key_span(&meta), value);
                }
            }
            // crate = path::to::settings
            CRATE => {
                if let Some(value) = path(&meta, errors)? {
                    set(errors, &mut out.krate, key_span(&meta), value);
                }
            }
            _ => unknown(&meta, &key, STRUCT_KEYS, FIELD_KEYS, "a field", errors)?,
        }
        Ok(())
    });
    out
}

pub fn field_attrs(attrs: &[Attribute], errors: &mut Errors) -> FieldAttrs {
    let mut out = FieldAttrs::default();
    for_each_key(attrs, errors, |meta, key, errors| {
        let span = key_span(&meta);
        match key.as_str() {
            // env = "NAME"
            ENV => {
                if let Some(value) = string(&meta, errors)? {
                    set(errors, &mut out.env, span, value);
                }
            }
            // alias = "OLD_NAME" (repeatable)
            ALIAS => {
                if let Some(value) = string(&meta, errors)? {
                    out.aliases.push(Spanned { key: span, value });
                }
            }
            // default | default = "text" | default = expr
            DEFAULT => {
                let value = if meta.input.peek(Token![=]) {
                    match meta.value()?.parse::<Expr>()? {
                        Expr::Lit(ExprLit {
                            lit: Lit::Str(text),
                            ..
                        }) => DefaultAttr::Parsed(text),
                        expr => DefaultAttr::Expr(expr),
                    }
                } else {
                    DefaultAttr::Trait
                };
                set(errors, &mut out.default, span, value);
            }
            // skip
            SKIP => {
                if flag(&meta, SKIP, errors)? {
                    set(errors, &mut out.skip, span, ());
                }
            }
            // secret
            SECRET => {
                if flag(&meta, SECRET, errors)? {
                    set(errors, &mut out.secret, span, ());
                }
            }
            // allow_reference
            ALLOW_REFERENCE => {
                if flag(&meta, ALLOW_REFERENCE, errors)? {
                    set(errors, &mut out.allow_reference, span, ());
                }
            }
            // nested
            NESTED => {
                if flag(&meta, NESTED, errors)? {
                    set(errors, &mut out.nested, span, ());
                }
            }
            // prefix = "REPLICA_" (with nested)
            PREFIX => {
                if let Some(value) = string(&meta, errors)? {
                    set(errors, &mut out.prefix, span, value);
                }
            }
            // delimiter = ";"
            DELIMITER => {
                if let Some(value) = string(&meta, errors)? {
                    set(errors, &mut out.delimiter, span, value);
                }
            }
            // parse_with = path::to::function
            PARSE_WITH => {
                if let Some(value) = path(&meta, errors)? {
                    set(errors, &mut out.parse_with, span, value);
                }
            }
            _ => unknown(&meta, &key, FIELD_KEYS, STRUCT_KEYS, "the struct", errors)?,
        }
        Ok(())
    });
    out
}

/// The doc comment's lines, each without the one space that follows `///`, outer blank lines removed.
pub fn doc_comment(attrs: &[Attribute]) -> String {
    let mut lines = Vec::new();
    for attr in attrs.iter().filter(|a| a.path().is_ident("doc")) {
        if let syn::Meta::NameValue(nv) = &attr.meta
            && let Expr::Lit(ExprLit {
                lit: Lit::Str(text),
                ..
            }) = &nv.value
        {
            // `///` alone is `#[doc = ""]`: a blank line that separates paragraphs.
            for line in text.value().split('\n') {
                let line = line.strip_prefix(' ').unwrap_or(line);
                lines.push(line.trim_end().to_owned());
            }
        }
    }
    while lines.last().is_some_and(String::is_empty) {
        lines.pop();
    }
    let start = lines.iter().take_while(|l| l.is_empty()).count();
    lines[start..].join("\n")
}

type KeyFn<'a> = dyn FnMut(ParseNestedMeta<'_>, String, &mut Errors) -> syn::Result<()> + 'a;

/// Calls `each` for every key of every `#[settings(...)]` attribute. A malformed key is recorded
/// and parsing goes on with the next attribute, so that one build reports every mistake.
fn for_each_key(
    attrs: &[Attribute],
    errors: &mut Errors,
    mut each: impl FnMut(ParseNestedMeta<'_>, String, &mut Errors) -> syn::Result<()>,
) {
    let each: &mut KeyFn<'_> = &mut each;
    for attr in attrs.iter().filter(|a| a.path().is_ident(SETTINGS)) {
        if let syn::Meta::Path(_) = attr.meta {
            errors.spanned(attr, "expected `#[settings(...)]` with at least one key");
            continue;
        }
        let mut inner = Errors::default();
        let result = attr.parse_nested_meta(|meta| {
            let key = match meta.path.get_ident() {
                Some(ident) => ident.to_string(),
                None => {
                    inner.spanned(&meta.path, "expected a key such as `env` or `default`");
                    return skip_value(&meta);
                }
            };
            each(meta, key, &mut inner)
        });
        if let Err(error) = inner.finish() {
            errors.push(error);
        }
        if let Err(error) = result {
            errors.push(error);
        }
    }
}

fn key_span(meta: &ParseNestedMeta<'_>) -> Span {
    syn::spanned::Spanned::span(&meta.path)
}

fn set<T>(errors: &mut Errors, slot: &mut Option<Spanned<T>>, key: Span, value: T) {
    if slot.is_some() {
        errors.at(key, "duplicate key: it is already set on this item");
    } else {
        *slot = Some(Spanned { key, value });
    }
}

/// The key's name and the expression after its `=`.
fn key_and_value(meta: &ParseNestedMeta<'_>) -> syn::Result<(String, Expr)> {
    let name = meta
        .path
        .get_ident()
        .map(ToString::to_string)
        .unwrap_or_default();
    Ok((name, meta.value()?.parse()?))
}

fn expects_path(name: &str) -> String {
    format!("`{name}` expects a path, e.g. {name} = crate::parse_thing")
}

/// `Ok(None)` after recording a value of the wrong kind; `Err` when the tokens cannot be parsed.
fn string(meta: &ParseNestedMeta<'_>, errors: &mut Errors) -> syn::Result<Option<LitStr>> {
    let (name, expr) = key_and_value(meta)?;
    match expr {
        Expr::Lit(ExprLit {
            lit: Lit::Str(text),
            ..
        }) => Ok(Some(text)),
        other => {
            let example = example(&name);
            let message = format!("`{name}` expects a string literal, e.g. {name} = \"{example}\"");
            errors.spanned(other, message);
            Ok(None)
        }
    }
}

fn example(key: &str) -> &'static str {
    match key {
        PREFIX => "APP_",
        DELIMITER => ";",
        ALIAS => "OLD_NAME",
        _ => "NAME",
    }
}

/// A path, written bare (`parse_with = my::parse`) or quoted (`parse_with = "my::parse"`).
fn path(meta: &ParseNestedMeta<'_>, errors: &mut Errors) -> syn::Result<Option<Path>> {
    let (name, expr) = key_and_value(meta)?;
    match expr {
        Expr::Path(path) if path.qself.is_none() => Ok(Some(path.path)),
        Expr::Lit(ExprLit {
            lit: Lit::Str(text),
            ..
        }) => match text.parse() {
            Ok(path) => Ok(Some(path)),
            Err(_) => {
                errors.spanned(text, expects_path(&name));
                Ok(None)
            }
        },
        other => {
            errors.spanned(other, expects_path(&name));
            Ok(None)
        }
    }
}

/// `Ok(true)` for a bare flag; `Ok(false)` after recording a flag that was given a value.
fn flag(meta: &ParseNestedMeta<'_>, name: &str, errors: &mut Errors) -> syn::Result<bool> {
    if meta.input.peek(Token![=]) || meta.input.peek(syn::token::Paren) {
        errors.spanned(
            &meta.path,
            format!("`{name}` takes no value: write `{name}` alone"),
        );
        skip_value(meta)?;
        return Ok(false);
    }
    Ok(true)
}

fn unknown(
    meta: &ParseNestedMeta<'_>,
    key: &str,
    known: &[&str],
    other: &[&str],
    other_place: &str,
    errors: &mut Errors,
) -> syn::Result<()> {
    let mut message = format!("unknown settings attribute `{key}`");
    if other.contains(&key) {
        message.push_str(&format!("; `{key}` belongs on {other_place}"));
    } else if let Some(close) = did_you_mean(key, known) {
        message.push_str(&format!("; did you mean `{close}`?"));
    } else {
        message.push_str(&format!("; expected one of: {}", known.join(", ")));
    }
    errors.spanned(&meta.path, message);
    skip_value(meta)
}

/// Consumes `= value` or `(...)` after a key that is being rejected, up to the next comma.
fn skip_value(meta: &ParseNestedMeta<'_>) -> syn::Result<()> {
    if meta.input.peek(Token![=]) {
        meta.input.parse::<Token![=]>()?;
        while !meta.input.is_empty() && !meta.input.peek(Token![,]) {
            meta.input.parse::<TokenTree>()?;
        }
    } else if meta.input.peek(syn::token::Paren) {
        meta.input.parse::<TokenTree>()?;
    }
    Ok(())
}

/// The known key closest to `key`, if it is close enough to be a typo.
pub fn did_you_mean<'a>(key: &str, known: &[&'a str]) -> Option<&'a str> {
    known
        .iter()
        .map(|candidate| (edit_distance(key, candidate), *candidate))
        .filter(|(distance, candidate)| *distance <= 2.max(candidate.len() / 3))
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

#[cfg(test)]
mod tests {
    use super::*;
    use syn::parse_quote;

    fn field(attrs: Vec<Attribute>) -> (FieldAttrs, Option<String>) {
        let mut errors = Errors::default();
        let parsed = field_attrs(&attrs, &mut errors);
        (parsed, errors.finish().err().map(|e| e.to_string()))
    }

    fn all_errors(attrs: Vec<Attribute>) -> Vec<String> {
        let mut errors = Errors::default();
        field_attrs(&attrs, &mut errors);
        match errors.finish() {
            Ok(()) => Vec::new(),
            Err(e) => e.into_iter().map(|e| e.to_string()).collect(),
        }
    }

    #[test]
    fn reads_every_field_key() {
        let (attrs, error) = field(vec![
            parse_quote!(#[settings(env = "DB", alias = "OLD_DB", alias = "OLDER_DB")]),
            parse_quote!(#[settings(default = "30s", secret, delimiter = ";")]),
            parse_quote!(#[settings(parse_with = crate::parse)]),
        ]);
        assert_eq!(error, None);
        assert_eq!(attrs.env.map(|e| e.value.value()).as_deref(), Some("DB"));
        let aliases: Vec<_> = attrs.aliases.iter().map(|a| a.value.value()).collect();
        assert_eq!(aliases, ["OLD_DB", "OLDER_DB"]);
        assert!(
            matches!(attrs.default.map(|d| d.value), Some(DefaultAttr::Parsed(t)) if t.value() == "30s")
        );
        assert!(attrs.secret.is_some());
        assert_eq!(
            attrs.delimiter.map(|d| d.value.value()).as_deref(),
            Some(";")
        );
        assert!(attrs.parse_with.is_some());
    }

    #[test]
    fn default_forms() {
        let (attrs, _) = field(vec![parse_quote!(#[settings(default)])]);
        assert!(matches!(
            attrs.default.map(|d| d.value),
            Some(DefaultAttr::Trait)
        ));
        let (attrs, _) = field(vec![parse_quote!(#[settings(default = 100)])]);
        assert!(matches!(
            attrs.default.map(|d| d.value),
            Some(DefaultAttr::Expr(_))
        ));
        let (attrs, _) = field(vec![parse_quote!(#[settings(default = Vec::new())])]);
        assert!(matches!(
            attrs.default.map(|d| d.value),
            Some(DefaultAttr::Expr(_))
        ));
    }

    #[test]
    fn unknown_key_suggests_the_closest() {
        let errors = all_errors(vec![parse_quote!(#[settings(defualt = 3)])]);
        assert_eq!(
            errors,
            ["unknown settings attribute `defualt`; did you mean `default`?"]
        );
        let errors = all_errors(vec![parse_quote!(#[settings(crate = x)])]);
        assert_eq!(
            errors,
            ["unknown settings attribute `crate`; `crate` belongs on the struct"]
        );
    }

    #[test]
    fn every_mistake_is_reported_in_one_pass() {
        let errors = all_errors(vec![
            parse_quote!(#[settings(delimiter = 5, secert, env = "A", env = "B")]),
            parse_quote!(#[settings(skip = true)]),
        ]);
        assert_eq!(errors.len(), 4, "{errors:?}");
        assert!(
            errors[0].starts_with("`delimiter` expects a string literal"),
            "{errors:?}"
        );
        assert!(errors[1].contains("did you mean `secret`?"), "{errors:?}");
        assert!(errors[2].starts_with("duplicate key"), "{errors:?}");
        assert_eq!(errors[3], "`skip` takes no value: write `skip` alone");
    }

    #[test]
    fn doc_comments_are_trimmed_and_joined() {
        let attrs: Vec<Attribute> = vec![
            parse_quote!(#[doc = ""]),
            parse_quote!(#[doc = " Shopify Admin API token"]),
            parse_quote!(#[doc = "   indented"]),
            parse_quote!(#[doc = ""]),
        ];
        assert_eq!(doc_comment(&attrs), "Shopify Admin API token\n  indented");
    }

    #[test]
    fn typo_distance() {
        assert_eq!(did_you_mean("delimeter", FIELD_KEYS), Some("delimiter"));
        assert_eq!(did_you_mean("nestd", FIELD_KEYS), Some("nested"));
        assert_eq!(did_you_mean("zzzzzz", FIELD_KEYS), None);
    }
}
