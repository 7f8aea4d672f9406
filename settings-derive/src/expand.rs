//! Emits the `Settings` and `Debug` impls. Cannot fail: every rule was checked before.
//!
//! The generated code is thin: static metadata, then one call into the runtime per field.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned as _;

use crate::ast::{Container, Field, Kind, Read};
use crate::attr::DefaultAttr;
use crate::ty::{Shape, pretty};

pub fn expand(c: &Container<'_>) -> TokenStream {
    let settings_impl = settings_impl(c);
    let debug_impl = debug_impl(c);
    quote! {
        #settings_impl
        #debug_impl
    }
}

fn settings_impl(c: &Container<'_>) -> TokenStream {
    let krate = &c.krate;
    let ident = c.ident;
    let name = ident.to_string();
    let prefix = &c.prefix;
    let metas = c.fields.iter().map(|f| field_meta(c, f));
    let locals: Vec<_> = (0..c.fields.len())
        .map(|i| format_ident!("__field_{}", i))
        .collect();

    let mut reads = Vec::new();
    let mut pattern = Vec::new();
    let mut inits = Vec::new();
    for (index, (field, local)) in c.fields.iter().zip(&locals).enumerate() {
        let member = field.ident;
        match read_call(c, field, index) {
            Some(call) => {
                reads.push(quote!(let #local = #call;));
                pattern.push(quote!(::core::option::Option::Some(#local)));
                inits.push(quote!(#member: #local));
            }
            None => {
                let ty = field.ty;
                inits.push(quote_spanned!(ty.span()=> #member: <#ty as ::core::default::Default>::default()));
            }
        }
    }
    let tuple: Vec<_> = c
        .fields
        .iter()
        .zip(&locals)
        .filter(|(f, _)| !matches!(f.kind, Kind::Skipped))
        .map(|(_, local)| local)
        .collect();

    quote! {
        #[automatically_derived]
        impl #krate::Settings for #ident {
            const META: &'static #krate::__private::StructMeta = &#krate::__private::StructMeta::__new(
                #name,
                #prefix,
                &[#(#metas),*],
            );

            fn __load(__ctx: &mut #krate::__private::Context<'_>) -> ::core::option::Option<Self> {
                let __fields: &'static [#krate::__private::FieldMeta] =
                    <Self as #krate::Settings>::META.fields;
                #(#reads)*
                match (#(#tuple,)*) {
                    (#(#pattern,)*) => ::core::option::Option::Some(Self { #(#inits),* }),
                    #[allow(unreachable_patterns)]
                    _ => ::core::option::Option::None,
                }
            }
        }
    }
}

/// The runtime call that reads one field, or `None` for a skipped field.
fn read_call(c: &Container<'_>, field: &Field<'_>, index: usize) -> Option<TokenStream> {
    let krate = &c.krate;
    let meta = quote!(&__fields[#index]);
    Some(match &field.kind {
        Kind::Skipped => return None,
        Kind::Nested { .. } => {
            let ty = field.ty;
            quote_spanned!(ty.span()=> __ctx.nested::<#ty>(#meta))
        }
        Kind::Required(read) => {
            let coerce = coercer(krate, field, read);
            quote!(__ctx.required(#meta, #coerce))
        }
        Kind::Optional(read) => {
            let coerce = coercer(krate, field, read);
            quote!(__ctx.optional(#meta, #coerce))
        }
        Kind::Default(read, default) => {
            let coerce = coercer(krate, field, read);
            match default {
                DefaultAttr::Parsed(_) => quote!(__ctx.default_parsed(#meta, #coerce)),
                DefaultAttr::Trait => {
                    quote!(__ctx.default_with(#meta, #coerce, ::core::default::Default::default))
                }
                DefaultAttr::Expr(expr) => {
                    let ty = field.ty;
                    let value = quote_spanned!(expr.span()=> { let __value: #ty = #expr; __value });
                    quote!(__ctx.default_with(#meta, #coerce, || #value))
                }
            }
        }
    })
}

fn coercer(krate: &syn::Path, field: &Field<'_>, read: &Read<'_>) -> TokenStream {
    match read {
        // Typed with the field's value, at the function's path: a function of the wrong type is
        // reported there, not at the derive.
        Read::With(path) => {
            let value_ty = field.value_ty;
            quote_spanned!(path.span()=> #krate::__private::with::<#value_ty, _>(#path))
        }
        Read::Shape(shape) => shape_coercer(krate, shape),
    }
}

fn shape_coercer(krate: &syn::Path, shape: &Shape<'_>) -> TokenStream {
    match shape {
        Shape::Scalar(ty) => quote_spanned! {ty.span()=> {
            #[allow(unused_imports)]
            use #krate::__private::{ViaFromStr as _, ViaParse as _};
            (&&#krate::__private::Probe::<#ty>::NEW).scalar()
        }},
        Shape::List(item) => {
            let item = shape_coercer(krate, item);
            quote!(#krate::__private::List(#item))
        }
        Shape::SecretString => quote!(#krate::__private::SecretText),
        Shape::SecretBox(inner) => {
            let inner = shape_coercer(krate, inner);
            quote!(#krate::__private::Secret(#inner))
        }
    }
}

fn field_meta(c: &Container<'_>, field: &Field<'_>) -> TokenStream {
    let krate = &c.krate;
    let name = field.ident.to_string();
    let name = name.strip_prefix("r#").unwrap_or(&name);
    let key = &field.key;
    let exact = field.exact;
    let var = field.primary_name(&c.prefix);
    let aliases = &field.aliases;
    let doc = &field.doc;
    let ty = pretty(field.ty);
    let value_ty = pretty(field.value_ty);
    let scalar_ty = Shape::of(field.value_ty).scalar_text();
    let secret = field.secret;
    let allow_reference = field.allow_reference;
    let delimiter = &field.delimiter;
    let kind = match &field.kind {
        Kind::Required(_) => quote!(#krate::__private::FieldKind::Required),
        Kind::Optional(_) => quote!(#krate::__private::FieldKind::Optional),
        Kind::Skipped => quote!(#krate::__private::FieldKind::Skipped),
        Kind::Default(_, default) => {
            let value = match default {
                DefaultAttr::Trait => quote!(#krate::__private::DefaultValue::Trait),
                DefaultAttr::Parsed(text) => quote!(#krate::__private::DefaultValue::Parsed(#text)),
                DefaultAttr::Expr(expr) => {
                    let text = pretty(expr);
                    quote!(#krate::__private::DefaultValue::Expr(#text))
                }
            };
            quote!(#krate::__private::FieldKind::Default(#value))
        }
        Kind::Nested { prefix } => {
            let nested_ty = field.ty;
            let prefix = match prefix {
                Some(p) => quote!(::core::option::Option::Some(#p)),
                None => quote!(::core::option::Option::None),
            };
            let meta = quote_spanned!(nested_ty.span()=> <#nested_ty as #krate::Settings>::META);
            quote!(#krate::__private::FieldKind::Nested { prefix: #prefix, meta: #meta })
        }
    };
    quote! {
        #krate::__private::FieldMeta::__new(
            #name,
            #key,
            #exact,
            #var,
            &[#(#aliases),*],
            #doc,
            #ty,
            #value_ty,
            #scalar_ty,
            #kind,
            #secret,
            #allow_reference,
            #delimiter,
        )
    }
}

fn debug_impl(c: &Container<'_>) -> TokenStream {
    let krate = &c.krate;
    let ident = c.ident;
    let name = ident.to_string();
    let mut skipped = false;
    let entries = c.fields.iter().filter_map(|field| {
        let member = field.ident;
        let label = member.to_string();
        let label = label.strip_prefix("r#").unwrap_or(&label).to_owned();
        if matches!(field.kind, Kind::Skipped) {
            skipped = true;
            return None;
        }
        let value = if !field.secret {
            let ty = field.ty;
            quote_spanned!(ty.span()=> &self.#member)
        } else if matches!(field.kind, Kind::Optional(_)) {
            quote!(&::core::option::Option::map(::core::option::Option::as_ref(&self.#member), |_| #krate::__private::Redacted))
        } else {
            quote!(&#krate::__private::Redacted)
        };
        Some(quote!(.field(#label, #value)))
    });
    let entries: Vec<_> = entries.collect();
    let finish = if skipped {
        quote!(finish_non_exhaustive)
    } else {
        quote!(finish)
    };
    quote! {
        #[automatically_derived]
        impl ::core::fmt::Debug for #ident {
            fn fmt(&self, __f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                __f.debug_struct(#name) #(#entries)* .#finish()
            }
        }
    }
}

/// What is emitted next to `compile_error!`: impls that do nothing, so that one mistake in an
/// attribute is one error, not one more at every place the struct is used.
pub fn dummy(input: &syn::DeriveInput, krate: &syn::Path) -> TokenStream {
    let ident = &input.ident;
    let name = ident.to_string();
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    quote! {
        #[automatically_derived]
        impl #impl_generics #krate::Settings for #ident #ty_generics #where_clause {
            const META: &'static #krate::__private::StructMeta =
                &#krate::__private::StructMeta::__new(#name, "", &[]);
            fn __load(_: &mut #krate::__private::Context<'_>) -> ::core::option::Option<Self> {
                ::core::option::Option::None
            }
        }
        #[automatically_derived]
        impl #impl_generics ::core::fmt::Debug for #ident #ty_generics #where_clause {
            fn fmt(&self, __f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                __f.write_str(#name)
            }
        }
    }
}
