//! The pipeline's settings with its secrets in Vault (or OpenBao): the `.env` file in
//! `examples/vault/` holds references, never secrets.
//!
//! ```text
//! scripts/stores.sh start                     # an OpenBao dev server on 127.0.0.1:8200, token "root"
//! export VAULT_ADDR=http://127.0.0.1:8200 VAULT_TOKEN=root
//! .venv-stores/bin/bao kv put secret/pipeline/production \
//!     SHOPIFY_API_KEY=shpat_from_vault DATABASE_URL=postgres://etl:pw@db/warehouse
//! cargo run --example vault --features vault
//! ```

use std::process::ExitCode;

use settings::{ExposeSecret, Loader, SecretString, Settings};

#[derive(Settings)]
struct PipelineSettings {
    /// Shopify Admin API token
    shopify_api_key: SecretString,
    /// Shopify store URL
    shopify_store_url: String,
    /// Database connection string
    database_url: SecretString,
    /// Records per batch
    #[settings(default = 100)]
    batch_size: u32,
}

fn main() -> ExitCode {
    let loader = Loader::new().dir(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/vault"));
    match loader.load_with_report::<PipelineSettings>() {
        Ok((settings, report)) => {
            println!("{report}");
            let scheme = settings
                .database_url
                .expose_secret()
                .split("://")
                .next()
                .unwrap_or("");
            println!(
                "ready: a {}-character Shopify token and a {scheme} database for {}, {} per batch",
                settings.shopify_api_key.expose_secret().len(),
                settings.shopify_store_url,
                settings.batch_size
            );
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("{err}");
            ExitCode::from(2)
        }
    }
}
