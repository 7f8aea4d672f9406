//! Reading a file that configuration names: regular files only, opened without blocking,
//! read up to a limit, into a buffer that is wiped when dropped.
//!
//! A path in a variable or a `.env` file may name anything: a FIFO (which would block the load
//! forever), `/dev/zero` (which would fill memory), a directory. Every file the library reads
//! goes through [`read_capped`].

use std::fmt;
use std::fs::OpenOptions;
use std::io::Read;
use std::path::Path;

use zeroize::Zeroizing;

/// `O_NONBLOCK` where its value is known without the `libc` crate (which would cost the
/// default build a second or two): Linux and Android on every architecture but MIPS and SPARC
/// (whose values differ), and the BSDs with macOS. Elsewhere the type check before the open is the
/// only guard.
#[cfg(unix)]
const O_NONBLOCK: Option<i32> = if cfg!(all(
    any(target_os = "linux", target_os = "android"),
    not(any(
        target_arch = "mips",
        target_arch = "mips32r6",
        target_arch = "mips64",
        target_arch = "mips64r6",
        target_arch = "sparc",
        target_arch = "sparc64"
    ))
)) {
    Some(0o4000)
} else if cfg!(any(
    target_os = "macos",
    target_os = "ios",
    target_os = "freebsd",
    target_os = "netbsd",
    target_os = "openbsd",
    target_os = "dragonfly"
)) {
    Some(0x0004)
} else {
    None
};

/// Files this process has asked [`read_capped`] for, so that a test can prove a load reads each
/// file once.
static READS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// How many files this process has asked to read so far.
pub fn reads() -> usize {
    READS.load(std::sync::atomic::Ordering::Relaxed)
}

/// Why a file could not be read. Never holds any of its content.
#[derive(Debug)]
pub(crate) enum FileError {
    /// There is no such file.
    NotFound,
    /// It exists but is not a regular file (a directory, a FIFO, a device, a socket).
    NotRegular,
    /// It is larger than the limit, in bytes.
    TooLarge(u64),
    /// Any other failure to open or read it.
    Io(std::io::Error),
}

impl fmt::Display for FileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FileError::NotFound => f.write_str("does not exist"),
            FileError::NotRegular => f.write_str("is not a regular file; refused"),
            FileError::TooLarge(limit) => write!(f, "is larger than {}; refused", size(*limit)),
            FileError::Io(err) => write!(f, "cannot be read: {err}"),
        }
    }
}

impl From<std::io::Error> for FileError {
    fn from(err: std::io::Error) -> Self {
        match err.kind() {
            std::io::ErrorKind::NotFound => FileError::NotFound,
            _ => FileError::Io(err),
        }
    }
}

/// `1 MiB`, `64 KiB`, `12 bytes`.
fn size(bytes: u64) -> String {
    match bytes {
        b if b >= 1024 * 1024 && b % (1024 * 1024) == 0 => format!("{} MiB", b / (1024 * 1024)),
        b if b >= 1024 && b % 1024 == 0 => format!("{} KiB", b / 1024),
        b => format!("{b} bytes"),
    }
}

/// Reads the regular file at `path` (symbolic links followed), refusing it when it holds more
/// than `limit` bytes. The buffer is allocated once, at its final size, so that no partial copy
/// is left behind in freed memory.
pub(crate) fn read_capped(path: &Path, limit: u64) -> Result<Zeroizing<Vec<u8>>, FileError> {
    READS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let metadata = std::fs::metadata(path)?;
    if !metadata.is_file() {
        return Err(FileError::NotRegular);
    }
    if metadata.len() > limit {
        return Err(FileError::TooLarge(limit));
    }
    let mut options = OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    if let Some(flag) = O_NONBLOCK {
        // Opening a FIFO for reading blocks until a writer comes; without blocking it does not.
        // The path may have been swapped for one between the check above and this open.
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(flag);
    }
    let file = options.open(path)?;
    let opened = file.metadata()?;
    if !opened.is_file() {
        return Err(FileError::NotRegular);
    }
    let expected = opened.len().min(limit);
    let capacity = usize::try_from(expected)
        .unwrap_or(usize::MAX)
        .saturating_add(1);
    let mut bytes = Zeroizing::new(Vec::with_capacity(capacity));
    // One byte past the limit, so that a file that grows while being read is refused too.
    file.take(limit.saturating_add(1)).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(FileError::TooLarge(limit));
    }
    Ok(bytes)
}

/// Reads a text file with [`read_capped`]; `None` in place of text that is not UTF-8 (whose
/// bytes are wiped).
pub(crate) fn read_text_capped(
    path: &Path,
    limit: u64,
) -> Result<Option<Zeroizing<String>>, FileError> {
    let mut bytes = read_capped(path, limit)?;
    Ok(match String::from_utf8(std::mem::take(&mut *bytes)) {
        Ok(text) => Some(Zeroizing::new(text)),
        Err(err) => {
            drop(Zeroizing::new(err.into_bytes()));
            None
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_as_units() {
        assert_eq!(size(1024 * 1024), "1 MiB");
        assert_eq!(size(64 * 1024), "64 KiB");
        assert_eq!(size(10), "10 bytes");
    }

    #[cfg(unix)]
    #[test]
    fn devices_and_directories_are_refused() {
        assert!(matches!(
            read_capped(Path::new("/dev/zero"), 10),
            Err(FileError::NotRegular)
        ));
        assert!(matches!(
            read_capped(Path::new("/"), 10),
            Err(FileError::NotRegular)
        ));
        assert!(matches!(
            read_capped(Path::new("/no/such/file/here"), 10),
            Err(FileError::NotFound)
        ));
    }
}
