//! prompt (being written)
