//! Tests for `embed` (being written).
