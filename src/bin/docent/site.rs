//! The self-contained site folder that `docent index` writes: the index, the model files the
//! browser embeds queries with (`model/`), and the web runtime (`docent.js`, the wasm-bindgen glue,
//! the `.wasm`, the other runtime modules of pkg/, and llama.cpp's `llm/wllama/` when pkg/ has
//! it), so that copying the site to any static host is the whole deployment.
//!
//! Owns the folder's file I/O: finding the runtime files, copying files only when their content
//! differs (re-runs leave unchanged files and their modification times alone), removing files an
//! earlier run wrote that are no longer wanted, and collecting the `files` list of the manifest.
//! What the folder holds (names, model file table, manifest, which paths may be deleted) is
//! defined by the core, [`docent::site`]. Must not: index anything, or write anything path-like
//! of the build machine into the folder (every name it records is relative).

use std::path::{Path, PathBuf};

use docent::site::{
    is_plain_relative, is_runtime_file, model_path, runtime_bytes, FileEntry, LOCAL_RUNTIME, MIN_DIR,
    MODEL_DIR, REQUIRED_RUNTIME, RUNTIME_DIRS, WASM_FILE,
};
use docent::{Error, Result};

/// The environment variable naming the runtime folder.
pub const ASSETS_ENV: &str = "DOCENT_ASSETS";

/// Where the runtime files were found.
#[derive(Debug, Clone)]
pub struct Assets {
    /// The folder.
    pub dir: PathBuf,
    /// The names of the runtime files in it, sorted.
    pub files: Vec<String>,
}

/// Finds the browser runtime: `--assets DIR`, else `$DOCENT_ASSETS`, else `./pkg` when it holds
/// the wasm module (running from a checkout after `./build.sh wasm`), else
/// `<directory of the executable>/../share/docent` when it does (an installed layout such as
/// `/usr/local/bin/docent` + `/usr/local/share/docent/`). A folder named by the flag or the
/// variable must hold the runtime (else an error naming what is missing); `Ok(None)` when no
/// folder was named and none of the others holds it.
pub fn find_assets(flag: Option<&Path>) -> Result<Option<Assets>> {
    if let Some(dir) = flag {
        return runtime_in(dir, "--assets").map(Some);
    }
    if let Some(dir) = std::env::var_os(ASSETS_ENV).filter(|d| !d.is_empty()) {
        return runtime_in(Path::new(&dir), ASSETS_ENV).map(Some);
    }
    let mut candidates = vec![(PathBuf::from("pkg"), "./pkg")];
    if let Some(exe_dir) = std::env::current_exe().ok().and_then(|p| p.parent().map(Path::to_path_buf)) {
        candidates.push((exe_dir.join("../share/docent"), "<binary>/../share/docent"));
    }
    for (dir, label) in candidates {
        if dir.join(WASM_FILE).is_file() {
            return runtime_in(&dir, label).map(Some);
        }
    }
    Ok(None)
}

/// The runtime files in `dir` ([`is_runtime_file`]: every `.js` file except `cli.js`, those of
/// `llm/` as `llm/…`, and the wasm module), and llama.cpp's ([`LOCAL_RUNTIME`]) when both of its
/// files are there. `label` says where the folder came from, in errors.
fn runtime_in(dir: &Path, label: &str) -> Result<Assets> {
    let entries = std::fs::read_dir(dir).map_err(|e| {
        Error::invalid(label, format!("{}: cannot read the runtime folder: {e}", dir.display()))
    })?;
    let mut files = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if is_runtime_file(&name) && entry.path().is_file() {
            files.push(name);
        }
    }
    for sub in RUNTIME_DIRS {
        let Ok(entries) = std::fs::read_dir(dir.join(sub)) else { continue };
        for entry in entries {
            let entry = entry.map_err(|e| Error::io(dir.join(sub), e))?;
            let path = format!("{sub}/{}", entry.file_name().to_string_lossy());
            if is_runtime_file(&path) && entry.path().is_file() {
                files.push(path);
            }
        }
    }
    // llama.cpp's runtime, for provider="local": both files or neither.
    if LOCAL_RUNTIME.iter().all(|f| f.split('/').fold(dir.to_path_buf(), |p, part| p.join(part)).is_file()) {
        files.extend(LOCAL_RUNTIME.iter().map(|f| f.to_string()));
    }
    files.sort();
    let missing: Vec<&str> =
        REQUIRED_RUNTIME.iter().copied().filter(|r| !files.iter().any(|f| f == r)).collect();
    if !missing.is_empty() {
        return Err(Error::invalid(
            label,
            format!(
                "{} lacks the browser runtime file(s) {}; expected the folder ./build.sh wasm writes (pkg/)",
                dir.display(),
                missing.join(", ")
            ),
        ));
    }
    Ok(Assets { dir: dir.to_path_buf(), files })
}

/// Checks that every model file the browser needs is in `model_dir`, before any work is done.
pub fn check_model_files(model_dir: &Path, names: &[&str]) -> Result<()> {
    for name in names {
        let p = model_dir.join(name);
        if !p.is_file() {
            return Err(Error::model(
                p.display().to_string(),
                format!(
                    "missing; the browser needs it (copied into the output's model/ folder). Prepare the model files with ./build.sh setup, or pass --model-dir with {}",
                    names.join(", ")
                ),
            ));
        }
    }
    Ok(())
}

/// Writes `bytes` to `path` unless the file already holds exactly these bytes, so a re-run
/// leaves unchanged files (and their modification times, which static hosts use for caching)
/// alone. Writes a temporary file and renames it over `path`, which also replaces a symlink by a
/// real file. Returns whether it wrote.
pub fn write_if_changed(path: &Path, bytes: &[u8]) -> Result<bool> {
    let same = std::fs::symlink_metadata(path)
        .is_ok_and(|m| m.file_type().is_file() && m.len() == bytes.len() as u64)
        && std::fs::read(path).is_ok_and(|old| old == bytes);
    if same {
        return Ok(false);
    }
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
    }
    write_synced(path, bytes)?;
    Ok(true)
}

/// Writes `bytes` to `PATH.tmp`, flushes it to disk and renames it over `path`: a reader (or a
/// later run) sees either the old file or the new one whole, even if docent is killed meanwhile.
pub fn write_synced(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    let mut f = std::fs::File::create(&tmp).map_err(|e| Error::io(&tmp, e))?;
    f.write_all(bytes).and_then(|()| f.sync_all()).map_err(|e| Error::io(&tmp, e))?;
    drop(f);
    std::fs::rename(&tmp, path).map_err(|e| Error::io(path, e))
}

/// What [`publish`] did.
#[derive(Debug, Default)]
pub struct Published {
    /// Every file the folder now holds besides `manifest.json`, sorted by path.
    pub files: Vec<FileEntry>,
    /// The paths written because they were new or changed.
    pub written: Vec<String>,
    /// The paths an earlier run recorded that are no longer wanted, now deleted.
    pub removed: Vec<String>,
    /// No runtime folder was given or found, and the runtime files an earlier run copied were
    /// kept as they are.
    pub kept_runtime: bool,
}

/// Writes the index, the model files and the runtime into `out` (each only when changed) and
/// deletes files that `previous` (the `files` list of the manifest `out` held before) recorded
/// but that are not wanted any more, e.g. `model/minilm.int8` after switching to the static
/// embedder. Only paths that an earlier run recorded are ever deleted. Without `assets`, the
/// runtime files an earlier run copied stay (and stay listed): a run that cannot find the runtime
/// must not break a folder that has one.
pub fn publish(
    out: &Path,
    index: (&str, &[u8]),
    model: Option<(&Path, &[&str])>,
    assets: Option<&Assets>,
    previous: &[FileEntry],
) -> Result<Published> {
    let mut done = Published::default();
    let mut put = |rel: String, bytes: &[u8]| -> Result<()> {
        let path = rel.split('/').fold(out.to_path_buf(), |p, part| p.join(part));
        if write_if_changed(&path, bytes)? {
            done.written.push(rel.clone());
        }
        done.files.push(FileEntry::of(rel, bytes));
        Ok(())
    };
    put(index.0.to_string(), index.1)?;
    if let Some((dir, names)) = model {
        for name in names {
            let src = dir.join(name);
            let bytes = std::fs::read(&src).map_err(|e| Error::io(&src, e))?;
            put(model_path(name), &bytes)?;
        }
    }
    if let Some(a) = assets {
        for name in &a.files {
            let src = name.split('/').fold(a.dir.clone(), |p, part| p.join(part));
            let bytes = std::fs::read(&src).map_err(|e| Error::io(&src, e))?;
            let min = name.split('/').fold(a.dir.join(MIN_DIR), |p, part| p.join(part));
            let minified = if name.ends_with(".js") { std::fs::read(&min).ok() } else { None };
            put(name.clone(), runtime_bytes(&bytes, minified.as_deref()))?;
        }
    } else {
        let runtime = previous.iter().filter(|f| {
            f.path != index.0
                && !f.path.starts_with(&model_path(""))
                && is_plain_relative(&f.path)
                && (!f.path.contains('/')
                    || is_runtime_file(&f.path)
                    || LOCAL_RUNTIME.contains(&f.path.as_str()))
        });
        for f in runtime {
            if let Ok(bytes) = std::fs::read(out.join(&f.path)) {
                put(f.path.clone(), &bytes)?;
                done.kept_runtime = true;
            }
        }
    }
    done.files.sort_by(|a, b| a.path.cmp(&b.path));
    for old in previous {
        if done.files.iter().any(|f| f.path == old.path) || !is_plain_relative(&old.path) {
            continue;
        }
        let path = old.path.split('/').fold(out.to_path_buf(), |p, part| p.join(part));
        match std::fs::remove_file(&path) {
            Ok(()) => done.removed.push(old.path.clone()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(Error::io(&path, e)),
        }
    }
    // An emptied model/ folder goes too (remove_dir fails, harmlessly, when it is not empty).
    if model.is_none() {
        let _ = std::fs::remove_dir(out.join(MODEL_DIR));
    }
    Ok(done)
}
