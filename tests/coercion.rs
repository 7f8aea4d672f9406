//! Every supported type, read through `from_vars`.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::num::NonZeroU32;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use settings::{ExposeSecret, Parse, ProblemKind, SecretBox, SecretString, Settings};

#[derive(Debug, PartialEq)]
enum LogLevel {
    Debug,
    Info,
    Warn,
}

impl FromStr for LogLevel {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "debug" => Ok(LogLevel::Debug),
            "info" => Ok(LogLevel::Info),
            "warn" => Ok(LogLevel::Warn),
            _ => Err("expected one of debug, info, warn".to_owned()),
        }
    }
}

/// A type with its own `Parse`, which wins over `FromStr`.
#[derive(Debug, PartialEq)]
struct Percent(u8);

impl Parse for Percent {
    const EXPECTED: &'static str = "a percentage such as 42%";
    fn parse(raw: &str) -> Result<Self, String> {
        let digits = raw.strip_suffix('%').ok_or("missing %")?;
        digits
            .parse()
            .map(Percent)
            .map_err(|_| "not a number".to_owned())
    }
}

fn parse_hex(raw: &str) -> Result<u32, std::num::ParseIntError> {
    u32::from_str_radix(raw.trim_start_matches("0x"), 16)
}

#[derive(Settings)]
struct Everything {
    text: String,
    path: PathBuf,
    small: u8,
    signed: i64,
    big: u128,
    size: usize,
    ratio: f64,
    single: f32,
    flag: bool,
    letter: char,
    ip: IpAddr,
    v4: Ipv4Addr,
    v6: Ipv6Addr,
    socket: SocketAddr,
    timeout: Duration,
    level: LogLevel,
    percent: Percent,
    nonzero: NonZeroU32,
    ports: Vec<u16>,
    #[settings(delimiter = ";")]
    hosts: Vec<String>,
    levels: Vec<LogLevel>,
    #[settings(parse_with = parse_hex)]
    mask: u32,
    token: SecretString,
    pin: SecretBox<u32>,
    maybe: Option<u16>,
    maybe_list: Option<Vec<u8>>,
    maybe_secret: Option<SecretString>,
}

fn all_set() -> Vec<(&'static str, &'static str)> {
    vec![
        ("TEXT", "  keeps its spaces "),
        ("PATH", "/var/data"),
        ("SMALL", " 255 "),
        ("SIGNED", "-42"),
        ("BIG", "340282366920938463463374607431768211455"),
        ("SIZE", "7"),
        ("RATIO", "0.25"),
        ("SINGLE", "1e3"),
        ("FLAG", "On"),
        ("LETTER", "λ"),
        ("IP", "::1"),
        ("V4", "10.0.0.1"),
        ("V6", "fe80::1"),
        ("SOCKET", "127.0.0.1:8080"),
        ("TIMEOUT", "1h30m"),
        ("LEVEL", "WARN"),
        ("PERCENT", "42%"),
        ("NONZERO", "3"),
        ("PORTS", "80, 443 ,8080,"),
        ("HOSTS", "a.example; b.example"),
        ("LEVELS", "debug,info"),
        ("MASK", "0xff"),
        ("TOKEN", " exact secret "),
        ("PIN", "1234"),
        ("MAYBE", "9"),
        ("MAYBE_LIST", "1,2"),
    ]
}

#[test]
fn every_supported_type_is_coerced() {
    let s = Everything::from_vars(all_set()).unwrap();
    assert_eq!(s.text, "  keeps its spaces ");
    assert_eq!(s.path, PathBuf::from("/var/data"));
    assert_eq!(s.small, 255);
    assert_eq!(s.signed, -42);
    assert_eq!(s.big, u128::MAX);
    assert_eq!(s.size, 7);
    assert_eq!(s.ratio, 0.25);
    assert_eq!(s.single, 1000.0);
    assert!(s.flag);
    assert_eq!(s.letter, 'λ');
    assert_eq!(s.ip, IpAddr::V6(Ipv6Addr::LOCALHOST));
    assert_eq!(s.v4, Ipv4Addr::new(10, 0, 0, 1));
    assert_eq!(s.v6, "fe80::1".parse::<Ipv6Addr>().unwrap());
    assert_eq!(s.socket, "127.0.0.1:8080".parse::<SocketAddr>().unwrap());
    assert_eq!(s.timeout, Duration::from_secs(5400));
    assert_eq!(s.level, LogLevel::Warn);
    assert_eq!(s.percent, Percent(42));
    assert_eq!(s.nonzero.get(), 3);
    assert_eq!(s.ports, [80, 443, 8080]);
    assert_eq!(s.hosts, ["a.example", "b.example"]);
    assert_eq!(s.levels, [LogLevel::Debug, LogLevel::Info]);
    assert_eq!(s.mask, 255);
    assert_eq!(s.token.expose_secret(), " exact secret ");
    assert_eq!(*s.pin.expose_secret(), 1234);
    assert_eq!(s.maybe, Some(9));
    assert_eq!(s.maybe_list, Some(vec![1, 2]));
    assert!(s.maybe_secret.is_none());
}

#[test]
fn every_boolean_spelling() {
    #[derive(Settings)]
    struct B {
        flag: bool,
    }
    for (text, want) in [
        ("true", true),
        ("TRUE", true),
        ("1", true),
        ("yes", true),
        ("Y", true),
        ("on", true),
        ("t", true),
        ("false", false),
        ("0", false),
        ("No", false),
        ("n", false),
        ("OFF", false),
        ("F", false),
    ] {
        let b = B::from_vars([("FLAG", text)]).unwrap();
        assert_eq!(b.flag, want, "{text}");
    }
    let err = B::from_vars([("FLAG", "maybe")]).unwrap_err();
    assert!(
        err.to_string().contains("expected a boolean (true/false"),
        "{err}"
    );
}

#[test]
fn durations_accept_units_and_bare_seconds() {
    #[derive(Settings)]
    struct D {
        wait: Duration,
    }
    for (text, want) in [
        ("250ms", Duration::from_millis(250)),
        ("30s", Duration::from_secs(30)),
        ("5m", Duration::from_secs(300)),
        ("1h30m", Duration::from_secs(5400)),
        ("45", Duration::from_secs(45)),
        ("1.5", Duration::from_millis(1500)),
    ] {
        assert_eq!(D::from_vars([("WAIT", text)]).unwrap().wait, want, "{text}");
    }
    let err = D::from_vars([("WAIT", "5 parsecs")]).unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("WAIT from given variables: expected a duration such as 250ms"),
        "{text}"
    );
    assert!(text.contains("unknown unit"), "{text}");
}

#[test]
fn defaults_parsed_valued_and_trait() {
    #[derive(Settings)]
    struct Defaults {
        #[settings(default = "30s")]
        timeout: Duration,
        #[settings(default = "a,b")]
        names: Vec<String>,
        #[settings(default = 100)]
        batch_size: u32,
        #[settings(default = Duration::from_millis(5))]
        tick: Duration,
        #[settings(default = "INFO")]
        log_level: String,
        #[settings(default)]
        verbose: bool,
        #[settings(default)]
        extra: Vec<u8>,
        #[settings(skip)]
        cache: Vec<String>,
    }
    let d = Defaults::from_vars(Vec::<(String, String)>::new()).unwrap();
    assert_eq!(d.timeout, Duration::from_secs(30));
    assert_eq!(d.names, ["a", "b"]);
    assert_eq!(d.batch_size, 100);
    assert_eq!(d.tick, Duration::from_millis(5));
    assert_eq!(d.log_level, "INFO");
    assert!(!d.verbose);
    assert!(d.extra.is_empty());
    assert!(d.cache.is_empty());

    // A set variable wins over every kind of default; a skipped field reads nothing.
    let d = Defaults::from_vars([
        ("TIMEOUT", "1m"),
        ("NAMES", "x"),
        ("BATCH_SIZE", "7"),
        ("TICK", "1s"),
        ("LOG_LEVEL", "DEBUG"),
        ("VERBOSE", "yes"),
        ("EXTRA", "1"),
        ("CACHE", "ignored"),
    ])
    .unwrap();
    assert_eq!(d.timeout, Duration::from_secs(60));
    assert_eq!(d.names, ["x"]);
    assert_eq!(d.batch_size, 7);
    assert_eq!(d.tick, Duration::from_secs(1));
    assert_eq!(d.log_level, "DEBUG");
    assert!(d.verbose);
    assert_eq!(d.extra, [1]);
    assert!(d.cache.is_empty());
}

#[test]
fn an_invalid_parsed_default_is_reported_not_panicked() {
    #[derive(Settings)]
    #[allow(dead_code)]
    struct BadDefault {
        #[settings(default = "soon")]
        timeout: Duration,
    }
    let err = BadDefault::from_vars(Vec::<(String, String)>::new()).unwrap_err();
    let problem = &err.problems()[0];
    assert!(matches!(
        &problem.kind,
        ProblemKind::Invalid {
            origin: settings::Origin::Default,
            ..
        }
    ));
    assert!(
        err.to_string()
            .contains("TIMEOUT from default: expected a duration"),
        "{err}"
    );
}

#[test]
fn empty_values_count_as_not_set() {
    #[derive(Settings)]
    #[allow(dead_code)]
    struct E {
        #[settings(default = 5)]
        retries: u8,
        webhook: Option<String>,
        name: String,
    }
    let e = E::from_vars([("RETRIES", ""), ("WEBHOOK", ""), ("NAME", "n")]).unwrap();
    assert_eq!(e.retries, 5);
    assert_eq!(e.webhook, None);
    let err = E::from_vars([("NAME", "")]).unwrap_err();
    assert_eq!(err.problems()[0].kind, ProblemKind::Missing { empty: true });
    assert!(err.to_string().contains("NAME: set but empty"), "{err}");
}

#[test]
fn prefix_rename_and_aliases() {
    #[derive(Settings)]
    #[settings(prefix = "SHOP_")]
    struct Shop {
        api_key: String,
        #[settings(env = "DATABASE_URL")]
        db: String,
        #[settings(alias = "SHOP_STORE", alias = "STORE_URL")]
        store_url: String,
        r#type: String,
    }
    let s = Shop::from_vars([
        ("SHOP_API_KEY", "k"),
        ("DATABASE_URL", "postgres://"),
        ("STORE_URL", "https://old"),
        ("SHOP_TYPE", "t"),
    ])
    .unwrap();
    assert_eq!(s.api_key, "k");
    assert_eq!(s.db, "postgres://");
    assert_eq!(s.store_url, "https://old");
    assert_eq!(s.r#type, "t");

    // The primary name wins over an alias; the first alias over a later one.
    let s = Shop::from_vars([
        ("SHOP_API_KEY", "k"),
        ("DATABASE_URL", "d"),
        ("SHOP_STORE_URL", "new"),
        ("SHOP_STORE", "older"),
        ("STORE_URL", "oldest"),
        ("SHOP_TYPE", "t"),
    ])
    .unwrap();
    assert_eq!(s.store_url, "new");
    let s = Shop::from_vars([
        ("SHOP_API_KEY", "k"),
        ("DATABASE_URL", "d"),
        ("SHOP_STORE", "older"),
        ("STORE_URL", "oldest"),
        ("SHOP_TYPE", "t"),
    ])
    .unwrap();
    assert_eq!(s.store_url, "older");

    // Without the prefix, nothing is found.
    let err = Shop::from_vars([("API_KEY", "k")]).unwrap_err();
    let vars: Vec<_> = err.problems().iter().map(|p| p.var.as_str()).collect();
    assert_eq!(
        vars,
        [
            "SHOP_API_KEY",
            "DATABASE_URL",
            "SHOP_STORE_URL",
            "SHOP_TYPE"
        ]
    );
    assert!(
        err.to_string().contains(
            "SHOP_STORE_URL: not set; expected a string (also read from SHOP_STORE, STORE_URL)"
        ),
        "{err}"
    );
}

#[test]
fn fields_named_like_generated_locals_do_not_clash() {
    #[derive(Settings)]
    struct Clash {
        __ctx: u8,
        __fields: u8,
        __field_0: u8,
    }
    let c = Clash::from_vars([("__CTX", "1"), ("__FIELDS", "2"), ("__FIELD_0", "3")]).unwrap();
    assert_eq!((c.__ctx, c.__fields, c.__field_0), (1, 2, 3));
}

#[test]
fn structs_with_no_variables_load() {
    #[derive(Settings)]
    struct Empty {}
    #[derive(Settings)]
    struct OnlySkipped {
        #[settings(skip)]
        cache: Vec<u8>,
    }
    assert!(Empty::from_vars(Vec::<(String, String)>::new()).is_ok());
    let only = OnlySkipped::from_vars([("CACHE", "1")]).unwrap();
    assert!(only.cache.is_empty());
    assert_eq!(format!("{only:?}"), "OnlySkipped { .. }");
}

#[test]
fn a_list_with_many_bad_items_describes_the_first_five_and_counts_the_rest() {
    #[derive(Settings)]
    #[allow(dead_code)]
    struct Ports {
        ports: Vec<u16>,
    }
    let raw: Vec<String> = (0..100).map(|i| format!("x{i}")).collect();
    let err = Ports::from_vars([("PORTS", raw.join(","))]).unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("item 5 (\"x4\"): invalid digit found in string; and 95 more invalid items"),
        "{text}"
    );
    assert!(!text.contains("item 6"), "{text}");
}

#[test]
fn a_duration_too_long_for_u128_nanoseconds_is_refused_not_wrapped() {
    #[derive(Settings)]
    #[allow(dead_code)]
    struct Timeout {
        timeout: std::time::Duration,
    }
    let err = Timeout::from_vars([("TIMEOUT", "340282366920938463463374607431.999999999")])
        .unwrap_err()
        .to_string();
    assert!(err.contains("duration is too long"), "{err}");
}

#[test]
fn expected_types_are_named_as_written_not_stripped_from_text() {
    #[derive(Debug)]
    struct Level;
    impl std::str::FromStr for Level {
        type Err = String;
        fn from_str(_: &str) -> Result<Self, String> {
            Err("no such level".to_owned())
        }
    }
    fn port(raw: &str) -> Result<u16, std::num::ParseIntError> {
        raw.parse()
    }
    #[derive(Settings)]
    #[allow(dead_code)]
    struct Shapes {
        levels: Vec<Level>,
        maybe: Option<Level>,
        #[settings(parse_with = port)]
        custom: Option<u16>,
        pins: Vec<SecretBox<u16>>,
    }
    let err = Shapes::from_vars([
        ("LEVELS", "x"),
        ("MAYBE", "x"),
        ("CUSTOM", "x"),
        ("PINS", "x"),
    ])
    .unwrap_err();
    let expected: Vec<&str> = err.problems().iter().map(|p| p.expected.as_ref()).collect();
    assert_eq!(
        expected,
        [
            "a list separated by \",\", each item Level",
            "Level",
            "u16",
            "a list separated by \",\", each item u16 (an integer from 0 to 65535)",
        ]
    );
}
