//! Tests for `ingest` (being written).
