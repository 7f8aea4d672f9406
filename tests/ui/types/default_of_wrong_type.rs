#[derive(settings::Settings)]
struct App {
    #[settings(default = "100".len() as u64)]
    batch_size: u32,
}

fn main() {}
