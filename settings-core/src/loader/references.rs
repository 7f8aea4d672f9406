//! The pass over a struct's fields before they are read: the reference rule, the batch of
//! references to resolve, and the rules that need to know which fields are secret.

use std::collections::{HashMap, HashSet};

use zeroize::Zeroizing;

use super::Sources;
use super::cascade::Layer;
use crate::source::{Origin, RawValue, Source};
#[cfg(any(feature = "vault", feature = "aws"))]
use crate::store::Resolver;
use crate::store::{FieldValue, Reference, classify};

pub(super) use crate::store::Resolved;

/// Variables whose value is a credential of the stores: a `.env` line that expands one builds a
/// value that is kept out of reports and errors, whatever field it lands in.
const CREDENTIAL_VARS: &[&str] = &[
    "VAULT_TOKEN",
    "BAO_TOKEN",
    "VAULT_SECRET_ID",
    "BAO_SECRET_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
];

/// The values of variables that held references, resolved, over the sources they came from;
/// and the rules that need the struct: which fields may hold a reference or read a file named
/// in a file, and which values were built from a secret.
pub(super) struct Overlay<'a> {
    base: &'a Sources<'a>,
    /// Every name the fields read, looked up once, here: the value and the layer that gave it.
    found: HashMap<String, Option<(RawValue, Layer)>>,
    /// What replaces a found value: a resolved reference, an escaped literal, a refusal.
    values: HashMap<String, (Resolved, Origin)>,
    /// Names of non-secret fields whose values were built from a secret by expansion.
    sensitive: HashSet<String>,
    /// The references the variables were resolved from, for their leases.
    #[cfg_attr(not(any(feature = "vault", feature = "aws")), allow(dead_code))]
    references: Vec<(String, Reference)>,
    /// The leases of the values that came with one.
    leases: HashMap<String, crate::output::report::Lease>,
}

impl<'a> Overlay<'a> {
    /// Looks every variable of `meta` up once (kept for the field reads), applies the rules that
    /// need the struct (the reference rule, `NAME_FILE` written in a file, values built from a
    /// secret), and resolves every reference in one batch.
    pub(super) fn resolve(
        meta: &crate::meta::StructMeta,
        base: &'a Sources<'a>,
        resolve: &dyn Fn(&[Reference]) -> Vec<Resolved>,
    ) -> Self {
        let mut values = HashMap::new();
        let mut found: HashMap<String, Option<(RawValue, Layer)>> = HashMap::new();
        let mut pending: Vec<(String, Reference)> = Vec::new();
        let mut secret_vars: HashSet<String> =
            CREDENTIAL_VARS.iter().map(|n| (*n).to_owned()).collect();
        let mut plain_vars: Vec<String> = Vec::new();
        meta.visit_leaves(&mut |scope, path, field| {
            let primary = field.var_name(scope);
            let names = std::iter::once(primary.as_str()).chain(field.aliases.iter().copied());
            for name in names {
                let entry = found
                    .entry(name.to_owned())
                    .or_insert_with(|| base.find(name));
                if let Some((
                    _,
                    Layer::SecretFile {
                        named_in: Some(i), ..
                    },
                )) = entry
                    && !field.secret
                {
                    let file_var = format!("{name}_FILE");
                    let message = format!(
                        "{file_var} is set in a file, and a file may name a file to read only for a secret \
                         field; field `{path}` is not secret: set {name} itself, or {file_var} in the environment"
                    );
                    let origin = base.files[*i].origin(&file_var);
                    values.insert(name.to_owned(), (Err(message), origin));
                    break;
                }
                let Some((RawValue::Text(value), layer)) = entry else {
                    continue;
                };
                if value.is_empty() {
                    continue;
                }
                match classify(value, field, path) {
                    FieldValue::Plain => {}
                    FieldValue::Literal(literal) => {
                        let literal = Zeroizing::new(literal.to_owned());
                        let origin = base.origin_at(name, Some(layer));
                        values.insert(name.to_owned(), (Ok(literal), origin));
                    }
                    FieldValue::Refused(message) => {
                        let origin = base.origin_at(name, Some(layer));
                        values.insert(name.to_owned(), (Err(message), origin));
                    }
                    FieldValue::Reference(reference) => pending.push((name.to_owned(), reference)),
                }
                break;
            }
            let all = field.aliases.iter().map(|a| (*a).to_owned());
            let all = std::iter::once(primary).chain(all);
            if field.secret {
                secret_vars.extend(all);
            } else {
                plain_vars.extend(all);
            }
        });
        let references: Vec<(String, Reference)> = pending.clone();
        for (name, answer, origin) in resolve_pending(pending, resolve) {
            values.insert(name, (answer, origin));
        }
        let sensitive = plain_vars
            .into_iter()
            .filter(|name| built_from_secret(base, name, &secret_vars))
            .collect();
        Overlay {
            base,
            found,
            values,
            sensitive,
            references,
            leases: HashMap::new(),
        }
    }

    /// Records the lease of each resolved variable that came with one.
    #[cfg(any(feature = "vault", feature = "aws"))]
    pub(super) fn note_leases(
        &mut self,
        lease_of: impl Fn(&Reference) -> Option<crate::output::report::Lease>,
    ) {
        for (name, reference) in &self.references {
            if let Some(lease) = lease_of(reference) {
                self.leases.insert(name.clone(), lease);
            }
        }
    }
}

/// True when the value of `name` expands, directly or through other variables, one of `secrets`.
fn built_from_secret(base: &Sources<'_>, name: &str, secrets: &HashSet<String>) -> bool {
    let mut seen: HashSet<&str> = HashSet::new();
    let mut stack: Vec<&str> = base.expands(name).collect();
    while let Some(next) = stack.pop() {
        if secrets.contains(next) {
            return true;
        }
        if seen.insert(next) {
            stack.extend(base.expands(next));
        }
    }
    false
}

impl Source for Overlay<'_> {
    fn get(&self, name: &str) -> Option<RawValue> {
        match (self.values.get(name), self.found.get(name)) {
            (Some((Ok(value), _)), _) => Some(RawValue::Text(value.clone())),
            (Some((Err(message), _)), _) => Some(RawValue::Failed(message.clone())),
            (None, Some(found)) => found.as_ref().map(|(value, _)| value.clone()),
            (None, None) => self.base.get(name),
        }
    }

    fn origin(&self, name: &str) -> Origin {
        match (self.values.get(name), self.found.get(name)) {
            (Some((_, origin)), _) => origin.clone(),
            (None, Some(found)) => self
                .base
                .origin_at(name, found.as_ref().map(|(_, layer)| layer)),
            (None, None) => self.base.origin(name),
        }
    }

    fn sensitive(&self, name: &str) -> bool {
        self.sensitive.contains(name)
    }

    fn lease(&self, name: &str) -> Option<crate::output::report::Lease> {
        self.leases.get(name).copied()
    }
}

/// The store client of one load, made on first use.
#[derive(Default)]
pub(super) struct LazyResolver(
    #[cfg(any(feature = "vault", feature = "aws"))] pub(super) std::cell::OnceCell<Resolver>,
);

/// Resolves the references of `pending` (variable, reference) in one batch: each variable
/// with its answer and the reference as its origin.
pub(super) fn resolve_pending(
    pending: Vec<(String, Reference)>,
    resolve: &dyn Fn(&[Reference]) -> Vec<Resolved>,
) -> impl Iterator<Item = (String, Resolved, Origin)> {
    let references: Vec<Reference> = pending.iter().map(|(_, r)| r.clone()).collect();
    let answers = resolve(&references);
    pending
        .into_iter()
        .zip(answers)
        .map(|((name, reference), answer)| {
            let origin = Origin::Store {
                location: reference.to_string(),
            };
            (name, answer, origin)
        })
}

#[cfg(feature = "watch")]
impl Overlay<'_> {
    /// A keyed digest of the value of every variable the fields read, by name: enough to tell
    /// which changed between two loads, without keeping a copy of any value.
    pub(super) fn digests(
        &self,
        keys: &std::hash::RandomState,
    ) -> std::collections::BTreeMap<String, u64> {
        use std::hash::{BuildHasher, Hasher};
        self.found
            .keys()
            .map(|name| {
                let mut hasher = keys.build_hasher();
                match self.get(name) {
                    None => hasher.write_u8(0),
                    Some(RawValue::Text(text)) => {
                        hasher.write_u8(1);
                        hasher.write(text.as_bytes());
                    }
                    Some(RawValue::NotUnicode) => hasher.write_u8(2),
                    Some(RawValue::Failed(message)) => {
                        hasher.write_u8(3);
                        hasher.write(message.as_bytes());
                    }
                }
                (name.clone(), hasher.finish())
            })
            .collect()
    }

    /// The secret files the fields were read from: `NAME_FILE` targets and files of the
    /// secrets directory.
    pub(super) fn secret_files(&self) -> Vec<std::path::PathBuf> {
        self.found
            .values()
            .filter_map(|found| match found {
                Some((_, Layer::SecretFile { path, .. })) => Some(path.clone()),
                _ => None,
            })
            .collect()
    }
}
