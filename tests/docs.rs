//! Documentation from doc comments: static metadata, `.env.example`, Markdown table.

#![allow(dead_code)] // The structs are only described, never loaded.

use std::time::Duration;

use settings::meta::{DefaultValue, FieldKind};
use settings::{SecretString, Settings};

#[derive(Settings)]
#[settings(prefix = "SHOP_")]
struct Shop {
    /// Shopify Admin API token.
    ///
    /// Create one under Apps > Develop apps.
    api_key: SecretString,
    /// Slack webhook for notifications
    webhook: Option<String>,
    /// Records per batch
    #[settings(default = 100)]
    batch_size: u32,
    /// How long to wait
    #[settings(default = "30s", alias = "SHOP_WAIT")]
    timeout: Duration,
    /// Signing salt
    #[settings(default = "not-for-docs")]
    salt: SecretString,
    #[settings(env = "DATABASE_URL", secret)]
    database: String,
    #[settings(nested, prefix = "REPLICA_")]
    replica: Replica,
    #[settings(skip)]
    cache: Vec<u8>,
}

#[derive(Settings)]
struct Replica {
    /// Replica host
    host: String,
}

#[test]
fn metadata_is_static() {
    let meta = Shop::META;
    assert_eq!(meta.name, "Shop");
    assert_eq!(meta.prefix, "SHOP_");
    let api_key = &meta.fields[0];
    assert_eq!(api_key.name, "api_key");
    assert_eq!(api_key.key, "API_KEY");
    assert_eq!(
        api_key.doc,
        "Shopify Admin API token.\n\nCreate one under Apps > Develop apps."
    );
    assert_eq!(api_key.ty, "SecretString");
    assert!(api_key.secret && api_key.is_required());
    assert!(matches!(meta.fields[1].kind, FieldKind::Optional));
    assert!(matches!(
        meta.fields[2].kind,
        FieldKind::Default(DefaultValue::Expr("100"))
    ));
    assert!(matches!(
        meta.fields[3].kind,
        FieldKind::Default(DefaultValue::Parsed("30s"))
    ));
    assert_eq!(meta.fields[3].aliases, ["SHOP_WAIT"]);
    assert_eq!(
        meta.fields[4].default_display(),
        None,
        "secret defaults are hidden"
    );
    assert!(meta.fields[5].exact && meta.fields[5].secret);
    assert!(matches!(meta.fields[7].kind, FieldKind::Skipped));
    let mut leaves = Vec::new();
    meta.visit_leaves(&mut |scope, path, field| {
        leaves.push((field.var_name(scope), path.to_owned()))
    });
    let names: Vec<_> = leaves.iter().map(|(n, p)| format!("{n}={p}")).collect();
    assert_eq!(
        names,
        [
            "SHOP_API_KEY=api_key",
            "SHOP_WEBHOOK=webhook",
            "SHOP_BATCH_SIZE=batch_size",
            "SHOP_TIMEOUT=timeout",
            "SHOP_SALT=salt",
            "DATABASE_URL=database",
            "SHOP_REPLICA_HOST=replica.host",
        ]
    );
}

#[test]
fn env_example() {
    let expected = "\
# Settings of Shop (generated; do not put real secrets here)

# Shopify Admin API token.
#
# Create one under Apps > Develop apps.
# api_key: SecretString, required, secret
SHOP_API_KEY=

# Slack webhook for notifications
# webhook: Option<String>, optional
# SHOP_WEBHOOK=

# Records per batch
# batch_size: u32, default 100
# SHOP_BATCH_SIZE=100

# How long to wait
# timeout: Duration, default 30s; also read from SHOP_WAIT
# SHOP_TIMEOUT=30s

# Signing salt
# salt: SecretString, has a default, secret
# SHOP_SALT=

# database: String, required, secret
DATABASE_URL=

# Replica host
# replica.host: String, required
SHOP_REPLICA_HOST=
";
    assert_eq!(Shop::env_example(), expected);
    assert!(!Shop::env_example().contains("not-for-docs"));
}

#[test]
fn markdown_table() {
    let expected = "\
| Variable | Type | Required | Default | Description |
|---|---|---|---|---|
| `SHOP_API_KEY` | `SecretString` (secret) | yes |  | Shopify Admin API token. |
| `SHOP_WEBHOOK` | `Option<String>` | no |  | Slack webhook for notifications |
| `SHOP_BATCH_SIZE` | `u32` | no | `100` | Records per batch |
| `SHOP_TIMEOUT` (or `SHOP_WAIT`) | `Duration` | no | `30s` | How long to wait |
| `SHOP_SALT` | `SecretString` (secret) | no | (hidden) | Signing salt |
| `DATABASE_URL` | `String` (secret) | yes |  |  |
| `SHOP_REPLICA_HOST` | `String` | yes |  | Replica host |
";
    assert_eq!(Shop::markdown_table(), expected);
}

#[derive(Settings)]
struct Tricky {
    #[settings(default = "it's $HOME # not a comment")]
    quote_and_dollar: String,
    #[settings(default = "  padded  ")]
    padded: String,
    #[settings(default = r"C:\Temp\")]
    trailing_backslash: String,
    #[settings(default = "${NOT_EXPANDED}")]
    braces: String,
    #[settings(default = "plain")]
    plain: String,
}

/// Every default `env_example` writes reads back, once its line is uncommented, as the value the
/// field would take by default.
#[test]
fn env_example_defaults_read_back_as_written() {
    let example = Tricky::env_example();
    let uncommented: String = example
        .lines()
        .filter_map(|line| line.strip_prefix("# ").filter(|l| l.contains('=')))
        .map(|line| format!("{line}\n"))
        .collect();
    let file = settings::__private::testing::DotEnvFile::parse(
        std::path::Path::new(".env.example"),
        &uncommented,
    )
    .unwrap();
    use settings::Source as _;
    let value = |name: &str| match file.get(name) {
        Some(settings::RawValue::Text(text)) => text.to_string(),
        other => panic!("{name}: {other:?} in\n{uncommented}"),
    };
    assert_eq!(value("QUOTE_AND_DOLLAR"), "it's $HOME # not a comment");
    assert_eq!(value("PADDED"), "  padded  ");
    assert_eq!(value("TRAILING_BACKSLASH"), r"C:\Temp\");
    assert_eq!(value("BRACES"), "${NOT_EXPANDED}");
    assert_eq!(value("PLAIN"), "plain");
}
