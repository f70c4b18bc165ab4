//! The fragmented index on disk: writing its files for `docent index` (new ones only, each
//! complete before its name exists), removing the ones no manifest names any more, and reading
//! them for `docent search --fragments` / `docent ask --fragments` ([`FileSource`], the CLI's
//! [`FragmentSource`]).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use docent::fragments::{FragmentSource, Fragments, FRAGMENTS_DIR};
use docent::site::FragmentCounts;
use docent::{Error, Result};

/// Fragments read from the files of an index folder.
pub struct FileSource {
    /// The index folder (holding `manifest.json` and `fragments/`).
    pub dir: PathBuf,
}

impl FragmentSource for FileSource {
    async fn fetch(&self, paths: &[String]) -> Result<Vec<Vec<u8>>> {
        paths
            .iter()
            .map(|p| {
                let path = p.split('/').fold(self.dir.clone(), |d, part| d.join(part));
                std::fs::read(&path).map_err(|e| Error::io(&path, e))
            })
            .collect()
    }
}

/// Writes the fragment files `frags` into `out/fragments/`: a file whose name exists with the
/// right size is kept (the name is its content's hash), the others are written to `NAME.tmp`,
/// synced and renamed, so a name never holds a partial file. Returns the counts (without
/// removals, see [`remove_unnamed`]).
pub fn write_new(out: &Path, frags: &Fragments) -> Result<FragmentCounts> {
    let dir = out.join(FRAGMENTS_DIR);
    std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
    let mut counts = FragmentCounts { total: frags.files.len(), ..FragmentCounts::default() };
    for (rel, bytes) in &frags.files {
        let path = rel.split('/').fold(out.to_path_buf(), |d, part| d.join(part));
        if std::fs::metadata(&path).is_ok_and(|m| m.is_file() && m.len() == bytes.len() as u64) {
            counts.reused += 1;
            continue;
        }
        crate::site::write_synced(&path, bytes)?;
        counts.written += 1;
    }
    Ok(counts)
}

/// Deletes the files of `out/fragments/` that look like fragments (`lex|txt|ivf|vec-<16 hex>.bin`,
/// or such a name plus `.tmp`, left by an interrupted run) and are not in `keep` (paths as the
/// manifests name them). Anything else in the folder is left alone. Returns how many were deleted.
pub fn remove_unnamed(out: &Path, keep: &BTreeSet<String>) -> Result<usize> {
    let dir = out.join(FRAGMENTS_DIR);
    let Ok(entries) = std::fs::read_dir(&dir) else { return Ok(0) };
    let mut removed = 0;
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(&dir, e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if !is_fragment_name(&name) || keep.contains(&format!("{FRAGMENTS_DIR}/{name}")) {
            continue;
        }
        match std::fs::remove_file(entry.path()) {
            Ok(()) => removed += usize::from(!name.ends_with(".tmp")),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(Error::io(entry.path(), e)),
        }
    }
    Ok(removed)
}

/// `lex|txt|ivf|vec-<16 lowercase hex>.bin`, optionally followed by `.tmp`.
fn is_fragment_name(name: &str) -> bool {
    let name = name.strip_suffix(".tmp").unwrap_or(name);
    let Some(stem) = name.strip_suffix(".bin") else { return false };
    let Some((kind, hash)) = stem.split_once('-') else { return false };
    matches!(kind, "lex" | "txt" | "ivf" | "vec")
        && hash.len() == 16
        && hash.bytes().all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c))
}
