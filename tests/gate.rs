//! The gate calibrated per site (`docent::gate`): a build fits it on the corpus's own queries,
//! `index.bin` (section `gate`) and the fragments manifest (`"gate"`) keep it, old files without
//! it use the fixed gate, and a question about a technology the documents never mention is flagged
//! and the answer names it, through the engine, the fragments, the offline answer and the CLI.

use std::process::Command;

use docent::answer::offline_answer_for;
use docent::engine::{Docent, Options};
use docent::fragments::{block_on, write_fragments, MemorySource, SiteIndex};
use docent::ingest::walk::{walk, WalkOptions};
use docent::ingest::Ingested;
use docent::prompt::{not_mentioned, PromptOptions, NOT_COVERED};
use docent::retrieve::RetrieveOptions;
use docent::site::Manifest;

use crate::common::{fixture, hashing, model_dir, root};

/// The `tally` documentation of `tests/fixtures/gate/` (six pages, a time-tracking tool).
fn tally() -> Docent {
    tally_with(hashing())
}

/// [`tally`] embedded with `embedder`.
fn tally_with(embedder: std::sync::Arc<dyn docent::embed::Embedder>) -> Docent {
    let report = walk(&[fixture("gate")], &WalkOptions::default(), &mut |_| {}).unwrap();
    let mut e = Docent::new(embedder, Options::default()).unwrap();
    for f in report.files {
        if let Ingested::Document(d) = f.outcome {
            e.add_document(d).unwrap();
        }
    }
    e.build(&mut |_| {}).unwrap();
    assert!(e.site_gate().is_none(), "a build alone does not calibrate");
    e.calibrate_gate().unwrap();
    e
}

const KUBERNETES: &str = "How do I run tally inside Kubernetes?";

#[test]
fn a_build_calibrates_the_gate_and_index_bin_keeps_it() {
    let e = tally();
    let g = e.site_gate().expect("a site of 24 sections is calibrated");
    let c = g.calibration;
    assert!(c.answerable >= 20 && c.near_miss >= 10 && c.off_topic >= 20, "{c:?}");
    assert_eq!(c.held_out.answerable + c.held_out.unanswerable + c.train, c.queries, "{c:?}");
    let bytes = e.to_bytes().unwrap();
    let names: Vec<String> = docent::format::read(&bytes, "t").unwrap().into_iter().map(|s| s.name).collect();
    assert_eq!(names, ["meta", "docs", "chunks", "dense", "bm25", "gate"]);
    let back = Docent::from_bytes(&bytes, hashing(), "index.bin").unwrap();
    assert_eq!(back.site_gate(), Some(g));
    // Deterministic: a second build writes the same bytes.
    assert_eq!(tally().to_bytes().unwrap(), bytes);
}

#[test]
fn an_index_without_the_gate_section_uses_the_fixed_gate() {
    let bytes = std::fs::read(fixture("index-v2/index.bin")).unwrap();
    let e = Docent::from_bytes(&bytes, hashing(), "index-v2").unwrap();
    assert!(e.site_gate().is_none());
    // The fixed gate's verdict, exactly as before calibrated gates.
    let r = e.search("sourdough starter", 3).unwrap();
    let fixed = docent::retrieve::Gate::for_embedder(e.embedder_kind());
    assert_eq!(r.answerable, fixed.passes(r.evidence.dense, r.evidence.coverage));
}

#[test]
fn a_question_about_an_absent_technology_is_flagged_and_names_it() {
    let e = tally();
    let r = e.search(KUBERNETES, 5).unwrap();
    assert!(!r.answerable, "{:?}", r.evidence);
    assert_eq!(r.missing, ["Kubernetes"]);
    let p = e.assemble(KUBERNETES, &PromptOptions::default()).unwrap();
    assert!(p.abstained);
    assert_eq!(p.missing, ["Kubernetes"]);
    let a = offline_answer_for(&p, Some(KUBERNETES));
    assert_eq!((a.text.as_str(), a.abstained), ("These documents do not mention Kubernetes.", true));
    // The prompt's JSON carries the terms only when there are some.
    let covered = e.assemble("How do I export a report to CSV?", &PromptOptions::default()).unwrap();
    assert!(!covered.abstained);
    assert!(!serde_json::to_string(&covered).unwrap().contains("\"missing\""));
}

#[test]
fn typos_stop_words_and_covered_questions_are_not_missing_terms() {
    let e = tally();
    for (q, why) in [
        ("How do I archive finished projetcs?", "a typo one edit from \"projects\""),
        ("How can I round my invoices to quarter hours?", "every word is in the documents"),
        ("Where is the ledger file stored?", "stop words and question words are not salient"),
    ] {
        let r = e.search(q, 5).unwrap();
        assert!(r.missing.is_empty(), "{q}: {why}: {:?}", r.missing);
        assert!(r.answerable, "{q}: {:?}", r.evidence);
    }
    // Off-topic questions are flagged whether or not a term is missing.
    assert!(!e.search("What is a good recipe for lentil soup?", 5).unwrap().answerable);
}

#[test]
fn the_not_mentioned_sentence_lists_every_term() {
    assert_eq!(not_mentioned(&[]), NOT_COVERED);
    assert_eq!(not_mentioned(&["GraphQL".into()]), "These documents do not mention GraphQL.");
    assert_eq!(
        not_mentioned(&["Redis".into(), "gRPC".into(), "Kafka".into()]),
        "These documents do not mention Redis, gRPC or Kafka."
    );
}

#[test]
fn the_fragments_manifest_keeps_the_gate_and_its_lexical_variant_decides_first_answers() {
    let e = tally();
    let frags = write_fragments(&e).unwrap();
    let value = frags.table.gate.clone().expect("the manifest's gate");
    assert_eq!(value, serde_json::to_value(e.site_gate().unwrap()).unwrap());
    let mut m = Manifest::new(&e, "index.bin", b"", "test".into(), Vec::new());
    m.fragments = Some(frags.table.clone());
    let json = m.to_json().unwrap();
    let site = SiteIndex::open(json.as_bytes(), "manifest.json").unwrap();
    assert_eq!(site.site_gate(), e.site_gate());
    let src = MemorySource::new(frags.files.clone());
    let opts = RetrieveOptions::default();
    // Lexical only (no vector): the lexical-only model, and the missing term always flags.
    let r = block_on(site.search(&src, KUBERNETES, 5, None, &opts)).unwrap();
    assert!(!r.answerable);
    assert_eq!(r.missing, ["Kubernetes"]);
    let r = block_on(site.search(&src, "How do I export a report to CSV?", 5, None, &opts)).unwrap();
    assert!(r.answerable && r.missing.is_empty(), "{:?}", r.evidence);
    // Hybrid: the same verdicts as the engine.
    for q in [KUBERNETES, "How do I export a report to CSV?", "What is a good recipe for lentil soup?"] {
        let v = e.embed(&[q]).unwrap();
        let r = block_on(site.search(&src, q, 5, Some(&v), &opts)).unwrap();
        assert_eq!(r.answerable, e.search(q, 5).unwrap().answerable, "{q}");
    }
    // A manifest written before calibrated gates has no "gate": the fixed gate decides.
    let mut old: serde_json::Value = serde_json::from_str(&json).unwrap();
    old["fragments"].as_object_mut().unwrap().remove("gate");
    let site = SiteIndex::open(old.to_string().as_bytes(), "manifest.json").unwrap();
    assert!(site.site_gate().is_none());
    let r = block_on(site.search(&src, KUBERNETES, 5, None, &opts)).unwrap();
    assert_eq!(r.missing, ["Kubernetes"], "the terms are still reported");
}

/// The calibrated gate's common words (an embedder with a vocabulary: the static table) are not in
/// the manifest but in a fragment that only a question with a term the site lacks fetches, and
/// then the verdict and the named terms are the engine's.
#[test]
fn the_common_words_are_fetched_only_by_a_question_with_a_term_the_site_lacks() {
    let table = docent::embed::static_table::StaticTable::load(&model_dir()).unwrap();
    let e = tally_with(std::sync::Arc::new(table));
    assert!(e.site_gate().unwrap().common.is_some(), "the static table's vocabulary gives common words");
    let frags = write_fragments(&e).unwrap();
    let common = frags.table.common.clone().expect("a common-words fragment");
    assert!(common.file.starts_with("fragments/cmn-"), "{}", common.file);
    assert!(frags.table.gate.as_ref().unwrap().get("common").is_none(), "not in the manifest");
    let mut m = Manifest::new(&e, "index.bin", b"", "test".into(), Vec::new());
    m.fragments = Some(frags.table.clone());
    let json = m.to_json().unwrap();
    let site = SiteIndex::open(json.as_bytes(), "manifest.json").unwrap();
    let src = MemorySource::new(frags.files.clone());
    let opts = RetrieveOptions::default();
    let fetched = |src: &MemorySource| src.asked().iter().filter(|p| **p == common.file).count();
    block_on(site.search(&src, "How do I export a report to CSV?", 5, None, &opts)).unwrap();
    assert_eq!(fetched(&src), 0, "every term occurs: no common words needed");
    for q in [KUBERNETES, "What is the quickest way to tidy a report?", "How do I export a report to CSV?"] {
        let v = e.embed(&[q]).unwrap();
        let r = block_on(site.search(&src, q, 5, Some(&v), &opts)).unwrap();
        let m = e.search(q, 5).unwrap();
        assert_eq!((r.answerable, &r.missing), (m.answerable, &m.missing), "{q}");
    }
    assert_eq!(fetched(&src), 1, "fetched once, by the first question with an absent term");
    // A damaged filter is refused, naming it.
    let mut bad = MemorySource::new(frags.files.clone());
    bad.get_mut(&common.file).unwrap()[12] ^= 1;
    let site = SiteIndex::open(json.as_bytes(), "manifest.json").unwrap();
    let err = block_on(site.search(&bad, KUBERNETES, 5, None, &opts)).unwrap_err().to_string();
    assert!(err.contains(&common.file) && err.contains("does not match its name"), "{err}");
}

/// An English word list beside the embedder's vocabulary (`docent index --words`): an absent
/// word the list holds is a reader's ordinary word, no longer a missing name, in the engine and
/// the fragments alike; a name the list lacks still flags the question.
#[test]
fn a_word_list_makes_an_absent_ordinary_word_plain_and_names_stay_missing() {
    const COWORKER: &str = "Can my coworker export a report?";
    let mut e = tally();
    assert!(e.site_gate().unwrap().common.is_none(), "the hashing embedder has no vocabulary");
    let before = e.search(COWORKER, 5).unwrap();
    assert_eq!((before.answerable, before.missing.clone()), (false, vec!["coworker".to_string()]));
    // Capitalised entries are names and possessives are forms: only "coworker" counts.
    let list = "Kubernetes\ncoworker\ncoworker's\n";
    assert_eq!(docent::gate::dictionary_words(list), ["coworker"]);
    e.calibrate_gate_with(&docent::gate::dictionary_words(list)).unwrap();
    let g = e.site_gate().unwrap().clone();
    assert!(g.common.is_some());
    let r = e.search(COWORKER, 5).unwrap();
    assert!(r.missing.is_empty(), "{:?}", r.missing);
    // A plain word leaves the dense match alone to decide.
    assert_eq!(r.answerable, r.evidence.dense >= g.fixed.dense, "{:?}", r.evidence);
    let k = e.search(KUBERNETES, 5).unwrap();
    assert_eq!((k.answerable, k.missing.clone()), (false, vec!["Kubernetes".to_string()]));
    // The fragments decide alike and name the same terms.
    let frags = write_fragments(&e).unwrap();
    let mut m = Manifest::new(&e, "index.bin", b"", "test".into(), Vec::new());
    m.fragments = Some(frags.table.clone());
    let site = SiteIndex::open(m.to_json().unwrap().as_bytes(), "manifest.json").unwrap();
    let src = MemorySource::new(frags.files.clone());
    for q in [COWORKER, KUBERNETES] {
        let v = e.embed(&[q]).unwrap();
        let f = block_on(site.search(&src, q, 5, Some(&v), &RetrieveOptions::default())).unwrap();
        let s = e.search(q, 5).unwrap();
        assert_eq!((f.answerable, &f.missing), (s.answerable, &s.missing), "{q}");
    }
}

fn docent(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_docent")).args(args).current_dir(root()).output().expect("run docent")
}

#[test]
fn the_cli_names_the_missing_term_in_search_ask_and_eval() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("site");
    let dir = out.to_str().unwrap();
    let o = docent(&["index", fixture("gate").to_str().unwrap(), "--out", dir, "--embedder", "hashing"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let o = docent(&["search", dir, KUBERNETES]);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.starts_with("answerable: no"), "{text}");
    assert!(
        text.contains("not in the documents: Kubernetes\nThese documents do not mention Kubernetes.\n"),
        "{text}"
    );
    let o = docent(&["search", dir, KUBERNETES, "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["missing"], serde_json::json!(["Kubernetes"]));
    for extra in [&[][..], &["--fragments"][..]] {
        let mut args = vec!["ask", dir, KUBERNETES, "--provider", "offline"];
        args.extend_from_slice(extra);
        let o = docent(&args);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        assert_eq!(
            String::from_utf8_lossy(&o.stdout),
            "These documents do not mention Kubernetes.\n",
            "{extra:?}"
        );
    }
    let questions = tmp.path().join("q.jsonl");
    std::fs::write(
        &questions,
        format!(
            "{{\"q\": \"{KUBERNETES}\", \"relevant\": []}}\n{{\"q\": \"How do I export a report to CSV?\", \"relevant\": [\"reports.md\"]}}\n"
        ),
    )
    .unwrap();
    let o = docent(&["eval", dir, questions.to_str().unwrap()]);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("(the site's gate: the missing-term rule, then the fixed thresholds)"), "{text}");
    assert!(text.contains("calibration at index time: "), "{text}");
    assert!(text.contains("1/1 unanswerable flagged"), "{text}");
}
