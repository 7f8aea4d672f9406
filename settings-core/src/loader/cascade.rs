//! The cascade of one load composed into one source: the environment, store imports, the files
//! in precedence order, `NAME_FILE` and the secrets directory.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use zeroize::Zeroizing;

use crate::source::dotenv::DotEnvFile;
use crate::source::secret_files::{find_in_secrets_dir, read_secret_file};
use crate::source::{Origin, RawValue, Source};

/// Every source of one load, composed in precedence order, with `NAME_FILE` and the secrets
/// directory resolved.
pub struct Sources<'l> {
    pub(super) env: &'l dyn Source,
    pub(super) profile: String,
    pub(super) imports: Vec<StoreLayer>,
    pub(super) files: Vec<DotEnvFile>,
    pub(super) secrets_dir: Option<PathBuf>,
}

/// Which layer answered.
#[derive(Clone)]
pub(super) enum Layer {
    Env,
    Store(usize),
    File(usize),
    /// A file named by `NAME_FILE` or found in the secrets directory; `named_in` is the `.env`
    /// file (by index) that wrote `NAME_FILE`, if one did.
    SecretFile {
        path: PathBuf,
        named_in: Option<usize>,
    },
}

/// The variables imported from a store path or secret, each with its provenance.
pub(super) struct StoreLayer {
    values: HashMap<String, (Zeroizing<String>, String)>,
}

impl StoreLayer {
    #[cfg(any(feature = "vault", feature = "aws"))]
    pub(super) fn new(location: String, pairs: Vec<(String, Zeroizing<String>)>) -> Self {
        let values = pairs
            .into_iter()
            .map(|(name, value)| {
                let origin = format!("{location}#{name}");
                (name, (value, origin))
            })
            .collect();
        StoreLayer { values }
    }
}

impl Sources<'_> {
    /// The profile in force.
    pub fn profile(&self) -> &str {
        &self.profile
    }

    /// The `.env` files that were found and read, highest precedence first.
    pub fn files(&self) -> impl Iterator<Item = &DotEnvFile> {
        self.files.iter()
    }

    /// Every name the store imports and files define, as written (`NAME_FILE` as itself), and
    /// the names of the secrets directory's files.
    pub fn defined_names(&self) -> std::collections::BTreeSet<String> {
        let mut names = std::collections::BTreeSet::new();
        for layer in &self.imports {
            names.extend(layer.values.keys().cloned());
        }
        for file in &self.files {
            names.extend(file.definitions().map(|(name, _)| name.to_owned()));
        }
        if let Some(Ok(entries)) = self.secrets_dir.as_deref().map(std::fs::read_dir) {
            for entry in entries.flatten() {
                if let Ok(name) = entry.file_name().into_string()
                    && !name.starts_with('.')
                    && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                {
                    names.insert(name.to_ascii_uppercase());
                }
            }
        }
        names
    }

    /// The first non-empty value of `name` in the environment or the files, else an empty one.
    fn layered(&self, name: &str) -> Option<(RawValue, Layer)> {
        let mut empty = None;
        let imports = self.imports.iter().enumerate().map(|(i, layer)| {
            let value = layer
                .values
                .get(name)
                .map(|(v, _)| RawValue::Text(v.clone()));
            (value, Layer::Store(i))
        });
        let files = self
            .files
            .iter()
            .enumerate()
            .map(|(i, file)| (file.get(name), Layer::File(i)));
        let layers = std::iter::once((self.env.get(name), Layer::Env))
            .chain(imports)
            .chain(files);
        for (value, layer) in layers {
            match value {
                Some(RawValue::Text(text)) if text.is_empty() => {
                    empty.get_or_insert((RawValue::Text(text), layer));
                }
                Some(value) => return Some((value, layer)),
                None => {}
            }
        }
        empty
    }

    /// The value of `name` and the layer that gave it: one lookup, reading a secret file at most
    /// once. [`Sources::origin_at`] renders the layer when an error or a report needs it.
    pub(super) fn find(&self, name: &str) -> Option<(RawValue, Layer)> {
        let direct = self.layered(name);
        let file_var = format!("{name}_FILE");
        let via_file = self
            .layered(&file_var)
            .filter(|(value, _)| !matches!(value, RawValue::Text(text) if text.is_empty()));
        let direct_is_set = matches!(&direct, Some((value, _)) if !matches!(value, RawValue::Text(t) if t.is_empty()));
        match (direct, via_file) {
            (Some((_, layer)), Some(_)) if direct_is_set => {
                let message = format!("both {name} and {file_var} are set; set only one of them");
                Some((RawValue::Failed(message), layer))
            }
            (_, Some((RawValue::Text(path), from))) => {
                let mut path = PathBuf::from(path.as_str());
                // A relative path written in a file is relative to that file, as in Compose.
                if let (true, Layer::File(i)) = (path.is_relative(), &from)
                    && let Some(dir) = self.files[*i].path().parent()
                {
                    path = dir.join(path);
                }
                let named_in = match from {
                    Layer::File(i) => Some(i),
                    _ => None,
                };
                Some((
                    read_secret_file(&path),
                    Layer::SecretFile { path, named_in },
                ))
            }
            (_, Some((_, layer))) => {
                let message = format!("{file_var} does not name a readable file path");
                Some((RawValue::Failed(message), layer))
            }
            (direct, None) if direct_is_set => direct,
            (direct, None) => {
                let in_dir = self
                    .secrets_dir
                    .as_deref()
                    .and_then(|dir| find_in_secrets_dir(dir, name))
                    .map(|(path, value)| {
                        let layer = Layer::SecretFile {
                            path,
                            named_in: None,
                        };
                        (value, layer)
                    });
                in_dir.or(direct)
            }
        }
    }

    /// The variables that `name`'s value expands, in any file that defines it.
    pub(super) fn expands<'s>(&'s self, name: &'s str) -> impl Iterator<Item = &'s str> {
        self.files
            .iter()
            .flat_map(move |file| file.expands(name))
            .map(String::as_str)
    }
}

impl Source for Sources<'_> {
    fn get(&self, name: &str) -> Option<RawValue> {
        self.find(name).map(|(value, _)| value)
    }

    fn origin(&self, name: &str) -> Origin {
        self.origin_at(name, self.find(name).map(|(_, layer)| layer).as_ref())
    }
}

impl Sources<'_> {
    /// Where the value of `name` that `layer` gave came from; reads nothing.
    pub(super) fn origin_at(&self, name: &str, layer: Option<&Layer>) -> Origin {
        match layer {
            Some(Layer::File(i)) => self.files[*i].origin(name),
            Some(Layer::Store(i)) => Origin::Store {
                location: self.imports[*i]
                    .values
                    .get(name)
                    .map(|(_, o)| o.clone())
                    .unwrap_or_default(),
            },
            Some(Layer::SecretFile { path, .. }) => Origin::SecretFile {
                path: Arc::from(path.as_path()),
            },
            Some(Layer::Env) | None => self.env.origin(name),
        }
    }
}
