#[derive(settings::Settings)]
struct App {
    #[settings(default = "https://hooks.example")]
    webhook: Option<String>,
}

fn main() {}
