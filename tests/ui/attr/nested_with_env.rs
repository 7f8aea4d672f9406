#[derive(settings::Settings)]
struct Db {
    host: String,
}

#[derive(settings::Settings)]
struct App {
    #[settings(nested, env = "DB")]
    db: Db,
    #[settings(nested, default)]
    replica: Db,
}

fn main() {}
