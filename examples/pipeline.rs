//! The source article's pipeline entry point: settings validated once at start-up, secrets
//! redacted in the start-up report, exposed only where a task needs them.
//!
//! Runs offline on the dummy values in `examples/env/`:
//!
//! ```text
//! cargo run --example pipeline                          # development: .env + .env.development
//! ENVIRONMENT=staging cargo run --example pipeline      # staging: .env + .env.staging
//! ENVIRONMENT=production cargo run --example pipeline   # production: the environment only
//! BATCH_SIZE=oops cargo run --example pipeline          # the environment wins; an error report
//! ```
//!
//! The production run fails on purpose: production reads no `.env` files, so every required
//! secret must come from the real environment (or a secret file, or a store).

use std::process::ExitCode;
use std::str::FromStr;

use settings::{ExposeSecret, Loader, SecretString, Settings};

/// Settings of the nightly Shopify → warehouse sync.
#[derive(Settings)]
struct PipelineSettings {
    /// Shopify Admin API token
    shopify_api_key: SecretString,
    /// Shopify store URL
    shopify_store_url: String,
    /// Database connection string
    database_url: SecretString,
    /// Slack webhook for notifications (its URL embeds a token, so it is secret)
    #[settings(secret)]
    slack_webhook_url: Option<String>,
    /// Logging level: error, warn, info or debug
    #[settings(default = "info")]
    log_level: LogLevel,
    /// Records per batch
    #[settings(default = 100)]
    batch_size: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum LogLevel {
    Error,
    Warn,
    Info,
    Debug,
}

impl FromStr for LogLevel {
    type Err = &'static str;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "error" => Ok(LogLevel::Error),
            "warn" | "warning" => Ok(LogLevel::Warn),
            "info" => Ok(LogLevel::Info),
            "debug" => Ok(LogLevel::Debug),
            _ => Err("use one of error, warn, info, debug"),
        }
    }
}

fn main() -> ExitCode {
    // The profile comes from ENVIRONMENT; the files from examples/env. Nothing is written to the
    // process environment.
    let loader = Loader::new()
        .profile_from("ENVIRONMENT")
        .dir(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/env"));
    let profile = loader.resolve_profile().unwrap_or_default();
    println!("profile: {profile}");

    // Validate everything once, before any work starts: a missing key fails here, not halfway.
    let (settings, report) = match loader.load_with_report::<PipelineSettings>() {
        Ok(loaded) => loaded,
        Err(err) => {
            eprintln!("{err}");
            return ExitCode::from(2);
        }
    };
    // The summary line always; each variable and its source at debug level. Secrets are redacted.
    if settings.log_level >= LogLevel::Debug {
        println!("{report}");
    } else {
        println!("{}", report.summary());
    }
    println!("{settings:?}");

    let orders = fetch_orders(
        settings.shopify_api_key.expose_secret(),
        &settings.shopify_store_url,
        settings.batch_size,
    );
    let written = write_to_warehouse(
        settings.database_url.expose_secret(),
        &orders,
        settings.batch_size,
    );
    let summary = format!(
        "synced {written} orders in {} batches",
        written.div_ceil(settings.batch_size as usize)
    );
    println!("{summary}");
    if let Some(webhook) = &settings.slack_webhook_url {
        notify(webhook, &summary);
    }
    ExitCode::SUCCESS
}

/// Stands in for the Shopify Admin API call; only the token's length is used, offline.
fn fetch_orders(api_key: &str, store_url: &str, batch_size: u32) -> Vec<u64> {
    let host = store_url.trim_start_matches("https://");
    println!(
        "fetching orders from {host} with a {}-character token, {batch_size} per page",
        api_key.len()
    );
    (1..=250).collect()
}

/// Stands in for the warehouse insert: counts rows per batch.
fn write_to_warehouse(database_url: &str, orders: &[u64], batch_size: u32) -> usize {
    let scheme = database_url.split("://").next().unwrap_or("database");
    let batches = orders.chunks(batch_size.max(1) as usize);
    println!(
        "writing to a {scheme} warehouse in {} batches",
        batches.len()
    );
    orders.len()
}

/// Stands in for the Slack notification; the webhook URL is a credential and is not printed.
fn notify(webhook: &str, message: &str) {
    let host = webhook.split('/').nth(2).unwrap_or("the webhook");
    println!("notifying {host}: {message}");
}
