//! The extractive answer: sentences of the sources chosen by the words they share with the
//! question.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::sentences::{cite, parts, words, Part};
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

/// Most characters of quoted prose in an answer (citations and a code block not counted); a
/// sentence that would pass it is skipped for a shorter one. Default 600: about four sentences
/// of documentation; the lead sentence always fits (a quoted sentence has at most 400).
const MAX_PROSE_CHARS: usize = 600;

/// Words that make a question ask for code (matched against its lowercased words, as they are):
/// only then may a code block be quoted.
const CODE_REQUESTS: &[&str] = &[
    "command", "commands", "cli", "code", "example", "snippet", "syntax", "run", "install", "invoke",
    "shell", "terminal",
];

/// Most lines of a quoted code block; a longer block is left out (it is never cut).
const MAX_CODE_LINES: usize = 12;

/// Most characters of a quoted code block; a longer block is left out.
const MAX_CODE_CHARS: usize = 480;

/// Two sentences are near-duplicates when this share (in fifths) of the content words of the
/// shorter one are in the other.
const NEAR_DUPLICATE_FIFTHS: usize = 4;

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
    /// The answer: quoted sentences, each followed by its source's `[n]` (and at most one code
    /// block in a ```` ``` ```` fence, its `[n]` on the line after); or [`NOT_COVERED`].
    pub text: String,
    /// True when the prompt abstained or no whole sentence (nor code block it may quote) shares a
    /// word with the question; `text` is then [`NOT_COVERED`].
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
/// What may be quoted is a passage's whole prose sentences and code blocks, as
/// [`parts`](super::sentences::parts) reads them: table rows are never quoted, nor sentences cut
/// by a chunk's edge, nor code mixed into prose.
///
/// The question's terms are its words without stop words, stemmed. Each sentence of a passage
/// scores a point per term it contains, plus a quarter point per other term found in its
/// passage's title or heading; sentences without a term of their own are not candidates. The
/// best sentence of the first passage leads (retrieval ranked that passage best, even when a
/// later sentence shares more words), then the best others follow, 4 sentences and 600
/// characters at most (a sentence that would pass 600 is skipped); once 2 are kept, a sentence
/// scoring under half the best one ends the list; a sentence that repeats one already kept
/// (ignoring case), or that shares four fifths of its content words with one kept (of the
/// shorter one's, when it has three or more), is not repeated. They are given per passage in
/// retrieval order, then in the passage's order, each with its passage's `[n]`. Ties go to the
/// better ranked passage, then the earlier sentence, so the answer is deterministic.
///
/// A code block is quoted only when the question asks for code (a word of [`CODE_REQUESTS`]),
/// the block is in the first passage, scores (as a sentence would) at least as much as that
/// passage's best sentence, and is short (12 lines, 480 characters; no `[n]`-like bracket, which
/// would read as a citation): then it is one block in a ```` ``` ```` fence, in its place among
/// the sentences, with its `[n]` on the line after. Without any candidate the answer is
/// [`NOT_COVERED`].
pub fn offline_answer(question: &str, passages: &[Passage]) -> Answer {
    let terms: BTreeSet<String> =
        words(question).into_iter().filter(|w| !STOP_WORDS.contains(&w.as_str())).map(|w| stem(&w)).collect();
    if terms.is_empty() {
        return Answer::not_covered();
    }
    let wants_code = words(question).iter().any(|w| CODE_REQUESTS.contains(&w.as_str()));
    let mut candidates = Vec::new();
    let mut code: Option<Candidate> = None;
    for (rank, p) in passages.iter().enumerate() {
        let label = stems(&format!("{} {}", p.title, p.heading));
        for (pos, part) in parts(p.text).into_iter().enumerate() {
            let (text, is_code) = match part {
                Part::Sentence(s) => (s, false),
                Part::Code(c) if wants_code && rank == 0 && quotable(&c) => (c, true),
                Part::Code(_) => continue,
            };
            let own = stems(&text);
            let matched = terms.iter().filter(|t| own.contains(*t)).count();
            let labelled = terms.iter().filter(|t| !own.contains(*t) && label.contains(*t)).count();
            if matched == 0 {
                continue;
            }
            let content = own.into_iter().filter(|w| !STOP_WORDS.contains(&w.as_str())).collect();
            let c = Candidate {
                sentence: text,
                n: p.n,
                rank,
                pos,
                quarters: 4 * matched + labelled,
                content,
                is_code,
            };
            if !is_code {
                candidates.push(c);
            } else if code.as_ref().is_none_or(|b| c.quarters > b.quarters) {
                code = Some(c);
            }
        }
    }
    // Stable, and (rank, pos) is unique: the order is total.
    candidates.sort_by(|a, b| b.quarters.cmp(&a.quarters).then(a.rank.cmp(&b.rank)).then(a.pos.cmp(&b.pos)));
    let lead = candidates.iter().find(|c| c.rank == 0);
    let code = code.filter(|c| lead.is_none_or(|l| c.quarters >= l.quarters));
    let Some(best) = candidates.first().map(|c| c.quarters).or(code.as_ref().map(|c| c.quarters)) else {
        return Answer::not_covered();
    };
    let mut kept: Vec<&Candidate> = Vec::new();
    let mut chars = 0;
    if let Some(lead) = lead {
        kept.push(lead);
        chars += lead.sentence.chars().count();
    }
    for c in &candidates {
        if kept.len() == MAX_SENTENCES || (kept.len() >= MIN_SENTENCES && 2 * c.quarters < best) {
            break;
        }
        let len = c.sentence.chars().count();
        if chars + len > MAX_PROSE_CHARS || kept.iter().any(|k| k.repeats(c)) {
            continue;
        }
        kept.push(c);
        chars += len;
    }
    kept.extend(code.as_ref());
    kept.sort_by_key(|c| (c.rank, c.pos));
    let mut text = String::new();
    let mut after_block = false;
    for c in kept {
        if c.is_code {
            if !text.is_empty() {
                text.push_str("\n\n");
            }
            text.push_str(&format!("```\n{}\n```\n[{}]", c.sentence, c.n));
            after_block = true;
        } else {
            if !text.is_empty() {
                text.push_str(if after_block { "\n\n" } else { " " });
            }
            text.push_str(&cite(&c.sentence, c.n));
            after_block = false;
        }
    }
    Answer { text, abstained: false }
}

/// Whether a code block may be quoted: at most [`MAX_CODE_LINES`] lines and [`MAX_CODE_CHARS`]
/// characters, no fence of its own and no bracketed number (`v[1]` would read as a citation).
fn quotable(code: &str) -> bool {
    let cites = code.split('[').skip(1).any(|rest| {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        digits > 0 && rest.as_bytes().get(digits) == Some(&b']')
    });
    code.lines().count() <= MAX_CODE_LINES
        && code.chars().count() <= MAX_CODE_CHARS
        && !code.contains("```")
        && !cites
}

/// The question of a prompt built from the default user template: the rest of its last line
/// that starts with `Question:`, without the spaces and tabs after the colon; `""` without one.
pub fn question_of(user: &str) -> &str {
    user.split('\n')
        .filter_map(|line| line.strip_prefix("Question:"))
        .last()
        .map_or("", |q| q.trim_start_matches([' ', '\t']))
}

/// A sentence (or code block) that shares at least one term with the question.
struct Candidate {
    sentence: String,
    n: usize,
    /// Position of its passage in retrieval order.
    rank: usize,
    /// Position of the sentence in its passage.
    pos: usize,
    /// Score in quarter points: 4 per term in the sentence, 1 per other term in the label.
    quarters: usize,
    /// Its stemmed words without stop words.
    content: BTreeSet<String>,
    /// A code block rather than a sentence.
    is_code: bool,
}

impl Candidate {
    /// Whether `other` says again what this one says: the same text ignoring case, or content
    /// words that are, for four fifths of the shorter one's (of three or more), the other's too.
    fn repeats(&self, other: &Candidate) -> bool {
        if self.sentence.to_lowercase() == other.sentence.to_lowercase() {
            return true;
        }
        let shorter = self.content.len().min(other.content.len());
        let shared = self.content.intersection(&other.content).count();
        shorter >= 3 && 5 * shared >= NEAR_DUPLICATE_FIFTHS * shorter
    }
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
