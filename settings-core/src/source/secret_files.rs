//! Secrets kept in files: the Docker `NAME_FILE` convention and secrets directories
//! (Docker's `/run/secrets`, a Kubernetes secret volume).

use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

use crate::source::RawValue;
use crate::source::files::read_capped;

/// The largest secret file read: 1 MiB. A larger file is refused, not truncated.
pub const MAX_SECRET_FILE_BYTES: u64 = 1024 * 1024;

/// Reads a secret file: its content with one trailing newline (`\n` or `\r\n`) removed.
/// Only a regular file of at most [`MAX_SECRET_FILE_BYTES`] is read.
/// Failures name the file and what is wrong, never the content.
pub fn read_secret_file(path: &Path) -> RawValue {
    let mut bytes = match read_capped(path, MAX_SECRET_FILE_BYTES) {
        Ok(bytes) => bytes,
        // The origin of the value names the file.
        Err(err) => return RawValue::Failed(err.to_string()),
    };
    if bytes.ends_with(b"\n") {
        bytes.pop();
        if bytes.ends_with(b"\r") {
            bytes.pop();
        }
    }
    match String::from_utf8(std::mem::take(&mut *bytes)) {
        Ok(text) => RawValue::Text(Zeroizing::new(text)),
        Err(err) => {
            // Wipe the rejected bytes too.
            drop(Zeroizing::new(err.into_bytes()));
            RawValue::NotUnicode
        }
    }
}

/// Looks `name` up in a secrets directory: a file named exactly `name`, else its lowercase form.
///
/// `None` when there is no such file (or no directory). A file that resolves outside the
/// directory, through a symbolic link or otherwise, is refused.
pub fn find_in_secrets_dir(dir: &Path, name: &str) -> Option<(PathBuf, RawValue)> {
    if name.is_empty() || name.starts_with('.') || name.contains(['/', '\\']) {
        return None;
    }
    let lower = name.to_ascii_lowercase();
    let candidates = [name, lower.as_str()];
    let path = candidates
        .iter()
        .map(|file| dir.join(file))
        .find(|path| path.symlink_metadata().is_ok())?;
    let inside = match (dir.canonicalize(), path.canonicalize()) {
        (Ok(dir), Ok(file)) => file.starts_with(&dir) && file != dir,
        (_, Err(err)) => {
            let message = format!("cannot read {}: {err}", path.display());
            return Some((path, RawValue::Failed(message)));
        }
        (Err(_), _) => false,
    };
    if !inside {
        let message = format!(
            "{} points outside the secrets directory {}; refused",
            path.display(),
            dir.display()
        );
        return Some((path, RawValue::Failed(message)));
    }
    let value = read_secret_file(&path);
    Some((path, value))
}
