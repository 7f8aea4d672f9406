#[derive(settings::Settings)]
struct App {
    #[settings(delimiter = ";")]
    host: String,
    #[settings(delimiter = "")]
    hosts: Vec<String>,
}

fn main() {}
