//! Decoding: the bytes of a page to text, in the encoding the page declares or, failing that, the
//! one it most likely uses; and the few facts of an HTML page's `<head>` that matter before it is
//! parsed (its declared charset and its `<link rel="canonical">`).
//!
//! Owns: byte order marks, `<meta charset>`, `<meta http-equiv="Content-Type">`, the XML
//! declaration's `encoding`, the Encoding Standard's labels, UTF-8 and UTF-16, the choice of an
//! encoding for undeclared bytes that are not UTF-8, and how a decoding is told to people. Must
//! not: parse the page's content (that is `html.rs`), decide what a canonical link means for the
//! index (that is `site.rs`), or hold the tables of the legacy encodings (Shift_JIS,
//! windows-1252 …): a [`Decoder`] brings those.
//!
//! Why: docs sites are not all UTF-8. Old Javadoc and Sphinx output, Japanese manuals in
//! Shift_JIS, Windows help exports in windows-1252 and UTF-16 text files all exist; decoding them
//! as UTF-8 with replacement characters makes every accented or CJK word unfindable. The order
//! is the one browsers follow (WHATWG "encoding sniffing"): a byte order mark, then a declaration,
//! then UTF-8 when the bytes are valid UTF-8, then a guess. The native CLI's walk and the wasm
//! `addPage` (the npm CLI) both call [`decode_with`], so a page reads the same everywhere, with
//! one difference in the guess: natively [`Native`] decodes with `encoding_rs` and guesses with
//! `chardetng` (Firefox's detector: windows-1252 for Western text, Shift_JIS, GBK … for CJK,
//! windows-1251 for Cyrillic); in wasm the platform's `TextDecoder` decodes (a browser and Node
//! already hold every encoding's tables, which would add ~180 kB gzip to the module) and undeclared
//! bytes that are not UTF-8 are read as windows-1252, what browsers assume for such a page
//! ([`Decoder::guess`]'s default). Both say "guessed from the bytes" the same way; they differ
//! only on undeclared pages in another legacy encoding (an undeclared Shift_JIS page is read as
//! Shift_JIS by the native CLI and as windows-1252 by `npx docent`).

use super::Format;

/// The Encoding Standard's name of UTF-8.
pub const UTF_8: &str = "UTF-8";
/// The Encoding Standard's name of UTF-16 little-endian.
pub const UTF_16LE: &str = "UTF-16LE";
/// The Encoding Standard's name of UTF-16 big-endian.
pub const UTF_16BE: &str = "UTF-16BE";
/// The Encoding Standard's name of windows-1252 (also what `iso-8859-1` and `us-ascii` name).
pub const WINDOWS_1252: &str = "windows-1252";
/// The encoding that turns any non-empty input into one U+FFFD: labels of encodings that could be
/// used to smuggle markup (ISO-2022-KR, HZ-GB-2312 …) name it.
const REPLACEMENT: &str = "replacement";
/// Bytes 0x80-0xFF to the private use area U+F780-U+F7FF.
const X_USER_DEFINED: &str = "x-user-defined";

/// How many leading bytes of an HTML page are scanned for its charset and canonical link. The
/// HTML standard looks for a charset in the first 1024 bytes; generators put long inline scripts
/// and styles in the head, so this looks further, stopping at `<body>` or `</head>`.
pub const HEAD_SCAN_BYTES: usize = 64 * 1024;

/// What turns bytes in a legacy encoding (every encoding but UTF-8, UTF-16, `replacement` and
/// `x-user-defined`, which this module decodes itself) into text, and guesses the encoding of
/// bytes that declare none: [`Native`] natively, the platform's `TextDecoder` in wasm.
pub trait Decoder {
    /// `bytes` decoded as `encoding` (a name [`for_label`] returns): the text and whether some
    /// bytes were invalid in it (each became U+FFFD, as the Encoding Standard's decoders do).
    /// `None` when this decoder cannot decode that encoding: the page then reads as if it
    /// declared no charset, the way a label no one knows does.
    fn decode(&self, bytes: &[u8], encoding: &'static str) -> Option<(String, bool)>;

    /// The encoding of `bytes` that declare none and are not valid UTF-8. By default
    /// windows-1252, what browsers assume for such a page in most locales.
    fn guess(&self, _bytes: &[u8]) -> &'static str {
        WINDOWS_1252
    }
}

/// The native [`Decoder`]: `encoding_rs` decodes, `chardetng` (Firefox's detector) guesses.
#[cfg(not(target_arch = "wasm32"))]
#[derive(Debug, Clone, Copy, Default)]
pub struct Native;

#[cfg(not(target_arch = "wasm32"))]
impl Decoder for Native {
    fn decode(&self, bytes: &[u8], encoding: &'static str) -> Option<(String, bool)> {
        let enc = encoding_rs::Encoding::for_label(encoding.as_bytes())?;
        let (text, lossy) = enc.decode_without_bom_handling(bytes);
        Some((text.into_owned(), lossy))
    }

    fn guess(&self, bytes: &[u8]) -> &'static str {
        // ISO-2022-JP is 7-bit, so valid UTF-8: it never reaches this guess (and allowing it would
        // let escape sequences change how the rest of a page reads).
        let mut detector = chardetng::EncodingDetector::new(chardetng::Iso2022JpDetection::Deny);
        detector.feed(bytes, true);
        detector.guess(None, chardetng::Utf8Detection::Deny).name()
    }
}

/// How the encoding of a page was chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum How {
    /// Nothing declared and the bytes are valid UTF-8 (or, when no decoder could read the guess,
    /// read as UTF-8 anyway).
    Utf8,
    /// A byte order mark (UTF-8, UTF-16LE or UTF-16BE).
    Bom,
    /// `<meta charset>`, `<meta http-equiv="Content-Type">` or the XML declaration.
    Declared,
    /// Nothing declared and the bytes are not UTF-8: guessed ([`Decoder::guess`]).
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
        self.encoding != UTF_8
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

/// [`decode_with`] the native [`Decoder`].
#[cfg(not(target_arch = "wasm32"))]
pub fn decode(bytes: &[u8], format: Format) -> Decoded {
    decode_with(bytes, format, &Native)
}

/// Decodes the bytes of one page of `format`, legacy encodings through `decoder`. Never fails:
/// bytes invalid in the chosen encoding become U+FFFD (and [`Decoded::lossy`] says so).
///
/// Order: a byte order mark; for HTML, the charset its head declares ([`head`]) when `decoder`
/// can decode it; UTF-8 when the bytes are valid UTF-8; otherwise the encoding
/// [`Decoder::guess`] names (UTF-8 with U+FFFD when `decoder` cannot decode that either). A
/// declared UTF-16 without a byte order mark is read as UTF-8, as browsers do (the declaration
/// was read as ASCII, so it cannot be UTF-16).
pub fn decode_with(bytes: &[u8], format: Format, decoder: &dyn Decoder) -> Decoded {
    if let Some((enc, bom)) = bom(bytes) {
        if let Some(d) = with(decoder, enc, &bytes[bom..], How::Bom) {
            return d;
        }
    }
    if format == Format::Html {
        if let Some(enc) = head(bytes).charset {
            let enc = if enc == UTF_16LE || enc == UTF_16BE { UTF_8 } else { enc };
            if let Some(d) = with(decoder, enc, bytes, How::Declared) {
                return d;
            }
        }
    }
    if let Ok(text) = std::str::from_utf8(bytes) {
        return Decoded { text: text.to_string(), encoding: UTF_8, how: How::Utf8, lossy: false };
    }
    with(decoder, decoder.guess(bytes), bytes, How::Guessed).unwrap_or_else(|| Decoded {
        text: String::from_utf8_lossy(bytes).into_owned(),
        encoding: UTF_8,
        how: How::Utf8,
        lossy: true,
    })
}

/// The encoding a byte order mark at the start of `bytes` names, and the mark's length.
fn bom(bytes: &[u8]) -> Option<(&'static str, usize)> {
    match bytes {
        [0xEF, 0xBB, 0xBF, ..] => Some((UTF_8, 3)),
        [0xFF, 0xFE, ..] => Some((UTF_16LE, 2)),
        [0xFE, 0xFF, ..] => Some((UTF_16BE, 2)),
        _ => None,
    }
}

/// `bytes` (without a byte order mark) decoded as `enc`: here for UTF-8, UTF-16, `replacement`
/// and `x-user-defined`, by `decoder` for the rest; `None` when `decoder` cannot.
fn with(decoder: &dyn Decoder, enc: &'static str, bytes: &[u8], how: How) -> Option<Decoded> {
    let (text, lossy) = match enc {
        UTF_8 => match String::from_utf8_lossy(bytes) {
            std::borrow::Cow::Borrowed(text) => (text.to_string(), false),
            std::borrow::Cow::Owned(text) => (text, true),
        },
        UTF_16LE => utf16(bytes, u16::from_le_bytes),
        UTF_16BE => utf16(bytes, u16::from_be_bytes),
        REPLACEMENT => match bytes.is_empty() {
            true => (String::new(), false),
            false => ('\u{FFFD}'.to_string(), true),
        },
        X_USER_DEFINED => {
            let text = bytes
                .iter()
                .map(|&b| match b {
                    0..=0x7F => char::from(b),
                    _ => char::from_u32(0xF780 + u32::from(b - 0x80)).unwrap_or('\u{FFFD}'),
                })
                .collect();
            (text, false)
        }
        _ => decoder.decode(bytes, enc)?,
    };
    Some(Decoded { text, encoding: enc, how, lossy })
}

/// UTF-16 code units (pairs of bytes read with `unit`) to text: an unpaired surrogate becomes
/// U+FFFD, and so does an odd last byte unless it follows an unpaired lead surrogate (the
/// Encoding Standard's decoder reports those two as one error).
fn utf16(bytes: &[u8], unit: fn([u8; 2]) -> u16) -> (String, bool) {
    let pairs = bytes.chunks_exact(2);
    let odd = !pairs.remainder().is_empty();
    let units: Vec<u16> = pairs.map(|p| unit([p[0], p[1]])).collect();
    let mut lossy = false;
    let mut text: String = char::decode_utf16(units.iter().copied())
        .map(|c| {
            c.unwrap_or_else(|_| {
                lossy = true;
                '\u{FFFD}'
            })
        })
        .collect();
    let ends_in_lead = units.last().is_some_and(|u| (0xD800..0xDC00).contains(u));
    if odd {
        lossy = true;
        if !ends_in_lead {
            text.push('\u{FFFD}');
        }
    }
    (text, lossy)
}

/// The Encoding Standard's labels, by the name of the encoding they label: ASCII lower case,
/// separated by spaces ([`for_label`] matches them case-insensitively).
const LABELS: &[(&str, &str)] = &[
    (UTF_8, "unicode-1-1-utf-8 unicode11utf8 unicode20utf8 utf-8 utf8 x-unicode20utf8"),
    ("IBM866", "866 cp866 csibm866 ibm866"),
    (
        "ISO-8859-2",
        "csisolatin2 iso-8859-2 iso-ir-101 iso8859-2 iso88592 iso_8859-2 iso_8859-2:1987 l2 \
        latin2",
    ),
    (
        "ISO-8859-3",
        "csisolatin3 iso-8859-3 iso-ir-109 iso8859-3 iso88593 iso_8859-3 iso_8859-3:1988 l3 \
        latin3",
    ),
    (
        "ISO-8859-4",
        "csisolatin4 iso-8859-4 iso-ir-110 iso8859-4 iso88594 iso_8859-4 iso_8859-4:1988 l4 \
        latin4",
    ),
    (
        "ISO-8859-5",
        "csisolatincyrillic cyrillic iso-8859-5 iso-ir-144 iso8859-5 iso88595 iso_8859-5 \
        iso_8859-5:1988",
    ),
    (
        "ISO-8859-6",
        "arabic asmo-708 csiso88596e csiso88596i csisolatinarabic ecma-114 iso-8859-6 \
        iso-8859-6-e iso-8859-6-i iso-ir-127 iso8859-6 iso88596 iso_8859-6 iso_8859-6:1987",
    ),
    (
        "ISO-8859-7",
        "csisolatingreek ecma-118 elot_928 greek greek8 iso-8859-7 iso-ir-126 iso8859-7 \
        iso88597 iso_8859-7 iso_8859-7:1987 sun_eu_greek",
    ),
    (
        "ISO-8859-8",
        "csiso88598e csisolatinhebrew hebrew iso-8859-8 iso-8859-8-e iso-ir-138 iso8859-8 \
        iso88598 iso_8859-8 iso_8859-8:1988 visual",
    ),
    ("ISO-8859-8-I", "csiso88598i iso-8859-8-i logical"),
    ("ISO-8859-10", "csisolatin6 iso-8859-10 iso-ir-157 iso8859-10 iso885910 l6 latin6"),
    ("ISO-8859-13", "iso-8859-13 iso8859-13 iso885913"),
    ("ISO-8859-14", "iso-8859-14 iso8859-14 iso885914"),
    ("ISO-8859-15", "csisolatin9 iso-8859-15 iso8859-15 iso885915 iso_8859-15 l9"),
    ("ISO-8859-16", "iso-8859-16"),
    ("KOI8-R", "cskoi8r koi koi8 koi8-r koi8_r"),
    ("KOI8-U", "koi8-ru koi8-u"),
    ("macintosh", "csmacintosh mac macintosh x-mac-roman"),
    ("windows-874", "dos-874 iso-8859-11 iso8859-11 iso885911 tis-620 windows-874"),
    ("windows-1250", "cp1250 windows-1250 x-cp1250"),
    ("windows-1251", "cp1251 windows-1251 x-cp1251"),
    (
        WINDOWS_1252,
        "ansi_x3.4-1968 ascii cp1252 cp819 csisolatin1 ibm819 iso-8859-1 iso-ir-100 iso8859-1 \
        iso88591 iso_8859-1 iso_8859-1:1987 l1 latin1 us-ascii windows-1252 x-cp1252",
    ),
    ("windows-1253", "cp1253 windows-1253 x-cp1253"),
    (
        "windows-1254",
        "cp1254 csisolatin5 iso-8859-9 iso-ir-148 iso8859-9 iso88599 iso_8859-9 \
        iso_8859-9:1989 l5 latin5 windows-1254 x-cp1254",
    ),
    ("windows-1255", "cp1255 windows-1255 x-cp1255"),
    ("windows-1256", "cp1256 windows-1256 x-cp1256"),
    ("windows-1257", "cp1257 windows-1257 x-cp1257"),
    ("windows-1258", "cp1258 windows-1258 x-cp1258"),
    ("x-mac-cyrillic", "x-mac-cyrillic x-mac-ukrainian"),
    ("GBK", "chinese csgb2312 csiso58gb231280 gb2312 gb_2312 gb_2312-80 gbk iso-ir-58 x-gbk"),
    ("gb18030", "gb18030"),
    ("Big5", "big5 big5-hkscs cn-big5 csbig5 x-x-big5"),
    ("EUC-JP", "cseucpkdfmtjapanese euc-jp x-euc-jp"),
    ("ISO-2022-JP", "csiso2022jp iso-2022-jp"),
    ("Shift_JIS", "csshiftjis ms932 ms_kanji shift-jis shift_jis sjis windows-31j x-sjis"),
    (
        "EUC-KR",
        "cseuckr csksc56011987 euc-kr iso-ir-149 korean ks_c_5601-1987 ks_c_5601-1989 ksc5601 \
        ksc_5601 windows-949",
    ),
    (REPLACEMENT, "csiso2022kr hz-gb-2312 iso-2022-cn iso-2022-cn-ext iso-2022-kr replacement"),
    (UTF_16BE, "unicodefffe utf-16be"),
    (UTF_16LE, "csunicode iso-10646-ucs-2 ucs-2 unicode unicodefeff utf-16 utf-16le"),
    (X_USER_DEFINED, "x-user-defined"),
];

/// The name of the encoding `label` names in the Encoding Standard (surrounding ASCII whitespace
/// ignored, ASCII case-insensitive), or `None` for a label it does not know.
pub fn for_label(label: &[u8]) -> Option<&'static str> {
    let label = label.trim_ascii();
    LABELS
        .iter()
        .find(|(_, labels)| labels.split_ascii_whitespace().any(|l| l.as_bytes().eq_ignore_ascii_case(label)))
        .map(|(name, _)| *name)
}

/// What the head of an HTML page says before it is parsed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Head {
    /// The encoding declared by `<meta charset>`, `<meta http-equiv="Content-Type"
    /// content="…; charset=…">` or an XML declaration's `encoding`, if it names one the Encoding
    /// Standard knows.
    pub charset: Option<&'static str>,
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
        out.charset = for_label(label);
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
fn meta_charset(attrs: &[(String, String)]) -> Option<&'static str> {
    if let Some(c) = attr(attrs, "charset") {
        return for_label(c.trim().as_bytes());
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
    for_label(value[..end.unwrap_or(value.len())].as_bytes())
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
        assert_eq!(h.charset, Some("Shift_JIS"));
        assert_eq!(h.canonical.as_deref(), Some("../a.html?x=1&y=2"));
        let h = head(b"<?xml version='1.0' encoding='ISO-8859-1'?><html><head><meta charset=utf-8>");
        assert_eq!(h.charset, Some("windows-1252"), "the XML declaration comes first");
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

    /// A decoder with no tables at all, like a platform whose `TextDecoder` knows only UTF-8.
    struct NoTables;

    impl Decoder for NoTables {
        fn decode(&self, _: &[u8], _: &'static str) -> Option<(String, bool)> {
            None
        }
    }

    /// What the wasm edge is: a decoder for every legacy encoding that guesses windows-1252.
    struct Browser;

    impl Decoder for Browser {
        fn decode(&self, bytes: &[u8], encoding: &'static str) -> Option<(String, bool)> {
            Native.decode(bytes, encoding)
        }
    }

    #[test]
    fn labels_name_the_encodings_encoding_rs_names() {
        let mut count = 0;
        for (name, labels) in LABELS {
            for label in labels.split_ascii_whitespace() {
                let theirs = encoding_rs::Encoding::for_label(label.as_bytes()).map(|e| e.name());
                assert_eq!(theirs, Some(*name), "label {label}");
                let spaced = format!("\t {} \n", label.to_ascii_uppercase());
                assert_eq!(for_label(spaced.as_bytes()), Some(*name), "label {spaced:?}");
                count += 1;
            }
        }
        assert_eq!(count, 228, "every label of the Encoding Standard");
        assert_eq!(for_label(b"utf-7"), None);
        assert_eq!(for_label(b"latin 1"), None);
        assert_eq!(for_label(b""), None);
    }

    #[test]
    fn utf_replacement_and_user_defined_decode_as_encoding_rs_does() {
        let mut cases: Vec<Vec<u8>> = vec![
            vec![],
            vec![0x41],
            vec![0x00, 0xD8, 0x41],
            vec![0x00, 0xD8, 0x41, 0x00],
            vec![0x00, 0xDC, 0x41, 0x00],
            vec![0x3D, 0xD8, 0x00, 0xDE, 0x7F],
            vec![0xF0, 0x9F, 0x98],
            vec![0xED, 0xA0, 0x80, 0xC0, 0xAF, 0xE2, 0x82, 0xAC, 0xFF],
        ];
        // Seeded pseudo-random bytes, many of them surrogates and UTF-8 lead and trail bytes.
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        for len in 0..400 {
            let case = (0..len % 23)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    [0x41, 0xD8, 0xDC, 0xDF, 0x80, 0xBF, 0xC3, 0xE2, 0xF0, 0xF4, 0x00, 0xFF]
                        [(x % 12) as usize]
                })
                .collect();
            cases.push(case);
        }
        for enc in [UTF_8, UTF_16LE, UTF_16BE, REPLACEMENT, X_USER_DEFINED] {
            let theirs = if enc == REPLACEMENT {
                encoding_rs::REPLACEMENT
            } else {
                encoding_rs::Encoding::for_label(enc.as_bytes()).unwrap()
            };
            for bytes in &cases {
                let d = with(&NoTables, enc, bytes, How::Declared).expect("decoded here, not by the decoder");
                let (text, lossy) = theirs.decode_without_bom_handling(bytes);
                assert_eq!((d.text.as_str(), d.lossy), (&*text, lossy), "{enc} {bytes:02X?}");
            }
        }
    }

    #[test]
    fn without_chardetng_the_guess_is_windows_1252_and_without_tables_utf8() {
        let (sjis, _, _) =
            encoding_rs::SHIFT_JIS.encode("<p>日本語のマニュアルです。設定ファイルを開きます。</p>");
        let d = decode(&sjis, Format::Html);
        assert_eq!((d.encoding, d.how), ("Shift_JIS", How::Guessed), "chardetng recognises Shift_JIS");
        let d = decode_with(&sjis, Format::Html, &Browser);
        assert_eq!((d.encoding, d.how, d.lossy), ("windows-1252", How::Guessed, false));
        assert_eq!(
            d.note().unwrap(),
            "not valid UTF-8; decoded as windows-1252 (no charset declared, guessed from the bytes)"
        );
        let latin = b"Caf\xe9 cr\xe8me br\xfbl\xe9e";
        for decoder in [&Native as &dyn Decoder, &Browser] {
            let d = decode_with(latin, Format::Text, decoder);
            assert_eq!(
                (d.text.as_str(), d.encoding, d.how),
                ("Café crème brûlée", "windows-1252", How::Guessed)
            );
        }
        let mut declared = b"<meta charset=shift_jis>".to_vec();
        declared.extend_from_slice(&sjis);
        let d = decode_with(&declared, Format::Html, &Browser);
        assert_eq!((d.encoding, d.how, d.lossy), ("Shift_JIS", How::Declared, false));
        assert!(d.text.contains("日本語のマニュアル"), "{}", d.text);
        // A decoder that cannot read the declared encoding: read as if nothing were declared.
        let d = decode_with(&declared, Format::Html, &NoTables);
        assert_eq!((d.encoding, d.how, d.lossy), ("UTF-8", How::Utf8, true));
        assert_eq!(d.note().unwrap(), "not valid UTF-8 (the default); invalid bytes replaced by U+FFFD");
        let d = decode_with(b"<meta charset=x-user-defined>\x80\xff", Format::Html, &NoTables);
        assert_eq!((d.text.ends_with("\u{F780}\u{F7FF}"), d.encoding), (true, "x-user-defined"));
        let d = decode_with(b"<meta charset=iso-2022-kr><p>x", Format::Html, &NoTables);
        assert_eq!((d.text.as_str(), d.encoding, d.lossy), ("\u{FFFD}", "replacement", true));
    }
}
