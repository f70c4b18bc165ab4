//! The docent CLI (being written).
fn main() {}
