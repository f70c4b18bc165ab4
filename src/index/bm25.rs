//! BM25. (Being written.)
