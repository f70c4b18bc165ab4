//! Pages in other encodings and what reading them must give, the same natively (`encoding_rs`)
//! and in wasm (the platform's `TextDecoder`): `tests.rs` checks them with the native decoder,
//! `wasm.rs` with the wasm edge's, under Node and in Chromium. The bytes are written out here so
//! that both builds read the very same ones.

use docent::ingest::decode::{decode_with, Decoder, How};
use docent::ingest::Format;

/// One page: its bytes and format, and what decoding must give.
pub struct Case {
    pub name: &'static str,
    pub bytes: &'static [u8],
    pub format: Format,
    pub encoding: &'static str,
    pub how: How,
    pub text: &'static str,
    pub note: Option<&'static str>,
}

/// "設定ファイルを開きます。" in Shift_JIS.
pub const SHIFT_JIS_TEXT: &[u8] =
    b"\x90\xdd\x92\xe8\x83t\x83@\x83C\x83\x8b\x82\xf0\x8aJ\x82\xab\x82\xdc\x82\xb7\x81B";

pub const CASES: &[Case] = &[
    Case {
        name: "Latin-1 declared by <meta charset>",
        bytes: b"<meta charset=\"iso-8859-1\"><p>Cr\xe8me br\xfbl\xe9e</p>",
        format: Format::Html,
        encoding: "windows-1252",
        how: How::Declared,
        text: "<meta charset=\"iso-8859-1\"><p>Crème brûlée</p>",
        note: None,
    },
    Case {
        name: "Latin-1 declared by the XML declaration",
        bytes: b"<?xml version='1.0' encoding='ISO-8859-1'?><p>\xc0 la fran\xe7aise",
        format: Format::Html,
        encoding: "windows-1252",
        how: How::Declared,
        text: "<?xml version='1.0' encoding='ISO-8859-1'?><p>À la française",
        note: None,
    },
    Case {
        name: "Shift_JIS declared by http-equiv",
        bytes: b"<meta http-equiv=\"Content-Type\" content=\"text/html; charset=Shift_JIS\"><p>\x90\xdd\x92\xe8\x83t\x83@\x83C\x83\x8b\x82\xf0\x8aJ\x82\xab\x82\xdc\x82\xb7\x81B",
        format: Format::Html,
        encoding: "Shift_JIS",
        how: How::Declared,
        text: "<meta http-equiv=\"Content-Type\" content=\"text/html; charset=Shift_JIS\"><p>設定ファイルを開きます。",
        note: None,
    },
    Case {
        name: "Shift_JIS declared, cut inside a character",
        bytes: b"<meta charset=sjis><p>\x90\xdd\x92\xe8\x83",
        format: Format::Html,
        encoding: "Shift_JIS",
        how: How::Declared,
        text: "<meta charset=sjis><p>設定\u{FFFD}",
        note: Some("not valid Shift_JIS (declared); invalid bytes replaced by U+FFFD"),
    },
    Case {
        name: "EUC-JP declared",
        bytes: b"<meta charset=euc-jp><h1>\xca\xb8\xbb\xfa\xa5\xb3\xa1\xbc\xa5\xc9\xa4\xce\xc0\xdf\xc4\xea</h1>",
        format: Format::Html,
        encoding: "EUC-JP",
        how: How::Declared,
        text: "<meta charset=euc-jp><h1>文字コードの設定</h1>",
        note: None,
    },
    Case {
        name: "windows-1251 declared",
        bytes: b"<meta charset=cp1251><p>\xce\xe1\xe6\xe8\xe3 \xea\xe5\xf0\xe0\xec\xe8\xea\xe8</p>",
        format: Format::Html,
        encoding: "windows-1251",
        how: How::Declared,
        text: "<meta charset=cp1251><p>Обжиг керамики</p>",
        note: None,
    },
    Case {
        name: "UTF-16LE with a byte order mark",
        bytes: b"\xff\xfeO\x00K\x00 \x00\x1e\x04\x31\x04",
        format: Format::Text,
        encoding: "UTF-16LE",
        how: How::Bom,
        text: "OK Об",
        note: None,
    },
    Case {
        name: "a label no one knows, UTF-8 bytes",
        bytes: "<meta charset=x-klingon><p>café</p>".as_bytes(),
        format: Format::Html,
        encoding: "UTF-8",
        how: How::Utf8,
        text: "<meta charset=x-klingon><p>café</p>",
        note: None,
    },
    Case {
        name: "UTF-8 declared, with a Latin-1 byte",
        bytes: b"<meta charset=utf-8><p>caf\xe9</p>",
        format: Format::Html,
        encoding: "UTF-8",
        how: How::Declared,
        text: "<meta charset=utf-8><p>caf\u{FFFD}</p>",
        note: Some("not valid UTF-8 (declared); invalid bytes replaced by U+FFFD"),
    },
    Case {
        name: "undeclared windows-1252 text (guessed alike: chardetng and the browser default)",
        bytes: b"Caf\xe9 cr\xe8me, g\xe2teau \xe0 la fran\xe7aise, cr\xeape br\xfbl\xe9e.",
        format: Format::Text,
        encoding: "windows-1252",
        how: How::Guessed,
        text: "Café crème, gâteau à la française, crêpe brûlée.",
        note: Some("not valid UTF-8; decoded as windows-1252 (no charset declared, guessed from the bytes)"),
    },
];

/// Decodes every case with `decoder` and asserts what it must give.
pub fn check(decoder: &dyn Decoder) {
    for c in CASES {
        let d = decode_with(c.bytes, c.format, decoder);
        assert_eq!(
            (d.text.as_str(), d.encoding, d.how, d.note().as_deref()),
            (c.text, c.encoding, c.how, c.note),
            "{}",
            c.name
        );
    }
}

#[cfg(not(target_arch = "wasm32"))]
#[test]
fn pages_in_other_encodings_read_natively_as_in_wasm() {
    use docent::ingest::decode::{decode, Native};

    check(&Native);
    // Undeclared bytes in another legacy encoding are where the two differ: chardetng recognises
    // Shift_JIS; the wasm build reads them as windows-1252 (tests/wasm.rs).
    let d = decode(SHIFT_JIS_TEXT, Format::Text);
    assert_eq!((d.text.as_str(), d.encoding, d.how), ("設定ファイルを開きます。", "Shift_JIS", How::Guessed));
}
