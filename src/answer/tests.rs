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
