//! The loading context the generated code drives: one call per field, problems collected.

use std::borrow::Cow;

use crate::Settings;
use crate::coerce::Coerce;
use crate::error::{Error, Problem, ProblemKind};
use crate::meta::{DefaultValue, FieldKind, FieldMeta, join_path};
use crate::redact::{scrub, show_input};
use crate::report::{Entry, Report, Status};
use crate::source::{Found, Origin, RawValue, Source, SourceProblem};

/// State of one load: the source, the current prefix and path, and every problem so far.
///
/// The derive's `__load` calls one method per field; each returns `None` after recording a
/// problem, so the struct is built only when every field succeeded.
pub struct Context<'s> {
    source: &'s dyn Source,
    scope: String,
    path: String,
    name: String,
    problems: Vec<Problem>,
    sources: Vec<SourceProblem>,
    total: usize,
    report: Option<Vec<Entry>>,
}

enum Read<T> {
    Value(T),
    Missing { empty: bool },
    Failed,
}

impl<'s> Context<'s> {
    fn new(
        source: &'s dyn Source,
        prefix: &str,
        sources: Vec<SourceProblem>,
        report: bool,
    ) -> Self {
        Context {
            source,
            scope: prefix.to_owned(),
            path: String::new(),
            name: String::new(),
            problems: Vec::new(),
            sources,
            total: 0,
            report: report.then(Vec::new),
        }
    }

    /// A required field: a problem when not set.
    pub fn required<T, C: Coerce<T>>(&mut self, field: &'static FieldMeta, coerce: C) -> Option<T> {
        match self.read(field, &coerce) {
            Read::Value(value) => Some(value),
            Read::Missing { empty } => {
                let expected = coerce.expected(field);
                self.problem(field, expected, ProblemKind::Missing { empty });
                None
            }
            Read::Failed => None,
        }
    }

    /// An `Option<T>` field: `Some(None)` when not set.
    pub fn optional<T, C: Coerce<T>>(
        &mut self,
        field: &'static FieldMeta,
        coerce: C,
    ) -> Option<Option<T>> {
        match self.read(field, &coerce) {
            Read::Value(value) => Some(Some(value)),
            Read::Missing { .. } => {
                self.record(field, Status::Unset, None);
                Some(None)
            }
            Read::Failed => None,
        }
    }

    /// A field with `default = "text"`: the text is coerced like a variable's value when not set.
    pub fn default_parsed<T, C: Coerce<T>>(
        &mut self,
        field: &'static FieldMeta,
        coerce: C,
    ) -> Option<T> {
        match self.read(field, &coerce) {
            Read::Value(value) => Some(value),
            Read::Missing { .. } => {
                let FieldKind::Default(DefaultValue::Parsed(text)) = field.kind else {
                    return None;
                };
                match coerce.coerce(text, field) {
                    Ok(value) => {
                        self.record(field, Status::Defaulted, Some(text));
                        Some(value)
                    }
                    Err(reason) => {
                        // A bug in the program, not in the environment; still reported, not panicked.
                        self.invalid(field, &coerce, Origin::Default, 0, text, reason);
                        None
                    }
                }
            }
            Read::Failed => None,
        }
    }

    /// A field with a default value computed by `default` when not set.
    pub fn default_with<T, C: Coerce<T>>(
        &mut self,
        field: &'static FieldMeta,
        coerce: C,
        default: impl FnOnce() -> T,
    ) -> Option<T> {
        match self.read(field, &coerce) {
            Read::Value(value) => Some(value),
            Read::Missing { .. } => {
                self.record(field, Status::Defaulted, field.default_display());
                Some(default())
            }
            Read::Failed => None,
        }
    }

    /// A nested settings struct, read under its prefix (or the field's `prefix`).
    pub fn nested<T: Settings>(&mut self, field: &'static FieldMeta) -> Option<T> {
        let prefix = match field.kind {
            FieldKind::Nested {
                prefix: Some(prefix),
                ..
            } => prefix,
            _ => T::META.prefix,
        };
        let (scope_len, path_len) = (self.scope.len(), self.path.len());
        self.scope.push_str(prefix);
        if !self.path.is_empty() {
            self.path.push('.');
        }
        self.path.push_str(field.name);
        let value = T::__load(self);
        self.scope.truncate(scope_len);
        self.path.truncate(path_len);
        value
    }

    fn read<T, C: Coerce<T>>(&mut self, field: &'static FieldMeta, coerce: &C) -> Read<T> {
        self.total += 1;
        let (found, which, empty) = self.lookup(field);
        let Some(Found { value, origin }) = found else {
            return Read::Missing { empty };
        };
        match value {
            RawValue::Text(raw) => match coerce.coerce(&raw, field) {
                Ok(value) => {
                    if self.report.is_some() {
                        let found_as = self.found_as(field, which).into_owned();
                        self.record(field, Status::Set { origin, found_as }, Some(&raw));
                    }
                    Read::Value(value)
                }
                Err(reason) => {
                    self.invalid(field, coerce, origin, which, &raw, reason);
                    Read::Failed
                }
            },
            RawValue::NotUnicode => {
                let found_as = self.found_as(field, which).into_owned();
                let expected = coerce.expected(field);
                self.problem(
                    field,
                    expected,
                    ProblemKind::NotUnicode { origin, found_as },
                );
                Read::Failed
            }
        }
    }

    /// Looks the field up under its name, then its aliases. An empty value counts as not set.
    /// Returns what was found, which name found it (0 = primary, n = alias n), and whether an
    /// empty value was seen.
    fn lookup(&mut self, field: &'static FieldMeta) -> (Option<Found>, usize, bool) {
        let primary: &str = if field.exact {
            field.key
        } else {
            self.name.clear();
            self.name.push_str(&self.scope);
            self.name.push_str(field.key);
            &self.name
        };
        let mut empty = false;
        let names = std::iter::once(primary).chain(field.aliases.iter().copied());
        for (which, name) in names.enumerate() {
            match self.source.get(name) {
                Some(Found {
                    value: RawValue::Text(text),
                    ..
                }) if text.is_empty() => empty = true,
                Some(found) => return (Some(found), which, empty),
                None => {}
            }
        }
        (None, 0, empty)
    }

    fn primary_name(&self, field: &FieldMeta) -> String {
        field.var_name(&self.scope)
    }

    fn found_as(&self, field: &'static FieldMeta, which: usize) -> Cow<'static, str> {
        match which.checked_sub(1).and_then(|i| field.aliases.get(i)) {
            Some(alias) => Cow::Borrowed(alias),
            None => Cow::Owned(self.primary_name(field)),
        }
    }

    fn invalid<T, C: Coerce<T>>(
        &mut self,
        field: &'static FieldMeta,
        coerce: &C,
        origin: Origin,
        which: usize,
        raw: &str,
        reason: String,
    ) {
        let (reason, input) = if field.secret {
            (scrub(&reason, raw, field.delimiter), None)
        } else {
            (reason, Some(show_input(raw)))
        };
        let found_as = self.found_as(field, which).into_owned();
        let expected = coerce.expected(field);
        let kind = ProblemKind::Invalid {
            origin,
            found_as,
            reason,
            input,
        };
        self.problem(field, expected, kind);
    }

    fn problem(
        &mut self,
        field: &'static FieldMeta,
        expected: Cow<'static, str>,
        kind: ProblemKind,
    ) {
        self.problems.push(Problem {
            var: self.primary_name(field),
            aliases: field.aliases,
            field: join_path(&self.path, field.name),
            doc: field.doc,
            expected,
            secret: field.secret,
            kind,
        });
    }

    fn record(&mut self, field: &'static FieldMeta, status: Status, value: Option<&str>) {
        if self.report.is_none() {
            return;
        }
        let entry = Entry {
            var: self.primary_name(field),
            field: join_path(&self.path, field.name),
            required: field.is_required(),
            secret: field.secret,
            status,
            value: if field.secret {
                None
            } else {
                value.map(str::to_owned)
            },
        };
        if let Some(entries) = &mut self.report {
            entries.push(entry);
        }
    }
}

/// Loads `T` from `source`; `sources` are problems already found with the sources themselves.
pub(crate) fn run<T: Settings>(
    source: &dyn Source,
    sources: Vec<SourceProblem>,
    with_report: bool,
) -> Result<(T, Option<Report>), Error> {
    let mut ctx = Context::new(source, T::META.prefix, sources, with_report);
    let value = T::__load(&mut ctx);
    match value {
        Some(value) if ctx.problems.is_empty() && ctx.sources.is_empty() => {
            Ok((value, ctx.report.map(Report::new)))
        }
        _ => Err(Error::new(ctx.problems, ctx.sources, ctx.total)),
    }
}
