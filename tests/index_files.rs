//! Hostile index files (part of the bad-input matrix of `tests/hostile.rs`): truncated, flipped,
//! from another format version, or crafted past the checksums. Each error names the field or
//! section that is wrong with what was expected and found; nothing panics; a good file
//! re-serialises to the same bytes.

use std::sync::Arc;

use docent::embed::hashing::Hashing;
use docent::engine::{Docent, Options};

use crate::common::{doc, hashing};
use crate::fuzz_harness;

fn tiny_index() -> Vec<u8> {
    let mut e = Docent::new(Arc::new(Hashing::new(8).unwrap()), Options::default()).unwrap();
    e.add_document(doc("a.md", "Tomatoes need water.")).unwrap();
    e.build(&mut |_| {}).unwrap();
    e.to_bytes().unwrap()
}

fn load(bytes: &[u8]) -> String {
    Docent::from_bytes(bytes, Arc::new(Hashing::new(8).unwrap()), "x.bin")
        .map(|_| ())
        .unwrap_err()
        .to_string()
}

/// A header field of an index file: its name and byte range.
type Field = (&'static str, usize, usize);
/// A section body of an index file: its name and byte range.
type Body = (String, usize, usize);

/// The byte ranges of an index file: each header field and each section body.
fn layout(bytes: &[u8]) -> (Vec<Field>, Vec<Body>) {
    let mut fields = vec![("magic", 0, 8), ("version", 8, 12), ("section count", 12, 16)];
    let sections = docent::format::read(bytes, "t").unwrap();
    let mut pos = 16;
    for s in &sections {
        let n = s.name.len();
        fields.push(("section name length", pos, pos + 1));
        fields.push(("section name", pos + 1, pos + 1 + n));
        fields.push(("section offset", pos + 1 + n, pos + 9 + n));
        fields.push(("section length", pos + 9 + n, pos + 17 + n));
        fields.push(("section checksum", pos + 17 + n, pos + 25 + n));
        pos += 25 + n;
    }
    fields.push(("header checksum", pos, pos + 8));
    let bodies = sections
        .iter()
        .map(|s| {
            let start = s.body.as_ptr() as usize - bytes.as_ptr() as usize;
            (s.name.clone(), start, start + s.body.len())
        })
        .collect();
    (fields, bodies)
}

/// Cut inside every header field and at every section's first, middle and last byte: the error
/// names the field or the section, the bytes needed and the bytes there are.
#[test]
fn an_index_truncated_at_any_boundary_says_where() {
    let bytes = tiny_index();
    let (fields, bodies) = layout(&bytes);
    assert_eq!(load(&bytes[..0]), "x.bin: the file is empty, not a docent index");
    for cut in 1..8 {
        assert_eq!(
            load(&bytes[..cut]),
            "x.bin: not a docent index (the file does not start with the magic bytes DOCENTIX)"
        );
    }
    for &(field, start, end) in &fields[1..] {
        for cut in start..end {
            assert_eq!(
                load(&bytes[..cut]),
                format!("x.bin: truncated: the header field '{field}' needs bytes {start}..{end} but the file has {cut} bytes"),
                "cut at {cut}"
            );
        }
    }
    for (name, start, end) in &bodies {
        for cut in [*start, (start + end) / 2, end - 1] {
            assert_eq!(
                load(&bytes[..cut]),
                format!("x.bin: truncated: section '{name}' needs bytes {start}..{end} but the file has {cut} bytes"),
            );
        }
    }
}

/// Every byte of a small index flipped (two ways): the error names what was hit.
#[test]
fn a_flipped_byte_at_every_position_is_named() {
    let bytes = tiny_index();
    let (fields, bodies) = layout(&bytes);
    let header_sum = "x.bin: corrupted: the header checksum does not match (the section table was altered)";
    for i in 0..bytes.len() {
        for mask in [0x01u8, 0x80] {
            let mut b = bytes.clone();
            b[i] ^= mask;
            let err = load(&b);
            if let Some((name, _, end)) = bodies.iter().find(|(_, s, e)| (*s..*e).contains(&i)) {
                let len = end - bodies.iter().find(|(n, ..)| n == name).unwrap().1;
                assert_eq!(
                    err,
                    format!(
                        "x.bin: corrupted: the checksum of section '{name}' does not match its {len} bytes"
                    )
                );
                continue;
            }
            let field = fields.iter().find(|(_, s, e)| (*s..*e).contains(&i)).map(|f| f.0).unwrap();
            match field {
                "magic" => assert_eq!(
                    err,
                    "x.bin: not a docent index (the file does not start with the magic bytes DOCENTIX)"
                ),
                "version" => {
                    let v = u32::from_le_bytes(b[8..12].try_into().unwrap());
                    if (docent::format::OLDEST_READABLE_VERSION..=docent::format::FORMAT_VERSION).contains(&v)
                    {
                        // Another readable version: the header checksum still catches the flip.
                        assert_eq!(err, header_sum, "version {v}");
                    } else {
                        assert_eq!(err, format!("x.bin: unsupported index format version {v} (this build of docent reads version {}); rebuild the index with this version of docent", docent::format::supported_versions()));
                    }
                }
                // A changed count, name length or length shifts or stretches the table: it may run
                // past the file, or read fine and fail the header checksum.
                "section count" | "section name length" | "section length" | "section offset" => assert!(
                    err == header_sum
                        || err.starts_with("x.bin: truncated: ")
                        || err.starts_with("x.bin: corrupted header: "),
                    "{field} byte {i}: {err}"
                ),
                _ => assert_eq!(err, header_sum, "{field} byte {i}"),
            }
        }
    }
}

#[test]
fn an_index_from_a_newer_or_older_format_version_is_refused() {
    let bytes = tiny_index();
    let current = docent::format::FORMAT_VERSION;
    let oldest = docent::format::OLDEST_READABLE_VERSION;
    assert_eq!(docent::format::supported_versions(), "2 or 3");
    for v in [0u32, oldest - 1, current + 1, u32::MAX] {
        let mut b = bytes.clone();
        b[8..12].copy_from_slice(&v.to_le_bytes());
        let expected = format!("x.bin: unsupported index format version {v} (this build of docent reads version 2 or 3); rebuild the index with this version of docent");
        assert_eq!(load(&b), expected);
        assert_eq!(Docent::embedder_of(&b, "x.bin").unwrap_err().to_string(), expected);
        // Reusing such an index is no error: everything is embedded anew, and the report says why.
        let mut e = Docent::new(Arc::new(Hashing::new(8).unwrap()), Options::default()).unwrap();
        e.reuse_from_bytes(&b, "x.bin").unwrap();
        assert_eq!(
            e.reuse_report().rebuild.as_deref(),
            Some(format!("the previous index could not be loaded: {expected}").as_str())
        );
    }
}

/// Re-frames `bytes` with section `name` replaced by `body`, checksums valid: what a crafted (or
/// buggy) file looks like once it is past the checksums.
fn with_section(bytes: &[u8], name: &str, body: &[u8]) -> Vec<u8> {
    let sections = docent::format::read(bytes, "t").unwrap();
    let parts: Vec<(&str, &[u8])> =
        sections.iter().map(|s| (s.name.as_str(), if s.name == name { body } else { s.body })).collect();
    docent::format::write(&parts)
}

/// Sections that pass their checksums but contradict themselves or each other: each is named
/// with what is wrong, and nothing panics later (these are the shapes the fuzzer found).
#[test]
fn crafted_sections_with_valid_checksums_give_precise_errors() {
    let bytes = tiny_index();
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        // DenseIndex { dim, codes, scales, graph: Option<Graph> }
        ("dense", enc(&(8usize, vec![1i8; 8], vec![0.5f32; 3], None::<u8>)), "section 'dense' could not be decoded: corrupted dense index: 3 scales of 8 dimensions but 8 codes"),
        ("dense", enc(&(8usize, vec![1i8; 8], vec![f32::NAN], None::<u8>)), "section 'dense' could not be decoded: corrupted dense index: row 0 has scale NaN"),
        ("dense", enc(&(0usize, Vec::<i8>::new(), Vec::<f32>::new(), None::<u8>)), "section 'dense' could not be decoded: corrupted dense index: dimension 0 (expected 1..=65536)"),
        ("dense", enc(&(1usize << 60, Vec::<i8>::new(), Vec::<f32>::new(), None::<u8>)), "section 'dense' could not be decoded: corrupted dense index: dimension 1152921504606846976 (expected 1..=65536)"),
        // Graph { params: (m, ef_construction, ef_search, heuristic, seed), entry, top, layer0,
        // upper_nodes, upper_levels, upper_start, upper } over 1 row: a link past the rows, an
        // impossible m, a layer 0 of the wrong size, an entry past the rows, an upper block at
        // the wrong offset.
        ("dense", enc(&(8usize, vec![1i8; 8], vec![0.5f32], Some(((2u32, 10u32, 10u32, false, 1u64), 0u32, 0u8, vec![5u32, u32::MAX, u32::MAX, u32::MAX], Vec::<u32>::new(), Vec::<u8>::new(), Vec::<u32>::new(), Vec::<u32>::new())))), "section 'dense' could not be decoded: corrupted dense index: corrupted HNSW graph: link to node 5 of 1 rows"),
        ("dense", enc(&(8usize, vec![1i8; 8], vec![0.5f32], Some(((1u32, 10u32, 10u32, false, 1u64), 0u32, 0u8, vec![u32::MAX; 2], Vec::<u32>::new(), Vec::<u8>::new(), Vec::<u32>::new(), Vec::<u32>::new())))), "section 'dense' could not be decoded: corrupted dense index: corrupted HNSW graph: m 1, ef_construction 10, ef_search 10 (expected m in 2..=64 and both ef at least 1)"),
        ("dense", enc(&(8usize, vec![1i8; 8], vec![0.5f32], Some(((2u32, 10u32, 10u32, false, 1u64), 0u32, 0u8, vec![u32::MAX; 3], Vec::<u32>::new(), Vec::<u8>::new(), Vec::<u32>::new(), Vec::<u32>::new())))), "section 'dense' could not be decoded: corrupted dense index: corrupted HNSW graph: 3 layer-0 links for 1 rows of 2·2"),
        ("dense", enc(&(8usize, vec![1i8; 8], vec![0.5f32], Some(((2u32, 10u32, 10u32, false, 1u64), 7u32, 0u8, vec![u32::MAX; 4], Vec::<u32>::new(), Vec::<u8>::new(), Vec::<u32>::new(), Vec::<u32>::new())))), "section 'dense' could not be decoded: corrupted dense index: corrupted HNSW graph: entry 7 of 1 rows"),
        ("dense", enc(&(8usize, vec![1i8; 8], vec![0.5f32], Some(((2u32, 10u32, 10u32, false, 1u64), 0u32, 1u8, vec![u32::MAX; 4], vec![0u32], vec![1u8], vec![3u32], vec![u32::MAX; 2])))), "section 'dense' could not be decoded: corrupted dense index: corrupted HNSW graph: upper node 0 has level 1 and offset 3 (expected level 1..=15, offset 0)"),
        // Bm25 (params, terms with a postings list per field, per-field lengths, deletions,
        // per-field live tokens, live documents): a posting past the last document, …
        ("bm25", enc(&((1.2f32, 0.75f32, 1.0f32, 0.5f32, 2.0f32, 0.5f32), vec![("tomato".to_string(), ((0u32, Vec::<(u32, u32)>::new()), (0u32, Vec::<(u32, u32)>::new()), (5u32, vec![(5u32, 1u32)])))], vec![[0u32, 0, 3]], vec![false], [0u64, 0, 3], 1u32)), "section 'bm25' could not be decoded: corrupted BM25: the postings of \"tomato\" leave the 1 documents or repeat one"),
        ("bm25", enc(&((1.2f32, 0.75f32, 1.0f32, 0.5f32, 2.0f32, 0.5f32), Vec::<(String, ())>::new(), vec![[0u32, 0, 3]], vec![true, false], [0u64, 0, 3], 1u32)), "section 'bm25' could not be decoded: corrupted BM25: 1 document lengths but 2 deletion flags"),
        ("bm25", enc(&((1.2f32, 0.75f32, 1.0f32, 0.5f32, 2.0f32, 0.5f32), Vec::<(String, ())>::new(), vec![[0u32, 0, 3]], vec![false], [0u64, 0, 9], 1u32)), "section 'bm25' could not be decoded: corrupted BM25: 1 live documents of [0, 0, 3] tokens, but the header says 1 of [0, 0, 9]"),
        // BM25F parameters out of their documented ranges.
        ("bm25", enc(&((1.2f32, 0.75f32, -1.0f32, 0.5f32, 2.0f32, 0.5f32), Vec::<(String, ())>::new(), vec![[0u32, 0, 3]], vec![false], [0u64, 0, 3], 1u32)), "section 'bm25' could not be decoded: corrupted BM25: invalid bm25 title_weight: expected 0..=10, found -1"),
        ("docs", vec![1, 4, b'a', 0xff, b'.', b'd'], "section 'docs' could not be decoded: Tried to parse invalid utf-8"),
        ("chunks", vec![200], "section 'chunks' could not be decoded: Hit the end of buffer, expected more data"),
        ("meta", b"{\"docent_version\": \"0.1.0\"".to_vec(), "section 'meta' could not be decoded: EOF while parsing an object at line 1 column 26"),
        ("meta", vec![b'{', 0xff, b'}'], "section 'meta' could not be decoded: key must be a string at line 1 column 2"),
    ];
    for (section, body, expected) in cases {
        let b = with_section(&bytes, section, &body);
        assert_eq!(load(&b), format!("x.bin: {expected}"), "{section}");
        fuzz_harness::index_loader(&b);
    }
}

/// The postcard encoding of a plain tuple that mirrors a section type's layout.
fn enc<T: serde::Serialize>(value: &T) -> Vec<u8> {
    postcard::to_allocvec(value).unwrap()
}

/// A dimension past what int8 dot products can sum in `i32` is refused before any allocation
/// (found by fuzzing: an index file of 0 rows claiming 2^60 dimensions loaded, and a query of
/// that dimension could not even be allocated). NaN/inf/ragged vectors and wrong query
/// dimensions: `index::dense_errors_say_what_was_expected_and_found`.
#[test]
fn vectors_of_absurd_dimension_are_refused() {
    use docent::index::dense::{DenseIndex, DenseOptions, MAX_DIM};
    let err = DenseIndex::build(&[], MAX_DIM + 1, &DenseOptions::default()).unwrap_err().to_string();
    assert_eq!(err, "invalid dim: expected a dimension of at most 65536, found 65537");
    let ok = DenseIndex::build(&vec![0.25; 2 * MAX_DIM], MAX_DIM, &DenseOptions::default()).unwrap();
    let hits = ok.search(&vec![0.25; MAX_DIM], 2).unwrap();
    assert_eq!(hits.len(), 2);
    assert!((hits[0].1 - 1.0).abs() < 1e-3, "{hits:?}");
}

/// `to_bytes` encodes the sections straight into the file now (to halve its peak memory); the
/// bytes must be exactly what the format always wrote: the fixture of the current version
/// re-serialises unchanged.
#[test]
fn reserialising_the_v3_fixture_gives_the_same_bytes() {
    let bytes = std::fs::read(crate::common::fixture("index-v3/index.bin")).unwrap();
    let e = Docent::from_bytes(&bytes, hashing(), "index-v3").unwrap();
    assert!(e.to_bytes().unwrap() == bytes, "to_bytes of a loaded index differs from the file");
}
