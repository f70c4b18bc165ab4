//! Search structures: the dense vector index and the BM25 lexical index.
//!
//! Owns: storing vectors and postings and finding the nearest ones. Must not: embed text, fuse
//! rankings or decide relevance; that is `retrieve`.
//!
//! `rows` (int8 rows and their arithmetic) is imported by `dense` (the index callers use) and by
//! `hnsw` (the graph `dense` builds above `flat_threshold` rows); `hnsw` does not import `dense`.
//! `idist` (instant-distance's graph over the same rows, cargo feature `instant-distance`) is the
//! other graph `dense` can build; it imports `rows` only.
//! `rows`, `hnsw` and `idist` are internal: `dense` re-exports what callers need of them. `ivf` (the
//! partitioned layout of the fragmented site index) scores with `dense`'s query and rules, so its
//! scores are the dense index's; `signs` (sign codes of IVF residuals) lets the ranged partitions
//! of large sites pick the rows worth fetching whole.
//!
//! Design: `docs/design.md`, "From a page to a prompt", step 4, and why the graph is docent's own.

pub mod bm25;
pub mod dense;
pub(crate) mod hnsw;
#[cfg(feature = "instant-distance")]
pub(crate) mod idist;
pub mod ivf;
pub(crate) mod rows;
pub(crate) mod signs;
