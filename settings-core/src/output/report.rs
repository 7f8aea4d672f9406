//! The start-up report: what was loaded from where, with secrets redacted.

use std::fmt;

use crate::output::redact::REDACTED;
use crate::source::Origin;

/// What a load found for every variable. Safe to log: secret values are never kept in it.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    entries: Vec<Entry>,
}

/// One variable of a [`Report`].
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Entry {
    /// The variable's name, prefix included.
    pub var: String,
    /// The Rust field, as a dotted path for nested structs.
    pub field: String,
    /// True when the field has no default and is not optional.
    pub required: bool,
    /// True for secret fields.
    pub secret: bool,
    /// Whether and where the value was found.
    pub status: Status,
    /// The value as read (or the default as written); `None` for secret fields and unset ones.
    pub value: Option<String>,
    /// The lease the value came with, for dynamic secrets (Vault's database engine, say).
    pub lease: Option<Lease>,
}

/// The lease of a value read from a store with one: how long it had left when the report was
/// made, and whether it can be renewed. A [`Watch`](crate::Loader) renews it; a program that
/// loads once holds the value for `remaining` at most.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Lease {
    /// Time left on the lease.
    pub remaining: std::time::Duration,
    /// Whether Vault lets the lease be renewed.
    pub renewable: bool,
}

impl fmt::Display for Lease {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "lease: {}s left, {}",
            self.remaining.as_secs(),
            if self.renewable {
                "renewable"
            } else {
                "not renewable"
            }
        )
    }
}

/// Whether a variable was set, and where.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Status {
    /// Read from a source.
    Set {
        /// Where it came from.
        origin: Origin,
        /// The name it was found under: the primary name or an alias.
        found_as: String,
    },
    /// Not set; the default was used.
    Defaulted,
    /// Not set; the optional field is `None`.
    Unset,
}

/// The counts of a [`Report`], displayed as `Settings loaded: 3 required, 1 of 2 optional set`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Summary {
    /// Required variables (all of them set, since the load succeeded).
    pub required: usize,
    /// Optional variables: `Option` fields and fields with a default.
    pub optional: usize,
    /// Optional variables that were set in a source.
    pub optional_set: usize,
}

impl Report {
    pub(crate) fn new(entries: Vec<Entry>) -> Self {
        Report { entries }
    }

    /// One entry per variable, in field order.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// The counts of required and optional variables.
    pub fn summary(&self) -> Summary {
        let required = self.entries.iter().filter(|e| e.required).count();
        let optional_set = self
            .entries
            .iter()
            .filter(|e| !e.required && matches!(e.status, Status::Set { .. }))
            .count();
        Summary {
            required,
            optional: self.entries.len() - required,
            optional_set,
        }
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Settings loaded: {} required, {} of {} optional set",
            self.required, self.optional_set, self.optional
        )
    }
}

impl fmt::Display for Report {
    /// The summary line, then one line per variable: `  NAME = value (from origin)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.summary())?;
        for entry in &self.entries {
            let value = match (&entry.value, entry.secret) {
                (_, true) => REDACTED,
                (Some(value), false) => value.as_str(),
                (None, false) => "",
            };
            match &entry.status {
                Status::Set { origin, found_as } if *found_as != entry.var => write!(
                    f,
                    "\n  {} = {value} (from {origin}, as {found_as})",
                    entry.var
                )?,
                Status::Set { origin, .. } => {
                    write!(f, "\n  {} = {value} (from {origin})", entry.var)?
                }
                Status::Defaulted => write!(f, "\n  {} = {value} (default)", entry.var)?,
                Status::Unset => write!(f, "\n  {} is not set", entry.var)?,
            }
            if let (Status::Set { .. }, Some(lease)) = (&entry.status, &entry.lease) {
                write!(f, " ({lease})")?;
            }
        }
        Ok(())
    }
}
