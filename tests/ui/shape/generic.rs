#[derive(settings::Settings)]
struct App<T> {
    value: T,
}

fn main() {}
