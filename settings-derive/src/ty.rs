//! What a field's type says about how to read it: `Option`, `Vec`, secret wrappers, scalars.
//!
//! The derive sees syntax, not resolved types: `Option`, `Vec`, `SecretString` and `SecretBox` are
//! recognised by their last path segment (`std::vec::Vec<T>` works, a type alias does not).

use quote::ToTokens;
use syn::{GenericArgument, PathArguments, Type};

/// How the value (after `Option` is removed) is coerced.
pub enum Shape<'a> {
    /// One value through `settings::Parse` or `FromStr`.
    Scalar(&'a Type),
    /// `Vec<T>`: split on the delimiter, each item coerced by the inner shape.
    List(Box<Shape<'a>>),
    /// `SecretString` (or `SecretBox<str>`).
    SecretString,
    /// `SecretBox<T>`: the inner shape, boxed as a secret.
    SecretBox(Box<Shape<'a>>),
}

impl<'a> Shape<'a> {
    pub fn of(ty: &'a Type) -> Shape<'a> {
        if is_secret_string(ty) {
            Shape::SecretString
        } else if let Some(item) = generic_arg(ty, "Vec") {
            Shape::List(Box::new(Shape::item(item)))
        } else if let Some(inner) = generic_arg(ty, "SecretBox") {
            Shape::SecretBox(Box::new(Shape::item(inner)))
        } else {
            Shape::Scalar(ty)
        }
    }

    /// The shape of a list item or boxed value: a nested `Vec` is read as one scalar.
    fn item(ty: &'a Type) -> Shape<'a> {
        match Shape::of(ty) {
            Shape::List(_) => Shape::Scalar(ty),
            shape => shape,
        }
    }

    /// The type one item is read as, as written: the value type without `Vec` and `SecretBox`.
    pub fn scalar_text(&self) -> String {
        match self {
            Shape::Scalar(ty) => pretty(*ty),
            Shape::List(item) | Shape::SecretBox(item) => item.scalar_text(),
            Shape::SecretString => "SecretString".to_owned(),
        }
    }

    pub fn is_list(&self) -> bool {
        matches!(self, Shape::List(_))
    }

    /// True when the type itself keeps the value secret.
    pub fn is_secret(&self) -> bool {
        match self {
            Shape::Scalar(_) => false,
            Shape::SecretString | Shape::SecretBox(_) => true,
            Shape::List(item) => item.is_secret(),
        }
    }
}

/// `T` of `Option<T>`.
pub fn option_inner(ty: &Type) -> Option<&Type> {
    generic_arg(ty, "Option")
}

fn is_secret_string(ty: &Type) -> bool {
    if last_segment_is(ty, "SecretString") {
        return true;
    }
    matches!(generic_arg(ty, "SecretBox"), Some(Type::Path(p)) if p.path.is_ident("str"))
}

fn last_segment_is(ty: &Type, name: &str) -> bool {
    match ty {
        Type::Path(p) if p.qself.is_none() => p
            .path
            .segments
            .last()
            .is_some_and(|s| s.ident == name && s.arguments.is_none()),
        Type::Group(g) => last_segment_is(&g.elem, name),
        _ => false,
    }
}

/// The single type argument of a path type whose last segment is `name`: `T` of `name<T>`.
fn generic_arg<'a>(ty: &'a Type, name: &str) -> Option<&'a Type> {
    let path = match ty {
        Type::Path(p) if p.qself.is_none() => &p.path,
        Type::Group(g) => return generic_arg(&g.elem, name),
        _ => return None,
    };
    let last = path.segments.last()?;
    if last.ident != name {
        return None;
    }
    let PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    let mut types = args.args.iter().filter_map(|arg| match arg {
        GenericArgument::Type(ty) => Some(ty),
        _ => None,
    });
    match (types.next(), types.next()) {
        (Some(ty), None) => Some(ty),
        _ => None,
    }
}

/// Source text of tokens with the spacing a person would write: `Option<Vec<u16>>`, `Vec::new()`.
pub fn pretty(tokens: &impl ToTokens) -> String {
    let text = tokens.to_token_stream().to_string();
    let mut out = String::with_capacity(text.len());
    let chars: Vec<char> = text.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        if c == ' ' {
            let before = out.chars().last().unwrap_or(' ');
            let after = chars.get(i + 1).copied().unwrap_or(' ');
            let operand_before_minus = || {
                let head = &out[..out.len() - 1];
                head.trim_end().chars().next_back().is_some_and(|c| {
                    c.is_alphanumeric() || matches!(c, ')' | ']' | '_' | '"' | '\'')
                })
            };
            let unary_minus = before == '-' && !operand_before_minus();
            let glue_after =
                unary_minus || matches!(before, '<' | ':' | '&' | '(' | '[' | '!' | '.');
            let glue_before = matches!(
                after,
                '<' | '>' | ':' | ',' | '(' | ')' | ']' | '!' | '.' | ';'
            );
            let keep_before_bracket = after == '[' && !before.is_alphanumeric() && before != '!';
            if (glue_after || glue_before) && !(before == ',' || keep_before_bracket) {
                continue;
            }
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use syn::parse_quote;

    #[test]
    fn shapes() {
        assert!(matches!(
            Shape::of(&parse_quote!(SecretString)),
            Shape::SecretString
        ));
        assert!(matches!(
            Shape::of(&parse_quote!(secrecy::SecretBox<str>)),
            Shape::SecretString
        ));
        assert!(matches!(
            Shape::of(&parse_quote!(std::vec::Vec<u8>)),
            Shape::List(_)
        ));
        assert!(matches!(
            Shape::of(&parse_quote!(SecretBox<u64>)),
            Shape::SecretBox(_)
        ));
        assert!(Shape::of(&parse_quote!(Vec<SecretString>)).is_secret());
        assert!(!Shape::of(&parse_quote!(Vec<String>)).is_secret());
        assert!(matches!(Shape::of(&parse_quote!(u32)), Shape::Scalar(_)));
        assert!(option_inner(&parse_quote!(Option<u32>)).is_some());
        assert!(option_inner(&parse_quote!(Option<u32, u8>)).is_none());
    }

    #[test]
    fn pretty_printing() {
        let ty: Type = parse_quote!(Option<Vec<std::time::Duration>>);
        assert_eq!(pretty(&ty), "Option<Vec<std::time::Duration>>");
        let ty: Type = parse_quote!(&'static str);
        assert_eq!(pretty(&ty), "&'static str");
        let expr: syn::Expr = parse_quote!(Vec::new());
        assert_eq!(pretty(&expr), "Vec::new()");
        let expr: syn::Expr = parse_quote!(vec![1, 2]);
        assert_eq!(pretty(&expr), "vec![1, 2]");
        let expr: syn::Expr = parse_quote!(-5);
        assert_eq!(pretty(&expr), "-5");
        let expr: syn::Expr = parse_quote!(10 - 3);
        assert_eq!(pretty(&expr), "10 - 3");
        let expr: syn::Expr = parse_quote!(Duration::from_secs(5 * 60));
        assert_eq!(pretty(&expr), "Duration::from_secs(5 * 60)");
    }
}
