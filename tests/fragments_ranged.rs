//! Ranged text packs and term shards (`docent::fragments`, the layout of large sites): read a
//! record or a term's postings at a time by byte ranges, they give exactly the hits of whole
//! fragments, move a small part of the text, take two calls for the terms and one for the text
//! (the postings place their best hits' records), and a damaged or foreign fragment is refused
//! naming itself.

use docent::fragments::{block_on, FragmentKind, Layout, Lookup, Ranges, FRAGMENT_MAGIC};
use docent::retrieve::RetrieveOptions;

use crate::fragments::{corpus, engine_of, everything_error, lexical, open_with, questions, typo_questions};

fn ranged() -> Layout {
    Layout { ranges: Ranges::Always, ..Layout::default() }
}

#[test]
fn ranged_packs_give_the_hits_of_whole_packs_for_a_fraction_of_the_text() {
    let docs = corpus();
    let engine = engine_of(&docs);
    let (whole, whole_src, whole_frags) = open_with(&engine, &Layout::default());
    let (site, src, frags) = open_with(&engine, &ranged());
    assert!(!whole_frags.table.text.ranged, "a small site keeps whole packs by default");
    assert!(frags.table.text.ranged && frags.table.lexical.ranged);
    assert!(!whole_frags.table.lexical.ranged);
    let text_files = frags.files.iter().filter(|f| f.0.contains("/txt-")).collect::<Vec<_>>();
    assert!(!text_files.is_empty());
    for (name, bytes) in &text_files {
        assert_eq!(&bytes[..8], FRAGMENT_MAGIC, "{name}");
        assert_eq!(bytes[8], FragmentKind::RangedText as u8, "{name}");
    }
    for (name, bytes) in frags.files.iter().filter(|f| f.0.contains("/lex-")) {
        assert_eq!(bytes[8], FragmentKind::RangedLexical as u8, "{name}");
    }
    let qs = questions(&docs);
    let (mut whole_text, mut ranged_text) = (0u64, 0u64);
    let (mut shared, mut total, mut same_top) = (0, 0, 0);
    for q in &qs {
        let a = block_on(whole.search(&whole_src, q, 5, None, &lexical())).unwrap();
        let b = block_on(site.search(&src, q, 5, None, &lexical())).unwrap();
        assert_eq!(a.hits, b.hits, "{q:?}");
        assert_eq!((a.answerable, &a.missing), (b.answerable, &b.missing), "{q:?}");
        // Hybrid: the ranged IVF partitions rank candidates past the rescored ones by their
        // sign-code estimates, which moves fused scores a little (tests/fragments_ranged_dense.rs
        // measures that layout); the top hit and most of the five stay.
        let v = engine.embed(&[q.as_str()]).unwrap();
        let opts = RetrieveOptions::default();
        let a = block_on(whole.search(&whole_src, q, 5, Some(&v), &opts)).unwrap();
        let b = block_on(site.search(&src, q, 5, Some(&v), &opts)).unwrap();
        let urls =
            |r: &docent::engine::SearchResult| r.hits.iter().map(|h| h.url.clone()).collect::<Vec<_>>();
        let (ua, ub) = (urls(&a), urls(&b));
        same_top += usize::from(ua.first() == ub.first());
        shared += ua.iter().filter(|u| ub.contains(u)).count();
        total += ua.len();
        // What one reader's question costs in text, each way, from a fresh start.
        let (w, w_src, _) = open_with(&engine, &Layout::default());
        let (r, r_src, _) = open_with(&engine, &ranged());
        block_on(w.search(&w_src, q, 5, None, &lexical())).unwrap();
        block_on(r.search(&r_src, q, 5, None, &lexical())).unwrap();
        for p in w_src.asked().iter().filter(|p| p.contains("/txt-")) {
            whole_text += whole_frags.files.iter().find(|f| &f.0 == p).unwrap().1.len() as u64;
        }
        ranged_text += r_src.spans().iter().map(|sp| sp.end - sp.start).sum::<u64>();
    }
    // Weak questions (words the corpus hardly has) differ most; on average 4 of 5 stay.
    assert!(shared * 5 >= total * 4, "{shared} of {total} hybrid hits shared");
    assert!(same_top * 10 >= qs.len() * 9, "the same top hit for {same_top} of {} questions", qs.len());
    assert!(
        ranged_text > 0 && ranged_text * 2 < whole_text,
        "ranged {ranged_text} B, whole packs {whole_text} B"
    );
    // Nothing is read twice: every record read once is kept.
    let spans = src.spans();
    let distinct: std::collections::BTreeSet<_> =
        spans.iter().map(|s| (s.path.clone(), s.start, s.end)).collect();
    assert_eq!(distinct.len(), spans.len(), "a byte range was read twice");
}

#[test]
fn a_question_reads_the_records_it_shows_in_one_stage() {
    let docs = corpus();
    let engine = engine_of(&docs);
    let qs = questions(&docs);
    let v4 = Layout { without_places: true, ..ranged() };
    assert_eq!(open_with(&engine, &v4).2.table.version, 4, "no places: still version 4");
    assert!(!open_with(&engine, &v4).2.table.lexical.located);
    let calls_with = |src: &docent::fragments::MemorySource, kind: &str| {
        src.span_batches().iter().filter(|b| b.iter().any(|sp| sp.path.contains(kind))).count()
    };
    let mut answered = 0;
    for q in &qs {
        let (site, src, _) = open_with(&engine, &ranged());
        let r = block_on(site.search(&src, q, 5, None, &lexical())).unwrap();
        let s = site.fetched();
        assert_eq!(src.calls(), s.requests);
        // Without places (version 4): the same hits, each round of text two calls (the entries
        // that locate the records, then the records).
        let (old, old_src, _) = open_with(&engine, &v4);
        let o = block_on(old.search(&old_src, q, 5, None, &lexical())).unwrap();
        assert_eq!((&r.hits, r.answerable, &r.missing), (&o.hits, o.answerable, &o.missing), "{q:?}");
        if r.hits.is_empty() {
            continue;
        }
        answered += 1;
        // Every record of this corpus is placed by the postings (its terms are all in fewer
        // chunks than a term places), and the places' keys tell which candidates repeat a
        // section or a text or overfill a page: one call reads just the records shown, after
        // the heads and the postings (a term the site lacks adds its spellings' heads beside
        // the postings, a call in the same stage).
        let (lex, txt) = (calls_with(&src, "/lex-"), calls_with(&src, "/txt-"));
        assert!((2..=3).contains(&lex), "{q:?}: {lex} calls for term shards, {s:?}");
        assert_eq!(txt, 1, "{q:?}: {s:?}");
        assert_eq!(s.stages, 3, "{q:?}: {s:?}");
        assert!(calls_with(&old_src, "/txt-") >= 2, "{q:?}: entries then records");
        // Records adjacent in their pack come in one range: at most one range per hit shown.
        let ranges = src.spans().iter().filter(|sp| sp.path.contains("/txt-")).count();
        assert!(ranges <= r.hits.len(), "{q:?}: {ranges} ranges of text for {} hits", r.hits.len());
        // Records a few hundred bytes each: the text of one question stays a few kilobytes
        // whatever the size of the packs.
        let text: u64 =
            src.spans().iter().filter(|sp| sp.path.contains("/txt-")).map(|sp| sp.end - sp.start).sum();
        assert!(text < 40 * 1024, "{q:?}: {text} bytes of text");
        // Only byte ranges: no fragment is fetched whole.
        assert_eq!(src.asked().len(), src.spans().len(), "{q:?}");
    }
    assert!(answered * 10 >= qs.len() * 8, "{answered} of {} questions answered", qs.len());
}

/// A reader's typo through ranged shards: read as the word meant, as whole shards and the engine
/// read it. The heads of the shards its spellings fall in come beside the postings of the terms
/// the first heads hold (with the gate's common words), so a word the site lacks costs no stage,
/// and a typo one: the postings of the spelling picked.
#[test]
fn a_typo_through_ranged_shards_is_read_alike_for_one_stage_more() {
    let docs = corpus();
    let engine = engine_of(&docs);
    let (whole, whole_src, _) = open_with(&engine, &Layout::default());
    let typos = typo_questions(&docs, &engine);
    assert!(typos.len() >= 40, "{}", typos.len());
    let mut corrected = 0;
    for q in &typos {
        let (site, src, _) = open_with(&engine, &ranged());
        let r = block_on(site.search(&src, q, 5, None, &lexical())).unwrap();
        let w = block_on(whole.search(&whole_src, q, 5, None, &lexical())).unwrap();
        assert_eq!((&r.hits, r.answerable, &r.missing), (&w.hits, w.answerable, &w.missing), "{q:?}");
        // Calls that read term shards: their heads; the postings of the terms they hold, and
        // beside them (the same stage) the heads of the typo's spellings' shards; then the
        // postings of the spelling picked: one call more than the typo read as written (when
        // the terms as written have postings to read), one stage more than a question without
        // a typo.
        let term_calls = |src: &docent::fragments::MemorySource| {
            src.span_batches().iter().filter(|b| b.iter().any(|sp| sp.path.contains("/lex-"))).count()
        };
        let (site2, src2, _) = open_with(&engine, &ranged());
        let written = block_on(site2.search_with(&src2, q, 5, None, &lexical(), Lookup::AS_WRITTEN)).unwrap();
        assert!(term_calls(&src) <= 4, "{q:?}: {:?}", src.span_batches());
        if !written.hits.is_empty() {
            let (corrected, written) = (term_calls(&src), term_calls(&src2));
            assert!(written <= corrected && corrected <= written + 1, "{q:?}: {corrected} against {written}");
        }
        assert!(site.fetched().stages <= 4, "{q:?}: {:?}", site.fetched());
        corrected += usize::from(written.hits != r.hits);
    }
    assert!(corrected * 2 >= typos.len(), "{corrected} of {} corrected", typos.len());
}

#[test]
fn a_damaged_ranged_pack_is_refused_and_names_itself() {
    let engine = engine_of(&corpus());
    let (_, _, frags) = open_with(&engine, &ranged());
    let other = open_with(&engine_of(&corpus()[1..]), &ranged()).2;
    let packs: Vec<String> =
        frags.files.iter().map(|f| f.0.clone()).filter(|p| p.contains("/txt-")).collect();
    for path in packs.iter().take(2) {
        for fault in ["record", "entry", "missing", "truncated", "other build"] {
            // Entries are read only for records the postings do not place: every record of
            // this corpus is placed, so a damaged entry is met through a folder without places.
            let layout =
                if fault == "entry" { Layout { without_places: true, ..ranged() } } else { ranged() };
            let (site, mut src, _) = open_with(&engine, &layout);
            match fault {
                // The last byte: inside the pack's last record.
                "record" => {
                    let b = src.get_mut(path).unwrap();
                    let n = b.len();
                    b[n - 1] ^= 0x55;
                }
                // The first record's end offset, moved past the end of the record area.
                "entry" => {
                    let b = src.get_mut(path).unwrap();
                    b[13 + 3] ^= 0x40;
                }
                "missing" => {
                    src.remove(path);
                }
                "truncated" => {
                    let b = src.get_mut(path).unwrap();
                    let n = b.len();
                    b.truncate(n / 2);
                }
                _ => {
                    let foreign = other
                        .files
                        .iter()
                        .find(|f| f.0.contains("/txt-") && !packs.contains(&f.0) && !f.1.is_empty())
                        .unwrap();
                    *src.get_mut(path).unwrap() = foreign.1.clone();
                }
            }
            let err = everything_error(&site, &src, &frags);
            assert!(err.contains(path.as_str()), "{fault}: {err}");
            let expect = match fault {
                "record" => "does not match its checksum",
                "missing" => "no such fragment",
                _ => "different builds",
            };
            assert!(err.contains(expect), "{fault}: {err}");
        }
    }
}

#[test]
fn a_damaged_ranged_term_shard_is_refused_and_names_itself() {
    let engine = engine_of(&corpus());
    let (_, _, frags) = open_with(&engine, &ranged());
    let other = open_with(&engine_of(&corpus()[1..]), &ranged()).2;
    let shards: Vec<String> =
        frags.files.iter().map(|f| f.0.clone()).filter(|p| p.contains("/lex-")).collect();
    assert!(shards.len() >= 3, "{} shards", shards.len());
    // Not the first shard: every other one's first term is a question of `everything_error`.
    for path in shards.iter().skip(1).take(3) {
        for fault in ["head", "postings", "missing", "truncated", "other build"] {
            let (site, mut src, _) = open_with(&engine, &ranged());
            match fault {
                // A byte of the head (its first term).
                "head" => src.get_mut(path).unwrap()[9 + 8 + 2] ^= 0x20,
                // The first byte after the head: the first term's postings.
                "postings" => {
                    let i = frags.table.lexical.files.iter().position(|f| f == path).unwrap();
                    let at = 9 + 8 + frags.table.lexical.heads[i] as usize;
                    src.get_mut(path).unwrap()[at] ^= 0x01;
                }
                "missing" => {
                    src.remove(path);
                }
                // The head whole, the postings cut short.
                "truncated" => {
                    let i = frags.table.lexical.files.iter().position(|f| f == path).unwrap();
                    let at = 9 + 8 + frags.table.lexical.heads[i] as usize;
                    src.get_mut(path).unwrap().truncate(at + 1);
                }
                _ => {
                    // Another build's shard of the same terms, under this build's name.
                    let i = frags.table.lexical.files.iter().position(|f| f == path).unwrap();
                    let first = &frags.table.lexical.first[i];
                    let j = other.table.lexical.first.partition_point(|f| f <= first).saturating_sub(1);
                    let foreign = &other.table.lexical.files[j];
                    assert_ne!(foreign, path, "the other build has the same shard");
                    *src.get_mut(path).unwrap() =
                        other.files.iter().find(|f| &f.0 == foreign).unwrap().1.clone();
                }
            }
            let err = everything_error(&site, &src, &frags);
            assert!(err.contains(path.as_str()), "{fault}: {err}");
            let expect = if fault == "missing" { "no such fragment" } else { "different builds" };
            assert!(err.contains(expect), "{fault}: {err}");
        }
    }
}
