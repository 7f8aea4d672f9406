//! The loading layer: a profile, the `.env` file cascade, secret files, strict mode.
//!
//! Precedence, highest first:
//!
//! 1. the process environment (or the pairs given to [`Loader::vars`]);
//! 2. store imports (`vault_path`, `ssm_path`, `secretsmanager_secret`, with the store features);
//! 3. files added with [`Loader::file`] / [`Loader::optional_file`], the last added first;
//! 4. `.env.{profile}.local`, `.env.{profile}`, `.env.local` (not for the `test` profile), `.env`;
//! 5. `NAME_FILE`: the content of the file it names, when `NAME` itself is set nowhere above;
//! 6. a file named `NAME` in the [`Loader::secrets_dir`];
//! 7. the field's default.
//!
//! A value found at any rank may be a secret-store reference, resolved before the fields are read.
//!
//! The `production` profile reads no `.env` files unless [`Loader::files_in_production`] opts in.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::Settings;
use crate::dotenv::DotEnvFile;
use crate::error::Error;
use crate::load::run;
use crate::report::Report;
use crate::secret_files::{find_in_secrets_dir, read_secret_file};
use crate::source::{Environment, Origin, RawValue, Source, SourceProblem, Vars};
#[cfg(feature = "aws")]
use crate::store::aws::AwsConfig;
#[cfg(feature = "vault")]
use crate::store::vault::VaultConfig;
#[cfg(any(feature = "vault", feature = "aws"))]
use crate::store::{ALLOW_INSECURE_HTTP_VAR, Import, Resolver, StoreOptions, StoreVars};
use crate::store::{FieldValue, Reference, classify, unescape_literal};
use zeroize::Zeroizing;

/// The variable that names the profile unless told otherwise.
pub const DEFAULT_PROFILE_VAR: &str = "ENVIRONMENT";
/// The profile when none is named.
pub const DEFAULT_PROFILE: &str = "development";

const PRODUCTION_HINT: &str = "The production profile reads no .env files: set them as environment variables or \
     in secret files (NAME_FILE, a secrets directory).";

/// Builds the sources of a load: which profile, which directory, which files.
///
/// ```ignore
/// // (This example is compiled as part of the `settings` crate's README.)
/// let app: App = Loader::new().profile_from("APP_ENV").dir("config").load()?;
/// ```
pub struct Loader {
    profile: ProfileChoice,
    dir: PathBuf,
    files_in_production: bool,
    extra_files: Vec<(PathBuf, bool)>,
    secrets_dir: Option<PathBuf>,
    strict: bool,
    vars: Option<Vars>,
    #[cfg(any(feature = "vault", feature = "aws"))]
    stores: StoreSettings,
}

/// What the loader knows of the stores, beyond what it finds in the variables.
#[cfg(any(feature = "vault", feature = "aws"))]
#[derive(Default)]
struct StoreSettings {
    imports: Vec<Import>,
    options: StoreOptions,
    #[cfg(feature = "vault")]
    vault: Option<VaultConfig>,
    #[cfg(feature = "aws")]
    aws: Option<AwsConfig>,
}

enum ProfileChoice {
    Named(String),
    FromVar(String),
}

impl Default for Loader {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for Loader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let profile = match &self.profile {
            ProfileChoice::Named(name) => format!("{name:?}"),
            ProfileChoice::FromVar(var) => format!("from ${var}"),
        };
        f.debug_struct("Loader")
            .field("profile", &profile)
            .field("dir", &self.dir)
            .field("files_in_production", &self.files_in_production)
            .field("extra_files", &self.extra_files)
            .field("secrets_dir", &self.secrets_dir)
            .field("strict", &self.strict)
            .finish_non_exhaustive()
    }
}

impl Loader {
    /// The defaults: the profile from `ENVIRONMENT` (else `development`), files in the current
    /// directory, the process environment, no secrets directory, not strict.
    pub fn new() -> Self {
        Loader {
            profile: ProfileChoice::FromVar(DEFAULT_PROFILE_VAR.to_owned()),
            dir: PathBuf::from("."),
            files_in_production: false,
            extra_files: Vec::new(),
            secrets_dir: None,
            strict: false,
            vars: None,
            #[cfg(any(feature = "vault", feature = "aws"))]
            stores: StoreSettings::default(),
        }
    }

    /// Uses this profile, whatever the environment says.
    pub fn profile(mut self, name: impl Into<String>) -> Self {
        self.profile = ProfileChoice::Named(name.into());
        self
    }

    /// Reads the profile from this variable of the process environment (`development` when unset).
    pub fn profile_from(mut self, var: impl Into<String>) -> Self {
        self.profile = ProfileChoice::FromVar(var.into());
        self
    }

    /// Looks for the `.env` files in this directory instead of the current one.
    pub fn dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.dir = dir.into();
        self
    }

    /// Also reads this file, which must exist; it ranks above the cascade, later files above
    /// earlier ones. It is read in production too: naming it in code is the opt-in.
    pub fn file(mut self, path: impl Into<PathBuf>) -> Self {
        self.extra_files.push((path.into(), true));
        self
    }

    /// Like [`Loader::file`], but a missing file is skipped.
    pub fn optional_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.extra_files.push((path.into(), false));
        self
    }

    /// Lets the `production` profile read the `.env` cascade too (it reads none by default).
    pub fn files_in_production(mut self, allow: bool) -> Self {
        self.files_in_production = allow;
        self
    }

    /// Reads secrets from files in this directory, each named after its variable (exactly, or in
    /// lowercase). A directory that does not exist holds no secrets.
    pub fn secrets_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.secrets_dir = Some(dir.into());
        self
    }

    /// Reports variables in the files that carry the struct's prefix (any variable, when the
    /// struct has no prefix) but belong to no field: typos, with a suggestion.
    pub fn strict(mut self, strict: bool) -> Self {
        self.strict = strict;
        self
    }

    /// Reads these pairs in place of the process environment: for tests, which then need to
    /// change nothing in their process.
    pub fn vars<I, K, V>(mut self, pairs: I) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        self.vars = Some(Vars::new(pairs));
        self
    }

    /// Timeouts and retries of store requests.
    #[cfg(any(feature = "vault", feature = "aws"))]
    pub fn store_options(mut self, options: StoreOptions) -> Self {
        self.stores.options = options;
        self
    }

    /// Vault settings given in code, instead of `VAULT_ADDR`, `VAULT_TOKEN`...
    #[cfg(feature = "vault")]
    pub fn vault_config(mut self, config: VaultConfig) -> Self {
        self.stores.vault = Some(config);
        self
    }

    /// Reads the Vault secret at `path` (`<mount>/<path>`); its keys become variables, ranked
    /// just below the process environment.
    #[cfg(feature = "vault")]
    pub fn vault_path(mut self, path: impl Into<String>) -> Self {
        let path = path.into().trim_matches('/').to_owned();
        self.stores.imports.push(Import::Vault(path));
        self
    }

    /// AWS settings given in code, instead of the `AWS_*` variables and shared files.
    #[cfg(feature = "aws")]
    pub fn aws_config(mut self, config: AwsConfig) -> Self {
        self.stores.aws = Some(config);
        self
    }

    /// Reads every SSM parameter under `path` (recursively, decrypted); each name below the
    /// path becomes a variable (`/app/prod/db/url` under `/app/prod` is `DB_URL`).
    #[cfg(feature = "aws")]
    pub fn ssm_path(mut self, path: impl Into<String>) -> Self {
        self.stores.imports.push(Import::Ssm(path.into()));
        self
    }

    /// Reads a Secrets Manager secret that holds a JSON object; its keys become variables.
    #[cfg(feature = "aws")]
    pub fn secretsmanager_secret(mut self, id: impl Into<String>) -> Self {
        self.stores.imports.push(Import::SecretsManager(id.into()));
        self
    }

    /// Loads `T` from the sources this loader describes.
    pub fn load<T: Settings>(&self) -> Result<T, Error> {
        self.load_inner::<T>(false).map(|(value, _)| value)
    }

    /// Loads `T` and reports where each value came from.
    pub fn load_with_report<T: Settings>(&self) -> Result<(T, Report), Error> {
        self.load_inner::<T>(true)
    }

    fn load_inner<T: Settings>(&self, with_report: bool) -> Result<(T, Report), Error> {
        let (sources, mut problems, lazy) = self.prepare();
        let resolve = |refs: &[Reference]| self.resolve(&lazy, &sources, refs);
        let overlay = Overlay::resolve(T::META, &sources, &resolve);
        if self.strict {
            problems.extend(sources.unknown_variables(T::META, &self.profile_var()));
        }
        let production = is_profile(&sources.profile, "production") && !self.files_in_production;
        run::<T>(&overlay, problems, with_report, true).map_err(|err| {
            if production {
                err.with_hint(PRODUCTION_HINT)
            } else {
                err
            }
        })
    }

    /// The sources with the store imports read, and the problems so far. The store client is
    /// made only when there is something to fetch: for imports here, for references on the
    /// first call of [`Loader::resolve`]; a load without either does no store work at all.
    fn prepare(&self) -> (Sources<'_>, Vec<SourceProblem>, LazyResolver) {
        #[cfg_attr(not(any(feature = "vault", feature = "aws")), allow(unused_mut))]
        let (mut sources, mut problems) = self.sources();
        let lazy = LazyResolver::default();
        #[cfg(any(feature = "vault", feature = "aws"))]
        if !self.stores.imports.is_empty() {
            let resolver = lazy.0.get_or_init(|| self.resolver(&sources));
            let mut layers = Vec::new();
            for import in &self.stores.imports {
                match resolver.import(import) {
                    Ok(pairs) => layers.push(StoreLayer::new(import.location(), pairs)),
                    Err(err) => {
                        problems.push(SourceProblem::new(Path::new(&import.location()), None, err))
                    }
                }
            }
            sources.imports = layers;
        }
        (sources, problems, lazy)
    }

    /// Resolves `references` in batches, making the store client on first use; each answer is
    /// an error when no store feature is on.
    fn resolve(
        &self,
        lazy: &LazyResolver,
        sources: &Sources<'_>,
        references: &[Reference],
    ) -> Vec<Resolved> {
        if references.is_empty() {
            return Vec::new();
        }
        #[cfg(any(feature = "vault", feature = "aws"))]
        {
            lazy.0
                .get_or_init(|| self.resolver(sources))
                .resolve(references)
        }
        #[cfg(not(any(feature = "vault", feature = "aws")))]
        {
            let _ = (lazy, sources);
            references
                .iter()
                .map(|r| Err(format!("settings was built without the `aws` or `vault` feature, which {} references need", r.store())))
                .collect()
        }
    }

    /// Every variable the sources define, resolved, for handing to another program
    /// (`settings exec`): the names in the files and store imports, the secrets directory's
    /// files, and environment variables that hold a reference. Each value is the one a load
    /// would see; references are resolved. A `NAME_FILE` is handed over as it is written: with
    /// no struct to say which names are settings, a file is read for `NAME` only when asked,
    /// with [`Loader::export_including`].
    pub fn export(&self) -> Result<Export, Error> {
        self.export_including(std::iter::empty::<String>())
    }

    /// Like [`Loader::export`], and also resolves each of `names` as a load would (from `NAME`,
    /// from the file `NAME_FILE` names, from the secrets directory or a reference), whether or
    /// not the cascade defines it.
    pub fn export_including<I, S>(&self, names: I) -> Result<Export, Error>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let (sources, mut problems, lazy) = self.prepare();
        let resolve = |refs: &[Reference]| self.resolve(&lazy, &sources, refs);
        let mut wanted = sources.defined_names();
        wanted.extend(names.into_iter().map(Into::into));
        for name in self.env_names() {
            if let Some(RawValue::Text(value)) = self.env().get(&name)
                && Reference::parse(&value).is_some()
            {
                wanted.insert(name);
            }
        }
        let mut vars = Vec::new();
        let mut pending: Vec<(String, Reference)> = Vec::new();
        for name in wanted {
            let origin = sources.origin(&name);
            match sources.get(&name) {
                Some(RawValue::Text(value)) => match Reference::parse(&value) {
                    Some(Ok(reference)) => pending.push((name, reference)),
                    Some(Err(message)) => problems.push(variable_problem(&name, &origin, &message)),
                    None => vars.push(Exported {
                        name,
                        value: match unescape_literal(&value) {
                            Some(literal) => Zeroizing::new(literal.to_owned()),
                            None => value,
                        },
                        origin,
                    }),
                },
                Some(RawValue::NotUnicode) => {
                    problems.push(variable_problem(&name, &origin, "not valid UTF-8"))
                }
                Some(RawValue::Failed(message)) => {
                    problems.push(variable_problem(&name, &origin, &message))
                }
                None => {}
            }
        }
        for (name, answer, origin) in resolve_pending(pending, &resolve) {
            match answer {
                Ok(value) => vars.push(Exported {
                    name,
                    value,
                    origin,
                }),
                Err(message) => problems.push(variable_problem(&name, &origin, &message)),
            }
        }
        if problems.is_empty() {
            vars.sort_by(|a, b| a.name.cmp(&b.name));
            Ok(Export { vars })
        } else {
            Err(Error::new(Vec::new(), problems, 0))
        }
    }

    /// The names in the environment (the process's, or the pairs given to [`Loader::vars`]).
    fn env_names(&self) -> Vec<String> {
        match &self.vars {
            Some(vars) => vars.names().map(str::to_owned).collect(),
            None => std::env::vars_os()
                .filter_map(|(name, _)| name.into_string().ok())
                .collect(),
        }
    }

    /// A resolver configured from code, else from the store variables of the load, read as
    /// [`StoreVars`] says: what says where credentials go from the environment only.
    #[cfg(any(feature = "vault", feature = "aws"))]
    fn resolver(&self, sources: &Sources<'_>) -> Resolver {
        let config = StoreVars::read(self.env(), sources);
        let mut options = self.stores.options.clone();
        if let Some(RawValue::Text(value)) = self.env().get(ALLOW_INSECURE_HTTP_VAR) {
            options.allow_insecure_http |= crate::parse::Parse::parse(value.as_str()) == Ok(true);
        }
        Resolver::new(
            config,
            options,
            #[cfg(feature = "vault")]
            self.stores.vault.clone(),
            #[cfg(feature = "aws")]
            self.stores.aws.clone(),
        )
    }

    fn profile_var(&self) -> Option<String> {
        match &self.profile {
            ProfileChoice::FromVar(var) => Some(var.clone()),
            ProfileChoice::Named(_) => None,
        }
    }

    fn env(&self) -> &dyn Source {
        match &self.vars {
            Some(vars) => vars,
            None => &Environment,
        }
    }

    /// The profile in force: named in code, or read from its variable, else `development`.
    pub fn resolve_profile(&self) -> Result<String, SourceProblem> {
        let (name, var) = match &self.profile {
            ProfileChoice::Named(name) => (name.clone(), None),
            ProfileChoice::FromVar(var) => match self.env().get(var) {
                Some(RawValue::Text(value)) if !value.trim().is_empty() => {
                    (value.trim().to_owned(), Some(var.as_str()))
                }
                Some(RawValue::NotUnicode | RawValue::Failed(_)) => {
                    return Err(SourceProblem::new(
                        Path::new(var),
                        None,
                        "is not valid UTF-8",
                    ));
                }
                _ => (DEFAULT_PROFILE.to_owned(), None),
            },
        };
        let valid = !name.starts_with('.')
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
        if valid {
            Ok(name)
        } else {
            let place = var.unwrap_or("profile");
            let message = "a profile name may hold only ASCII letters, digits, '-', '_' and '.', and may not start with '.'";
            Err(SourceProblem::new(Path::new(place), None, message))
        }
    }

    /// The cascade files for `profile`, highest precedence first, whether or not they exist.
    pub fn cascade_files(&self, profile: &str) -> Vec<PathBuf> {
        if is_profile(profile, "production") && !self.files_in_production {
            return Vec::new();
        }
        let mut names = vec![format!(".env.{profile}.local"), format!(".env.{profile}")];
        if !is_profile(profile, "test") {
            names.push(".env.local".to_owned());
        }
        names.push(".env".to_owned());
        names
            .into_iter()
            .map(|name| self.file_path(&name))
            .collect()
    }

    /// `name` in the loader's directory; shown without `./` for the current directory.
    fn file_path(&self, name: &str) -> PathBuf {
        if self.dir == Path::new(".") || self.dir.as_os_str().is_empty() {
            PathBuf::from(name)
        } else {
            self.dir.join(name)
        }
    }

    /// Reads every file and returns the composed source, with the problems found on the way
    /// (malformed or missing files, a bad profile name). The files are read once, here.
    pub fn sources(&self) -> (Sources<'_>, Vec<SourceProblem>) {
        let mut problems = Vec::new();
        let profile = self.resolve_profile().unwrap_or_else(|problem| {
            problems.push(problem);
            DEFAULT_PROFILE.to_owned()
        });
        let mut files = Vec::new();
        for (path, required) in self.extra_files.iter().rev() {
            match DotEnvFile::read(path) {
                Ok(Some(file)) => files.push(file),
                Ok(None) if *required => {
                    problems.push(SourceProblem::new(path, None, "required file not found"))
                }
                Ok(None) => {}
                Err(found) => problems.extend(found),
            }
        }
        for path in self.cascade_files(&profile) {
            match DotEnvFile::read(&path) {
                Ok(Some(file)) => files.push(file),
                Ok(None) => {}
                Err(found) => problems.extend(found),
            }
        }
        let sources = Sources {
            env: self.env(),
            profile,
            imports: Vec::new(),
            files,
            secrets_dir: self.secrets_dir.clone(),
        };
        (sources, problems)
    }
}

fn is_profile(profile: &str, name: &str) -> bool {
    profile.eq_ignore_ascii_case(name)
}

/// Every source of one load, composed in precedence order, with `NAME_FILE` and the secrets
/// directory resolved.
pub struct Sources<'l> {
    env: &'l dyn Source,
    profile: String,
    imports: Vec<StoreLayer>,
    files: Vec<DotEnvFile>,
    secrets_dir: Option<PathBuf>,
}

/// Which layer answered.
enum Layer {
    Env,
    Store(usize),
    File(usize),
    SecretFile(PathBuf),
}

/// The variables imported from a store path or secret, each with its provenance.
struct StoreLayer {
    values: HashMap<String, (Zeroizing<String>, String)>,
}

impl StoreLayer {
    #[cfg(any(feature = "vault", feature = "aws"))]
    fn new(location: String, pairs: Vec<(String, Zeroizing<String>)>) -> Self {
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

    fn find(&self, name: &str) -> Option<(RawValue, Layer)> {
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
                Some((read_secret_file(&path), Layer::SecretFile(path)))
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
                    .map(|(path, value)| (value, Layer::SecretFile(path)));
                in_dir.or(direct)
            }
        }
    }

    /// The variables that `name`'s value expands, in any file that defines it.
    fn expands<'s>(&'s self, name: &'s str) -> impl Iterator<Item = &'s str> {
        self.files
            .iter()
            .flat_map(move |file| file.expands(name))
            .map(String::as_str)
    }

    /// The file (by index) that wrote `NAME_FILE`, when `name`'s value would be read from the
    /// file it names: a file in the working directory chose which file to read. Reads no file.
    fn name_file_written_in(&self, name: &str) -> Option<usize> {
        let direct_is_set = match self.layered(name) {
            Some((RawValue::Text(text), _)) => !text.is_empty(),
            Some(_) => true,
            None => false,
        };
        if direct_is_set {
            return None;
        }
        match self.layered(&format!("{name}_FILE")) {
            Some((RawValue::Text(path), Layer::File(i))) if !path.is_empty() => Some(i),
            _ => None,
        }
    }

    /// Variables in the files that look like settings of `meta` (they carry its prefix, or any
    /// variable when it has none) but belong to no field.
    fn unknown_variables(
        &self,
        meta: &crate::meta::StructMeta,
        profile_var: &Option<String>,
    ) -> Vec<SourceProblem> {
        let mut known: HashSet<String> = HashSet::new();
        meta.visit_leaves(&mut |scope, _path, field| {
            let name = field.var_name(scope);
            known.insert(format!("{name}_FILE"));
            known.insert(name);
            for alias in field.aliases {
                known.insert(format!("{alias}_FILE"));
                known.insert((*alias).to_owned());
            }
        });
        if let Some(var) = profile_var {
            known.insert(var.clone());
        }
        let mut candidates: Vec<&str> = known
            .iter()
            .map(String::as_str)
            .filter(|n| !n.ends_with("_FILE"))
            .collect();
        candidates.sort_unstable();
        let mut problems = Vec::new();
        for file in &self.files {
            let mut definitions: Vec<_> = file.definitions().collect();
            definitions.sort_by_key(|(_, line)| *line);
            for (name, line) in definitions {
                if known.contains(name) || !name.starts_with(meta.prefix) {
                    continue;
                }
                let mut message = format!("`{name}` is not a setting of {}", meta.name);
                if let Some(close) = closest(name, &candidates) {
                    message.push_str(&format!("; did you mean `{close}`?"));
                }
                problems.push(SourceProblem::new(
                    file.path(),
                    Some(line).filter(|l| *l > 0),
                    message,
                ));
            }
        }
        problems
    }
}

impl Source for Sources<'_> {
    fn get(&self, name: &str) -> Option<RawValue> {
        self.find(name).map(|(value, _)| value)
    }

    fn origin(&self, name: &str) -> Origin {
        match self.find(name) {
            Some((_, Layer::File(i))) => self.files[i].origin(name),
            Some((_, Layer::Store(i))) => Origin::Store {
                location: self.imports[i]
                    .values
                    .get(name)
                    .map(|(_, o)| o.clone())
                    .unwrap_or_default(),
            },
            Some((_, Layer::SecretFile(path))) => Origin::SecretFile {
                path: Arc::from(path),
            },
            Some((_, Layer::Env)) | None => self.env.origin(name),
        }
    }
}

/// The candidate closest to `name`, if it is close enough to be a typo.
fn closest<'a>(name: &str, candidates: &[&'a str]) -> Option<&'a str> {
    candidates
        .iter()
        .map(|candidate| (edit_distance(name, candidate), *candidate))
        .filter(|(distance, candidate)| *distance <= 3.max(candidate.len() / 4))
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, candidate)| candidate)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = if ca == *cb {
                diagonal
            } else {
                1 + diagonal.min(above).min(row[j])
            };
            diagonal = above;
        }
    }
    row[b.len()]
}

/// A resolved reference: the secret, or why it could not be had.
type Resolved = Result<Zeroizing<String>, String>;

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
struct Overlay<'a> {
    base: &'a Sources<'a>,
    values: HashMap<String, (Resolved, Origin)>,
    /// Names of non-secret fields whose values were built from a secret by expansion.
    sensitive: HashSet<String>,
}

impl<'a> Overlay<'a> {
    /// Finds every variable of `meta` whose value is a reference, checks that its field may
    /// hold one, and resolves them all in one batch.
    fn resolve(
        meta: &crate::meta::StructMeta,
        base: &'a Sources<'a>,
        resolve: &dyn Fn(&[Reference]) -> Vec<Resolved>,
    ) -> Self {
        let mut values = HashMap::new();
        let mut pending: Vec<(String, Reference)> = Vec::new();
        let mut secret_vars: HashSet<String> =
            CREDENTIAL_VARS.iter().map(|n| (*n).to_owned()).collect();
        let mut plain_vars: Vec<String> = Vec::new();
        meta.visit_leaves(&mut |scope, path, field| {
            let primary = field.var_name(scope);
            let names = std::iter::once(primary.as_str()).chain(field.aliases.iter().copied());
            for name in names {
                if !field.secret
                    && let Some(i) = base.name_file_written_in(name)
                {
                    let file_var = format!("{name}_FILE");
                    let message = format!(
                        "{file_var} is set in a file, and a file may name a file to read only for a secret \
                         field; field `{path}` is not secret: set {name} itself, or {file_var} in the environment"
                    );
                    values.insert(name.to_owned(), (Err(message), base.files[i].origin(&file_var)));
                    break;
                }
                let Some(RawValue::Text(value)) = base.get(name) else {
                    continue;
                };
                if value.is_empty() {
                    continue;
                }
                match classify(&value, field, path) {
                    FieldValue::Plain => {}
                    FieldValue::Literal(literal) => {
                        let literal = Zeroizing::new(literal.to_owned());
                        values.insert(name.to_owned(), (Ok(literal), base.origin(name)));
                    }
                    FieldValue::Refused(message) => {
                        values.insert(name.to_owned(), (Err(message), base.origin(name)));
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
        for (name, answer, origin) in resolve_pending(pending, resolve) {
            values.insert(name, (answer, origin));
        }
        let sensitive = plain_vars
            .into_iter()
            .filter(|name| built_from_secret(base, name, &secret_vars))
            .collect();
        Overlay {
            base,
            values,
            sensitive,
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
        match self.values.get(name) {
            Some((Ok(value), _)) => Some(RawValue::Text(value.clone())),
            Some((Err(message), _)) => Some(RawValue::Failed(message.clone())),
            None => self.base.get(name),
        }
    }

    fn origin(&self, name: &str) -> Origin {
        match self.values.get(name) {
            Some((_, origin)) => origin.clone(),
            None => self.base.origin(name),
        }
    }

    fn sensitive(&self, name: &str) -> bool {
        self.sensitive.contains(name)
    }
}

/// The store client of one load, made on first use.
#[derive(Default)]
struct LazyResolver(#[cfg(any(feature = "vault", feature = "aws"))] std::cell::OnceCell<Resolver>);

/// Resolves the references of `pending` (variable, reference) in one batch: each variable
/// with its answer and the reference as its origin.
fn resolve_pending(
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

/// A problem with one variable outside any struct, placed at its origin.
fn variable_problem(name: &str, origin: &Origin, message: &str) -> SourceProblem {
    match origin {
        Origin::File { path, line } => {
            SourceProblem::new(path, *line, format!("{name}: {message}"))
        }
        other => SourceProblem::new(
            Path::new(&other.to_string()),
            None,
            format!("{name}: {message}"),
        ),
    }
}

/// Every variable of a [`Loader::export`], with its resolved value and origin.
pub struct Export {
    vars: Vec<Exported>,
}

impl Export {
    /// The variables, sorted by name.
    pub fn vars(&self) -> &[Exported] {
        &self.vars
    }
}

/// One exported variable. Its `Debug` never shows the value.
pub struct Exported {
    name: String,
    value: Zeroizing<String>,
    origin: Origin,
}

impl Exported {
    /// The variable's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Where the value came from.
    pub fn origin(&self) -> &Origin {
        &self.origin
    }

    /// The value: for handing to a child process, never for printing.
    pub fn expose_value(&self) -> &str {
        &self.value
    }
}

impl fmt::Debug for Exported {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Exported")
            .field("name", &self.name)
            .field("origin", &self.origin)
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for Export {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(&self.vars).finish()
    }
}
