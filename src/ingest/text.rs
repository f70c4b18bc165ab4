//! Plain-text ingestion. (Being written.)
use super::Document;

/// Parses plain text into a document.
pub fn parse(_url: &str, _fallback_title: &str, _text: &str) -> crate::Result<Document> {
    todo!("text ingestion")
}
