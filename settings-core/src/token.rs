//! Secure tokens: API keys, passwords, hex and URL-safe tokens, database URLs with a generated
//! password. Every byte comes from the operating system's CSPRNG (`getrandom`), choices from an
//! alphabet are unbiased (rejection sampling, no modulo bias), and every value is a secret.

use std::fmt;

use secrecy::SecretString;
use zeroize::Zeroizing;

/// The default password alphabet: letters, digits and `!@#$%^&*`.
pub const DEFAULT_ALPHABET: &str =
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!@#$%^&*";

/// Why a token could not be made.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TokenError {
    /// The operating system's random source failed.
    Random(String),
    /// The requested length or size is not allowed.
    Length(String),
    /// The alphabet has fewer than two characters, holds one twice, or is not ASCII.
    Alphabet(String),
    /// A part of a URL to build is not valid where it goes.
    Url(String),
}

impl fmt::Display for TokenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TokenError::Random(why) => write!(f, "the system's random source failed: {why}"),
            TokenError::Length(why) | TokenError::Alphabet(why) | TokenError::Url(why) => {
                f.write_str(why)
            }
        }
    }
}

impl std::error::Error for TokenError {}

/// Fills `buf` from the operating system's CSPRNG.
fn fill(buf: &mut [u8]) -> Result<(), TokenError> {
    getrandom::fill(buf).map_err(|err| TokenError::Random(err.to_string()))
}

/// `count` random bytes, wiped when dropped.
pub fn random_bytes(count: usize) -> Result<Zeroizing<Vec<u8>>, TokenError> {
    let mut bytes = Zeroizing::new(vec![0u8; count]);
    fill(&mut bytes)?;
    Ok(bytes)
}

/// A hex token of `bytes` random bytes (`2 * bytes` characters).
pub fn hex(bytes: usize) -> Result<SecretString, TokenError> {
    check_size(bytes)?;
    let raw = random_bytes(bytes)?;
    let mut out = String::with_capacity(bytes * 2);
    for byte in raw.iter() {
        out.push(char::from(HEX[usize::from(byte >> 4)]));
        out.push(char::from(HEX[usize::from(byte & 15)]));
    }
    Ok(SecretString::from(out))
}

const HEX: &[u8; 16] = b"0123456789abcdef";
const URLSAFE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// A URL-safe token of `bytes` random bytes: base64url without padding.
pub fn urlsafe(bytes: usize) -> Result<SecretString, TokenError> {
    check_size(bytes)?;
    let raw = random_bytes(bytes)?;
    Ok(SecretString::from(base64url(&raw)))
}

/// An API key: `prefix` + `_` + a URL-safe token of 32 random bytes (`sk_3J9x…`).
pub fn api_key(prefix: &str) -> Result<SecretString, TokenError> {
    if !prefix
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        return Err(TokenError::Alphabet(
            "a key prefix holds only ASCII letters, digits, '_' and '-'".to_owned(),
        ));
    }
    let raw = random_bytes(32)?;
    let body = Zeroizing::new(base64url(&raw));
    let prefix = prefix.trim_end_matches('_');
    if prefix.is_empty() {
        return Ok(SecretString::from(body.to_string()));
    }
    // Sized once, so that no partial copy of the key is left behind by a reallocation.
    let key = crate::wiped::concat(&[prefix, "_", &body]);
    Ok(SecretString::from(key.to_string()))
}

/// How to make a password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Password {
    /// Number of characters (default 24).
    pub length: usize,
    /// The characters to draw from (default [`DEFAULT_ALPHABET`]).
    pub alphabet: String,
    /// At least one character of each class the alphabet has: lowercase, uppercase, digit, other.
    pub each_class: bool,
}

impl Default for Password {
    fn default() -> Self {
        Password {
            length: 24,
            alphabet: DEFAULT_ALPHABET.to_owned(),
            each_class: false,
        }
    }
}

impl Password {
    /// A password of `length` characters from the default alphabet.
    pub fn of_length(length: usize) -> Self {
        Password {
            length,
            ..Password::default()
        }
    }

    /// About how many bits of entropy a password made this way has (`length × log2(alphabet)`,
    /// a little less with `each_class`). 64 or more is advised for a password a machine uses.
    pub fn entropy_bits(&self) -> f64 {
        let size = self.alphabet.chars().count().max(1) as f64;
        self.length as f64 * size.log2()
    }

    /// Makes the password. With `each_class`, passwords missing a class are drawn again, so
    /// the result is uniform over the passwords that have every class.
    pub fn generate(&self) -> Result<SecretString, TokenError> {
        let alphabet: Vec<char> = self.alphabet.chars().collect();
        if alphabet.len() < 2 {
            return Err(TokenError::Alphabet(
                "the alphabet needs at least two characters: with one, every password is the same"
                    .to_owned(),
            ));
        }
        if !self.alphabet.is_ascii() {
            return Err(TokenError::Alphabet(
                "the alphabet must be ASCII".to_owned(),
            ));
        }
        if alphabet.len() > 256 {
            return Err(TokenError::Alphabet(
                "the alphabet holds more than 256 characters".to_owned(),
            ));
        }
        let mut sorted = alphabet.clone();
        sorted.sort_unstable();
        if sorted.windows(2).any(|w| w[0] == w[1]) {
            return Err(TokenError::Alphabet(
                "the alphabet holds a character twice, which would favour it".to_owned(),
            ));
        }
        if self.length == 0 || self.length > 4096 {
            return Err(TokenError::Length(
                "a password has 1 to 4096 characters".to_owned(),
            ));
        }
        let classes: Vec<fn(char) -> bool> = CLASSES
            .iter()
            .copied()
            .filter(|class| alphabet.iter().any(|c| class(*c)))
            .collect();
        if self.each_class && self.length < classes.len() {
            return Err(TokenError::Length(format!(
                "a password with one character of each of {} classes needs at least {} characters",
                classes.len(),
                classes.len()
            )));
        }
        loop {
            let password = Zeroizing::new(choose(&alphabet, self.length)?);
            if !self.each_class || classes.iter().all(|class| password.chars().any(class)) {
                return Ok(SecretString::from(password.to_string()));
            }
        }
    }
}

const CLASSES: [fn(char) -> bool; 4] = [
    |c| c.is_ascii_lowercase(),
    |c| c.is_ascii_uppercase(),
    |c| c.is_ascii_digit(),
    |c| !c.is_ascii_alphanumeric(),
];

/// `length` characters drawn uniformly from `alphabet` (at most 256 entries): a random byte is
/// kept only below the largest multiple of the alphabet's size, so no character is favoured.
fn choose(alphabet: &[char], length: usize) -> Result<String, TokenError> {
    let n = alphabet.len();
    let limit = 256 - (256 % n);
    let mut out = String::with_capacity(length);
    let mut buf = Zeroizing::new([0u8; 64]);
    while out.len() < length {
        fill(&mut *buf)?;
        for &byte in buf.iter() {
            if usize::from(byte) < limit && out.len() < length {
                out.push(alphabet[usize::from(byte) % n]);
            }
        }
    }
    Ok(out)
}

/// A database URL with a generated password, percent-encoded where the URL needs it:
/// `postgres://app:<password>@db.internal:5432/orders`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatabaseUrl {
    /// `postgres`, `mysql`...
    pub scheme: String,
    /// The user name.
    pub user: String,
    /// Host name or address.
    pub host: String,
    /// Port, if not the scheme's default.
    pub port: Option<u16>,
    /// Database name.
    pub database: String,
    /// How the password is made.
    pub password: Password,
}

impl DatabaseUrl {
    /// Generates the password and builds the URL. The scheme must be a URL scheme
    /// (`postgres`, `mysql+pymysql`) and the host a host name, an IPv4 address or a bracketed
    /// IPv6 address; the user and database are percent-encoded.
    pub fn generate(&self) -> Result<SecretString, TokenError> {
        let scheme_ok = self.scheme.starts_with(|c: char| c.is_ascii_lowercase())
            && self
                .scheme
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"+.-".contains(&b));
        if !scheme_ok {
            return Err(TokenError::Url(
                "the scheme must be a URL scheme such as postgres or mysql (lowercase letters, digits, '+', '.', '-')"
                    .to_owned(),
            ));
        }
        if !valid_host(&self.host) {
            return Err(TokenError::Url(
                "the host must be a host name, an IPv4 address or a bracketed IPv6 address"
                    .to_owned(),
            ));
        }
        let password = self.password.generate()?;
        let user = crate::percent::encode(&self.user, false);
        let secret = Zeroizing::new(crate::percent::encode(
            secrecy::ExposeSecret::expose_secret(&password),
            false,
        ));
        let port = self.port.map(|port| format!(":{port}")).unwrap_or_default();
        let database = crate::percent::encode(&self.database, false);
        // Sized once, so that no partial copy of the password is left behind by a reallocation.
        let url = crate::wiped::concat(&[
            self.scheme.as_str(),
            "://",
            &user,
            ":",
            &secret,
            "@",
            &self.host,
            &port,
            "/",
            &database,
        ]);
        Ok(SecretString::from(url.to_string()))
    }
}

/// A host name (letters, digits, '-' and '.'), an IPv4 address, or an IPv6 address in brackets.
fn valid_host(host: &str) -> bool {
    if let Some(inner) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        return inner.parse::<std::net::Ipv6Addr>().is_ok();
    }
    !host.is_empty()
        && host.len() <= 253
        && host.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

fn check_size(bytes: usize) -> Result<(), TokenError> {
    if bytes == 0 || bytes > 4096 {
        Err(TokenError::Length(
            "a token has 1 to 4096 random bytes".to_owned(),
        ))
    } else {
        Ok(())
    }
}

fn base64url(bytes: &[u8]) -> String {
    // Exactly the length it will have (six bits a character, no padding): a `SecretString` made
    // from it then keeps this block instead of shrinking it into a copy.
    let mut out = String::with_capacity((bytes.len() * 8).div_ceil(6));
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        let chars = chunk.len() + 1;
        for i in 0..chars {
            out.push(char::from(URLSAFE[((n >> (18 - 6 * i)) & 63) as usize]));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64url_matches_rfc_4648_vectors() {
        let cases: [(&[u8], &str); 7] = [
            (b"", ""),
            (b"f", "Zg"),
            (b"fo", "Zm8"),
            (b"foo", "Zm9v"),
            (b"foob", "Zm9vYg"),
            (b"fooba", "Zm9vYmE"),
            (b"\xfb\xff", "-_8"),
        ];
        for (input, want) in cases {
            assert_eq!(base64url(input), want);
        }
    }

    #[test]
    fn hosts() {
        for ok in ["db", "db.internal", "10.0.0.1", "[::1]", "a-b.example.com"] {
            assert!(valid_host(ok), "{ok}");
        }
        for bad in [
            "",
            "evil.com/x?y#",
            "u@h",
            "h:5432",
            "-a",
            "a..b",
            "[zz]",
            "a b",
        ] {
            assert!(!valid_host(bad), "{bad}");
        }
    }
}
