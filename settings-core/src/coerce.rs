//! The coercers the derive picks for each field's type: scalars, lists, secrets, custom parsers.
//!
//! A [`Coerce`] turns a field's raw text into its value. Scalars go through [`Parse`] or, for any
//! other type, through `FromStr`; `Vec<T>`, `SecretString` and `SecretBox<T>` wrap an item coercer.

use std::borrow::Cow;
use std::fmt::Display;
use std::marker::PhantomData;
use std::str::FromStr;

use secrecy::{SecretBox, SecretString};
use zeroize::Zeroize;

use crate::meta::FieldMeta;
use crate::parse::Parse;
use crate::redact::show_input;

/// Turns the raw text of one field into a `T`.
pub trait Coerce<T> {
    /// Coerces `raw`. Messages must not contain the input when `field.secret` is set.
    fn coerce(&self, raw: &str, field: &FieldMeta) -> Result<T, String>;
    /// What a valid value looks like.
    fn expected(&self, field: &FieldMeta) -> Cow<'static, str>;
}

/// A coercer for one scalar value: a parse function and the description of valid input.
pub struct Scalar<T> {
    parse: fn(&str) -> Result<T, String>,
    expected: Option<&'static str>,
}

impl<T> Clone for Scalar<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for Scalar<T> {}

impl<T> Coerce<T> for Scalar<T> {
    fn coerce(&self, raw: &str, _field: &FieldMeta) -> Result<T, String> {
        (self.parse)(raw)
    }
    fn expected(&self, field: &FieldMeta) -> Cow<'static, str> {
        match self.expected {
            Some(text) => Cow::Borrowed(text),
            None => Cow::Borrowed(scalar_type(field.ty)),
        }
    }
}

/// The item type of `Vec<T>`/`Option<T>`/`SecretBox<T>` as written, for fallback descriptions.
fn scalar_type(ty: &'static str) -> &'static str {
    let mut ty = ty;
    for wrapper in ["Option<", "Vec<", "SecretBox<"] {
        if let Some(inner) = ty.strip_prefix(wrapper).and_then(|t| t.strip_suffix('>')) {
            ty = inner;
        }
    }
    ty
}

/// Finds the coercer of a scalar type: [`Parse`] when implemented, else `FromStr`.
///
/// The derive calls `(&&Probe::<T>::NEW).scalar()` with both [`ViaParse`] and [`ViaFromStr`] in
/// scope; method resolution tries `ViaParse` (implemented on `&Probe<T>`) first.
pub struct Probe<T>(PhantomData<fn() -> T>);

impl<T> Probe<T> {
    /// The probe value.
    pub const NEW: Self = Probe(PhantomData);
}

/// Chosen for types that implement [`Parse`].
pub trait ViaParse<T> {
    /// The coercer.
    fn scalar(&self) -> Scalar<T>;
}

impl<T: Parse> ViaParse<T> for &Probe<T> {
    fn scalar(&self) -> Scalar<T> {
        Scalar {
            parse: T::parse,
            expected: Some(T::EXPECTED),
        }
    }
}

/// Chosen for types that do not implement [`Parse`]; requires `FromStr`.
pub trait ViaFromStr<T> {
    /// The coercer.
    fn scalar(&self) -> Scalar<T>
    where
        T: FromStrValue;
}

impl<T> ViaFromStr<T> for Probe<T> {
    fn scalar(&self) -> Scalar<T>
    where
        T: FromStrValue,
    {
        Scalar {
            parse: T::from_str_value,
            expected: None,
        }
    }
}

/// A type read through its `FromStr` implementation.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be read from an environment variable",
    label = "no `FromStr` or `settings::Parse` implementation",
    note = "implement `FromStr` (with an error that implements `Display`) or `settings::Parse` for `{Self}`, or use `#[settings(parse_with = path::to::function)]`"
)]
pub trait FromStrValue: Sized {
    /// Parses through `FromStr` after trimming surrounding white space.
    fn from_str_value(raw: &str) -> Result<Self, String>;
}

impl<T> FromStrValue for T
where
    T: FromStr,
    T::Err: Display,
{
    fn from_str_value(raw: &str) -> Result<Self, String> {
        T::from_str(raw.trim()).map_err(|err| err.to_string())
    }
}

/// `Vec<T>`: splits on the field's delimiter, trims each item and skips empty ones.
pub struct List<C>(pub C);

impl<T, C: Coerce<T>> Coerce<Vec<T>> for List<C> {
    fn coerce(&self, raw: &str, field: &FieldMeta) -> Result<Vec<T>, String> {
        let mut items = Vec::new();
        let mut failures = Vec::new();
        let pieces = raw.split(field.delimiter).map(str::trim);
        for (index, piece) in pieces.filter(|p| !p.is_empty()).enumerate() {
            match self.0.coerce(piece, field) {
                Ok(item) => items.push(item),
                Err(reason) if field.secret => {
                    failures.push(format!("item {}: {reason}", index + 1))
                }
                Err(reason) => {
                    let shown = show_input(piece);
                    failures.push(format!("item {} ({shown}): {reason}", index + 1));
                }
            }
        }
        if failures.is_empty() {
            Ok(items)
        } else {
            Err(failures.join("; "))
        }
    }
    fn expected(&self, field: &FieldMeta) -> Cow<'static, str> {
        let item = self.0.expected(field);
        Cow::Owned(format!(
            "a list separated by {:?}, each item {item}",
            field.delimiter
        ))
    }
}

/// `SecretString`: the value as it is, moved into a secret box.
pub struct SecretText;

impl Coerce<SecretString> for SecretText {
    fn coerce(&self, raw: &str, _field: &FieldMeta) -> Result<SecretString, String> {
        Ok(SecretString::from(raw.to_owned()))
    }
    fn expected(&self, _field: &FieldMeta) -> Cow<'static, str> {
        Cow::Borrowed("a string")
    }
}

/// `SecretBox<T>`: the inner value, boxed as a secret.
pub struct Secret<C>(pub C);

impl<T: Zeroize, C: Coerce<T>> Coerce<SecretBox<T>> for Secret<C> {
    fn coerce(&self, raw: &str, field: &FieldMeta) -> Result<SecretBox<T>, String> {
        let value = self.0.coerce(raw, field)?;
        Ok(SecretBox::new(Box::new(value)))
    }
    fn expected(&self, field: &FieldMeta) -> Cow<'static, str> {
        self.0.expected(field)
    }
}

/// `#[settings(parse_with = path)]`: a user function from the raw text to the field's type.
pub struct With<F>(pub F);

impl<T, E: Display, F: Fn(&str) -> Result<T, E>> Coerce<T> for With<F> {
    fn coerce(&self, raw: &str, _field: &FieldMeta) -> Result<T, String> {
        (self.0)(raw).map_err(|err| err.to_string())
    }
    fn expected(&self, field: &FieldMeta) -> Cow<'static, str> {
        // The function reads the whole value, so only `Option` is looked through.
        let ty = field.ty;
        let inner = ty.strip_prefix("Option<").and_then(|t| t.strip_suffix('>'));
        Cow::Borrowed(inner.unwrap_or(ty))
    }
}
