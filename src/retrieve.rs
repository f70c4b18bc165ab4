//! retrieve (being written)
