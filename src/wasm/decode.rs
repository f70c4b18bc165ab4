//! The platform's `TextDecoder` as the core's [`Decoder`]: what reads a page in a legacy encoding
//! (Shift_JIS, windows-1252 …) that `addPage` is given as bytes.
//!
//! Owns: calling `TextDecoder`. Must not: choose the encoding (the core's
//! [`crate::ingest::decode::decode_with`] does: byte order mark, declaration, UTF-8, guess) or
//! decode UTF-8 and UTF-16 (the core does, the same natively and here).
//!
//! Why: a browser and Node already carry the tables of every encoding of the Encoding Standard;
//! `encoding_rs` and `chardetng` would add ~180 kB gzip to the module. Undeclared bytes that are not
//! UTF-8 are read as windows-1252 ([`Decoder::guess`]'s default, what browsers assume), where the
//! native CLI guesses with `chardetng`.

use web_sys::{TextDecoder, TextDecoderOptions};

use crate::ingest::decode::Decoder;

/// `TextDecoder`, first strict (`fatal: true`: whether some bytes are invalid, as the core must
/// tell), then, only when that throws, lenient (each invalid sequence becomes U+FFFD). Exported
/// as `docent::wasm::PlatformDecoder` for the wasm tests, which check it against the native one.
pub struct Platform;

impl Decoder for Platform {
    fn decode(&self, bytes: &[u8], encoding: &'static str) -> Option<(String, bool)> {
        // A label the platform does not know throws here: the core then reads the page as if it
        // declared nothing, as it does a label no one knows.
        let strict = decoder(encoding, true)?;
        if let Ok(text) = strict.decode_with_u8_array(bytes) {
            return Some((text, false));
        }
        let text = decoder(encoding, false)?.decode_with_u8_array(bytes).ok()?;
        Some((text, true))
    }
}

fn decoder(encoding: &str, fatal: bool) -> Option<TextDecoder> {
    let options = TextDecoderOptions::new();
    options.set_fatal(fatal);
    TextDecoder::new_with_label_and_options(encoding, &options).ok()
}
