//! Static token-table embedder. (Being written.)
