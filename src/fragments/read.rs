//! The reader: a site index opened from its manifest, searched through a [`FragmentSource`].

use std::cell::RefCell;

use super::table::FragmentTable;
use super::{FetchStats, FragmentSource};
use crate::embed::EmbedderInfo;
use crate::engine::SearchResult;
use crate::prompt::{Prompt, PromptOptions};
use crate::retrieve::RetrieveOptions;
use crate::site::Manifest;
use crate::tokens::TokenCounter;
use crate::{Error, Result};

/// How query terms are looked up in the term shards.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lookup {
    /// Typo tolerance: a query term of 5 or more letters that is not in the vocabulary is
    /// replaced by the term of its shard at edit distance 1 with the highest document frequency.
    /// Default true. Terms that exist are never replaced, so it never changes the ranking of a
    /// query whose terms all exist.
    pub typos: bool,
    /// Search as you type: the last query term also matches the terms of its shard that start
    /// with it (the [`Lookup::PREFIX_TERMS`] with the highest document frequency). Default false.
    pub prefix_last: bool,
}

impl Lookup {
    /// Terms a prefix expands to, at most.
    pub const PREFIX_TERMS: usize = 5;

    /// Exact lookup: no typo tolerance, no prefix (ranks exactly like the engine).
    pub const EXACT: Lookup = Lookup { typos: false, prefix_last: false };
}

impl Default for Lookup {
    fn default() -> Self {
        Lookup { typos: true, prefix_last: false }
    }
}

/// A site index read through fragments: the manifest plus an in-memory cache of the fragments
/// fetched so far (each is fetched at most once per `SiteIndex`).
#[derive(Debug)]
pub struct SiteIndex {
    manifest: Manifest,
    table: FragmentTable,
    stats: RefCell<FetchStats>,
}

impl SiteIndex {
    /// Opens the index described by `manifest_json` (the bytes of `manifest.json`); `what` names
    /// it in errors. Errors: not a manifest, a manifest without a `"fragments"` object (written by
    /// an older docent: re-run `docent index`), an unsupported fragment version, or an
    /// inconsistent table.
    pub fn open(manifest_json: &[u8], what: &str) -> Result<SiteIndex> {
        let manifest = Manifest::parse(manifest_json, what)?;
        let Some(table) = manifest.fragments.clone() else {
            return Err(Error::format(
                what,
                "the manifest has no \"fragments\" object (written by an older docent); re-run `docent index`",
            ));
        };
        table.check(what)?;
        Ok(SiteIndex { manifest, table, stats: RefCell::new(FetchStats::default()) })
    }

    /// The embedder that built the index: a query vector must come from it.
    pub fn embedder(&self) -> &EmbedderInfo {
        &self.manifest.embedder
    }

    /// Whether the index has dense fragments (so a query vector can be used).
    pub fn has_dense(&self) -> bool {
        self.table.dense.is_some()
    }

    /// The manifest's fragment table.
    pub fn table(&self) -> &FragmentTable {
        &self.table
    }

    /// Searches with the default [`Lookup`] (typo tolerance on). Hybrid when `vector` is given
    /// (the question embedded with the index's embedder, [`SiteIndex::embedder`]), lexical
    /// otherwise. The result has the shape of [`crate::Docent::search`]'s; a hit's `chunk` is its
    /// id among the live chunks.
    pub async fn search<S: FragmentSource>(
        &self,
        src: &S,
        query: &str,
        k: usize,
        vector: Option<&[f32]>,
        opts: &RetrieveOptions,
    ) -> Result<SearchResult> {
        self.search_with(src, query, k, vector, opts, Lookup::default()).await
    }

    /// [`SiteIndex::search`] with an explicit term [`Lookup`].
    pub async fn search_with<S: FragmentSource>(
        &self,
        src: &S,
        query: &str,
        k: usize,
        vector: Option<&[f32]>,
        opts: &RetrieveOptions,
        lookup: Lookup,
    ) -> Result<SearchResult> {
        let _ = (src, query, k, vector, opts, lookup);
        Err(Error::NotBuilt)
    }

    /// Retrieves sources for `question` (as [`SiteIndex::search`] with the index's retrieval
    /// options and `opts.k`) and assembles a grounded prompt, counting tokens with `counter`.
    pub async fn assemble<S: FragmentSource>(
        &self,
        src: &S,
        question: &str,
        vector: Option<&[f32]>,
        counter: &TokenCounter,
        opts: &PromptOptions,
    ) -> Result<Prompt> {
        let _ = (src, question, vector, counter, opts);
        Err(Error::NotBuilt)
    }

    /// What was fetched so far.
    pub fn fetched(&self) -> FetchStats {
        *self.stats.borrow()
    }
}
