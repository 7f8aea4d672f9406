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
//!
//! `.env` files are read in the Compose `env_file` dialect (the README's "`.env` dialect"), and a
//! `${NAME}` in any of them takes the value a field named `NAME` would take: the environment (or
//! [`Loader::vars`] / [`Loader::environment`] in its place), then the files from the highest down,
//! only earlier lines within one file.

use std::fmt;
use std::path::{Path, PathBuf};

mod cascade;
mod export;
mod references;
mod strict;
#[cfg(feature = "watch")]
mod watch;

pub use cascade::Sources;
pub use export::{Export, Exported};
#[cfg(feature = "watch")]
pub use watch::{Change, Watch};

#[cfg(any(feature = "vault", feature = "aws"))]
use cascade::StoreLayer;
use references::{LazyResolver, Overlay, Resolved};

use crate::Settings;
use crate::field::context::run;
use crate::output::error::Error;
use crate::output::report::Report;
use crate::source::dotenv::{DotEnvFile, expand_cascade};
use crate::source::{Environment, RawValue, Source, SourceProblem, Vars};
use crate::store::Reference;
#[cfg(feature = "aws")]
use crate::store::aws::AwsConfig;
#[cfg(feature = "vault")]
use crate::store::vault::VaultConfig;
#[cfg(any(feature = "vault", feature = "aws"))]
use crate::store::{ALLOW_INSECURE_HTTP_VAR, Import, Resolver, StoreOptions, StoreVars};

/// What a load shows of what it read, to the code that asked (the watch).
type Observer<'o> = dyn FnMut(&Sources<'_>, &Overlay<'_>) + 'o;

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
    /// What stands in for the process environment, if anything.
    env: Option<Box<dyn Source + Send + Sync>>,
    #[cfg(any(feature = "vault", feature = "aws"))]
    stores: StoreSettings,
    #[cfg(feature = "watch")]
    watch: watch::WatchOptions,
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
    /// Keep dynamic-secret leases when a watch ends, instead of revoking them.
    #[cfg(feature = "vault")]
    keep_leases_on_drop: bool,
    /// The store clients of a watch: made on its first load and kept for all the refreshes, so
    /// that tokens and leases are renewed rather than obtained again each time.
    persistent: Option<std::sync::OnceLock<Resolver>>,
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
            env: None,
            #[cfg(any(feature = "vault", feature = "aws"))]
            stores: StoreSettings::default(),
            #[cfg(feature = "watch")]
            watch: watch::WatchOptions::default(),
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
    /// struct has no prefix) but belong to no field: typos, with a suggestion. Also reports every
    /// `$NAME` / `${NAME}` in the files of a variable that is set nowhere.
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
        self.env = Some(Box::new(Vars::new(pairs)));
        self
    }

    /// Reads `source` in place of the process environment: a source of your own (a
    /// configuration service, a test double), ranked where the environment ranks and trusted as
    /// it is. [`Loader::vars`] is this for pairs.
    pub fn environment(mut self, source: impl Source + Send + Sync + 'static) -> Self {
        self.env = Some(Box::new(source));
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
        self.load_inner::<T>(false, None).map(|(value, _)| value)
    }

    /// Loads `T` and reports where each value came from.
    pub fn load_with_report<T: Settings>(&self) -> Result<(T, Report), Error> {
        self.load_inner::<T>(true, None)
    }

    /// The load path shared by every way in; `observe` sees what the load read (the watch
    /// remembers which files and values it depends on), whether or not the load succeeds.
    fn load_inner<T: Settings>(
        &self,
        with_report: bool,
        observe: Option<&mut Observer<'_>>,
    ) -> Result<(T, Report), Error> {
        let (sources, mut problems, lazy) = self.prepare();
        let resolve = |refs: &[Reference]| self.resolve(&lazy, &sources, refs);
        #[cfg_attr(not(any(feature = "vault", feature = "aws")), allow(unused_mut))]
        let mut overlay = Overlay::resolve(T::META, &sources, &resolve);
        #[cfg(any(feature = "vault", feature = "aws"))]
        if let Some(resolver) = self.made_resolver(&lazy) {
            overlay.note_leases(|reference| resolver.lease(reference));
        }
        if let Some(observe) = observe {
            observe(&sources, &overlay);
        }
        if self.strict {
            problems.extend(sources.unknown_variables(T::META, &self.profile_var()));
            problems.extend(sources.unset_references());
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
            let resolver = self.resolver_of(&lazy, &sources);
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
            self.resolver_of(lazy, sources).resolve(references)
        }
        #[cfg(not(any(feature = "vault", feature = "aws")))]
        {
            let _ = (lazy, sources);
            references.iter().map(Reference::without_feature).collect()
        }
    }

    /// The store client of this load: a watch's, kept across its loads, else one made for this
    /// load alone, on first use.
    #[cfg(any(feature = "vault", feature = "aws"))]
    fn resolver_of<'r>(&'r self, lazy: &'r LazyResolver, sources: &Sources<'_>) -> &'r Resolver {
        match &self.stores.persistent {
            Some(kept) => kept.get_or_init(|| {
                let resolver = self.resolver(sources);
                #[cfg(feature = "vault")]
                let resolver = resolver.keeping_leases(!self.stores.keep_leases_on_drop);
                resolver
            }),
            None => lazy.0.get_or_init(|| self.resolver(sources)),
        }
    }

    /// The store client of this load if one was made.
    #[cfg(any(feature = "vault", feature = "aws"))]
    fn made_resolver<'r>(&'r self, lazy: &'r LazyResolver) -> Option<&'r Resolver> {
        match &self.stores.persistent {
            Some(kept) => kept.get(),
            None => lazy.0.get(),
        }
    }

    /// Keeps the leases of dynamic secrets when a [`Watch`](crate::Loader::watch) ends, for
    /// another process to go on using; by default they are revoked.
    #[cfg(feature = "vault")]
    pub fn keep_leases_on_drop(mut self, keep: bool) -> Self {
        self.stores.keep_leases_on_drop = keep;
        self
    }

    /// A client of the secret stores for code that asks by name (`get`, `get_many`,
    /// `get_all`), configured exactly as this loader's loads are: the store settings given in
    /// code, else the store variables of the environment and of the `.env` cascade.
    #[cfg(any(feature = "vault", feature = "aws"))]
    pub fn store_client(&self) -> crate::store::Client {
        let (sources, _) = self.sources();
        crate::store::Client::new(self.resolver(&sources))
    }

    /// A resolver configured from code, else from the store variables of the load, read as
    /// [`StoreVars`] says: what says where credentials go from the environment only.
    #[cfg(any(feature = "vault", feature = "aws"))]
    fn resolver(&self, sources: &Sources<'_>) -> Resolver {
        let config = StoreVars::read(self.env(), sources);
        let mut options = self.stores.options.clone();
        if let Some(RawValue::Text(value)) = self.env().get(ALLOW_INSECURE_HTTP_VAR) {
            options.allow_insecure_http |=
                crate::field::parse::Parse::parse(value.as_str()) == Ok(true);
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
        match &self.env {
            Some(env) => env.as_ref(),
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
    /// (malformed or missing files, a bad profile name). The files are read once, here. For the
    /// `settings` command; not public API.
    #[doc(hidden)]
    pub fn sources(&self) -> (Sources<'_>, Vec<SourceProblem>) {
        let mut problems = Vec::new();
        let profile = self.resolve_profile().unwrap_or_else(|problem| {
            problems.push(problem);
            DEFAULT_PROFILE.to_owned()
        });
        let mut files = Vec::new();
        let required = self.extra_files.iter().rev();
        let cascade = self.cascade_files(&profile).into_iter().map(|p| (p, false));
        for (path, required) in required.cloned().chain(cascade) {
            let (file, found) = DotEnvFile::read_unexpanded(&path);
            match file {
                Some(file) => files.push(file),
                None if required && found.is_empty() => {
                    problems.push(SourceProblem::new(&path, None, "required file not found"))
                }
                None => {}
            }
            problems.extend(found);
        }
        // `${NAME}` takes the value a field named NAME would: `Loader::vars` and
        // `Loader::environment` stand in for the process environment here too.
        problems.extend(expand_cascade(&mut files, self.env()));
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
