//! Chunk boundaries, offsets, budgets and overlap, with both token counters.

use docent::chunk::{chunk_document, Chunk, ChunkOptions};
use docent::ingest::{Document, Section};
use docent::tokens::TokenCounter;

fn section_doc(text: &str) -> Document {
    Document {
        url: "page.html".into(),
        title: "Page".into(),
        sections: vec![
            Section { anchor: None, headings: vec![], text: "Intro text.".into() },
            Section {
                anchor: Some("part".into()),
                headings: vec!["Page".into(), "Part".into()],
                text: text.into(),
            },
        ],
    }
}

/// A long text of numbered sentences in paragraphs: deterministic, easy to check.
fn long_text(paragraphs: usize) -> String {
    (0..paragraphs)
        .map(|p| {
            (0..6)
                .map(|s| format!("Sentence {s} of paragraph {p} talks about lanterns and rivers."))
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect::<Vec<_>>()
        .join("\n\n")
}

fn real_counter() -> TokenCounter {
    let path = crate::common::model_dir().join("tokenizer.json");
    TokenCounter::from_json(&std::fs::read(&path).unwrap()).unwrap()
}

fn check_invariants(doc: &Document, chunks: &[Chunk], counter: &TokenCounter, opts: &ChunkOptions) {
    for c in chunks {
        let section = &doc.sections[c.section as usize];
        let (s, e) = (c.start as usize, c.end as usize);
        assert_eq!(&section.text[s..e], c.text, "offsets are byte offsets into the section");
        assert!(counter.count(&c.text).unwrap() <= opts.max_tokens, "over budget: {}", c.text);
        let before = section.text[..s].chars().next_back();
        let after = section.text[e..].chars().next();
        assert!(
            before.is_none_or(char::is_whitespace),
            "cut inside a word before {:?}",
            &c.text[..20.min(c.text.len())]
        );
        assert!(after.is_none_or(char::is_whitespace), "cut inside a word after chunk {}", c.url);
    }
    // Every word of every section is in some chunk.
    for (si, section) in doc.sections.iter().enumerate() {
        let mut covered = vec![false; section.text.len()];
        for c in chunks.iter().filter(|c| c.section as usize == si) {
            covered[c.start as usize..c.end as usize].iter_mut().for_each(|x| *x = true);
        }
        for (i, ch) in section.text.char_indices() {
            assert!(ch.is_whitespace() || covered[i], "byte {i} of section {si} is in no chunk");
        }
    }
}

#[test]
fn chunks_fit_the_budget_cover_everything_and_cut_between_words() {
    let doc = section_doc(&long_text(12));
    for counter in [TokenCounter::Approx, real_counter()] {
        for (max_tokens, overlap_tokens) in [(200, 32), (64, 0), (50, 20), (16, 4)] {
            let opts = ChunkOptions { max_tokens, overlap_tokens };
            let chunks = chunk_document(&doc, 7, &counter, &opts).unwrap();
            assert!(chunks.len() > 2);
            check_invariants(&doc, &chunks, &counter, &opts);
            assert!(chunks.iter().all(|c| c.doc == 7));
        }
    }
}

#[test]
fn chunks_keep_anchor_and_heading_path() {
    let doc = section_doc(&long_text(3));
    let chunks = chunk_document(&doc, 0, &TokenCounter::Approx, &ChunkOptions::default()).unwrap();
    assert_eq!(chunks[0].url, "page.html");
    assert_eq!(chunks[0].heading, "");
    assert_eq!(chunks[1].url, "page.html#part");
    assert_eq!(chunks[1].heading, "Page > Part");
    assert_eq!(chunks[1].indexed_text("Page"), format!("Page > Part\n{}", chunks[1].text));
    assert_eq!(chunks[0].indexed_text("Page"), "Page\nIntro text.");
}

#[test]
fn cuts_prefer_paragraph_breaks() {
    let doc = section_doc(&long_text(10));
    let opts = ChunkOptions { max_tokens: 200, overlap_tokens: 0 };
    let chunks = chunk_document(&doc, 0, &real_counter(), &opts).unwrap();
    let section = &doc.sections[1].text;
    for c in chunks.iter().filter(|c| c.section == 1 && (c.end as usize) < section.len()) {
        assert!(
            section[c.end as usize..].starts_with("\n\n"),
            "chunk ends mid-paragraph: …{}",
            &c.text[c.text.len() - 30..]
        );
    }
}

#[test]
fn overlap_repeats_the_end_of_the_previous_chunk() {
    let doc = section_doc(&long_text(8));
    let opts = ChunkOptions { max_tokens: 60, overlap_tokens: 20 };
    let counter = real_counter();
    let chunks: Vec<Chunk> =
        chunk_document(&doc, 0, &counter, &opts).unwrap().into_iter().filter(|c| c.section == 1).collect();
    for w in chunks.windows(2) {
        assert!(w[1].start < w[0].end, "chunks overlap");
        let shared = &doc.sections[1].text[w[1].start as usize..w[0].end as usize];
        let n = counter.count(shared).unwrap();
        assert!((10..=20).contains(&n), "overlap of {n} tokens: {shared:?}");
    }
}

#[test]
fn one_giant_word_is_cut_at_token_boundaries_without_breaking_characters() {
    let giant: String = "éa".repeat(3000);
    let doc = section_doc(&format!("start {giant} end"));
    let opts = ChunkOptions::default();
    for counter in [TokenCounter::Approx, real_counter()] {
        let chunks = chunk_document(&doc, 0, &counter, &opts).unwrap();
        // WordPiece maps a word over 100 characters to one [UNK] token, so only the
        // approximate counter has to cut this word.
        if matches!(counter, TokenCounter::Approx) {
            assert!(chunks.len() > 3);
        }
        for c in &chunks {
            assert!(counter.count(&c.text).unwrap() <= opts.max_tokens);
        }
        let joined: usize =
            chunks.iter().filter(|c| c.section == 1).map(|c| c.end - c.start).sum::<u32>() as usize;
        assert!(
            joined >= doc.sections[1].text.len() - 2,
            "no overlap possible inside a word, and nothing lost"
        );
    }
}

#[test]
fn zero_width_and_rtl_text_survive_chunking() {
    let text = "שלום עולם\u{200f} and zero\u{200b}width joiners \u{200d} stay. مرحبا بالعالم";
    let doc = section_doc(text);
    let chunks = chunk_document(&doc, 0, &real_counter(), &ChunkOptions::default()).unwrap();
    assert_eq!(chunks[1].text, text);
}

#[test]
fn empty_sections_give_no_chunks() {
    let doc = section_doc("  \n\n ");
    let chunks = chunk_document(&doc, 0, &TokenCounter::Approx, &ChunkOptions::default()).unwrap();
    assert_eq!(chunks.len(), 1);
}
