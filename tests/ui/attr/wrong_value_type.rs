#[derive(settings::Settings)]
#[settings(prefix = APP_)]
struct App {
    #[settings(env = 5)]
    name: String,
    #[settings(delimiter = ';')]
    hosts: Vec<String>,
    #[settings(parse_with = 3)]
    level: u8,
    #[settings(secret = true)]
    token: String,
}

fn main() {}
