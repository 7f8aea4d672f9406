#[derive(Debug)]
struct Plain {
    host: String,
}

#[derive(settings::Settings)]
struct App {
    #[settings(nested)]
    db: Plain,
}

fn main() {}
