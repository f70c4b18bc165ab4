//! Directory walking (native only): finds the supported files under the paths given to
//! `docent index`, gives each its url, reads it, drops exact duplicates and parses the rest on all
//! cores (in batches of 64, results in walk order).
//!
//! Owns: file discovery order, urls, content hashes, decoding warnings (the decoding itself is
//! [`super::decode`], shared with the wasm build). Must not: chunk,
//! embed or index; it is not compiled for wasm32 (the browser has no file system).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::decode::{decode, head};
use super::{parse, parse_pdf, pdf_note, Format, Ingested};
use crate::Error;

/// How [`walk`] names what it finds.
#[derive(Debug, Clone, Default)]
pub struct WalkOptions {
    /// Prefix of every url (e.g. `https://example.com/docs/`); may be empty. It is joined to the
    /// relative path with exactly one `/` between them.
    pub base_url: String,
    /// Directories not to walk into, wherever they appear under the paths (compared after
    /// resolving symlinks; ones that do not exist are ignored). `docent index` puts its output
    /// directory here, so indexing `./public` into `./public/docent` does not index its own
    /// output. A path given directly to [`walk`] is always walked.
    pub exclude: Vec<PathBuf>,
}

/// One supported file that was read and parsed.
#[derive(Debug, Clone)]
pub struct WalkedFile {
    /// The file's path (as found: the directory argument joined with the relative path).
    pub path: PathBuf,
    /// Its url: the path relative to the directory argument it was found under (`/`
    /// separators), or its file name when it was given directly, prefixed by the base url.
    pub url: String,
    /// The parsed document, or why it is skipped.
    pub outcome: Ingested,
    /// xxh3-64 of the raw bytes as 16 hex digits ([`crate::embed::fingerprint`]).
    pub content_hash: String,
    /// The encoding the file was read in ([`super::decode::Decoded::encoding`], e.g. `UTF-8`,
    /// `Shift_JIS`); `UTF-8` for a PDF (its text is Unicode once extracted).
    pub encoding: &'static str,
    /// The `href` of the page's `<link rel="canonical">` (HTML only), as written.
    pub canonical: Option<String>,
}

/// What a walk found.
#[derive(Debug, Clone, Default)]
pub struct WalkReport {
    /// Supported files in walk order (arguments in order; each directory sorted by name,
    /// depth first), without duplicates.
    pub files: Vec<WalkedFile>,
    /// Files with an unsupported extension (not an error).
    pub unsupported: usize,
    /// Things the user should know that did not stop the walk, each naming its file (e.g.
    /// `docs/latin1.txt: not valid UTF-8; decoded as windows-1252 (…)`, binary files, symlink
    /// loops, unreadable entries).
    pub warnings: Vec<String>,
    /// Files whose bytes are identical to an earlier file's; only the first is in `files`.
    pub duplicates: usize,
    /// Those files: each one's url and the url of the earlier file with the same bytes, in walk
    /// order (`docent index` names both, see [`crate::site::duplicate_note`]).
    pub duplicate_of: Vec<(String, String)>,
    /// Directories skipped because [`WalkOptions::exclude`] lists them.
    pub excluded: usize,
}

/// Walks `paths` (files or directories), parsing every supported file. Directories are walked
/// recursively in sorted order, following symlinks but not symlink loops, skipping hidden
/// entries (name starting with `.`), `node_modules` and [`WalkOptions::exclude`]. `on_file` is called with each supported
/// file's path before it is read (for progress). A path that does not exist, or a supported
/// file that cannot be read, is an [`Error::Io`] naming it; an empty directory gives an empty
/// report. A supported file with a NUL byte among its first 8000 bytes is binary (see
/// [`super::binary_offset`]): skipped with a warning (a UTF-16 byte order mark exempts it). Each
/// file is decoded by [`decode`] (byte order mark, declared charset, UTF-8, else a guess); a
/// guessed or lossy decoding adds a warning. A PDF is read from its bytes ([`parse_pdf`]): one
/// that is skipped (encrypted, without text, unreadable, over the limits) or has pages without
/// text adds a warning naming it.
pub fn walk(
    paths: &[PathBuf],
    opts: &WalkOptions,
    on_file: &mut dyn FnMut(&Path),
) -> crate::Result<WalkReport> {
    let mut report = WalkReport::default();
    let mut seen: HashMap<String, String> = HashMap::new();
    let mut pending: Vec<Pending> = Vec::new();
    let exclude: Vec<PathBuf> = opts.exclude.iter().filter_map(|p| p.canonicalize().ok()).collect();
    let mut excluded = 0usize;
    for arg in paths {
        let meta = std::fs::metadata(arg).map_err(|e| Error::io(arg, e))?;
        if meta.is_file() {
            let name = arg.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            visit_file(arg, &name, opts, on_file, &mut report, &mut seen, &mut pending)?;
            continue;
        }
        let walker =
            walkdir::WalkDir::new(arg).follow_links(true).sort_by_file_name().into_iter().filter_entry(|e| {
                e.depth() == 0 || {
                    let name = e.file_name().to_string_lossy();
                    let hidden = name.starts_with('.') || name == "node_modules";
                    let out = !hidden
                        && !exclude.is_empty()
                        && e.file_type().is_dir()
                        && e.path().canonicalize().is_ok_and(|p| exclude.contains(&p));
                    excluded += usize::from(out);
                    !(hidden || out)
                }
            });
        for entry in walker {
            let entry = match entry {
                Ok(entry) => entry,
                Err(err) => {
                    let at = err
                        .path()
                        .map(|p| p.display().to_string())
                        .unwrap_or_else(|| arg.display().to_string());
                    match err.loop_ancestor() {
                        Some(anc) => report
                            .warnings
                            .push(format!("{at}: symlink loop back to {}; skipped", anc.display())),
                        None => report.warnings.push(format!("{at}: {err}; skipped")),
                    }
                    continue;
                }
            };
            if !entry.file_type().is_file() {
                continue;
            }
            let rel = entry.path().strip_prefix(arg).unwrap_or(entry.path());
            let rel = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("/");
            visit_file(entry.path(), &rel, opts, on_file, &mut report, &mut seen, &mut pending)?;
        }
    }
    parse_pending(&mut pending, &mut report)?;
    report.excluded = excluded;
    Ok(report)
}

/// A file read, decoded and deduplicated, waiting to be parsed.
struct Pending {
    path: PathBuf,
    url: String,
    title: String,
    content: Content,
    format: Format,
    content_hash: String,
    encoding: &'static str,
    canonical: Option<String>,
}

/// What a pending file holds: decoded text, or a PDF's bytes.
enum Content {
    Text(String),
    Pdf(Vec<u8>),
}

/// Files parsed per parallel batch: enough to keep both cores busy, few enough that only a
/// batch of texts is held at once.
const PARSE_BATCH: usize = 64;

/// Parses the pending files (on all cores with the `parallel` feature), appending them to the
/// report in walk order. A parse error stops the walk with the first failing file in walk order,
/// as a sequential parse would.
fn parse_pending(pending: &mut Vec<Pending>, report: &mut WalkReport) -> crate::Result<()> {
    let one = |p: &Pending| match &p.content {
        Content::Text(text) => parse(&p.url, &p.title, text, p.format).map(|i| (i, None)),
        Content::Pdf(bytes) => parse_pdf(&p.url, &p.title, bytes),
    };
    #[cfg(feature = "parallel")]
    let parsed: Vec<crate::Result<(Ingested, Option<String>)>> = {
        use rayon::prelude::*;
        pending.par_iter().map(one).collect()
    };
    #[cfg(not(feature = "parallel"))]
    let parsed: Vec<crate::Result<(Ingested, Option<String>)>> = pending.iter().map(one).collect();
    for (p, parsed) in pending.drain(..).zip(parsed) {
        let (outcome, note) = parsed?;
        if p.format == Format::Pdf {
            if let Some(w) = pdf_note(&outcome, note.as_deref()) {
                report.warnings.push(format!("{}: {w}", p.path.display()));
            }
        }
        report.files.push(WalkedFile {
            path: p.path,
            url: p.url,
            outcome,
            content_hash: p.content_hash,
            encoding: p.encoding,
            canonical: p.canonical,
        });
    }
    Ok(())
}

/// `base` and `rel` joined with exactly one `/` (just `rel` when `base` is empty).
fn join_url(base: &str, rel: &str) -> String {
    if base.is_empty() {
        rel.to_string()
    } else {
        format!("{}/{}", base.trim_end_matches('/'), rel.trim_start_matches('/'))
    }
}

/// The title used when the content has none: the file stem, or for `index.*` the parent
/// directory's name when there is one.
fn fallback_title(path: &Path) -> String {
    let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    if stem.eq_ignore_ascii_case("index") {
        let dir_name =
            |p: &Path| p.parent().and_then(|d| d.file_name()).map(|n| n.to_string_lossy().into_owned());
        // As given first; `./index.html` has no named parent, so ask the file system.
        let parent = dir_name(path).or_else(|| path.canonicalize().ok().and_then(|p| dir_name(&p)));
        if let Some(dir) = parent.filter(|d| !d.is_empty()) {
            return dir;
        }
    }
    stem
}

fn visit_file(
    path: &Path,
    rel: &str,
    opts: &WalkOptions,
    on_file: &mut dyn FnMut(&Path),
    report: &mut WalkReport,
    seen: &mut HashMap<String, String>,
    pending: &mut Vec<Pending>,
) -> crate::Result<()> {
    let Some(format) = Format::from_path(rel) else {
        report.unsupported += 1;
        return Ok(());
    };
    on_file(path);
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let utf16 = matches!(bytes.get(..2), Some([0xFF, 0xFE] | [0xFE, 0xFF]));
    let binary = format != Format::Pdf && !utf16;
    if let Some(at) = super::binary_offset(&bytes).filter(|_| binary) {
        report.warnings.push(format!("{}: {}; skipped", path.display(), super::binary_reason(at)));
        return Ok(());
    }
    let url = join_url(&opts.base_url, rel);
    let content_hash = crate::embed::fingerprint(&bytes);
    if let Some(first) = seen.get(&content_hash) {
        report.duplicates += 1;
        report.duplicate_of.push((url, first.clone()));
        return Ok(());
    }
    seen.insert(content_hash.clone(), url.clone());
    if format == Format::Pdf {
        pending.push(Pending {
            path: path.to_path_buf(),
            url,
            title: fallback_title(path),
            content: Content::Pdf(bytes),
            format,
            content_hash,
            encoding: "UTF-8",
            canonical: None,
        });
        return parse_full_batch(pending, report);
    }
    let decoded = decode(&bytes, format);
    drop(bytes);
    if let Some(note) = decoded.note() {
        report.warnings.push(format!("{}: {note}", path.display()));
    }
    let canonical = (format == Format::Html).then(|| head(decoded.text.as_bytes()).canonical).flatten();
    pending.push(Pending {
        path: path.to_path_buf(),
        url,
        title: fallback_title(path),
        content: Content::Text(decoded.text),
        format,
        content_hash,
        encoding: decoded.encoding,
        canonical,
    });
    parse_full_batch(pending, report)
}

/// Bytes of pending content (text or PDF bytes) that also make a batch: 64 PDFs at once could
/// hold gigabytes.
const PARSE_BATCH_BYTES: usize = 256 << 20;

/// Parses the pending files once there is a batch of them ([`PARSE_BATCH`] files or
/// [`PARSE_BATCH_BYTES`] bytes).
fn parse_full_batch(pending: &mut Vec<Pending>, report: &mut WalkReport) -> crate::Result<()> {
    let bytes: usize = pending
        .iter()
        .map(|p| match &p.content {
            Content::Text(t) => t.len(),
            Content::Pdf(b) => b.len(),
        })
        .sum();
    if pending.len() >= PARSE_BATCH || bytes >= PARSE_BATCH_BYTES {
        parse_pending(pending, report)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::join_url;

    #[test]
    fn url_join_has_one_slash() {
        assert_eq!(join_url("", "a/b.md"), "a/b.md");
        assert_eq!(join_url("https://x/docs/", "a.md"), "https://x/docs/a.md");
        assert_eq!(join_url("https://x/docs", "a.md"), "https://x/docs/a.md");
        assert_eq!(join_url("/docs/", "/a.md"), "/docs/a.md");
    }
}
