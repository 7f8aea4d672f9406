//! The `#[derive(Settings)]` macro. Use it through the `settings` crate, which re-exports it.
//!
//! Phases, one per module: `attr` reads attributes, `ast` decides how each field is read,
//! `check` holds every rule (of the struct, of each field, across fields), `expand` emits the
//! code. Every mistake is collected
//! and reported in one build, next to dummy impls that keep the errors from cascading.

mod ast;
mod attr;
mod check;
mod errors;
mod expand;
mod known_secrets;
mod symbol;
mod ty;

use proc_macro::TokenStream;
use syn::{DeriveInput, parse_macro_input};

/// Derives `settings::Settings` and a `Debug` that redacts secret fields.
/// See the `settings` crate for the attribute reference.
#[proc_macro_derive(Settings, attributes(settings))]
pub fn derive_settings(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    derive(&input).into()
}

fn derive(input: &DeriveInput) -> proc_macro2::TokenStream {
    let mut errors = errors::Errors::default();
    let container = ast::Container::from_ast(input, &mut errors);
    if let Some(container) = &container {
        check::check(container, &mut errors);
    }
    match (errors.finish(), container) {
        (Ok(()), Some(container)) => expand::expand(&container),
        (result, container) => {
            let krate = container
                .map(|c| c.krate)
                .unwrap_or_else(|| syn::parse_quote!(::settings));
            let mut tokens = expand::dummy(input, &krate);
            if let Err(error) = result {
                tokens.extend(error.into_compile_error());
            }
            tokens
        }
    }
}
