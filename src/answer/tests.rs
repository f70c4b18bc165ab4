//! The offline answer on the cases of `tests/fixtures/offline/cases.json`, which the npm package's
//! tests (through the wasm module) check too, and on what only Rust sees.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::*;
use crate::prompt::{Prompt, Source, NOT_COVERED};

/// The golden file: prompts by name, and the answer each case expects.
#[derive(Deserialize)]
struct Golden {
    prompts: BTreeMap<String, PromptJson>,
    cases: Vec<Case>,
}

/// The parts of an assembled prompt the offline answer reads.
#[derive(Deserialize)]
struct PromptJson {
    #[serde(default)]
    user: String,
    abstained: bool,
    sources: Vec<SourceJson>,
}

#[derive(Deserialize)]
struct SourceJson {
    n: usize,
    url: String,
    title: String,
    heading: String,
    text: String,
}

#[derive(Deserialize)]
struct Case {
    name: String,
    prompt: String,
    question: Option<String>,
    answer: Answer,
}

impl PromptJson {
    fn to_prompt(&self) -> Prompt {
        let sources = self
            .sources
            .iter()
            .map(|s| Source {
                n: s.n,
                url: s.url.clone(),
                title: s.title.clone(),
                heading: s.heading.clone(),
                text: s.text.clone(),
                score: 0.5,
            })
            .collect();
        Prompt {
            system: String::new(),
            user: self.user.clone(),
            messages: Vec::new(),
            sources,
            abstained: self.abstained,
            tokens: 0,
            turns: 0,
            query: String::new(),
            missing: Vec::new(),
        }
    }
}

fn golden() -> Golden {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/offline/cases.json");
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[test]
fn the_golden_cases_give_their_answers() {
    let g = golden();
    assert!(g.cases.len() >= 10, "the golden file lost its cases");
    for case in &g.cases {
        let prompt =
            g.prompts.get(&case.prompt).unwrap_or_else(|| panic!("{}: no prompt {}", case.name, case.prompt));
        let prompt = prompt.to_prompt();
        let got = offline_answer_for(&prompt, case.question.as_deref());
        assert_eq!(got, case.answer, "{}", case.name);
        assert_eq!(
            offline_answer_for(&prompt, case.question.as_deref()),
            got,
            "{}: deterministic",
            case.name
        );
        if got.abstained {
            assert_eq!(got.text, NOT_COVERED, "{}", case.name);
        }
    }
}

#[test]
fn without_sources_or_question_the_answer_is_not_covered() {
    let none = Answer { text: NOT_COVERED.into(), abstained: true };
    assert_eq!(offline_answer("water", &[]), none);
    let p = Passage { n: 1, title: "", heading: "", text: "Water the plants daily." };
    assert_eq!(offline_answer("", &[p]), none);
    assert_eq!(offline_answer("water", &[p]).text, "Water the plants daily [1].");
}

#[test]
fn the_question_is_the_last_question_line() {
    assert_eq!(
        question_of("Sources: x\n\nQuestion: \t first\nQuestion: second one\n\nAnswer."),
        "second one"
    );
    assert_eq!(question_of("Question:"), "");
    assert_eq!(question_of("No question here. Question: inline"), "");
}

#[test]
fn the_js_client_carries_the_same_not_covered_text() {
    // pkg/llm/offline.js keeps a copy so that the LLM client names it without loading the wasm
    // module; the npm tests compare it with the wasm export too.
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/pkg/llm/offline.js");
    let js = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let line = format!("export const NOT_IN_DOCUMENTS = '{NOT_COVERED}';");
    assert!(js.contains(&line), "{path} must declare {line}");
}

/// A chunk as ingestion writes one (`src/ingest/`): a prose paragraph on one line, list items,
/// a table's rows with cells joined by ` | `, code verbatim between blank lines, and a start and
/// an end cut mid-sentence by the chunker.
const MIXED: &str = "the loaf rests overnight in the fridge. Proofing dough needs a warm place.\n\n\
Flour | Water | Salt\n500 g | 350 g | 10 g\nrye flour | 380 g |\n\n\
- Knead the dough for ten minutes until it is smooth\n- Salt: 2%\n- shape it loosely\n\n\
$ oven --preheat 250\nPreheating the oven. Done.\n\n\
fn proof(dough: &mut Dough) {\n    dough.rest(Hours(12));\n}\n\n\
[oven]\ntemperature = 250\n\n\
Bake the loaf at 250 degrees for forty minutes, e.g. in a covered pot. Let it cool before slicing \
because the crumb is still setting. The crust";

/// Every line of MIXED's table and code.
const MIXED_CODE: &[&str] = &[
    "Flour | Water | Salt",
    "500 g",
    "rye flour",
    "oven --preheat",
    "Preheating the oven",
    "fn proof",
    "dough.rest",
    "[oven]",
    "temperature = 250",
];

/// Checks that the prose of `answer` (outside ``` fences) is whole sentences, each with its
/// citation, with no table cells and none of `code`.
fn assert_whole_prose(answer: &str, code: &[&str]) {
    let mut prose = String::new();
    let mut fenced = false;
    let mut closed = false;
    for line in answer.split('\n') {
        if std::mem::take(&mut closed) {
            // A code block's citation, on the line after its fence.
            let n = line.strip_prefix('[').and_then(|l| l.strip_suffix(']'));
            assert!(n.is_some_and(|n| n.parse::<usize>().is_ok()), "{line:?} after a block: {answer}");
        } else if line == "```" {
            closed = fenced;
            fenced = !fenced;
        } else if !fenced {
            prose.push_str(line);
            prose.push(' ');
        }
    }
    assert!(!prose.contains(" | ") && !prose.contains(['{', '}']), "table cells or code: {answer}");
    for c in code {
        assert!(!prose.contains(c), "code {c:?} in the prose: {answer}");
    }
    let mut rest = prose.trim();
    let mut count = 0;
    while !rest.is_empty() {
        // A sentence runs to its " [n]", then its final punctuation.
        let at = rest.find(" [").unwrap_or_else(|| panic!("no citation after {rest:?} in {answer}"));
        let close = at + rest[at..].find(']').unwrap();
        let n = &rest[at + 2..close];
        assert!(!n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()), "{rest:?}");
        let after = &rest[close + 1..];
        let punct = after.len() - after.trim_start_matches(['.', '!', '?']).len();
        let sentence = format!("{}{}", &rest[..at], &after[..punct]);
        rest = after[punct..].trim_start();
        let body = sentence.trim_start_matches(['"', '(', '“']);
        assert!(body.starts_with(|c: char| c.is_uppercase() || c.is_numeric()), "cut start: {sentence:?}");
        let end = sentence.trim_end_matches(['"', ')', '”']);
        assert!(end.ends_with(['.', '!', '?']) && !end.ends_with(".."), "cut end: {sentence:?}");
        assert!(!sentence.contains('…'), "shortened: {sentence:?}");
        count += 1;
    }
    assert!(count > 0 || answer.contains("```"), "nothing quoted: {answer}");
}

#[test]
fn a_chunk_is_read_as_whole_sentences_and_code_blocks_without_its_table() {
    use super::sentences::{parts, Part};
    assert_eq!(
        parts(MIXED),
        [
            Part::Sentence("Proofing dough needs a warm place.".into()),
            Part::Sentence("Knead the dough for ten minutes until it is smooth.".into()),
            Part::Code(
                "$ oven --preheat 250\nPreheating the oven. Done.\n\nfn proof(dough: &mut Dough) {\n    \
                 dough.rest(Hours(12));\n}\n\n[oven]\ntemperature = 250"
                    .into()
            ),
            Part::Sentence("Bake the loaf at 250 degrees for forty minutes, e.g. in a covered pot.".into()),
            Part::Sentence("Let it cool before slicing because the crumb is still setting.".into()),
        ]
    );
}

#[test]
fn answers_from_tables_code_lists_and_prose_quote_whole_prose_sentences_only() {
    let table = "Option | Default | Meaning\nproof | 12 h | how long the dough rests in the fridge |\n\
                 bake | 40 min | the oven time for a loaf";
    let code = "    let dough = Dough::new(500);\n    dough.proof(Hours(12));";
    let passages = [
        Passage { n: 1, title: "Bread", heading: "Bread > Baking", text: MIXED },
        Passage { n: 2, title: "Bread", heading: "Bread > Options", text: table },
        Passage { n: 3, title: "Bread", heading: "Bread > API", text: code },
    ];
    let mut all_code: Vec<&str> = MIXED_CODE.to_vec();
    all_code.extend(["12 h", "40 min", "Dough::new"]);
    for q in [
        "How long does the dough proof in the fridge?",
        "What oven temperature and bake time for a loaf?",
        "How do I knead and proof dough?",
        "What command preheats the oven?",
        "dough rest hours",
    ] {
        let a = offline_answer(q, &passages);
        assert!(!a.abstained, "{q}");
        assert_whole_prose(&a.text, &all_code);
    }
}

#[test]
fn code_is_quoted_whole_only_when_the_question_asks_for_a_command_and_it_is_the_best_match() {
    let text =
        "Preheat the oven before baking.\n\n$ oven --preheat 250 --fan\n\nThe oven beeps when it is hot.";
    let p = [Passage { n: 1, title: "Oven", heading: "Oven", text }];
    assert_eq!(
        offline_answer("which command preheats the oven with the fan", &p).text,
        "Preheat the oven before baking [1].\n\n```\n$ oven --preheat 250 --fan\n```\n[1]\n\n\
         The oven beeps when it is hot [1]."
    );
    // Not asked for a command: the same sources, no code.
    assert_eq!(
        offline_answer("how to preheat the oven with the fan", &p).text,
        "Preheat the oven before baking [1]. The oven beeps when it is hot [1]."
    );
    // Not the first source's: left out.
    let first = Passage { n: 1, title: "Oven", heading: "Oven", text: "Ovens are hot." };
    let second = Passage { n: 2, ..p[0] };
    assert!(!offline_answer("which command preheats the oven with the fan", &[first, second])
        .text
        .contains("```"));
    // Too long to quote whole, or holding a bracketed number that would read as a citation.
    let long = format!("Preheat the oven.\n\n{}", "$ oven --preheat 250 --fan\n".repeat(13));
    let long = [Passage { text: &long, ..p[0] }];
    assert_eq!(offline_answer("command to preheat the oven fan", &long).text, "Preheat the oven [1].");
    let indexed = [Passage { text: "Preheat it.\n\n$ oven --preheat temps[1] --fan", ..p[0] }];
    assert_eq!(offline_answer("command to preheat the oven fan", &indexed).text, "Preheat it [1].");
}

#[test]
fn near_duplicates_are_quoted_once_and_the_answer_keeps_its_length_and_order() {
    let a = Passage {
        n: 1,
        title: "Workspace",
        heading: "Workspace > Members",
        text: "The manual setting can be useful if the member is not inside a subdirectory of the \
               workspace root.",
    };
    let b = Passage {
        n: 2,
        title: "Workspace",
        heading: "Workspace > Root",
        text: "Setting this is useful if the member is not inside a subdirectory of the workspace root. \
               A workspace root holds the lock file.",
    };
    assert_eq!(
        offline_answer("workspace member subdirectory root", &[a, b]).text,
        "The manual setting can be useful if the member is not inside a subdirectory of the \
         workspace root [1]. \
         A workspace root holds the lock file [2]."
    );
    // Long sentences that all match: at most 600 characters of prose, whole sentences, per source
    // in retrieval order, then in their source's order.
    let s = |i: usize| format!("Sentence {i} about kilns {}.", "and glazes ".repeat(14));
    let one = format!("{} {} {}", s(1), s(2), s(3));
    let two = s(4);
    let p = [
        Passage { n: 2, title: "", heading: "", text: &two },
        Passage { n: 1, title: "", heading: "", text: &one },
    ];
    let got = offline_answer("kilns glazes", &p).text;
    let quoted: usize = got.split(" [").map(|s| s.trim_start_matches(|c| c != ' ').chars().count()).sum();
    assert!(quoted <= 600 + 20, "{got}");
    assert!(got.starts_with("Sentence 4 ") && got.contains("[2]. Sentence 1 "), "{got}");
    assert_eq!(got.matches("Sentence").count(), 3, "{got}");
    assert_whole_prose(&got, &[]);
}

#[test]
fn a_period_before_a_lowercase_word_ends_a_sentence_but_not_after_an_abbreviation() {
    let p = [Passage {
        n: 1,
        title: "",
        heading: "",
        text: "The site folder is the deployable unit. index.bin stays the format of the CLI, i.e. the \
               native one, etc. and more. Integration tests use the env! macro to find a binary. docs #7697",
    }];
    assert_eq!(
        offline_answer("deployable format native binary macro", &p).text,
        "The site folder is the deployable unit [1]. \
         Integration tests use the env! macro to find a binary [1]."
    );
}
