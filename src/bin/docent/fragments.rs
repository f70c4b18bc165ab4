//! The fragmented index on disk: writing its files for `docent index` (new ones only, each
//! complete before its name exists), removing the ones no manifest names any more, and reading
//! them for `docent search --fragments` / `docent ask --fragments` ([`FileSource`], the CLI's
//! [`FragmentSource`]).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use docent::fragments::{FragmentSource, Fragments, Span, FRAGMENTS_DIR};
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

    async fn fetch_ranges(&self, spans: &[Span]) -> Result<Vec<Vec<u8>>> {
        use std::io::{Read, Seek, SeekFrom};
        spans
            .iter()
            .map(|s| {
                let path = s.path.split('/').fold(self.dir.clone(), |d, part| d.join(part));
                let mut file = std::fs::File::open(&path).map_err(|e| Error::io(&path, e))?;
                file.seek(SeekFrom::Start(s.start)).map_err(|e| Error::io(&path, e))?;
                let mut bytes = Vec::with_capacity(s.end.saturating_sub(s.start) as usize);
                // A file shorter than the span gives fewer bytes; the reader names it.
                file.take(s.end.saturating_sub(s.start))
                    .read_to_end(&mut bytes)
                    .map_err(|e| Error::io(&path, e))?;
                Ok(bytes)
            })
            .collect()
    }
}

/// Writes the fragment files `frags` into `out/fragments/`: a file whose name exists with the
/// right size is kept (the name is its content's hash), the others are written to `NAME.tmp`
/// and renamed, so a name never holds a partial file, whenever docent is stopped. They are not
/// synced one by one (that cost ~15 ms a file, seconds for a large site); the manifest that names
/// them is (see `site::write_synced`). Returns the counts (without removals, see
/// [`remove_unnamed`]).
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
        let mut tmp = path.as_os_str().to_owned();
        tmp.push(".tmp");
        let tmp = PathBuf::from(tmp);
        std::fs::write(&tmp, bytes).map_err(|e| Error::io(&tmp, e))?;
        std::fs::rename(&tmp, &path).map_err(|e| Error::io(&path, e))?;
        counts.written += 1;
    }
    Ok(counts)
}

/// Deletes the files of `out/fragments/` that look like fragments (`lex|txt|ivf|vec|cmn-<16 hex>.bin`,
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

/// `lex|txt|ivf|vec|cmn-<16 lowercase hex>.bin`, optionally followed by `.tmp`.
fn is_fragment_name(name: &str) -> bool {
    let name = name.strip_suffix(".tmp").unwrap_or(name);
    let Some(stem) = name.strip_suffix(".bin") else { return false };
    let Some((kind, hash)) = stem.split_once('-') else { return false };
    matches!(kind, "lex" | "txt" | "ivf" | "vec" | "cmn")
        && hash.len() == 16
        && hash.bytes().all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c))
}
