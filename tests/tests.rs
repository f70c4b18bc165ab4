//! One integration-test binary, a module per area (see STYLE.md).

mod common;
mod ingest;
mod embed;
mod index;
mod llm;
