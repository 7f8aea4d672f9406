//! Live settings: [`Loader::watch`] loads once, as [`Loader::load`] does, then follows the
//! sources.
//!
//! A refresh runs the whole load path again and replaces the settings only when the whole load
//! succeeds and a value changed; readers take a snapshot ([`Watch::get`]) that never changes under
//! them. What triggers a refresh: the interval of [`Loader::refresh_every`] (with ±10% jitter), a
//! change of a file the load read (polled every [`Loader::poll_files_every`], one second by
//! default: the `.env` cascade, including files that do not exist yet, `NAME_FILE` targets and
//! the secrets directory, whose `..data` symbolic link Kubernetes swaps), and
//! [`Watch::refresh_now`]. A failed refresh keeps the last good settings, records the error
//! ([`Watch::last_error`]) and is retried after 1 s, 2 s, 4 s... up to a minute.

use std::collections::BTreeMap;
use std::fmt;
use std::hash::{BuildHasher, Hasher, RandomState};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime};

use arc_swap::ArcSwap;

use super::Loader;
use crate::Settings;
use crate::output::error::Error;

/// The first wait after a failed refresh; it doubles after each failure.
const FIRST_RETRY: Duration = Duration::from_secs(1);
/// The longest wait between retries of a failing refresh.
const MAX_RETRY: Duration = Duration::from_secs(60);

/// When a watch refreshes: set on the [`Loader`].
#[derive(Debug, Clone)]
pub(super) struct WatchOptions {
    pub(super) every: Option<Duration>,
    pub(super) poll: Duration,
}

impl Default for WatchOptions {
    fn default() -> Self {
        WatchOptions {
            every: None,
            poll: Duration::from_secs(1),
        }
    }
}

/// Settings that follow their sources. Made by [`Loader::watch`]; dropping it stops its
/// background thread (waiting for a refresh under way to end).
pub struct Watch<T> {
    shared: Arc<Shared<T>>,
    worker: Option<JoinHandle<()>>,
}

/// One change of the settings: the new settings and the variables whose values changed (names
/// only, never values).
pub struct Change<T> {
    settings: Arc<T>,
    names: Arc<[String]>,
    generation: u64,
}

impl<T> Clone for Change<T> {
    fn clone(&self) -> Self {
        Change {
            settings: self.settings.clone(),
            names: self.names.clone(),
            generation: self.generation,
        }
    }
}

impl<T> Change<T> {
    /// The settings after the change.
    pub fn settings(&self) -> &Arc<T> {
        &self.settings
    }

    /// The variables whose values changed, sorted.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// How many changes the watch has seen, this one included.
    pub fn generation(&self) -> u64 {
        self.generation
    }
}

// The settings may hold secrets: only the names and the generation are shown.
impl<T> fmt::Debug for Change<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Change")
            .field("names", &self.names)
            .field("generation", &self.generation)
            .finish_non_exhaustive()
    }
}

type Callback<T> = Box<dyn Fn(&Change<T>) + Send + Sync>;

/// One traced load of whatever the watch holds.
type LoadFn<T> = Box<dyn Fn(&Loader, &RandomState) -> Result<Traced<T>, Error> + Send + Sync>;

struct Shared<T> {
    loader: Loader,
    load: LoadFn<T>,
    /// Keys of the digests of values: random per watch, so a digest says nothing outside it.
    keys: RandomState,
    current: ArcSwap<T>,
    state: Mutex<State<T>>,
    /// Wakes the worker (to stop) and the callers of `wait_for_change`.
    signal: Condvar,
    /// Held for the whole of a refresh: one at a time.
    known: Mutex<Known>,
    callbacks: Mutex<Vec<Callback<T>>>,
}

struct State<T> {
    generation: u64,
    last_error: Option<Error>,
    last_change: Option<Change<T>>,
    stop: bool,
}

/// What the last successful load depended on.
struct Known {
    digests: BTreeMap<String, u64>,
    /// Files and directories whose change triggers a refresh.
    watched: Vec<PathBuf>,
}

fn lock<G>(mutex: &Mutex<G>) -> MutexGuard<'_, G> {
    // A panic in a user's callback must not stop the watch: the data is never left half-updated.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Loader {
    /// Refreshes a [`Watch`] this often, whether or not a file changed: for store values, which
    /// cannot be polled. Each wait is jittered by ±10%, so a fleet started together does not ask
    /// a store at the same moment. Off by default.
    pub fn refresh_every(mut self, every: Duration) -> Self {
        self.watch.every = Some(every).filter(|d| !d.is_zero());
        self
    }

    /// How often a [`Watch`] looks at the files it read (metadata only: modification time,
    /// length, inode, symbolic links); one second by default. `Duration::ZERO` turns it off.
    pub fn poll_files_every(mut self, every: Duration) -> Self {
        self.watch.poll = every;
        self
    }

    /// Loads `T` as [`Loader::load`] does (same errors), then keeps it up to date in a background
    /// thread: see [`Watch`].
    pub fn watch<T: Settings + Send + Sync + 'static>(self) -> Result<Watch<T>, Error> {
        self.watch_with(Box::new(|loader, keys| load_traced::<T>(loader, keys)))
    }

    /// Every variable of the cascade, as [`Loader::export_including`] resolves it, kept up to
    /// date as [`Loader::watch`] keeps a struct: for `settings exec --watch`. Not public API.
    #[doc(hidden)]
    pub fn watch_export(self, names: Vec<String>) -> Result<Watch<super::Export>, Error> {
        self.watch_with(Box::new(move |loader, keys| {
            let export = loader.export_including(names.iter().cloned())?;
            let mut digests = BTreeMap::new();
            let mut files = Vec::new();
            for var in export.vars() {
                let mut hasher = keys.build_hasher();
                hasher.write(var.expose_value().as_bytes());
                digests.insert(var.name().to_owned(), hasher.finish());
                if let crate::source::Origin::SecretFile { path } = var.origin() {
                    files.push(path.to_path_buf());
                }
            }
            Ok((export, digests, files))
        }))
    }

    fn watch_with<T: Send + Sync + 'static>(
        #[cfg_attr(not(any(feature = "vault", feature = "aws")), allow(unused_mut))] mut self,
        load: LoadFn<T>,
    ) -> Result<Watch<T>, Error> {
        // One store client for the life of the watch: its token and leases are renewed, not
        // obtained again at every refresh.
        #[cfg(any(feature = "vault", feature = "aws"))]
        {
            self.stores.persistent = Some(std::sync::OnceLock::new());
        }
        let keys = RandomState::new();
        let (value, digests, files) = load(&self, &keys)?;
        let watched = self.watched_paths(files);
        let snapshot = snapshot(&watched);
        let options = self.watch.clone();
        let shared = Arc::new(Shared {
            loader: self,
            load,
            keys,
            current: ArcSwap::from_pointee(value),
            state: Mutex::new(State {
                generation: 0,
                last_error: None,
                last_change: None,
                stop: false,
            }),
            signal: Condvar::new(),
            known: Mutex::new(Known { digests, watched }),
            callbacks: Mutex::new(Vec::new()),
        });
        let worker = if options.every.is_some() || !options.poll.is_zero() {
            let shared = shared.clone();
            let spawned = std::thread::Builder::new()
                .name("settings-watch".to_owned())
                .spawn(move || run_worker(&shared, &options, snapshot));
            match spawned {
                Ok(handle) => Some(handle),
                Err(err) => {
                    let problem = crate::source::SourceProblem::new(
                        Path::new("watch"),
                        None,
                        format!("cannot start the watch thread: {err}"),
                    );
                    return Err(Error::new(Vec::new(), vec![problem], 0));
                }
            }
        } else {
            None
        };
        Ok(Watch { shared, worker })
    }

    /// The files and directories whose change triggers a refresh: every file of the cascade
    /// (one created later counts), the secret files read, and the secrets directory.
    fn watched_paths(&self, secret_files: Vec<PathBuf>) -> Vec<PathBuf> {
        let profile = self
            .resolve_profile()
            .unwrap_or_else(|_| super::DEFAULT_PROFILE.to_owned());
        let mut paths: Vec<PathBuf> = self.extra_files.iter().map(|(p, _)| p.clone()).collect();
        paths.extend(self.cascade_files(&profile));
        paths.extend(secret_files);
        paths.extend(self.secrets_dir.clone());
        paths.sort();
        paths.dedup();
        paths
    }
}

/// The upkeep of a watch's store client: Vault token and leases.
impl Loader {
    /// Renews what is due; whether the settings must be read again, and what went wrong.
    fn store_upkeep(&self) -> (bool, Vec<String>) {
        #[cfg(feature = "vault")]
        if let Some(Some(resolver)) = self.stores.persistent.as_ref().map(|kept| kept.get()) {
            let upkeep = resolver.upkeep();
            return (upkeep.refresh, upkeep.problems);
        }
        (false, Vec::new())
    }

    /// When the next renewal is due, if anything is to be renewed.
    fn store_next_due(&self) -> Option<Instant> {
        #[cfg(feature = "vault")]
        if let Some(Some(resolver)) = self.stores.persistent.as_ref().map(|kept| kept.get()) {
            return resolver.next_due();
        }
        None
    }

    /// Revokes the leases replaced by the settings just published.
    fn revoke_retired(&self) {
        #[cfg(feature = "vault")]
        if let Some(Some(resolver)) = self.stores.persistent.as_ref().map(|kept| kept.get()) {
            let _ = resolver.revoke_retired();
        }
    }
}

/// A loaded `T`, the digests of the values it was read from, and the secret files read.
type Traced<T> = (T, BTreeMap<String, u64>, Vec<PathBuf>);

/// A load with the digests of the values it read and the secret files it read.
fn load_traced<T: Settings>(loader: &Loader, keys: &RandomState) -> Result<Traced<T>, Error> {
    let mut digests = BTreeMap::new();
    let mut files = Vec::new();
    let mut observe = |_: &super::Sources<'_>, overlay: &super::Overlay<'_>| {
        digests = overlay.digests(keys);
        files = overlay.secret_files();
    };
    let (value, _) = loader.load_inner::<T>(false, Some(&mut observe))?;
    Ok((value, digests, files))
}

impl<T: Send + Sync + 'static> Watch<T> {
    /// The current settings: a snapshot that never changes under its reader. Never blocks on
    /// I/O.
    pub fn get(&self) -> Arc<T> {
        self.shared.current.load_full()
    }

    /// Re-reads everything now (after a downstream API refused the old key, say). The settings
    /// are replaced only if the whole load succeeds and a value changed; on failure the last
    /// good settings stay and the error is returned (and kept for [`Watch::last_error`]).
    ///
    /// Waits for a refresh already under way. Must not be called from an
    /// [`on_change`](Watch::on_change) callback, which runs inside a refresh.
    pub fn refresh_now(&self) -> Result<(), Error> {
        self.shared.refresh().map(|_| ())
    }

    /// Waits until the settings change, at most `timeout`: the new settings, or `None` when
    /// nothing changed in time.
    pub fn wait_for_change(&self, timeout: Duration) -> Option<Arc<T>> {
        let state = lock(&self.shared.state);
        let seen = state.generation;
        let (state, _) = self
            .shared
            .signal
            .wait_timeout_while(state, timeout, |s| s.generation == seen && !s.stop)
            .unwrap_or_else(PoisonError::into_inner);
        (state.generation != seen).then(|| self.get())
    }

    /// Calls `callback` after every change, on the thread that refreshed, in order. A callback
    /// must return quickly and must not call [`Watch::refresh_now`].
    pub fn on_change(&self, callback: impl Fn(&Change<T>) + Send + Sync + 'static) {
        lock(&self.shared.callbacks).push(Box::new(callback));
    }

    /// The last change, if the settings changed since the first load.
    pub fn last_change(&self) -> Option<Change<T>> {
        lock(&self.shared.state).last_change.clone()
    }

    /// The error of the last refresh if it failed; `None` after a success.
    pub fn last_error(&self) -> Option<Error> {
        lock(&self.shared.state).last_error.clone()
    }

    /// How many changes the watch has seen.
    pub fn generation(&self) -> u64 {
        lock(&self.shared.state).generation
    }
}

impl<T> Drop for Watch<T> {
    fn drop(&mut self) {
        lock(&self.shared.state).stop = true;
        self.shared.signal.notify_all();
        if let Some(worker) = self.worker.take() {
            let _ = worker.join();
        }
    }
}

impl<T> fmt::Debug for Watch<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = lock(&self.shared.state);
        f.debug_struct("Watch")
            .field("generation", &state.generation)
            .field("failing", &state.last_error.is_some())
            .finish_non_exhaustive()
    }
}

impl<T: Send + Sync + 'static> Shared<T> {
    /// One refresh: true when the settings changed.
    fn refresh(&self) -> Result<bool, Error> {
        let mut known = lock(&self.known);
        let (value, digests, files) = match (self.load)(&self.loader, &self.keys) {
            Ok(loaded) => loaded,
            Err(err) => {
                lock(&self.state).last_error = Some(err.clone());
                return Err(err);
            }
        };
        known.watched = self.loader.watched_paths(files);
        let names = changed(&known.digests, &digests);
        known.digests = digests;
        if names.is_empty() {
            lock(&self.state).last_error = None;
            self.loader.revoke_retired();
            return Ok(false);
        }
        let settings = Arc::new(value);
        self.current.store(settings.clone());
        // The settings that used the replaced leases are gone: their database users may go.
        self.loader.revoke_retired();
        let change = {
            let mut state = lock(&self.state);
            state.generation += 1;
            state.last_error = None;
            let change = Change {
                settings,
                names: names.into(),
                generation: state.generation,
            };
            state.last_change = Some(change.clone());
            change
        };
        self.signal.notify_all();
        for callback in lock(&self.callbacks).iter() {
            callback(&change);
        }
        drop(known);
        Ok(true)
    }

    /// Problems of the stores' upkeep (a token that cannot be renewed): kept as the last error,
    /// since the next refresh will fail of them.
    fn record_problems(&self, problems: Vec<String>) {
        let problems = problems
            .into_iter()
            .map(|message| crate::source::SourceProblem::new(Path::new("vault"), None, message))
            .collect();
        lock(&self.state).last_error = Some(Error::new(Vec::new(), problems, 0));
    }

    fn watched(&self) -> Vec<PathBuf> {
        lock(&self.known).watched.clone()
    }
}

/// The names whose digest differs between `old` and `new`, or that only one of them has.
fn changed(old: &BTreeMap<String, u64>, new: &BTreeMap<String, u64>) -> Vec<String> {
    let mut names: Vec<String> = new
        .iter()
        .filter(|(name, digest)| old.get(*name) != Some(digest))
        .map(|(name, _)| name.clone())
        .collect();
    names.extend(old.keys().filter(|n| !new.contains_key(*n)).cloned());
    names.sort();
    names
}

fn run_worker<T: Send + Sync + 'static>(
    shared: &Shared<T>,
    options: &WatchOptions,
    mut seen: Snapshot,
) {
    let polling = !options.poll.is_zero();
    let now = Instant::now();
    let mut next_poll = now + options.poll;
    let mut next_refresh = options.every.map(|every| now + jitter(every));
    let mut retry: Option<(Instant, Duration)> = None;
    let mut next_upkeep = shared.loader.store_next_due();
    loop {
        let deadline = [
            polling.then_some(next_poll),
            next_refresh,
            retry.map(|(at, _)| at),
            next_upkeep,
        ]
        .into_iter()
        .flatten()
        .min();
        {
            let state = lock(&shared.state);
            let state = match deadline {
                Some(at) => {
                    let wait = at.saturating_duration_since(Instant::now());
                    shared
                        .signal
                        .wait_timeout_while(state, wait, |s| !s.stop)
                        .unwrap_or_else(PoisonError::into_inner)
                        .0
                }
                None => shared
                    .signal
                    .wait_while(state, |s| !s.stop)
                    .unwrap_or_else(PoisonError::into_inner),
            };
            if state.stop {
                return;
            }
        }
        let now = Instant::now();
        let mut due = false;
        if polling && now >= next_poll {
            next_poll = now + options.poll;
            let fresh = snapshot(&shared.watched());
            if fresh != seen {
                seen = fresh;
                due = true;
            }
        }
        if let Some(at) = next_refresh
            && now >= at
        {
            next_refresh = options.every.map(|every| now + jitter(every));
            due = true;
        }
        if let Some((at, _)) = retry
            && now >= at
        {
            due = true;
        }
        if let Some(at) = next_upkeep
            && now >= at
        {
            let (refresh, problems) = shared.loader.store_upkeep();
            due |= refresh;
            if !problems.is_empty() {
                shared.record_problems(problems);
            }
            next_upkeep = shared.loader.store_next_due();
        }
        if !due {
            continue;
        }
        // Taken before the load: a change made while it reads is seen at the next poll.
        let before = snapshot(&shared.watched());
        match shared.refresh() {
            Ok(_) => retry = None,
            Err(_) => {
                let wait = retry.map_or(FIRST_RETRY, |(_, last)| (last * 2).min(MAX_RETRY));
                retry = Some((Instant::now() + jitter(wait), wait));
            }
        }
        seen = merge(before, snapshot(&shared.watched()));
        next_upkeep = shared.loader.store_next_due();
    }
}

/// `d` ± 10%, at random.
fn jitter(d: Duration) -> Duration {
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u128(Instant::now().elapsed().as_nanos());
    let r = (hasher.finish() % 2001) as f64 / 1000.0 - 1.0; // -1.0 ..= 1.0
    d.mul_f64(1.0 + 0.1 * r)
}

/// What the metadata of a file or directory said at one moment.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Stamp {
    modified: Option<SystemTime>,
    len: u64,
    id: u64,
    /// For a directory: a digest of its entries (names, their stamps, symbolic link targets).
    entries: u64,
}

type Snapshot = Vec<(PathBuf, Option<Stamp>)>;

fn snapshot(paths: &[PathBuf]) -> Snapshot {
    paths
        .iter()
        .map(|path| (path.clone(), stamp(path)))
        .collect()
}

/// `before`, with the paths only `after` has (new paths of the last load).
fn merge(mut before: Snapshot, after: Snapshot) -> Snapshot {
    for (path, stamp) in after {
        if !before.iter().any(|(p, _)| *p == path) {
            before.push((path, stamp));
        }
    }
    before.retain(|(path, _)| !path.as_os_str().is_empty());
    before
}

fn stamp(path: &Path) -> Option<Stamp> {
    let meta = std::fs::metadata(path).ok()?;
    let entries = if meta.is_dir() {
        directory_digest(path)
    } else {
        0
    };
    Some(Stamp {
        modified: meta.modified().ok(),
        len: meta.len(),
        id: file_id(&meta),
        entries,
    })
}

/// A digest of a directory's entries: each name, where its symbolic link points, and the
/// metadata of what it leads to. Kubernetes updates a secret volume by writing a new directory
/// and swapping the `..data` link: the link's target changes, and so does every file behind it.
fn directory_digest(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    let mut names: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
    names.sort();
    let mut hasher = std::hash::DefaultHasher::new();
    for path in names {
        hasher.write(path.as_os_str().as_encoded_bytes());
        if let Ok(target) = std::fs::read_link(&path) {
            hasher.write(target.as_os_str().as_encoded_bytes());
        }
        if let Ok(meta) = std::fs::metadata(&path) {
            hasher.write_u64(meta.len());
            hasher.write_u64(file_id(&meta));
            if let Ok(modified) = meta.modified()
                && let Ok(since) = modified.duration_since(SystemTime::UNIX_EPOCH)
            {
                hasher.write_u128(since.as_nanos());
            }
        }
    }
    hasher.finish()
}

#[cfg(unix)]
fn file_id(meta: &std::fs::Metadata) -> u64 {
    use std::os::unix::fs::MetadataExt;
    meta.ino() ^ meta.dev().rotate_left(32)
}

#[cfg(not(unix))]
fn file_id(_: &std::fs::Metadata) -> u64 {
    0
}
