//! Tests for `index` (being written).
