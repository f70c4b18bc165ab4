//! MiniLM embedder. (Being written.)
