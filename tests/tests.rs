//! One integration-test binary, a module per area (see STYLE.md).

mod chunk;
mod cli;
mod common;
mod embed;
mod engine;
mod fuzz_harness;
mod hostile;
mod index;
mod index_files;
mod ingest;
mod limits;
mod llm;
mod site;
