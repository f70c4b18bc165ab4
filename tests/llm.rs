//! Tests for `llm` (being written).
