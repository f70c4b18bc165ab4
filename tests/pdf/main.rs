//! PDFs written by a real PDF writer (fpdf2, `tests/pdf/make.py`, from this project's own texts),
//! read by the core (`docent::ingest::pdf`) and by the CLI: page anchors, headings from the
//! outline, text order, and the bad files (encrypted, without text, unreadable, over the limits),
//! each a line in the summary and a warning naming the file, never a crash.
//!
//! `./build.sh test core` installs fpdf2 in a venv and runs this with `DOCENT_PDF_PYTHON` set to
//! its python; run alone: `DOCENT_PDF_PYTHON=.cache/pdf/venv/bin/python cargo test --test pdf`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use docent::ingest::pdf::{self, PdfLimits, PdfRead};
use docent::ingest::{Document, Ingested};

/// The folder of PDFs make.py wrote (once per test run).
fn pdfs() -> &'static Path {
    static DIR: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    &DIR.get_or_init(|| {
        let python = std::env::var("DOCENT_PDF_PYTHON").unwrap_or_else(|_| {
            panic!(
                "DOCENT_PDF_PYTHON is not set: run `./build.sh test core`, which installs fpdf2 and sets it"
            )
        });
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("pdfs");
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/pdf/make.py");
        let o = Command::new(&python).arg(&script).arg(&dir).output().expect("run the PDF writer");
        assert!(o.status.success(), "make.py failed: {}", String::from_utf8_lossy(&o.stderr));
        (tmp, dir)
    })
    .1
}

fn read(name: &str) -> PdfRead {
    read_with(name, &PdfLimits::DEFAULT)
}

fn read_with(name: &str, limits: &PdfLimits) -> PdfRead {
    let bytes = std::fs::read(pdfs().join(name)).unwrap();
    pdf::parse(name, name.trim_end_matches(".pdf"), &bytes, limits)
}

fn document(name: &str) -> Document {
    match read(name) {
        PdfRead { outcome: Ingested::Document(d), .. } => d,
        other => panic!("{name}: expected a document, got {other:?}"),
    }
}

fn skipped(name: &str, limits: &PdfLimits) -> (String, String) {
    match read_with(name, limits) {
        PdfRead { outcome: Ingested::Skipped { reason }, note } => (reason, note.unwrap_or_default()),
        other => panic!("{name}: expected a skip, got {other:?}"),
    }
}

#[test]
fn sections_are_anchored_at_their_page_with_the_outline_as_headings() {
    let d = document("guide.pdf");
    assert_eq!(d.title, "Lantern Archive Guide");
    let got: Vec<(&str, Vec<&str>)> = d
        .sections
        .iter()
        .map(|s| (s.anchor.as_deref().unwrap(), s.headings.iter().map(String::as_str).collect()))
        .collect();
    assert_eq!(
        got,
        vec![
            ("page=1", vec!["Welcome"]),
            ("page=2", vec!["Borrowing folders"]),
            ("page=2", vec!["Borrowing folders", "Late returns"]),
            ("page=3", vec!["Closing the reading room"]),
        ],
        "{d:#?}"
    );
    // The heading line is the heading, not body text; the text under it is.
    assert!(d.sections[1].text.starts_with("A folder leaves the archive only with a signed borrowing slip."));
    assert!(!d.sections[1].text.contains("Late returns"), "{:?}", d.sections[1].text);
    assert!(d.sections[2].text.starts_with("A late folder blocks further borrowing"));
}

#[test]
fn text_keeps_reading_order_and_word_breaks() {
    let d = document("guide.pdf");
    let last = &d.sections[3].text;
    let at = |s: &str| last.find(s).unwrap_or_else(|| panic!("{s:?} not in {last:?}"));
    assert!(
        at("First, the warden") < at("Second, readers") && at("Second, readers") < at("Third, the warden")
    );
    // One paragraph per multi_cell, blank lines between them.
    assert_eq!(last.matches("\n\n").count(), 2, "{last:?}");
    // A paragraph wrapped over several lines reads as the same words in the same order.
    let welcome = d.sections[0].text.split_whitespace().collect::<Vec<_>>().join(" ");
    let wrapped = "The lantern index keeps every shelf of the archive in one table, and each row names the \
                   room, the cabinet and the drawer where a folder rests, so that a reader who asks for a \
                   folder by its number walks straight to it instead of searching the whole floor.";
    assert!(welcome.contains(wrapped), "{welcome:?}");
    assert!(d.sections[0].text.lines().count() >= 3, "wrapped lines kept apart: {:?}", d.sections[0].text);
}

#[test]
fn without_an_outline_or_title_each_page_is_a_section_titled_by_the_file() {
    let d = document("plain.pdf");
    assert_eq!(d.title, "plain");
    assert_eq!(d.sections.len(), 2);
    assert_eq!(d.sections[0].anchor.as_deref(), Some("page=1"));
    assert_eq!(d.sections[1].anchor.as_deref(), Some("page=2"));
    assert!(d.sections.iter().all(|s| s.headings.is_empty()));
    assert_eq!(d.sections[1].text, "The humidity log of the basement vault is read every Monday.");
}

#[test]
fn bad_pdfs_say_why_they_are_not_indexed() {
    let l = PdfLimits::DEFAULT;
    assert_eq!(skipped("locked.pdf", &l).0, pdf::ENCRYPTED);
    let (reason, note) = skipped("scan.pdf", &l);
    assert_eq!(reason, pdf::NO_TEXT);
    assert!(reason.contains("no text, OCR it first"));
    assert_eq!(note, "none of its 1 pages has text");
    let (reason, note) = skipped("error-page.pdf", &l);
    assert_eq!(
        (reason.as_str(), note.as_str()),
        (pdf::UNREADABLE, "no %PDF- header in the first 1024 bytes")
    );
    let (reason, note) = skipped("truncated.pdf", &l);
    assert_eq!(reason, pdf::UNREADABLE, "{note}");
    assert!(!note.is_empty());
}

#[test]
fn an_owner_password_alone_does_not_stop_reading() {
    let d = document("owner-only.pdf");
    assert_eq!(d.sections[0].text, "Printing this notice is not permitted, reading it is.");
}

#[test]
fn pages_without_text_are_named_in_the_note() {
    let r = read("mixed.pdf");
    let Ingested::Document(d) = &r.outcome else { panic!("{r:?}") };
    assert_eq!(d.sections.len(), 1);
    assert_eq!(d.sections[0].anchor.as_deref(), Some("page=1"));
    assert_eq!(r.note.as_deref(), Some("1 of 2 pages have no text (images?); OCR them to index them"));
}

#[test]
fn limits_stop_huge_and_inflating_pdfs() {
    let (reason, note) = skipped("bomb.pdf", &PdfLimits::DEFAULT);
    assert_eq!(reason, pdf::OVER_LIMITS);
    assert!(note.contains("inflates past 67108864 bytes"), "{note}");
    let few_ops = PdfLimits { max_operations: 20, ..PdfLimits::DEFAULT };
    let (reason, note) = skipped("guide.pdf", &few_ops);
    assert_eq!(reason, pdf::OVER_LIMITS);
    assert_eq!(note, "more than 20 content operations; at most that many are interpreted");
    let small = PdfLimits { max_file_bytes: 1000, ..PdfLimits::DEFAULT };
    assert!(skipped("guide.pdf", &small).1.ends_with("bytes; at most 1000 bytes are read"));
    let two_pages = PdfLimits { max_pages: 2, ..PdfLimits::DEFAULT };
    assert_eq!(skipped("guide.pdf", &two_pages).1, "3 pages; at most 2 are read");
}

fn docent(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_docent")).args(args).output().expect("run docent")
}

#[test]
fn the_cli_indexes_pdfs_and_cites_their_pages() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("docent");
    let o =
        docent(&["index", pdfs().to_str().unwrap(), "--out", out.to_str().unwrap(), "--embedder", "hashing"]);
    let (stdout, stderr) = (String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
    assert!(o.status.success(), "{stderr}");
    // guide, plain, owner-only and mixed are indexed; the five others are skipped, by reason.
    assert!(stdout.starts_with("indexed 4 documents ("), "{stdout}");
    assert!(
        stdout.contains(&format!(
            "5 skipped (1 {}, 1 {}, 1 {}, 2 {})",
            pdf::OVER_LIMITS,
            pdf::NO_TEXT,
            pdf::ENCRYPTED,
            pdf::UNREADABLE
        )),
        "{stdout}"
    );
    for (file, says) in [
        ("locked.pdf", "not indexed: encrypted PDF (needs a password)"),
        (
            "scan.pdf",
            "not indexed: PDF without a text layer (no text, OCR it first): none of its 1 pages has text",
        ),
        ("error-page.pdf", "not indexed: unreadable PDF: no %PDF- header"),
        ("truncated.pdf", "not indexed: unreadable PDF: "),
        ("bomb.pdf", "not indexed: PDF over the limits: "),
        ("mixed.pdf", "1 of 2 pages have no text"),
    ] {
        let line = format!("{}: {says}", pdfs().join(file).display());
        assert!(stderr.contains(&line), "{line:?} not in {stderr}");
    }
    // The page anchor reaches the hits unchanged, from index.bin and from the fragments.
    for extra in [&[][..], &["--fragments"][..]] {
        let mut args = vec![
            "search",
            out.to_str().unwrap(),
            "late folder blocks further borrowing",
            "--k",
            "1",
            "--json",
        ];
        args.extend_from_slice(extra);
        let o = docent(&args);
        let s = String::from_utf8_lossy(&o.stdout);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        assert!(s.contains("\"guide.pdf#page=2\""), "{extra:?}: {s}");
    }
}
