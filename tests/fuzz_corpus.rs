//! The fuzz targets on the stable toolchain: every input of each target's corpus
//! (`fuzz/corpus/<target>/`, kept minimal with `cargo fuzz cmin`) is replayed through the same
//! body that cargo-fuzz runs, so that what the fuzzer once found stays fixed.

#[path = "../fuzz/targets.rs"]
mod targets;

use std::path::Path;

fn replay(target: &str, body: fn(&[u8])) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target);
    let entries = std::fs::read_dir(&dir).unwrap_or_else(|err| panic!("{}: {err}", dir.display()));
    let mut count = 0;
    for entry in entries {
        let path = entry.unwrap().path();
        let data = std::fs::read(&path).unwrap();
        let outcome = std::panic::catch_unwind(|| body(&data));
        assert!(outcome.is_ok(), "{target}: {} fails", path.display());
        count += 1;
    }
    assert!(
        count >= 10,
        "{target}: only {count} inputs in {}",
        dir.display()
    );
}

#[test]
fn dotenv_corpus() {
    replay("dotenv", targets::dotenv);
}

#[test]
fn coerce_corpus() {
    replay("coerce", targets::coerce);
}

#[test]
fn reference_corpus() {
    replay("reference", targets::reference);
}

#[test]
fn scrub_corpus() {
    replay("scrub", targets::scrub_message);
}
