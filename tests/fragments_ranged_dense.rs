//! Ranged IVF partitions (`docent::fragments`, the dense layout of large sites): a hybrid question
//! reads the sign codes of its probed partitions with the term postings, then the int8 rows of at
//! most `RESCORE` candidates; the dense hits stay those of the flat scan, scored exactly; a
//! damaged or foreign partition file is refused naming itself.

use docent::fragments::{
    block_on, DenseLayout, FragmentKind, Layout, Lookup, Ranges, SiteIndex, LEXICAL_RESCORE, RESCORE,
};
use docent::index::ivf::IvfOptions;
use docent::retrieve::{Mode, RetrieveOptions};

use crate::fragments::{corpus, engine_of, open_with, questions};

/// Ranged text, shards and partitions: 8 partitions of the corpus, 3 probed.
fn ranged() -> Layout {
    Layout {
        ranges: Ranges::Always,
        dense: DenseLayout { ivf: IvfOptions { nlist: Some(8), ..IvfOptions::default() }, nprobe: Some(3) },
        ..Layout::default()
    }
}

fn dense() -> RetrieveOptions {
    RetrieveOptions { mode: Mode::Dense, ..RetrieveOptions::default() }
}

#[test]
fn ranged_partitions_find_the_flat_scans_neighbours_with_exact_scores() {
    let docs = corpus();
    let engine = engine_of(&docs);
    let (site, src, frags) = open_with(&engine, &ranged());
    let d = frags.table.dense.as_ref().unwrap();
    assert!(d.ranged && d.partitions == 8 && d.nprobe == 3, "{d:?}");
    // Version 5: the ranged term shards carry their records' places too.
    assert_eq!(frags.table.version, 5);
    assert!(frags.table.lexical.located);
    for (name, bytes) in frags.files.iter().filter(|f| f.0.contains("/vec-") || f.0.contains("/ivf-")) {
        let kind = if name.contains("/vec-") {
            FragmentKind::RangedPartition
        } else {
            FragmentKind::RangedCentroids
        };
        assert_eq!(bytes[8], kind as u8, "{name}");
    }
    // The whole-partition layout of a small site stays version 3.
    let small = open_with(&engine, &Layout::default()).2;
    assert_eq!(small.table.version, 3);
    assert!(!small.table.dense.as_ref().unwrap().ranged);
    // The whole-partition layout probing every partition gives the flat scan exactly.
    let one = Layout {
        dense: DenseLayout { ivf: IvfOptions { nlist: Some(1), ..IvfOptions::default() }, nprobe: None },
        ..Layout::default()
    };
    let (flat_site, flat_src, _) = open_with(&engine, &one);
    let (mut found, mut wanted, mut exact) = (0, 0, 0);
    for q in questions(&docs) {
        let v = engine.embed(&[q.as_str()]).unwrap();
        // Every partition probed: the candidates are all rows, so only the estimate's shortlist
        // can lose a neighbour.
        let all = block_on(site.search_with(&src, &q, 10, Some(&v), &dense(), lookup(8))).unwrap();
        let flat = block_on(flat_site.search(&flat_src, &q, 10, Some(&v), &dense())).unwrap();
        let flat_ids: Vec<u32> = flat.hits.iter().map(|h| h.chunk).collect();
        wanted += flat_ids.len();
        found += all.hits.iter().filter(|h| flat_ids.contains(&h.chunk)).count();
        // Every dense hit carries the flat scan's exact cosine.
        for h in &all.hits {
            if let Some(f) = flat.hits.iter().find(|f| f.chunk == h.chunk) {
                assert_eq!(h.dense, f.dense, "{q:?}: {} (chunk {})", h.url, h.chunk);
                exact += 1;
            }
        }
    }
    // The hashing embedder's 256-d rows are the sign codes' hard case (rows far from every
    // centroid, neighbours' cosines close together); MiniLM sites are measured in bench/README.md
    // (the Cargo book with `--ranges always`).
    assert!(found * 100 >= wanted * 75, "recall@10 {found} / {wanted} with every partition probed");
    assert!(exact * 2 >= wanted, "{exact} exact scores of {wanted} hits");
}

#[test]
fn hybrid_ranks_with_ranged_partitions_are_the_flat_scans() {
    // Fusion reads the dense ranking down to 100 candidates, where the sign codes' estimate alone
    // misplaces rows; the rows the lexical ranking likes are rescored, and the rest join by
    // their estimate, so the fused top 5 stays the flat scan's far more often than when only the
    // shortlist is rescored (on this corpus ~85% against ~70%; the corpus holds the repository's
    // docs, so the counts move as they are edited, hence the comparison).
    let docs = corpus();
    let engine = engine_of(&docs);
    let (site, src, _) = open_with(&engine, &ranged());
    let one = Layout {
        dense: DenseLayout { ivf: IvfOptions { nlist: Some(1), ..IvfOptions::default() }, nprobe: None },
        ..Layout::default()
    };
    let (flat_site, flat_src, _) = open_with(&engine, &one);
    let shortlist_only = Lookup { lexical_rescore: 0, ..lookup(8) };
    let (mut same, mut same_shortlist, mut n, mut best_missed) = (0, 0, 0, 0);
    for q in questions(&docs) {
        let v = engine.embed(&[q.as_str()]).unwrap();
        let opts = RetrieveOptions::default();
        let ranged = block_on(site.search_with(&src, &q, 5, Some(&v), &opts, lookup(8))).unwrap();
        let shortlist = block_on(site.search_with(&src, &q, 5, Some(&v), &opts, shortlist_only)).unwrap();
        let flat = block_on(flat_site.search(&flat_src, &q, 5, Some(&v), &opts)).unwrap();
        let ids = |r: &docent::engine::SearchResult| r.hits.iter().map(|h| h.chunk).collect::<Vec<u32>>();
        n += 1;
        same += usize::from(ids(&ranged) == ids(&flat));
        same_shortlist += usize::from(ids(&shortlist) == ids(&flat));
        // The first dense hit is rescored exactly, so when both find the same one the gate
        // decides alike. The probed partitions can miss the flat scan's best row (the gate then
        // sees a lower cosine): rare, counted (a docs edit made "time time rooms." one such).
        if ranged.evidence.dense == flat.evidence.dense {
            assert_eq!(ranged.answerable, flat.answerable, "{q:?}");
        } else {
            best_missed += 1;
        }
    }
    assert!(
        best_missed * 20 <= n,
        "the probed partitions missed the best row for {best_missed} of {n} questions"
    );
    assert!(
        same * 100 >= n * 75 && same >= same_shortlist + n / 10,
        "the fused top 5 is the flat scan's for {same} of {n} questions ({same_shortlist} rescoring the shortlist only)"
    );
}

fn lookup(nprobe: usize) -> Lookup {
    Lookup { nprobe: Some(nprobe), ..Lookup::default() }
}

#[test]
fn a_hybrid_question_reads_coarse_rows_with_the_postings_then_a_few_fine_rows() {
    let docs = corpus();
    let engine = engine_of(&docs);
    let frags = open_with(&engine, &ranged()).2;
    let d = frags.table.dense.clone().unwrap();
    let dim = d.dim;
    // A coarse row: an id of 1–3 bytes here, residual length and alignment, sign code.
    // A fine row: scale, codes, its record's place (24 bytes: where, check, selection keys), check.
    let (coarse_row, fine_row) = (4 + dim.div_ceil(8) + 3, 8 + dim + 24);
    let (mut with_postings, mut four, mut answered) = (0, 0, 0);
    for q in questions(&docs).iter().take(12) {
        let (site, src, _) = open_with(&engine, &ranged());
        let v = engine.embed(&[q.as_str()]).unwrap();
        let r = block_on(site.search(&src, q, 5, Some(&v), &RetrieveOptions::default())).unwrap();
        let s = site.fetched();
        assert_eq!(src.calls(), s.requests);
        // Heads with the directory (2 calls, one stage), postings with coarse rows, fine rows,
        // then the records the postings and fine rows placed: 5 calls, 4 stages; one more for
        // entries when a hit has no place. (A term the site lacks adds the heads of its
        // spellings and the gate's common words beside the postings: calls, not a stage.)
        assert!(r.hits.is_empty() || (s.stages >= 4 && s.stages < s.requests), "{q:?}: {s:?}");
        let text_calls =
            src.span_batches().iter().filter(|b| b.iter().any(|sp| sp.path.contains("/txt-"))).count();
        assert!(r.hits.is_empty() || text_calls >= 1, "{q:?}");
        four += usize::from(s.stages == 4);
        answered += usize::from(!r.hits.is_empty());
        // The partition files' ranges come in two calls: coarse rows (with the term postings),
        // then fine rows.
        let batches = src.span_batches();
        let vec_calls: Vec<Vec<docent::fragments::Span>> = batches
            .iter()
            .filter(|b| b.iter().any(|sp| sp.path.contains("/vec-")))
            .map(|b| b.iter().filter(|sp| sp.path.contains("/vec-")).cloned().collect())
            .collect();
        assert!(vec_calls.len() <= 2, "{q:?}: {} calls with partition ranges", vec_calls.len());
        let first = batches.iter().find(|b| b.iter().any(|sp| sp.path.contains("/vec-")));
        let postings_too = first.is_some_and(|b| b.iter().any(|sp| sp.path.contains("/lex-")));
        with_postings += usize::from(postings_too);
        let bytes = |b: &Vec<docent::fragments::Span>| b.iter().map(|sp| sp.end - sp.start).sum::<u64>();
        let coarse = vec_calls.first().map(bytes).unwrap_or(0);
        let fine = vec_calls.get(1).map(bytes).unwrap_or(0);
        let vec_spans: Vec<_> = vec_calls.iter().flatten().collect();
        let most = (RESCORE + LEXICAL_RESCORE) * fine_row;
        assert!(fine as usize <= most, "{q:?}: {fine} bytes of fine rows");
        assert!(fine as usize % fine_row == 0, "{q:?}: {fine} bytes of fine rows");
        // At most the probed partitions' coarse rows: 3 of 8 partitions.
        let rows = engine.stats().chunks as u64;
        assert!(coarse <= rows * coarse_row as u64 * 3 / 4, "{q:?}: {coarse} bytes of coarse rows");
        // The directory is fetched whole, every partition file only by ranges.
        assert!(src.asked().iter().filter(|p| p.contains("/vec-")).count() == vec_spans.len());
    }
    // A question with terms of the corpus reads its coarse rows in the postings' call.
    assert!(with_postings >= 6, "coarse rows with the postings for {with_postings} of 12 questions");
    // Nearly every question's hits have places (from the postings or the fine rows).
    assert!(four * 10 >= answered * 9, "{four} of {answered} hybrid questions in 4 stages");
}

/// Asks every question hybrid until one fails; its message.
fn hybrid_error(site: &SiteIndex, src: &docent::fragments::MemorySource, engine: &docent::Docent) -> String {
    for q in questions(&corpus()) {
        let v = engine.embed(&[q.as_str()]).unwrap();
        if let Err(e) = block_on(site.search_with(src, &q, 10, Some(&v), &dense(), lookup(8))) {
            return e.to_string();
        }
    }
    panic!("no question met the damaged fragment");
}

#[test]
fn a_damaged_or_foreign_partition_file_is_refused_and_names_itself() {
    let engine = engine_of(&corpus());
    let frags = open_with(&engine, &ranged()).2;
    let other_engine = engine_of(&corpus()[1..]);
    let other = open_with(&other_engine, &ranged()).2;
    let d = frags.table.dense.clone().unwrap();
    let (path, dir) = (d.files[0].clone(), d.centroids.clone());
    let fine_row = 8 + d.dim;
    for fault in ["coarse", "fine", "missing", "truncated", "other build", "directory"] {
        let (site, mut src, _) = open_with(&engine, &ranged());
        let mut named = path.clone();
        match fault {
            // The first coarse row's id.
            "coarse" => src.get_mut(&path).unwrap()[9] ^= 0x01,
            // The last fine row's last code.
            "fine" => {
                let b = src.get_mut(&path).unwrap();
                let n = b.len();
                b[n - 1] ^= 0x10;
            }
            "missing" => {
                src.remove(&path);
            }
            "truncated" => {
                let b = src.get_mut(&path).unwrap();
                let n = b.len();
                b.truncate(n - fine_row / 2);
            }
            "other build" => {
                let foreign = &other.table.dense.as_ref().unwrap().files[0];
                *src.get_mut(&path).unwrap() =
                    other.files.iter().find(|f| &f.0 == foreign).unwrap().1.clone();
            }
            _ => {
                named = dir.clone();
                src.get_mut(&dir).unwrap()[20] ^= 0x04;
            }
        }
        let err = hybrid_error(&site, &src, &engine);
        assert!(err.contains(named.as_str()), "{fault}: {err}");
        let expect = match fault {
            "missing" => "no such fragment",
            "directory" => "does not match its name",
            _ => "different builds",
        };
        assert!(err.contains(expect), "{fault}: {err}");
    }
}
