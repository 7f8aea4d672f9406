//! Percent-encoding (RFC 3986): for a password in a database URL, and a path in a Vault route.

/// Percent-encodes everything but RFC 3986 unreserved characters, and `/` when `keep_slash`.
/// The output has room for the worst case from the start, so that a secret is never copied by
/// a reallocation.
pub(crate) fn encode(text: &str, keep_slash: bool) -> String {
    let mut out = String::with_capacity(text.len() * 3);
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(char::from(byte))
            }
            b'/' if keep_slash => out.push('/'),
            _ => {
                const HEX: &[u8; 16] = b"0123456789ABCDEF";
                out.push('%');
                out.push(char::from(HEX[usize::from(byte >> 4)]));
                out.push(char::from(HEX[usize::from(byte & 15)]));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoding() {
        assert_eq!(encode("p@ss:w/rd#1%", false), "p%40ss%3Aw%2Frd%231%25");
        assert_eq!(encode("plain-._~", false), "plain-._~");
        assert_eq!(encode("a b/c", true), "a%20b/c");
        assert_eq!(encode("a b/c", false), "a%20b%2Fc");
    }
}
