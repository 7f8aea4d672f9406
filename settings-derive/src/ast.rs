//! The parsed form of a settings struct: for every field, how it is read, decided once.
//!
//! Nothing here reports a mistake: the attributes are kept, with their spans, for `check.rs`,
//! which holds every rule. Where the input makes no sense (a `nested` field with a `default`),
//! the form chosen here is only what `check.rs` will reject.

use proc_macro2::Span;
use syn::{Data, DeriveInput, Fields, Generics, Ident, LitStr, Path, Type};

use crate::attr::{self, DefaultAttr, FieldAttrs, StructAttrs};
use crate::errors::Errors;
use crate::ty::{Shape, option_inner};

pub struct Container<'a> {
    pub ident: &'a Ident,
    pub generics: &'a Generics,
    pub attrs: StructAttrs,
    pub prefix: String,
    pub krate: Path,
    pub fields: Vec<Field<'a>>,
}

pub struct Field<'a> {
    pub ident: &'a Ident,
    pub ty: &'a Type,
    /// `T` of an `Option<T>` field; the field's type otherwise.
    pub value_ty: &'a Type,
    pub optional: bool,
    pub attrs: FieldAttrs,
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
    Default(Read<'a>, DefaultAttr),
    Nested { prefix: Option<String> },
    Skipped,
}

/// How a present value is coerced.
pub enum Read<'a> {
    Shape(Shape<'a>),
    With(Path),
}

impl<'a> Container<'a> {
    /// The container, or `None` (with the error) when the input is not a struct with named
    /// fields: there is nothing to describe then.
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
        let prefix = attrs
            .prefix
            .as_ref()
            .map(|p| p.value.value())
            .unwrap_or_default();
        let krate = attrs
            .krate
            .as_ref()
            .map(|k| k.value.clone())
            .unwrap_or_else(|| syn::parse_quote!(::settings));
        let fields = named
            .named
            .iter()
            .filter_map(|field| Field::from_ast(field, errors))
            .collect();
        Some(Container {
            ident: &input.ident,
            generics: &input.generics,
            attrs,
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
        let (key, exact, key_span) = match &attrs.env {
            Some(env) => (env.value.value(), true, env.value.span()),
            None => (screaming_snake(ident), false, ident.span()),
        };
        let delimiter = match &attrs.delimiter {
            Some(d) if !d.value.value().is_empty() => d.value.value(),
            _ => ",".to_owned(),
        };
        let optional = option_inner(&field.ty);
        let value_ty = optional.unwrap_or(&field.ty);
        let shape = Shape::of(value_ty);
        // A secret type stays secret whatever parses it.
        let type_secret = shape.is_secret();
        let read = match &attrs.parse_with {
            Some(path) => Read::With(path.value.clone()),
            None => Read::Shape(shape),
        };
        let kind = if attrs.skip.is_some() {
            Kind::Skipped
        } else if attrs.nested.is_some() {
            let prefix = attrs.prefix.as_ref().map(|p| p.value.value());
            Kind::Nested { prefix }
        } else if let Some(default) = &attrs.default {
            Kind::Default(read, default.value.clone())
        } else if optional.is_some() {
            Kind::Optional(read)
        } else {
            Kind::Required(read)
        };
        Some(Field {
            ident,
            ty: &field.ty,
            value_ty,
            optional: optional.is_some(),
            doc,
            key,
            exact,
            key_span,
            aliases: attrs.aliases.iter().map(|a| a.value.clone()).collect(),
            kind,
            secret: attrs.secret.is_some() || type_secret,
            allow_reference: attrs.allow_reference.is_some(),
            delimiter,
            attrs,
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

/// `shopify_api_key` → `SHOPIFY_API_KEY`; a raw identifier loses its `r#`.
fn screaming_snake(ident: &Ident) -> String {
    let name = ident.to_string();
    name.strip_prefix("r#")
        .unwrap_or(&name)
        .to_ascii_uppercase()
}
