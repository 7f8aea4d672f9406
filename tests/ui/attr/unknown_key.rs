#[derive(settings::Settings)]
struct App {
    #[settings(defualt = 5)]
    retries: u8,
    #[settings(delimeter = ";")]
    hosts: Vec<String>,
    #[settings(colour)]
    name: String,
}

fn main() {}
