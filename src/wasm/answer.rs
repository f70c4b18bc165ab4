//! The offline answer and the "not covered" text at the wasm edge: `offlineAnswer(prompt,
//! question?)` (a function, and the same as a `Docent` method so that a `DocentWorker` can run it
//! in its worker) and `notCovered()`. The answer itself is [`crate::answer`]'s.

use js_sys::{Array, Reflect};
use wasm_bindgen::prelude::*;

#[cfg(feature = "models")]
use super::JsDocent;
use super::{js_kind, to_js};
use crate::answer::{offline_answer, question_of, Answer, Passage};
use crate::prompt::{not_mentioned, NOT_COVERED};
use crate::Error;

#[wasm_bindgen(typescript_custom_section)]
const TS_ANSWER: &'static str = r#"
/** The extractive answer of `offlineAnswer`. */
export interface OfflineAnswer {
  /** Whole prose sentences quoted from the sources, each followed by its `[n]` (and, when the
   * question asks for a command, a code block in a ``` fence with its `[n]` on the next line);
   * or `notMentioned(missing)` when the prompt abstained for terms the documents lack; or
   * `notCovered()`. */
  text: string;
  /** True when the prompt abstained or no sentence shares a word with the question. */
  abstained: boolean;
}

/** The parts of a prompt `offlineAnswer` reads (an assembled `Prompt` has them all). */
export interface OfflinePrompt {
  /** The numbered sources; `n` is the citation number (default: position from 1). */
  sources: Array<{ n?: number; title?: string; heading?: string; text: string }>;
  abstained?: boolean;
  /** Terms of the question the documents never mention (an abstained prompt names them). */
  missing?: string[];
  /** The question is read from its last `Question:` line when not given. */
  user?: string;
}
"#;

#[wasm_bindgen]
extern "C" {
    /// `OfflinePrompt` in TypeScript.
    #[wasm_bindgen(typescript_type = "OfflinePrompt")]
    pub type JsOfflinePrompt;
    /// `OfflineAnswer` in TypeScript.
    #[wasm_bindgen(typescript_type = "OfflineAnswer")]
    pub type JsOfflineAnswer;
}

/// `offlineAnswer(prompt, question?)`: the extractive answer, without any LLM, from an assembled
/// prompt's sources (`{text, abstained}`); the question defaults to the prompt's last `Question:`
/// line. A source's citation number is its `n` when that is a whole number ≥ 0, else its
/// position from 1; a source that is not an object with a string `text` is skipped.
#[wasm_bindgen(js_name = offlineAnswer)]
pub fn offline_answer_js(
    prompt: &JsOfflinePrompt,
    question: Option<String>,
) -> std::result::Result<JsOfflineAnswer, JsError> {
    Ok(to_js(&answer(prompt, question)?)?.unchecked_into())
}

/// `notCovered()`: what docent says when the documents do not cover a question.
#[wasm_bindgen(js_name = notCovered)]
pub fn not_covered() -> String {
    NOT_COVERED.to_string()
}

/// `notMentioned(terms)`: what docent says when terms of a question occur nowhere in the
/// documents ("These documents do not mention GraphQL."); `notCovered()` for no terms. Entries
/// that are not strings are skipped.
#[wasm_bindgen(js_name = notMentioned)]
pub fn not_mentioned_js(terms: &Array) -> String {
    not_mentioned(&strings(terms))
}

/// The string entries of a JS array.
fn strings(a: &Array) -> Vec<String> {
    a.iter().filter_map(|v| v.as_string()).collect()
}

#[cfg(feature = "models")]
#[wasm_bindgen(js_class = Docent)]
impl JsDocent {
    /// The same as the function `offlineAnswer(prompt, question?)`.
    #[wasm_bindgen(js_name = offlineAnswer)]
    pub fn offline_answer(
        &self,
        prompt: &JsOfflinePrompt,
        question: Option<String>,
    ) -> std::result::Result<JsOfflineAnswer, JsError> {
        offline_answer_js(prompt, question)
    }
}

/// Reads the prompt's fields one by one, so that a malformed source is skipped (keeping its
/// place in the ranking) rather than failing the answer.
fn answer(prompt: &JsValue, question: Option<String>) -> crate::Result<Answer> {
    let bad = |found: String| {
        Error::invalid(
            "prompt",
            format!("expected an assembled prompt with a `sources` array (docent.assemble(question)), found {found}"),
        )
    };
    if !prompt.is_object() || Array::is_array(prompt) {
        return Err(bad(js_kind(prompt)));
    }
    let field = |v: &JsValue, name: &str| Reflect::get(v, &name.into()).unwrap_or(JsValue::UNDEFINED);
    let sources = field(prompt, "sources");
    if !Array::is_array(&sources) {
        return Err(bad("an object without one".into()));
    }
    let sources: Array = sources.unchecked_into();
    let missing = field(prompt, "missing");
    if field(prompt, "abstained").is_truthy() && Array::is_array(&missing) {
        let terms = strings(missing.unchecked_ref());
        if !terms.is_empty() {
            return Ok(Answer { text: not_mentioned(&terms), abstained: true });
        }
    }
    if field(prompt, "abstained").is_truthy() || sources.length() == 0 {
        return Ok(Answer { text: NOT_COVERED.to_string(), abstained: true });
    }
    let text_of = |v: &JsValue, name: &str| field(v, name).as_string().unwrap_or_default();
    let owned: Vec<(usize, String, String, String)> = sources
        .iter()
        .enumerate()
        .map(|(rank, s)| {
            if !s.is_object() {
                return (rank + 1, String::new(), String::new(), String::new());
            }
            let n =
                field(&s, "n").as_f64().filter(|n| n.fract() == 0.0 && (0.0..=usize::MAX as f64).contains(n));
            let n = n.map_or(rank + 1, |n| n as usize);
            (n, text_of(&s, "title"), text_of(&s, "heading"), text_of(&s, "text"))
        })
        .collect();
    let passages: Vec<Passage> =
        owned.iter().map(|(n, title, heading, text)| Passage { n: *n, title, heading, text }).collect();
    let user = text_of(prompt, "user");
    let question = question.unwrap_or_else(|| question_of(&user).to_string());
    Ok(offline_answer(&question, &passages))
}
