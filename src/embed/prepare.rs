//! `docent model`: model preparation. (Being written.)
