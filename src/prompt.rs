//! Grounded prompt assembly.
//!
//! Owns: turning a question and its retrieved hits into the messages sent to an LLM: numbered
//! sources with `url#anchor` citations inside `<source>` delimiters, instructions to answer only
//! from them and cite them as `[n]`, the explicit "the documents do not cover this" path when the
//! relevance gate rejected the query, and fitting all of it into a token budget.
//! Must not: search, call an LLM, or render anything for a browser.
//!
//! Design: `docs/design.md`, "From a page to a prompt", step 8.

use serde::{Deserialize, Serialize};

use crate::conversation::{answer_without_citations, check_history, Turn};
use crate::tokens::TokenCounter;
use crate::{Error, Result};

/// One chat message in the OpenAI shape (`role` is `system`, `user` or `assistant`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    /// `system`, `user` or `assistant`.
    pub role: String,
    /// The message text.
    pub content: String,
}

/// The prompt texts are defined once, in `pkg/prompt/template.js`: a JavaScript module the npm
/// package's proxy imports to recognise a prompt docent assembled. Each text is taken from
/// between the backticks after `export const NAME = ` when the crate is compiled.
const TEMPLATE_JS: &str = include_str!("../pkg/prompt/template.js");

/// The text between the backticks after `marker` in `pkg/prompt/template.js`; a compile error
/// when the marker is missing, or the text holds a backslash or a dollar sign (which JavaScript
/// would read differently from this).
const fn template_text(marker: &str) -> &'static str {
    let file = TEMPLATE_JS.as_bytes();
    let m = marker.as_bytes();
    let mut i = 0;
    let start = 'search: loop {
        if i + m.len() > file.len() {
            panic!("pkg/prompt/template.js: a text is missing");
        }
        let mut j = 0;
        while j < m.len() {
            if file[i + j] != m[j] {
                i += 1;
                continue 'search;
            }
            j += 1;
        }
        break i + m.len();
    };
    let mut end = start;
    while end < file.len() && file[end] != b'`' {
        if file[end] == b'\\' || file[end] == b'$' {
            panic!("pkg/prompt/template.js: a text holds a backslash or a dollar sign");
        }
        end += 1;
    }
    if end == file.len() {
        panic!("pkg/prompt/template.js: a text has no closing backtick");
    }
    let (_, rest) = file.split_at(start);
    let (text, _) = rest.split_at(end - start);
    match core::str::from_utf8(text) {
        Ok(text) => text,
        Err(_) => panic!("pkg/prompt/template.js: not UTF-8"),
    }
}

/// The default system text. Placeholders: none.
pub const DEFAULT_SYSTEM: &str = template_text("export const SYSTEM = `");

/// The default user text when sources were found. Placeholders: `{sources}`, `{question}`.
pub const DEFAULT_USER: &str = template_text("export const USER = `");

/// The default user text when the relevance gate found nothing relevant. Placeholder:
/// `{question}`.
pub const DEFAULT_ABSTAIN: &str = template_text("export const ABSTAIN = `");

/// What docent says when the documents do not cover a question: the offline answer when no
/// sentence of the sources matches it (`answer::offline_answer`), the CLI's reply when nothing
/// relevant was found, and `NOT_IN_DOCUMENTS` of the JavaScript client (a test keeps that copy
/// equal to this one; the wasm edge exports it as `notCovered()`).
pub const NOT_COVERED: &str = "The documents do not cover this question.";

/// What docent says when the gate flagged a question because terms of it occur nowhere in the
/// documents: "These documents do not mention GraphQL." (two terms: "GraphQL or gRPC"; more: "A,
/// B or C"), each term as the reader wrote it; [`NOT_COVERED`] without terms. The one place this
/// sentence is made: the offline answer, the CLI and the wasm edge's `notMentioned(terms)` call it.
pub fn not_mentioned(terms: &[String]) -> String {
    match terms {
        [] => NOT_COVERED.to_string(),
        [one] => format!("These documents do not mention {one}."),
        [init @ .., last] => format!("These documents do not mention {} or {last}.", init.join(", ")),
    }
}

/// How a prompt is assembled.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PromptOptions {
    /// Sources to retrieve before fitting the budget. Default 5; range 1..=50.
    pub k: usize,
    /// Maximum tokens of the whole prompt (system + user), counted with the token counter the
    /// engine was given (the embedder's tokenizer by default). Default 2000; range 64..=1,000,000.
    /// Sources that do not fit are dropped, the last one that partly fits is cut at a word.
    pub budget: usize,
    /// System text; default [`DEFAULT_SYSTEM`].
    pub system: String,
    /// User text with `{sources}` and `{question}`; default [`DEFAULT_USER`].
    pub user: String,
    /// User text when nothing relevant was found, with `{question}`; default [`DEFAULT_ABSTAIN`].
    pub abstain: String,
    /// The conversation's earlier turns, oldest first (at most
    /// [`MAX_TURNS`](crate::conversation::MAX_TURNS)); default none. They go into the prompt
    /// as chat messages before the question's (a `user` message per question, an `assistant`
    /// message per answer, without its `[n]` markers), the latest first to be kept and the
    /// oldest first to be dropped when they do not fit [`PromptOptions::history_tokens`]; the
    /// engine and the fragmented index also search with the query the conversation forms
    /// ([`retrieval_query`](crate::conversation::retrieval_query)).
    pub history: Vec<Turn>,
    /// Most tokens the earlier turns may take, counted like the rest of the prompt. Default 600;
    /// range 0..=1,000,000 (0 leaves the history out of the prompt, though it still forms the
    /// retrieval query). Never more than half of what the budget leaves after the instructions
    /// and the question, so the sources keep at least the other half. The latest turn that
    /// does not fit whole keeps its question and the start of its answer, cut at a word, when
    /// 24 tokens or more of it fit; older turns are dropped.
    pub history_tokens: usize,
}

impl Default for PromptOptions {
    fn default() -> Self {
        PromptOptions {
            k: 5,
            budget: 2000,
            system: DEFAULT_SYSTEM.to_string(),
            user: DEFAULT_USER.to_string(),
            abstain: DEFAULT_ABSTAIN.to_string(),
            history: Vec::new(),
            history_tokens: 600,
        }
    }
}

impl PromptOptions {
    /// Checks ranges and placeholders.
    pub fn validate(&self) -> Result<()> {
        if !(1..=50).contains(&self.k) {
            return Err(Error::invalid("k", format!("expected 1..=50 sources, found {}", self.k)));
        }
        if !(64..=1_000_000).contains(&self.budget) {
            return Err(Error::invalid(
                "budget",
                format!("expected 64..=1000000 tokens, found {}", self.budget),
            ));
        }
        if self.history_tokens > 1_000_000 {
            return Err(Error::invalid(
                "history_tokens",
                format!("expected 0..=1000000 tokens, found {}", self.history_tokens),
            ));
        }
        check_history(&self.history, "history")?;
        for (name, t, needs) in [
            ("user template", &self.user, &["{sources}", "{question}"][..]),
            ("abstain template", &self.abstain, &["{question}"][..]),
        ] {
            for p in needs {
                if !t.contains(p) {
                    return Err(Error::invalid(name, format!("must contain the placeholder {p}")));
                }
            }
        }
        Ok(())
    }
}

/// A retrieved passage offered to the prompt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Source {
    /// The citation number, from 1.
    pub n: usize,
    /// `url#anchor` of the passage.
    pub url: String,
    /// The document title.
    pub title: String,
    /// The heading path, e.g. `Ownership > The Stack and the Heap`.
    pub heading: String,
    /// The passage text as it appears in the prompt (possibly cut to fit the budget).
    pub text: String,
    /// The retrieval score.
    pub score: f32,
}

/// An assembled prompt, in both common API shapes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Prompt {
    /// System text (Anthropic's `system`).
    pub system: String,
    /// User text: the last user message, with the sources and the question.
    pub user: String,
    /// The chat messages to send: `system`, then the earlier turns that fit (`user`, `assistant`,
    /// …; see [`PromptOptions::history`]), then `user`. Without a history, `[system, user]`.
    pub messages: Vec<Message>,
    /// The sources in the prompt, numbered as cited.
    pub sources: Vec<Source>,
    /// True when the relevance gate found nothing relevant: the prompt asks the model to say
    /// the documents do not cover the question (callers may skip the LLM call instead).
    pub abstained: bool,
    /// Tokens of all `messages`' texts (system, earlier turns, user), each counted by the
    /// engine's token counter and added up.
    pub tokens: usize,
    /// Earlier turns the prompt carries (the latest ones of [`PromptOptions::history`]).
    #[serde(default)]
    pub turns: usize,
    /// The query the sources were retrieved with, when a follow-up's differs from its question
    /// ([`retrieval_query`](crate::conversation::retrieval_query)); empty otherwise. The offline
    /// answer picks its sentences by it.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub query: String,
    /// When the prompt abstained because terms of the question occur nowhere in the documents:
    /// those terms, as the reader wrote them ([`not_mentioned`] makes the sentence to show).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub missing: Vec<String>,
}

/// Neutralises text in a source that could be read as a delimiter or a chat-template marker, by
/// replacing its first character with an HTML character reference (`<` → `&lt;`, `[` → `&#91;`),
/// so the model still reads what the document says but no longer sees the marker:
///
/// - our own delimiters, `<source` and `</source` in any case, also with spaces or invisible
///   characters around the `/` or inside the word (`< /SOURCE >`, `</so\u{200B}urce>`), and their
///   square-bracket look-alikes `[source…` and `[/source…`;
/// - chat-template special tokens of the `<|…|>` form (`<|im_start|>`, `<|endoftext|>`), and the
///   Llama-2 markers `[INST]`, `[/INST]`, `<<SYS>>`, `<</SYS>>`.
///
/// Role names written as plain words (`System:`, `Assistant:`, `Human:`) are left as they are:
/// they stay inside the source block, which the system text declares to be untrusted data.
/// Everything else is kept byte for byte.
pub fn escape_delimiters(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for (i, c) in text.char_indices() {
        let rest = &text[i + c.len_utf8()..];
        let escape = match c {
            '<' => {
                rest.starts_with('|')
                    || starts_with_ci(rest, "<sys>")
                    || starts_with_ci(rest, "</sys>")
                    || names_source(rest)
            }
            '[' => starts_with_ci(rest, "inst]") || starts_with_ci(rest, "/inst]") || names_source(rest),
            _ => false,
        };
        match (escape, c) {
            (true, '<') => out.push_str("&lt;"),
            (true, _) => out.push_str("&#91;"),
            (false, c) => out.push(c),
        }
    }
    out
}

/// Whether `s` starts with `prefix`, ASCII case-insensitively.
fn starts_with_ci(s: &str, prefix: &str) -> bool {
    s.len() >= prefix.len() && s.as_bytes()[..prefix.len()].eq_ignore_ascii_case(prefix.as_bytes())
}

/// Whether the text after an opening `<` or `[` reads as `source` or `/source` (any case), with
/// whitespace or invisible characters allowed before the word and invisible ones inside it.
fn names_source(rest: &str) -> bool {
    let mut chars = rest.chars().filter(|&c| !crate::index::bm25::is_invisible(c)).peekable();
    let skip_space = |chars: &mut std::iter::Peekable<_>| {
        for _ in 0..8 {
            if chars.next_if(|c: &char| c.is_whitespace()).is_none() {
                break;
            }
        }
    };
    skip_space(&mut chars);
    if chars.next_if_eq(&'/').is_some() {
        skip_space(&mut chars);
    }
    "source".chars().all(|want| chars.next().is_some_and(|c| c.eq_ignore_ascii_case(&want)))
}

fn attr(s: &str) -> String {
    escape_delimiters(s).replace('"', "&quot;").replace(['\n', '\r'], " ")
}

fn render_source(s: &Source) -> String {
    format!(
        "<source id=\"{}\" title=\"{}\" section=\"{}\" url=\"{}\">\n{}\n</source>",
        s.n,
        attr(&s.title),
        attr(&s.heading),
        attr(&s.url),
        escape_delimiters(&s.text)
    )
}

/// Assembles a prompt from `question` and candidate `sources` (best first; their `n` is
/// reassigned). With `answerable == false` (or no sources) the abstain template is used.
pub fn assemble(
    question: &str,
    candidates: &[Source],
    answerable: bool,
    counter: &TokenCounter,
    opts: &PromptOptions,
) -> Result<Prompt> {
    opts.validate()?;
    let question = question.trim();
    if question.is_empty() {
        return Err(Error::invalid("question", "expected a non-empty question"));
    }
    let system = opts.system.clone();
    let system_tokens = counter.count(&system)?;
    let finish = |user: String, sources: Vec<Source>, abstained: bool, history: History| -> Result<Prompt> {
        let tokens = system_tokens + history.tokens + counter.count(&user)?;
        let mut messages = Vec::with_capacity(history.messages.len() + 2);
        messages.push(Message { role: "system".into(), content: system.clone() });
        messages.extend(history.messages);
        messages.push(Message { role: "user".into(), content: user.clone() });
        Ok(Prompt {
            messages,
            system: system.clone(),
            user,
            sources,
            abstained,
            tokens,
            turns: history.turns,
            query: String::new(),
            missing: Vec::new(),
        })
    };
    if !answerable || candidates.is_empty() {
        let user = opts.abstain.replace("{question}", question);
        let fixed = system_tokens + counter.count(&user)?;
        if fixed > opts.budget {
            return Err(too_small(opts.budget, fixed));
        }
        let history = fit_history(&opts.history, counter, history_room(opts, fixed))?;
        let p = finish(user, Vec::new(), true, history)?;
        return check_budget(p, opts.budget);
    }
    // Fixed part: the template with an empty source list.
    let empty_user = opts.user.replace("{question}", question).replace("{sources}", "");
    let fixed = system_tokens + counter.count(&empty_user)?;
    if fixed > opts.budget {
        return Err(too_small(opts.budget, fixed));
    }
    let history = fit_history(&opts.history, counter, history_room(opts, fixed))?;
    let mut remaining = opts.budget - fixed - history.tokens;
    let mut sources: Vec<Source> = Vec::new();
    let mut rendered: Vec<String> = Vec::new();
    for c in candidates.iter().take(opts.k) {
        let mut s = c.clone();
        s.n = sources.len() + 1;
        let sep = if rendered.is_empty() { 0 } else { 1 };
        let block = render_source(&s);
        let cost = counter.count(&block)? + sep;
        if cost <= remaining {
            remaining -= cost;
            rendered.push(block);
            sources.push(s);
            continue;
        }
        // Partly fits: cut the text at a word so the block fits, if a useful part remains.
        let overhead = counter.count(&render_source(&Source { text: String::new(), ..s.clone() }))? + sep;
        if remaining > overhead + 24 {
            if let Some(cut) = cut_at_word(&s.text, remaining - overhead, counter)? {
                s.text = cut;
                let block = render_source(&s);
                if counter.count(&block)? + sep <= remaining {
                    rendered.push(block);
                    sources.push(s);
                }
            }
        }
        break;
    }
    if sources.is_empty() {
        // Not even the start of one source fits: sending the question without its evidence
        // would invite an ungrounded answer, so this is the caller's budget to fix.
        return Err(Error::invalid(
            "budget",
            format!(
                "{} tokens leaves room for no source (the instructions and question take {fixed} tokens); raise the budget",
                opts.budget
            ),
        ));
    }
    let user = opts.user.replace("{question}", question).replace("{sources}", &rendered.join("\n"));
    let p = finish(user, sources, false, history)?;
    check_budget(p, opts.budget)
}

/// What an earlier answer that was stopped before any text reads as in the prompt.
pub const NO_ANSWER: &str = "(no answer was given)";

/// The earlier turns that fit a prompt: their messages (oldest first), tokens and count.
#[derive(Default)]
struct History {
    messages: Vec<Message>,
    tokens: usize,
    turns: usize,
}

/// Tokens the history may take: [`PromptOptions::history_tokens`], at most half of what the
/// budget leaves after the `fixed` part (instructions and question).
fn history_room(opts: &PromptOptions, fixed: usize) -> usize {
    opts.history_tokens.min(opts.budget.saturating_sub(fixed) / 2)
}

/// The latest turns of `history` that fit `room` tokens, whole, and then the latest one that
/// does not with its answer cut at a word when 24 tokens or more of it fit.
fn fit_history(history: &[Turn], counter: &TokenCounter, room: usize) -> Result<History> {
    let mut kept: Vec<(String, String)> = Vec::new();
    let mut used = 0;
    for t in history.iter().rev() {
        let question = t.question.trim().to_string();
        let answer = answer_without_citations(&t.answer);
        let answer = if answer.is_empty() { NO_ANSWER.to_string() } else { answer };
        let q = counter.count(&question)?;
        let a = counter.count(&answer)?;
        if used + q + a <= room {
            used += q + a;
            kept.push((question, answer));
            continue;
        }
        let left = room.saturating_sub(used + q);
        if left >= 24 {
            if let Some(cut) = cut_at_word(&answer, left, counter)? {
                let a = counter.count(&cut)?;
                if used + q + a <= room {
                    used += q + a;
                    kept.push((question, cut));
                }
            }
        }
        break;
    }
    let turns = kept.len();
    let messages = kept
        .into_iter()
        .rev()
        .flat_map(|(q, a)| {
            [Message { role: "user".into(), content: q }, Message { role: "assistant".into(), content: a }]
        })
        .collect();
    Ok(History { messages, tokens: used, turns })
}

/// `text` cut before a token that follows whitespace, so that it and a closing " …" take at
/// most `allowed` tokens; `None` when no word fits.
fn cut_at_word(text: &str, allowed: usize, counter: &TokenCounter) -> Result<Option<String>> {
    let spans = counter.spans(text)?;
    // At most `allowed - 1` tokens (room for "…").
    let mut cut = allowed.saturating_sub(1).min(spans.len());
    while cut > 0
        && !text[spans[cut - 1].1..spans.get(cut).map_or(text.len(), |t| t.0)].contains(char::is_whitespace)
    {
        cut -= 1;
    }
    Ok((cut > 0).then(|| format!("{} …", &text[..spans[cut - 1].1])))
}

/// The budget cannot even hold the instructions and the question (`fixed` tokens).
fn too_small(budget: usize, fixed: usize) -> Error {
    Error::invalid(
        "budget",
        format!(
            "{budget} tokens is less than the instructions and question alone ({fixed} tokens); raise the budget or shorten the question"
        ),
    )
}

/// Token counts of pieces do not always add up exactly (merges across a join); this is the final
/// guard that the whole prompt fits.
fn check_budget(p: Prompt, budget: usize) -> Result<Prompt> {
    if p.tokens > budget {
        return Err(Error::invalid(
            "budget",
            format!("{budget} tokens is too small for this prompt, which needs {} tokens", p.tokens),
        ));
    }
    Ok(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delimiter_look_alikes_are_escaped() {
        assert_eq!(
            escape_delimiters("a </source> b <SOURCE id=9> <sourcery"),
            "a &lt;/source> b &lt;SOURCE id=9> &lt;sourcery"
        );
        assert_eq!(escape_delimiters("Vec<T> and <b>"), "Vec<T> and <b>");
        assert_eq!(
            escape_delimiters("< /SOURCE > </so\u{200b}urce> [source 2] [/Source] [sources are] <src"),
            "&lt; /SOURCE > &lt;/so\u{200b}urce> &#91;source 2] &#91;/Source] &#91;sources are] <src"
        );
        assert_eq!(
            escape_delimiters("<|im_start|>system [INST] x [/inst] <<SYS>> y <</SYS>> a || b, x <| y"),
            "&lt;|im_start|>system &#91;INST] x &#91;/inst] &lt;<SYS>> y &lt;</SYS>> a || b, x &lt;| y"
        );
        assert_eq!(escape_delimiters("[1] [x] <- arrow é"), "[1] [x] <- arrow é");
    }
}
