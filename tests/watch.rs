//! Live settings (`Loader::watch`): files edited, created and swapped the way kubelet swaps a
//! secret volume; values rotated in real stores (OpenBao, moto); refreshes that fail, and a
//! background thread that ends with its `Watch`.

#![cfg(feature = "watch")]

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use common::TempDir;
use settings::{ExposeSecret, Loader, SecretString, Settings, Watch};

/// The watch tests count the threads named `settings-watch`: one at a time.
fn serial() -> MutexGuard<'static, ()> {
    static SERIAL: Mutex<()> = Mutex::new(());
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

/// Threads of this process named `settings-watch`.
fn watch_threads() -> usize {
    std::fs::read_dir("/proc/self/task")
        .unwrap()
        .flatten()
        .filter(|task| {
            std::fs::read_to_string(task.path().join("comm"))
                .is_ok_and(|name| name.trim() == "settings-watch")
        })
        .count()
}

#[derive(Settings)]
struct Service {
    name: String,
    port: u16,
    api_key: SecretString,
}

const WAIT: Duration = Duration::from_secs(10);

fn loader(dir: &TempDir) -> Loader {
    Loader::new()
        .dir(dir.path())
        .vars(Vec::<(String, String)>::new())
        .poll_files_every(Duration::from_millis(50))
}

#[test]
fn an_edited_profile_file_is_seen_with_the_names_that_changed() {
    let _serial = serial();
    let dir = TempDir::new("watch-edit");
    dir.write(".env", "NAME=base\nPORT=8080\nAPI_KEY=k1\n");
    dir.write(".env.staging", "NAME=staging\n");
    let watch: Watch<Service> = loader(&dir).profile("staging").watch().unwrap();
    assert_eq!(watch.get().name, "staging");
    let names = Arc::new(Mutex::new(Vec::new()));
    let seen = names.clone();
    watch.on_change(move |change| seen.lock().unwrap().push(change.names().to_vec()));

    dir.write(".env.staging", "NAME=staging-2\nAPI_KEY=k2\n");
    let new = watch.wait_for_change(WAIT).expect("the edit is seen");
    assert_eq!(new.name, "staging-2");
    assert_eq!(new.api_key.expose_secret(), "k2");
    let change = watch.last_change().unwrap();
    assert_eq!(change.names(), ["API_KEY", "NAME"]);
    assert_eq!(change.generation(), 1);
    assert_eq!(*names.lock().unwrap(), [vec!["API_KEY", "NAME"]]);
    // A change says which names changed, never what they hold.
    let shown = format!("{change:?} {watch:?}");
    assert!(
        !shown.contains("k2") && !shown.contains("staging-2"),
        "{shown}"
    );
}

#[test]
fn a_file_created_after_the_start_is_seen() {
    let _serial = serial();
    let dir = TempDir::new("watch-create");
    dir.write(".env", "NAME=base\nPORT=8080\nAPI_KEY=k1\n");
    let watch: Watch<Service> = loader(&dir).watch().unwrap();
    dir.write(".env.local", "PORT=9090\n");
    let new = watch.wait_for_change(WAIT).expect("the new file is seen");
    assert_eq!(new.port, 9090);
    assert_eq!(new.name, "base");
}

#[test]
fn an_invalid_refresh_is_rejected_whole_and_the_watch_recovers() {
    let _serial = serial();
    let dir = TempDir::new("watch-invalid");
    dir.write(".env", "NAME=one\nPORT=8080\nAPI_KEY=k1\n");
    let watch: Watch<Service> = loader(&dir).watch().unwrap();
    let before = watch.get();

    // A rotation that would change two values, one of them invalid: neither is taken.
    dir.write(".env", "NAME=two\nPORT=99999\nAPI_KEY=k2\n");
    let error = wait_until(|| watch.last_error()).expect("the refresh fails");
    assert!(error.to_string().contains("PORT"), "{error}");
    assert!(!error.to_string().contains("k2"), "{error}");
    let now = watch.get();
    assert!(Arc::ptr_eq(&before, &now), "the last good settings stay");
    assert_eq!(now.name, "one");
    assert_eq!(watch.generation(), 0);

    dir.write(".env", "NAME=two\nPORT=8081\nAPI_KEY=k2\n");
    let fixed = watch.wait_for_change(WAIT).expect("the fix is seen");
    assert_eq!((fixed.name.as_str(), fixed.port), ("two", 8081));
    assert!(watch.last_error().is_none());
}

#[test]
fn a_rewrite_with_the_same_values_wakes_no_one() {
    let _serial = serial();
    let dir = TempDir::new("watch-same");
    dir.write(".env", "NAME=one\nPORT=8080\nAPI_KEY=k1\n");
    let watch: Watch<Service> = loader(&dir).watch().unwrap();
    let calls = Arc::new(AtomicUsize::new(0));
    let counted = calls.clone();
    watch.on_change(move |_| {
        counted.fetch_add(1, Ordering::SeqCst);
    });
    // The same values, written differently: the file changed, the settings did not.
    dir.write(
        ".env",
        "# rewritten\nNAME='one'\nPORT = 8080\nAPI_KEY=\"k1\"\n",
    );
    assert!(watch.wait_for_change(Duration::from_millis(600)).is_none());
    assert_eq!(calls.load(Ordering::SeqCst), 0);
    assert_eq!(watch.generation(), 0);
}

#[test]
fn a_secret_volume_updated_as_kubelet_does_is_seen() {
    let _serial = serial();
    let dir = TempDir::new("watch-kubelet");
    dir.write(".env", "NAME=svc\nPORT=8080\n");
    let secrets = dir.path().join("secrets");
    // kubelet's layout: files are links through `..data`, itself a link to a timestamped
    // directory; an update writes a new directory and renames a new `..data` over the old.
    let version = |stamp: &str, key: &str| {
        let data = secrets.join(stamp);
        std::fs::create_dir_all(&data).unwrap();
        std::fs::write(data.join("api_key"), key).unwrap();
    };
    version("..2026_11_28_01", "volume-key-1");
    std::os::unix::fs::symlink("..2026_11_28_01", secrets.join("..data")).unwrap();
    std::os::unix::fs::symlink("..data/api_key", secrets.join("api_key")).unwrap();

    let watch: Watch<Service> = loader(&dir).secrets_dir(&secrets).watch().unwrap();
    assert_eq!(watch.get().api_key.expose_secret(), "volume-key-1");

    version("..2026_11_28_02", "volume-key-2");
    std::os::unix::fs::symlink("..2026_11_28_02", secrets.join("..data_tmp")).unwrap();
    std::fs::rename(secrets.join("..data_tmp"), secrets.join("..data")).unwrap();
    std::fs::remove_dir_all(secrets.join("..2026_11_28_01")).unwrap();
    let new = watch.wait_for_change(WAIT).expect("the swap is seen");
    assert_eq!(new.api_key.expose_secret(), "volume-key-2");
    assert_eq!(watch.last_change().unwrap().names(), ["API_KEY"]);
}

#[test]
fn a_name_file_target_replaced_atomically_is_seen() {
    let _serial = serial();
    let dir = TempDir::new("watch-name-file");
    let key = dir.write("api.key", "file-key-1\n");
    let loader = Loader::new()
        .dir(dir.path())
        .vars([
            ("NAME", "svc"),
            ("PORT", "1"),
            ("API_KEY_FILE", key.to_str().unwrap()),
        ])
        .poll_files_every(Duration::from_millis(50));
    let watch: Watch<Service> = loader.watch().unwrap();
    assert_eq!(watch.get().api_key.expose_secret(), "file-key-1");
    let tmp = dir.write("api.key.tmp", "file-key-2\n");
    std::fs::rename(tmp, &key).unwrap();
    let new = watch.wait_for_change(WAIT).expect("the new file is seen");
    assert_eq!(new.api_key.expose_secret(), "file-key-2");
}

#[test]
fn refresh_now_reads_again_when_nothing_is_polled() {
    let _serial = serial();
    let dir = TempDir::new("watch-now");
    dir.write(".env", "NAME=one\nPORT=8080\nAPI_KEY=k1\n");
    let watch: Watch<Service> = loader(&dir)
        .poll_files_every(Duration::ZERO)
        .watch()
        .unwrap();
    assert_eq!(
        watch_threads(),
        0,
        "nothing to poll, no interval: no thread"
    );
    dir.write(".env", "NAME=two\nPORT=8080\nAPI_KEY=k1\n");
    assert!(watch.wait_for_change(Duration::from_millis(300)).is_none());
    assert_eq!(watch.get().name, "one");
    watch.refresh_now().unwrap();
    assert_eq!(watch.get().name, "two");
    assert_eq!(watch.last_change().unwrap().names(), ["NAME"]);

    dir.write(".env", "NAME=three\nPORT=x\nAPI_KEY=k1\n");
    let err = watch.refresh_now().unwrap_err();
    assert!(err.to_string().contains("PORT"), "{err}");
    assert_eq!(watch.last_error(), Some(err));
    assert_eq!(watch.get().name, "two");
}

#[test]
fn the_first_load_fails_as_load_does() {
    let _serial = serial();
    let dir = TempDir::new("watch-first");
    dir.write(".env", "NAME=one\nPORT=x\n");
    let watched = loader(&dir).watch::<Service>().unwrap_err();
    let loaded = loader(&dir).load::<Service>().unwrap_err();
    assert_eq!(watched.to_string(), loaded.to_string());
    assert_eq!(watch_threads(), 0);
}

#[test]
fn dropping_the_watch_ends_its_thread() {
    let _serial = serial();
    let dir = TempDir::new("watch-drop");
    dir.write(".env", "NAME=one\nPORT=8080\nAPI_KEY=k1\n");
    let before = watch_threads();
    let watches: Vec<Watch<Service>> = (0..3)
        .map(|_| {
            loader(&dir)
                .refresh_every(Duration::from_secs(3600))
                .watch()
                .unwrap()
        })
        .collect();
    assert_eq!(watch_threads(), before + 3);
    drop(watches);
    // `drop` joins the thread: it is gone when drop returns, not some time later.
    assert_eq!(watch_threads(), before);
}

/// Polls `f` until it gives something, for at most `WAIT`.
fn wait_until<R>(f: impl Fn() -> Option<R>) -> Option<R> {
    let end = std::time::Instant::now() + WAIT;
    while std::time::Instant::now() < end {
        if let Some(found) = f() {
            return Some(found);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    None
}
