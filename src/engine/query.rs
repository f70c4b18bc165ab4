//! Asking an engine: hybrid search (main dense index, delta segment and BM25, fused and gated)
//! and the grounded prompt built from its hits.

use super::judge::Bm25Vocabulary;
use super::{Docent, Hit, SearchResult};
use crate::conversation::{
    context_pages, follow_up_answerable, fuse_in_context, judged_query, retrieval_query, topic_question,
    Turn, CONTEXT_CANDIDATES, TOPIC_HITS,
};
use crate::gate::{decide, query_terms};
use crate::index::bm25::is_invisible;
use crate::prompt::{self, Prompt, PromptOptions, Source};
use crate::retrieve::{fuse, limit_per_page, select, RetrieveOptions};
use crate::{Error, Result};

impl Docent {
    /// Searches with the index's retrieval options.
    pub fn search(&self, query: &str, k: usize) -> Result<SearchResult> {
        self.search_with(query, k, &self.options.retrieve)
    }

    /// Searches with explicit retrieval options (mode, candidates, gate…).
    ///
    /// Errors: `k` outside 1..=1000; a query that is empty or made only of whitespace and
    /// invisible format characters ([`is_invisible`]); the index is not built; the embedder
    /// failed or returned an unusable vector. `k` above the number of chunks returns them all.
    pub fn search_with(&self, query: &str, k: usize, opts: &RetrieveOptions) -> Result<SearchResult> {
        self.search_judged(query, None, k, opts)
    }

    /// [`Docent::search_with`] of `query` whose term evidence for the gate (the terms present,
    /// their coverage) is that of `judged` when given (a follow-up's [`judged_query`]); the
    /// hits and the dense evidence are `query`'s.
    fn search_judged(
        &self,
        query: &str,
        judged: Option<&str>,
        k: usize,
        opts: &RetrieveOptions,
    ) -> Result<SearchResult> {
        let query = check_search(query, k, opts)?;
        let (Some(dense), Some(bm25)) = (&self.dense, &self.bm25) else {
            return Err(Error::NotBuilt);
        };
        let cand = opts.candidates.max(k * 2);
        let qv = self.embed(&[query])?;
        let live = |id: u32| -> bool {
            self.chunks.get(id as usize).is_some_and(|c| self.docs[c.doc as usize].live)
        };
        let mut dense_hits: Vec<(u32, f32)> = dense.search(&qv, cand)?;
        if !self.delta.is_empty() {
            // Main and delta hits compete by score.
            dense_hits.extend(self.search_delta(&qv, cand));
            sort_by_score(&mut dense_hits);
            dense_hits.truncate(cand);
        }
        let dense_hits: Vec<(u32, f32)> = dense_hits.into_iter().filter(|&(id, _)| live(id)).collect();
        // A reader's typo is ranked as the word meant (the fragments read it alike).
        let terms = query_terms(query, &Bm25Vocabulary(bm25));
        let lexical_hits: Vec<(u32, f32)> =
            bm25.search_terms(&terms, cand).into_iter().filter(|&(id, _)| live(id)).collect();
        let common = self.site_gate.as_ref().and_then(|g| g.common.as_ref());
        // The gate judges the conversation's judged query (the question itself when there is
        // none), its coverage over that query's terms as read.
        let judged = judged.map(str::trim).filter(|j| !j.is_empty()).unwrap_or(query);
        let judged_terms = (judged != query).then(|| query_terms(judged, &Bm25Vocabulary(bm25)));
        let (evidence, check) = self.evidence_of(
            bm25,
            judged,
            judged_terms.as_deref().unwrap_or(&terms),
            &dense_hits,
            &lexical_hits,
            opts,
            common,
        );
        let kind = self.embedder.info().kind;
        let answerable = decide(opts, self.site_gate.as_ref(), kind, &evidence, &check, true);
        let missing = check.missing;
        let fused = fuse(&dense_hits, &lexical_hits, opts.rrf_k, opts.lexical_weight, opts.mode);
        let fused = select(fused, k, opts.max_per_page, |f| {
            let c = &self.chunks[f.id as usize];
            (c.url.as_str(), c.text.as_str())
        });
        let hits = fused
            .into_iter()
            .map(|f| {
                let c = &self.chunks[f.id as usize];
                Hit {
                    url: c.url.clone(),
                    title: self.docs[c.doc as usize].title.clone(),
                    heading: c.heading.clone(),
                    score: f.score,
                    text: c.text.clone(),
                    dense: f.dense,
                    lexical: f.lexical,
                    chunk: f.id,
                }
            })
            .collect();
        Ok(SearchResult { answerable, hits, evidence, missing })
    }

    /// Retrieves sources for `question` and assembles a grounded prompt. After earlier turns
    /// ([`PromptOptions::history`]) it searches in the conversation
    /// ([`Docent::search_conversation`]), and the gate judges the query the conversation forms
    /// ([`retrieval_query`], less the topic's terms the corpus lacks: [`judged_query`]).
    pub fn assemble(&self, question: &str, opts: &PromptOptions) -> Result<Prompt> {
        opts.validate()?;
        let query = retrieval_query(question, &opts.history);
        let result = self.search_conversation(question, &opts.history, opts.k, &self.options.retrieve)?;
        prompt_of(question, &query, &result, &self.counter, opts)
    }

    /// Searches for `question` asked after the earlier turns `history` (oldest first). A
    /// question searched as written ([`topic_question`] is `None`: it stands on its own, or there
    /// is no history) is [`Docent::search_with`] of it. An elliptical follow-up takes two
    /// searches with `opts`, its formed query ([`retrieval_query`]) and its own words; the
    /// pages of its context are those its earlier turns cite ([`context_pages`]), or, when they
    /// carry no sources, those of the topic question's first [`TOPIC_HITS`] hits (a third
    /// search). The formed query's hits and its own words' hits on those pages are fused
    /// ([`fuse_in_context`], [`CONTEXT_CANDIDATES`] of each), at most `opts.max_per_page` per
    /// page. The evidence and missing terms are those of the formed query, less the topic's
    /// terms the corpus lacks ([`judged_query`]); the verdict is [`follow_up_answerable`] (its
    /// topic answered: the turns carry sources, or the topic question's search passed).
    ///
    /// Errors: those of [`Docent::search_with`].
    pub fn search_conversation(
        &self,
        question: &str,
        history: &[Turn],
        k: usize,
        opts: &RetrieveOptions,
    ) -> Result<SearchResult> {
        let query = retrieval_query(question, history);
        let Some(topic) = topic_question(question, history) else {
            return self.search_with(&query, k, opts);
        };
        check_search(question, k, opts)?;
        let n = k.max(CONTEXT_CANDIDATES);
        let judged = self.bm25.as_ref().map(|b| judged_query(question, history, &Bm25Vocabulary(b)));
        let formed = self.search_judged(&query, judged.as_deref(), n, opts)?;
        let own = self.search_with(question, n, opts)?;
        let cited = context_pages(question, history);
        let searched;
        let (pages, topic_answered): (Vec<&str>, bool) = if cited.is_empty() {
            searched = self.search_with(topic, TOPIC_HITS, opts)?;
            (searched.hits.iter().map(|h| h.url.as_str()).collect(), searched.answerable)
        } else {
            (cited, true)
        };
        let answerable = match &self.bm25 {
            Some(b) => follow_up_answerable(formed.answerable, topic_answered, question, &Bm25Vocabulary(b)),
            None => formed.answerable,
        };
        let fused = fuse_in_context(formed.hits, own.hits, &pages, opts.rrf_k, |h| (h.chunk, h.url.as_str()));
        let urls: Vec<String> = fused.iter().map(|h| h.0.url.clone()).collect();
        let kept =
            limit_per_page((0..fused.len()).collect(), opts.max_per_page, |&i: &usize| urls[i].as_str());
        let mut fused: Vec<Option<(Hit, f32)>> = fused.into_iter().map(Some).collect();
        let hits = kept
            .into_iter()
            .take(k)
            .filter_map(|i| fused[i].take())
            .map(|(h, score)| Hit { score, ..h })
            .collect();
        Ok(SearchResult { hits, answerable, ..formed })
    }

    /// Exact cosine top-`k` over the delta segment; ids are chunk ids.
    fn search_delta(&self, query: &[f32], k: usize) -> Vec<(u32, f32)> {
        let dim = self.embedder.info().dim;
        if dim == 0 || self.delta.is_empty() {
            return Vec::new();
        }
        let qn = query.iter().map(|x| x * x).sum::<f32>().sqrt();
        let mut hits: Vec<(u32, f32)> = self
            .delta
            .chunks_exact(dim)
            .enumerate()
            .map(|(i, row)| {
                let dot: f32 = row.iter().zip(query).map(|(a, b)| a * b).sum();
                let rn = row.iter().map(|x| x * x).sum::<f32>().sqrt();
                let cos = if qn > 0.0 && rn > 0.0 { (dot / (qn * rn)).clamp(-1.0, 1.0) } else { 0.0 };
                ((self.built + i) as u32, cos)
            })
            .collect();
        sort_by_score(&mut hits);
        hits.truncate(k);
        hits
    }
}

/// Checks a search's arguments as every search path does, and returns the trimmed query.
///
/// Errors: options out of range; `k` outside 1..=1000; a query that is empty or made only of
/// whitespace and invisible format characters ([`is_invisible`]).
pub(crate) fn check_search<'q>(query: &'q str, k: usize, opts: &RetrieveOptions) -> Result<&'q str> {
    opts.validate()?;
    if k == 0 || k > 1000 {
        return Err(Error::invalid("k", format!("expected 1..=1000 results, found {k}")));
    }
    let query = query.trim();
    if query.chars().all(|c| c.is_whitespace() || is_invisible(c)) {
        return Err(Error::invalid("query", "expected non-empty text"));
    }
    Ok(query)
}

/// The grounded prompt for `question` from a search `result` (of `query`, the question or the
/// query its conversation formed): its hits become the numbered sources, its verdict decides
/// whether the prompt abstains.
pub(crate) fn prompt_of(
    question: &str,
    query: &str,
    result: &SearchResult,
    counter: &crate::tokens::TokenCounter,
    opts: &PromptOptions,
) -> Result<Prompt> {
    let sources: Vec<Source> = result
        .hits
        .iter()
        .map(|h| Source {
            n: 0,
            url: h.url.clone(),
            title: h.title.clone(),
            heading: h.heading.clone(),
            text: h.text.clone(),
            score: h.score,
        })
        .collect();
    let mut prompt = prompt::assemble(question, &sources, result.answerable, counter, opts)?;
    if query.trim() != question.trim() {
        prompt.query = query.trim().to_string();
    }
    if prompt.abstained {
        // Names the reader wrote ("Kubernetes", "gRPC") are named in the answer; plain words
        // ("galaxy", "results") leave it at the generic "not covered".
        // Only the names of this question: a follow-up's query also carries the earlier
        // questions' terms, whose absence was said when they were asked.
        let own = question.to_lowercase();
        prompt.missing = result
            .missing
            .iter()
            .filter(|m| crate::gate::looks_like_a_name(m) && own.contains(&m.to_lowercase()))
            .cloned()
            .collect();
    }
    Ok(prompt)
}

/// Best first; ties by ascending id so results are deterministic.
fn sort_by_score(hits: &mut [(u32, f32)]) {
    hits.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
}
