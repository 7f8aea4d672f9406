//! The parsed form of a settings struct: for every field, how it is read, decided once.

use proc_macro2::Span;
use syn::{Data, DeriveInput, Expr, Fields, Ident, LitStr, Path, Type};

use crate::attr::{self, DefaultAttr, FieldAttrs, Spanned};
use crate::errors::Errors;
use crate::ty::{Shape, option_inner};

pub struct Container<'a> {
    pub ident: &'a Ident,
    pub prefix: String,
    pub krate: Path,
    pub fields: Vec<Field<'a>>,
}

pub struct Field<'a> {
    pub ident: &'a Ident,
    pub ty: &'a Type,
    pub doc: String,
    /// The variable name before the prefix, or the exact name from `env`.
    pub key: String,
    pub exact: bool,
    /// Where a duplicate-name error about the primary name should point.
    pub key_span: Span,
    pub aliases: Vec<LitStr>,
    pub kind: Kind<'a>,
    pub secret: bool,
    pub allow_reference: bool,
    pub delimiter: String,
}

/// How a field gets its value; the generator is a `match` on this.
pub enum Kind<'a> {
    Required(Read<'a>),
    Optional(Read<'a>),
    Default(Read<'a>, Default),
    Nested { prefix: Option<String> },
    Skipped,
}

/// How a present value is coerced.
pub enum Read<'a> {
    Shape(Shape<'a>),
    With(Path),
}

pub enum Default {
    Trait,
    Parsed(LitStr),
    Expr(Expr),
}

impl<'a> Container<'a> {
    pub fn from_ast(input: &'a DeriveInput, errors: &mut Errors) -> Option<Container<'a>> {
        let attrs = attr::struct_attrs(&input.attrs, errors);
        let named = match &input.data {
            Data::Struct(data) => match &data.fields {
                Fields::Named(named) => named,
                _ => {
                    errors.spanned(
                        &input.ident,
                        "#[derive(Settings)] needs a struct with named fields, such as `struct App { port: u16 }`",
                    );
                    return None;
                }
            },
            _ => {
                errors.spanned(
                    &input.ident,
                    "#[derive(Settings)] works on structs with named fields only",
                );
                return None;
            }
        };
        if !input.generics.params.is_empty() {
            errors.spanned(
                &input.generics,
                "#[derive(Settings)] does not support generic structs",
            );
        }
        let prefix = match attrs.prefix {
            Some(Spanned { value, .. }) => {
                let text = value.value();
                if !text.is_empty() {
                    validate_name(&value, "prefix", errors);
                }
                text
            }
            None => String::new(),
        };
        let krate = attrs
            .krate
            .map(|k| k.value)
            .unwrap_or_else(|| syn::parse_quote!(::settings));
        let fields = named
            .named
            .iter()
            .filter_map(|field| Field::from_ast(field, errors))
            .collect();
        Some(Container {
            ident: &input.ident,
            prefix,
            krate,
            fields,
        })
    }
}

impl<'a> Field<'a> {
    fn from_ast(field: &'a syn::Field, errors: &mut Errors) -> Option<Field<'a>> {
        let ident = field.ident.as_ref()?;
        let attrs = attr::field_attrs(&field.attrs, errors);
        let doc = attr::doc_comment(&field.attrs);
        check_combinations(&attrs, errors);

        let (key, exact, key_span) = match &attrs.env {
            Some(env) => {
                validate_name(&env.value, "variable name", errors);
                (env.value.value(), true, env.value.span())
            }
            None => (screaming_snake(ident), false, ident.span()),
        };
        for alias in &attrs.aliases {
            validate_name(&alias.value, "alias", errors);
        }
        let delimiter = match &attrs.delimiter {
            Some(d) if d.value.value().is_empty() => {
                errors.spanned(&d.value, "the delimiter cannot be empty");
                ",".to_owned()
            }
            Some(d) => d.value.value(),
            None => ",".to_owned(),
        };

        let optional = option_inner(&field.ty);
        let value_ty = optional.unwrap_or(&field.ty);
        let shape = Shape::of(value_ty);
        // A secret type stays secret whatever parses it.
        let type_secret = shape.is_secret();
        if let Some(d) = &attrs.delimiter
            && !shape.is_list()
        {
            errors.at(d.key, "`delimiter` applies to `Vec<T>` fields only");
        }
        let read = match attrs.parse_with.clone() {
            Some(path) => Read::With(path.value),
            None => Read::Shape(shape),
        };
        let kind = if attrs.skip.is_some() {
            Kind::Skipped
        } else if attrs.nested.is_some() {
            if optional.is_some() {
                errors.spanned(&field.ty, "a `nested` field cannot be an `Option`");
            }
            let prefix = attrs.prefix.as_ref().map(|p| {
                let text = p.value.value();
                if !text.is_empty() {
                    validate_name(&p.value, "prefix", errors);
                }
                text
            });
            Kind::Nested { prefix }
        } else if let Some(default) = attrs.default.clone() {
            if optional.is_some() {
                errors.at(
                    default.key,
                    "`default` on an `Option` field: it is already `None` when not set; remove `default` or the `Option`",
                );
            }
            let default = match default.value {
                DefaultAttr::Trait => Default::Trait,
                DefaultAttr::Parsed(text) => Default::Parsed(text),
                DefaultAttr::Expr(expr) => Default::Expr(expr),
            };
            Kind::Default(read, default)
        } else if optional.is_some() {
            Kind::Optional(read)
        } else {
            Kind::Required(read)
        };
        Some(Field {
            ident,
            ty: &field.ty,
            doc,
            key,
            exact,
            key_span,
            aliases: attrs.aliases.into_iter().map(|a| a.value).collect(),
            kind,
            secret: attrs.secret.is_some() || type_secret,
            allow_reference: attrs.allow_reference.is_some(),
            delimiter,
        })
    }

    /// The variable name this field reads first, under the struct's prefix.
    pub fn primary_name(&self, prefix: &str) -> String {
        if self.exact {
            self.key.clone()
        } else {
            format!("{prefix}{}", self.key)
        }
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

/// `shopify_api_key` → `SHOPIFY_API_KEY`; a raw identifier loses its `r#`.
fn screaming_snake(ident: &Ident) -> String {
    let name = ident.to_string();
    name.strip_prefix("r#")
        .unwrap_or(&name)
        .to_ascii_uppercase()
}
