//! Each value is read once per load, with or without a report, and where it came from is told
//! from that one read: a `Source` that counts the calls it gets, and the count of files read.
//! One test in this binary, so that no other load moves the file count meanwhile.

mod common;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use common::TempDir;
use settings::{Loader, Origin, RawValue, SecretString, Settings, Source, Vars};

/// The process environment's stand-in, counting every lookup by name; a clone shares the
/// counts.
#[derive(Clone)]
struct Counting {
    inner: Arc<Vars>,
    gets: Arc<Mutex<HashMap<String, usize>>>,
}

impl Counting {
    fn new(pairs: &[(&str, &str)]) -> Counting {
        Counting {
            inner: Arc::new(Vars::new(pairs.iter().copied())),
            gets: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    fn gets(&self, name: &str) -> usize {
        self.gets.lock().unwrap().get(name).copied().unwrap_or(0)
    }

    fn reset(&self) {
        self.gets.lock().unwrap().clear();
    }
}

impl Source for Counting {
    fn get(&self, name: &str) -> Option<RawValue> {
        *self
            .gets
            .lock()
            .unwrap()
            .entry(name.to_owned())
            .or_default() += 1;
        self.inner.get(name)
    }

    fn origin(&self, name: &str) -> Origin {
        self.inner.origin(name)
    }
}

#[derive(Settings)]
#[allow(dead_code)]
struct App {
    name: String,
    #[settings(alias = "OLD_PORT")]
    port: u16,
    api_token: SecretString,
    db_password: SecretString,
    webhook: Option<String>,
}

#[test]
fn every_value_is_read_once_per_load() {
    let dir = TempDir::new("reads");
    let secrets = dir.path().join("secrets");
    dir.write("secrets/db_password", "from-the-secrets-directory");
    let token = dir.write("token", "from-a-secret-file");
    dir.write(".env", "NAME=from-dotenv\n");
    let env = Counting::new(&[
        ("OLD_PORT", "8080"),
        ("API_TOKEN_FILE", token.to_str().unwrap()),
    ]);
    let loader = Loader::new()
        .dir(dir.path())
        .secrets_dir(&secrets)
        .environment(env.clone());
    for with_report in [false, true] {
        env.reset();
        let files_before = settings::__private::testing::file_reads();
        let port = if with_report {
            let (app, report) = loader.load_with_report::<App>().unwrap();
            let text = report.to_string();
            assert!(
                text.contains("API_TOKEN = [REDACTED] (from secret file"),
                "{text}"
            );
            assert!(
                text.contains("DB_PASSWORD = [REDACTED] (from secret file"),
                "{text}"
            );
            app.port
        } else {
            loader.load::<App>().unwrap().port
        };
        assert_eq!(port, 8080);
        let files = settings::__private::testing::file_reads() - files_before;
        // The four .env files of the cascade (.env.development.local, .env.development,
        // .env.local, .env: three do not exist, each still asked for once), the NAME_FILE target
        // and the secrets directory's file: each once.
        assert_eq!(files, 6, "with report: {with_report}");
        for name in [
            "NAME",
            "PORT",
            "OLD_PORT",
            "API_TOKEN",
            "DB_PASSWORD",
            "WEBHOOK",
        ] {
            assert_eq!(env.gets(name), 1, "{name}, with report: {with_report}");
        }
    }
}
