//! The loading context the generated code drives: one call per field, problems collected.

use std::borrow::Cow;

use crate::Settings;
use crate::field::coerce::Coerce;
use crate::meta::{DefaultValue, FieldKind, FieldMeta, join_path};
use crate::output::error::{Error, Problem, ProblemKind};
use crate::output::redact::{scrub, show_input};
use crate::output::report::{Entry, Report, Status};
use crate::source::{Origin, RawValue, Source, SourceProblem};
use crate::store::FieldValue;

/// State of one load: the source, the current prefix and path, and every problem so far.
///
/// The derive's `__load` calls one method per field; each returns `None` after recording a
/// problem, so the struct is built only when every field succeeded.
pub struct Context<'s> {
    source: &'s dyn Source,
    scope: String,
    /// True while `scope` is the prefix of the struct being read, so `FieldMeta::var` applies.
    own_scope: bool,
    path: String,
    name: String,
    problems: Vec<Problem>,
    sources: Vec<SourceProblem>,
    total: usize,
    report: Option<Vec<Entry>>,
    /// False when nothing resolved the references of the source (`from_env`, `from_vars`,
    /// `from_source`): a reference found then is an error, and `literal:` is removed here.
    resolved: bool,
}

enum Fetch {
    Text(zeroize::Zeroizing<String>, usize),
    Missing { empty: bool },
    Failed,
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
        resolved: bool,
    ) -> Self {
        Context {
            source,
            scope: prefix.to_owned(),
            own_scope: true,
            path: String::new(),
            name: String::new(),
            problems: Vec::new(),
            sources,
            total: 0,
            report: report.then(Vec::new),
            resolved,
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
                        let expected = || coerce.expected(field);
                        let var = self.primary_name(field);
                        let secret = field.secret;
                        self.invalid_from(
                            field,
                            &expected,
                            Origin::Default,
                            var,
                            text,
                            reason,
                            secret,
                        );
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
        let prefix = field.nested_prefix(T::META.prefix);
        let (scope_len, path_len, own_scope) = (self.scope.len(), self.path.len(), self.own_scope);
        self.scope.push_str(prefix);
        self.own_scope = self.scope == T::META.prefix;
        if !self.path.is_empty() {
            self.path.push('.');
        }
        self.path.push_str(field.name);
        let value = T::__load(self);
        self.scope.truncate(scope_len);
        self.path.truncate(path_len);
        self.own_scope = own_scope;
        value
    }

    // The generic part of reading a field is kept small, and everything that only runs on a
    // problem or for the report lives in non-generic functions: with 40 fields of a dozen types,
    // a large generic body per type would fill the instruction cache. Where a value came from is
    // asked of the source only on those paths too.
    #[inline]
    fn read<T, C: Coerce<T>>(&mut self, field: &'static FieldMeta, coerce: &C) -> Read<T> {
        let expected = || coerce.expected(field);
        let (mut raw, which) = match self.fetch(field, &expected) {
            Fetch::Text(raw, which) => (raw, which),
            Fetch::Missing { empty } => return Read::Missing { empty },
            Fetch::Failed => return Read::Failed,
        };
        if !self.resolved && crate::store::may_be_reference(&raw) {
            match self.unresolved_reference(field, &expected, which, &raw) {
                Ok(Some(literal)) => raw = literal,
                Ok(None) => {}
                Err(()) => return Read::Failed,
            }
        }
        if field.secret {
            // A secret is coerced from the zeroizing buffer, which wipes it when dropped here.
            match coerce.coerce(&raw, field) {
                Ok(value) => {
                    self.found(field, which, None);
                    Read::Value(value)
                }
                Err(reason) => {
                    self.invalid(field, &expected, which, &raw, reason);
                    Read::Failed
                }
            }
        } else {
            // Anything else may keep the buffer itself (a `String` field then costs no copy).
            let text = into_plain(raw);
            let shown = self.report.is_some().then(|| text.clone());
            match coerce.coerce_owned(text, field) {
                Ok(value) => {
                    self.found(field, which, shown.as_deref());
                    Read::Value(value)
                }
                Err((reason, text)) => {
                    self.invalid(field, &expected, which, &text, reason);
                    Read::Failed
                }
            }
        }
    }

    /// Looks the field up under its name, then its aliases; an empty value counts as not set.
    /// A value that is not UTF-8 is recorded as a problem here.
    #[inline(always)]
    fn fetch(
        &mut self,
        field: &'static FieldMeta,
        expected: &dyn Fn() -> Cow<'static, str>,
    ) -> Fetch {
        self.total += 1;
        // Under the struct's own prefix the name was computed at compile time.
        let primary: &str = if field.exact || self.own_scope {
            field.var
        } else {
            field.write_var_name(&self.scope, &mut self.name);
            &self.name
        };
        // The common case, a non-empty value under the primary name, takes no other branch.
        match self.source.get(primary) {
            Some(RawValue::Text(text)) if !text.is_empty() => Fetch::Text(text, 0),
            first => self.fetch_rest(field, first, expected),
        }
    }

    /// The rest of [`Context::fetch`]: an empty or non-UTF-8 primary value, then the aliases.
    #[inline(never)]
    fn fetch_rest(
        &mut self,
        field: &'static FieldMeta,
        first: Option<RawValue>,
        expected: &dyn Fn() -> Cow<'static, str>,
    ) -> Fetch {
        let mut empty = false;
        let aliases = field.aliases.iter().map(|alias| self.source.get(alias));
        for (which, found) in std::iter::once(first).chain(aliases).enumerate() {
            match found {
                Some(RawValue::Text(text)) if text.is_empty() => empty = true,
                Some(RawValue::Text(text)) => return Fetch::Text(text, which),
                Some(RawValue::NotUnicode) => {
                    self.unreadable(field, expected, which, None);
                    return Fetch::Failed;
                }
                Some(RawValue::Failed(message)) => {
                    self.unreadable(field, expected, which, Some(message));
                    return Fetch::Failed;
                }
                None => {}
            }
        }
        Fetch::Missing { empty }
    }

    /// Applies the reference rule where nothing resolves references: `Ok(Some)` is the value of
    /// an escaped literal, `Ok(None)` a plain value, `Err` a reference, recorded as a problem.
    #[cold]
    #[inline(never)]
    fn unresolved_reference(
        &mut self,
        field: &'static FieldMeta,
        expected: &dyn Fn() -> Cow<'static, str>,
        which: usize,
        raw: &str,
    ) -> Result<Option<zeroize::Zeroizing<String>>, ()> {
        let path = join_path(&self.path, field.name);
        let message = match crate::store::classify(raw, field, &path) {
            FieldValue::Plain => return Ok(None),
            FieldValue::Literal(literal) => {
                return Ok(Some(zeroize::Zeroizing::new(literal.to_owned())));
            }
            FieldValue::Refused(message) => message,
            FieldValue::Reference(_) => {
                "holds a secret-store reference, which from_env, from_vars \
                 and from_source do not resolve: load with T::load() or a settings::Loader"
                    .to_owned()
            }
        };
        self.unreadable(field, expected, which, Some(message));
        Err(())
    }

    /// Records a value the source found but could not hand over: not UTF-8 (`message` is
    /// `None`), or failed for the reason in `message`.
    #[cold]
    #[inline(never)]
    fn unreadable(
        &mut self,
        field: &'static FieldMeta,
        expected: &dyn Fn() -> Cow<'static, str>,
        which: usize,
        message: Option<String>,
    ) {
        let (origin, found_as) = self.origin(field, which);
        let kind = match message {
            None => ProblemKind::NotUnicode { origin, found_as },
            Some(message) => ProblemKind::Unavailable {
                origin,
                found_as,
                message,
            },
        };
        self.problem(field, expected(), kind);
    }

    /// Records where a value was found, when a report is being kept.
    #[inline]
    fn found(&mut self, field: &'static FieldMeta, which: usize, raw: Option<&str>) {
        if self.report.is_some() {
            self.record_found(field, which, raw);
        }
    }

    #[inline(never)]
    fn record_found(&mut self, field: &'static FieldMeta, which: usize, raw: Option<&str>) {
        let (origin, found_as) = self.origin(field, which);
        let secret = self.is_secret(field, &found_as);
        self.record_as(field, Status::Set { origin, found_as }, raw, secret);
    }

    /// True when the value of `field`, found under `name`, must not be shown: the field is
    /// secret, or the value was built from a secret.
    fn is_secret(&self, field: &FieldMeta, name: &str) -> bool {
        field.secret || self.source.sensitive(name)
    }

    /// Where the value found under name `which` came from, and that name.
    fn origin(&self, field: &'static FieldMeta, which: usize) -> (Origin, String) {
        let found_as = self.found_as(field, which).into_owned();
        (self.source.origin(&found_as), found_as)
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

    #[cold]
    #[inline(never)]
    fn invalid(
        &mut self,
        field: &'static FieldMeta,
        expected: &dyn Fn() -> Cow<'static, str>,
        which: usize,
        raw: &str,
        reason: String,
    ) {
        let (origin, found_as) = self.origin(field, which);
        let secret = self.is_secret(field, &found_as);
        self.invalid_from(field, expected, origin, found_as, raw, reason, secret);
    }

    #[cold]
    #[inline(never)]
    #[allow(clippy::too_many_arguments)]
    fn invalid_from(
        &mut self,
        field: &'static FieldMeta,
        expected: &dyn Fn() -> Cow<'static, str>,
        origin: Origin,
        found_as: String,
        raw: &str,
        reason: String,
        secret: bool,
    ) {
        let (reason, input) = if secret {
            (scrub(&reason, raw, field.delimiter), None)
        } else {
            (reason, Some(show_input(raw)))
        };
        let expected = expected();
        let kind = ProblemKind::Invalid {
            origin,
            found_as,
            reason,
            input,
        };
        self.problem_as(field, expected, kind, secret);
    }

    fn problem(
        &mut self,
        field: &'static FieldMeta,
        expected: Cow<'static, str>,
        kind: ProblemKind,
    ) {
        self.problem_as(field, expected, kind, field.secret);
    }

    fn problem_as(
        &mut self,
        field: &'static FieldMeta,
        expected: Cow<'static, str>,
        kind: ProblemKind,
        secret: bool,
    ) {
        self.problems.push(Problem {
            var: self.primary_name(field),
            aliases: field.aliases,
            field: join_path(&self.path, field.name),
            doc: field.doc,
            expected,
            secret,
            kind,
        });
    }

    fn record(&mut self, field: &'static FieldMeta, status: Status, value: Option<&str>) {
        self.record_as(field, status, value, field.secret);
    }

    fn record_as(
        &mut self,
        field: &'static FieldMeta,
        status: Status,
        value: Option<&str>,
        secret: bool,
    ) {
        if self.report.is_none() {
            return;
        }
        let lease = match &status {
            Status::Set { found_as, .. } => self.source.lease(found_as),
            _ => None,
        };
        let entry = Entry {
            lease,
            var: self.primary_name(field),
            field: join_path(&self.path, field.name),
            required: field.is_required(),
            secret,
            status,
            value: if secret {
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
/// The report is empty unless `with_report` asked for one. `resolved` says whether the
/// references of `source` were resolved before (a `Loader`) or are errors (every other way in).
#[inline]
pub(crate) fn run<T: Settings>(
    source: &dyn Source,
    sources: Vec<SourceProblem>,
    with_report: bool,
    resolved: bool,
) -> Result<(T, Report), Error> {
    let mut ctx = Context::new(source, T::META.prefix, sources, with_report, resolved);
    let value = T::__load(&mut ctx);
    match value {
        Some(value) if ctx.problems.is_empty() && ctx.sources.is_empty() => {
            Ok((value, Report::new(ctx.report.unwrap_or_default())))
        }
        _ => Err(Error::new(ctx.problems, ctx.sources, ctx.total)),
    }
}

/// Takes the text out of a zeroizing buffer for a value that is not secret.
///
/// The emptied wrapper is forgotten rather than dropped: it owns no memory any more, and its
/// drop would still run the zeroizing writes (a `memset` call per field that showed up as a third
/// of the load time in the benchmark).
fn into_plain(mut raw: zeroize::Zeroizing<String>) -> String {
    let text = std::mem::take(&mut *raw);
    std::mem::forget(raw);
    text
}
