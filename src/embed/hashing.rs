//! Feature-hashing embedder. (Being written.)
