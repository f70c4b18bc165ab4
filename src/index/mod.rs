//! Search structures: the dense vector index and the BM25 lexical index.
//!
//! Owns: storing vectors and postings and finding the nearest ones. Must not: embed text, fuse
//! rankings or decide relevance; that is `retrieve`.

pub mod bm25;
pub mod dense;
pub mod hnsw;
