use super::fit::{logistic, threshold_keeping};
use super::queries::{generate, Kind, MAX_CHUNKS, OFF_TOPIC, PLAIN_TERMS, TECH_TERMS};
use super::*;
use crate::index::bm25::distinct;

/// A vocabulary of fixed terms (document frequency 3 each, 100 documents).
struct Words(Vec<&'static str>);

impl Vocabulary for Words {
    fn live_docs(&self) -> u32 {
        100
    }
    fn df(&self, term: &str) -> u32 {
        if self.0.contains(&term) {
            3
        } else {
            0
        }
    }
}

/// A fixed gate that lets nothing through, so the tests see the model alone.
const CLOSED: crate::retrieve::Gate =
    crate::retrieve::Gate { dense: 2.0, dense_with_lexical: 2.0, coverage: 2.0 };

/// A term check with these missing terms.
fn missing(terms: &[&str]) -> TermCheck {
    TermCheck { present: 0.5, missing: terms.iter().map(|t| t.to_string()).collect(), plain: vec![] }
}

fn ev(dense: f32, coverage: f32, present: f32) -> Evidence {
    Evidence {
        dense,
        coverage,
        dense_gap: 0.1,
        top_coverage: coverage,
        present,
        lexical: coverage / 2.0,
        fused: 0.5,
    }
}

#[test]
fn salient_terms_skip_stop_and_question_words_and_keep_the_readers_spelling() {
    let t = salient_terms("How do I use GraphQL with the Cargo.toml file, and what's the difference?");
    let surfaces: Vec<&str> = t.iter().map(|t| t.surface.as_str()).collect();
    assert_eq!(surfaces, ["GraphQL", "Cargo", "toml", "file"], "what's: a stop word and a letter");
    assert_eq!(t[0].term, "graphql");
    assert_eq!(t[3].term, "fil", "analyzed like BM25 (stemmed)");
    // Numbers and single letters are not terms a reader names.
    assert!(salient_terms("what is 42 or x").is_empty());
    // Each term once.
    assert_eq!(salient_terms("caches cache cached").len(), 1);
    // "How often" asks about frequency; it names no topic.
    let t = salient_terms("How often should I water tomatoes?");
    assert_eq!(t.iter().map(|t| t.surface.as_str()).collect::<Vec<_>>(), ["water", "tomatoes"]);
}

#[test]
fn a_missing_term_is_absent_after_the_analyzer_and_one_edit_away_is_a_typo() {
    let vocab = Words(vec!["cach", "workspac", "build", "profil"]);
    // Stemmed forms of present words are present.
    let c = check_terms(&salient_terms("caching workspaces"), &vocab, None);
    assert_eq!((c.present, c.missing.clone()), (1.0, Vec::<String>::new()));
    // A typo of a 5+ letter term is not missing ("workspase" → "workspas", one edit from "workspac").
    let c = check_terms(&salient_terms("workspase profile"), &vocab, None);
    assert!(c.missing.is_empty(), "{c:?}");
    // A swap of two letters the stemmer hides ("warnigns" stems to "warnign", "warnings" to
    // "warn"), and one in a short word ("htlm").
    let swaps = Words(vec!["warn", "html"]);
    let c = check_terms(&salient_terms("warnigns in htlm"), &swaps, None);
    assert!(c.missing.is_empty() && c.present == 1.0, "{c:?}");
    let t = &salient_terms("warnigns")[0];
    assert!(typo_terms(t).edits.contains(&"warn".to_string()), "{:?}", typo_terms(t));
    // Any one edit inside the suffix the stemmer cuts (issue 17): a letter dropped, added or
    // replaced ("warnngs" stems to "warnng", two edits from "warn").
    for typo in ["warnngs", "warnimgs", "warninggs", "warnigs"] {
        assert!(check_terms(&salient_terms(typo), &swaps, None).missing.is_empty(), "{typo}");
    }
    // An edit at the second letter ("sheme" for "scheme"; "heirarchy" for "hierarchy").
    let words = Words(vec!["schem", "hierarchy"]);
    assert!(check_terms(&salient_terms("sheme heirarchy"), &words, None).missing.is_empty());
    // Never at the first letter: "imerge" is a tool of its own, not a typo of "merge".
    let merge = Words(vec!["git", "merg"]);
    assert_eq!(check_terms(&salient_terms("git imerge"), &merge, None).missing, ["imerge"]);
    // Nor the last letter dropped or replaced: another form of a word, not a slip (git-sizer
    // is not "sized"); a letter added at the end is a slip ("instal").
    let forms = Words(vec!["siz", "watch", "install"]);
    assert_eq!(check_terms(&salient_terms("sizer watcher"), &forms, None).missing, ["sizer", "watcher"]);
    assert!(check_terms(&salient_terms("instal"), &forms, None).missing.is_empty());
    // A word the corpus writes with a hyphen ("prebuilt" → "pre-built").
    let hyphen = Words(vec!["pre-built"]);
    assert!(check_terms(&salient_terms("prebuilt binaries"), &hyphen, None).missing == ["binaries"]);
    // Not any swap: the first letter stays, and a name stays missing.
    assert_eq!(check_terms(&salient_terms("thml"), &swaps, None).missing, ["thml"]);
    assert_eq!(check_terms(&salient_terms("deploy to Vercel"), &swaps, None).missing, ["Vercel"]);
    // A short term needs to match exactly: "bild" is 4 letters.
    let c = check_terms(&salient_terms("bild profiles"), &vocab, None);
    assert_eq!(c.missing, ["bild"]);
    // An absent technology is missing, named as written; present holds the idf share.
    let c = check_terms(&salient_terms("How do I cache GraphQL builds?"), &vocab, None);
    assert_eq!(c.missing, ["GraphQL"]);
    let (have, absent) = (idf(100, 3), idf(100, 0));
    assert!((c.present - 2.0 * have / (2.0 * have + absent)).abs() < 1e-6, "{c:?}");
    // Names are named rather than the plain words beside them; without names, the words.
    let c = check_terms(&salient_terms("deploy builds inside Kubernetes with gRPC"), &vocab, None);
    assert_eq!(c.missing, ["Kubernetes", "gRPC"]);
    let c = check_terms(&salient_terms("deploy builds inside a container"), &vocab, None);
    assert_eq!(c.missing, ["deploy", "inside", "container"]);
    // Stop words and question words alone: nothing salient, nothing missing.
    let c = check_terms(&salient_terms("how should I do it the right way?"), &vocab, None);
    assert_eq!((c.present, c.missing.len()), (1.0, 0));
}

#[test]
fn logistic_fit_is_exact_on_a_symmetric_set() {
    // One signal, symmetric around 0: mean 0, scale 1, intercept 0, so p(0) = 0.5 exactly.
    let x = vec![vec![-2.0], vec![-1.0], vec![1.0], vec![2.0]];
    let y = [false, false, true, true];
    let m = logistic(&x, &y);
    assert_eq!(m.mean, [0.0]);
    assert!((m.scale[0] - 2.5f32.sqrt()).abs() < 1e-6, "{m:?}");
    assert!(m.bias.abs() < 1e-6, "{m:?}");
    // The weight where the gradient of the balanced log-loss meets the L2 penalty (0.1).
    assert!((m.weights[0] - 1.591_565).abs() < 1e-4, "{m:?}");
    assert_eq!(m.probability(&[0.0]), 0.5);
    assert!(m.probability(&[2.0]) > 0.85 && m.probability(&[-2.0]) < 0.15, "{m:?}");
    // Deterministic: the same data give the same numbers.
    assert_eq!(logistic(&x, &y), m);
    // A constant signal gets scale 1e-3 and no weight.
    let m = logistic(&[vec![1.0, -1.0], vec![1.0, 1.0]], &[false, true]);
    assert_eq!(m.scale[0], 1e-3);
    assert_eq!(m.weights[0], 0.0);
}

#[test]
fn the_threshold_keeps_the_share_asked_for() {
    let p: Vec<f32> = (0..100).map(|i| i as f32 / 100.0).collect();
    // 97% kept: the three lowest are dropped.
    assert_eq!(threshold_keeping(&p, 0.97), 0.03);
    assert_eq!(p.iter().filter(|&&v| v >= 0.03).count(), 97);
    assert_eq!(threshold_keeping(&p, 1.0), 0.0);
    assert_eq!(threshold_keeping(&[], 0.97), 0.0);
    assert_eq!(threshold_keeping(&[0.4, 0.8], 0.97), 0.4);
}

fn synthetic() -> Vec<CalibrationQuery> {
    // Answerable: dense 0.55..0.84, coverage high; near-miss: dense 0.3..0.59 with a missing term;
    // off-topic: dense 0.05..0.2, coverage low.
    let mut out = Vec::new();
    for i in 0..60 {
        let e = ev(0.55 + i as f32 * 0.005, 0.6 + (i % 5) as f32 * 0.08, 1.0);
        out.push(CalibrationQuery {
            kind: Kind::Answerable(i),
            evidence: e,
            lexical_evidence: e,
            check: TermCheck::default(),
        });
    }
    for i in 0..30 {
        let e = ev(0.3 + i as f32 * 0.01, 0.5, 0.6);
        out.push(CalibrationQuery {
            kind: Kind::NearMiss,
            evidence: e,
            lexical_evidence: e,
            check: missing(&["Kafka"]),
        });
    }
    for i in 0..15 {
        let e = ev(0.05 + i as f32 * 0.01, 0.1, 0.2);
        out.push(CalibrationQuery {
            kind: Kind::OffTopic,
            evidence: e,
            lexical_evidence: e,
            check: missing(&["soup"]),
        });
    }
    out
}

#[test]
fn calibration_on_a_separable_set_keeps_and_flags_the_held_out_queries() {
    let q = synthetic();
    let g = calibrate(&q, CLOSED, 1.1, None).expect("enough queries");
    let c = g.calibration;
    assert_eq!((c.queries, c.answerable, c.near_miss, c.off_topic), (105, 60, 30, 15));
    assert_eq!(c.train, 70, "every third query is held out");
    assert_eq!((c.held_out.answerable, c.held_out.unanswerable), (20, 15));
    // Separable: every held-out unanswerable query is flagged (the missing-term rule alone does
    // it), and at least 97% of the answerable ones are kept.
    assert_eq!(c.held_out.flagged, 15, "{c:?}");
    assert!(c.held_out.kept >= 19, "{c:?}");
    assert_eq!(c.held_out.lexical_flagged, 15, "{c:?}");
    // The exception to the missing-term rule lies above the near-miss queries' dense scores:
    // the 98th percentile of the 20 training near-miss and 10 off-topic ones (the highest, 0.58),
    // plus 0.01.
    assert!((g.strong_dense - 0.59).abs() < 1e-6, "{}", g.strong_dense);
    // Deterministic.
    assert_eq!(calibrate(&q, CLOSED, 1.1, None), Some(g.clone()));
    // The model alone (no missing term) still separates: an answerable-looking query passes,
    // an off-topic-looking one does not.
    assert!(g.model_passes(&ev(0.8, 0.9, 1.0), true));
    assert!(!g.model_passes(&ev(0.1, 0.1, 1.0), true));
    // The verdict: the missing-term rule, then the fixed gate (closed here).
    assert!(!g.verdict(&ev(0.8, 0.9, 1.0), &TermCheck::default(), true).answerable);
    // A missing term flags unless the dense match is very strong.
    let v = g.verdict(&ev(0.8, 0.9, 0.8), &missing(&["GraphQL"]), true);
    assert_eq!((v.answerable, v.missing_rule), (false, false), "0.8 ≥ strong_dense: the fixed gate decides");
    let v = g.verdict(&ev(0.55, 0.9, 0.8), &missing(&["GraphQL"]), true);
    assert_eq!((v.answerable, v.missing_rule), (false, true));
    // The fixed gate decides after the missing-term rule: one that lets dense ≥ 0.05 through
    // keeps an off-topic-looking query without missing terms.
    let open = calibrate(
        &q,
        crate::retrieve::Gate { dense: 0.05, dense_with_lexical: 2.0, coverage: 2.0 },
        1.1,
        None,
    )
    .unwrap();
    assert!(open.verdict(&ev(0.1, 0.1, 1.0), &TermCheck::default(), true).answerable);
    assert!(
        !open.verdict(&ev(0.1, 0.1, 1.0), &missing(&["soup"]), true).answerable,
        "the missing-term rule first"
    );
    // Without a vector a missing term always flags.
    assert!(g.verdict(&ev(0.99, 0.9, 0.8), &missing(&["GraphQL"]), false).missing_rule);
}

#[test]
fn too_few_queries_give_no_site_gate() {
    let q = synthetic();
    assert_eq!(calibrate(&q[..10], CLOSED, 1.1, None), None);
    assert_eq!(calibrate(&q[..60], CLOSED, 1.1, None), None, "no unanswerable query");
}

#[test]
fn the_gate_round_trips_through_json_and_other_versions_are_ignored() {
    let g = calibrate(&synthetic(), CLOSED, 1.1, None).unwrap();
    let bytes = serde_json::to_vec(&g).unwrap();
    assert_eq!(SiteGate::from_json(&bytes, "index.bin").unwrap(), Some(g.clone()));
    let value = serde_json::to_value(&g).unwrap();
    assert_eq!(SiteGate::from_value(&value, "manifest.json").unwrap(), Some(g.clone()));
    // A later version: ignored (the fixed gate decides), not an error.
    let mut later = value.clone();
    later["version"] = serde_json::json!(GATE_VERSION + 1);
    later["hybrid"] = serde_json::json!("a shape this build does not know");
    assert_eq!(SiteGate::from_value(&later, "manifest.json").unwrap(), None);
    // A damaged one: refused with the file named.
    let mut bad = value;
    bad["hybrid"]["weights"] = serde_json::json!([1.0]);
    let e = SiteGate::from_value(&bad, "manifest.json").unwrap_err().to_string();
    assert!(e.contains("manifest.json") && e.contains("1 weights for 7 signals"), "{e}");
}

#[test]
fn calibration_queries_are_deterministic_bounded_and_not_verbatim() {
    let texts: Vec<(u32, String, String)> = (0..400u32)
        .map(|i| {
            (
                i,
                format!("Guide > Configuring profile {i}"),
                format!(
                    "The release profile number {i} controls optimisation levels for every crate. \
                     Debug assertions stay enabled unless the manifest disables them explicitly."
                ),
            )
        })
        .collect();
    let chunks: Vec<(u32, &str, &str)> = texts.iter().map(|(i, h, t)| (*i, h.as_str(), t.as_str())).collect();
    let vocab = Words(vec!["releas", "profil", "optimisation", "configur", "debug", "manifest", "guid"]);
    let a = generate(&chunks, &vocab);
    assert_eq!(a, generate(&chunks, &vocab), "deterministic");
    let bound = 2 * MAX_CHUNKS + 3 * MAX_CHUNKS / 2 + MAX_CHUNKS / 3 + OFF_TOPIC.len();
    assert!(a.len() <= bound, "bounded: {}", a.len());
    assert!(a.iter().any(|g| g.kind == Kind::Mixed));
    let answerable = a.iter().filter(|g| g.answerable()).count();
    assert!(answerable >= MAX_CHUNKS, "a heading or sentence question per sampled chunk: {answerable}");
    assert_eq!(a.iter().filter(|g| g.kind == Kind::OffTopic).count(), OFF_TOPIC.len());
    let near: Vec<&str> = a.iter().filter(|g| g.kind == Kind::NearMiss).map(|g| g.text.as_str()).collect();
    assert!(near.len() * 3 >= answerable, "about one near-miss per two pseudo-questions: {}", near.len());
    // Each swaps in a name or a plain word the corpus lacks; one in three of them a plain word.
    let plain =
        near.iter().filter(|q| PLAIN_TERMS.iter().any(|t| q.split_whitespace().any(|w| w == *t))).count();
    for q in &near {
        assert!(TECH_TERMS.iter().chain(PLAIN_TERMS).any(|t| q.contains(t)), "{q}");
    }
    assert!(plain * 4 >= near.len() && plain * 2 <= near.len(), "{plain} of {}", near.len());
    for g in a.iter().filter(|g| g.answerable()) {
        let Kind::Answerable(id) = g.kind else { unreachable!() };
        assert!(!texts[id as usize].2.to_lowercase().contains(&g.text), "verbatim: {}", g.text);
        assert!(g.text.split_whitespace().count() <= 11, "{}", g.text);
    }
    // A smaller corpus samples every chunk; none gives only the off-topic questions.
    assert!(generate(&chunks[..3], &vocab).len() > OFF_TOPIC.len());
    assert_eq!(generate(&[], &vocab).len(), OFF_TOPIC.len());
}

#[test]
fn common_words_hold_the_vocabularys_whole_words_the_corpus_lacks() {
    let vocab = ["database", "databases", "tidy", "cargo", "##ing", "[UNK]", "a", "x86"];
    // The corpus has "cargo": it is left out (present terms never reach the check).
    let c = CommonWords::of(vocab, |t| t != "cargo").unwrap();
    for w in ["database", "tidy"] {
        let t = &Bm25::analyze(w)[0];
        assert!(c.contains(t), "{w}");
    }
    // Inflections share the analyzed form: "databases" → "databas" like "database".
    assert!(c.contains(&Bm25::analyze("Databases")[0]));
    // Pieces, special tokens, one letter, digits and the corpus's own words are not stored.
    for t in ["ing", "unk", "x86", "cargo", "kubernetes", "graphql", "postgresql"] {
        assert!(!c.contains(t), "{t}");
    }
    // Through JSON: the bits as base64, decoded on reading.
    let json = serde_json::to_string(&c).unwrap();
    let back: CommonWords = serde_json::from_str(&json).unwrap();
    let back = back.decoded("index.bin").unwrap();
    assert_eq!(back, c);
    assert!(back.contains(&Bm25::analyze("tidy")[0]));
    let mut bad: serde_json::Value = serde_json::from_str(&json).unwrap();
    bad["bits"] = serde_json::json!("not base64!");
    let e = serde_json::from_value::<CommonWords>(bad).unwrap().decoded("index.bin").unwrap_err().to_string();
    assert!(e.contains("index.bin") && e.contains("not base64"), "{e}");
    // Nothing to store: no filter.
    assert_eq!(CommonWords::of(["##s", "q"], |_| true), None);
}

#[test]
fn a_bloom_filter_of_many_words_has_few_false_positives() {
    let words: Vec<String> = (0..20_000).map(|i| format!("word{}", to_letters(i))).collect();
    let c = CommonWords::of(words.iter().map(String::as_str), |_| true).unwrap();
    assert!(words.iter().all(|w| c.contains(&Bm25::analyze(w)[0])), "no false negatives");
    let false_positives = (0..20_000).filter(|&i| c.contains(&format!("other{}", to_letters(i)))).count();
    assert!(false_positives < 400, "about 1%: {false_positives} of 20000");
    assert!(c.bits.len() < 20_000 * 10 / 6 + 8, "10 bits a word, base64: {}", c.bits.len());
}

/// `i` written in letters (base 26), so generated words stay alphabetic.
fn to_letters(mut i: usize) -> String {
    let mut s = String::new();
    loop {
        s.push((b'a' + (i % 26) as u8) as char);
        i /= 26;
        if i == 0 {
            return s;
        }
    }
}

#[test]
fn base64_round_trips_and_refuses_what_is_not_base64() {
    use super::common::{base64, unbase64};
    for n in 0..8 {
        let bytes: Vec<u8> = (0..n).map(|i| (i * 37 + 5) as u8).collect();
        let text = base64(&bytes);
        assert_eq!(text.len() % 4, 0);
        assert_eq!(unbase64(&text).unwrap(), bytes, "{text}");
    }
    assert_eq!(base64(b"Man"), "TWFu");
    assert_eq!(base64(b"Ma"), "TWE=");
    for bad in ["TWF", "TW=u", "T===", "TWE=TWFu", "TW!u"] {
        assert_eq!(unbase64(bad), None, "{bad}");
    }
}

#[test]
fn an_absent_common_word_is_plain_and_an_absent_name_is_missing() {
    let vocab = Words(vec!["cach", "build", "profil"]);
    let common = CommonWords::of(["database", "tidy", "react", "container"], |_| true).unwrap();
    let c =
        check_terms(&salient_terms("How do I tidy the build cache of a database?"), &vocab, Some(&common));
    assert_eq!(
        (c.missing.clone(), c.plain.clone()),
        (Vec::<String>::new(), vec!["tidy".into(), "database".into()])
    );
    // A rare word is still missing beside a plain one.
    let c = check_terms(&salient_terms("tidy builds in Kubernetes"), &vocab, Some(&common));
    assert_eq!((c.missing.clone(), c.plain.clone()), (vec!["Kubernetes".into()], vec!["tidy".into()]));
    // A common word written like a name after the first word names something ("React"); as the
    // first word its capital letter says nothing.
    let c = check_terms(&salient_terms("Can I build with React?"), &vocab, Some(&common));
    assert_eq!(c.missing, ["React"]);
    let c = check_terms(&salient_terms("Container builds?"), &vocab, Some(&common));
    assert_eq!((c.missing.len(), c.plain.clone()), (0, vec!["Container".into()]));
    // Without common words every absent term is missing, as in gates of version 1.
    let c = check_terms(&salient_terms("tidy builds"), &vocab, None);
    assert_eq!((c.missing.clone(), c.plain.len()), (vec!["tidy".into()], 0));
    // The present share counts plain words as absent.
    assert!(check_terms(&salient_terms("tidy builds"), &vocab, Some(&common)).present < 1.0);
}

#[test]
fn an_absent_plain_word_leaves_the_dense_match_alone_to_decide() {
    // Fixed gate: dense 0.5 alone, or coverage 0.6 with any dense match.
    let fixed = crate::retrieve::Gate { dense: 0.5, dense_with_lexical: 0.0, coverage: 0.6 };
    let g = calibrate(&synthetic(), fixed, 0.6, None).unwrap();
    let plain = TermCheck { present: 0.7, missing: vec![], plain: vec!["database".into()] };
    // Without absent words, high coverage passes on a weak dense match…
    assert!(g.verdict(&ev(0.3, 0.9, 1.0), &TermCheck::default(), true).answerable);
    // …with an absent plain word it does not: only the dense match can vouch for the question.
    let v = g.verdict(&ev(0.3, 0.9, 0.7), &plain, true);
    assert_eq!((v.answerable, v.missing_rule), (false, false));
    assert!(g.verdict(&ev(0.5, 0.1, 0.7), &plain, true).answerable, "dense at the fixed threshold passes");
    // Without a vector the lexical-only threshold decides, as for any question.
    assert!(g.verdict(&ev(-1.0, 0.9, 0.7), &plain, false).answerable);
    assert!(!g.verdict(&ev(-1.0, 0.5, 0.7), &plain, false).answerable);
    // A missing name still comes first, whatever the plain words.
    let both = TermCheck { missing: vec!["Kafka".into()], ..plain };
    assert!(g.verdict(&ev(0.55, 0.9, 0.5), &both, true).missing_rule);
}

#[test]
fn a_version_1_gate_still_reads_and_decides_without_common_words() {
    let mut value = serde_json::to_value(calibrate(&synthetic(), CLOSED, 1.1, None).unwrap()).unwrap();
    value["version"] = serde_json::json!(1);
    assert!(value.get("common").is_none(), "no common words: the field is left out");
    let g = SiteGate::from_value(&value, "manifest.json").unwrap().expect("version 1 is read");
    assert_eq!((g.version, g.common.is_none()), (1, true));
    // A gate with common words keeps them through JSON.
    let common = CommonWords::of(["database"], |_| true);
    let g2 = calibrate(&synthetic(), CLOSED, 1.1, common.clone()).unwrap();
    let back = SiteGate::from_json(&serde_json::to_vec(&g2).unwrap(), "index.bin").unwrap().unwrap();
    assert_eq!(back.common, common);
    assert_eq!(back.version, GATE_VERSION);
}

/// A vocabulary of terms with their document frequencies, among 1,000 documents (so a typo's
/// spelling needs df ≥ 2: `typo_min_df`).
struct Counts(Vec<(&'static str, u32)>);

impl Vocabulary for Counts {
    fn live_docs(&self) -> u32 {
        1000
    }
    fn df(&self, term: &str) -> u32 {
        self.0.iter().find(|t| t.0 == term).map_or(0, |t| t.1)
    }
}

#[test]
fn a_typo_is_read_as_the_commonest_term_it_may_mean_and_a_present_term_never_changes() {
    let vocab = Counts(vec![
        ("start", 40),
        ("starter", 9),
        ("sourdough", 5),
        ("warn", 30),
        ("html", 12),
        ("schem", 7),
        ("merg", 50),
        ("git", 80),
        ("haven", 20),
        ("siz", 25),
        ("lambda", 1),
        ("pre-built", 1),
    ]);
    // Each term once, in order; the terms a reader meant in place of the typos.
    assert_eq!(query_terms("sourdogh startr", &vocab), ["sourdough", "starter"]);
    assert_eq!(query_terms("treat warnigns as errors in htlm", &vocab), ["treat", "warn", "error", "html"]);
    assert_eq!(query_terms("pygments colour sheme", &vocab), ["pygment", "colour", "schem"]);
    assert_eq!(query_terms("sheme scheme", &vocab), ["schem"], "the word meant once");
    // A query whose terms all occur is returned as analyzed, whatever its neighbours.
    assert_eq!(query_terms("start starter git", &vocab), distinct(Bm25::analyze("start starter git")));
    // Never at the first letter ("imerge" is a tool, not "merge"; "Maven" is not "haven"), never
    // another form of the word ("sizer" is not "sized"), never a term under the rare floor.
    assert_eq!(query_terms("git imerge", &vocab), ["git", "imerg"]);
    assert_eq!(query_terms("Maven builds", &vocab), ["maven", "build"]);
    assert_eq!(query_terms("git-sizer", &vocab), ["git", "sizer", "git-sizer"]);
    assert_eq!(meant(&salient_terms("lamda")[0], &vocab), None, "df 1 is below the floor of 2");
    // The hyphen counts at any df.
    assert_eq!(meant(&salient_terms("prebuilt")[0], &vocab).as_deref(), Some("pre-built"));
    // Two words one edit away ("sheme": "scheme" and "shame"): the commonest; ties go to the
    // first in byte order.
    let two = |scheme, shame| Counts(vec![("schem", scheme), ("sham", shame)]);
    assert_eq!(query_terms("sheme", &two(7, 20)), ["sham"]);
    assert_eq!(query_terms("sheme", &two(20, 7)), ["schem"]);
    assert_eq!(query_terms("sheme", &two(7, 7)), ["schem"]);
    // A present term is never replaced, not even by a commoner neighbour.
    assert_eq!(meant(&salient_terms("starter")[0], &vocab), None);
    // The correction and the gate's check agree: a term is read as another exactly when it is
    // present through a typo.
    for q in
        ["sourdogh", "imerge", "warnigns", "sizer", "lamda", "prebuilt", "sheme", "Maven", "htlm", "starter"]
    {
        let t = &salient_terms(q)[0];
        assert_eq!(meant(t, &vocab).is_some(), vocab.df(&t.term) == 0 && has_term(t, &vocab), "{q}");
    }
}

#[test]
fn a_word_lists_lower_case_words_are_common_and_its_names_and_possessives_are_not() {
    let list = "  tweak \nGraphQL\nhandy\ngotcha's\na\n\nPostgres\nnaïve\nx11\n";
    assert_eq!(dictionary_words(list), ["tweak", "handy", "naïve"]);
    let c = CommonWords::of(dictionary_words(list), |_| true).unwrap();
    assert!(c.contains(&Bm25::analyze("tweak")[0]) && c.contains(&Bm25::analyze("handy")[0]));
}

#[test]
fn the_joint_corner_passes_dense_and_coverage_that_fall_short_together_and_only_without_absent_words() {
    let fixed = crate::retrieve::Gate { dense: 0.5, dense_with_lexical: 0.0, coverage: 0.6 };
    let mut g = calibrate(&synthetic(), fixed, 0.6, None).unwrap();
    let all = TermCheck::default();
    // dense 0.45 and coverage 0.57: neither reaches the fixed gate's threshold.
    assert!(!g.verdict(&ev(0.45, 0.57, 1.0), &all, true).answerable, "without the corner");
    g.joint = crate::retrieve::Gate::joint_for_embedder(EmbedderKind::MiniLm);
    assert!(g.verdict(&ev(0.45, 0.57, 1.0), &all, true).answerable);
    assert!(!g.verdict(&ev(0.41, 0.57, 1.0), &all, true).answerable, "dense below the corner");
    assert!(!g.verdict(&ev(0.45, 0.54, 1.0), &all, true).answerable, "coverage below the corner");
    // An absent plain word leaves the dense match alone to decide, corner or not.
    let plain = TermCheck { present: 0.7, missing: vec![], plain: vec!["database".into()] };
    assert!(!g.verdict(&ev(0.45, 0.57, 0.7), &plain, true).answerable);
    // Stored and read back; a gate written without it has none and decides as before.
    let value = serde_json::to_value(&g).unwrap();
    let back = SiteGate::from_value(&value, "t").unwrap().unwrap();
    assert_eq!(back.joint, g.joint);
    let mut old = value;
    old.as_object_mut().unwrap().remove("joint");
    let old = SiteGate::from_value(&old, "t").unwrap().unwrap();
    assert!(old.joint.is_none() && !old.verdict(&ev(0.45, 0.57, 1.0), &all, true).answerable);
    // A corner that is not a number is refused by name.
    let mut bad = serde_json::to_value(&g).unwrap();
    bad["joint"]["coverage"] = serde_json::json!(1e39);
    assert!(SiteGate::from_value(&bad, "t").is_err());
}
