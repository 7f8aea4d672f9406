//! The loading layer, in temporary directories: profiles, the `.env` cascade, the production rule,
//! extra files, secret files, provenance, strict mode. The process environment is never touched:
//! `Loader::vars` stands in for it.

mod common;

use std::time::Duration;

use common::TempDir;
use settings::{ExposeSecret, Loader, Origin, ProblemKind, SecretString, Settings};

#[derive(Settings)]
#[allow(dead_code)] // Some fields are only looked at through reports.
struct App {
    /// Shown in logs
    name: String,
    /// Records per batch
    #[settings(default = 100)]
    batch_size: u32,
    /// Database connection string
    database_url: SecretString,
    webhook: Option<String>,
    #[settings(default = "30s")]
    timeout: Duration,
}

fn loader(dir: &TempDir) -> Loader {
    Loader::new()
        .dir(dir.path())
        .vars(Vec::<(String, String)>::new())
}

/// A directory with every cascade file, each defining NAME to its own file name.
fn cascade(dir: &TempDir) {
    dir.write(
        ".env",
        "NAME=env\nDATABASE_URL=postgres://base\nBATCH_SIZE=1\n",
    );
    dir.write(".env.local", "NAME=env.local\nBATCH_SIZE=2\n");
    dir.write(".env.staging", "NAME=env.staging\n");
    dir.write(".env.staging.local", "NAME=env.staging.local\n");
    dir.write(".env.test", "NAME=env.test\n");
    dir.write(".env.development", "NAME=env.development\n");
}

#[test]
fn the_cascade_ranks_profile_local_over_profile_over_local_over_base() {
    let dir = TempDir::new("cascade");
    cascade(&dir);
    let app: App = loader(&dir).profile("staging").load().unwrap();
    assert_eq!(app.name, "env.staging.local");
    assert_eq!(app.batch_size, 2, ".env.local over .env");
    assert_eq!(app.database_url.expose_secret(), "postgres://base");

    std::fs::remove_file(dir.path().join(".env.staging.local")).unwrap();
    let app: App = loader(&dir).profile("staging").load().unwrap();
    assert_eq!(app.name, "env.staging");

    std::fs::remove_file(dir.path().join(".env.staging")).unwrap();
    let app: App = loader(&dir).profile("staging").load().unwrap();
    assert_eq!(app.name, "env.local");
}

#[test]
fn the_process_environment_wins_over_every_file() {
    let dir = TempDir::new("env-wins");
    cascade(&dir);
    let app: App = loader(&dir)
        .profile("staging")
        .vars([("NAME", "process"), ("BATCH_SIZE", "7")])
        .load()
        .unwrap();
    assert_eq!(app.name, "process");
    assert_eq!(app.batch_size, 7);
}

#[test]
fn the_test_profile_skips_dot_env_local() {
    let dir = TempDir::new("test-profile");
    cascade(&dir);
    let app: App = loader(&dir).profile("test").load().unwrap();
    assert_eq!(app.name, "env.test");
    assert_eq!(app.batch_size, 1, ".env.local is not read for `test`");
}

#[test]
fn the_profile_comes_from_a_variable_and_defaults_to_development() {
    let dir = TempDir::new("profile-var");
    cascade(&dir);
    let app: App = loader(&dir).load().unwrap();
    assert_eq!(app.name, "env.development");
    let app: App = loader(&dir)
        .vars([("ENVIRONMENT", "staging")])
        .load()
        .unwrap();
    assert_eq!(app.name, "env.staging.local");
    let custom = loader(&dir)
        .profile_from("APP_ENV")
        .vars([("APP_ENV", "test"), ("ENVIRONMENT", "staging")]);
    assert_eq!(custom.resolve_profile().unwrap(), "test");
    assert_eq!(custom.load::<App>().unwrap().name, "env.test");
}

#[test]
fn a_profile_name_cannot_escape_the_directory() {
    let dir = TempDir::new("profile-name");
    cascade(&dir);
    let err = loader(&dir)
        .vars([("ENVIRONMENT", "../../etc/x")])
        .load::<App>()
        .unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("ENVIRONMENT: a profile name may hold only ASCII letters"),
        "{text}"
    );
}

#[test]
fn production_reads_the_environment_only_unless_the_code_opts_in() {
    let dir = TempDir::new("production");
    cascade(&dir);
    dir.write(".env.production", "NAME=env.production\n");
    let err = loader(&dir)
        .profile("production")
        .load::<App>()
        .unwrap_err();
    let missing: Vec<_> = err.problems().iter().map(|p| p.var.as_str()).collect();
    assert_eq!(missing, ["NAME", "DATABASE_URL"]);
    assert!(err.to_string().ends_with("The production profile reads no .env files: set them as environment variables or in secret files (NAME_FILE, a secrets directory)."), "{err}");

    // The same is true when the profile comes from the environment, in any case.
    let err = loader(&dir)
        .vars([("ENVIRONMENT", "Production")])
        .load::<App>()
        .unwrap_err();
    assert_eq!(err.problems().len(), 2);

    // Opting in reads the cascade; a file named in code is read without opting in.
    let app: App = loader(&dir)
        .profile("production")
        .files_in_production(true)
        .load()
        .unwrap();
    assert_eq!(app.name, "env.production");
    let only = dir.write("deploy.env", "NAME=named-in-code\nDATABASE_URL=x\n");
    let app: App = loader(&dir)
        .profile("production")
        .file(only)
        .load()
        .unwrap();
    assert_eq!(app.name, "named-in-code");
    assert_eq!(app.batch_size, 100, "the cascade stays unread");
}

#[test]
fn extra_files_rank_above_the_cascade_and_may_be_required() {
    let dir = TempDir::new("extra");
    cascade(&dir);
    let first = dir.write("one.env", "NAME=one\nBATCH_SIZE=11\n");
    let second = dir.write("two.env", "NAME=two\n");
    let app: App = loader(&dir)
        .profile("staging")
        .file(&first)
        .file(&second)
        .load()
        .unwrap();
    assert_eq!(app.name, "two", "a later file wins");
    assert_eq!(app.batch_size, 11);

    let missing = dir.path().join("missing.env");
    let app: App = loader(&dir).optional_file(&missing).load().unwrap();
    assert_eq!(app.name, "env.development");
    let err = loader(&dir).file(&missing).load::<App>().unwrap_err();
    assert_eq!(err.source_problems().len(), 1);
    assert!(
        err.to_string()
            .contains(&format!("{}: required file not found", missing.display())),
        "{err}"
    );
}

#[test]
fn expansion_and_quotes_follow_the_dialect() {
    let dir = TempDir::new("expansion");
    dir.write(
        ".env",
        "HOST=db.internal\nDATABASE_URL=postgres://${HOST}:5432/app\nNAME='p@ss$word ${HOST}'\n",
    );
    let app: App = loader(&dir).load().unwrap();
    assert_eq!(
        app.database_url.expose_secret(),
        "postgres://db.internal:5432/app"
    );
    assert_eq!(app.name, "p@ss$word ${HOST}");
}

#[test]
fn a_malformed_file_is_named_with_its_line_and_other_problems_still_reported() {
    let dir = TempDir::new("malformed");
    dir.write(".env", "NAME=ok\nDATABASE_URL='never-closed-s3cret\n");
    dir.write(
        ".env.development",
        "BATCH_SIZE=many\nthis line is wrong s3cret\n",
    );
    let err = loader(&dir).load::<App>().unwrap_err();
    let text = err.to_string();
    let dev = dir.path().join(".env.development");
    let base = dir.path().join(".env");
    assert!(
        text.contains(&format!("{} line 2: cannot be parsed", dev.display())),
        "{text}"
    );
    assert!(
        text.contains(&format!("{} line 2: cannot be parsed", base.display())),
        "{text}"
    );
    assert!(!text.contains("s3cret"), "{text}");
    // The good lines of a file with a bad one still load: NAME is not reported missing, and
    // the field whose line is bad points at it instead of saying "not set".
    assert!(!text.contains("NAME: not set"), "{text}");
    assert!(!text.contains("DATABASE_URL: not set"), "{text}");
    assert!(
        text.contains(&format!(
            "the line that defines it ({} line 2) cannot be parsed",
            base.display()
        )),
        "{text}"
    );
    assert!(text.contains("BATCH_SIZE"), "{text}");
}

#[test]
fn provenance_names_the_file_and_line() {
    let dir = TempDir::new("provenance");
    dir.write(".env", "NAME=n\nDATABASE_URL=d\n");
    dir.write(
        ".env.staging",
        "# staging\n\nWEBHOOK=https://hook\nBATCH_SIZE=lots\n",
    );
    let err = loader(&dir).profile("staging").load::<App>().unwrap_err();
    let staging = dir.path().join(".env.staging");
    let problem = &err.problems()[0];
    match &problem.kind {
        ProblemKind::Invalid {
            origin: Origin::File { path, line },
            ..
        } => {
            assert_eq!(&**path, staging.as_path());
            assert_eq!(*line, Some(4));
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(
        err.to_string().contains(&format!(
            "BATCH_SIZE from {} line 4: expected u32",
            staging.display()
        )),
        "{err}"
    );
}

#[test]
fn the_report_says_where_each_value_came_from() {
    let dir = TempDir::new("report");
    dir.write(
        ".env",
        "NAME=from-file\nDATABASE_URL=postgres://secret-in-file\n",
    );
    let (_, report) = loader(&dir)
        .vars([("WEBHOOK", "https://hook")])
        .load_with_report::<App>()
        .unwrap();
    let text = report.to_string();
    let env = dir.path().join(".env");
    assert!(
        text.starts_with("Settings loaded: 2 required, 1 of 3 optional set"),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "  NAME = from-file (from {} line 1)",
            env.display()
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "  DATABASE_URL = [REDACTED] (from {} line 2)",
            env.display()
        )),
        "{text}"
    );
    assert!(
        text.contains("  WEBHOOK = https://hook (from given variables)"),
        "{text}"
    );
    assert!(text.contains("  BATCH_SIZE = 100 (default)"), "{text}");
    assert!(text.contains("  TIMEOUT = 30s (default)"), "{text}");
    assert!(!text.contains("secret-in-file"), "{text}");
}

#[test]
fn name_file_reads_a_secret_file() {
    let dir = TempDir::new("name-file");
    let secret = dir.write("db_url", "postgres://from-secret-file\n");
    dir.write(".env", "NAME=n\n");
    let (app, report) = loader(&dir)
        .vars([("DATABASE_URL_FILE", secret.to_str().unwrap())])
        .load_with_report::<App>()
        .unwrap();
    assert_eq!(
        app.database_url.expose_secret(),
        "postgres://from-secret-file",
        "one trailing newline removed"
    );
    assert!(
        report.to_string().contains(&format!(
            "DATABASE_URL = [REDACTED] (from secret file {})",
            secret.display()
        )),
        "{report}"
    );

    // Only one trailing newline goes; CRLF counts as one.
    let two = dir.write("two_newlines", "value\n\n");
    let crlf = dir.write("crlf", "value\r\n");
    for (file, want) in [(&two, "value\n"), (&crlf, "value")] {
        let app: App = loader(&dir)
            .vars([("DATABASE_URL_FILE", file.to_str().unwrap())])
            .load()
            .unwrap();
        assert_eq!(app.database_url.expose_secret(), want);
    }

    // NAME_FILE written in a file is for secret fields only: a file in the working directory
    // could otherwise copy any readable file (a token) into a field that is printed.
    dir.write(".env", "NAME=n\n");
    dir.write(
        ".env.development",
        format!("DATABASE_URL_FILE={}\n", secret.display()),
    );
    let app: App = loader(&dir).load().unwrap();
    assert_eq!(
        app.database_url.expose_secret(),
        "postgres://from-secret-file"
    );
    dir.write(".env", "DATABASE_URL=d\n");
    dir.write(
        ".env.development",
        format!("NAME_FILE={}\n", secret.display()),
    );
    let err = loader(&dir).load::<App>().unwrap_err().to_string();
    assert!(
        err.contains(".env.development line 1: NAME_FILE is set in a file, and a file may name a file to read only for a secret field; field `name` is not secret"),
        "{err}"
    );
    assert!(!err.contains("from-secret-file"), "{err}");
    // From the environment (trusted), it still works for any field.
    let app: App = loader(&dir)
        .vars([
            ("NAME_FILE", secret.to_str().unwrap()),
            ("DATABASE_URL", "d"),
        ])
        .load()
        .unwrap();
    assert_eq!(app.name, "postgres://from-secret-file");
}

#[test]
fn a_relative_name_file_in_a_file_is_relative_to_that_file() {
    let dir = TempDir::new("relative-file");
    dir.write("secrets/db_url", "postgres://relative\n");
    dir.write(".env", "NAME=n\nDATABASE_URL_FILE=secrets/db_url\n");
    // The load runs with another current directory than the files'.
    let app: App = loader(&dir).load().unwrap();
    assert_eq!(app.database_url.expose_secret(), "postgres://relative");
}

#[test]
fn name_and_name_file_together_are_an_error() {
    let dir = TempDir::new("both");
    let secret = dir.write("db_url", "from-file-s3cret");
    let err = loader(&dir)
        .vars([
            ("NAME", "n"),
            ("DATABASE_URL", "direct-s3cret"),
            ("DATABASE_URL_FILE", secret.to_str().unwrap()),
        ])
        .load::<App>()
        .unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("DATABASE_URL from given variables: both DATABASE_URL and DATABASE_URL_FILE are set; set only one of them"),
        "{text}"
    );
    assert!(!text.contains("s3cret"), "{text}");
}

#[test]
fn oversized_and_missing_secret_files_are_refused() {
    let dir = TempDir::new("oversized");
    let big = dir.write("big", vec![b'x'; 1024 * 1024 + 1]);
    let exact = dir.write("exact", vec![b'y'; 1024 * 1024]);
    let missing = dir.path().join("missing");
    let err = loader(&dir)
        .vars([
            ("NAME_FILE", big.to_str().unwrap()),
            ("DATABASE_URL_FILE", missing.to_str().unwrap()),
        ])
        .load::<App>()
        .unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains(&format!(
            "NAME from secret file {}: is larger than 1 MiB; refused",
            big.display()
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "DATABASE_URL from secret file {}: does not exist",
            missing.display()
        )),
        "{text}"
    );
    assert!(!text.contains("xxxx"), "{text}");

    let app: App = loader(&dir)
        .vars([
            ("NAME_FILE", exact.to_str().unwrap()),
            ("DATABASE_URL", "d"),
        ])
        .load()
        .unwrap();
    assert_eq!(app.name.len(), 1024 * 1024, "exactly 1 MiB is accepted");
}

#[test]
fn a_secrets_directory_supplies_unset_variables() {
    let dir = TempDir::new("secrets-dir");
    let secrets = TempDir::new("secrets-dir-run");
    secrets.write("DATABASE_URL", "postgres://from-secrets-dir\n");
    secrets.write("name", "lowercase-file\n");
    let (app, report) = loader(&dir)
        .secrets_dir(secrets.path())
        .vars([("WEBHOOK", "https://hook")])
        .load_with_report::<App>()
        .unwrap();
    assert_eq!(
        app.database_url.expose_secret(),
        "postgres://from-secrets-dir"
    );
    assert_eq!(app.name, "lowercase-file");
    let path = secrets.path().join("DATABASE_URL");
    assert!(
        report
            .to_string()
            .contains(&format!("(from secret file {})", path.display())),
        "{report}"
    );

    // Variables and files rank above the directory.
    dir.write(".env", "DATABASE_URL=from-dot-env\n");
    let app: App = loader(&dir).secrets_dir(secrets.path()).load().unwrap();
    assert_eq!(app.database_url.expose_secret(), "from-dot-env");

    // A directory that does not exist holds nothing.
    let err = loader(&dir)
        .secrets_dir(dir.path().join("nope"))
        .load::<App>()
        .unwrap_err();
    assert_eq!(err.problems()[0].var, "NAME");
}

#[cfg(unix)]
#[test]
fn a_secrets_directory_refuses_links_that_leave_it() {
    let dir = TempDir::new("secrets-link");
    let secrets = TempDir::new("secrets-link-run");
    let outside = dir.write("outside", "outside-s3cret");
    std::os::unix::fs::symlink(&outside, secrets.path().join("DATABASE_URL")).unwrap();
    let inside = secrets.write("real_name", "n\n");
    std::os::unix::fs::symlink(&inside, secrets.path().join("NAME")).unwrap();
    let err = loader(&dir)
        .secrets_dir(secrets.path())
        .load::<App>()
        .unwrap_err();
    let text = err.to_string();
    let link = secrets.path().join("DATABASE_URL");
    assert!(
        text.contains(&format!(
            "{} points outside the secrets directory",
            link.display()
        )),
        "{text}"
    );
    assert!(!text.contains("outside-s3cret"), "{text}");
    // A link that stays inside the directory is fine.
    assert!(err.problems().iter().all(|p| p.var != "NAME"), "{text}");
}

#[derive(Settings)]
#[settings(prefix = "SHOP_")]
#[allow(dead_code)]
struct Shop {
    api_key: SecretString,
    #[settings(alias = "SHOP_URL")]
    store_url: String,
    #[settings(default = 10)]
    batch_size: u32,
}

#[test]
fn strict_mode_reports_typos_with_a_suggestion() {
    let dir = TempDir::new("strict");
    dir.write(
        ".env",
        "SHOP_API_KEY=k\nSHOP_STORE_URL=u\nSHOP_BACH_SIZE=5\nSHOP_URL=old\nSHOP_API_KEY_FILE=\nOTHER_TOOL=x\nENVIRONMENT=development\nSHOP_ZZZZZZZZZZZZZZZZ=1\n",
    );
    // Off by default.
    assert!(loader(&dir).load::<Shop>().is_ok());
    let err = loader(&dir).strict(true).load::<Shop>().unwrap_err();
    let env = dir.path().join(".env");
    let problems: Vec<_> = err
        .source_problems()
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        problems,
        [
            format!(
                "{} line 3: `SHOP_BACH_SIZE` is not a setting of Shop; did you mean `SHOP_BATCH_SIZE`?",
                env.display()
            ),
            format!(
                "{} line 8: `SHOP_ZZZZZZZZZZZZZZZZ` is not a setting of Shop",
                env.display()
            ),
        ]
    );
    assert!(
        err.to_string()
            .starts_with("2 problems with the sources:\n"),
        "{err}"
    );
}

#[test]
fn strict_mode_without_a_prefix_checks_every_variable_in_the_files() {
    let dir = TempDir::new("strict-no-prefix");
    dir.write(
        ".env",
        "NAME=n\nDATABASE_URL=d\nDATABSE_URL=typo\nENVIRONMENT=development\n",
    );
    let err = loader(&dir).strict(true).load::<App>().unwrap_err();
    let problems: Vec<_> = err
        .source_problems()
        .iter()
        .map(|p| p.message.clone())
        .collect();
    assert_eq!(
        problems,
        ["`DATABSE_URL` is not a setting of App; did you mean `DATABASE_URL`?"]
    );
}

/// Settings for the expansion tests: a URL built from parts, and a plain field a secret can flow
/// into.
#[derive(Settings)]
#[allow(dead_code)]
struct Db {
    database_url: SecretString,
    #[settings(default = "none")]
    label: String,
    #[settings(default = "")]
    path_extra: String,
}

fn db(dir: &TempDir, profile: &str, vars: &[(&str, &str)]) -> Result<Db, settings::Error> {
    Loader::new()
        .dir(dir.path())
        .profile(profile)
        .vars(vars.iter().map(|(k, v)| (k.to_string(), v.to_string())))
        .load()
}

#[test]
fn a_url_written_once_in_the_base_file_takes_its_parts_from_the_profile() {
    let dir = TempDir::new("expand-parts");
    dir.write(
        ".env",
        "DB_USER=etl\nDB_HOST=localhost\nDATABASE_URL=postgres://${DB_USER}@${DB_HOST}/app\n",
    );
    dir.write(".env.staging", "DB_HOST=staging-db\n");
    let staging = db(&dir, "staging", &[]).unwrap();
    assert_eq!(
        staging.database_url.expose_secret(),
        "postgres://etl@staging-db/app"
    );
    let development = db(&dir, "development", &[]).unwrap();
    assert_eq!(
        development.database_url.expose_secret(),
        "postgres://etl@localhost/app"
    );
    // `Loader::vars` stands in for the environment, over every file.
    let from_vars = db(&dir, "staging", &[("DB_USER", "ci")]).unwrap();
    assert_eq!(
        from_vars.database_url.expose_secret(),
        "postgres://ci@staging-db/app"
    );
}

#[test]
fn a_profile_file_sees_the_base_file_and_extends_it() {
    let dir = TempDir::new("expand-lower");
    dir.write(".env", "BASE=https://api\nPATH_EXTRA=/a\n");
    dir.write(
        ".env.staging",
        "DATABASE_URL=${BASE}/v1\nPATH_EXTRA=${PATH_EXTRA}:/b\n",
    );
    dir.write(".env.staging.local", "PATH_EXTRA=${PATH_EXTRA}:/c\n");
    let app = db(&dir, "staging", &[]).unwrap();
    assert_eq!(app.database_url.expose_secret(), "https://api/v1");
    assert_eq!(app.path_extra, "/a:/b:/c");
}

#[test]
fn expansion_never_reads_the_real_environment_when_vars_stand_in() {
    // HOME and PATH are set in every test process; with `Loader::vars` they are not seen.
    let dir = TempDir::new("expand-vars");
    dir.write(
        ".env",
        "DATABASE_URL=x${HOME}${PATH}y\nLABEL=${HOME:-no home}\n",
    );
    let app = db(&dir, "development", &[]).unwrap();
    assert_eq!(app.database_url.expose_secret(), "xy");
    assert_eq!(app.label, "no home");
}

#[test]
fn the_test_profile_skips_env_local_for_expansion_too() {
    let dir = TempDir::new("expand-test-profile");
    dir.write(".env", "HOST=base\nDATABASE_URL=pg://${HOST}\n");
    dir.write(".env.local", "HOST=my-laptop\n");
    dir.write(".env.test", "LABEL=${HOST}-tests\n");
    let test = db(&dir, "test", &[]).unwrap();
    assert_eq!(test.database_url.expose_secret(), "pg://base");
    assert_eq!(test.label, "base-tests");
    let development = db(&dir, "development", &[]).unwrap();
    assert_eq!(development.database_url.expose_secret(), "pg://my-laptop");
}

#[test]
fn production_expands_only_what_it_reads() {
    let dir = TempDir::new("expand-production");
    dir.write(".env", "HOST=from-file\n");
    let extra = dir.write("deploy.env", "DATABASE_URL=pg://${HOST}/${DB_NAME:-app}\n");
    // Production reads no cascade files: HOST comes from the environment only.
    let app: Db = Loader::new()
        .dir(dir.path())
        .profile("production")
        .file(&extra)
        .vars([("HOST", "prod-db")])
        .load()
        .unwrap();
    assert_eq!(app.database_url.expose_secret(), "pg://prod-db/app");
    let opted_in: Db = Loader::new()
        .dir(dir.path())
        .profile("production")
        .files_in_production(true)
        .file(&extra)
        .vars(Vec::<(String, String)>::new())
        .load()
        .unwrap();
    assert_eq!(opted_in.database_url.expose_secret(), "pg://from-file/app");
}

#[test]
fn a_secret_that_flows_into_a_plain_field_stays_secret_across_files() {
    let dir = TempDir::new("expand-secret");
    dir.write(".env", "DATABASE_URL=FlowingS3cretValue\n");
    dir.write(".env.staging", "LABEL=copy-${DATABASE_URL}\n");
    let (app, report) = Loader::new()
        .dir(dir.path())
        .profile("staging")
        .vars(Vec::<(String, String)>::new())
        .load_with_report::<Db>()
        .unwrap();
    assert_eq!(app.label, "copy-FlowingS3cretValue");
    let shown = format!("{report}\n{report:?}");
    assert!(!shown.contains("FlowingS3cret"), "{shown}");
    let label = report.entries().iter().find(|e| e.var == "LABEL").unwrap();
    assert!(label.secret, "{label:?}");
}

#[test]
fn a_required_variable_fails_the_load_with_its_file_and_line() {
    let dir = TempDir::new("expand-required");
    dir.write(
        ".env",
        "# header\nDATABASE_URL=pg://${DB_HOST:?set DB_HOST to the database host}/app\n",
    );
    let err = db(&dir, "development", &[]).unwrap_err();
    let text = err.to_string();
    let env = dir.path().join(".env");
    assert!(
        text.contains(&format!(
            "{} line 2: DB_HOST is required (unset or empty here): set DB_HOST to the database host",
            env.display()
        )),
        "{text}"
    );
    // The field says why it has no value, instead of "not set".
    assert!(!text.contains("DATABASE_URL: not set"), "{text}");
    assert!(db(&dir, "development", &[("DB_HOST", "h")]).is_ok());
}

#[test]
fn strict_mode_reports_expansions_of_variables_set_nowhere() {
    let dir = TempDir::new("expand-unset");
    dir.write(
        ".env",
        "DATABASE_URL=pg://${DB_HOST}/app\nLABEL=${MAYBE-}${OTHER:-x}\n",
    );
    dir.write(".env.local", "PATH_EXTRA=$MISSPELT\n");
    // Not strict: the load works, the expansions are empty, as in Compose.
    let app = db(&dir, "development", &[]).unwrap();
    assert_eq!(app.database_url.expose_secret(), "pg:///app");
    let err = Loader::new()
        .dir(dir.path())
        .vars(Vec::<(String, String)>::new())
        .strict(true)
        .load::<Db>()
        .unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains(&format!(
            "{} line 1: `DB_HOST` is expanded here but is set nowhere",
            dir.path().join(".env").display()
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "{} line 1: `MISSPELT` is expanded here but is set nowhere",
            dir.path().join(".env.local").display()
        )),
        "{text}"
    );
    // `${MAYBE-}` and `${OTHER:-x}` say what to do when unset: not reported.
    assert!(!text.contains("MAYBE"), "{text}");
    assert!(!text.contains("OTHER"), "{text}");
}

#[test]
fn definitions_that_expand_each_other_across_files_terminate() {
    let dir = TempDir::new("expand-cycle");
    dir.write(".env", "LABEL=${PATH_EXTRA}-label\n");
    dir.write(".env.local", "PATH_EXTRA=${LABEL}-extra\nDATABASE_URL=d\n");
    let err = db(&dir, "development", &[]).unwrap_err();
    assert!(
        err.to_string().contains(&format!(
            "{} line 1: `PATH_EXTRA` expands `LABEL`, whose own expansion comes back to it",
            dir.path().join(".env.local").display()
        )),
        "{err}"
    );

    // A chain longer than the limit is refused, not followed until the stack runs out.
    let dir = TempDir::new("expand-deep");
    let (mut low, mut high) = (String::new(), String::new());
    for i in 0..5000 {
        low.push_str(&format!("A{i}=${{B{i}}}\n"));
        high.push_str(&format!("B{i}=${{A{}}}\n", i + 1));
    }
    dir.write(".env", low);
    dir.write(".env.local", high + "DATABASE_URL=d\n");
    let err = db(&dir, "development", &[]).unwrap_err();
    assert!(
        err.to_string()
            .contains("waits on more than 64 other definitions"),
        "{err}"
    );
}

/// The README's list format, in a first `.env` as a new user writes it.
#[test]
fn a_list_with_blanks_loads_from_a_first_env_file() {
    #[derive(Settings)]
    struct Regions {
        stores: Vec<String>,
        #[settings(default = 10)]
        batch_size: u32,
    }
    let dir = TempDir::new("list");
    dir.write(
        ".env",
        "# regions\nSTORES=eu, us\nBATCH_SIZE = 20 # per run\n",
    );
    let regions: Regions = loader(&dir).load().unwrap();
    assert_eq!(regions.stores, ["eu", "us"]);
    assert_eq!(regions.batch_size, 20);
}

/// A `$` inside a password reads as an expansion; the word after it is part of the secret, so
/// the report names the variable that holds it, never the word.
#[test]
fn an_unset_reference_inside_a_secret_is_reported_without_its_name() {
    let dir = TempDir::new("expand-unset-secret");
    dir.write(
        ".env",
        "DATABASE_URL=d\nDB_PASSWORD=pa$sw0rdS3cret\nLABEL=x$lowerWord\nBROKEN=${Upper*x}\n",
    );
    let err = Loader::new()
        .dir(dir.path())
        .vars(Vec::<(String, String)>::new())
        .strict(true)
        .load::<Db>()
        .unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("the value of `DB_PASSWORD` expands a variable that is set nowhere"),
        "{text}"
    );
    assert!(
        text.contains("the value of `LABEL` expands a variable"),
        "{text}"
    );
    assert!(
        !text.contains("sw0rd") && !text.contains("lowerWord"),
        "{text}"
    );
    assert!(
        !text.contains("Upper"),
        "a malformed `${{` does not quote its name: {text}"
    );
}
