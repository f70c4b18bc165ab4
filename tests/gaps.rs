//! `docent gaps` and `docent::gaps`: the reports `<docent-ask report>` posts, grouped into a
//! stable report (golden files in tests/fixtures/gaps/), and bad input named by file and line.

use std::path::Path;
use std::process::{Command, Output};

use docent::gaps::{self, GapReport, IndexId, Limits, Section};

use crate::common::{fixture, root};

fn docent(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_docent")).args(args).current_dir(root()).output().expect("run docent")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}
fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// `got` equals the golden file `name` (tests/fixtures/gaps/), or fails with how to update it.
fn golden(name: &str, got: &str, how: &str) {
    let path = fixture("gaps").join(name);
    let want = std::fs::read_to_string(&path).unwrap();
    assert!(
        got == want,
        "{} differs from the output below; if the change is intended, write it with `{how} > {}`:\n{got}",
        path.display(),
        path.display()
    );
}

fn report(q: &str, missing: &[&str]) -> GapReport {
    GapReport {
        question: q.into(),
        missing: missing.iter().map(|s| s.to_string()).collect(),
        index: Some(IndexId { version: 4, fingerprint: "00aa".into() }),
        time: Some("2026-12-07T09:00:00.000Z".into()),
    }
}

#[test]
fn gaps_markdown_of_the_recorded_file_is_the_golden_one() {
    let file = fixture("gaps/reports.jsonl");
    let o = docent(&["gaps", file.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    golden("report.md", &stdout(&o), "docent gaps tests/fixtures/gaps/reports.jsonl");
    // Twice the same bytes.
    assert_eq!(stdout(&docent(&["gaps", file.to_str().unwrap()])), stdout(&o));
}

#[test]
fn gaps_with_an_index_groups_by_the_nearest_section() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("docent");
    let garden = fixture("garden");
    let o =
        docent(&["index", garden.to_str().unwrap(), "--out", out.to_str().unwrap(), "--embedder", "hashing"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let file = fixture("gaps/reports.jsonl");
    let o = docent(&["gaps", file.to_str().unwrap(), "--index", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    golden(
        "report-index.md",
        &stdout(&o),
        "docent index tests/fixtures/garden --out GARDEN --embedder hashing && docent gaps tests/fixtures/gaps/reports.jsonl --index GARDEN",
    );
    // --json: the same grouping as data.
    let o = docent(&["gaps", file.to_str().unwrap(), "--index", out.to_str().unwrap(), "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let j: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(j["reports"], 11);
    assert_eq!(j["questions"], 9);
    assert_eq!(j["unnamed"], 1);
    assert_eq!(j["terms"][0]["term"], "greenhouse");
    assert_eq!(j["terms"][0]["reports"], 5);
    assert_eq!(j["terms"][0]["questions"][0]["text"], "How do I get a greenhouse key?");
    assert_eq!(j["terms"][0]["questions"][0]["reports"], 3);
    let sections = j["sections"].as_array().unwrap();
    let placed: u64 = sections.iter().map(|s| s["reports"].as_u64().unwrap()).sum();
    assert_eq!(placed, 11, "every question has a nearest section");
    assert!(sections.iter().all(|s| s["url"].as_str().unwrap().contains(".html")), "{sections:?}");
    // Without --index: no sections at all.
    let o = docent(&["gaps", file.to_str().unwrap(), "--json"]);
    let j: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(j.get("sections").is_none(), "{j}");
}

#[test]
fn gaps_orders_by_count_then_text_whatever_the_order_of_the_lines() {
    let mut reports = vec![
        report("Does it run on Kubernetes?", &["Kubernetes"]),
        report("Any GraphQL API?", &["GraphQL"]),
        report("does it run on kubernetes", &["kubernetes"]),
        report("Zig bindings?", &["Zig"]),
        report("Ada bindings?", &["Ada"]),
        report("Is there a GraphQL endpoint?", &["GraphQL", "endpoint"]),
        report("Does it run on   Kubernetes?", &["Kubernetes", "kubernetes"]),
    ];
    let first = gaps::group(&reports, None, Limits::default()).unwrap();
    let terms: Vec<(&str, usize)> = first.terms.iter().map(|t| (t.term.as_str(), t.reports)).collect();
    // A term counts once per report, whatever its case; ties go by text.
    assert_eq!(terms, [("Kubernetes", 3), ("GraphQL", 2), ("Ada", 1), ("Zig", 1), ("endpoint", 1)]);
    assert_eq!(first.terms[0].questions.len(), 1, "three spellings of one question");
    assert_eq!(first.terms[0].questions[0].text, "Does it run on Kubernetes?");
    assert_eq!(first.terms[0].questions[0].reports, 3);
    assert_eq!(first.questions, 5);
    for seed in 0..5 {
        reports.rotate_left(seed + 1);
        reports.swap(0, seed % 3 + 2);
        let again = gaps::group(&reports, None, Limits::default()).unwrap();
        assert_eq!(again.markdown(), first.markdown(), "order of lines changed the report (seed {seed})");
    }
    // Limits: the rest are counted.
    let short = gaps::group(&reports, None, Limits { top: 2, examples: 1 }).unwrap();
    assert_eq!(short.terms.len(), 2);
    assert_eq!(short.more_terms, 3);
    assert!(short.markdown().contains("And 3 more terms."), "{}", short.markdown());
    assert!(short.terms.iter().all(|t| t.questions.len() == 1));
}

#[test]
fn gaps_sections_group_by_url_and_count_what_found_nothing() {
    let reports = vec![
        report("Kubernetes?", &["Kubernetes"]),
        report("Helm?", &["Helm"]),
        report("Nomad?", &["Nomad"]),
        report("Anything?", &[]),
    ];
    let s = |u: &str| Some(Section { url: u.into(), title: format!("Deploy > {u}") });
    let nearest = vec![s("deploy.html#cluster"), s("deploy.html#cluster"), s("deploy.html#vm"), None];
    let g = gaps::group(&reports, Some(&nearest), Limits::default()).unwrap();
    let sections = g.sections.as_ref().unwrap();
    assert_eq!(sections.len(), 2);
    assert_eq!((sections[0].url.as_str(), sections[0].reports), ("deploy.html#cluster", 2));
    let terms: Vec<&str> = sections[0].terms.iter().map(|t| t.term.as_str()).collect();
    assert_eq!(terms, ["Helm", "Kubernetes"]);
    assert_eq!(g.unplaced, Some(1));
    assert_eq!(g.unnamed, 1);
    assert!(g.markdown().contains("1 question found no section at all."), "{}", g.markdown());
    let err = gaps::group(&reports, Some(&nearest[..2]), Limits::default()).unwrap_err().to_string();
    assert_eq!(err, "invalid nearest: one section per report: 4 reports, 2 sections");
}

#[test]
fn gaps_markdown_shows_a_question_as_typed_never_as_markup() {
    let g = gaps::group(
        &[report(
            "Is <img src=x onerror=alert(1)> | **bold** [x](javascript:alert(1)) `code`?",
            &["<b>x</b>"],
        )],
        None,
        Limits::default(),
    )
    .unwrap();
    let md = g.markdown();
    let row = md.lines().find(|l| l.starts_with("| \\<b\\>")).unwrap_or_else(|| panic!("{md}"));
    assert_eq!(
        row,
        "| \\<b\\>x\\</b\\> | 1 | Is \\<img src=x onerror=alert(1)\\> \\| \\*\\*bold\\*\\* \\[x\\](javascript:alert(1)) \\`code\\`? |"
    );
    // A long question is cut, on a character boundary, with "…".
    let long = "é".repeat(400);
    let cut = gaps::md_text(&long, gaps::SHOWN_CHARS);
    assert_eq!(cut.chars().count(), gaps::SHOWN_CHARS + 1);
    assert!(cut.ends_with('…'));
}

/// Runs `docent gaps` on `content` written to a file named `name`; returns stderr (it must fail).
fn gaps_error(dir: &Path, name: &str, content: &[u8]) -> String {
    let path = dir.join(name);
    std::fs::write(&path, content).unwrap();
    let o = docent(&["gaps", path.to_str().unwrap()]);
    assert!(!o.status.success(), "{name} should fail: {}", stdout(&o));
    assert!(o.stdout.is_empty(), "nothing printed on failure: {}", stdout(&o));
    let e = stderr(&o);
    assert_eq!(e.lines().count(), 1, "one line: {e}");
    e.trim_end().to_string()
}

#[test]
fn gaps_bad_input_names_the_file_and_line() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let ok = r#"{"question":"Kubernetes?","missing":["Kubernetes"],"index":null,"time":"2026-12-07T09:00:00.000Z"}"#;
    let at = |name: &str, line: usize| format!("docent: {}:{line}: ", d.join(name).display());
    let cases: &[(&str, String, usize, &str)] = &[
        ("notjson.jsonl", format!("{ok}\n\n{{\"question\": \"half"), 3, "not JSON: "),
        ("array.jsonl", "[1, 2]\n".into(), 1, "expected a JSON object, found an array"),
        ("noquestion.jsonl", format!("{ok}\n{{\"missing\": []}}\n"), 2, "no \"question\" field"),
        ("emptyq.jsonl", r#"{"question": "  ", "missing": []}"#.into(), 1, "\"question\" is empty"),
        ("numberq.jsonl", r#"{"question": 7, "missing": []}"#.into(), 1, "\"question\" must be a string, found a number"),
        ("nomissing.jsonl", r#"{"question": "Helm?"}"#.into(), 1, "no \"missing\" field"),
        ("stringmissing.jsonl", r#"{"question": "Helm?", "missing": "Helm"}"#.into(), 1, "\"missing\" must be an array of strings, found a string"),
        ("nullterm.jsonl", r#"{"question": "Helm?", "missing": [null]}"#.into(), 1, "\"missing\" must hold non-empty strings, found null"),
        ("badindex.jsonl", r#"{"question": "Helm?", "missing": [], "index": {"version": "4"}}"#.into(), 1, "\"index\" must be null or {\"version\": number, \"fingerprint\": string}, found {\"version\":\"4\"}"),
        ("badtime.jsonl", r#"{"question": "Helm?", "missing": [], "time": 1733562000}"#.into(), 1, "\"time\" must be a string, found a number"),
    ];
    for (name, content, line, reason) in cases {
        let e = gaps_error(d, name, content.as_bytes());
        let want = format!("{}{reason}", at(name, *line));
        assert!(e.starts_with(&want), "{name}:\n  got  {e}\n  want {want}…");
    }
    // Not UTF-8, a missing file, a missing index.
    let e = gaps_error(d, "latin1.jsonl", b"{\"question\": \"caf\xe9\", \"missing\": []}\n");
    assert_eq!(
        e,
        format!("docent: {}: not UTF-8 text (byte 17 is not valid UTF-8)", d.join("latin1.jsonl").display())
    );
    let o = docent(&["gaps", d.join("absent.jsonl").to_str().unwrap()]);
    assert!(
        stderr(&o).starts_with(&format!("docent: {}: ", d.join("absent.jsonl").display())),
        "{}",
        stderr(&o)
    );
    std::fs::write(d.join("ok.jsonl"), ok).unwrap();
    let o = docent(&[
        "gaps",
        d.join("ok.jsonl").to_str().unwrap(),
        "--index",
        d.join("noindex").to_str().unwrap(),
    ]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("manifest.json"), "{}", stderr(&o));
    let o = docent(&["gaps", d.join("ok.jsonl").to_str().unwrap(), "--top", "0"]);
    assert_eq!(stderr(&o).trim_end(), "docent: invalid top: expected at least 1, found 0");
    // An empty file is a report of nothing, not an error.
    std::fs::write(d.join("empty.jsonl"), "\n").unwrap();
    let o = docent(&["gaps", d.join("empty.jsonl").to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("0 questions the relevance gate flagged"), "{}", stdout(&o));
}
