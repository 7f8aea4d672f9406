// One build reports every mistake, and the struct's uses add no errors of their own.
#[derive(settings::Settings)]
struct App {
    #[settings(env = "")]
    name: String,
    #[settings(default = 1)]
    webhook: Option<String>,
    #[settings(secert)]
    token: String,
}

fn main() {
    use settings::Settings;
    let _ = App::from_env();
    println!("{:?}", App::META.fields.len());
}
