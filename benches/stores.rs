//! Load time of 100 secrets from each store, against the real servers of `scripts/stores.sh`.
//!
//! `scripts/stores.sh start && cargo bench --features vault,aws --bench stores`. Each load resolves
//! 100 references in one struct; the requests it takes are what batching buys.

#[path = "../tests/common/seed.rs"]
#[allow(dead_code)] // The bench seeds with a part of the helpers only.
mod seed;

use std::hint::black_box;
use std::time::{Duration, Instant};

use serde_json::{Map, Value};
use settings::{Loader, SecretString, Settings};

macro_rules! hundred {
    ($($field:ident),*) => {
        #[derive(Settings)]
        #[allow(dead_code)]
        struct Hundred { $($field: SecretString,)* }
    };
}

hundred!(
    p0, p1, p2, p3, p4, p5, p6, p7, p8, p9, p10, p11, p12, p13, p14, p15, p16, p17, p18, p19, p20,
    p21, p22, p23, p24, p25, p26, p27, p28, p29, p30, p31, p32, p33, p34, p35, p36, p37, p38, p39,
    p40, p41, p42, p43, p44, p45, p46, p47, p48, p49, p50, p51, p52, p53, p54, p55, p56, p57, p58,
    p59, p60, p61, p62, p63, p64, p65, p66, p67, p68, p69, p70, p71, p72, p73, p74, p75, p76, p77,
    p78, p79, p80, p81, p82, p83, p84, p85, p86, p87, p88, p89, p90, p91, p92, p93, p94, p95, p96,
    p97, p98, p99
);

fn main() {
    if std::env::args().any(|a| a == "--test") {
        return; // `cargo test --benches`: nothing to check without the servers.
    }
    let run = seed::unique("bench");
    let common = [
        ("VAULT_ADDR".to_owned(), format!("http://{}", seed::VAULT)),
        ("VAULT_TOKEN".to_owned(), seed::ROOT_TOKEN.to_owned()),
        ("AWS_ACCESS_KEY_ID".to_owned(), "testing".to_owned()),
        ("AWS_SECRET_ACCESS_KEY".to_owned(), "testing".to_owned()),
        ("AWS_REGION".to_owned(), "us-east-1".to_owned()),
        (
            "AWS_ENDPOINT_URL".to_owned(),
            format!("http://{}", seed::MOTO),
        ),
    ];

    // Vault: 100 keys in one secret, and 100 keys over 10 secrets.
    let mut data = Map::new();
    for i in 0..100 {
        data.insert(format!("K{i}"), Value::String(format!("vault-{i}")));
    }
    seed::vault_put(&format!("{run}/all"), Value::Object(data));
    for path in 0..10 {
        let mut data = Map::new();
        for i in 0..10 {
            data.insert(format!("K{i}"), Value::String(format!("vault-{path}-{i}")));
        }
        seed::vault_put(&format!("{run}/part{path}"), Value::Object(data));
    }
    let vault_one: Vec<_> = (0..100)
        .map(|i| (format!("P{i}"), format!("vault:secret/{run}/all#K{i}")))
        .collect();
    let vault_ten: Vec<_> = (0..100)
        .map(|i| {
            (
                format!("P{i}"),
                format!("vault:secret/{run}/part{}#K{}", i / 10, i % 10),
            )
        })
        .collect();

    // SSM: 100 parameters. Secrets Manager: 100 secrets.
    let ssm: Vec<_> = (0..100)
        .map(|i| {
            let name = format!("/{run}/p{i}");
            seed::ssm_put(&name, &format!("ssm-{i}"));
            (format!("P{i}"), format!("ssm:{name}"))
        })
        .collect();
    let sm: Vec<_> = (0..100)
        .map(|i| {
            let name = format!("{run}/s{i}");
            seed::secret_put(&name, &format!("sm-{i}"));
            (format!("P{i}"), format!("secretsmanager:{name}"))
        })
        .collect();

    println!(
        "load of a struct of 100 secrets, each a reference (median of 15 loads, loopback servers):"
    );
    for (label, refs) in [
        ("vault, 100 keys of 1 secret (2 requests)", vault_one),
        ("vault, 100 keys of 10 secrets (11 requests)", vault_ten),
        ("ssm, 100 parameters (10 GetParameters)", ssm),
        ("secretsmanager, 100 secrets (5 BatchGetSecretValue)", sm),
    ] {
        let vars: Vec<(String, String)> = common.iter().cloned().chain(refs).collect();
        let mut times = Vec::new();
        for _ in 0..15 {
            let loader = Loader::new()
                .dir("/nonexistent-settings-bench")
                .vars(vars.clone());
            let start = Instant::now();
            let loaded = loader.load::<Hundred>();
            times.push(start.elapsed());
            if let Err(err) = &loaded {
                panic!("{label}: {err}");
            }
            black_box(loaded.is_ok());
        }
        times.sort();
        let median: Duration = times[times.len() / 2];
        println!("  {label:55} {:7.1} ms", median.as_secs_f64() * 1e3);
    }
}
