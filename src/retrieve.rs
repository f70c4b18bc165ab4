//! Retrieval: hybrid fusion of dense and lexical rankings, the relevance gate, and diversity.
//!
//! Owns: combining the two candidate lists with reciprocal rank fusion, deciding per query
//! whether the corpus covers it ([`Gate`]), and limiting how many hits come from one page.
//! Must not: embed, touch index internals, or build prompts.
//!
//! Design: `docs/design.md`, "From a page to a prompt", step 7.

use serde::{Deserialize, Serialize};

use crate::embed::EmbedderKind;
use crate::{Error, Result};

/// Which rankings a search uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Dense and BM25, fused by reciprocal rank (the default).
    #[default]
    Hybrid,
    /// Dense (embedding) similarity only.
    Dense,
    /// BM25 only.
    Lexical,
}

impl Mode {
    /// Parses `hybrid`, `dense` or `lexical` (also `bm25`).
    pub fn from_name(s: &str) -> Result<Self> {
        match s {
            "hybrid" => Ok(Mode::Hybrid),
            "dense" => Ok(Mode::Dense),
            "lexical" | "bm25" => Ok(Mode::Lexical),
            _ => Err(Error::invalid("mode", format!("expected hybrid, dense or lexical; found {s:?}"))),
        }
    }
}

/// The relevance gate's thresholds. A query is answerable when the best dense similarity
/// among the candidates is at least `dense`, or when it is at least `dense_with_lexical` and the
/// best BM25 hit contains at least `coverage` of the query's IDF mass.
///
/// Defaults are per embedder ([`Gate::for_embedder`]). They were calibrated with
/// `docent eval --calibrate --keep 1.0` on the Cargo-book development questions
/// (`bench/eval/cargo-book-dev.jsonl`, 25 answerable + 12 unanswerable; never on the test
/// questions): the gate that flags the most unanswerable questions while keeping every answerable
/// one. Keeping all of them, rather than 95%, is a safety margin for a set this small (one
/// question is 4%). On the separate test set (95 + 18) the MiniLM gate keeps 96.8% of answerable
/// questions and flags 66.7% of unanswerable ones; see `bench/README.md`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Gate {
    /// Dense cosine similarity that alone makes a query answerable. Range -1..=1; above 1 the
    /// dense signal alone never passes, at -1 every query passes.
    pub dense: f32,
    /// Dense similarity needed when the lexical evidence also passes. Range -1..=1.
    pub dense_with_lexical: f32,
    /// Fraction (0..=1) of the query's IDF mass the best BM25 hit must contain.
    pub coverage: f32,
}

impl Gate {
    /// A gate that lets every query through.
    pub const OPEN: Gate = Gate { dense: -1.0, dense_with_lexical: -1.0, coverage: 0.0 };

    /// Calibrated defaults for an embedder family.
    pub fn for_embedder(kind: EmbedderKind) -> Gate {
        match kind {
            EmbedderKind::MiniLm => Gate { dense: 0.50, dense_with_lexical: 0.0, coverage: 0.60 },
            EmbedderKind::Static => Gate { dense: 0.70, dense_with_lexical: 0.0, coverage: 0.55 },
            EmbedderKind::Hashing => Gate { dense: 0.6, dense_with_lexical: 0.1, coverage: 0.5 },
            // Unknown vector spaces: only the lexical evidence is comparable across models.
            EmbedderKind::Vectors => Gate { dense: 2.0, dense_with_lexical: -1.0, coverage: 0.6 },
        }
    }

    /// The calibrated gate's second corner for an embedder family ([`crate::gate::SiteGate::joint`]):
    /// a dense match and a lexical coverage that each fall a little short of the fixed gate's
    /// thresholds pass together. MiniLM: dense 0.42 and coverage 0.55 (chosen on the development
    /// questions: on Sphinx's they keep one more answerable question and let no unanswerable one
    /// more through; `bench/results/eval-gate-words.md`). `None` for the other embedders (no
    /// development figures), whose calibrated gates decide as before.
    pub fn joint_for_embedder(kind: EmbedderKind) -> Option<Gate> {
        match kind {
            EmbedderKind::MiniLm => Some(Gate { dense: 2.0, dense_with_lexical: 0.42, coverage: 0.55 }),
            _ => None,
        }
    }

    /// The verdict for the evidence of one query.
    pub fn passes(&self, best_dense: f32, best_coverage: f32) -> bool {
        best_dense >= self.dense || (best_dense >= self.dense_with_lexical && best_coverage >= self.coverage)
    }

    /// The verdict when there is no dense evidence (a search without a query vector, such as the
    /// fragmented index's lexical path): coverage at least `coverage`.
    pub fn passes_lexical(&self, best_coverage: f32) -> bool {
        best_coverage >= self.coverage
    }

    /// The gate of a search without dense evidence when the options give none: every threshold
    /// at its [`Gate::for_embedder`] value but `coverage`, which is [`LEXICAL_ONLY_COVERAGE`]
    /// (lexical evidence means the same whatever the embedder).
    pub fn lexical_only(kind: EmbedderKind) -> Gate {
        Gate { coverage: LEXICAL_ONLY_COVERAGE, ..Gate::for_embedder(kind) }
    }
}

/// The coverage a query needs to be answerable when no dense similarity is known (the first,
/// keyword-only answer of a fragmented site index): 0.35. Calibrated like [`Gate`]'s defaults,
/// on the Cargo-book development questions with every answerable one kept (25/25 kept, 7/12
/// unanswerable flagged); on the test set it keeps 88/95 answerable questions (92.6%) and flags
/// 10/18 (55.6%). The hybrid gates' coverage thresholds (0.5–0.6) are meant to be combined with
/// a dense similarity: alone they kept 49–63 of the 95.
pub const LEXICAL_ONLY_COVERAGE: f32 = 0.35;

/// How search results are fused and filtered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RetrieveOptions {
    /// Which rankings to use. Default hybrid.
    pub mode: Mode,
    /// Candidates taken from each ranking before fusion. Default 100; range 1..=1000 (and at
    /// least `2k`). More candidates let a chunk ranked low by one ranking but high by the other
    /// reach the top: on the development questions 100 gave hybrid recall@5 0.658 against 0.631
    /// with 50, and beyond 100 the fused top 10 hardly changes while latency grows.
    pub candidates: usize,
    /// The constant of reciprocal rank fusion: score = Σ 1 / (rrf_k + rank). Default 60 (the
    /// value of Cormack et al. 2009, confirmed on the development questions against 10, 30 and
    /// 100); small values let the top of one list dominate.
    pub rrf_k: f32,
    /// Weight of the lexical ranking in hybrid fusion, relative to the dense ranking's 1.0.
    /// Default 1.0 (0.7 and 1.3 did worse on the development questions); range 0..=10 (0
    /// ignores BM25 in the fused order but keeps its scores).
    pub lexical_weight: f32,
    /// At most this many hits from one page (url without anchor). Default 3; 0 means no limit.
    pub max_per_page: usize,
    /// The relevance gate; `None` uses [`Gate::for_embedder`] for the index's embedder.
    pub gate: Option<Gate>,
}

impl Default for RetrieveOptions {
    fn default() -> Self {
        RetrieveOptions {
            mode: Mode::Hybrid,
            candidates: 100,
            rrf_k: 60.0,
            lexical_weight: 1.0,
            max_per_page: 3,
            gate: None,
        }
    }
}

impl RetrieveOptions {
    /// Checks the ranges documented on each field.
    pub fn validate(&self) -> Result<()> {
        if !(1..=1000).contains(&self.candidates) {
            return Err(Error::invalid(
                "candidates",
                format!("expected 1..=1000, found {}", self.candidates),
            ));
        }
        if !(self.rrf_k.is_finite() && self.rrf_k >= 0.0) {
            return Err(Error::invalid(
                "rrf_k",
                format!("expected a finite number ≥ 0, found {}", self.rrf_k),
            ));
        }
        if !(0.0..=10.0).contains(&self.lexical_weight) {
            return Err(Error::invalid(
                "lexical_weight",
                format!("expected 0..=10, found {}", self.lexical_weight),
            ));
        }
        Ok(())
    }
}

/// One fused candidate: a chunk id with its evidence from both rankings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Fused {
    /// The chunk id.
    pub id: u32,
    /// The fused score (RRF, or the single ranking's score in dense/lexical mode).
    pub score: f32,
    /// Dense cosine similarity, when the chunk was among the dense candidates.
    pub dense: Option<f32>,
    /// BM25 score, when the chunk was among the lexical candidates.
    pub lexical: Option<f32>,
}

/// Reciprocal rank fusion of two best-first candidate lists. Ties are broken by the better
/// dense rank, then by id, so the order is deterministic.
pub fn fuse(
    dense: &[(u32, f32)],
    lexical: &[(u32, f32)],
    rrf_k: f32,
    lexical_weight: f32,
    mode: Mode,
) -> Vec<Fused> {
    let mut by_id: std::collections::BTreeMap<u32, (Fused, usize)> = Default::default();
    let dense_on = mode != Mode::Lexical;
    let lexical_on = mode != Mode::Dense;
    for (rank, &(id, s)) in dense.iter().enumerate() {
        let e = by_id.entry(id).or_insert((Fused { id, score: 0.0, dense: None, lexical: None }, usize::MAX));
        e.0.dense = Some(s);
        e.1 = rank;
        if dense_on {
            e.0.score += match mode {
                Mode::Dense => s,
                _ => 1.0 / (rrf_k + rank as f32 + 1.0),
            };
        }
    }
    for (rank, &(id, s)) in lexical.iter().enumerate() {
        let e = by_id.entry(id).or_insert((Fused { id, score: 0.0, dense: None, lexical: None }, usize::MAX));
        e.0.lexical = Some(s);
        if lexical_on {
            e.0.score += match mode {
                Mode::Lexical => s,
                _ => lexical_weight / (rrf_k + rank as f32 + 1.0),
            };
        }
    }
    let mut out: Vec<(Fused, usize)> = by_id
        .into_values()
        .filter(|(f, _)| (dense_on && f.dense.is_some()) || (lexical_on && f.lexical.is_some()))
        .collect();
    out.sort_by(|a, b| b.0.score.total_cmp(&a.0.score).then(a.1.cmp(&b.1)).then(a.0.id.cmp(&b.0.id)));
    out.into_iter().map(|(f, _)| f).collect()
}

/// What [`select`] compares of a hit: the xxh3-64 of its section (`url` with its anchor), its
/// page (`url` before `#`) and its text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Marks {
    /// Of the `url` with its anchor.
    pub section: u64,
    /// Of the `url` before `#`.
    pub page: u64,
    /// Of the text.
    pub text: u64,
}

impl Marks {
    /// The marks of a hit at `url` (`page#anchor` or `page`) with `text`.
    pub fn of(url: &str, text: &str) -> Marks {
        let h = |s: &str| xxhash_rust::xxh3::xxh3_64(s.as_bytes());
        Marks { section: h(url), page: h(url.split('#').next().unwrap_or_default()), text: h(text) }
    }
}

/// The hits a reader sees, at most `k` of `items` (best first; `key` gives an item's `url` and
/// text). An item is dropped when it repeats the section or the exact text of any item before
/// it (a long section split into several chunks, or an option table many pages share verbatim,
/// would otherwise fill the results with one piece of evidence; a dropped chunk still counts, so
/// the verbatim twin of a section's second chunk is dropped too), or when its page already has
/// `max_per_page` kept items (`0`: no limit).
///
/// Each item is decided by the items before it alone, so the first `n` items decide the same as
/// a longer list's first `n`, and a reader who knows some items only by their first chunks' ids
/// (the fragments' places) can decide them before reading their text.
pub fn select<'s, T>(
    items: impl IntoIterator<Item = T>,
    k: usize,
    max_per_page: usize,
    key: impl Fn(&T) -> (&'s str, &'s str),
) -> Vec<T> {
    let mut sections = std::collections::HashSet::new();
    let mut texts = std::collections::HashSet::new();
    let mut pages: std::collections::HashMap<u64, usize> = Default::default();
    let mut out = Vec::new();
    for item in items {
        if out.len() >= k {
            break;
        }
        let (url, text) = key(&item);
        let m = Marks::of(url, text);
        let fresh_section = sections.insert(m.section);
        let fresh_text = texts.insert(m.text);
        if !(fresh_section && fresh_text) {
            continue;
        }
        let on_page = pages.entry(m.page).or_insert(0);
        if max_per_page == 0 || *on_page < max_per_page {
            *on_page += 1;
            out.push(item);
        }
    }
    out
}

/// Keeps at most `max_per_page` items per page (the part of `page_of(item)` before `#`), in
/// order; `0` keeps everything.
pub fn limit_per_page<'s, T: 's>(
    items: Vec<T>,
    max_per_page: usize,
    page_of: impl Fn(&T) -> &'s str,
) -> Vec<T> {
    if max_per_page == 0 {
        return items;
    }
    let mut counts: std::collections::HashMap<String, usize> = Default::default();
    items
        .into_iter()
        .filter(|it| {
            let page = page_of(it).split('#').next().unwrap_or_default().to_string();
            let c = counts.entry(page).or_insert(0);
            *c += 1;
            *c <= max_per_page
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rrf_rewards_agreement() {
        let dense = [(1, 0.9), (2, 0.8), (3, 0.7)];
        let lexical = [(3, 12.0), (4, 11.0), (1, 3.0)];
        let f = fuse(&dense, &lexical, 60.0, 1.0, Mode::Hybrid);
        let ids: Vec<u32> = f.iter().map(|x| x.id).collect();
        assert_eq!(ids, [1, 3, 2, 4]);
        assert_eq!(f[0].dense, Some(0.9));
        assert_eq!(f[0].lexical, Some(3.0));
        assert_eq!(f[3].dense, None);
    }

    #[test]
    fn single_mode_keeps_only_its_ranking_but_reports_both_scores() {
        let dense = [(1, 0.9), (2, 0.8)];
        let lexical = [(2, 5.0), (3, 4.0)];
        let f = fuse(&dense, &lexical, 60.0, 1.0, Mode::Dense);
        assert_eq!(f.iter().map(|x| x.id).collect::<Vec<_>>(), [1, 2]);
        assert_eq!(f[1].lexical, Some(5.0));
        let f = fuse(&dense, &lexical, 60.0, 1.0, Mode::Lexical);
        assert_eq!(f.iter().map(|x| x.id).collect::<Vec<_>>(), [2, 3]);
    }

    #[test]
    fn gate_combines_dense_and_lexical_evidence() {
        let g = Gate { dense: 0.6, dense_with_lexical: 0.3, coverage: 0.5 };
        assert!(g.passes(0.61, 0.0));
        assert!(g.passes(0.31, 0.5));
        assert!(!g.passes(0.29, 1.0));
        assert!(!g.passes(0.5, 0.4));
        assert!(Gate::OPEN.passes(-1.0, 0.0));
    }

    #[test]
    fn select_drops_repeats_of_any_earlier_item_and_full_pages() {
        let v = [
            ("a.html#x", "one"),
            ("a.html#x", "two"),   // the section again
            ("b.html#y", "two"),   // the text of the dropped chunk above: dropped too
            ("a.html#z", "three"), //
            ("a.html#w", "four"),  // a.html's third
            ("a.html#v", "five"),  // a.html is full
            ("c.html", "six"),
            ("d.html", "seven"), // past k
        ];
        let kept = select(v, 4, 3, |p| (p.0, p.1));
        assert_eq!(
            kept.iter().map(|p| p.0).collect::<Vec<_>>(),
            ["a.html#x", "a.html#z", "a.html#w", "c.html"]
        );
        assert_eq!(select(v, 10, 0, |p| (p.0, p.1)).len(), 6, "no page limit: only repeats dropped");
    }

    #[test]
    fn per_page_limit_ignores_anchors() {
        let v = vec!["a.html#x", "a.html#y", "b.html", "a.html", "b.html#z"];
        assert_eq!(limit_per_page(v, 2, |s| s), ["a.html#x", "a.html#y", "b.html", "b.html#z"]);
    }
}
