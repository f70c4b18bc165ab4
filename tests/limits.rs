//! Size limits (`docent::Limits`): the native default, the browser build's set as plain data, and
//! every path that checks one (adding a document, loading an index, reusing a previous one), with
//! the exact message and the index unchanged.

use docent::chunk::ChunkOptions;
use docent::engine::{Docent, Options};

use crate::common::{built, doc, hashing, unchanged};

/// `Limits` refuse a document that is too large and a document or an index that would hold too
/// many chunks, before the work, with the index unchanged (the wasm edge's use of
/// `Limits::BROWSER` is checked in `tests/wasm.rs`).
#[test]
fn size_limits_refuse_before_the_work_and_leave_the_index_unchanged() {
    assert_eq!(
        docent::Limits::default(),
        docent::Limits { max_chunks: u32::MAX as usize, max_document_bytes: u32::MAX as usize, scope: "" },
        "native defaults: what u32 chunk ids and offsets hold, nothing added to messages"
    );
    assert_eq!(docent::Limits::default(), docent::Limits::NATIVE);
    assert_eq!(Docent::new(hashing(), Options::default()).unwrap().limits(), &docent::Limits::NATIVE);
    let mut e = built();
    e.set_limits(docent::Limits { max_chunks: 5, max_document_bytes: 1000, ..docent::Limits::NATIVE });
    let big = doc("big.md", &"word ".repeat(200));
    let err = unchanged(&mut e, |e| e.add_document(big).unwrap_err().to_string());
    assert_eq!(err, "document big.md: 1006 bytes of text; at most 1000 bytes fit in one document; split it into several documents");
    let opts = ChunkOptions { max_tokens: 16, overlap_tokens: 0 };
    let mut e = Docent::new(hashing(), Options { chunk: opts, ..Default::default() }).unwrap();
    e.set_limits(docent::Limits { max_chunks: 5, max_document_bytes: 1000, ..docent::Limits::NATIVE });
    e.add_document(doc("a.md", &"tomato ".repeat(40))).unwrap(); // 3 chunks of 16 words
    e.build(&mut |_| {}).unwrap();
    let err =
        unchanged(&mut e, |e| e.add_document(doc("b.md", &"water ".repeat(40))).unwrap_err().to_string());
    assert_eq!(err, "document b.md: its 3 chunks would make the index hold 6; at most 5 fit; index large sites natively with `docent index`, or split the corpus");
    e.add_document(doc("c.md", "one two")).unwrap();
    e.add_document(doc("d.md", "three four")).unwrap();
    let bytes = e.to_bytes().unwrap();
    let limits = docent::Limits { max_chunks: 4, max_document_bytes: 1000, ..docent::Limits::NATIVE };
    let err = Docent::from_bytes_with_limits(&bytes, hashing(), "x.bin", limits).unwrap_err().to_string();
    assert_eq!(err, "x.bin: the index holds 5 chunks; at most 4 can be loaded; search it natively with `docent search`, or split the corpus");
    let loaded = Docent::from_bytes_with_limits(
        &bytes,
        hashing(),
        "x.bin",
        docent::Limits { max_chunks: 5, ..limits },
    )
    .unwrap();
    assert_eq!(loaded.limits().max_chunks, 5, "a loaded index keeps the limits it was loaded with");
}

/// `Limits::BROWSER` is data, not a target switch: natively too it holds the browser build's
/// numbers and gives its messages (the wasm edge sets it; `tests/wasm.rs` checks that end), on
/// every path that checks a limit, `reuse_from_bytes` included (it loads with the engine's limits).
#[test]
fn browser_limits_give_the_browser_messages_on_any_target() {
    const IN_BROWSER: &str = "in the browser build (wasm32 memory is at most 4 GiB)";
    let browser = docent::Limits::BROWSER;
    assert_eq!((browser.max_chunks, browser.max_document_bytes), (500_000, 64 * 1024 * 1024));
    assert_eq!(browser.scope, IN_BROWSER);
    assert_eq!(
        browser.check_document("big.txt", 64 * 1024 * 1024 + 1).unwrap_err().to_string(),
        format!("document big.txt: 67108865 bytes of text; at most 67108864 bytes (64 MiB) fit in one document {IN_BROWSER}; split it into several documents")
    );
    browser.check_document("big.txt", 64 * 1024 * 1024).unwrap();

    let options = Options { chunk: ChunkOptions { max_tokens: 16, overlap_tokens: 0 }, ..Default::default() };
    let small = docent::Limits { max_chunks: 4, ..browser };
    let mut e = Docent::new(hashing(), options.clone()).unwrap();
    e.set_limits(small);
    e.add_document(doc("a.md", &"tomato ".repeat(40))).unwrap(); // 3 chunks of 16 words
    e.build(&mut |_| {}).unwrap();
    let err =
        unchanged(&mut e, |e| e.add_document(doc("b.md", &"water ".repeat(40))).unwrap_err().to_string());
    assert_eq!(err, format!("document b.md: its 3 chunks would make the index hold 6; at most 4 fit {IN_BROWSER}; index large sites natively with `docent index`, or split the corpus"));
    e.set_limits(docent::Limits::NATIVE);
    e.add_document(doc("c.md", "one two")).unwrap();
    e.add_document(doc("d.md", "three four")).unwrap();
    let bytes = e.to_bytes().unwrap(); // 5 chunks

    let err = Docent::from_bytes_with_limits(&bytes, hashing(), "x.bin", small).unwrap_err().to_string();
    let too_many = format!("x.bin: the index holds 5 chunks; at most 4 can be loaded {IN_BROWSER}; search it natively with `docent search`, or split the corpus");
    assert_eq!(err, too_many);
    let mut next = Docent::new(hashing(), options.clone()).unwrap();
    next.set_limits(small);
    next.reuse_from_bytes(&bytes, "x.bin").unwrap();
    assert_eq!(
        next.reuse_report().rebuild.as_deref(),
        Some(format!("the previous index could not be loaded: {too_many}").as_str()),
        "reuse_from_bytes loads the previous index with the engine's limits"
    );
    let mut next = Docent::new(hashing(), options).unwrap();
    next.reuse_from_bytes(&bytes, "x.bin").unwrap();
    assert_eq!(next.reuse_report().rebuild, None, "with the native limits it is reused");
}
