//! Turning one raw string into a typed value.
//!
//! [`Parse`] is implemented here for the standard types whose `FromStr` is too strict or missing
//! (`bool`, `Duration`) or whose expected form deserves a better description. Any other type that
//! implements `FromStr` works without annotation: the derive falls back to it.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

/// A type that can be read from the text of one variable.
///
/// Implement it for your own type when `FromStr` is not the right fit; a type that implements
/// `FromStr` (with an error that implements `Display`) needs nothing at all.
pub trait Parse: Sized {
    /// What a valid value looks like, for error messages: `"u32"`, `"a duration such as 30s"`.
    const EXPECTED: &'static str;

    /// Parses the raw text. The message of an error should not repeat the input: the error report
    /// adds it for non-secret fields, and withholds it for secret ones.
    fn parse(raw: &str) -> Result<Self, String>;

    /// Parses an owned raw string; types that keep the text (`String`, `PathBuf`) take it without
    /// a copy. On failure the raw string is handed back with the message.
    fn parse_owned(raw: String) -> Result<Self, (String, String)> {
        Self::parse(&raw).map_err(|reason| (reason, raw))
    }
}

impl Parse for String {
    const EXPECTED: &'static str = "a string";
    fn parse(raw: &str) -> Result<Self, String> {
        Ok(raw.to_owned())
    }
    fn parse_owned(raw: String) -> Result<Self, (String, String)> {
        Ok(raw)
    }
}

impl Parse for PathBuf {
    const EXPECTED: &'static str = "a path";
    fn parse(raw: &str) -> Result<Self, String> {
        Ok(PathBuf::from(raw))
    }
    fn parse_owned(raw: String) -> Result<Self, (String, String)> {
        Ok(PathBuf::from(raw))
    }
}

impl Parse for bool {
    const EXPECTED: &'static str = "a boolean (true/false, yes/no, on/off, 1/0, y/n, t/f)";
    fn parse(raw: &str) -> Result<Self, String> {
        const TRUE: [&str; 6] = ["true", "1", "yes", "on", "y", "t"];
        const FALSE: [&str; 6] = ["false", "0", "no", "off", "n", "f"];
        let raw = raw.trim();
        if TRUE.iter().any(|word| raw.eq_ignore_ascii_case(word)) {
            Ok(true)
        } else if FALSE.iter().any(|word| raw.eq_ignore_ascii_case(word)) {
            Ok(false)
        } else {
            Err("not a boolean".to_owned())
        }
    }
}

impl Parse for char {
    const EXPECTED: &'static str = "a single character";
    fn parse(raw: &str) -> Result<Self, String> {
        let mut chars = raw.chars();
        match (chars.next(), chars.next()) {
            (Some(c), None) => Ok(c),
            _ => Err(format!("{} characters given", raw.chars().count())),
        }
    }
}

impl Parse for Duration {
    const EXPECTED: &'static str =
        "a duration such as 250ms, 30s, 5m or 1h30m (a bare number is seconds)";
    fn parse(raw: &str) -> Result<Self, String> {
        parse_duration(raw)
    }
}

/// Parses values through `FromStr` after trimming surrounding white space.
macro_rules! parse_trimmed {
    ($($ty:ty => $expected:expr),* $(,)?) => {$(
        impl Parse for $ty {
            const EXPECTED: &'static str = $expected;
            fn parse(raw: &str) -> Result<Self, String> {
                <$ty as FromStr>::from_str(raw.trim()).map_err(|err| err.to_string())
            }
        }
    )*};
}

parse_trimmed! {
    u8 => "u8 (an integer from 0 to 255)",
    u16 => "u16 (an integer from 0 to 65535)",
    u32 => "u32 (an integer from 0 to 4294967295)",
    u64 => "u64 (an integer from 0 to 18446744073709551615)",
    u128 => "u128 (a non-negative integer)",
    usize => "usize (a non-negative integer)",
    i8 => "i8 (an integer from -128 to 127)",
    i16 => "i16 (an integer from -32768 to 32767)",
    i32 => "i32 (an integer from -2147483648 to 2147483647)",
    i64 => "i64 (an integer)",
    i128 => "i128 (an integer)",
    isize => "isize (an integer)",
    f32 => "f32 (a number)",
    f64 => "f64 (a number)",
    IpAddr => "an IP address such as 127.0.0.1 or ::1",
    Ipv4Addr => "an IPv4 address such as 127.0.0.1",
    Ipv6Addr => "an IPv6 address such as ::1",
    SocketAddr => "a socket address such as 127.0.0.1:8080 or [::1]:8080",
    SocketAddrV4 => "an IPv4 socket address such as 127.0.0.1:8080",
    SocketAddrV6 => "an IPv6 socket address such as [::1]:8080",
}

/// Parses `250ms`, `30s`, `5m`, `1h30m`, `1.5h`, `2d`, or a bare number of seconds (`90`, `0.5`).
///
/// Units: `ns`, `us`/`µs`, `ms`, `s`, `m`, `h`, `d`. Components add up; white space between them is
/// allowed. The result is exact to the nanosecond (no floating point).
pub fn parse_duration(raw: &str) -> Result<Duration, String> {
    let text = raw.trim();
    if text.is_empty() {
        return Err("empty duration".to_owned());
    }
    if let Some(nanos) = decimal_to_nanos(text, NANOS_PER_SEC)? {
        return nanos_to_duration(nanos);
    }
    let mut total: u128 = 0;
    let mut rest = text;
    while !rest.is_empty() {
        let number_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if number_len == 0 {
            return Err("expected a number before each unit".to_owned());
        }
        let (number, after) = rest.split_at(number_len);
        let after = after.trim_start();
        let unit_len = after
            .find(|c: char| c.is_ascii_digit() || c == '.' || c.is_whitespace())
            .unwrap_or(after.len());
        let (unit, after) = after.split_at(unit_len);
        let scale = match unit {
            "ns" => 1,
            "us" | "µs" => 1_000,
            "ms" => 1_000_000,
            "s" => NANOS_PER_SEC,
            "m" => 60 * NANOS_PER_SEC,
            "h" => 3_600 * NANOS_PER_SEC,
            "d" => 86_400 * NANOS_PER_SEC,
            "" => {
                return Err("a unit is missing after a number (ns, us, ms, s, m, h, d)".to_owned());
            }
            _ => return Err("unknown unit (use ns, us, ms, s, m, h or d)".to_owned()),
        };
        let nanos = decimal_to_nanos(number, scale)?
            .ok_or_else(|| "expected a number before each unit".to_owned())?;
        total = total
            .checked_add(nanos)
            .ok_or_else(|| "duration is too long".to_owned())?;
        rest = after.trim_start();
    }
    nanos_to_duration(total)
}

const NANOS_PER_SEC: u128 = 1_000_000_000;

/// `Ok(None)` when `text` is not a plain decimal number; otherwise its value times `scale`,
/// rounded down to a whole nanosecond.
fn decimal_to_nanos(text: &str, scale: u128) -> Result<Option<u128>, String> {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if (whole.is_empty() && fraction.is_empty()) || !digits(whole) || !digits(fraction) {
        return Ok(None);
    }
    let too_long = || "duration is too long".to_owned();
    let whole: u128 = if whole.is_empty() {
        0
    } else {
        whole.parse().map_err(|_| too_long())?
    };
    let mut nanos = whole.checked_mul(scale).ok_or_else(too_long)?;
    let mut place = scale;
    for digit in fraction.bytes().take(30) {
        place /= 10;
        nanos = nanos
            .checked_add(u128::from(digit - b'0') * place)
            .ok_or_else(too_long)?;
    }
    Ok(Some(nanos))
}

fn nanos_to_duration(nanos: u128) -> Result<Duration, String> {
    let secs =
        u64::try_from(nanos / NANOS_PER_SEC).map_err(|_| "duration is too long".to_owned())?;
    // The remainder is below one billion, so it fits in u32.
    let sub = (nanos % NANOS_PER_SEC) as u32;
    Ok(Duration::new(secs, sub))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        let ok = [
            ("250ms", Duration::from_millis(250)),
            ("30s", Duration::from_secs(30)),
            ("5m", Duration::from_secs(300)),
            ("1h30m", Duration::from_secs(5400)),
            ("1h 30m 15s", Duration::from_secs(5415)),
            ("5 s", Duration::from_secs(5)),
            ("90", Duration::from_secs(90)),
            ("0.5", Duration::from_millis(500)),
            ("1.5h", Duration::from_secs(5400)),
            ("2d", Duration::from_secs(172_800)),
            ("10us", Duration::from_micros(10)),
            ("10µs", Duration::from_micros(10)),
            ("7ns", Duration::from_nanos(7)),
            (" 3s ", Duration::from_secs(3)),
        ];
        for (text, want) in ok {
            assert_eq!(parse_duration(text), Ok(want), "{text}");
        }
        for bad in [
            "",
            "s",
            "5x",
            "1h30",
            "ms5",
            "1..5s",
            "-3s",
            "99999999999999999999999d",
            // u128::MAX nanoseconds, then a fraction that would overflow the sum.
            "340282366920938463463374607431.999999999",
            "340282366920938463463374607431768211455ns",
        ] {
            assert!(parse_duration(bad).is_err(), "{bad} should fail");
        }
    }

    #[test]
    fn booleans() {
        for t in ["true", "TRUE", "1", "yes", "On", "y", "T"] {
            assert_eq!(bool::parse(t), Ok(true), "{t}");
        }
        for f in ["false", "0", "NO", "off", "n", "f"] {
            assert_eq!(bool::parse(f), Ok(false), "{f}");
        }
        assert!(bool::parse("maybe").is_err());
    }
}
