//! Building secret text without leaving copies behind.
//!
//! A `String` that grows reallocates: the old block is freed with the text still in it, and
//! `Zeroizing` only wipes the last one. Secret text is therefore built at its final size.

use zeroize::Zeroizing;

/// `parts` joined, in a string allocated once at its final size and wiped when dropped.
pub(crate) fn concat(parts: &[&str]) -> Zeroizing<String> {
    let mut out = Zeroizing::new(String::with_capacity(parts.iter().map(|p| p.len()).sum()));
    for part in parts {
        out.push_str(part);
    }
    out
}

/// Reads `reader` to its end into a buffer wiped when dropped: sized from `hint` and, when it
/// must grow, moved into a larger one while the old one is wiped. Refuses more than `limit`
/// bytes with an error of kind `InvalidData`.
#[cfg(any(feature = "vault", feature = "aws"))]
pub(crate) fn read_to_end(
    reader: &mut impl std::io::Read,
    hint: Option<u64>,
    limit: u64,
) -> std::io::Result<Zeroizing<Vec<u8>>> {
    let start = usize::try_from(hint.unwrap_or(8 * 1024).min(limit)).unwrap_or(8 * 1024);
    let mut buf = Zeroizing::new(Vec::with_capacity(start));
    let mut chunk = Zeroizing::new([0u8; 8 * 1024]);
    loop {
        let n = match reader.read(&mut chunk[..]) {
            Ok(0) => return Ok(buf),
            Ok(n) => n,
            Err(err) if err.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(err) => return Err(err),
        };
        if (buf.len() + n) as u64 > limit {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "larger than the limit",
            ));
        }
        if buf.len() + n > buf.capacity() {
            let mut bigger =
                Zeroizing::new(Vec::with_capacity((buf.capacity() * 2).max(buf.len() + n)));
            bigger.extend_from_slice(&buf);
            buf = bigger;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// Wipes every string of a JSON value (keys stay: they name things, they are not secrets),
/// before it is dropped.
#[cfg(any(feature = "vault", feature = "aws"))]
pub(crate) fn wipe_json(value: &mut serde_json::Value) {
    use zeroize::Zeroize;
    match value {
        serde_json::Value::String(text) => text.zeroize(),
        serde_json::Value::Array(items) => items.iter_mut().for_each(wipe_json),
        serde_json::Value::Object(map) => map.values_mut().for_each(wipe_json),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn concat_is_exact() {
        let joined = concat(&["ab", "", "cde"]);
        assert_eq!(joined.as_str(), "abcde");
        assert_eq!(joined.capacity(), 5);
    }

    #[cfg(any(feature = "vault", feature = "aws"))]
    #[test]
    fn reading_grows_and_limits() {
        let data = vec![7u8; 20_000];
        let read = read_to_end(&mut &data[..], Some(10), 1 << 20).unwrap();
        assert_eq!(&read[..], &data[..]);
        assert!(read_to_end(&mut &data[..], None, 1000).is_err());
    }
}
