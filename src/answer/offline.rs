//! The extractive answer: sentences of the sources chosen by the words they share with the
//! question.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::sentences::{cite, sentences, words};
use crate::index::bm25::Bm25;
use crate::prompt::{not_mentioned, Prompt, NOT_COVERED};

/// Words that carry no topic, left out of the question's terms: BM25's stop words and more
/// question words ("explain", "describe", "tell"), pronouns and quantifiers.
const STOP_WORDS: &[&str] = &[
    "a", "about", "after", "all", "also", "am", "an", "and", "any", "are", "as", "at", "be", "been",
    "before", "being", "both", "but", "by", "can", "could", "did", "do", "does", "doing", "done", "for",
    "from", "get", "got", "had", "has", "have", "having", "he", "her", "here", "him", "his", "how", "i",
    "if", "in", "into", "is", "it", "its", "just", "me", "more", "most", "my", "no", "nor", "not", "of",
    "off", "on", "once", "only", "or", "other", "our", "out", "over", "own", "please", "same", "she",
    "should", "so", "some", "such", "tell", "than", "that", "the", "their", "them", "then", "there", "these",
    "they", "this", "those", "through", "to", "too", "under", "until", "up", "very", "was", "we", "were",
    "what", "when", "where", "which", "while", "who", "whom", "why", "will", "with", "would", "you", "your",
    "yours", "explain", "describe",
];

/// Most sentences in an answer.
const MAX_SENTENCES: usize = 4;

/// Sentences kept whatever their score, when that many match; after them, a sentence scoring
/// under half the best one ends the answer.
const MIN_SENTENCES: usize = 2;

/// A source the offline answer may quote.
#[derive(Debug, Clone, Copy)]
pub struct Passage<'a> {
    /// Its citation number (`[n]`).
    pub n: usize,
    /// The document title.
    pub title: &'a str,
    /// The heading path.
    pub heading: &'a str,
    /// The text, whose sentences are quoted.
    pub text: &'a str,
}

/// An offline answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Answer {
    /// The answer: quoted sentences, each followed by its source's `[n]`; or [`NOT_COVERED`].
    pub text: String,
    /// True when the prompt abstained or no sentence shares a word with the question; `text` is
    /// then [`NOT_COVERED`].
    pub abstained: bool,
}

impl Answer {
    fn not_covered() -> Answer {
        Answer { text: NOT_COVERED.to_string(), abstained: true }
    }
}

/// The offline answer to an assembled prompt: [`offline_answer`] over its sources, for `question`
/// or, when `None`, the question of its default user template ([`question_of`]). A prompt that
/// abstained for terms the documents lack gets [`not_mentioned`] of them; one that abstained
/// otherwise (or has no sources) gets [`NOT_COVERED`]. A follow-up's prompt that carries the
/// query its conversation formed (`prompt.query`) is answered for that query.
pub fn offline_answer_for(prompt: &Prompt, question: Option<&str>) -> Answer {
    if prompt.abstained && !prompt.missing.is_empty() {
        return Answer { text: not_mentioned(&prompt.missing), abstained: true };
    }
    if prompt.abstained || prompt.sources.is_empty() {
        return Answer::not_covered();
    }
    let passages: Vec<Passage> = prompt
        .sources
        .iter()
        .map(|s| Passage { n: s.n, title: &s.title, heading: &s.heading, text: &s.text })
        .collect();
    // A follow-up's own words may be few ("and on Windows?"): its sentences are picked by the
    // query its conversation formed, which holds them and the topic's.
    let question = if prompt.query.is_empty() {
        question.unwrap_or_else(|| question_of(&prompt.user))
    } else {
        &prompt.query
    };
    offline_answer(question, &passages)
}

/// The extractive answer, without any LLM, from `passages` in retrieval order (best first).
///
/// The question's terms are its words without stop words, stemmed. Each sentence of a passage
/// scores a point per term it contains, plus a quarter point per other term found in its
/// passage's title or heading; sentences without a term of their own are not candidates. The
/// best sentence of the first passage leads (retrieval ranked that passage best, even when a
/// later sentence shares more words), then the best others follow, 4 sentences at most; once 2
/// are kept, a sentence scoring under half the best one ends the list; a sentence already kept
/// (ignoring case) is not repeated. They are given in document order, each with its passage's
/// `[n]`. Ties go to the better ranked passage, then the earlier sentence, so the answer is
/// deterministic. Without any candidate the answer is [`NOT_COVERED`].
pub fn offline_answer(question: &str, passages: &[Passage]) -> Answer {
    let terms: BTreeSet<String> =
        words(question).into_iter().filter(|w| !STOP_WORDS.contains(&w.as_str())).map(|w| stem(&w)).collect();
    if terms.is_empty() {
        return Answer::not_covered();
    }
    let mut candidates = Vec::new();
    for (rank, p) in passages.iter().enumerate() {
        let label = stems(&format!("{} {}", p.title, p.heading));
        for (pos, sentence) in sentences(p.text).into_iter().enumerate() {
            let own = stems(&sentence);
            let matched = terms.iter().filter(|t| own.contains(*t)).count();
            let labelled = terms.iter().filter(|t| !own.contains(*t) && label.contains(*t)).count();
            if matched > 0 {
                candidates.push(Candidate { sentence, n: p.n, rank, pos, quarters: 4 * matched + labelled });
            }
        }
    }
    // Stable, and (rank, pos) is unique: the order is total.
    candidates.sort_by(|a, b| b.quarters.cmp(&a.quarters).then(a.rank.cmp(&b.rank)).then(a.pos.cmp(&b.pos)));
    let Some(best) = candidates.first().map(|c| c.quarters) else {
        return Answer::not_covered();
    };
    let mut kept: Vec<&Candidate> = Vec::new();
    let mut seen = BTreeSet::new();
    if let Some(lead) = candidates.iter().find(|c| c.rank == 0) {
        kept.push(lead);
        seen.insert(lead.sentence.to_lowercase());
    }
    for c in &candidates {
        if kept.len() == MAX_SENTENCES || (kept.len() >= MIN_SENTENCES && 2 * c.quarters < best) {
            break;
        }
        if seen.insert(c.sentence.to_lowercase()) {
            kept.push(c);
        }
    }
    kept.sort_by_key(|c| (c.rank, c.pos));
    let text = kept.iter().map(|c| cite(&c.sentence, c.n)).collect::<Vec<_>>().join(" ");
    Answer { text, abstained: false }
}

/// The question of a prompt built from the default user template: the rest of its last line
/// that starts with `Question:`, without the spaces and tabs after the colon; `""` without one.
pub fn question_of(user: &str) -> &str {
    user.split('\n')
        .filter_map(|line| line.strip_prefix("Question:"))
        .last()
        .map_or("", |q| q.trim_start_matches([' ', '\t']))
}

/// A sentence that shares at least one term with the question.
struct Candidate {
    sentence: String,
    n: usize,
    /// Position of its passage in retrieval order.
    rank: usize,
    /// Position of the sentence in its passage.
    pos: usize,
    /// Score in quarter points: 4 per term in the sentence, 1 per other term in the label.
    quarters: usize,
}

/// The stemmed words of `text`.
fn stems(text: &str) -> BTreeSet<String> {
    words(text).iter().map(|w| stem(w)).collect()
}

/// `word` (a run of letters and digits) stemmed by the BM25 analyzer; as it is when the analyzer
/// drops it (one of its stop words, or longer than it indexes).
fn stem(word: &str) -> String {
    Bm25::analyze(word).into_iter().next().unwrap_or_else(|| word.to_string())
}
