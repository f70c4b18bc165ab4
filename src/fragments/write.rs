//! The writer: the fragments of a built engine.

use super::table::FragmentTable;
use crate::engine::Docent;
use crate::{Error, Result};

/// The fragments of one build: the manifest's table and every file it names (path, bytes), in
/// the table's order.
#[derive(Debug, Clone, PartialEq)]
pub struct Fragments {
    /// The manifest's `"fragments"` object.
    pub table: FragmentTable,
    /// Every fragment file: path relative to the index folder (`fragments/…`), bytes.
    pub files: Vec<(String, Vec<u8>)>,
}

/// The fragments of `engine`'s live chunks (removed documents left out). Deterministic: the
/// same index gives the same bytes and names.
///
/// Errors: the engine is not built ([`Error::NotBuilt`]).
pub fn write_fragments(engine: &Docent) -> Result<Fragments> {
    let _ = engine;
    Err(Error::NotBuilt)
}
