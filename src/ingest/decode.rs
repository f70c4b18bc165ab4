//! Decoding: the bytes of a page to text, in the encoding the page declares or, failing that, the
//! one it most likely uses; and the few facts of an HTML page's `<head>` that matter before it is
//! parsed (its declared charset and its `<link rel="canonical">`).
//!
//! Owns: byte order marks, `<meta charset>`, `<meta http-equiv="Content-Type">`, the XML
//! declaration's `encoding`, guessing the encoding of undeclared bytes that are not UTF-8, and how
//! a decoding is told to people. Must not: parse the page's content (that is `html.rs`) or decide
//! what a canonical link means for the index (that is `site.rs`).
//!
//! Why: docs sites are not all UTF-8. Old Javadoc and Sphinx output, Japanese manuals in
//! Shift_JIS, Windows help exports in windows-1252 and UTF-16 text files all exist; decoding them
//! as UTF-8 with replacement characters makes every accented or CJK word unfindable. The order
//! is the one browsers follow (WHATWG "encoding sniffing"): a byte order mark, then a declaration,
//! then UTF-8 when the bytes are valid UTF-8, then a guess from the bytes (`chardetng`, Firefox's
//! detector). The native CLI's walk and the wasm `addPage` (the npm CLI) both call [`decode`], so
//! a page reads the same everywhere.

use encoding_rs::{Encoding, UTF_16BE, UTF_16LE, UTF_8};

use super::Format;

/// How many leading bytes of an HTML page are scanned for its charset and canonical link. The
/// HTML standard looks for a charset in the first 1024 bytes; generators put long inline scripts
/// and styles in the head, so this looks further, stopping at `<body>` or `</head>`.
pub const HEAD_SCAN_BYTES: usize = 64 * 1024;

/// How the encoding of a page was chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum How {
    /// Nothing declared and the bytes are valid UTF-8.
    Utf8,
    /// A byte order mark (UTF-8, UTF-16LE or UTF-16BE).
    Bom,
    /// `<meta charset>`, `<meta http-equiv="Content-Type">` or the XML declaration.
    Declared,
    /// Nothing declared and the bytes are not UTF-8: guessed from the bytes.
    Guessed,
}

/// A page's text and how it was read.
#[derive(Debug, Clone)]
pub struct Decoded {
    /// The text (a byte order mark removed).
    pub text: String,
    /// The encoding's name as the Encoding Standard spells it (`UTF-8`, `Shift_JIS`,
    /// `windows-1252`, `UTF-16LE` …). `iso-8859-1` and `us-ascii` labels read as `windows-1252`,
    /// as browsers read them.
    pub encoding: &'static str,
    /// How the encoding was chosen.
    pub how: How,
    /// Whether some bytes were not valid in that encoding (each became U+FFFD).
    pub lossy: bool,
}

impl Decoded {
    /// Whether the page was not read as UTF-8 (counted in the index summary by encoding).
    pub fn is_legacy(&self) -> bool {
        self.encoding != UTF_8.name()
    }

    /// What a person indexing the page should know, after its name and a colon, or `None` when
    /// the page was read as it says it is: `not valid UTF-8; decoded as windows-1252 (no charset
    /// declared, guessed from the bytes)`, or `not valid Shift_JIS (declared); invalid bytes
    /// replaced by U+FFFD`.
    pub fn note(&self) -> Option<String> {
        match (self.how, self.lossy) {
            (How::Guessed, false) => Some(format!(
                "not valid UTF-8; decoded as {} (no charset declared, guessed from the bytes)",
                self.encoding
            )),
            (How::Guessed, true) => Some(format!(
                "not valid UTF-8; decoded as {} (no charset declared, guessed from the bytes); invalid bytes replaced by U+FFFD",
                self.encoding
            )),
            (how, true) => Some(format!(
                "not valid {} ({}); invalid bytes replaced by U+FFFD",
                self.encoding,
                match how {
                    How::Bom => "byte order mark",
                    How::Declared => "declared",
                    How::Utf8 | How::Guessed => "the default",
                }
            )),
            (_, false) => None,
        }
    }
}

/// Decodes the bytes of one page of `format`. Never fails: bytes invalid in the chosen encoding
/// become U+FFFD (and [`Decoded::lossy`] says so).
///
/// Order: a byte order mark; for HTML, the charset its head declares ([`head`]); UTF-8 when the
/// bytes are valid UTF-8; otherwise the encoding `chardetng` guesses (most often windows-1252 for
/// Western text, Shift_JIS, EUC-JP, GBK, Big5 or EUC-KR for CJK, windows-1251 for Cyrillic).
/// A declared UTF-16 without a byte order mark is read as UTF-8, as browsers do (the declaration
/// was read as ASCII, so it cannot be UTF-16).
pub fn decode(bytes: &[u8], format: Format) -> Decoded {
    if let Some((enc, bom)) = Encoding::for_bom(bytes) {
        return with(enc, &bytes[bom..], How::Bom);
    }
    if format == Format::Html {
        if let Some(enc) = head(bytes).charset {
            let enc = if enc == UTF_16LE || enc == UTF_16BE { UTF_8 } else { enc };
            return with(enc, bytes, How::Declared);
        }
    }
    if let Ok(text) = std::str::from_utf8(bytes) {
        return Decoded { text: text.to_string(), encoding: UTF_8.name(), how: How::Utf8, lossy: false };
    }
    // ISO-2022-JP is 7-bit, so valid UTF-8: it never reaches this guess (and allowing it would
    // let escape sequences change how the rest of a page reads).
    let mut detector = chardetng::EncodingDetector::new(chardetng::Iso2022JpDetection::Deny);
    detector.feed(bytes, true);
    with(detector.guess(None, chardetng::Utf8Detection::Deny), bytes, How::Guessed)
}

/// `bytes` (without a byte order mark) decoded with `enc`.
fn with(enc: &'static Encoding, bytes: &[u8], how: How) -> Decoded {
    let (text, lossy) = enc.decode_without_bom_handling(bytes);
    Decoded { text: text.into_owned(), encoding: enc.name(), how, lossy }
}

/// What the head of an HTML page says before it is parsed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Head {
    /// The encoding declared by `<meta charset>`, `<meta http-equiv="Content-Type"
    /// content="…; charset=…">` or an XML declaration's `encoding`, if it names one the Encoding
    /// Standard knows.
    pub charset: Option<&'static Encoding>,
    /// The `href` of the first `<link rel="canonical">`, trimmed, `&amp;` decoded; `None` when
    /// there is none or it is empty.
    pub canonical: Option<String>,
}

/// Reads the charset declaration and the canonical link from the head of an HTML page: a scan
/// of its first [`HEAD_SCAN_BYTES`] bytes that skips comments, scripts and styles and stops at
/// `<body>` or `</head>`, without building a tree (the page may be megabytes). The bytes may be
/// in any ASCII-compatible encoding.
pub fn head(bytes: &[u8]) -> Head {
    let b = &bytes[..bytes.len().min(HEAD_SCAN_BYTES)];
    let mut out = Head::default();
    if let Some(label) = xml_encoding(b) {
        out.charset = Encoding::for_label(label);
    }
    let mut i = 0;
    while let Some(at) = b[i..].iter().position(|&c| c == b'<') {
        i += at;
        let rest = &b[i..];
        if rest.starts_with(b"<!--") {
            i = find(b, i + 4, b"-->").map_or(b.len(), |e| e + 3);
            continue;
        }
        let closing = rest.get(1) == Some(&b'/');
        let name_start = i + 1 + usize::from(closing);
        let name_len = b[name_start..].iter().take_while(|c| c.is_ascii_alphanumeric()).count();
        if name_len == 0 {
            i += 1;
            continue;
        }
        let name = b[name_start..name_start + name_len].to_ascii_lowercase();
        if closing {
            if name == b"head" {
                break;
            }
            i = name_start + name_len;
            continue;
        }
        let (attrs, end) = attributes(b, name_start + name_len);
        i = end;
        match name.as_slice() {
            b"body" => break,
            b"script" | b"style" | b"title" | b"textarea" | b"noscript" | b"template" => {
                let mut close = b"</".to_vec();
                close.extend_from_slice(&name);
                i = find_ci(b, i, &close).unwrap_or(b.len());
            }
            b"meta" if out.charset.is_none() => out.charset = meta_charset(&attrs),
            b"link" if out.canonical.is_none() => {
                let rel = attr(&attrs, "rel").unwrap_or_default();
                if rel.split_ascii_whitespace().any(|r| r.eq_ignore_ascii_case("canonical")) {
                    out.canonical = attr(&attrs, "href")
                        .map(|h| h.trim().replace("&amp;", "&"))
                        .filter(|h| !h.is_empty());
                }
            }
            _ => {}
        }
    }
    out
}

/// The charset a `<meta>` tag declares (`charset`, or `http-equiv="content-type"` with
/// `charset=` in its `content`).
fn meta_charset(attrs: &[(String, String)]) -> Option<&'static Encoding> {
    if let Some(c) = attr(attrs, "charset") {
        return Encoding::for_label(c.trim().as_bytes());
    }
    let equiv = attr(attrs, "http-equiv")?;
    if !equiv.trim().eq_ignore_ascii_case("content-type") {
        return None;
    }
    let content = attr(attrs, "content")?.to_ascii_lowercase();
    let at = content.find("charset")? + "charset".len();
    let value = content[at..].trim_start().strip_prefix('=')?.trim_start();
    let value = value.trim_start_matches(['"', '\'']);
    let end = value.find(|c: char| c == ';' || c == '"' || c == '\'' || c.is_whitespace());
    Encoding::for_label(value[..end.unwrap_or(value.len())].as_bytes())
}

/// The `encoding` of an XML declaration at the very start (`<?xml version="1.0"
/// encoding="ISO-8859-1"?>`).
fn xml_encoding(b: &[u8]) -> Option<&[u8]> {
    if !b.starts_with(b"<?xml") {
        return None;
    }
    let end = find(b, 0, b"?>")?;
    let decl = &b[..end];
    let at = find(decl, 0, b"encoding")? + "encoding".len();
    let rest = decl[at..].trim_ascii_start().strip_prefix(b"=")?.trim_ascii_start();
    let (&quote, rest) = rest.split_first()?;
    if quote != b'"' && quote != b'\'' {
        return None;
    }
    let len = rest.iter().position(|&c| c == quote)?;
    Some(&rest[..len])
}

/// The value of attribute `name` (lower case) among `attrs`.
fn attr<'a>(attrs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    attrs.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
}

/// Reads the attributes of a start tag from `i` (just after its name) to its `>`: their names in
/// lower case, their values (quoted or not) as lossy UTF-8, and the index after the `>`.
fn attributes(b: &[u8], mut i: usize) -> (Vec<(String, String)>, usize) {
    let mut out = Vec::new();
    let text = |s: &[u8]| String::from_utf8_lossy(s).into_owned();
    loop {
        while i < b.len() && (b[i].is_ascii_whitespace() || b[i] == b'/') {
            i += 1;
        }
        if i >= b.len() {
            return (out, i);
        }
        if b[i] == b'>' {
            return (out, i + 1);
        }
        let start = i;
        while i < b.len() && !b[i].is_ascii_whitespace() && !matches!(b[i], b'=' | b'>' | b'/') {
            i += 1;
        }
        let name = text(&b[start..i]).to_ascii_lowercase();
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        if i >= b.len() || b[i] != b'=' {
            out.push((name, String::new()));
            continue;
        }
        i += 1;
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        let value = match b.get(i) {
            Some(&q @ (b'"' | b'\'')) => {
                let end = b[i + 1..].iter().position(|&c| c == q).map_or(b.len(), |e| i + 1 + e);
                let v = text(&b[i + 1..end]);
                i = (end + 1).min(b.len());
                v
            }
            _ => {
                let start = i;
                while i < b.len() && !b[i].is_ascii_whitespace() && b[i] != b'>' {
                    i += 1;
                }
                text(&b[start..i])
            }
        };
        out.push((name, value));
    }
}

/// The index of the first `needle` in `b` at or after `from`.
fn find(b: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    b.get(from..)?.windows(needle.len()).position(|w| w == needle).map(|p| from + p)
}

/// [`find`], ASCII case-insensitive.
fn find_ci(b: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    b.get(from..)?.windows(needle.len()).position(|w| w.eq_ignore_ascii_case(needle)).map(|p| from + p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn head_reads_charset_and_canonical_past_scripts_and_comments() {
        let page = br#"<!doctype html><html><head><!-- <meta charset="koi8-r"> -->
            <script>var s = "<link rel='canonical' href='no.html'>";</script>
            <META http-equiv="Content-Type" content="text/html; charset=Shift_JIS">
            <link rel="alternate canonical" href=" ../a.html?x=1&amp;y=2 "></head>
            <body><link rel=canonical href=late.html></body>"#;
        let h = head(page);
        assert_eq!(h.charset.map(|e| e.name()), Some("Shift_JIS"));
        assert_eq!(h.canonical.as_deref(), Some("../a.html?x=1&y=2"));
        let h = head(b"<?xml version='1.0' encoding='ISO-8859-1'?><html><head><meta charset=utf-8>");
        assert_eq!(h.charset.map(|e| e.name()), Some("windows-1252"), "the XML declaration comes first");
        assert_eq!(head(b"<meta charset=nonsense><link rel=canonical href=''>"), Head::default());
        assert_eq!(head(b"<p>no head at all").charset, None);
    }

    #[test]
    fn the_order_is_bom_declaration_utf8_guess() {
        let bom: Vec<u8> = [0xFF, 0xFE]
            .into_iter()
            .chain("<p>héllo</p>".encode_utf16().flat_map(u16::to_le_bytes))
            .collect();
        let d = decode(&bom, Format::Html);
        assert_eq!(
            (d.text.as_str(), d.encoding, d.how, d.lossy),
            ("<p>héllo</p>", "UTF-16LE", How::Bom, false)
        );
        let d = decode(b"<meta charset=windows-1252><p>caf\xe9", Format::Html);
        assert_eq!((d.text.ends_with("café"), d.how, d.note()), (true, How::Declared, None));
        let d = decode(b"<meta charset=utf-16><p>plain", Format::Html);
        assert_eq!(
            (d.encoding, d.how),
            ("UTF-8", How::Declared),
            "a declared UTF-16 without BOM reads as UTF-8"
        );
        let d = decode("<p>caf\u{e9}".as_bytes(), Format::Html);
        assert_eq!((d.encoding, d.how, d.note()), ("UTF-8", How::Utf8, None));
        let d = decode(b"Caf\xe9 cr\xe8me br\xfbl\xe9e", Format::Text);
        assert_eq!((d.text.as_str(), d.how), ("Café crème brûlée", How::Guessed));
        assert_eq!(
            d.note().unwrap(),
            "not valid UTF-8; decoded as windows-1252 (no charset declared, guessed from the bytes)"
        );
        let d = decode(b"<meta charset=utf-8><p>caf\xe9", Format::Html);
        assert_eq!(d.note().unwrap(), "not valid UTF-8 (declared); invalid bytes replaced by U+FFFD");
    }
}
