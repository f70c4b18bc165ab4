//! The index loader (`format::read`, `Docent::from_bytes`) on arbitrary bytes, as given and with
//! repaired checksums; a loaded index must survive search, assemble, reload, add, remove, build.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| docent_fuzz::index_loader(data));
