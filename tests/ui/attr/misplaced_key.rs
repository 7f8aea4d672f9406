#[derive(settings::Settings)]
#[settings(env = "APP")]
struct App {
    #[settings(crate = settings)]
    name: String,
}

fn main() {}
