#[derive(settings::Settings)]
enum Mode {
    Fast,
    Slow,
}

fn main() {}
