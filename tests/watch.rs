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

/// Waits (at most two seconds) until `watch_threads()` is `expected`: a thread takes its name
/// once it runs, and the kernel may still list a thread for a moment after it was joined.
fn settle(expected: usize) -> usize {
    let end = std::time::Instant::now() + Duration::from_secs(2);
    loop {
        let now = watch_threads();
        if now == expected || std::time::Instant::now() > end {
            return now;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
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
    assert_eq!(settle(0), 0, "nothing to poll, no interval: no thread");
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
    assert_eq!(settle(0), 0);
}

#[test]
fn dropping_the_watch_ends_its_thread() {
    let _serial = serial();
    let dir = TempDir::new("watch-drop");
    dir.write(".env", "NAME=one\nPORT=8080\nAPI_KEY=k1\n");
    let before = settle(0);
    let watches: Vec<Watch<Service>> = (0..3)
        .map(|_| {
            loader(&dir)
                .refresh_every(Duration::from_secs(3600))
                .watch()
                .unwrap()
        })
        .collect();
    assert_eq!(settle(before + 3), before + 3);
    drop(watches);
    // `drop` joins the threads: they are gone (the kernel may list one for a moment longer).
    assert_eq!(settle(before), before);
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

// ---------------------------------------------------------------- rotation in real stores

#[cfg(all(feature = "vault", feature = "aws"))]
#[path = "common/proxy.rs"]
#[allow(dead_code)]
mod proxy;
#[cfg(all(feature = "vault", feature = "aws"))]
#[path = "common/seed.rs"]
#[allow(dead_code)]
mod seed;

#[cfg(all(feature = "vault", feature = "aws"))]
mod stores {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::Duration;

    use serde_json::json;
    use settings::{ExposeSecret, Loader, SecretString, Settings, Watch};

    use super::common::TempDir;
    use super::proxy::Proxy;
    use super::seed::*;
    use super::{WAIT, serial, settle, wait_until};

    /// Two secrets that rotate together: a username and its password, say.
    #[derive(Settings)]
    struct Pair {
        a: SecretString,
        b: SecretString,
    }

    fn store_loader(dir: &TempDir, vault: &str, vars: &[(&str, String)]) -> Loader {
        require(VAULT, "OpenBao (bao server -dev)");
        require(MOTO, "moto_server");
        let mut all: Vec<(String, String)> = vec![
            ("VAULT_ADDR".into(), vault.to_owned()),
            ("VAULT_TOKEN".into(), ROOT_TOKEN.into()),
            ("AWS_ACCESS_KEY_ID".into(), "testing".into()),
            ("AWS_SECRET_ACCESS_KEY".into(), "testing".into()),
            ("AWS_REGION".into(), "us-east-1".into()),
            ("AWS_ENDPOINT_URL".into(), format!("http://{MOTO}")),
        ];
        all.extend(vars.iter().map(|(k, v)| (k.to_string(), v.clone())));
        Loader::new()
            .dir(dir.path())
            .vars(all)
            .store_options(quick())
            .poll_files_every(Duration::ZERO)
            .refresh_every(Duration::from_millis(200))
    }

    fn pair(watch: &Watch<Pair>) -> (String, String) {
        let now = watch.get();
        (
            now.a.expose_secret().to_owned(),
            now.b.expose_secret().to_owned(),
        )
    }

    #[test]
    fn a_new_kv_version_is_seen_within_one_interval() {
        let _serial = serial();
        let path = unique("watch-kv");
        vault_put(&path, json!({ "A": "kv-a-1", "B": "kv-b-1" }));
        let dir = TempDir::new("watch-kv");
        let refs = [
            ("A", format!("vault:secret/{path}#A")),
            ("B", format!("vault:secret/{path}#B")),
        ];
        let watch: Watch<Pair> = store_loader(&dir, &format!("http://{VAULT}"), &refs)
            .watch()
            .unwrap();
        assert_eq!(pair(&watch), ("kv-a-1".into(), "kv-b-1".into()));
        vault_put(&path, json!({ "A": "kv-a-2", "B": "kv-b-2" }));
        watch
            .wait_for_change(WAIT)
            .expect("the new version is seen");
        assert_eq!(pair(&watch), ("kv-a-2".into(), "kv-b-2".into()));
        assert_eq!(watch.last_change().unwrap().names(), ["A", "B"]);
    }

    #[test]
    fn a_new_ssm_value_and_a_new_awscurrent_version_are_seen() {
        let _serial = serial();
        let parameter = format!("/{}/key", unique("watch-ssm"));
        ssm_put(&parameter, "ssm-1");
        let secret = unique("watch-sm");
        secret_put(&secret, "sm-1");
        let dir = TempDir::new("watch-aws");
        let refs = [
            ("A", format!("ssm:{parameter}")),
            ("B", format!("secretsmanager:{secret}")),
        ];
        let watch: Watch<Pair> = store_loader(&dir, &format!("http://{VAULT}"), &refs)
            .watch()
            .unwrap();
        assert_eq!(pair(&watch), ("ssm-1".into(), "sm-1".into()));

        ssm_put(&parameter, "ssm-2");
        watch
            .wait_for_change(WAIT)
            .expect("the new SSM value is seen");
        assert_eq!(pair(&watch), ("ssm-2".into(), "sm-1".into()));
        assert_eq!(watch.last_change().unwrap().names(), ["A"]);

        let (status, answer) = moto(
            "secretsmanager",
            "secretsmanager.PutSecretValue",
            json!({ "SecretId": secret, "SecretString": "sm-2" }),
        );
        assert_eq!(status, 200, "{answer}");
        watch
            .wait_for_change(WAIT)
            .expect("the new AWSCURRENT version is seen");
        assert_eq!(pair(&watch), ("ssm-2".into(), "sm-2".into()));
        assert_eq!(watch.last_change().unwrap().names(), ["B"]);
    }

    #[test]
    fn a_store_that_stops_keeps_the_last_good_value_and_the_watch_recovers() {
        let _serial = serial();
        let path = unique("watch-down");
        vault_put(&path, json!({ "A": "down-a", "B": "down-b" }));
        let proxy = Proxy::start(VAULT);
        let dir = TempDir::new("watch-down");
        let refs = [
            ("A", format!("vault:secret/{path}#A")),
            ("B", format!("vault:secret/{path}#B")),
        ];
        let watch: Watch<Pair> = store_loader(&dir, &proxy.url(), &refs).watch().unwrap();
        proxy.set_down(true);
        let err = watch.refresh_now().unwrap_err();
        let text = err.to_string();
        assert!(text.contains("A") && text.contains(&path), "{text}");
        assert!(!text.contains("down-a"), "{text}");
        assert_eq!(pair(&watch), ("down-a".into(), "down-b".into()));
        assert!(watch.last_error().is_some());

        proxy.set_down(false);
        // The interval's next refresh succeeds; nothing changed, so no one is woken.
        assert!(
            wait_until(|| watch.last_error().is_none().then_some(())).is_some(),
            "the watch recovers"
        );
        assert_eq!(watch.generation(), 0);
        vault_put(&path, json!({ "A": "up-a", "B": "up-b" }));
        watch
            .wait_for_change(WAIT)
            .expect("rotations are seen again");
        assert_eq!(pair(&watch), ("up-a".into(), "up-b".into()));
    }

    #[test]
    fn a_refresh_makes_no_more_requests_than_the_first_load() {
        let _serial = serial();
        #[derive(Settings)]
        #[allow(dead_code)] // Read through the store requests they cause.
        struct Ten {
            k0: SecretString,
            k1: SecretString,
            k2: SecretString,
            k3: SecretString,
            k4: SecretString,
            k5: SecretString,
            k6: SecretString,
            k7: SecretString,
            k8: SecretString,
            k9: SecretString,
        }
        let paths = [unique("ten"), unique("ten"), unique("ten")];
        for path in &paths {
            vault_put(path, json!({ "X": "x", "Y": "y", "Z": "z" }));
        }
        let prefix = format!("/{}", unique("ten"));
        ssm_put(&format!("{prefix}/p"), "p");
        let proxy = Proxy::start(VAULT);
        let mut refs = Vec::new();
        for i in 0..9 {
            let key = ["X", "Y", "Z"][i % 3];
            refs.push((
                format!("K{i}"),
                format!("vault:secret/{}#{key}", paths[i / 3]),
            ));
        }
        refs.push(("K9".into(), format!("ssm:{prefix}/p")));
        let refs: Vec<(&str, String)> = refs.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
        let dir = TempDir::new("watch-ten");
        let watch: Watch<Ten> = store_loader(&dir, &proxy.url(), &refs)
            .refresh_every(Duration::from_secs(3600))
            .watch()
            .unwrap();
        // The token's lifetime (to renew it in time) and the mount's KV version once per watch,
        // then one read per Vault path.
        let first = proxy.requests();
        assert_eq!(first, 5, "requests of the first load");
        watch.refresh_now().unwrap();
        assert!(proxy.requests() - first <= first, "a refresh reads no more");
        assert_eq!(watch.get().k9.expose_secret(), "p");
    }

    /// Several hundred refreshes, a third of the store's requests failing, values rotating: every
    /// settings value ever handed out is whole (both halves of the pair from one version), no
    /// thread is left behind, and memory stays flat.
    #[test]
    fn soak_under_faults_every_value_is_whole() {
        let _serial = serial();
        let path = unique("soak");
        vault_put(&path, json!({ "A": "0-a", "B": "0-b" }));
        let proxy = Proxy::start(VAULT);
        let dir = TempDir::new("watch-soak");
        let refs = [
            ("A", format!("vault:secret/{path}#A")),
            ("B", format!("vault:secret/{path}#B")),
        ];
        let threads_before = settle(0);
        let watch: Arc<Watch<Pair>> = Arc::new(
            store_loader(&dir, &proxy.url(), &refs)
                .refresh_every(Duration::from_millis(20))
                .watch()
                .unwrap(),
        );
        proxy.fail_every(3);
        let done = Arc::new(AtomicBool::new(false));
        let reader = {
            let (watch, done) = (watch.clone(), done.clone());
            std::thread::spawn(move || {
                let mut reads = 0u64;
                while !done.load(Ordering::SeqCst) {
                    let (a, b) = pair(&watch);
                    let (va, vb) = (a.split('-').next(), b.split('-').next());
                    assert_eq!(va, vb, "a value made of two versions: {a} {b}");
                    reads += 1;
                }
                reads
            })
        };
        let mut rss_after_warmup = 0;
        let (mut ok, mut failed) = (0, 0);
        for i in 1..=300 {
            if i % 10 == 0 {
                vault_put(
                    &path,
                    json!({ "A": format!("{i}-a"), "B": format!("{i}-b") }),
                );
            }
            match watch.refresh_now() {
                Ok(()) => ok += 1,
                Err(_) => failed += 1,
            }
            if i == 50 {
                rss_after_warmup = rss();
            }
        }
        done.store(true, Ordering::SeqCst);
        let reads = reader.join().expect("the reader saw only whole values");
        assert!(reads > 0);
        assert!(ok > 100, "{ok} refreshes succeeded, {failed} failed");
        proxy.fail_every(0);
        watch.refresh_now().unwrap();
        assert_eq!(pair(&watch), ("300-a".into(), "300-b".into()));
        let grown = rss().saturating_sub(rss_after_warmup);
        assert!(grown < 8 << 20, "resident memory grew by {grown} bytes");
        assert_eq!(settle(threads_before + 1), threads_before + 1);
        drop(Arc::into_inner(watch).expect("the only owner"));
        assert_eq!(settle(threads_before), threads_before);
    }

    /// Resident memory of this process, in bytes.
    fn rss() -> usize {
        let statm = std::fs::read_to_string("/proc/self/statm").unwrap();
        let pages: usize = statm.split_whitespace().nth(1).unwrap().parse().unwrap();
        pages * 4096
    }
}
