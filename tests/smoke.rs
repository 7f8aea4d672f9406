use settings::{ExposeSecret, SecretString, Settings};
use std::time::Duration;

#[derive(Settings)]
#[settings(prefix = "APP_")]
struct App {
    /// Shopify Admin API token
    shopify_api_key: SecretString,
    slack_webhook_url: Option<String>,
    #[settings(default = 100)]
    batch_size: u32,
    #[settings(default = "30s")]
    timeout: Duration,
    tags: Vec<String>,
}

#[test]
fn smoke() {
    let app = App::from_vars([("APP_SHOPIFY_API_KEY", "sk"), ("APP_TAGS", "a, b")]).unwrap();
    assert_eq!(app.shopify_api_key.expose_secret(), "sk");
    assert_eq!(app.batch_size, 100);
    assert_eq!(app.timeout, Duration::from_secs(30));
    println!("{app:?}");
    let err = App::from_vars([("APP_BATCH_SIZE", "x")]).unwrap_err();
    println!("{err}");
    println!("{}", App::env_example());
    println!("{}", App::markdown_table());
}
