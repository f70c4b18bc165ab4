//! The paths the native benchmarks share: the repository root, the Cargo book of the toolchain
//! (rust-docs) they index, and the prepared model (`DOCENT_MODEL_DIR`, default `models/`).
//! Included by each benchmark with `#[path = "paths.rs"] mod paths;`.

use std::path::PathBuf;

/// The repository's root (where Cargo.toml is).
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The Cargo book's HTML in the active toolchain's rust-docs (`./build.sh setup` adds them).
pub fn cargo_book() -> PathBuf {
    let out = std::process::Command::new("rustc")
        .args(["--print", "sysroot"])
        .output()
        .expect("rustc --print sysroot");
    PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()).join("share/doc/rust/html/cargo")
}

/// The prepared model folder; panics with the command to run when it holds no model.
pub fn model_dir() -> PathBuf {
    let d = std::env::var_os("DOCENT_MODEL_DIR").map(PathBuf::from).unwrap_or_else(|| root().join("models"));
    assert!(d.join("model.json").is_file(), "{} has no prepared model: run ./build.sh setup", d.display());
    d
}
