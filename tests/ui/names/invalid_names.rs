#[derive(settings::Settings)]
#[settings(prefix = "APP-")]
struct App {
    #[settings(env = "")]
    empty: String,
    #[settings(env = "9LIVES")]
    digit: String,
    #[settings(env = "DATABASE URL")]
    space: String,
    #[settings(alias = "OLD.NAME")]
    dotted: String,
}

fn main() {}
