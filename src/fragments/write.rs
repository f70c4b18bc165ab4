//! The writer: the fragments of a built engine.

use super::dense::{self, DenseLayout};
use super::table::{seal_fragment, Bm25Stats, CommonFile, FragmentKind, FragmentTable, FRAGMENT_VERSION};
use super::text::{Ranges, Record};
use super::{lexical, text};
use crate::engine::Docent;
use crate::{Error, Result};

/// The fragments of one build: the manifest's table and every file it names (path, bytes), in
/// the table's order.
#[derive(Debug, Clone, PartialEq)]
pub struct Fragments {
    /// The manifest's `"fragments"` object.
    pub table: FragmentTable,
    /// Every fragment file: path relative to the index folder (`fragments/…`), bytes.
    pub files: super::Files,
}

impl Fragments {
    /// Total bytes of the files.
    pub fn bytes(&self) -> u64 {
        self.files.iter().map(|f| f.1.len() as u64).sum()
    }
}

/// Fragment files per index, about at most: static hosts limit file counts (Cloudflare Pages to
/// 20,000 per site). With whole text packs the limits of each kind keep to it
/// ([`super::MAX_SHARDS`], [`super::MAX_PACKS`], 1,024 IVF partitions); with ranged packs (a
/// hundred or so files) the term shards take what the packs and partitions leave, so they stay
/// small on a large site.
pub const FILE_BUDGET: usize = 2_000;

/// How the fragments are laid out.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Layout {
    /// The IVF partitions.
    pub dense: DenseLayout,
    /// Whether text packs are read by byte ranges; default [`Ranges::Auto`] (on large sites).
    pub ranges: Ranges,
    /// Ranged layout only: term shards without their records' places (fragment version 4, for
    /// a reader older than version 5); each question then reads its hits' pack entries before
    /// their records, one fetch stage more. Default false.
    pub without_places: bool,
}

/// The fragments of `engine`'s live chunks (removed documents left out, the rest numbered 0..n in
/// engine order). Deterministic: the same index gives the same bytes and names.
///
/// Errors: the engine is not built, or has documents added since its last build
/// ([`Error::NotBuilt`]: build first, so the dense rows cover every chunk).
pub fn write_fragments(engine: &Docent) -> Result<Fragments> {
    write_fragments_with(engine, &Layout::default())
}

/// [`write_fragments`] with an explicit layout.
pub fn write_fragments_with(engine: &Docent, layout: &Layout) -> Result<Fragments> {
    let (Some(bm25), Some(dense_index)) = (engine.bm25_index(), engine.dense_index()) else {
        return Err(Error::NotBuilt);
    };
    if engine.stats().pending > 0 {
        return Err(Error::NotBuilt);
    }
    let mut ids: Vec<u32> = Vec::new();
    let mut records = Vec::new();
    let mut live_old = Vec::new();
    for (old, chunk, doc) in engine.live_chunks() {
        if ids.len() <= old as usize {
            ids.resize(old as usize + 1, u32::MAX);
        }
        ids[old as usize] = records.len() as u32;
        live_old.push(old);
        records.push((
            doc.url.clone(),
            Record {
                url: chunk.url.clone(),
                title: doc.title.clone(),
                heading: chunk.heading.clone(),
                text: chunk.text.clone(),
            },
        ));
    }
    let chunks = records.len();
    let (live_docs, live_tokens) = bm25.live_totals();
    let params = bm25.params();
    let (text_table, text_files, places) = text::write(records, layout.ranges)?;
    let places = if layout.without_places { Vec::new() } else { places };
    let (dense_table, dense_files) =
        match dense::write(dense_index, &live_old, &layout.dense, text_table.ranged, &places)? {
            Some((t, f)) => (Some(t), f),
            None => (None, Vec::new()),
        };
    let max_shards = if text_table.ranged {
        FILE_BUDGET.saturating_sub(text_files.len() + dense_files.len()).max(lexical::MAX_SHARDS)
    } else {
        lexical::MAX_SHARDS
    };
    let (lexical_table, mut files) = lexical::write(bm25, &ids, max_shards, text_table.ranged, &places)?;
    files.extend(text_files);
    files.extend(dense_files);
    let common = match engine.site_gate().and_then(|g| g.common.as_ref()) {
        Some(c) => {
            let (name, bytes) = seal_fragment(FragmentKind::Common, &(c.hashes, c.raw_bits()))?;
            let file = CommonFile { file: name.clone(), bytes: bytes.len() as u64 };
            files.push((name, bytes));
            Some(file)
        }
        None => None,
    };
    let table = FragmentTable {
        version: if lexical_table.located || dense_table.as_ref().is_some_and(|d| d.located) {
            FRAGMENT_VERSION
        } else if dense_table.as_ref().is_some_and(|d| d.ranged) {
            4
        } else {
            3
        },
        chunks,
        documents: engine.stats().documents,
        bm25: Bm25Stats { params: params.clone(), live_docs, live_tokens },
        retrieve: engine.options().retrieve.clone(),
        lexical: lexical_table,
        text: text_table,
        dense: dense_table,
        gate: gate_value(engine)?,
        common,
    };
    Ok(Fragments { table, files })
}

/// The engine's calibrated gate as the manifest's `"gate"` value (`None` without one), without
/// its common words (the table's `common` fragment holds them). Apart from the rest of the table
/// so that the field stays an optional addition.
pub(crate) fn gate_value(engine: &Docent) -> Result<Option<serde_json::Value>> {
    engine
        .site_gate()
        .map(|g| {
            let mut g = g.clone();
            g.common = None;
            serde_json::to_value(&g).map_err(|e| Error::format("manifest", format!("gate: {e}")))
        })
        .transpose()
}
