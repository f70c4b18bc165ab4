//! The engine's side of the gate ([`crate::gate`]): the signals of a search from the engine's own
//! indexes, the verdict, and the calibration a build runs on the corpus's own queries.

use super::{Docent, Evidence};
use crate::embed::EmbedderKind;
use crate::gate::queries;
use crate::gate::{self, CalibrationQuery, CommonWords, SiteGate, TermCheck, Vocabulary};
use crate::index::bm25::{idf, Bm25};
use crate::retrieve::{Gate, RetrieveOptions};
use crate::Result;

/// Candidates per ranking of a calibration query (the default of [`RetrieveOptions`]).
const CALIBRATION_CANDIDATES: usize = 50;

/// Calibration queries embedded per embedder call.
const CALIBRATION_BATCH: usize = 32;

/// The engine's BM25 vocabulary as the gate sees it.
pub(crate) struct Bm25Vocabulary<'a>(pub &'a Bm25);

impl Vocabulary for Bm25Vocabulary<'_> {
    fn live_docs(&self) -> u32 {
        self.0.live_totals().0
    }

    fn df(&self, term: &str) -> u32 {
        self.0.doc_freq(term)
    }
}

impl Docent {
    /// The evidence of a search from its candidates (dense and lexical, best first) and the
    /// salient terms the corpus lacks; `terms` are the query's terms as the lexical ranking read
    /// them ([`gate::query_terms`]). `dense_hits` empty: no query vector.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn evidence_of(
        &self,
        bm25: &Bm25,
        query: &str,
        terms: &[String],
        dense_hits: &[(u32, f32)],
        lexical_hits: &[(u32, f32)],
        opts: &RetrieveOptions,
        common: Option<&CommonWords>,
    ) -> (Evidence, TermCheck) {
        let check = gate::check_terms(&gate::salient_terms(query), &Bm25Vocabulary(bm25), common);
        let n = bm25.live_totals().0;
        let query_idf: f32 = terms.iter().map(|t| idf(n, bm25.doc_freq(t))).sum();
        let cover = |id: u32| bm25.coverage_terms(terms, id);
        gate::evidence_of(dense_hits, lexical_hits, opts, cover, check, query_idf, bm25.params().k1)
    }

    /// Fits the site's gate on calibration queries generated from the live chunks
    /// ([`gate::queries::generate`]), each embedded and searched as a reader's question would be.
    /// `None` for an index of caller-given vectors (queries cannot be embedded) or too few chunks.
    /// `words` are common words beside the embedder's vocabulary ([`Docent::common_words`]).
    pub(crate) fn fit_gate(&self, words: &[&str]) -> Result<Option<SiteGate>> {
        let (Some(dense), Some(bm25)) = (&self.dense, &self.bm25) else {
            return Ok(None);
        };
        if self.embedder.info().kind == EmbedderKind::Vectors || bm25.is_empty() {
            return Ok(None);
        }
        let chunks: Vec<(u32, &str, &str)> =
            self.live_chunks().map(|(id, c, _)| (id, c.heading.as_str(), c.text.as_str())).collect();
        let generated = queries::generate(&chunks, &Bm25Vocabulary(bm25));
        let common = self.common_words(bm25, words);
        let opts = RetrieveOptions { candidates: CALIBRATION_CANDIDATES, ..self.options.retrieve.clone() };
        let live = |id: u32| self.chunks.get(id as usize).is_some_and(|c| self.docs[c.doc as usize].live);
        let dim = self.embedder.info().dim;
        let mut out = Vec::with_capacity(generated.len());
        for batch in generated.chunks(CALIBRATION_BATCH) {
            let texts: Vec<&str> = batch.iter().map(|g| g.text.as_str()).collect();
            let vectors = self.embed(&texts)?;
            for (g, v) in batch.iter().zip(vectors.chunks_exact(dim.max(1))) {
                let dense_hits: Vec<(u32, f32)> =
                    dense.search(v, opts.candidates)?.into_iter().filter(|&(id, _)| live(id)).collect();
                let terms = gate::query_terms(&g.text, &Bm25Vocabulary(bm25));
                let lexical_hits: Vec<(u32, f32)> = bm25
                    .search_terms(&terms, opts.candidates)
                    .into_iter()
                    .filter(|&(id, _)| live(id))
                    .collect();
                let (evidence, check) = self.evidence_of(
                    bm25,
                    &g.text,
                    &terms,
                    &dense_hits,
                    &lexical_hits,
                    &opts,
                    common.as_ref(),
                );
                let (lexical_evidence, _) =
                    self.evidence_of(bm25, &g.text, &terms, &[], &lexical_hits, &opts, common.as_ref());
                out.push(CalibrationQuery { kind: g.kind, evidence, lexical_evidence, check });
            }
        }
        let kind = self.embedder.info().kind;
        let fitted =
            gate::calibrate(&out, Gate::for_embedder(kind), crate::retrieve::LEXICAL_ONLY_COVERAGE, common);
        Ok(fitted.map(|g| SiteGate { joint: Gate::joint_for_embedder(kind), ..g }))
    }

    /// The common words the corpus lacks ([`CommonWords`]): the whole words (not `##` pieces,
    /// not `[special]` tokens) of the embedder's tokenizer, then `words` (a word list's, given by
    /// the caller). `None` without either (an embedder without a tokenizer and no list).
    fn common_words(&self, bm25: &Bm25, words: &[&str]) -> Option<CommonWords> {
        #[cfg(feature = "models")]
        let vocab: Vec<String> = match self.embedder.tokenizer() {
            Some(tokenizer) => {
                let mut vocab: Vec<(String, u32)> = tokenizer.get_vocab(false).into_iter().collect();
                // In id order: the vocabulary's own order, whatever the hash map's.
                vocab.sort_by_key(|v| v.1);
                vocab.into_iter().map(|v| v.0).collect()
            }
            None => Vec::new(),
        };
        #[cfg(not(feature = "models"))]
        let vocab: Vec<String> = Vec::new();
        let all = vocab.iter().map(String::as_str).chain(words.iter().copied());
        CommonWords::of(all, |t| bm25.doc_freq(t) == 0)
    }
}
