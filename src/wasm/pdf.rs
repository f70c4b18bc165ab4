//! The PDF module's edge (`docent_pdf`, cargo feature `pdf-module`): one export, `extractPdf`,
//! the lopdf half of the PDF reader ([`crate::ingest::pdf::extract`]).
//!
//! Why a module of its own: lopdf (its glyph-name table, Brotli decoder, ciphers and stringprep
//! tables) added 660 kB gzip to the full module, which every reader whose widget loads the
//! embedder downloads, though readers never add PDFs. `docent.js` loads this module only when a
//! PDF is added (`addDocument({url, pdf})`, `addPage`), passes the file's bytes here, and hands
//! what comes back to the full module's `addDocument`, which makes sections of it
//! ([`crate::ingest::pdf::read`]): one reader, in two halves, as the CLI runs it natively.
//!
//! Built with `pdf-module`, the crate's wasm edge is this file alone (src/lib.rs), so the module
//! holds lopdf and the extraction only. With `pdf` but not `pdf-module` (the wasm tests) this
//! file is compiled into the full edge too, so a test can pass its output to `addDocument`.

use wasm_bindgen::prelude::*;

use crate::ingest::pdf::{self, PdfLimits};

#[wasm_bindgen(typescript_custom_section)]
const TS_PDF: &'static str = r#"
/** What `extractPdf` reads from a PDF's bytes; the full module's `addDocument({url, pdf})` takes
 * it in field `pdf` instead of the bytes. */
export type PdfExtract =
  | { read: { pages: { number: number; text: string }[]; unreadable: { number: number; error: string }[];
      outline: { level: number; title: string; page: number }[]; title?: string } }
  | { skipped: { reason: "encrypted" | "noText" | "unreadable" | "overLimits"; note: string } };
"#;

/// Installs the panic hook (the full module's own `start` does this there).
#[cfg(feature = "pdf-module")]
#[wasm_bindgen(start)]
pub fn start() {
    console_error_panic_hook::set_once();
}

/// `extractPdf(bytes)`: the text of each page, the outline and the info title of a PDF, or why
/// it is skipped (encrypted, unreadable, over the limits), read within the CLI's limits
/// (`PdfLimits::DEFAULT`: 256 MiB of file, 10,000 pages, 20 million content operations). Never
/// throws for bad bytes: they are a `{skipped}` value.
#[wasm_bindgen(js_name = extractPdf, unchecked_return_type = "PdfExtract")]
pub fn extract_pdf(bytes: &[u8]) -> Result<JsValue, JsError> {
    serde_wasm_bindgen::to_value(&pdf::extract(bytes, &PdfLimits::DEFAULT))
        .map_err(|e| JsError::new(&format!("extractPdf: {e}")))
}
