//! chunk (being written)
