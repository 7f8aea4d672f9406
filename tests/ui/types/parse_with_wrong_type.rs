use settings::Settings;

fn parse_port(raw: &str) -> Result<String, String> {
    Ok(raw.to_owned())
}

fn not_a_parser(raw: u32) -> u32 {
    raw
}

#[derive(Settings)]
struct App {
    #[settings(parse_with = parse_port)]
    port: u16,
    #[settings(parse_with = not_a_parser)]
    other: Option<u16>,
}

fn main() {}
