//! One integration-test binary, a module per area (`docs/design.md`, "Tests and benchmarks"): one
//! link step for every native test instead of one per file.

mod answer;
mod api_entries;
mod bad_input;
mod chunk;
mod cli;
mod common;
mod conversation;
mod decode_cases;
mod embed;
mod engine;
mod fragments;
mod fragments_cli;
mod fragments_ranged;
mod fragments_ranged_dense;
mod fuzz_harness;
mod gaps;
mod gate;
mod hostile;
#[cfg(feature = "instant-distance")]
mod idist;
mod index;
mod index_files;
mod ingest;
mod ivf;
mod limits;
mod llm;
mod site;
mod tokens;
