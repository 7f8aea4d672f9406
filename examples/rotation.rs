//! A long-running program that survives a rotation: it reads its settings through a `Watch`,
//! and when the API key in its secrets directory is rotated (here by the program itself, the
//! way kubelet updates a secret volume), the next request uses the new key. No restart.
//!
//! `cargo run --example rotation --features watch`. It prints variable names, never values.

use std::path::Path;
use std::time::Duration;

use settings::{ExposeSecret, Loader, SecretString, Settings, Watch};

#[derive(Settings)]
struct Service {
    /// Where requests go
    #[settings(default = "https://api.example.invalid")]
    api_url: String,
    /// The key sent with every request; rotated by the platform
    api_key: SecretString,
}

/// Stands in for a request: where it would go and how long a key it would send (never the key).
fn call_api(settings: &Service) -> String {
    format!(
        "request to {} with a key of {} characters",
        settings.api_url,
        settings.api_key.expose_secret().len()
    )
}

#[cfg(unix)]
/// Writes `key` as kubelet writes a secret volume: a new timestamped directory, then the
/// `..data` link swapped to it in one rename.
fn publish(dir: &Path, version: u32, key: &str) -> std::io::Result<()> {
    let data = format!("..v{version}");
    std::fs::create_dir_all(dir.join(&data))?;
    std::fs::write(dir.join(&data).join("api_key"), key)?;
    let tmp = dir.join("..data_tmp");
    let _ = std::fs::remove_file(&tmp);
    std::os::unix::fs::symlink(&data, &tmp)?;
    std::fs::rename(&tmp, dir.join("..data"))?;
    if !dir.join("api_key").exists() {
        std::os::unix::fs::symlink("..data/api_key", dir.join("api_key"))?;
    }
    Ok(())
}

#[cfg(not(unix))]
fn main() {
    eprintln!("this example swaps symbolic links as kubelet does: it runs on Unix");
}

#[cfg(unix)]
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let secrets = std::env::temp_dir().join(format!("settings-rotation-{}", std::process::id()));
    publish(&secrets, 1, "key-from-the-first-deploy")?;

    let watch: Watch<Service> = Loader::new()
        .secrets_dir(&secrets)
        .poll_files_every(Duration::from_millis(200))
        .watch()?;
    watch.on_change(|change| println!("rotated: {}", change.names().join(", ")));
    println!("{}", call_api(&watch.get()));

    publish(&secrets, 2, "a-longer-key-from-the-rotation")?;
    let rotated = watch
        .wait_for_change(Duration::from_secs(10))
        .ok_or("the rotation was not seen")?;
    println!("{}", call_api(&rotated));

    std::fs::remove_dir_all(&secrets)?;
    Ok(())
}
