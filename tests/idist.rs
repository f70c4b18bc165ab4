//! instant-distance as the dense graph (`GraphKind::InstantDistance`, cargo feature
//! `instant-distance`): recall against the f32 brute force next to docent's own HNSW on the same
//! rows, its own section of the index file (round trip through the engine, checks on load), and
//! the option's errors.

use docent::engine::{Docent, Options};
use docent::format;
use docent::index::dense::{DenseIndex, DenseOptions, GraphKind};
use docent::ingest::{Document, Section};

use crate::common::hashing;
use crate::index::{recall, vectors};

fn graph(kind: GraphKind) -> DenseOptions {
    DenseOptions { flat_threshold: 0, graph: kind, ..Default::default() }
}

#[test]
fn both_graphs_reach_recall_095_against_f32_brute_force() {
    let (n, dim, nq) = (5_000, 64, 50);
    for seed in [11u64, 12] {
        let data = vectors(seed, n + nq, dim, 100);
        let (rows, queries) = data.split_at(n * dim);
        for kind in [GraphKind::Hnsw, GraphKind::InstantDistance] {
            let idx = DenseIndex::build(rows, dim, &graph(kind)).unwrap();
            assert_eq!(idx.kind(), kind.name());
            let r = recall(&idx, rows, queries, dim);
            eprintln!("seed {seed}: {} recall@10 {r:.3}", kind.name());
            assert!(r >= 0.95, "seed {seed}: {} recall@10 {r:.3} < 0.95", kind.name());
        }
    }
}

#[test]
fn instant_distance_scores_are_the_exact_scores_and_its_params_are_recorded() {
    let dim = 32;
    let data = vectors(3, 2_010, dim, 20);
    let (rows, queries) = data.split_at(2_000 * dim);
    let opts =
        DenseOptions { ef_construction: 40, ef_search: 24, seed: 7, ..graph(GraphKind::InstantDistance) };
    let idx = DenseIndex::build(rows, dim, &opts).unwrap();
    let p = idx.instant_distance_params().expect("an instant-distance graph");
    assert_eq!((p.ef_construction, p.ef_search, p.seed, p.heuristic), (40, 24, 7, true));
    assert!(idx.hnsw_params().is_none());
    for q in queries.chunks_exact(dim) {
        let exact = idx.search_exact(q, 2_000).unwrap();
        for (id, score) in idx.search(q, 10).unwrap() {
            let e = exact.iter().find(|h| h.0 == id).unwrap();
            assert_eq!(score, e.1, "row {id}");
        }
        // More rows than its fixed ef_search: the flat scan answers, exactly.
        assert_eq!(idx.search(q, 30).unwrap(), exact[..30].to_vec());
    }
    // Unset ef_search: at least 128, so the engine's 100 fusion candidates come from the graph.
    let d = DenseIndex::build(rows, dim, &graph(GraphKind::InstantDistance)).unwrap();
    assert_eq!(d.instant_distance_params().unwrap().ef_search, 128);
}

fn doc(i: usize) -> Document {
    let text =
        format!("page {i} about topic {} and subject {} with words w{} w{}", i % 17, i % 5, i % 23, i % 31);
    Document {
        url: format!("p{i}.html"),
        title: format!("Page {i}"),
        sections: vec![Section { anchor: None, headings: vec![], text }],
    }
}

fn engine_with(kind: GraphKind) -> Docent {
    let mut options = Options::default();
    options.dense = DenseOptions { flat_threshold: 0, ..Default::default() };
    options.dense.graph = kind;
    let mut e = Docent::new(hashing(), options).unwrap();
    for i in 0..300 {
        e.add_document(doc(i)).unwrap();
    }
    e.build(&mut |_| {}).unwrap();
    e
}

#[test]
fn engine_writes_the_graph_in_its_own_section_and_reads_it_back() {
    let e = engine_with(GraphKind::InstantDistance);
    let bytes = e.to_bytes().unwrap();
    let sections = format::read(&bytes, "t").unwrap();
    let names: Vec<&str> = sections.iter().map(|s| s.name.as_str()).collect();
    assert!(names.contains(&DenseIndex::SEPARATE_GRAPH_SECTION), "{names:?}");
    let back = Docent::from_bytes(&bytes, hashing(), "t").unwrap();
    for q in ["topic 3 subject 2", "w7 w11", "page 42"] {
        let a: Vec<String> = e.search(q, 5).unwrap().hits.iter().map(|h| h.url.clone()).collect();
        let b: Vec<String> = back.search(q, 5).unwrap().hits.iter().map(|h| h.url.clone()).collect();
        assert_eq!(a, b, "{q}");
    }
    assert_eq!(back.to_bytes().unwrap(), bytes, "re-encoding differs");
    // docent's own graph stays inside the dense section: no extra section.
    let own = engine_with(GraphKind::Hnsw).to_bytes().unwrap();
    let sections = format::read(&own, "t").unwrap();
    assert!(sections.iter().all(|s| s.name != DenseIndex::SEPARATE_GRAPH_SECTION));
}

/// A container with the rows of `idx` and the graph section `graph`.
fn container(idx: &DenseIndex, graph: &[u8]) -> Vec<u8> {
    let rows = format::encode(idx).unwrap();
    format::write(&[("vectors", &rows), (DenseIndex::SEPARATE_GRAPH_SECTION, graph)])
}

fn load(bytes: &[u8]) -> docent::Result<DenseIndex> {
    let sections = format::read(bytes, "t")?;
    let mut idx: DenseIndex = format::decode(format::section(&sections, "vectors", "t")?, "vectors", "t")?;
    if let Some(s) = sections.iter().find(|s| s.name == DenseIndex::SEPARATE_GRAPH_SECTION) {
        idx.attach_separate_graph(s.body, "t")?;
    }
    Ok(idx)
}

fn graph_section(idx: &DenseIndex) -> Vec<u8> {
    let mut out = Vec::new();
    idx.encode_separate_graph(&mut out).unwrap();
    out
}

#[test]
fn a_graph_section_that_does_not_fit_the_rows_is_refused() {
    let dim = 16;
    let data = vectors(5, 600, dim, 8);
    let opts = graph(GraphKind::InstantDistance);
    let big = DenseIndex::build(&data, dim, &opts).unwrap();
    let small = DenseIndex::build(&data[..599 * dim], dim, &opts).unwrap();
    let section = graph_section(&big);
    // The graph of 600 rows beside 599 rows.
    let e = load(&container(&small, &section)).unwrap_err().to_string();
    assert!(e.contains("dense_idist") && e.contains("600 points") && e.contains("599 rows"), "{e}");
    // A graph beside an index that has docent's own.
    let own = DenseIndex::build(&data, dim, &graph(GraphKind::Hnsw)).unwrap();
    let e = load(&container(&own, &section)).unwrap_err().to_string();
    assert!(e.contains("already has a graph"), "{e}");
    // Cut short.
    let e = load(&container(&big, &section[..section.len() / 2])).unwrap_err().to_string();
    assert!(e.contains("dense_idist"), "{e}");
}

#[test]
fn any_changed_byte_of_the_graph_section_is_refused_or_searches_safely() {
    let dim = 8;
    let data = vectors(6, 300, dim, 4);
    let idx = DenseIndex::build(&data, dim, &graph(GraphKind::InstantDistance)).unwrap();
    let section = graph_section(&idx);
    let q = &data[..dim];
    let mut refused = 0;
    for i in (0..section.len()).step_by(13) {
        for flip in [0x01u8, 0x80, 0xff] {
            let mut s = section.clone();
            s[i] ^= flip;
            match load(&container(&idx, &s)) {
                Err(e) => {
                    assert!(e.to_string().contains("dense_idist"), "{e}");
                    refused += 1;
                }
                // Still a valid graph over these rows (another link, say): it must search.
                Ok(back) => assert!(back.search(q, 5).unwrap().len() <= 5),
            }
        }
    }
    assert!(refused > 0);
}

#[test]
fn the_graph_option_names_what_it_accepts() {
    assert_eq!(GraphKind::parse("hnsw").unwrap(), GraphKind::Hnsw);
    assert_eq!(GraphKind::parse("instant-distance").unwrap(), GraphKind::InstantDistance);
    let e = GraphKind::parse("faiss").unwrap_err().to_string();
    assert!(e.contains("graph") && e.contains("hnsw, instant-distance") && e.contains("\"faiss\""), "{e}");
}
