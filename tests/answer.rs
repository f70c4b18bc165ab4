//! The offline answer over docent's own documents (what the demo indexes: `docs/*.md`,
//! `README.md`, `ARCHITECTURE.md`), whose tables and code blocks the answer once ran into its
//! sentences (issue 21: "… add one script and one tag to your layout [1]. pkg/cli.js | npx docent
//! index through the wasm build … | www/ | …").

use docent::answer::{offline_answer, offline_answer_for, Passage};
use docent::engine::{Docent, Options};
use docent::ingest::{self, Format, Ingested};
use docent::prompt::PromptOptions;

use crate::common::{hashing, root};

/// The demo's question of issue 21.
const STATIC_SITE: &str = "How do I add docent to a static site?";

/// The demo corpus as documents.
fn demo_documents() -> Vec<ingest::Document> {
    let mut files: Vec<_> = std::fs::read_dir(root().join("docs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    files.sort();
    files.extend([root().join("README.md"), root().join("ARCHITECTURE.md")]);
    files
        .iter()
        .filter_map(|path| {
            let name = path.file_name().unwrap().to_string_lossy().to_string();
            let text = std::fs::read_to_string(path).unwrap();
            match ingest::parse(&name, &name, &text, Format::Markdown).unwrap() {
                Ingested::Document(d) => Some(d),
                Ingested::Skipped { .. } => None,
            }
        })
        .collect()
}

/// Checks that the prose of an answer (outside ``` fences and their citation lines) has no
/// table cells, no line of a source's code, and only whole sentences.
fn assert_prose(answer: &str, sources: &[&str], what: &str) {
    let mut prose = String::new();
    let mut fenced = false;
    let mut closed = false;
    for line in answer.split('\n') {
        if std::mem::take(&mut closed) {
            continue;
        }
        if line == "```" {
            closed = fenced;
            fenced = !fenced;
        } else if !fenced {
            prose.push_str(line);
            prose.push(' ');
        }
    }
    assert!(!prose.contains(" | "), "{what}: table cells run together: {answer}");
    // Lines of the sources' multi-line paragraphs that are not list items: code (ingestion writes
    // a prose paragraph on one line and a table row with ` | `).
    for text in sources {
        for para in text.split("\n\n") {
            let lines: Vec<&str> = para.lines().filter(|l| !l.trim().is_empty()).collect();
            if lines.len() < 2 || lines.iter().all(|l| l.trim_start().starts_with("- ")) {
                continue;
            }
            for l in lines.iter().map(|l| l.trim()).filter(|l| l.len() >= 12 && !l.starts_with("- ")) {
                assert!(!prose.contains(l), "{what}: code {l:?} in the prose: {answer}");
            }
        }
    }
    let mut rest = prose.trim();
    while !rest.is_empty() {
        // A sentence runs to its " [n]", then its final punctuation.
        let at = rest.find(" [").unwrap_or_else(|| panic!("{what}: no citation after {rest:?}"));
        let close = at + rest[at..].find(']').unwrap();
        let after = &rest[close + 1..];
        let punct = after.len() - after.trim_start_matches(['.', '!', '?']).len();
        let sentence = format!("{}{}", &rest[..at], &after[..punct]);
        rest = after[punct..].trim_start();
        let body = sentence.trim_start_matches(['"', '(', '“']);
        let end = sentence.trim_end_matches(['"', ')', '”']);
        assert!(
            body.starts_with(|c: char| c.is_uppercase() || c.is_numeric()) && end.ends_with(['.', '!', '?']),
            "{what}: not a whole sentence: {sentence:?} in {answer}"
        );
    }
}

#[test]
fn the_demo_static_site_question_gets_no_table_cells_run_together() {
    let mut e = Docent::new(hashing(), Options::default()).unwrap();
    for d in demo_documents() {
        e.add_document(d).unwrap();
    }
    e.build(&mut |_| {}).unwrap();
    // The demo's settings (www/app.js: 5 sources, up to 10; a budget of 3000 tokens).
    let mut answered = 0;
    for q in [
        STATIC_SITE,
        "What does pkg/cli.js do?",
        "Which module owns the wasm edge?",
        "How do I run the tests?",
        "What command builds the demo?",
    ] {
        for k in [5, 10] {
            let p = e.assemble(q, &PromptOptions { k, budget: 3000, ..Default::default() }).unwrap();
            let a = offline_answer_for(&p, Some(q));
            if a.abstained {
                continue;
            }
            answered += 1;
            let texts: Vec<&str> = p.sources.iter().map(|s| s.text.as_str()).collect();
            assert_prose(&a.text, &texts, &format!("{q} (k = {k})"));
        }
    }
    assert!(answered >= 6, "too few answers to check: {answered}");
}

#[test]
fn every_table_of_the_demo_documents_is_left_out_of_the_answer() {
    // Each section holding a table row, first among the sources (so it leads if anything of it
    // can be quoted), for the demo question and for questions made of its own first row's words.
    let docs = demo_documents();
    let sections: Vec<(&str, &ingest::Section)> =
        docs.iter().flat_map(|d| d.sections.iter().map(move |s| (d.title.as_str(), s))).collect();
    let tables: Vec<_> = sections.iter().filter(|(_, s)| s.text.contains(" | ")).collect();
    assert!(tables.len() >= 3, "the demo documents lost their tables");
    for (title, s) in &tables {
        let heading = s.headings.join(" > ");
        let row = s.text.lines().find(|l| l.contains(" | ")).unwrap();
        for q in [STATIC_SITE.to_string(), row.replace(" | ", " ")] {
            let p = [Passage { n: 1, title, heading: &heading, text: &s.text }];
            let a = offline_answer(&q, &p);
            if !a.abstained {
                assert_prose(&a.text, &[&s.text], &format!("{heading}: {q}"));
            }
        }
    }
}
