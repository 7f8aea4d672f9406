#[derive(settings::Settings)]
struct App {
    #[settings(env = "A", env = "B")]
    name: String,
    #[settings(default = 1)]
    #[settings(default = 2)]
    retries: u8,
}

fn main() {}
