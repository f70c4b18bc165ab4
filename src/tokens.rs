//! tokens (being written)
