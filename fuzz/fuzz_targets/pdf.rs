//! The PDF reader (`ingest::pdf::parse`) on arbitrary bytes, then chunking of what it reads.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| docent_fuzz::pdf(data));
