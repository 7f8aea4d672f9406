struct Opaque;

#[derive(settings::Settings)]
struct App {
    value: Opaque,
}

fn main() {}
