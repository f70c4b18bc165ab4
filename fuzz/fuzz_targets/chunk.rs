//! The token-budget chunker with the approximate counter and MiniLM's real `tokenizer.json`
//! (bytes 0 and 1 pick the budget and overlap).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| docent_fuzz::chunk(data));
