//! The "answerable?" gate calibrated per site at index time.
//!
//! Owns: the signals a query's search yields ([`Signals`], turned into the engine's
//! [`Evidence`]), the question's salient terms and the ones the corpus lacks (the missing-term
//! rule), the fitted model ([`SiteGate`], a few numbers stored in the index and the fragments
//! manifest) and its verdict; `queries.rs` generates the calibration queries from the corpus,
//! `fit.rs` fits the model on them, `typos.rs` reads a reader's typo as the word meant.
//! Must not: search, embed or read files: the engine and the fragment reader compute the signals
//! with their own indexes and hand them over.
//!
//! Why per site: one fixed threshold does not fit every site (on the Cargo book the fixed MiniLM
//! gate kept 90% of answerable questions and flagged 67% of unanswerable ones, on a Sphinx site
//! 83% / 80%). The corpus itself tells what its answerable questions look like: pseudo-questions
//! made from its headings and sentences are answerable, the same questions with their salient
//! term swapped for a technical term the corpus never uses are not, and neither are questions
//! from another field. A logistic model over the signals, fitted on those at index time, adapts
//! to the site's score scales (BM25, the embedder, the chunk sizes) without any question written
//! by hand.
//!
//! Design: `docs/design.md`, "The gate".

use serde::{Deserialize, Serialize};

use crate::embed::EmbedderKind;
use crate::engine::Evidence;
use crate::index::bm25::{idf, Bm25};
use crate::retrieve::{fuse, Gate, Mode, RetrieveOptions};
use crate::{Error, Result};

mod common;
mod fit;
pub mod queries;
mod typos;

pub use common::{dictionary_words, CommonWords};
pub use fit::{calibrate, Calibration, CalibrationQuery, HeldOut};
pub use typos::{
    has_term, meant, query_reading, query_terms, typo_min_df, typo_terms, TypoTerms, TYPO_MIN_LETTERS,
    TYPO_SWAP_LETTERS,
};

/// The version of [`SiteGate`] this build writes: 2 (common words, the plain-word rule). It
/// reads [`READS`]; another version is ignored (the fixed per-embedder gate decides then), so an
/// index written by a later docent still loads.
pub const GATE_VERSION: u32 = 2;

/// The versions of [`SiteGate`] this build reads: 1 (no common words: every absent salient term
/// names something) and 2.
pub const READS: [u32; 2] = [1, 2];

/// The signals of the hybrid model, in the order of [`Model::weights`]: best dense similarity,
/// its gap to the 10th dense hit, best coverage of the top 5 lexical hits, coverage of the first
/// fused hit, the share of the salient terms the corpus has, the best BM25 score normalised by
/// the query's, the first fused (RRF) score normalised to 0..=1.
pub const HYBRID_SIGNALS: [&str; 7] =
    ["dense", "dense_gap", "coverage", "top_coverage", "present", "lexical", "fused"];

/// The signals of the lexical-only model (no query vector): the lexical ones of
/// [`HYBRID_SIGNALS`].
pub const LEXICAL_SIGNALS: [&str; 4] = ["coverage", "top_coverage", "present", "lexical"];

/// Words of questions that name no topic, left out of the salient terms even when a corpus
/// lacks them ("difference", "explain"). BM25's stop words are left out already.
const QUESTION_WORDS: &[&str] = &[
    "about",
    "after",
    "all",
    "also",
    "any",
    "another",
    "anything",
    "avoid",
    "before",
    "best",
    "better",
    "between",
    "change",
    "choose",
    "correct",
    "correctly",
    "describe",
    "difference",
    "different",
    "does",
    "done",
    "each",
    "else",
    "every",
    "example",
    "examples",
    "exactly",
    "explain",
    "find",
    "get",
    "give",
    "go",
    "good",
    "got",
    "happen",
    "happens",
    "help",
    "here",
    "instead",
    "it's",
    "just",
    "kind",
    "know",
    "let",
    "like",
    "look",
    "make",
    "many",
    "mean",
    "means",
    "more",
    "most",
    "much",
    "need",
    "new",
    "not",
    "often",
    "one",
    "only",
    "other",
    "possible",
    "proper",
    "properly",
    "right",
    "same",
    "say",
    "see",
    "should",
    "show",
    "some",
    "something",
    "still",
    "such",
    "sure",
    "tell",
    "thing",
    "things",
    "try",
    "two",
    "type",
    "up",
    "use",
    "used",
    "using",
    "versus",
    "very",
    "vs",
    "want",
    "way",
    "ways",
    "without",
    "work",
    "works",
    "wrong",
    "yes",
    "no",
];

/// One salient term of a question: its analyzed form and how the reader wrote it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryTerm {
    /// The BM25 analyzer's form (lowercased, stemmed).
    pub term: String,
    /// The reader's spelling (case and punctuation kept), for the "do not mention" sentence.
    pub surface: String,
    /// Whether it is (part of) the question's first word, where a capital letter says nothing.
    pub initial: bool,
}

/// The salient terms of `query`: the BM25 analyzer's terms of its words, without stop words,
/// question words ([`QUESTION_WORDS`]), numbers and one-letter terms, each once, in order. A
/// compound such as `Cargo.toml` gives its parts (the whole is looked up by BM25 but not judged
/// here: its parts are).
pub fn salient_terms(query: &str) -> Vec<QueryTerm> {
    let mut out: Vec<QueryTerm> = Vec::new();
    for (n, raw) in query.split_whitespace().enumerate() {
        let word = raw.trim_matches(|c: char| !c.is_alphanumeric());
        let parts: Vec<&str> = word.split(|c: char| !c.is_alphanumeric()).filter(|p| !p.is_empty()).collect();
        for part in parts {
            if part.chars().count() < 2 || part.chars().all(|c| c.is_numeric()) {
                continue;
            }
            let lower = part.to_lowercase();
            if QUESTION_WORDS.contains(&lower.as_str()) {
                continue;
            }
            // One part, one analyzed term (or none when it is a stop word).
            let Some(term) = Bm25::analyze(part).into_iter().next() else { continue };
            if QUESTION_WORDS.iter().any(|q| Bm25::analyze(q).first() == Some(&term)) {
                continue;
            }
            if !out.iter().any(|t| t.term == term) {
                out.push(QueryTerm { term, surface: part.to_string(), initial: n == 0 });
            }
        }
    }
    out
}

/// What a corpus knows of a term: whether it occurs and how often.
pub trait Vocabulary {
    /// Live chunks (BM25's N).
    fn live_docs(&self) -> u32;
    /// Live document frequency of `term` (an analyzed term); 0 when absent.
    fn df(&self, term: &str) -> u32;
}

/// The question's salient terms checked against a corpus.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TermCheck {
    /// Share (0..=1) of the salient terms' idf mass the corpus has (1 without salient terms).
    pub present: f32,
    /// Salient terms the corpus lacks that name something (not a common word of the site's
    /// [`CommonWords`]; every absent term when the index has none), in the reader's spelling, in
    /// question order; when some of them are written like names (a capital letter or a digit),
    /// only those.
    pub missing: Vec<String>,
    /// Salient terms the corpus lacks that are common words ("tidy", "database"), in the
    /// reader's spelling: weaker evidence than [`TermCheck::missing`].
    pub plain: Vec<String>,
}

/// Checks `terms` against `vocab`: a term is present when it occurs or when the reader's word is
/// a typo of a term that occurs ([`has_term`]). Absent terms weigh the largest idf (df 0); an
/// absent term that `common` holds is a plain word ([`TermCheck::plain`]), unless the reader
/// wrote it like a name after the question's first word ("React", "S3").
pub fn check_terms(terms: &[QueryTerm], vocab: &dyn Vocabulary, common: Option<&CommonWords>) -> TermCheck {
    let n = vocab.live_docs();
    let (mut have, mut total) = (0f32, 0f32);
    let (mut missing, mut plain) = (Vec::new(), Vec::new());
    for t in terms {
        let df = vocab.df(&t.term);
        let w = idf(n, df);
        total += w;
        if has_term(t, vocab) {
            have += w;
        } else if common.is_some_and(|c| c.contains(&t.term))
            && !(!t.initial && looks_like_a_name(&t.surface))
        {
            plain.push(t.surface.clone());
        } else {
            missing.push(t.surface.clone());
        }
    }
    // Name the names: when some missing words are written like names (a capital letter or a
    // digit: "Kubernetes", "gRPC", "S3"), the sentence names those, not the plain words beside
    // them ("inside", "deploy").
    if missing.iter().any(|m| looks_like_a_name(m)) {
        missing.retain(|m| looks_like_a_name(m));
    }
    TermCheck { present: if total > 0.0 { (have / total).clamp(0.0, 1.0) } else { 1.0 }, missing, plain }
}

/// Whether a word as written looks like a name: it has an uppercase letter or a digit.
pub fn looks_like_a_name(word: &str) -> bool {
    word.chars().any(|c| c.is_uppercase() || c.is_numeric())
}

/// The raw numbers a search yields, before they become [`Evidence`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Signals<'a> {
    /// Dense similarities of the dense candidates, best first (empty without a query vector).
    pub dense: &'a [f32],
    /// BM25 scores of the lexical candidates, best first.
    pub lexical: &'a [f32],
    /// Best coverage among the first 5 lexical hits.
    pub coverage: f32,
    /// Coverage of the first fused hit (the best chunk).
    pub top_coverage: f32,
    /// Share of the salient terms' idf mass the corpus has ([`TermCheck::present`]).
    pub present: f32,
    /// Σ idf over the query's distinct analyzed terms (the ideal BM25 score's scale).
    pub query_idf: f32,
    /// BM25's k1.
    pub k1: f32,
    /// The first fused score of a hybrid fusion (0 without one).
    pub fused: f32,
    /// RRF's k and the lexical weight, to bring `fused` to 0..=1.
    pub rrf_k: f32,
    /// The lexical ranking's weight in fusion.
    pub lexical_weight: f32,
}

/// The evidence of one search, the same for the engine and the fragmented index: from its
/// candidates (dense and lexical, `(chunk, score)` best first; `dense_hits` empty without a query
/// vector), `cover` (the coverage of one chunk), the term check, the query's Σ idf and BM25's k1.
/// Returns the evidence and the term check.
pub fn evidence_of(
    dense_hits: &[(u32, f32)],
    lexical_hits: &[(u32, f32)],
    opts: &RetrieveOptions,
    cover: impl Fn(u32) -> f32,
    check: TermCheck,
    query_idf: f32,
    k1: f32,
) -> (Evidence, TermCheck) {
    let coverage = lexical_hits.iter().take(5).map(|&(id, _)| cover(id)).fold(0.0, f32::max);
    let fused = if dense_hits.is_empty() {
        None
    } else {
        fuse(dense_hits, lexical_hits, opts.rrf_k, opts.lexical_weight, Mode::Hybrid).first().copied()
    };
    let top = fused.map(|f| f.id).or(lexical_hits.first().map(|h| h.0));
    let dense: Vec<f32> = dense_hits.iter().map(|h| h.1).collect();
    let lexical: Vec<f32> = lexical_hits.iter().map(|h| h.1).collect();
    let evidence = Signals {
        dense: &dense,
        lexical: &lexical,
        coverage,
        top_coverage: top.map_or(0.0, &cover),
        present: check.present,
        query_idf,
        k1,
        fused: fused.map_or(0.0, |f| f.score),
        rrf_k: opts.rrf_k,
        lexical_weight: opts.lexical_weight,
    }
    .evidence();
    (evidence, check)
}

impl Signals<'_> {
    /// The evidence: every signal on a scale that does not depend on the query's length.
    pub fn evidence(&self) -> Evidence {
        let best = self.dense.first().copied().unwrap_or(-1.0);
        let tenth = self.dense.get(9).or(self.dense.last()).copied().unwrap_or(best);
        let lexical = match self.lexical.first() {
            Some(&s) if self.query_idf > 0.0 => (s / (self.query_idf * (self.k1 + 1.0))).clamp(0.0, 1.0),
            _ => 0.0,
        };
        let fused = (self.fused * (self.rrf_k + 1.0) / (1.0 + self.lexical_weight)).clamp(0.0, 1.0);
        Evidence {
            dense: best,
            coverage: self.coverage,
            dense_gap: if self.dense.is_empty() { 0.0 } else { best - tenth },
            top_coverage: self.top_coverage,
            present: self.present,
            lexical,
            fused,
        }
    }
}

/// A logistic model over standardised signals: `p = σ(bias + Σ wᵢ (xᵢ − meanᵢ) / scaleᵢ)`,
/// answerable when `p ≥ threshold`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Model {
    /// Mean of each signal over the training queries.
    pub mean: Vec<f32>,
    /// Standard deviation of each signal (at least 1e-3).
    pub scale: Vec<f32>,
    /// Weight of each standardised signal.
    pub weights: Vec<f32>,
    /// The intercept.
    pub bias: f32,
    /// The probability a query needs to be answerable, 0..=1: chosen to keep at least 97% of the
    /// training pseudo-questions.
    pub threshold: f32,
}

impl Model {
    /// The model's probability that `x` (signals in its order) is answerable.
    pub fn probability(&self, x: &[f32]) -> f32 {
        let z: f32 = self.bias
            + x.iter()
                .zip(&self.mean)
                .zip(&self.scale)
                .zip(&self.weights)
                .map(|(((x, m), s), w)| w * (x - m) / s)
                .sum::<f32>();
        1.0 / (1.0 + (-z).exp())
    }

    /// Whether `x` passes.
    pub fn passes(&self, x: &[f32]) -> bool {
        self.probability(x) >= self.threshold
    }

    fn check(&self, n: usize, what: &str) -> std::result::Result<(), String> {
        let numbers =
            self.mean.iter().chain(&self.scale).chain(&self.weights).chain([&self.bias, &self.threshold]);
        if self.mean.len() != n || self.scale.len() != n || self.weights.len() != n {
            return Err(format!("the {what} model has {} weights for {n} signals", self.weights.len()));
        }
        if numbers.clone().any(|v| !v.is_finite()) || self.scale.iter().any(|&s| s <= 0.0) {
            return Err(format!("the {what} model holds a number that is not finite, or a scale ≤ 0"));
        }
        Ok(())
    }
}

/// The gate fitted on a site's own calibration queries: stored in `index.bin` (section `gate`,
/// JSON) and in the fragments manifest (`"gate"`), a few numbers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SiteGate {
    /// [`GATE_VERSION`].
    pub version: u32,
    /// The hybrid model, over [`HYBRID_SIGNALS`].
    pub hybrid: Model,
    /// The lexical-only model (no query vector), over [`LEXICAL_SIGNALS`].
    pub lexical: Model,
    /// The dense similarity above which a question passes although a salient term of it is
    /// missing from the corpus (the missing-term rule's exception): above the dense match of
    /// nearly every calibration query that lacks a term.
    pub strong_dense: f32,
    /// The embedder's fixed gate ([`Gate::for_embedder`]), which decides after the missing-term
    /// rule. The fitted model does not decide yet: on the development questions (Cargo book,
    /// Sphinx, git; 85 answerable, 32 unanswerable) it alone kept 72 and flagged 27, the fixed
    /// gate 83 and 22, either of them 83 and 20, the fixed gate with the missing-term rule 82 and
    /// 24 (its training pseudo-questions share more words with their chunks than readers'
    /// questions do, so it leans on lexical signals readers' questions lack).
    pub fixed: Gate,
    /// The fixed gate's coverage threshold without a query vector
    /// ([`crate::retrieve::LEXICAL_ONLY_COVERAGE`]).
    pub fixed_lexical: f32,
    /// What the calibration saw, and how the gate does on its held-out queries.
    pub calibration: Calibration,
    /// The common words the corpus lacks ([`CommonWords`]): from the embedder's vocabulary at
    /// index time; `None` for an embedder without one (every absent term then names something)
    /// and in gates of version 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub common: Option<CommonWords>,
    /// A second corner beside [`SiteGate::fixed`] for a question whose terms all occur
    /// ([`Gate::joint_for_embedder`]): its dense match and coverage pass together although each
    /// is below the fixed gate's threshold (readers' questions answered by a section often reach
    /// neither alone). `None`: the fixed gate alone, as in gates written before it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub joint: Option<Gate>,
}

/// A gate's decision on one query.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Verdict {
    /// Whether the corpus covers the query.
    pub answerable: bool,
    /// Whether the missing-term rule decided (a salient term is missing and the dense match is
    /// not strong enough).
    pub missing_rule: bool,
}

impl SiteGate {
    /// The verdict on `evidence`, with `check` the question's terms the corpus lacks and
    /// `hybrid` whether a query vector was used (without one a missing term always flags the
    /// query), in three steps:
    ///
    /// 1. **Missing names.** A salient term that names something ([`TermCheck::missing`]) flags
    ///    the question unless the dense match is very strong ([`SiteGate::strong_dense`]).
    /// 2. **Plain words.** When an ordinary word of the question is absent
    ///    ([`TermCheck::plain`]), the lexical evidence cannot vouch for it: the question passes
    ///    only on the dense match, at the fixed gate's dense threshold. Without a vector the
    ///    lexical-only threshold decides, as for any question.
    /// 3. Else the fixed gate's verdict ([`SiteGate::fixed`] says why not the model's), or the
    ///    joint corner's ([`SiteGate::joint`]).
    pub fn verdict(&self, e: &Evidence, check: &TermCheck, hybrid: bool) -> Verdict {
        let strong = hybrid && e.dense >= self.strong_dense;
        if !check.missing.is_empty() && !strong {
            return Verdict { answerable: false, missing_rule: true };
        }
        let answerable = match (hybrid, check.plain.is_empty()) {
            (true, true) => {
                self.fixed.passes(e.dense, e.coverage)
                    || self.joint.is_some_and(|j| j.passes(e.dense, e.coverage))
            }
            (true, false) => e.dense >= self.fixed.dense,
            (false, _) => e.coverage >= self.fixed_lexical,
        };
        Verdict { answerable, missing_rule: false }
    }

    /// The fitted model's own verdict (hybrid or lexical-only), without the missing-term rule
    /// and the fixed thresholds: measured by `docent eval` beside the verdict in force.
    pub fn model_passes(&self, e: &Evidence, hybrid: bool) -> bool {
        if hybrid {
            self.hybrid.passes(&hybrid_signals(e))
        } else {
            self.lexical.passes(&lexical_signals(e))
        }
    }

    /// Checks a gate read from a file: the version (another one gives `Ok(None)`: the caller
    /// falls back to the fixed gate), the models' sizes and that every number is finite. `what`
    /// names the file.
    pub fn checked(mut self, what: &str) -> Result<Option<SiteGate>> {
        if !READS.contains(&self.version) {
            return Ok(None);
        }
        self.common = self.common.map(|c| c.decoded(what)).transpose()?;
        self.hybrid
            .check(HYBRID_SIGNALS.len(), "hybrid")
            .and_then(|_| self.lexical.check(LEXICAL_SIGNALS.len(), "lexical"))
            .map_err(|e| Error::format(what, format!("section 'gate': {e}")))?;
        let f = &self.fixed;
        let joint = self.joint.map_or([0.0; 3], |j| [j.dense, j.dense_with_lexical, j.coverage]);
        if ![self.strong_dense, f.dense, f.dense_with_lexical, f.coverage, self.fixed_lexical]
            .iter()
            .chain(&joint)
            .all(|v| v.is_finite())
        {
            return Err(Error::format(what, "section 'gate': a threshold is not finite"));
        }
        Ok(Some(self))
    }

    /// Reads the manifest's `"gate"` value and checks it ([`SiteGate::checked`]): `None` for a
    /// gate of a version this build does not read.
    pub fn from_value(value: &serde_json::Value, what: &str) -> Result<Option<SiteGate>> {
        #[derive(Deserialize)]
        struct Versioned {
            version: u32,
        }
        let decoded =
            |e: serde_json::Error| Error::format(what, format!("section 'gate' could not be decoded: {e}"));
        let v = Versioned::deserialize(value).map_err(decoded)?;
        if !READS.contains(&v.version) {
            return Ok(None);
        }
        SiteGate::deserialize(value).map_err(decoded)?.checked(what)
    }

    /// Parses the `gate` section of an index file (JSON) and checks it, as
    /// [`SiteGate::from_value`] does.
    pub fn from_json(bytes: &[u8], what: &str) -> Result<Option<SiteGate>> {
        let value: serde_json::Value = serde_json::from_slice(bytes)
            .map_err(|e| Error::format(what, format!("section 'gate' could not be decoded: {e}")))?;
        SiteGate::from_value(&value, what)
    }
}

/// The verdict of the gate in force: the options' fixed gate when they give one, else the site's
/// calibrated gate, else the embedder's fixed defaults. `hybrid` says whether dense evidence
/// exists (a query vector was used).
pub fn decide(
    opts: &RetrieveOptions,
    site: Option<&SiteGate>,
    kind: EmbedderKind,
    e: &Evidence,
    check: &TermCheck,
    hybrid: bool,
) -> bool {
    match (opts.gate, site) {
        (Some(g), _) if hybrid => g.passes(e.dense, e.coverage),
        (Some(g), _) => g.passes_lexical(e.coverage),
        (None, Some(s)) => s.verdict(e, check, hybrid).answerable,
        (None, None) if hybrid => Gate::for_embedder(kind).passes(e.dense, e.coverage),
        (None, None) => Gate::lexical_only(kind).passes_lexical(e.coverage),
    }
}

/// The hybrid model's input, in [`HYBRID_SIGNALS`] order.
pub fn hybrid_signals(e: &Evidence) -> [f32; 7] {
    [e.dense, e.dense_gap, e.coverage, e.top_coverage, e.present, e.lexical, e.fused]
}

/// The lexical-only model's input, in [`LEXICAL_SIGNALS`] order.
pub fn lexical_signals(e: &Evidence) -> [f32; 4] {
    [e.coverage, e.top_coverage, e.present, e.lexical]
}

#[cfg(test)]
mod tests;
