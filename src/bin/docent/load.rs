//! Finding the model files and loading an index folder for `search`, `ask` and `eval`, and
//! reading the files those commands are given.

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use docent::embed::{Embedder, EmbedderInfo, EmbedderKind};
use docent::engine::Docent;
use docent::{Error, Result};
use serde::{Deserialize, Serialize};

use crate::site;

/// The model directory: the flag, else $DOCENT_MODEL_DIR, else ./models, else `models/` beside
/// the binary.
pub fn model_dir(flag: Option<&Path>) -> Result<PathBuf> {
    if let Some(d) = flag {
        return Ok(d.to_path_buf());
    }
    if let Some(d) = std::env::var_os("DOCENT_MODEL_DIR") {
        return Ok(PathBuf::from(d));
    }
    let mut tried = vec![PathBuf::from("models")];
    if let Some(exe_dir) = std::env::current_exe().ok().and_then(|p| p.parent().map(Path::to_path_buf)) {
        tried.push(exe_dir.join("models"));
    }
    for d in &tried {
        if d.join("model.json").is_file() {
            return Ok(d.clone());
        }
    }
    Err(Error::model(
        tried.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", "),
        "no prepared model files found (looked for model.json); run ./build.sh setup, or pass --model-dir, or set DOCENT_MODEL_DIR",
    ))
}

pub fn load_embedder(kind: EmbedderKind, dim: usize, flag: Option<&Path>) -> Result<Arc<dyn Embedder>> {
    let dir = if kind.model_files().is_empty() { PathBuf::new() } else { model_dir(flag)? };
    embedder_at(kind, dim, &dir)
}

/// The embedder of `kind`, reading its model files from `dir` (unused for `hashing`).
pub fn embedder_at(kind: EmbedderKind, dim: usize, dir: &Path) -> Result<Arc<dyn Embedder>> {
    Ok(match kind {
        EmbedderKind::Hashing => Arc::new(docent::embed::hashing::Hashing::new(dim)?),
        EmbedderKind::MiniLm => Arc::new(docent::embed::minilm::MiniLm::load(dir)?),
        EmbedderKind::Static => Arc::new(docent::embed::static_table::StaticTable::load(dir)?),
        EmbedderKind::Vectors => {
            return Err(Error::invalid(
                "embedder",
                "this index was built from caller-supplied vectors; the CLI cannot embed queries for it",
            ))
        }
    })
}

/// What `docent index` writes next to `index.bin`. pkg/docent.js (`loadDocent`) and pkg/cli.js
/// read and write the same fields.
#[derive(Serialize, Deserialize)]
pub struct Manifest {
    /// Always [`MANIFEST_FORMAT`].
    pub format: String,
    /// The index file's format version.
    pub version: u32,
    /// The index file's name inside the folder.
    pub index: String,
    /// Its size.
    pub bytes: u64,
    /// xxh3-64 of its bytes, 16 hex digits (empty in manifests of older pkg/cli.js versions).
    pub xxh3: String,
    /// The embedder that built it (the browser loads its model files from `model/`).
    pub embedder: EmbedderInfo,
    /// Live documents.
    pub documents: usize,
    /// Their chunks.
    pub chunks: usize,
    /// `flat` or `hnsw`.
    pub dense: String,
    /// `docent <version>`.
    pub created_by: String,
    /// Every file of the folder but manifest.json (index, model files, runtime), with sizes and
    /// xxh3; absent in manifests of older versions.
    #[serde(default)]
    pub files: Vec<site::FileEntry>,
}

pub const MANIFEST_FORMAT: &str = "docent-index";

pub fn read_file(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| Error::io(path, e))
}

pub fn load_index(dir: &Path, flag: Option<&Path>) -> Result<Docent> {
    let mpath = dir.join("manifest.json");
    let m: Manifest = serde_json::from_slice(&read_file(&mpath)?)
        .map_err(|e| Error::format(mpath.display().to_string(), format!("not a docent manifest: {e}")))?;
    if m.format != MANIFEST_FORMAT {
        return Err(Error::format(
            mpath.display().to_string(),
            format!("field 'format' is {:?}, expected {MANIFEST_FORMAT:?}", m.format),
        ));
    }
    let ipath = dir.join(&m.index);
    let bytes = read_file(&ipath)?;
    let what = ipath.display().to_string();
    let info = Docent::embedder_of(&bytes, &what)?;
    let embedder = load_embedder(info.kind, info.dim, flag)?;
    Docent::from_bytes(&bytes, embedder, &what)
}

#[derive(Deserialize)]
pub struct QueryLine {
    pub q: String,
    #[serde(default)]
    pub relevant: Option<Vec<String>>,
}

pub fn read_queries(path: &Path) -> Result<Vec<QueryLine>> {
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut out = Vec::new();
    for (i, line) in std::io::BufReader::new(file).lines().enumerate() {
        let line = line.map_err(|e| Error::io(path, e))?;
        if line.trim().is_empty() {
            continue;
        }
        let q: QueryLine = serde_json::from_str(&line).map_err(|e| {
            Error::format(
                format!("{}:{}", path.display(), i + 1),
                format!("expected a JSON object with a string field \"q\": {e}"),
            )
        })?;
        out.push(q);
    }
    Ok(out)
}
