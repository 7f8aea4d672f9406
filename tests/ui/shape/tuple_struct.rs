#[derive(settings::Settings)]
struct Port(u16);

fn main() {}
