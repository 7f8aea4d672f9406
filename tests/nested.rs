//! Nested structs: one struct reused under different prefixes, problems named by dotted path.

use settings::{ExposeSecret, SecretString, Settings};

#[derive(Settings)]
#[settings(prefix = "DB_")]
struct Database {
    /// Host name of the server
    host: String,
    #[settings(default = 5432)]
    port: u16,
    password: SecretString,
}

#[derive(Settings)]
#[settings(prefix = "APP_")]
struct App {
    name: String,
    #[settings(nested)]
    primary: Database,
    #[settings(nested, prefix = "REPLICA_")]
    replica: Database,
}

#[test]
fn a_nested_struct_reads_under_its_prefix_or_the_fields() {
    let app = App::from_vars([
        ("APP_NAME", "shop"),
        ("APP_DB_HOST", "primary.db"),
        ("APP_DB_PASSWORD", "p1"),
        ("APP_REPLICA_HOST", "replica.db"),
        ("APP_REPLICA_PORT", "6432"),
        ("APP_REPLICA_PASSWORD", "p2"),
    ])
    .unwrap();
    assert_eq!(app.name, "shop");
    assert_eq!(app.primary.host, "primary.db");
    assert_eq!(app.primary.port, 5432);
    assert_eq!(app.primary.password.expose_secret(), "p1");
    assert_eq!(app.replica.host, "replica.db");
    assert_eq!(app.replica.port, 6432);
    assert_eq!(app.replica.password.expose_secret(), "p2");
    assert_eq!(
        format!("{app:?}"),
        "App { name: \"shop\", primary: Database { host: \"primary.db\", port: 5432, password: [REDACTED] }, \
         replica: Database { host: \"replica.db\", port: 6432, password: [REDACTED] } }"
    );
}

#[test]
fn nested_problems_are_collected_with_the_others() {
    let err = App::from_vars([("APP_DB_HOST", "h"), ("APP_REPLICA_PORT", "x")]).unwrap_err();
    assert_eq!(err.total(), 7);
    let got: Vec<_> = err
        .problems()
        .iter()
        .map(|p| (p.var.as_str(), p.field.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            ("APP_NAME", "name"),
            ("APP_DB_PASSWORD", "primary.password"),
            ("APP_REPLICA_HOST", "replica.host"),
            ("APP_REPLICA_PORT", "replica.port"),
            ("APP_REPLICA_PASSWORD", "replica.password"),
        ]
    );
    let text = err.to_string();
    assert!(text.contains("  APP_REPLICA_HOST: not set; expected a string\n      field `replica.host`: Host name of the server"), "{text}");
}

#[test]
fn a_nested_struct_loads_alone_under_its_own_prefix() {
    let db = Database::from_vars([("DB_HOST", "h"), ("DB_PASSWORD", "p")]).unwrap();
    assert_eq!(db.host, "h");
}

#[test]
fn two_levels_of_nesting() {
    #[derive(Settings)]
    struct Outer {
        #[settings(nested, prefix = "MIDDLE_")]
        middle: Middle,
    }
    #[derive(Settings)]
    struct Middle {
        #[settings(nested, prefix = "INNER_")]
        inner: Inner,
    }
    #[derive(Settings)]
    #[settings(prefix = "IGNORED_WHEN_NESTED_")]
    struct Inner {
        value: u8,
    }
    let outer = Outer::from_vars([("MIDDLE_INNER_VALUE", "3")]).unwrap();
    assert_eq!(outer.middle.inner.value, 3);
    let err = Outer::from_vars([("MIDDLE_INNER_VALUE", "x")]).unwrap_err();
    assert_eq!(err.problems()[0].field, "middle.inner.value");
}
