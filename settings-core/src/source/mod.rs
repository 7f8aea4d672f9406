//! Where raw values come from: the process environment, injected pairs, `.env` files.
//!
//! A [`Source`] answers one question, "what is the value of this variable?", so that loading reads
//! exactly the variables the settings need and nothing else: an unrelated variable that is not valid
//! UTF-8 cannot affect loading. Raw values are held in [`Zeroizing`] buffers, wiped when dropped.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use zeroize::Zeroizing;

pub mod dotenv;
pub(crate) mod files;
pub mod secret_files;

/// A place that variables are read from.
pub trait Source {
    /// The raw value of `name`, if this source defines it.
    fn get(&self, name: &str) -> Option<RawValue>;

    /// Where the value of `name` comes from. Asked only for error messages and reports, after
    /// [`Source::get`] found the name, so it may be slower.
    fn origin(&self, name: &str) -> Origin;

    /// True when the value of `name` was built from a secret (a `.env` line that expands a
    /// secret variable): it is then kept out of reports and errors like a secret field's, even
    /// in a field that is not secret. Asked only on those paths.
    fn sensitive(&self, _name: &str) -> bool {
        false
    }

    /// The lease the value of `name` came with (a dynamic secret from Vault), if any. Asked
    /// only for reports.
    fn lease(&self, _name: &str) -> Option<crate::output::report::Lease> {
        None
    }

    /// Every name this source defines, if it can list them: `Loader::export` hands the ones
    /// that hold a reference to another program. The default lists none.
    fn names(&self) -> Vec<String> {
        Vec::new()
    }
}

/// A raw value before coercion.
#[derive(Clone)]
#[non_exhaustive]
pub enum RawValue {
    /// A UTF-8 value, wiped from memory when dropped.
    Text(Zeroizing<String>),
    /// The variable is set but its value is not valid UTF-8. The bytes are not kept.
    NotUnicode,
    /// The source knows the variable but cannot produce its value: a secret file that is too
    /// large, two conflicting definitions. The message says why; it never contains the value.
    Failed(String),
}

// The raw value may be a secret: Debug never shows it.
impl fmt::Debug for RawValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RawValue::Text(_) => f.write_str("Text(..)"),
            RawValue::NotUnicode => f.write_str("NotUnicode"),
            RawValue::Failed(message) => f.debug_tuple("Failed").field(message).finish(),
        }
    }
}

/// Where a value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Origin {
    /// The process environment.
    Environment,
    /// Pairs given to [`crate::Settings::from_vars`].
    Vars,
    /// A `.env`-style file.
    File {
        /// The file's path as it was given.
        path: Arc<Path>,
        /// The line that defined the variable, when known.
        line: Option<u32>,
    },
    /// A file holding one secret: `NAME_FILE` or a secrets directory.
    SecretFile {
        /// The file's path.
        path: Arc<Path>,
    },
    /// The field's default.
    Default,
    /// A secret store: `vault secret/app#KEY`, `ssm /app/KEY`, `secretsmanager app#key`.
    Store {
        /// The store and where in it, as shown.
        location: String,
    },
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Environment => f.write_str("environment"),
            Origin::Vars => f.write_str("given variables"),
            Origin::File {
                path,
                line: Some(line),
            } => write!(f, "{} line {line}", path.display()),
            Origin::File { path, line: None } => write!(f, "{}", path.display()),
            Origin::SecretFile { path } => write!(f, "secret file {}", path.display()),
            Origin::Default => f.write_str("default"),
            Origin::Store { location } => f.write_str(location),
        }
    }
}

/// The process environment, read one variable at a time with [`std::env::var_os`]. Never modified.
#[derive(Debug, Clone, Copy, Default)]
pub struct Environment;

impl Source for Environment {
    fn get(&self, name: &str) -> Option<RawValue> {
        let value = std::env::var_os(name)?;
        Some(match value.into_string() {
            Ok(text) => RawValue::Text(Zeroizing::new(text)),
            // The OsString is dropped here; it cannot be zeroized through the std API, but it never
            // leaves this function and is never formatted.
            Err(_) => RawValue::NotUnicode,
        })
    }

    fn origin(&self, _name: &str) -> Origin {
        Origin::Environment
    }

    fn names(&self) -> Vec<String> {
        std::env::vars_os()
            .filter_map(|(name, _)| name.into_string().ok())
            .collect()
    }
}

/// Variables held in memory, each with its origin. Used for injected pairs and parsed files.
pub struct Vars {
    values: HashMap<String, Zeroizing<String>>,
    origin: Origin,
}

impl Vars {
    /// Collects `(name, value)` pairs; a name given twice keeps its last value.
    pub fn new<I, K, V>(pairs: I) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        let values = pairs
            .into_iter()
            .map(|(k, v)| (k.into(), Zeroizing::new(v.into())))
            .collect();
        Vars {
            values,
            origin: Origin::Vars,
        }
    }
}

impl fmt::Debug for Vars {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Vars")
            .field("names", &self.values.keys().collect::<Vec<_>>())
            .field("origin", &self.origin)
            .finish()
    }
}

impl Source for Vars {
    fn get(&self, name: &str) -> Option<RawValue> {
        self.values
            .get(name)
            .map(|value| RawValue::Text(value.clone()))
    }

    fn origin(&self, _name: &str) -> Origin {
        self.origin.clone()
    }

    fn names(&self) -> Vec<String> {
        self.values.keys().cloned().collect()
    }
}

/// A problem with a source as a whole: a `.env` file that cannot be parsed, a required file that
/// is missing, a variable unknown to the struct in strict mode.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SourceProblem {
    /// The file concerned.
    pub path: PathBuf,
    /// The line concerned, when there is one.
    pub line: Option<u32>,
    /// What is wrong. Never contains a value from the file.
    pub message: String,
    /// The variable concerned, when there is one (for tools that annotate it).
    pub name: Option<String>,
}

impl SourceProblem {
    /// A problem with `path`, at `line` if known.
    pub fn new(path: &Path, line: Option<u32>, message: impl Into<String>) -> Self {
        SourceProblem {
            path: path.to_owned(),
            line,
            message: message.into(),
            name: None,
        }
    }

    /// The same problem, naming the variable it concerns.
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }
}

impl fmt::Display for SourceProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{} line {line}: {}", self.path.display(), self.message),
            None => write!(f, "{}: {}", self.path.display(), self.message),
        }
    }
}
