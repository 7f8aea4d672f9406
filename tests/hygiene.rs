//! The generated code names everything by absolute path and passes strict lints.

#![deny(
    unused_qualifications,
    unused_imports,
    unused_results,
    rust_2018_idioms
)]
#![deny(clippy::pedantic)]

mod no_prelude {
    #![no_implicit_prelude]

    /// Settings derived where nothing is imported implicitly.
    #[derive(::settings::Settings)]
    #[settings(prefix = "NP_")]
    pub struct Bare {
        /// A name
        pub name: ::std::string::String,
        pub port: ::std::option::Option<u16>,
        #[settings(default = 3)]
        pub retries: u8,
        #[settings(default = "1m")]
        pub wait: ::std::time::Duration,
        pub hosts: ::std::vec::Vec<::std::string::String>,
        pub token: ::settings::SecretString,
        #[settings(secret)]
        pub maybe: ::std::option::Option<::std::string::String>,
        #[settings(nested)]
        pub inner: Inner,
        #[settings(skip)]
        pub cache: ::std::vec::Vec<u8>,
    }

    /// A nested struct, also without a prelude.
    #[derive(::settings::Settings)]
    pub struct Inner {
        #[settings(default)]
        pub flag: bool,
    }
}

#[test]
fn derives_without_the_prelude() {
    use settings::{ExposeSecret, Settings};
    let bare = no_prelude::Bare::from_vars([
        ("NP_NAME", "n"),
        ("NP_HOSTS", "a,b"),
        ("NP_TOKEN", "t"),
        ("NP_FLAG", "on"),
    ])
    .unwrap();
    assert_eq!(bare.name, "n");
    assert_eq!(bare.port, None);
    assert_eq!(bare.retries, 3);
    assert_eq!(bare.wait, std::time::Duration::from_secs(60));
    assert_eq!(bare.hosts, ["a", "b"]);
    assert_eq!(bare.token.expose_secret(), "t");
    assert!(bare.maybe.is_none());
    assert!(bare.inner.flag);
    assert!(bare.cache.is_empty());
}

/// A dependency renamed in Cargo.toml is reached through `crate = ...`.
mod renamed {
    pub use settings as my_settings;

    #[derive(my_settings::Settings)]
    #[settings(crate = my_settings)]
    pub struct Renamed {
        pub value: u8,
    }
}

#[test]
fn a_renamed_crate_path_is_used() {
    use settings::Settings;
    let r = renamed::Renamed::from_vars([("VALUE", "4")]).unwrap();
    assert_eq!(r.value, 4);
}
