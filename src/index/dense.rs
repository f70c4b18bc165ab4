//! Dense index. (Being written.)
