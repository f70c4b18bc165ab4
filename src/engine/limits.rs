//! Size limits: how many chunks an index may hold and how large one document may be, as data
//! the caller chooses ([`Limits::NATIVE`] by default, [`Limits::BROWSER`] at the wasm edge).

use crate::{Error, Result};

/// Size limits that keep an index inside the memory it runs in, checked before the work that
/// would need the memory: [`Docent::add_document`] refuses a document that is too large or would
/// push the index past `max_chunks`, [`Docent::from_bytes`] refuses an index that holds more
/// chunks. Both fail with a message naming the limit, never with an out-of-memory abort.
///
/// The caller chooses them; nothing in the engine depends on the target it was compiled for:
/// - [`Limits::NATIVE`], the default of [`Docent::new`] and [`Docent::from_bytes`]: what the data
///   types hold (chunk ids and byte offsets are `u32`).
/// - [`Limits::BROWSER`], which the wasm edge sets on every engine it creates or loads. wasm32
///   has one linear memory of at most 4 GiB, and an allocation that fails there aborts the whole
///   module, so these numbers come from measurements of the browser build
///   (`node bench/wasm_memory.mjs`, see `bench/README.md`). At 495,646 chunks of 384 dimensions
///   (the layout of a MiniLM index; HNSW) the memory peaked at 1.42 GiB in `build()`, 2.10 GiB
///   in `toBytes()` and 2.40 GiB in `fromBytes()` (whose input is copied in whole), plus
///   0.12 GiB for the MiniLM model.
///
/// Change them with [`Docent::set_limits`] or [`Docent::from_bytes_with_limits`], usually as
/// `Limits { max_chunks: 10_000, ..Limits::BROWSER }`.
///
/// [`Docent::add_document`]: super::Docent::add_document
/// [`Docent::from_bytes`]: super::Docent::from_bytes
/// [`Docent::new`]: super::Docent::new
/// [`Docent::set_limits`]: super::Docent::set_limits
/// [`Docent::from_bytes_with_limits`]: super::Docent::from_bytes_with_limits
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Most chunks one index holds, counted in chunks. [`Limits::NATIVE`]: `u32::MAX` (chunk ids
    /// are `u32`); [`Limits::BROWSER`]: [`Limits::MAX_CHUNKS_WASM`] (500,000). Range
    /// 1..=`u32::MAX`: at 1 an index holds one chunk; above `u32::MAX` chunk ids would overflow.
    pub max_chunks: usize,
    /// Most bytes of UTF-8 text in one document (all its sections, headings and title), checked
    /// before it is chunked. [`Limits::NATIVE`]: `u32::MAX` (chunk offsets are `u32`);
    /// [`Limits::BROWSER`]: [`Limits::MAX_DOCUMENT_BYTES_WASM`] (64 MiB). Range 1..=`u32::MAX`:
    /// at 1 only a one-byte document fits; above `u32::MAX` chunk offsets would overflow.
    pub max_document_bytes: usize,
    /// Where these limits hold, said after the limit in the messages that refuse something
    /// ("at most 500000 can be loaded *in the browser build (wasm32 memory is at most 4 GiB)*").
    /// [`Limits::NATIVE`]: empty (nothing is added); [`Limits::BROWSER`]: `in the browser build
    /// (wasm32 memory is at most 4 GiB)`. Any text, without a leading space.
    pub scope: &'static str,
}

impl Limits {
    /// The `max_chunks` of [`Limits::BROWSER`]: 500,000 chunks (a few hundred MB of text) peak at
    /// about 2.5 GiB with the MiniLM model (see above), which leaves a quarter of the 4 GiB for
    /// the caller's copies, fragmentation and larger chunks.
    pub const MAX_CHUNKS_WASM: usize = 500_000;
    /// The `max_document_bytes` of [`Limits::BROWSER`]: 64 MiB (a page of 50 MB of text makes
    /// about 40,000 chunks and passes through the HTML parser and the tokenizer whole).
    pub const MAX_DOCUMENT_BYTES_WASM: usize = 64 * 1024 * 1024;

    /// What the data types hold: `u32::MAX` chunks, `u32::MAX` bytes per document, no scope in
    /// messages. The default ([`Limits::default`]), for the CLI and native callers.
    pub const NATIVE: Limits =
        Limits { max_chunks: u32::MAX as usize, max_document_bytes: u32::MAX as usize, scope: "" };

    /// The browser build's: [`Limits::MAX_CHUNKS_WASM`] chunks, [`Limits::MAX_DOCUMENT_BYTES_WASM`]
    /// bytes per document, messages saying the limit holds in the browser build.
    pub const BROWSER: Limits = Limits {
        max_chunks: Self::MAX_CHUNKS_WASM,
        max_document_bytes: Self::MAX_DOCUMENT_BYTES_WASM,
        scope: "in the browser build (wasm32 memory is at most 4 GiB)",
    };

    /// Checks the size of a document's content (`bytes` of text) before it is parsed or chunked.
    pub fn check_document(&self, url: &str, bytes: usize) -> Result<()> {
        if bytes > self.max_document_bytes {
            return Err(Error::Document {
                url: url.to_string(),
                reason: format!(
                    "{bytes} bytes of text; at most {} bytes{} fit in one document{}; split it into several documents",
                    self.max_document_bytes,
                    human_bytes(self.max_document_bytes),
                    self.in_scope()
                ),
            });
        }
        Ok(())
    }

    /// Checks that an index of `chunks` chunks fits; `what` is what holds them.
    pub(super) fn check_chunks(&self, what: impl FnOnce() -> Error, chunks: usize) -> Result<()> {
        if chunks > self.max_chunks {
            return Err(what());
        }
        Ok(())
    }

    /// `scope` as a message puts it after a limit: with a leading space, or nothing when empty.
    pub(super) fn in_scope(&self) -> String {
        if self.scope.is_empty() {
            String::new()
        } else {
            format!(" {}", self.scope)
        }
    }
}

impl Default for Limits {
    /// [`Limits::NATIVE`], on every target (the wasm edge sets [`Limits::BROWSER`] itself).
    fn default() -> Self {
        Limits::NATIVE
    }
}

/// ` (64 MiB)`, ` (1.5 GiB)`: a size of 1 KiB or more in binary units, for messages; empty below.
fn human_bytes(n: usize) -> String {
    if n < 1 << 10 {
        String::new()
    } else {
        format!(" ({})", crate::units::human_bytes(n as u64, crate::units::Units::Binary))
    }
}
