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

use crate::field::parse::Parse;
use crate::meta::FieldMeta;
use crate::output::redact::show_input;

/// Turns the raw text of one field into a `T`.
pub trait Coerce<T> {
    /// Coerces `raw`. Messages must not contain the input when `field.secret` is set.
    fn coerce(&self, raw: &str, field: &FieldMeta) -> Result<T, String>;
    /// Coerces an owned, non-secret `raw` without copying it where the type keeps the text.
    /// On failure the raw string is handed back with the message, for the error report.
    fn coerce_owned(&self, raw: String, field: &FieldMeta) -> Result<T, (String, String)> {
        self.coerce(&raw, field).map_err(|reason| (reason, raw))
    }
    /// What a valid value looks like.
    fn expected(&self, field: &FieldMeta) -> Cow<'static, str>;
}

/// The coercer of a type that implements [`Parse`]. Statically dispatched: no function pointer.
pub struct ParseScalar<T>(PhantomData<fn() -> T>);

impl<T: Parse> Coerce<T> for ParseScalar<T> {
    #[inline]
    fn coerce(&self, raw: &str, _field: &FieldMeta) -> Result<T, String> {
        T::parse(raw)
    }
    #[inline]
    fn coerce_owned(&self, raw: String, _field: &FieldMeta) -> Result<T, (String, String)> {
        T::parse_owned(raw)
    }
    fn expected(&self, _field: &FieldMeta) -> Cow<'static, str> {
        Cow::Borrowed(T::EXPECTED)
    }
}

/// The coercer of any other type, through `FromStr`; valid input is described by the type's name.
pub struct FromStrScalar<T>(PhantomData<fn() -> T>);

impl<T: FromStrValue> Coerce<T> for FromStrScalar<T> {
    #[inline]
    fn coerce(&self, raw: &str, _field: &FieldMeta) -> Result<T, String> {
        T::from_str_value(raw)
    }
    fn expected(&self, field: &FieldMeta) -> Cow<'static, str> {
        Cow::Borrowed(field.scalar_ty)
    }
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
    fn scalar(&self) -> ParseScalar<T>;
}

impl<T: Parse> ViaParse<T> for &Probe<T> {
    fn scalar(&self) -> ParseScalar<T> {
        ParseScalar(PhantomData)
    }
}

/// Chosen for types that do not implement [`Parse`]; requires `FromStr`.
pub trait ViaFromStr<T> {
    /// The coercer.
    fn scalar(&self) -> FromStrScalar<T>
    where
        T: FromStrValue;
}

impl<T> ViaFromStr<T> for Probe<T> {
    fn scalar(&self) -> FromStrScalar<T>
    where
        T: FromStrValue,
    {
        FromStrScalar(PhantomData)
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

/// How many invalid items of a list are described; the rest are counted.
const MAX_ITEM_FAILURES: usize = 5;

/// `Vec<T>`: splits on the field's delimiter, trims each item and skips empty ones.
pub struct List<C>(pub C);

impl<T, C: Coerce<T>> Coerce<Vec<T>> for List<C> {
    fn coerce(&self, raw: &str, field: &FieldMeta) -> Result<Vec<T>, String> {
        let mut items = Vec::new();
        let mut failures = Vec::new();
        let mut failed = 0;
        let mut index = 0;
        for_each_item(raw, field.delimiter, |piece| {
            index += 1;
            match self.0.coerce(piece, field) {
                Ok(item) => items.push(item),
                Err(_) if failed >= MAX_ITEM_FAILURES => failed += 1,
                Err(reason) if field.secret => {
                    failed += 1;
                    failures.push(format!("item {index}: {reason}"));
                }
                Err(reason) => {
                    failed += 1;
                    let shown = show_input(piece);
                    failures.push(format!("item {index} ({shown}): {reason}"));
                }
            }
        });
        if failed > MAX_ITEM_FAILURES {
            failures.push(format!(
                "and {} more invalid items",
                failed - MAX_ITEM_FAILURES
            ));
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

/// Calls `each` with the trimmed, non-empty items of a list; a one-character delimiter takes the
/// fast `char` search.
fn for_each_item<'r>(raw: &'r str, delimiter: &str, mut each: impl FnMut(&'r str)) {
    let mut chars = delimiter.chars();
    match (chars.next(), chars.next()) {
        (Some(c), None) => raw
            .split(c)
            .map(str::trim)
            .filter(|i| !i.is_empty())
            .for_each(&mut each),
        _ => raw
            .split(delimiter)
            .map(str::trim)
            .filter(|i| !i.is_empty())
            .for_each(&mut each),
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
///
/// Made by [`with`], which checks the function's type; the coercer itself asks nothing more of
/// it, so that a function of the wrong type is one error, at the attribute.
pub struct With<T, F> {
    function: F,
    call: fn(&F, &str) -> Result<T, String>,
}

/// A function that `#[settings(parse_with = ...)]` can use for a field whose value is a `T`.
#[diagnostic::on_unimplemented(
    message = "`parse_with` needs a function `fn(&str) -> Result<{T}, E>`, with `E: Display`, for this field",
    label = "not a `fn(&str) -> Result<{T}, E>`",
    note = "the function reads the whole value; for an `Option<{T}>` field it returns the `{T}`"
)]
pub trait ParseFn<T> {
    /// Parses the raw text; the error as text.
    fn parse_text(&self, raw: &str) -> Result<T, String>;
}

impl<T, E: Display, F: Fn(&str) -> Result<T, E>> ParseFn<T> for F {
    fn parse_text(&self, raw: &str) -> Result<T, String> {
        self(raw).map_err(|err| err.to_string())
    }
}

/// The coercer of a `parse_with` function, checked against the field's value type where the
/// derive calls it, so that a function of the wrong type is reported at the attribute.
pub fn with<T, F: ParseFn<T>>(function: F) -> With<T, F> {
    With {
        function,
        call: |function, raw| function.parse_text(raw),
    }
}

impl<T, F> Coerce<T> for With<T, F> {
    fn coerce(&self, raw: &str, _field: &FieldMeta) -> Result<T, String> {
        (self.call)(&self.function, raw)
    }
    fn expected(&self, field: &FieldMeta) -> Cow<'static, str> {
        // The function reads the whole value: only `Option` is looked through.
        Cow::Borrowed(field.value_ty)
    }
}
