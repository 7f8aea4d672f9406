use settings::{SecretString, Settings};

#[derive(Settings)]
struct App {
    #[settings(default = "AKIA2OGYBAH63UIQY5TQ")]
    aws_access_key_id: SecretString,
    /// Not secret: its default is not checked.
    #[settings(default = "ghp_1a2B3c4D5e6F7g8H9i0J1k2L3m4N5o6P7q8R")]
    label: String,
    /// A placeholder is not a secret.
    #[settings(default = "AKIAIOSFODNN7EXAMPLE")]
    example_key: SecretString,
    #[settings(secret, default = "sk_live_4eC39HqLyjWDarjtT1zdp7dcTYooMQauvdEDq54Nio")]
    stripe: String,
}

fn main() {}
