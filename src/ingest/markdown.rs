//! Markdown ingestion. (Being written.)
use super::Document;

/// Parses CommonMark into a document.
pub fn parse(_url: &str, _fallback_title: &str, _md: &str) -> crate::Result<Document> {
    todo!("markdown ingestion")
}
