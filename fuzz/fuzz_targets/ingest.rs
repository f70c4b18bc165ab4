//! The HTML, Markdown and text ingesters (`ingest::parse`) on arbitrary pages (byte 0 picks the
//! format), then chunking of what they produce.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| docent_fuzz::ingest(data));
