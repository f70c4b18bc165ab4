//! Directory walking (native only). (Being written.)
