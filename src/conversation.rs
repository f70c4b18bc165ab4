//! Follow-up questions: a conversation's earlier turns and the retrieval query of a follow-up.
//!
//! Owns: [`Turn`] (one earlier question, the answer it got and the urls of its sources),
//! checking a history, [`retrieval_query`], the query a follow-up is searched with, formed from
//! the conversation without an LLM call, [`judged_query`] and [`follow_up_answerable`], how the
//! gate judges it, and how a follow-up's searches are combined
//! ([`topic_question`], [`context_pages`], [`fuse_in_context`], [`fuse_on_topic`]). The prompt's share of the history (which turns fit the token budget) is
//! `prompt::assemble`'s.
//! Must not: search (the engine runs the searches this module names), count tokens or call an
//! LLM.
//!
//! Why this way: "and on Windows?" after "how do I install cargo?" names nothing a search can
//! find by itself; its topic is the earlier question's. Rewriting it with a model would cost a
//! call (and a key) before retrieval; instead the follow-up keeps its own words and gains the
//! salient terms ([`salient_terms`]) of the conversation's topic, the latest earlier question that
//! stood on its own. A follow-up that names its own topic ("How do I publish a crate?") is
//! searched as written, so a change of subject is not pulled back to the old one.
//!
//! The topic's words alone pull a follow-up towards the topic's own answer, while a follow-up
//! usually asks for a sibling of it ("and force a full rebuild?" after "build faster using
//! several CPU cores": another option of the same command). So the engine also searches the
//! follow-up's own words and keeps those hits that lie on the pages the earlier answers cited
//! ([`context_pages`]; the topic question's hits when the turns carry no sources), and fuses
//! them with the formed query's hits ([`fuse_in_context`]): the topic says where, the
//! follow-up's words say what. Measured on
//! follow-ups written for the evaluation sets (`bench/eval/followups.jsonl`,
//! `bench/results/followups.md`).
//!
//! Design: `docs/design.md`, "Follow-up questions".

use serde::{Deserialize, Serialize};

use crate::gate::{has_term, salient_terms, QueryTerm, Vocabulary};
use crate::{Error, Result};

/// One earlier turn of a conversation: the reader's question, the answer shown for it and the
/// sources it was given.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Turn {
    /// The question as the reader asked it.
    pub question: String,
    /// The answer text shown (an LLM's, the offline one, or the "not covered" sentence); may be
    /// empty when the answer was stopped before any text.
    #[serde(default)]
    pub answer: String,
    /// The `page#anchor` urls (or pages) of the sources shown with the answer, best first (the
    /// prompt's `sources`); at most [`MAX_TURN_SOURCES`]. Empty (the default) when the turn
    /// abstained or its sources were not kept: a follow-up then finds its topic's pages by
    /// searching the topic question ([`context_pages`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sources: Vec<String>,
}

/// The most earlier turns a history may hold: 50. The widget keeps 4 by default
/// (`<docent-ask turns>`); the prompt keeps as many of the latest as fit its budget.
pub const MAX_TURNS: usize = 50;

/// The most sources one turn may carry: 50, the most a prompt holds (`PromptOptions::k`).
pub const MAX_TURN_SOURCES: usize = 50;

/// A follow-up with at most this many salient terms of its own, in at most [`SHORT_WORDS`]
/// words, is elliptical whatever its words ("why?", "examples?", "Windows?"): 1. Two terms
/// often name a topic already ("When is the seed swap?").
pub const SHORT_TERMS: usize = 1;

/// The most words a question may have to be elliptical by [`SHORT_TERMS`] alone: 3. A longer
/// question with one salient term asks about it ("When should I use Box<T>?", "how do I run
/// only one test?" are new questions, not follow-ups: measured in a session of unrelated
/// questions, `bench/site`, where reading them as follow-ups answered them with the previous
/// question's pages).
pub const SHORT_WORDS: usize = 3;

/// A follow-up that opens with [`OPENERS`] ("and on Windows?") or points back with
/// [`POINTERS`] ("how do I turn it off?") is elliptical with at most this many salient terms
/// of its own: 3. With more it names its own topic ("and can cargo test run the binaries
/// through qemu?"). Set by reading the follow-ups of `bench/eval/followups.jsonl`, not tuned
/// on their recall (`bench/results/followups.md` measures the result).
pub const LEANING_TERMS: usize = 3;

/// Most terms of the topic added to an elliptical follow-up: 8.
pub const MAX_CONTEXT_TERMS: usize = 8;

/// Hits of the topic's search whose pages are an elliptical follow-up's context when its
/// earlier turns carry no sources ([`context_pages`]): 5, the sources a prompt shows by default
/// (`PromptOptions::k`), so the pages the topic's answer was built on. Fewer narrows the context
/// to the topic's best page (1: only it); more lets pages the topic only grazes pull the
/// follow-up's words their way.
pub const TOPIC_HITS: usize = 5;

/// Hits of each of a follow-up's searches (the formed query, its own words) that
/// [`fuse_in_context`] fuses: 50 (or the `k` asked for, when larger). Fewer can leave a sibling
/// section that the follow-up's own words rank low out of the fusion; more costs search time
/// only.
pub const CONTEXT_CANDIDATES: usize = 50;

/// Words that open a follow-up leaning on what came before ("and on Windows?", "what about
/// the default?", "also for workspaces?"), whatever its own terms.
const OPENERS: &[&str] = &[
    "and",
    "also",
    "but",
    "or",
    "so",
    "then",
    "same",
    "what about",
    "how about",
    "what if",
    "and if",
    "instead",
];

/// Words that point back at the earlier topic ("how do I turn *it* off?", "can *they* be
/// nested?"): a question with one of them and few terms of its own is elliptical.
const POINTERS: &[&str] =
    &["it", "its", "this", "that", "these", "those", "they", "them", "their", "there", "one", "ones", "such"];

/// Checks a history: at most [`MAX_TURNS`] turns, each with a non-empty question and at most
/// [`MAX_TURN_SOURCES`] sources, none of them empty. `what` names the history in errors (a file
/// name, "history").
pub fn check_history(history: &[Turn], what: &str) -> Result<()> {
    if history.len() > MAX_TURNS {
        return Err(Error::invalid(
            what,
            format!("expected at most {MAX_TURNS} earlier turns, found {}", history.len()),
        ));
    }
    for (i, t) in history.iter().enumerate() {
        if t.question.trim().is_empty() {
            return Err(Error::invalid(
                what,
                format!("turn {}: field \"question\" must be a non-empty string", i + 1),
            ));
        }
        if t.sources.len() > MAX_TURN_SOURCES {
            return Err(Error::invalid(
                what,
                format!(
                    "turn {}: field \"sources\": expected at most {MAX_TURN_SOURCES} urls, found {}",
                    i + 1,
                    t.sources.len()
                ),
            ));
        }
        if let Some(j) = t.sources.iter().position(|u| u.trim().is_empty()) {
            return Err(Error::invalid(
                what,
                format!("turn {}: field \"sources\": url {} is empty (expected page#anchor)", i + 1, j + 1),
            ));
        }
    }
    Ok(())
}

/// Whether `question`, asked after others, leans on them: it has at most [`SHORT_TERMS`]
/// salient terms of its own in at most [`SHORT_WORDS`] words, or it opens with a word such as
/// "and" or "what about" ([`OPENERS`]) or points back with one such as "it" or "them"
/// ([`POINTERS`]; "one" only when no salient word follows it: "rename one?" points back, "only
/// one test" does not) and has at most [`LEANING_TERMS`]. A question with no salient term at
/// all ("why?", "how does that work?") is elliptical.
pub fn is_elliptical(question: &str) -> bool {
    let own = salient_terms(question).len();
    let lower = question.trim().to_lowercase();
    let words: Vec<&str> =
        lower.split(|c: char| !c.is_alphanumeric() && c != '\'').filter(|w| !w.is_empty()).collect();
    if own == 0 || (own <= SHORT_TERMS && words.len() <= SHORT_WORDS) {
        return true;
    }
    let opens = OPENERS.iter().any(|o| {
        let o: Vec<&str> = o.split(' ').collect();
        words.len() >= o.len() && words[..o.len()] == o[..]
    });
    let points = words.iter().enumerate().any(|(i, w)| {
        POINTERS.contains(w)
            && !(matches!(*w, "one" | "ones")
                && words.get(i + 1).is_some_and(|next| !salient_terms(next).is_empty()))
    });
    (opens || points) && own <= LEANING_TERMS
}

/// The query to search with for `question` after the earlier turns `history` (oldest first).
///
/// A question that stands on its own (not [`is_elliptical`]), or the first one, is searched as
/// written. An elliptical one keeps its own words and gains the salient terms of the
/// conversation's topic: the latest earlier question that stood on its own (or, when every
/// earlier one was elliptical, the first), then those of the follow-ups asked since it, at most
/// [`MAX_CONTEXT_TERMS`], each once and none the question has already. The reader's spelling is
/// kept, so BM25, the embedder and the gate see the words as written; the gate judges this
/// query less the topic's words the corpus lacks ([`judged_query`]), so "and on Windows?" is
/// answerable when the topic it continues is.
pub fn retrieval_query(question: &str, history: &[Turn]) -> String {
    form(question, history, &|_: &str| true)
}

/// The query the gate judges for `question` after the earlier turns `history`: the
/// [`retrieval_query`] less the topic's terms that `vocab` lacks (df 0: "unbearably" in "Debug
/// builds are unbearably slow", "linters" in a site that never names them). Those terms match
/// nothing in BM25 and would only count against the follow-up in the gate's term evidence
/// (coverage, the share of terms present), while the topic question they came from was judged
/// with them when it was asked. The search still embeds them (an embedder knows "linters" is
/// about hooks). The follow-up's own words are all kept, so a name it brings that the corpus
/// lacks ("and on Kubernetes?") is judged as in any question.
pub fn judged_query(question: &str, history: &[Turn], vocab: &dyn Vocabulary) -> String {
    form(question, history, &|term: &str| vocab.df(term) > 0)
}

/// The gate's verdict on a follow-up searched in its conversation: answerable when its
/// [`judged_query`] passed (`formed`), or when its topic was answered (`topic_answered`: a turn
/// from the topic on carries sources, or the topic question's own search passed) and every
/// salient word of the follow-up itself occurs in `vocab` (or is a typo of a word that does,
/// `gate::has_term`). A follow-up names little, and its formed query mixes the topic's words
/// with its own ("and force a full rebuild?": the best section matches half of them), so its
/// evidence is weaker than the same question asked in full; what it adds to an answered topic
/// is its own words, and a word the corpus lacks ("and on Kubernetes?", "through qemu?") still
/// refuses it. A follow-up without salient words ("why?") continues an answered topic.
pub fn follow_up_answerable(
    formed: bool,
    topic_answered: bool,
    question: &str,
    vocab: &dyn Vocabulary,
) -> bool {
    formed || (topic_answered && salient_terms(question).iter().all(|t| has_term(t, vocab)))
}

/// The formed query, carrying only the topic terms `present` accepts (an analyzed term).
fn form(question: &str, history: &[Turn], present: &dyn Fn(&str) -> bool) -> String {
    let question = question.trim();
    if history.is_empty() || !is_elliptical(question) {
        return question.to_string();
    }
    let mut have: Vec<String> = salient_terms(question).into_iter().map(|t| t.term).collect();
    let mut added: Vec<String> = Vec::new();
    for term in topic_terms(history, &mut have) {
        if present(&term.term) {
            added.push(term.surface);
        }
    }
    if added.is_empty() {
        return question.to_string();
    }
    format!("{question} {}", added.join(" "))
}

/// The first [`MAX_CONTEXT_TERMS`] salient terms of the conversation's topic turn and the turns
/// since, in order, each once and none of `have` (the follow-up's own terms; each term taken is
/// added to it).
fn topic_terms(history: &[Turn], have: &mut Vec<String>) -> Vec<QueryTerm> {
    let mut out: Vec<QueryTerm> = Vec::new();
    for t in &history[topic_turn(history)..] {
        for term in salient_terms(&t.question) {
            if out.len() >= MAX_CONTEXT_TERMS {
                return out;
            }
            if !have.contains(&term.term) {
                have.push(term.term.clone());
                out.push(term);
            }
        }
    }
    out
}

/// The conversation's topic question when `question` is searched with its conversation: the
/// question whose hits' pages are the follow-up's context (see [`fuse_in_context`]). `None`
/// when the question is searched as written (it stands on its own, has no history, or the topic
/// adds no term), so a search needs nothing more than [`retrieval_query`].
pub fn topic_question<'h>(question: &str, history: &'h [Turn]) -> Option<&'h str> {
    if retrieval_query(question, history) == question.trim() {
        return None;
    }
    Some(history[topic_turn(history)].question.trim())
}

/// The pages an elliptical follow-up's context lies on, as its earlier turns carry them: the
/// sources of the conversation's topic turn (the one [`topic_question`] names) and of the
/// follow-ups asked since, in that order, each page once (`page#anchor` urls, the part before
/// `#`). These are the pages the topic's answers were built on. Empty when `question` is searched
/// as written ([`topic_question`] is `None`) or when none of those turns carries sources (a turn
/// that abstained, or a caller that keeps none): the engine then takes the pages of the topic
/// question's first [`TOPIC_HITS`] hits instead.
pub fn context_pages<'h>(question: &str, history: &'h [Turn]) -> Vec<&'h str> {
    if topic_question(question, history).is_none() {
        return Vec::new();
    }
    let mut pages: Vec<&str> = Vec::new();
    for url in history[topic_turn(history)..].iter().flat_map(|t| &t.sources) {
        let page = page_of(url.trim());
        if !pages.contains(&page) {
            pages.push(page);
        }
    }
    pages
}

/// The index of the conversation's topic turn: the latest that stood on its own, or the first.
fn topic_turn(history: &[Turn]) -> usize {
    history.iter().rposition(|t| !is_elliptical(&t.question)).unwrap_or(0)
}

/// The page of a `page#anchor` url: the part before `#`.
fn page_of(url: &str) -> &str {
    url.split('#').next().unwrap_or_default()
}

/// Combines an elliptical follow-up's searches, each best first: `formed`, the hits of its
/// formed query ([`retrieval_query`]), and `own`, the hits of its own words alone, of which only
/// those on one of `topic_pages` count (the pages of [`context_pages`], or of the topic
/// question's first [`TOPIC_HITS`] hits; `page#anchor` urls or pages, compared by page). Reciprocal rank fusion with constant
/// `rrf_k` (the engine's, 60 by default: above 0; a larger one flattens the ranks): an item
/// scores `1/(rrf_k + rank)` in each list it is in, ranks from 1. `key` gives an item's id (the
/// same item in both lists has the same id) and its url. Returns the items with their fused
/// scores, best first; ties by ascending id. An item of `own` off the topic's pages is dropped,
/// so a follow-up's words cannot pull the answer to an unrelated page.
pub fn fuse_in_context<T>(
    formed: Vec<T>,
    own: Vec<T>,
    topic_pages: &[&str],
    rrf_k: f32,
    key: impl Fn(&T) -> (u32, &str),
) -> Vec<(T, f32)> {
    let pages: Vec<&str> = topic_pages.iter().map(|u| page_of(u)).collect();
    let on_topic: Vec<T> = own.into_iter().filter(|it| pages.contains(&page_of(key(it).1))).collect();
    fuse_on_topic(formed, on_topic, rrf_k, |it| key(it).0)
}

/// [`fuse_in_context`] once the follow-up's own hits off the topic's pages are dropped:
/// `formed` and `on_topic` (each best first) fused by reciprocal rank with constant `rrf_k`, an
/// item scoring `1/(rrf_k + rank)` in each list it is in (ranks from 1); `id` gives an item's
/// id. Best first; ties by ascending id. The fragments' search (`SiteIndex`) tells a chunk's page
/// its own way and fuses with this.
pub fn fuse_on_topic<T>(
    formed: Vec<T>,
    on_topic: Vec<T>,
    rrf_k: f32,
    id: impl Fn(&T) -> u32,
) -> Vec<(T, f32)> {
    let mut out: Vec<(T, f32)> = Vec::with_capacity(formed.len() + on_topic.len());
    let mut at: std::collections::HashMap<u32, usize> = Default::default();
    for (rank, item) in formed.into_iter().enumerate() {
        at.insert(id(&item), out.len());
        out.push((item, 1.0 / (rrf_k + rank as f32 + 1.0)));
    }
    for (rank, item) in on_topic.into_iter().enumerate() {
        let score = 1.0 / (rrf_k + rank as f32 + 1.0);
        match at.get(&id(&item)) {
            Some(&i) => out[i].1 += score,
            None => {
                at.insert(id(&item), out.len());
                out.push((item, score));
            }
        }
    }
    out.sort_by(|a, b| b.1.total_cmp(&a.1).then(id(&a.0).cmp(&id(&b.0))));
    out
}

/// An earlier answer as the prompt carries it: trimmed, without its citation markers (`[1]`,
/// `[2][3]`), which numbered the sources of its own turn, not this prompt's.
pub fn answer_without_citations(answer: &str) -> String {
    let mut out = String::with_capacity(answer.len());
    let mut rest = answer;
    while let Some(i) = rest.find('[') {
        let after = &rest[i + 1..];
        let digits = after.bytes().take_while(u8::is_ascii_digit).count();
        if digits > 0 && digits <= 3 && after[digits..].starts_with(']') {
            out.push_str(rest[..i].trim_end_matches(' '));
            rest = &after[digits + 1..];
        } else {
            out.push_str(&rest[..=i]);
            rest = after;
        }
    }
    out.push_str(rest);
    out.trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn citations_are_taken_out_of_earlier_answers() {
        assert_eq!(answer_without_citations("Run it [1]. Then this [2][3].\n"), "Run it. Then this.");
        assert_eq!(answer_without_citations("a [x] b [1234] c[]"), "a [x] b [1234] c[]");
    }
}
