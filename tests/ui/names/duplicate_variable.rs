#[derive(settings::Settings)]
#[settings(prefix = "APP_")]
struct App {
    database_url: String,
    #[settings(env = "APP_DATABASE_URL")]
    db: String,
    #[settings(alias = "APP_DATABASE_URL")]
    old_db: String,
    #[settings(alias = "LEGACY", alias = "LEGACY")]
    legacy: String,
}

fn main() {}
