//! The fragmented site index: the same built index as `index.bin`, cut into small content-hashed
//! files that a reader fetches per question (a static site's `<docent-ask>`, or the CLI from a
//! folder).
//!
//! Owns: the [`FragmentSource`] trait (where fragment bytes come from: files for the CLI, `fetch`
//! in the wasm edge, memory in tests) with [`block_on`] for sources that never wait and
//! [`MemorySource`]; the fragment container (header, kind, checksum = file name, `table.rs`); the
//! manifest's `"fragments"` object ([`FragmentTable`]); the writer ([`write_fragments`],
//! `write.rs`); the reader ([`SiteIndex`], `read.rs`) with lexical term shards (`lexical.rs`),
//! text packs, whole or read by byte ranges on large sites (`text.rs`), and IVF partitions,
//! whole (`dense.rs`) or ranged (`dense_ranged.rs`), and its fetch counts ([`FetchStats`]).
//! Must not: do I/O itself (a source does), know about JavaScript or HTTP, or rank differently
//! from the engine: scoring, fusion, the gate and the choice of hits shown are the engine's own
//! functions (`index::bm25`, `retrieve`), called here on fragment data.
//!
//! # Why fragments
//! A reader asking one question needs the postings of its few terms, the text of its top hits and,
//! for the dense path, a few IVF partitions: kilobytes, not the whole index. Every fragment is
//! named by the xxh3-64 of its bytes, so a CDN may cache it forever, a re-index rewrites only what
//! changed, and a fragment that does not match its name (damaged, or from another build) is
//! refused, naming itself. A question costs at most three sequential fetch stages after the
//! manifest: term shards (and the IVF centroids / partitions), then text packs. The ranged
//! layout of large sites takes two for the terms (shard heads, then postings) and one for the
//! text (the records of the hits shown, located and chosen by the places the postings carry,
//! `choose.rs`; their entries first for a hit without a place), and a hybrid question one more
//! for the int8 rows of its best candidates (`dense_ranged.rs`: their sign codes come with the
//! postings).
//!
//! Design: `docs/design.md`, "The fragmented index".

use std::cell::Cell;
use std::collections::BTreeMap;
use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

mod choose;
mod conversation;
mod dense;
mod dense_ranged;
mod lexical;
mod read;
mod table;
mod text;
pub(crate) mod write;

pub use dense::DenseLayout;
pub use dense_ranged::{ranged_nlist, LEXICAL_RESCORE, RANGED_NPROBE, RESCORE};
pub use lexical::{MAX_POSTINGS, MAX_SHARDS, SHARD_BYTES};
pub use read::{Lookup, SiteIndex};
pub use table::{
    fragment_name, open_fragment, seal_fragment, Bm25Stats, CommonFile, DenseTable, FragmentKind,
    FragmentTable, LexicalTable, TextTable, FRAGMENTS_DIR, FRAGMENT_MAGIC, FRAGMENT_VERSION,
    FRAGMENT_VERSION_OLDEST,
};
pub use text::{Ranges, MAX_PACKS, MAX_RANGED_PACKS, PACK_MAX, PACK_MIN, RANGED_PACK_MAX, RANGED_PACK_MIN};
pub use write::{write_fragments, write_fragments_with, Fragments, Layout, FILE_BUDGET};

/// Fragment files as the writer makes them: (path relative to the index folder, bytes).
pub type Files = Vec<(String, Vec<u8>)>;

/// Where fragments come from: files (the CLI), `fetch` (the wasm edge), memory (tests).
///
/// Paths are relative to the index folder, `/`-separated, as the manifest names them (e.g.
/// `fragments/lex-0123456789abcdef.bin`). The reader verifies every fragment it gets (size,
/// checksum, header), so a source only moves bytes.
#[allow(async_fn_in_trait)]
pub trait FragmentSource {
    /// The bytes of every named path, in the order given. Implementations should start all
    /// requests before awaiting any (one question's fragments of one stage come in one call).
    /// Errors name the path that failed (e.g. `fragments/lex-…bin: HTTP 404`).
    async fn fetch(&self, paths: &[String]) -> Result<Vec<Vec<u8>>>;

    /// The bytes `[start, end)` of each span's file, in the order given (ranged text packs);
    /// started together like [`FragmentSource::fetch`]. A source may return fewer bytes when the
    /// file is shorter (the reader refuses that, naming the file). The default fetches each file
    /// whole and cuts it (correct for any source, but it moves the whole files).
    async fn fetch_ranges(&self, spans: &[Span]) -> Result<Vec<Vec<u8>>> {
        let paths: Vec<String> = spans.iter().map(|s| s.path.clone()).collect();
        let whole = self.fetch(&paths).await?;
        Ok(spans.iter().zip(whole).map(|(s, w)| cut(&w, s.start, s.end).to_vec()).collect())
    }
}

/// A byte range `[start, end)` of a fragment file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Span {
    /// The file, as the manifest names it.
    pub path: String,
    /// First byte.
    pub start: u64,
    /// One past the last byte (`end > start`).
    pub end: u64,
}

/// `bytes[start..end]`, shortened to what `bytes` holds (empty when `start >= end`).
pub fn cut(bytes: &[u8], start: u64, end: u64) -> &[u8] {
    let len = bytes.len() as u64;
    let a = start.min(len);
    &bytes[a as usize..end.clamp(a, len) as usize]
}

/// Runs `f` to completion on this thread, for sources that never wait (files, memory): it polls
/// with a waker that does nothing, and panics only if the future returns `Pending` forever
/// (never for those sources; do not use it with a network source).
pub fn block_on<F: Future>(f: F) -> F::Output {
    let mut cx = Context::from_waker(Waker::noop());
    let mut f = pin!(f);
    // A source that never waits resolves on the first poll; a few more polls cover futures that
    // yield once without registering a wake-up.
    for _ in 0..1_000_000 {
        if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
    }
    panic!("block_on: the future is still pending after 1,000,000 polls; it needs a real executor")
}

/// Runs two futures together (their requests go out at once) and returns both outputs.
pub(crate) async fn join<A: Future, B: Future>(a: A, b: B) -> (A::Output, B::Output) {
    let (mut a, mut b) = (pin!(a), pin!(b));
    let (mut ra, mut rb) = (None, None);
    std::future::poll_fn(move |cx| {
        if ra.is_none() {
            if let Poll::Ready(v) = a.as_mut().poll(cx) {
                ra = Some(v);
            }
        }
        if rb.is_none() {
            if let Poll::Ready(v) = b.as_mut().poll(cx) {
                rb = Some(v);
            }
        }
        if ra.is_some() && rb.is_some() {
            Poll::Ready((
                ra.take().unwrap_or_else(|| unreachable!()),
                rb.take().unwrap_or_else(|| unreachable!()),
            ))
        } else {
            Poll::Pending
        }
    })
    .await
}

/// Fragments held in memory, for tests and for reading a folder already loaded: path → bytes.
/// Counts its [`FragmentSource::fetch`] calls and the paths asked for.
#[derive(Debug, Default)]
pub struct MemorySource {
    files: BTreeMap<String, Vec<u8>>,
    calls: Cell<usize>,
    asked: std::cell::RefCell<Vec<String>>,
    spans: std::cell::RefCell<Vec<Span>>,
    batches: std::cell::RefCell<Vec<usize>>,
}

impl MemorySource {
    /// A source over `files` (path, bytes).
    pub fn new(files: impl IntoIterator<Item = (String, Vec<u8>)>) -> MemorySource {
        MemorySource { files: files.into_iter().collect(), ..MemorySource::default() }
    }

    /// Adds or replaces the file at `path`.
    pub fn insert(&mut self, path: impl Into<String>, bytes: Vec<u8>) {
        self.files.insert(path.into(), bytes);
    }

    /// Removes the file at `path` (a later fetch of it fails), returning its bytes.
    pub fn remove(&mut self, path: &str) -> Option<Vec<u8>> {
        self.files.remove(path)
    }

    /// The file at `path`, if held.
    pub fn get_mut(&mut self, path: &str) -> Option<&mut Vec<u8>> {
        self.files.get_mut(path)
    }

    /// Calls of [`FragmentSource::fetch`] so far.
    pub fn calls(&self) -> usize {
        self.calls.get()
    }

    /// Every path asked for so far, in order (repeats included; a ranged read adds its path).
    pub fn asked(&self) -> Vec<String> {
        self.asked.borrow().clone()
    }

    /// Every span asked for so far by [`FragmentSource::fetch_ranges`], in order.
    pub fn spans(&self) -> Vec<Span> {
        self.spans.borrow().clone()
    }

    /// The spans of each [`FragmentSource::fetch_ranges`] call so far, a list per call, in order.
    pub fn span_batches(&self) -> Vec<Vec<Span>> {
        let spans = self.spans.borrow();
        let mut at = 0;
        self.batches
            .borrow()
            .iter()
            .map(|&n| {
                at += n;
                spans[at - n..at].to_vec()
            })
            .collect()
    }
}

impl FragmentSource for MemorySource {
    async fn fetch(&self, paths: &[String]) -> Result<Vec<Vec<u8>>> {
        self.calls.set(self.calls.get() + 1);
        self.asked.borrow_mut().extend(paths.iter().cloned());
        paths
            .iter()
            .map(|p| {
                self.files.get(p).cloned().ok_or_else(|| {
                    Error::io(p, std::io::Error::new(std::io::ErrorKind::NotFound, "no such fragment"))
                })
            })
            .collect()
    }

    async fn fetch_ranges(&self, spans: &[Span]) -> Result<Vec<Vec<u8>>> {
        self.calls.set(self.calls.get() + 1);
        self.asked.borrow_mut().extend(spans.iter().map(|s| s.path.clone()));
        self.spans.borrow_mut().extend(spans.iter().cloned());
        self.batches.borrow_mut().push(spans.len());
        spans
            .iter()
            .map(|s| match self.files.get(&s.path) {
                Some(f) => Ok(cut(f, s.start, s.end).to_vec()),
                None => Err(Error::io(
                    &s.path,
                    std::io::Error::new(std::io::ErrorKind::NotFound, "no such fragment"),
                )),
            })
            .collect()
    }
}

/// What a [`SiteIndex`] fetched so far (the manifest it was opened from is not counted).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FetchStats {
    /// Fetch calls ([`FragmentSource::fetch`] or [`FragmentSource::fetch_ranges`]), each a batch
    /// of fragments or byte ranges requested together.
    pub requests: usize,
    /// Fetch stages: calls one after another, calls sent together counting once (a ranged
    /// site's shard heads and its IVF directory; a missing term's spellings and the gate's
    /// common words). A lexical question takes 1–2 on whole files and 3 on the ranged layout
    /// (heads, postings, records), one more for a term the site lacks (the heads of its
    /// spellings) or a hit whose record has no place in the postings (its pack entry first); a
    /// hybrid question one more for the int8 rows of its best candidates.
    pub stages: usize,
    /// Fragment files and byte ranges fetched (each one HTTP request in a browser).
    pub fragments: usize,
    /// Their bytes, as stored (before any HTTP compression).
    pub bytes: u64,
}
