#[derive(settings::Settings)]
struct App {
    #[settings(skip, default = 3)]
    cache: u8,
    #[settings(prefix = "X_")]
    name: String,
}

fn main() {}
