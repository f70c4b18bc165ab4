//! A follow-up searched in its conversation through the fragments ([`SiteIndex::search_conversation`]):
//! the engine's context search (`Docent::search_conversation`) where the earlier turns carry
//! the pages their answers were built on.
//!
//! Why this way: the engine learns a hit's page from the hit; a fragment index knows a chunk's
//! page only from its text record, and fetching the records of the follow-up's own candidates
//! would cost text packs the answer does not otherwise read. But the records of the earlier
//! answers' sources are at hand (their search fetched them), and a page's chunks have
//! consecutive ids, so most candidates' pages follow from the records at hand: a candidate
//! between two records of one page lies on it, and one with a record of another page between it
//! and every record of the topic's pages lies on none of them. Only the candidates that this
//! leaves open (next to a topic page's edge, or all of them when no record of it is at hand)
//! have their text fetched, at most [`CONTEXT_LOOKUPS`].
//!
//! Design: `docs/design.md`, "Follow-up questions".

use std::collections::BTreeSet;

use super::lexical::shard_of;
use super::read::{ShardVocabulary, SiteIndex};
use super::{FragmentSource, Lookup};
use crate::conversation::{
    context_pages, follow_up_answerable, fuse_on_topic, retrieval_query, Turn, CONTEXT_CANDIDATES,
};
use crate::engine::{check_search, SearchResult};
use crate::gate::salient_terms;
use crate::index::bm25::{distinct, Bm25};
use crate::retrieve::{Fused, RetrieveOptions};
use crate::Result;

/// The most of a follow-up's own candidates whose text [`SiteIndex::search_conversation`]
/// fetches to learn their page, when the records at hand do not tell it: 10, the first ones by
/// rank. Each may cost a text pack (2–6 KiB) or a ranged record; fewer can miss a sibling
/// section of a long topic page, more costs bytes for candidates that rank too low to matter.
pub const CONTEXT_LOOKUPS: usize = 10;

/// The page of a `page#anchor` url.
fn page_of(url: &str) -> &str {
    url.split('#').next().unwrap_or_default()
}

impl SiteIndex {
    /// Searches for `question` asked after the earlier turns `history` (oldest first), as
    /// `Docent::search_conversation` does through index.bin, with the query the conversation
    /// forms ([`retrieval_query`]) and its vector `vector` (when given, it must embed that query).
    ///
    /// A question searched as written, or an elliptical follow-up whose earlier turns carry no
    /// sources ([`context_pages`] empty), is [`SiteIndex::search`] of the formed query alone (no
    /// search of the topic question: it would cost its own text and vector). Otherwise the
    /// formed query's candidates ([`CONTEXT_CANDIDATES`]) are fused with those of the follow-up's
    /// own words on the pages the turns cite ([`fuse_on_topic`]); the own words are searched
    /// lexically (their shards came with the formed query's; the engine searches them hybrid),
    /// and a candidate's page is read from the records at hand or, for at most
    /// [`CONTEXT_LOOKUPS`] of them, fetched. Verdict, evidence and missing terms are the formed
    /// query's, less the topic's terms the corpus lacks (`conversation::judged_query`), and the
    /// verdict [`follow_up_answerable`], as the engine judges them.
    ///
    /// Errors: those of [`SiteIndex::search_with`].
    pub async fn search_conversation<S: FragmentSource>(
        &self,
        src: &S,
        question: &str,
        history: &[Turn],
        k: usize,
        vector: Option<&[f32]>,
        opts: &RetrieveOptions,
    ) -> Result<SearchResult> {
        let query = retrieval_query(question, history);
        let pages = context_pages(question, history);
        let conversation = Some((question, history));
        if pages.is_empty() {
            let ranked = self.ranked(src, &query, k, vector, opts, Lookup::default(), conversation).await?;
            let hits = self.hits_of(src, &ranked.fused, k, opts).await?;
            return Ok(SearchResult {
                answerable: ranked.answerable,
                hits,
                evidence: ranked.evidence,
                missing: ranked.missing,
            });
        }
        let own_question = check_search(question, k, opts)?;
        let n = k.max(CONTEXT_CANDIDATES);
        let ranked = self.ranked(src, &query, n, vector, opts, Lookup::default(), conversation).await?;
        let own = self.own_words(src, own_question, n).await?;
        let on_topic = self.on_pages(src, own, &pages).await?;
        let formed: Vec<Fused> = ranked.fused.into_iter().take(n).collect();
        let on_topic: Vec<Fused> = on_topic
            .into_iter()
            .map(|(id, score)| Fused { id, score, dense: None, lexical: Some(score) })
            .collect();
        let fused: Vec<Fused> = fuse_on_topic(formed, on_topic, opts.rrf_k, |f| f.id)
            .into_iter()
            .map(|(f, score)| Fused { score, ..f })
            .collect();
        let hits = self.hits_of(src, &fused, k, opts).await?;
        // The turns carry sources: the topic was answered. The follow-up's words' shards came
        // with the formed query's.
        let answerable = follow_up_answerable(ranked.answerable, true, question, &ShardVocabulary(self));
        Ok(SearchResult { answerable, hits, evidence: ranked.evidence, missing: ranked.missing })
    }

    /// The BM25 top-`n` of `question`'s own words (a typo read as the word meant, as the
    /// engine's search of them does), loading any shard (or ranged postings) they need that the
    /// formed query's search did not (it holds the question's words, so usually none).
    async fn own_words<S: FragmentSource>(
        &self,
        src: &S,
        question: &str,
        n: usize,
    ) -> Result<Vec<(u32, f32)>> {
        let terms = distinct(Bm25::analyze(question));
        if self.table.chunks == 0 || terms.is_empty() {
            return Ok(Vec::new());
        }
        let salient = salient_terms(question);
        let shards: BTreeSet<usize> = terms
            .iter()
            .chain(salient.iter().map(|t| &t.term))
            .map(|t| shard_of(&self.table.lexical, t))
            .collect();
        self.load_shards(src, &shards, None).await?;
        self.load_for_absent(src, question).await?;
        let terms = self.query_terms(question, Lookup::default());
        if self.table.lexical.ranged {
            let wanted = self.groups(&terms, Lookup::default());
            self.load_postings(src, &wanted, &[]).await?;
        }
        Ok(self.rank(&self.groups(&terms, Lookup::default()), n))
    }

    /// The candidates of `own` (best first) that lie on one of `pages`, in order: those the
    /// records at hand place there ([`SiteIndex::page_known`]), after fetching the text of the
    /// first [`CONTEXT_LOOKUPS`] whose page they leave open.
    async fn on_pages<S: FragmentSource>(
        &self,
        src: &S,
        own: Vec<(u32, f32)>,
        pages: &[&str],
    ) -> Result<Vec<(u32, f32)>> {
        let open: Vec<u32> = own
            .iter()
            .map(|h| h.0)
            .filter(|&id| self.page_known(id, pages).is_none())
            .take(CONTEXT_LOOKUPS)
            .collect();
        self.load_text(src, open.into_iter()).await?;
        Ok(own.into_iter().filter(|h| self.page_known(h.0, pages) == Some(true)).collect())
    }

    /// Whether chunk `id` lies on one of `pages`, from the text records at hand and the ids of a
    /// page's chunks being consecutive: `Some` when its own record is at hand, when the records
    /// next to it on both sides are of one page, or when a record of another page separates it
    /// from every one of `pages` (each with a record at hand); `None` when they cannot tell.
    pub(super) fn page_known(&self, id: u32, pages: &[&str]) -> Option<bool> {
        let text = self.text.borrow();
        if let Some(r) = text.get(&id) {
            return Some(pages.contains(&page_of(&r.url)));
        }
        let below = text.keys().filter(|&&j| j < id).max().map(|j| page_of(&text[j].url));
        let above = text.keys().filter(|&&j| j > id).min().map(|j| page_of(&text[j].url));
        if let (Some(b), Some(a)) = (below, above) {
            if a == b {
                return Some(pages.contains(&b));
            }
        }
        let possible = pages
            .iter()
            .any(|p| below == Some(p) || above == Some(p) || !text.values().any(|r| page_of(&r.url) == *p));
        if possible {
            None
        } else {
            Some(false)
        }
    }
}
