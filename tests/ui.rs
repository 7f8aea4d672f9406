//! Compile-fail tests: every attribute mistake is an error pointing at the offending token.
//!
//! The `.stderr` files are pinned to the toolchain CI uses (rustc 1.95); after a compiler update,
//! regenerate them with `TRYBUILD=overwrite cargo test --test ui` and review the diff.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*/*.rs");
}
