//! Loading a 40-field struct with the derive against a hand-written `std::env::var` + `FromStr`
//! loader of the same struct, in the same run.
//!
//! `cargo bench --bench load`. The process re-runs itself with the 40 variables in its
//! environment (it never sets variables in its own process), then times both loaders in
//! alternating rounds and prints the medians and their ratio. The target is a ratio within 1.2.

use std::env;
use std::hint::black_box;
use std::process::{Command, ExitCode};
use std::time::Instant;

use settings::{SecretString, Settings};

/// Declares the same 40 fields twice: once derived, once loaded by hand with `std::env::var`.
macro_rules! forty_fields {
    ($(($field:ident, $var:literal, $ty:ty, $value:literal)),* $(,)?) => {
        #[derive(Settings)]
        #[allow(dead_code)]
        struct Derived {
            $($field: $ty,)*
        }

        #[allow(dead_code)]
        struct Hand {
            $($field: $ty,)*
        }

        fn hand_load() -> Result<Hand, String> {
            Ok(Hand {
                $($field: <$ty as FromVar>::from_var($var)?,)*
            })
        }

        const VARS: &[(&str, &str)] = &[$(($var, $value)),*];
    };
}

/// What a careful hand-written loader does per type: `env::var`, then `FromStr`.
trait FromVar: Sized {
    fn from_var(name: &str) -> Result<Self, String>;
}

macro_rules! from_var_via_from_str {
    ($($ty:ty),*) => {$(
        impl FromVar for $ty {
            fn from_var(name: &str) -> Result<Self, String> {
                let raw = env::var(name).map_err(|e| format!("{name}: {e}"))?;
                raw.parse().map_err(|_| format!("{name}: invalid"))
            }
        }
    )*};
}
from_var_via_from_str!(String, u16, u32, u64, i64, f64, bool);

impl<T: std::str::FromStr> FromVar for Option<T> {
    fn from_var(name: &str) -> Result<Self, String> {
        match env::var(name) {
            Ok(raw) => raw
                .parse()
                .map(Some)
                .map_err(|_| format!("{name}: invalid")),
            Err(_) => Ok(None),
        }
    }
}

impl<T: std::str::FromStr> FromVar for Vec<T> {
    fn from_var(name: &str) -> Result<Self, String> {
        let raw = env::var(name).map_err(|e| format!("{name}: {e}"))?;
        raw.split(',')
            .map(|item| {
                item.trim()
                    .parse()
                    .map_err(|_| format!("{name}: invalid item"))
            })
            .collect()
    }
}

impl FromVar for SecretString {
    fn from_var(name: &str) -> Result<Self, String> {
        env::var(name)
            .map(SecretString::from)
            .map_err(|e| format!("{name}: {e}"))
    }
}

forty_fields! {
    (app_name, "APP_NAME", String, "orders-sync"),
    (environment, "ENVIRONMENT", String, "production"),
    (store_url, "STORE_URL", String, "https://example.myshopify.com"),
    (warehouse_schema, "WAREHOUSE_SCHEMA", String, "analytics"),
    (region, "REGION", String, "eu-west-1"),
    (bucket, "BUCKET", String, "orders-archive"),
    (queue, "QUEUE", String, "orders-events"),
    (team, "TEAM", String, "data-platform"),
    (owner_email, "OWNER_EMAIL", String, "data@example.com"),
    (timezone, "TIMEZONE", String, "Europe/Berlin"),
    (currency, "CURRENCY", String, "EUR"),
    (user_agent, "USER_AGENT", String, "orders-sync/1.0"),
    (port, "PORT", u16, "8080"),
    (metrics_port, "METRICS_PORT", u16, "9090"),
    (batch_size, "BATCH_SIZE", u32, "500"),
    (max_retries, "MAX_RETRIES", u32, "5"),
    (page_size, "PAGE_SIZE", u32, "250"),
    (max_rows, "MAX_ROWS", u64, "10000000"),
    (since_id, "SINCE_ID", u64, "1234567890"),
    (offset_hours, "OFFSET_HOURS", i64, "-2"),
    (sample_rate, "SAMPLE_RATE", f64, "0.25"),
    (backoff_factor, "BACKOFF_FACTOR", f64, "1.5"),
    (dry_run, "DRY_RUN", bool, "false"),
    (verbose, "VERBOSE", bool, "true"),
    (compress, "COMPRESS", bool, "true"),
    (archive, "ARCHIVE", bool, "false"),
    (notify, "NOTIFY", bool, "true"),
    (strict, "STRICT", bool, "true"),
    (slack_webhook_url, "SLACK_WEBHOOK_URL", Option<String>, "https://hooks.example/T/B/x"),
    (sentry_dsn, "SENTRY_DSN", Option<String>, "https://key@sentry.example/1"),
    (proxy, "PROXY", Option<String>, "http://proxy:3128"),
    (worker_count, "WORKER_COUNT", Option<u32>, "8"),
    (deadline_secs, "DEADLINE_SECS", Option<u64>, "3600"),
    (canary, "CANARY", Option<bool>, "false"),
    (tags, "TAGS", Vec<String>, "orders, nightly, eu"),
    (shards, "SHARDS", Vec<u16>, "1,2,3,4"),
    (channels, "CHANNELS", Vec<String>, "web,pos,mobile"),
    (weights, "WEIGHTS", Vec<f64>, "0.5,0.3,0.2"),
    (shopify_api_key, "SHOPIFY_API_KEY", SecretString, "shpat_0123456789abcdef0123456789abcdef"),
    (database_url, "DATABASE_URL", SecretString, "postgres://etl:pw@db:5432/warehouse"),
}

const CHILD_MARKER: &str = "SETTINGS_BENCH_CHILD";

fn main() -> ExitCode {
    if env::var_os(CHILD_MARKER).is_none() {
        // Run again with the variables in the child's environment; ours stays untouched.
        let exe = env::current_exe().expect("the bench knows its own path");
        let status = Command::new(exe)
            .args(env::args_os().skip(1))
            .envs(VARS.iter().copied())
            .env(CHILD_MARKER, "1")
            .status()
            .expect("the bench can run itself");
        return if status.success() {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        };
    }
    // `cargo test --benches` runs bench binaries with `--test`-like flags: one quick check only.
    let quick = env::args().any(|a| a == "--test" || a == "--quick");
    assert!(
        Derived::from_env().is_ok(),
        "derived load failed: {:?}",
        Derived::from_env().err()
    );
    assert!(hand_load().is_ok(), "hand-written load failed");
    if quick {
        println!("load bench: both loaders succeed");
        return ExitCode::SUCCESS;
    }

    // `--only derived` / `--only hand`: one loader alone, for a profiler (callgrind, perf).
    let args: Vec<String> = env::args().collect();
    if let Some(at) = args.iter().position(|a| a == "--only") {
        let which = args.get(at + 1).map_or("derived", String::as_str);
        let count: u32 = args
            .get(at + 2)
            .and_then(|n| n.parse().ok())
            .unwrap_or(2_000);
        if which == "vars" {
            let vars = settings::Vars::new(VARS.iter().copied());
            let start = Instant::now();
            for _ in 0..count {
                black_box(Derived::from_source(&vars).is_ok());
            }
            println!("from Vars: {:?}", start.elapsed() / count);
            return ExitCode::SUCCESS;
        }
        for _ in 0..count {
            match which {
                "hand" => black_box(hand_load().is_ok()),
                _ => black_box(Derived::from_env().is_ok()),
            };
        }
        return ExitCode::SUCCESS;
    }

    // Many short rounds, the two loaders back to back in alternating order, so that drift in the
    // machine's speed hits both alike; the ratio is the median of the per-round ratios.
    const ROUNDS: usize = 201;
    const PER_ROUND: u32 = 1_000;
    let derived_once = || time(PER_ROUND, || black_box(Derived::from_env().is_ok()));
    let hand_once = || time(PER_ROUND, || black_box(hand_load().is_ok()));
    for _ in 0..5 {
        derived_once();
        hand_once();
    }
    let mut derived = Vec::with_capacity(ROUNDS);
    let mut hand = Vec::with_capacity(ROUNDS);
    let mut ratios = Vec::with_capacity(ROUNDS);
    for round in 0..ROUNDS {
        let (d, h) = if round % 2 == 0 {
            let d = derived_once();
            (d, hand_once())
        } else {
            let h = hand_once();
            (derived_once(), h)
        };
        derived.push(d);
        hand.push(h);
        ratios.push(d / h);
    }
    let (d, h, ratio) = (median(&mut derived), median(&mut hand), median(&mut ratios));
    println!(
        "load of a 40-field struct from the process environment ({ROUNDS} rounds of {PER_ROUND}, median):"
    );
    println!("  hand-written std::env::var + FromStr: {h:8.0} ns");
    println!("  #[derive(Settings)] from_env():       {d:8.0} ns");
    println!("  ratio: {ratio:.2}x (target: within 1.20x)");
    ExitCode::SUCCESS
}

/// Mean nanoseconds per call over `n` calls.
fn time(n: u32, mut f: impl FnMut() -> bool) -> f64 {
    let start = Instant::now();
    for _ in 0..n {
        black_box(f());
    }
    start.elapsed().as_nanos() as f64 / f64::from(n)
}

fn median(samples: &mut [f64]) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}
