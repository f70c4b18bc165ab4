//! Tests for `index::ivf`: the IVF layout of the fragmented site index.

use docent::index::dense::{quantize_rows, DenseIndex, DenseOptions};
use docent::index::ivf::{self, default_nlist, default_nprobe, Ivf, IvfOptions, Partition};

use crate::index::{brute, vectors};

fn flat() -> DenseOptions {
    DenseOptions { flat_threshold: usize::MAX, ..Default::default() }
}

/// An IVF over `rows` with its partitions.
fn build(rows: &[f32], dim: usize, opts: &IvfOptions) -> (Ivf, Vec<Partition>) {
    let index = ivf::train(rows, dim, opts).unwrap();
    let (codes, scales) = quantize_rows(rows, dim).unwrap();
    let parts = index.partition_rows(&codes, &scales).unwrap();
    (index, parts)
}

fn probe_search(index: &Ivf, parts: &[Partition], q: &[f32], nprobe: usize, k: usize) -> Vec<(u32, f32)> {
    let probed = index.probe(q, nprobe).unwrap();
    let refs: Vec<&Partition> = probed.iter().map(|&p| &parts[p as usize]).collect();
    ivf::search(&refs, q, k).unwrap()
}

fn ids(hits: &[(u32, f32)]) -> Vec<u32> {
    hits.iter().map(|h| h.0).collect()
}

#[test]
fn ivf_recall_at_10_against_f32_brute_force_on_clustered_data() {
    let (dim, n, seed) = (48, 6_000, 0x1F);
    let data = vectors(seed, n + 100, dim, 60);
    let (rows, queries) = data.split_at(n * dim);
    let (index, parts) = build(rows, dim, &IvfOptions::default());
    assert_eq!(index.len(), default_nlist(n));
    assert_eq!(parts.len(), index.len());
    assert_eq!(parts.iter().map(Partition::len).sum::<usize>(), n, "every row in one partition");
    let recall_at = |nprobe: usize| {
        let mut found = 0;
        for q in queries.chunks_exact(dim) {
            let truth = ids(&brute(rows, dim, q, 10));
            found += ids(&probe_search(&index, &parts, q, nprobe, 10))
                .iter()
                .filter(|i| truth.contains(i))
                .count();
        }
        found as f64 / (10 * queries.len() / dim) as f64
    };
    let at_default = recall_at(default_nprobe(index.len()));
    let at_one = recall_at(1);
    assert!(
        at_default >= 0.95,
        "recall@10 {at_default} at nprobe {} (seed {seed})",
        default_nprobe(index.len())
    );
    assert!(at_one < at_default, "probing more partitions should find more: {at_one} vs {at_default}");
    // At this seed: 0.456 at nprobe 1, 0.986 at the default (64 of 310 since the default became a third of the partitions, capped at 64; 24 before) and with every partition
    // (the int8 flat scan's own recall on these near-tied clusters).
    assert!(recall_at(index.len()) >= at_default);
}

#[test]
fn probing_every_partition_is_exactly_the_flat_scan() {
    let dim = 24;
    let data = vectors(5, 1_520, dim, 12);
    let (rows, queries) = data.split_at(1_500 * dim);
    let (index, parts) = build(rows, dim, &IvfOptions { nlist: Some(30), ..Default::default() });
    let dense = DenseIndex::build(rows, dim, &flat()).unwrap();
    for q in queries.chunks_exact(dim) {
        for k in [0, 1, 10, 100] {
            assert_eq!(probe_search(&index, &parts, q, index.len(), k), dense.search(q, k).unwrap(), "k {k}");
        }
        // A row's score is the dense index's score for it, whichever partitions are probed.
        let exact = dense.search_exact(q, 1_500).unwrap();
        for (id, score) in probe_search(&index, &parts, q, 3, 20) {
            assert_eq!(exact.iter().find(|h| h.0 == id).unwrap().1, score, "row {id}");
        }
    }
}

#[test]
fn search_merges_partitions_best_first_with_ties_by_id() {
    let dim = 16;
    let data = vectors(8, 800, dim, 4);
    let (index, parts) = build(&data, dim, &IvfOptions { nlist: Some(8), ..Default::default() });
    let q = &data[..dim];
    let probed = index.probe(q, 8).unwrap();
    assert_eq!(probed.len(), 8);
    let mut sorted = probed.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, (0..8).collect::<Vec<u32>>(), "probe lists every partition once");
    assert_eq!(index.probe(q, 100).unwrap().len(), 8);
    assert!(index.probe(q, 0).unwrap().is_empty());
    assert_eq!(index.probe(q, 1).unwrap()[0], index.assign(q).unwrap(), "a row's own partition comes first");
    // The same partition twice counts its rows once; order of partitions does not matter.
    let refs: Vec<&Partition> = parts.iter().collect();
    let mut reversed = refs.clone();
    reversed.reverse();
    reversed.push(refs[0]);
    let all = ivf::search(&refs, q, 50).unwrap();
    assert_eq!(ivf::search(&reversed, q, 50).unwrap(), all);
    assert!(all.windows(2).all(|w| w[0].1 > w[1].1 || (w[0].1 == w[1].1 && w[0].0 < w[1].0)));
    assert!(ivf::search(&[], q, 5).unwrap().is_empty());
    // Identical rows tie: the lower id comes first.
    let twins: Vec<f32> = data[..dim].iter().chain(&data[..dim]).copied().collect();
    let (_, tp) = build(&twins, dim, &IvfOptions::default());
    assert_eq!(ids(&tp[0].search(q, 2).unwrap()), [0, 1]);
}

#[test]
fn ivf_training_and_partitions_are_deterministic() {
    let dim = 32;
    let rows = vectors(21, 3_000, dim, 30);
    let encode = |opts: &IvfOptions| {
        let (index, parts) = build(&rows, dim, opts);
        let mut bytes = postcard::to_allocvec(&index).unwrap();
        for p in &parts {
            bytes.extend(postcard::to_allocvec(p).unwrap());
        }
        bytes
    };
    let opts = IvfOptions { nlist: Some(40), ..Default::default() };
    let first = encode(&opts);
    #[cfg(feature = "parallel")]
    for threads in [3, 1] {
        let got =
            rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap().install(|| encode(&opts));
        assert!(got == first, "the layout changed on {threads} threads");
    }
    assert!(encode(&opts) == first, "two builds differ");
    assert!(encode(&IvfOptions { seed: 9, ..opts.clone() }) != first, "the seed should change the start");
    // Training on a sample (more than 64 rows per centroid) is deterministic too.
    let sampled = IvfOptions { nlist: Some(10), ..Default::default() };
    assert!(encode(&sampled) == encode(&sampled));
}

#[test]
fn default_nlist_and_nprobe_follow_their_documented_ranges() {
    assert_eq!(default_nlist(0), 1);
    assert_eq!(default_nlist(511), 1);
    assert_eq!(default_nlist(2_408), 196);
    assert_eq!(default_nlist(20_000), 566);
    assert_eq!(default_nlist(1_000_000), 1_024);
    for nlist in [1, 2, 10, 196, 566, 1_024] {
        assert!((1..=nlist).contains(&default_nprobe(nlist)), "nlist {nlist}");
    }
    assert_eq!(default_nprobe(1), 1);
}

#[test]
fn small_empty_and_degenerate_inputs() {
    let dim = 8;
    // Below SINGLE_BELOW rows: one partition holding every row.
    let rows = vectors(3, 100, dim, 3);
    let (index, parts) = build(&rows, dim, &IvfOptions::default());
    assert_eq!((index.len(), parts.len(), parts[0].len()), (1, 1, 100));
    // No rows: one empty partition, searches find nothing.
    let (index, parts) = build(&[], dim, &IvfOptions::default());
    assert_eq!((index.len(), parts.len()), (1, 1));
    assert!(parts[0].search(&[1.0; 8], 5).unwrap().is_empty());
    // More centroids than rows, identical rows and zero rows: no panic, every row placed once,
    // empty partitions allowed.
    let mut same = [0.5f32; 8].repeat(20);
    same.extend([0.0; 8].repeat(5));
    let (index, parts) = build(&same, dim, &IvfOptions { nlist: Some(64), ..Default::default() });
    assert_eq!(index.len(), 25);
    assert_eq!(parts.iter().map(Partition::len).sum::<usize>(), 25);
    let zero = vec![0.0f32; dim];
    assert_eq!(index.probe(&zero, 3).unwrap().len(), 3);
    assert_eq!(ivf::search(&parts.iter().collect::<Vec<_>>(), &zero, 3).unwrap().len(), 3);
    // Zero iterations keep the initial rows as centroids.
    let (index, _) = build(&rows, dim, &IvfOptions { nlist: Some(5), iterations: 0, ..Default::default() });
    assert_eq!(index.len(), 5);
}

#[test]
fn ivf_errors_say_what_was_expected_and_found() {
    let dim = 8;
    let rows = vectors(2, 600, dim, 4);
    let err = |r: docent::Result<Ivf>| r.unwrap_err().to_string();
    let e = err(ivf::train(&rows, dim, &IvfOptions { nlist: Some(0), ..Default::default() }));
    assert!(e.contains("nlist") && e.contains("found 0"), "{e}");
    let e = err(ivf::train(&rows, dim, &IvfOptions { iterations: 5_000, ..Default::default() }));
    assert!(e.contains("iterations") && e.contains("5000"), "{e}");
    let e = err(ivf::train(&rows[..13], dim, &IvfOptions::default()));
    assert!(e.contains("not a multiple of dim 8"), "{e}");
    let mut bad = rows.clone();
    bad[17] = f32::NAN;
    let e = err(ivf::train(&bad, dim, &IvfOptions::default()));
    assert!(e.contains("row 2 column 1"), "{e}");
    let e = err(ivf::train_quantized(&[1; 8], &[-1.0], dim, &IvfOptions::default()));
    assert!(e.contains("row 0 has scale -1"), "{e}");

    let (index, parts) = build(&rows, dim, &IvfOptions::default());
    let e = index.probe(&[0.0; 7], 1).unwrap_err().to_string();
    assert!(e.contains("query has 7 dimensions; the index has 8"), "{e}");
    let e = index.assign(&[f32::INFINITY; 8]).unwrap_err().to_string();
    assert!(e.contains("query column 0 is inf"), "{e}");
    let e = parts[0].search(&[f32::NAN; 8], 3).unwrap_err().to_string();
    assert!(e.contains("must be finite"), "{e}");
    let other = build(&vectors(2, 10, 4, 1), 4, &IvfOptions::default()).1;
    let e = ivf::search(&[&parts[0], &other[0]], &[0.1; 8], 3).unwrap_err().to_string();
    assert!(e.contains("8 and 4 dimensions"), "{e}");
    let e = index.partition_rows(&[0; 9], &[1.0]).unwrap_err().to_string();
    assert!(e.contains("1 rows of 8 dimensions but 9 codes"), "{e}");
}

/// The postcard form of a value with one field changed (`edit` gets the decoded parts).
fn encode_parts<T: serde::Serialize>(v: &T) -> Vec<u8> {
    postcard::to_allocvec(v).unwrap()
}

#[test]
fn ivf_and_partition_round_trip_and_corruption_is_refused_by_name() {
    let dim = 8;
    let rows = vectors(6, 700, dim, 5);
    let (index, parts) = build(&rows, dim, &IvfOptions { nlist: Some(4), ..Default::default() });
    let bytes = encode_parts(&index);
    let back: Ivf = docent::format::decode(&bytes, "ivf", "fragments/ivf-x.bin").unwrap();
    assert_eq!(back, index);
    let p = parts.iter().find(|p| p.len() >= 2).unwrap();
    let pb = encode_parts(p);
    let back: Partition = docent::format::decode(&pb, "vec", "fragments/vec-x.bin").unwrap();
    assert_eq!(&back, p);

    // Field layouts (postcard, in declaration order): Ivf {dim, scales, codes},
    // Partition {dim, ids, scales, codes}; re-encode altered copies through serde tuples.
    let (scales, codes) = split_ivf(&index);
    let decode_ivf =
        |b: Vec<u8>| docent::format::decode::<Ivf>(&b, "ivf", "fragments/ivf-x.bin").unwrap_err().to_string();
    let e = decode_ivf(encode_parts(&(dim, &scales, &codes[1..])));
    assert!(
        e.contains("fragments/ivf-x.bin") && e.contains("corrupted IVF centroids") && e.contains("codes"),
        "{e}"
    );
    let e = decode_ivf(encode_parts(&(0usize, &scales, &codes)));
    assert!(e.contains("dimension 0"), "{e}");
    let mut nan = scales.clone();
    nan[2] = f32::NAN;
    let e = decode_ivf(encode_parts(&(dim, &nan, &codes)));
    assert!(e.contains("row 2 has scale NaN"), "{e}");
    let e = decode_ivf(encode_parts(&(dim, Vec::<f32>::new(), Vec::<i8>::new())));
    assert!(e.contains("0 centroids"), "{e}");
    let e = decode_ivf(bytes[..bytes.len() - 3].to_vec());
    assert!(e.contains("fragments/ivf-x.bin"), "{e}");

    let ids = p.ids().to_vec();
    let (ps, pc) = split_partition(p);
    let decode_part = |b: Vec<u8>| {
        docent::format::decode::<Partition>(&b, "vec", "fragments/vec-x.bin").unwrap_err().to_string()
    };
    let mut swapped = ids.clone();
    swapped.swap(0, 1);
    let e = decode_part(encode_parts(&(dim, &swapped, &ps, &pc)));
    assert!(e.contains("corrupted IVF partition: row ids not ascending at position 1"), "{e}");
    let e = decode_part(encode_parts(&(dim, &ids[1..], &ps, &pc)));
    assert!(e.contains("corrupted IVF partition") && e.contains("scales"), "{e}");
    let e = decode_part(encode_parts(&(dim, &ids, &ps, &pc[..pc.len() - 1])));
    assert!(e.contains("codes"), "{e}");
    let mut inf = ps.clone();
    inf[0] = f32::INFINITY;
    let e = decode_part(encode_parts(&(dim, &ids, &inf, &pc)));
    assert!(e.contains("row 0 has scale inf"), "{e}");
    let e = decode_part(pb[..pb.len() / 2].to_vec());
    assert!(e.contains("fragments/vec-x.bin"), "{e}");
}

/// The scales and codes of an [`Ivf`] (through its serde form, the only way outside the crate).
fn split_ivf(index: &Ivf) -> (Vec<f32>, Vec<i8>) {
    let (_, s, c): (usize, Vec<f32>, Vec<i8>) = postcard::from_bytes(&encode_parts(index)).unwrap();
    (s, c)
}

fn split_partition(p: &Partition) -> (Vec<f32>, Vec<i8>) {
    let (_, _, s, c): (usize, Vec<u32>, Vec<f32>, Vec<i8>) = postcard::from_bytes(&encode_parts(p)).unwrap();
    (s, c)
}

/// The IVF layout of [`golden_rows`] (centroids and partitions) hashes to the value in
/// tests/fixtures/ivf-golden.txt: training is integer arithmetic and f64 sums in a fixed order,
/// so it must not drift between builds or targets. Regenerate with
/// `DOCENT_WRITE_FIXTURES=1 cargo test --test tests ivf_golden` when the layout changes on purpose.
#[test]
fn ivf_golden_layout_is_stable() {
    let rows = crate::index::golden_rows();
    let (index, parts) = build(&rows, 32, &IvfOptions::default());
    let mut bytes = encode_parts(&index);
    for p in &parts {
        bytes.extend(encode_parts(p));
    }
    let hash = format!("{:016x}\n", xxhash_rust::xxh3::xxh3_64(&bytes));
    let path = crate::common::fixture("ivf-golden.txt");
    if std::env::var_os("DOCENT_WRITE_FIXTURES").is_some() {
        std::fs::write(&path, &hash).unwrap();
    }
    assert_eq!(std::fs::read_to_string(&path).unwrap(), hash, "the IVF layout changed");
}
