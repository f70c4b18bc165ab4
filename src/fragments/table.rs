//! The fragment container and the manifest's `"fragments"` object.
//!
//! A fragment file is `DOCFRAG1` (8 bytes), one kind byte ([`FragmentKind`]), then a postcard
//! payload (a ranged text pack: its own layout, see `text.rs`). Its name is
//! `fragments/<kind>-<h>.bin` where `<h>` is the xxh3-64 of the whole file (16 lowercase hex
//! digits, [`crate::embed::fingerprint`]): the name is the checksum.

use serde::{Deserialize, Serialize};

use crate::embed::fingerprint;
use crate::index::bm25::Bm25Params;
use crate::retrieve::RetrieveOptions;
use crate::{Error, Result};

/// The first 8 bytes of every fragment.
pub const FRAGMENT_MAGIC: &[u8; 8] = b"DOCFRAG1";

/// The newest version of the `"fragments"` object and of the fragment payloads this build reads
/// and writes; it reads [`FRAGMENT_VERSION_OLDEST`] onwards (version 2 has no ranged text packs
/// or term shards, version 3 no ranged IVF partitions, version 4 no record places in ranged
/// term shards). The writer writes the oldest version that holds the index: 5 with places in
/// ranged shards, 4 with ranged IVF partitions, else 3, so an older reader still reads every
/// index without them.
pub const FRAGMENT_VERSION: u32 = 5;

/// The oldest `"fragments"` version this build reads.
pub const FRAGMENT_VERSION_OLDEST: u32 = 2;

/// The folder of the fragments inside the index folder.
pub const FRAGMENTS_DIR: &str = "fragments";

/// What a fragment holds (its kind byte and file-name prefix).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FragmentKind {
    /// BM25 term shard (`lex`, byte 1).
    Lexical = 1,
    /// Text pack: chunk records (`txt`, byte 2).
    Text = 2,
    /// IVF centroids (`ivf`, byte 3).
    Centroids = 3,
    /// IVF partition: int8 rows (`vec`, byte 4).
    Partition = 4,
    /// Text pack read by byte ranges, a record at a time (`txt`, byte 5): for large sites.
    RangedText = 5,
    /// Term shard read by byte ranges: its head, then the postings of the terms a question uses
    /// (`lex`, byte 6): for large sites.
    RangedLexical = 6,
    /// The calibrated gate's common words (`cmn`, byte 7): a Bloom filter fetched only by a
    /// question with a term the site lacks.
    Common = 7,
    /// Many IVF partitions, each its rows' sign codes then their int8 rows, read by byte ranges
    /// (`vec`, byte 8): for large sites.
    RangedPartition = 8,
    /// IVF centroids with the directory of ranged partitions (`ivf`, byte 9).
    RangedCentroids = 9,
}

impl FragmentKind {
    /// The file-name prefix: `lex` (both kinds of term shard), `txt` (both kinds of text pack),
    /// `ivf`, `vec` or `cmn`.
    pub fn prefix(self) -> &'static str {
        match self {
            FragmentKind::Lexical | FragmentKind::RangedLexical => "lex",
            FragmentKind::Text | FragmentKind::RangedText => "txt",
            FragmentKind::Centroids | FragmentKind::RangedCentroids => "ivf",
            FragmentKind::Partition | FragmentKind::RangedPartition => "vec",
            FragmentKind::Common => "cmn",
        }
    }

    /// What a fragment of this kind is, in words (for messages).
    pub fn describe(self) -> &'static str {
        match self {
            FragmentKind::Lexical => "term shard",
            FragmentKind::RangedLexical => "ranged term shard",
            FragmentKind::Text => "text pack",
            FragmentKind::RangedText => "ranged text pack",
            FragmentKind::Centroids => "IVF centroids",
            FragmentKind::Partition => "IVF partition",
            FragmentKind::RangedPartition => "ranged IVF partitions",
            FragmentKind::RangedCentroids => "IVF directory",
            FragmentKind::Common => "common-word filter",
        }
    }

    fn from_byte(b: u8) -> Option<FragmentKind> {
        Some(match b {
            1 => FragmentKind::Lexical,
            2 => FragmentKind::Text,
            3 => FragmentKind::Centroids,
            4 => FragmentKind::Partition,
            5 => FragmentKind::RangedText,
            6 => FragmentKind::RangedLexical,
            7 => FragmentKind::Common,
            8 => FragmentKind::RangedPartition,
            9 => FragmentKind::RangedCentroids,
            _ => return None,
        })
    }
}

/// `fragments/<prefix>-<xxh3 of bytes>.bin`.
pub fn fragment_name(kind: FragmentKind, bytes: &[u8]) -> String {
    format!("{FRAGMENTS_DIR}/{}-{}.bin", kind.prefix(), fingerprint(bytes))
}

/// The file bytes of a fragment of `kind` holding `payload` (serialised with postcard), and its
/// name ([`fragment_name`]).
pub fn seal_fragment<T: Serialize>(kind: FragmentKind, payload: &T) -> Result<(String, Vec<u8>)> {
    let body = postcard::to_allocvec(payload)
        .map_err(|e| Error::format(format!("{} fragment", kind.prefix()), format!("cannot encode: {e}")))?;
    Ok(seal_body(kind, &body))
}

/// The file bytes of a fragment of `kind` whose payload is `body` as is, and its name.
pub(super) fn seal_body(kind: FragmentKind, body: &[u8]) -> (String, Vec<u8>) {
    let mut bytes = Vec::with_capacity(FRAGMENT_HEADER + body.len());
    bytes.extend_from_slice(FRAGMENT_MAGIC);
    bytes.push(kind as u8);
    bytes.extend_from_slice(body);
    (fragment_name(kind, &bytes), bytes)
}

/// Bytes before a fragment's payload: the magic and the kind byte.
pub(super) const FRAGMENT_HEADER: usize = 9;

/// The error for fragment bytes that are not what the manifest names.
pub(super) const DAMAGED: &str =
    "the manifest and the fragments come from different builds, or the file was damaged";

/// Checks the fragment `bytes` fetched as `path` (the manifest's name for it, `expected_bytes`
/// long) and decodes its payload. Errors, each naming `path`: the size differs from the
/// manifest's (truncated or grown), the content does not hash to the name (another build, or
/// damaged), the header is not `DOCFRAG1` with the expected kind, or the payload is malformed.
pub fn open_fragment<T: for<'de> Deserialize<'de>>(
    path: &str,
    bytes: &[u8],
    expected_bytes: u64,
    kind: FragmentKind,
) -> Result<T> {
    let damaged = DAMAGED;
    if bytes.len() as u64 != expected_bytes {
        return Err(Error::format(
            path,
            format!(
                "{} of {} bytes, but the manifest says {expected_bytes} bytes: {damaged}",
                kind.describe(),
                bytes.len()
            ),
        ));
    }
    let expected = name_hash(path).unwrap_or_default();
    let found = fingerprint(bytes);
    if expected != found {
        return Err(Error::format(
            path,
            format!("content does not match its name (expected xxh3 {expected}, found {found}): {damaged}"),
        ));
    }
    if bytes.len() < 9 || &bytes[..8] != FRAGMENT_MAGIC {
        return Err(Error::format(path, "not a docent fragment (no DOCFRAG1 header)"));
    }
    match FragmentKind::from_byte(bytes[8]) {
        Some(k) if k == kind => {}
        _ => {
            return Err(Error::format(
                path,
                format!(
                    "fragment kind byte {} where a {} (kind {}) was expected",
                    bytes[8],
                    kind.describe(),
                    kind as u8
                ),
            ))
        }
    }
    let (value, rest): (T, &[u8]) = postcard::take_from_bytes(&bytes[9..])
        .map_err(|e| Error::format(path, format!("malformed {}: {e}", kind.describe())))?;
    if !rest.is_empty() {
        return Err(Error::format(
            path,
            format!("{} trailing bytes after the {}", rest.len(), kind.describe()),
        ));
    }
    Ok(value)
}

/// The `<h>` of `…-<h>.bin`, when the name has that shape.
fn name_hash(path: &str) -> Option<&str> {
    let stem = path.strip_suffix(".bin")?;
    let (_, h) = stem.rsplit_once('-')?;
    (h.len() == 16 && h.bytes().all(|c| c.is_ascii_hexdigit())).then_some(h)
}

/// The manifest's `"fragments"` object: everything a reader needs before its first fetch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FragmentTable {
    /// Always [`FRAGMENT_VERSION`] when written; a reader refuses other versions.
    pub version: u32,
    /// Live chunks, numbered 0..chunks in engine order (removed documents left out).
    pub chunks: usize,
    /// Live documents.
    pub documents: usize,
    /// The BM25 statistics every shard scores with.
    pub bm25: Bm25Stats,
    /// The index's retrieval options (fusion, gate, per-page limit).
    pub retrieve: RetrieveOptions,
    /// The term shards.
    pub lexical: LexicalTable,
    /// The text packs.
    pub text: TextTable,
    /// The IVF layout of the vectors; `None` for an index without dense rows.
    pub dense: Option<DenseTable>,
    /// The gate calibrated on the site at index time ([`crate::gate::SiteGate`] as JSON, kept
    /// as a value so that a gate of another version is ignored, not refused); absent in
    /// manifests written before calibrated gates, or for corpora too small to calibrate on: the
    /// fixed per-embedder gate decides then.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gate: Option<serde_json::Value>,
    /// The gate's common words ([`crate::gate::CommonWords`]), kept out of the manifest (about
    /// 17 kB that every reader would fetch) in a fragment that only a question with a term the
    /// site lacks fetches. Absent without a calibrated gate with common words (and before
    /// version 3, when they were in `gate`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub common: Option<CommonFile>,
}

/// The common-words fragment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CommonFile {
    /// Its path (`fragments/cmn-<h>.bin`).
    pub file: String,
    /// Its size in bytes.
    pub bytes: u64,
}

/// Corpus-wide BM25F statistics over live chunks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Bm25Stats {
    /// The index's BM25F parameters. The shards' postings already carry each chunk's
    /// field-weighted, length-normalised frequency, so the reader needs only `k1`; the rest says
    /// how they were computed.
    #[serde(flatten)]
    pub params: Bm25Params,
    /// Live chunks (BM25's N).
    pub live_docs: u32,
    /// Per field (title, heading path, body), the sum of the live chunks' analyzed lengths
    /// (informative).
    pub live_tokens: [u64; 3],
}

impl Bm25Stats {
    /// The BM25F parameters.
    pub fn params(&self) -> Bm25Params {
        self.params.clone()
    }
}

/// The term shards: shard `i` holds the terms in `[first[i], first[i+1])` (byte order).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LexicalTable {
    /// Whether the shards are ranged (a head, then postings read per term by byte ranges; large
    /// sites). Absent (false) before version 3.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub ranged: bool,
    /// Ranged shards only: whether a term's postings are followed by the places of its best
    /// postings' records in the ranged text packs (`lexical.rs`). Absent (false) before version 5.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub located: bool,
    /// Ranged shards only: each shard's head length in bytes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub heads: Vec<u32>,
    /// Ranged shards only: each shard's seed (16 hex digits, the xxh3-64 of its postings), with
    /// which its head and postings checks are mixed (xor).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub seeds: Vec<String>,
    /// The first term of each shard, ascending; `first[0]` is `""`.
    pub first: Vec<String>,
    /// The shard files, one per entry of `first`.
    pub files: Vec<String>,
    /// Their sizes in bytes.
    pub bytes: Vec<u64>,
}

/// The text packs: pack `i` holds the records of chunks `[first[i], first[i+1])` (the last up
/// to `chunks`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TextTable {
    /// Whether the packs are ranged text packs, read a record at a time with HTTP range
    /// requests (large sites), rather than fetched whole. Absent (false) before version 3.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub ranged: bool,
    /// Ranged packs only: each pack's seed (16 hex digits, the xxh3-64 of its record area), with
    /// which every record's check is mixed (xor), so that records check only against this manifest.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub seeds: Vec<String>,
    /// The first chunk id of each pack, ascending from 0.
    pub first: Vec<u32>,
    /// The pack files, one per entry of `first`.
    pub files: Vec<String>,
    /// Their sizes in bytes.
    pub bytes: Vec<u64>,
}

/// The IVF layout of the dense rows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DenseTable {
    /// Vector dimension (the embedder's).
    pub dim: usize,
    /// Partitions probed per query by default (1..=files.len()).
    pub nprobe: usize,
    /// The centroids file.
    pub centroids: String,
    /// Its size in bytes.
    pub centroid_bytes: u64,
    /// The partition files, in centroid order.
    pub files: Vec<String>,
    /// Their sizes in bytes.
    pub bytes: Vec<u64>,
    /// Whether the partitions are ranged (sign codes, then int8 rows read by byte ranges; large
    /// sites): `centroids` is then the directory and `files` hold many partitions each. Absent
    /// (false) before version 4.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub ranged: bool,
    /// Ranged partitions only: whether each fine row carries its record's place in the ranged
    /// text packs (`dense_ranged.rs`). Absent (false) before version 5.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub located: bool,
    /// Ranged layout only: the number of partitions (whole partitions: one per file).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub partitions: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

impl DenseTable {
    /// The number of partitions.
    pub fn partition_count(&self) -> usize {
        if self.ranged {
            self.partitions
        } else {
            self.files.len()
        }
    }
}

impl FragmentTable {
    /// Every fragment file the table names, with its size: the shards, packs, centroids,
    /// partitions and common words.
    pub fn files(&self) -> Vec<(&str, u64)> {
        let mut out: Vec<(&str, u64)> = Vec::new();
        out.extend(self.lexical.files.iter().map(String::as_str).zip(self.lexical.bytes.iter().copied()));
        out.extend(self.text.files.iter().map(String::as_str).zip(self.text.bytes.iter().copied()));
        if let Some(d) = &self.dense {
            out.push((d.centroids.as_str(), d.centroid_bytes));
            out.extend(d.files.iter().map(String::as_str).zip(d.bytes.iter().copied()));
        }
        if let Some(c) = &self.common {
            out.push((c.file.as_str(), c.bytes));
        }
        out
    }

    /// Checks the table's own consistency, so the reader can index with it: the version, one
    /// file and size per shard/pack/partition, `lexical.first` starting at `""` and strictly
    /// ascending, `text.first` starting at 0, strictly ascending and below `chunks`, BM25
    /// statistics that agree with `chunks`, and plain fragment paths. `what` names the manifest.
    pub fn check(&self, what: &str) -> Result<()> {
        let bad = |reason: String| Err(Error::format(format!("{what}, field 'fragments'"), reason));
        if !(FRAGMENT_VERSION_OLDEST..=FRAGMENT_VERSION).contains(&self.version) {
            return Err(Error::UnsupportedVersion {
                what: format!("{what}, field 'fragments'"),
                found: self.version,
                supported: format!("{FRAGMENT_VERSION_OLDEST} to {FRAGMENT_VERSION}"),
            });
        }
        if self.version < 3 && self.text.ranged {
            return bad(format!("text: ranged packs need version 3, the table says {}", self.version));
        }
        let hex16 = |s: &String| s.len() == 16 && s.bytes().all(|c| c.is_ascii_hexdigit());
        if self.version < 3 && self.lexical.ranged {
            return bad(format!("lexical: ranged shards need version 3, the table says {}", self.version));
        }
        let l = &self.lexical;
        if l.located && (self.version < 5 || !l.ranged || !self.text.ranged) {
            return bad(format!(
                "lexical: record places need version 5, ranged shards and ranged text packs; the table says version {}",
                self.version
            ));
        }
        if l.ranged
            && (l.heads.len() != l.files.len()
                || l.seeds.len() != l.files.len()
                || !l.seeds.iter().all(hex16))
        {
            return bad(format!(
                "lexical: {} head lengths and {} seeds for {} ranged shards; expected one of each per shard",
                l.heads.len(),
                l.seeds.len(),
                l.files.len()
            ));
        }
        if self.text.ranged
            && (self.text.seeds.len() != self.text.files.len() || !self.text.seeds.iter().all(hex16))
        {
            return bad(format!(
                "text: {} seeds for {} ranged packs; expected one of 16 hex digits per pack",
                self.text.seeds.len(),
                self.text.files.len()
            ));
        }
        let l = &self.lexical;
        if l.first.len() != l.files.len() || l.files.len() != l.bytes.len() {
            return bad(format!(
                "lexical: {} first terms, {} files and {} sizes; expected as many of each",
                l.first.len(),
                l.files.len(),
                l.bytes.len()
            ));
        }
        if l.first.first().is_some_and(|f| !f.is_empty()) || l.first.windows(2).any(|w| w[0] >= w[1]) {
            return bad("lexical: first terms must start with \"\" and ascend strictly".into());
        }
        let t = &self.text;
        if t.first.len() != t.files.len() || t.files.len() != t.bytes.len() {
            return bad(format!(
                "text: {} first chunks, {} files and {} sizes; expected as many of each",
                t.first.len(),
                t.files.len(),
                t.bytes.len()
            ));
        }
        if t.first.first().is_some_and(|&f| f != 0)
            || t.first.windows(2).any(|w| w[0] >= w[1])
            || t.first.last().is_some_and(|&f| f as usize >= self.chunks)
            || (self.chunks > 0 && t.first.is_empty())
        {
            return bad(format!(
                "text: first chunks must start at 0 and ascend strictly below {}",
                self.chunks
            ));
        }
        if let Err(e) = self.bm25.params.validate() {
            return bad(format!("bm25: {e}"));
        }
        if self.bm25.live_docs as usize != self.chunks {
            return bad(format!("bm25: {} live chunks but {} chunks", self.bm25.live_docs, self.chunks));
        }
        if let Some(d) = &self.dense {
            if d.files.len() != d.bytes.len() || d.files.is_empty() {
                return bad(format!(
                    "dense: {} partition files and {} sizes; expected as many of each, at least one",
                    d.files.len(),
                    d.bytes.len()
                ));
            }
            if d.located && (self.version < 5 || !d.ranged || !self.text.ranged) {
                return bad(format!(
                    "dense: record places need version 5, ranged partitions and ranged text packs; the table says version {}",
                    self.version
                ));
            }
            if d.ranged && (self.version < 4 || d.partitions == 0) {
                return bad(format!(
                    "dense: ranged partitions need version 4 and at least one partition, the table says version {} and {} partitions",
                    self.version, d.partitions
                ));
            }
            if !(1..=d.partition_count()).contains(&d.nprobe)
                || !(1..=crate::index::dense::MAX_DIM).contains(&d.dim)
            {
                return bad(format!("dense: nprobe {} or dimension {} out of range", d.nprobe, d.dim));
            }
        }
        for (f, _) in self.files() {
            if !f.starts_with("fragments/") || name_hash(f).is_none() || !crate::site::is_plain_relative(f) {
                return bad(format!("{f:?} is not a fragment path (fragments/<kind>-<16 hex>.bin)"));
            }
        }
        Ok(())
    }
}
