//! Text fragments: the records of consecutive chunks, grouped by page.
//!
//! A pack holds the chunks `[first[i], first[i+1])` of the manifest's [`TextTable`]: per chunk its
//! `url#anchor`, page title, heading path and text, and no chunk id, so an unchanged run of pages
//! gives the same pack bytes (and name) whatever changed before it.
//!
//! Boundaries are content-defined: a pack ends after a page once it holds at least
//! [`PACK_MIN`] bytes and the page's url hashes to 0 mod 4, or once it holds [`PACK_MAX`]; a page
//! longer than that is split between chunks. An edit to one page thus changes its pack and at most
//! the packs up to the next cut that depends only on unchanged pages. Both sizes double while more
//! than [`MAX_PACKS`] packs would result.

use serde::{Deserialize, Serialize};

use super::table::{open_fragment, seal_fragment, FragmentKind, TextTable};
use super::Files;
use crate::{Error, Result};

/// Bytes after which a pack may end at a page boundary chosen by the page's url. 4 KiB.
pub const PACK_MIN: usize = 4 * 1024;

/// Bytes at which a pack ends whatever the page (a chunk is never split, so a pack exceeds it
/// only when a single chunk does). 12 KiB.
pub const PACK_MAX: usize = 12 * 1024;

/// Packs per index, at most about this many.
pub const MAX_PACKS: usize = 1000;

/// One chunk as a text pack stores it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(super) struct Record {
    /// `url#anchor` of the chunk.
    pub url: String,
    /// The page title.
    pub title: String,
    /// The heading path, ` > `-joined.
    pub heading: String,
    /// The chunk text.
    pub text: String,
}

impl Record {
    fn size(&self) -> usize {
        self.url.len() + self.title.len() + self.heading.len() + self.text.len() + 8
    }
}

/// Cuts `records` (live chunks in id order, each with its page url) into packs.
pub(super) fn write(records: Vec<(String, Record)>) -> Result<(TextTable, Files)> {
    let total: usize = records.iter().map(|r| r.1.size()).sum();
    let mut scale = 1;
    while total / (PACK_MIN * scale) > MAX_PACKS {
        scale *= 2;
    }
    let (min, max) = (PACK_MIN * scale, PACK_MAX * scale);
    let mut table = TextTable { first: Vec::new(), files: Vec::new(), bytes: Vec::new() };
    let mut files = Vec::new();
    let mut pack: Vec<Record> = Vec::new();
    let mut size = 0;
    let mut next_id = 0u32;
    let mut flush = |pack: &mut Vec<Record>, size: &mut usize, end: u32| -> Result<()> {
        if pack.is_empty() {
            return Ok(());
        }
        let start = end - pack.len() as u32;
        let (name, bytes) = seal_fragment(FragmentKind::Text, &std::mem::take(pack))?;
        table.first.push(start);
        table.files.push(name.clone());
        table.bytes.push(bytes.len() as u64);
        files.push((name, bytes));
        *size = 0;
        Ok(())
    };
    let n = records.len();
    let mut it = records.into_iter().peekable();
    while let Some((page, rec)) = it.next() {
        let s = rec.size();
        if size > 0 && size + s > max {
            flush(&mut pack, &mut size, next_id)?;
        }
        pack.push(rec);
        size += s;
        next_id += 1;
        let page_ends = it.peek().is_none_or(|(p, _)| *p != page);
        if page_ends && (size >= max || (size >= min && xxhash_rust::xxh3::xxh3_64(page.as_bytes()) % 4 == 0))
        {
            flush(&mut pack, &mut size, next_id)?;
        }
    }
    flush(&mut pack, &mut size, next_id)?;
    debug_assert_eq!(next_id as usize, n);
    Ok((table, files))
}

/// The chunk range `[start, end)` of pack `i`.
pub(super) fn range(table: &TextTable, i: usize, chunks: usize) -> (u32, u32) {
    let end = table.first.get(i + 1).copied().unwrap_or(chunks as u32);
    (table.first[i], end)
}

/// The pack holding chunk `id`.
pub(super) fn pack_of(table: &TextTable, id: u32) -> usize {
    table.first.partition_point(|&f| f <= id).saturating_sub(1)
}

/// Decodes and checks pack `i` of `table` fetched as `path`: exactly one record per chunk of its
/// range. Errors name `path`.
pub(super) fn open(
    path: &str,
    bytes: &[u8],
    table: &TextTable,
    i: usize,
    chunks: usize,
) -> Result<Vec<Record>> {
    let records: Vec<Record> = open_fragment(path, bytes, table.bytes[i], FragmentKind::Text)?;
    let (start, end) = range(table, i, chunks);
    if records.len() != (end - start) as usize {
        return Err(Error::format(
            path,
            format!(
                "text pack {i} holds {} chunks, but the manifest gives it chunks {start}..{end}",
                records.len()
            ),
        ));
    }
    Ok(records)
}
