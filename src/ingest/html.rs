//! HTML ingestion. (Being written.)
use super::Ingested;

/// Parses an HTML page into a document, or says why it is skipped.
pub fn parse(_url: &str, _fallback_title: &str, _html: &str) -> crate::Result<Ingested> {
    todo!("html ingestion")
}
