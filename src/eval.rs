//! Retrieval evaluation: how often the answering page comes first (recall@k, MRR@10) over
//! questions whose answers are known, how well the relevance gate tells covered questions from
//! uncovered ones, and the search for gate thresholds on a development set (calibration).
//!
//! Owns: the definition of each number (`docent eval` prints them; tests and benchmarks assert
//! them) and the calibration grid. Must not: read files (the CLI reads the questions file and
//! hands over [`Question`]s), or print.
//!
//! A hit is relevant when its `url#anchor` is one of the question's relevant `page#anchor`s
//! exactly, or lies on one of its relevant pages: `guide.html` accepts every section of that page,
//! `guide.html#install` only that section or API entry (not `#install-linux`: a citation counts
//! only when it lands on the exact place).
//!
//! Design: `docs/design.md`, "Decisions and their reasons" (the gate).

use serde::Serialize;

use crate::conversation::Turn;
use crate::engine::{Docent, Evidence};
use crate::retrieve::{Gate, Mode, RetrieveOptions};
use crate::{Error, Result};

/// One evaluation question.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Question {
    /// The question as a reader would type it.
    pub q: String,
    /// `page#anchor`s or pages of the passages that answer it; empty for a question the documents
    /// do not cover (the gate should flag it).
    pub relevant: Vec<String>,
    /// The earlier turns when `q` is a follow-up (oldest first; empty for a question asked on
    /// its own): [`evaluate`] searches it in its conversation
    /// ([`Docent::search_conversation`]).
    pub history: Vec<Turn>,
    /// Whether the earlier turns are asked first, as a reader asked them: each turn then carries
    /// the sources the same search gave it in its own conversation ([`cite_history`]), as the
    /// widget's turns carry the sources of their answers. False: the turns are searched with as
    /// given (without sources, the engine searches the topic question for its pages).
    pub cite: bool,
}

/// Sources a prompt shows by default (`PromptOptions::k`): what an earlier turn asked by
/// [`cite_history`] carries.
pub const CITED: usize = 5;

/// The earlier turns of `q` as a reader's conversation would have kept them: each turn asked in
/// its own conversation (the turns before it, already cited) with `search` in `mode`, carrying
/// the urls of its first [`CITED`] hits, or none when the gate flagged it (a "not covered" answer
/// shows no sources). The system's own citations, never the question's relevant urls. Turns that
/// carry sources already keep them.
pub fn cite_history(
    q: &Question,
    mode: Mode,
    search: &mut impl FnMut(&Question, usize, Mode) -> Result<crate::engine::SearchResult>,
) -> Result<Vec<Turn>> {
    let mut turns: Vec<Turn> = Vec::with_capacity(q.history.len());
    for t in &q.history {
        let mut t = t.clone();
        if t.sources.is_empty() {
            let asked =
                Question { q: t.question.clone(), relevant: Vec::new(), history: turns.clone(), cite: false };
            let r = search(&asked, CITED, mode)?;
            if r.answerable {
                t.sources = r.hits.into_iter().map(|h| h.url).collect();
            }
        }
        turns.push(t);
    }
    Ok(turns)
}

/// Whether a hit's `url` (`page#anchor`) answers a question whose answers are `relevant`
/// (`page#anchor`s, matched exactly, or pages, matching any of their anchors; see the module docs).
pub fn is_relevant(url: &str, relevant: &[String]) -> bool {
    relevant.iter().any(|r| {
        url == r
            || (!r.contains('#') && url.strip_prefix(r.as_str()).is_some_and(|rest| rest.starts_with('#')))
    })
}

/// The retrieval quality of one mode over the answerable questions. Every rate is a fraction in
/// 0..=1 (0 when there are no answerable questions).
#[derive(Debug, Default, Clone, PartialEq, Serialize)]
pub struct Metrics {
    /// `lexical`, `dense` or `hybrid`.
    pub mode: String,
    /// Share of answerable questions whose first hit is relevant.
    pub recall_at_1: f64,
    /// Share with a relevant hit among the first 5.
    pub recall_at_5: f64,
    /// Share with a relevant hit among the first `k` (see [`Report::k`]).
    pub recall_at_k: f64,
    /// Mean over answerable questions of 1 / (rank of the first relevant hit), counting ranks
    /// from 1 and only the first 10 hits (a question without a relevant hit there adds 0).
    pub mrr_at_10: f64,
    /// Answerable questions counted (the denominator of every rate).
    pub answerable: usize,
}

impl Metrics {
    /// The metrics of `mode` from the 0-based position of the first relevant hit of each
    /// answerable question (`None`: no relevant hit among those retrieved), with `k` the cut-off
    /// of [`Metrics::recall_at_k`].
    pub fn from_ranks(mode: &str, ranks: &[Option<usize>], k: usize) -> Metrics {
        let mut m = Metrics { mode: mode.to_string(), answerable: ranks.len(), ..Metrics::default() };
        for p in ranks.iter().flatten().copied() {
            m.recall_at_1 += f64::from(p < 1);
            m.recall_at_5 += f64::from(p < 5);
            m.recall_at_k += f64::from(p < k);
            if p < 10 {
                m.mrr_at_10 += 1.0 / (p as f64 + 1.0);
            }
        }
        let n = m.answerable.max(1) as f64;
        m.recall_at_1 /= n;
        m.recall_at_5 /= n;
        m.recall_at_k /= n;
        m.mrr_at_10 /= n;
        m
    }
}

/// What [`evaluate`] measured.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// Questions evaluated.
    pub questions: usize,
    /// Of them, those with relevant urls.
    pub answerable: usize,
    /// Of them, those without (the documents do not cover them).
    pub unanswerable: usize,
    /// Hits retrieved per question: the `k` asked for, at least 5.
    pub k: usize,
    /// One entry per mode: lexical, dense, hybrid.
    pub modes: Vec<Metrics>,
    /// Answerable questions the gate (of hybrid search) let through.
    pub gate_kept: usize,
    /// Unanswerable questions the gate flagged as not covered.
    pub gate_flagged: usize,
    /// The gate's evidence for every question (hybrid search), with whether it is answerable:
    /// the input of [`calibrate_gate`].
    pub evidence: Vec<(Evidence, bool)>,
    /// The gate's verdict for every question (hybrid search), in question order, with the
    /// question's salient terms missing from the corpus.
    pub verdicts: Vec<(bool, Vec<String>)>,
}

impl Report {
    /// Share of answerable questions the gate kept, 0..=1 (0 without answerable questions).
    pub fn kept_fraction(&self) -> f64 {
        self.gate_kept as f64 / self.answerable.max(1) as f64
    }

    /// Share of unanswerable questions the gate flagged, 0..=1 (0 without unanswerable ones).
    pub fn flagged_fraction(&self) -> f64 {
        self.gate_flagged as f64 / self.unanswerable.max(1) as f64
    }
}

/// Searches every question (a follow-up in its conversation, [`Docent::search_conversation`])
/// with lexical, dense and hybrid retrieval (the engine's other retrieve options unchanged) for
/// `k.max(5)` hits, and measures them. Errors are the engine's (e.g. a `k` over 1000).
pub fn evaluate(engine: &Docent, questions: &[Question], k: usize) -> Result<Report> {
    evaluate_with(questions, k, |q, k, mode| {
        let opts = RetrieveOptions { mode, ..engine.options().retrieve.clone() };
        engine.search_conversation(&q.q, &q.history, k, &opts)
    })
}

/// [`evaluate`] over any search: `search(question, k, mode)` returns the hits of one mode (e.g.
/// the fragmented index's `SiteIndex`).
pub fn evaluate_with(
    questions: &[Question],
    k: usize,
    mut search: impl FnMut(&Question, usize, Mode) -> Result<crate::engine::SearchResult>,
) -> Result<Report> {
    let k = k.max(5);
    let answerable = questions.iter().filter(|q| !q.relevant.is_empty()).count();
    let mut report = Report {
        questions: questions.len(),
        answerable,
        unanswerable: questions.len() - answerable,
        k,
        modes: Vec::new(),
        gate_kept: 0,
        gate_flagged: 0,
        evidence: Vec::new(),
        verdicts: Vec::new(),
    };
    for mode in [Mode::Lexical, Mode::Dense, Mode::Hybrid] {
        let mut ranks = Vec::with_capacity(answerable);
        for q in questions {
            let r = if q.cite && !q.history.is_empty() {
                let history = cite_history(q, mode, &mut search)?;
                search(&Question { history, cite: false, ..q.clone() }, k, mode)?
            } else {
                search(q, k, mode)?
            };
            if mode == Mode::Hybrid {
                report.evidence.push((r.evidence, !q.relevant.is_empty()));
                report.verdicts.push((r.answerable, r.missing.clone()));
                if q.relevant.is_empty() {
                    report.gate_flagged += usize::from(!r.answerable);
                } else {
                    report.gate_kept += usize::from(r.answerable);
                }
            }
            if !q.relevant.is_empty() {
                ranks.push(r.hits.iter().position(|h| is_relevant(&h.url, &q.relevant)));
            }
        }
        report.modes.push(Metrics::from_ranks(&format!("{mode:?}").to_lowercase(), &ranks, k));
    }
    Ok(report)
}

/// How a fixed `gate` does on `evidence` ([`Report::evidence`]): answerable questions kept,
/// unanswerable ones flagged. Lets `docent eval` show the fixed per-embedder gate beside the
/// site's calibrated one on the same searches.
pub fn fixed_gate_counts(evidence: &[(Evidence, bool)], gate: &Gate) -> (usize, usize) {
    let kept = evidence.iter().filter(|e| e.1 && gate.passes(e.0.dense, e.0.coverage)).count();
    let flagged = evidence.iter().filter(|e| !e.1 && !gate.passes(e.0.dense, e.0.coverage)).count();
    (kept, flagged)
}

/// The gate [`calibrate_gate`] found, and how it does on the questions it was found on.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Calibration {
    /// The thresholds.
    pub gate: Gate,
    /// Share of answerable questions it keeps, 0..=1.
    pub kept: f64,
    /// Share of unanswerable questions it flags, 0..=1.
    pub flagged: f64,
}

/// Grid search for the gate that flags the most unanswerable questions while keeping at least
/// `keep` (a fraction in 0..=1) of the answerable ones; ties go to the gate that keeps more
/// answerable ones, then to the loosest. `evidence` is [`Report::evidence`]. The grid: `dense`
/// 0.2..=0.9 in steps of 0.02, `dense_with_lexical` 0..=0.9 in steps of 0.02 (never above
/// `dense`), `coverage` 0.3..=1 in steps of 0.05. When no gate of the grid keeps enough,
/// [`Gate::OPEN`] (keeps all, flags none). Use a development set: thresholds found on the test
/// questions overstate how well they generalise.
pub fn calibrate_gate(evidence: &[(Evidence, bool)], keep: f64) -> Result<Calibration> {
    if !(0.0..=1.0).contains(&keep) {
        return Err(Error::invalid("keep", format!("expected a fraction in 0..=1, found {keep}")));
    }
    let n_ans = evidence.iter().filter(|e| e.1).count().max(1) as f64;
    let n_un = evidence.iter().filter(|e| !e.1).count().max(1) as f64;
    let mut best = Calibration { gate: Gate::OPEN, kept: 1.0, flagged: 0.0 };
    let steps = |lo: f32, hi: f32, n: usize| (0..=n).map(move |i| lo + (hi - lo) * i as f32 / n as f32);
    for d in steps(0.2, 0.9, 35) {
        for dl in steps(0.0, 0.9, 45).filter(|&x| x <= d) {
            for c in steps(0.3, 1.0, 14) {
                let g = Gate { dense: d, dense_with_lexical: dl, coverage: c };
                let kept = evidence.iter().filter(|e| e.1 && g.passes(e.0.dense, e.0.coverage)).count()
                    as f64
                    / n_ans;
                let flagged = evidence.iter().filter(|e| !e.1 && !g.passes(e.0.dense, e.0.coverage)).count()
                    as f64
                    / n_un;
                if kept >= keep && (flagged > best.flagged || (flagged == best.flagged && kept > best.kept)) {
                    best = Calibration { gate: g, kept, flagged };
                }
            }
        }
    }
    Ok(best)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(dense: f32, coverage: f32, answerable: bool) -> (Evidence, bool) {
        (Evidence::of(dense, coverage), answerable)
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12
    }

    #[test]
    fn relevance_is_the_exact_anchor_or_any_anchor_of_a_page() {
        let rel = vec!["guide.html#install".to_string(), "faq.html".to_string()];
        assert!(is_relevant("guide.html#install", &rel));
        assert!(!is_relevant("guide.html#install-linux", &rel), "an anchor extending it is another place");
        assert!(is_relevant("faq.html#gas", &rel), "any section of a page named without anchor");
        assert!(is_relevant("faq.html", &rel), "the page itself");
        assert!(!is_relevant("faq.html.bak", &rel), "another file");
        assert!(!is_relevant("guide.html#usage", &rel));
        assert!(!is_relevant("docs/faq.html", &rel), "a prefix, not a substring");
        assert!(!is_relevant("guide.html", &[]), "nothing is relevant to an unanswerable question");
    }

    #[test]
    fn metrics_from_ranks() {
        // First relevant hit at ranks 1, 3, 8, 13 and none, with k = 10.
        let m = Metrics::from_ranks("hybrid", &[Some(0), Some(2), Some(7), Some(12), None], 10);
        assert_eq!(m.mode, "hybrid");
        assert_eq!(m.answerable, 5);
        assert!(close(m.recall_at_1, 0.2), "{m:?}");
        assert!(close(m.recall_at_5, 0.4), "{m:?}");
        assert!(close(m.recall_at_k, 0.6), "rank 13 is past k: {m:?}");
        assert!(close(m.mrr_at_10, (1.0 + 1.0 / 3.0 + 1.0 / 8.0) / 5.0), "rank 13 adds 0: {m:?}");
        // A larger k counts rank 13 in recall@k but still not in MRR@10.
        let m = Metrics::from_ranks("dense", &[Some(0), Some(2), Some(7), Some(12), None], 20);
        assert!(
            close(m.recall_at_k, 0.8) && close(m.mrr_at_10, (1.0 + 1.0 / 3.0 + 1.0 / 8.0) / 5.0),
            "{m:?}"
        );
        // No answerable question: zeros, not NaN.
        let m = Metrics::from_ranks("lexical", &[], 10);
        assert_eq!(
            (m.recall_at_1, m.recall_at_5, m.recall_at_k, m.mrr_at_10, m.answerable),
            (0.0, 0.0, 0.0, 0.0, 0)
        );
    }

    #[test]
    fn calibration_finds_the_loosest_gate_that_separates() {
        // Answerable questions have dense ≥ 0.6, unanswerable ones ≤ 0.41, no lexical evidence.
        let evidence = [
            ev(0.6, 0.0, true),
            ev(0.7, 0.0, true),
            ev(0.8, 0.0, true),
            ev(0.3, 0.0, false),
            ev(0.41, 0.0, false),
        ];
        let c = calibrate_gate(&evidence, 1.0).unwrap();
        assert_eq!((c.kept, c.flagged), (1.0, 1.0), "{c:?}");
        // The loosest dense threshold of the grid above 0.41 is 0.42.
        assert!((c.gate.dense - 0.42).abs() < 1e-6, "{c:?}");
    }

    #[test]
    fn calibration_keeps_the_share_it_is_asked_to() {
        // An unanswerable question (0.71) scores above an answerable one (0.5).
        let evidence = [ev(0.5, 0.0, true), ev(0.9, 0.0, true), ev(0.71, 0.0, false), ev(0.3, 0.0, false)];
        // Keeping every answerable question leaves the 0.71 one through.
        let all = calibrate_gate(&evidence, 1.0).unwrap();
        assert_eq!((all.kept, all.flagged), (1.0, 0.5), "{all:?}");
        assert!(all.gate.dense <= 0.5, "{all:?}");
        // Keeping half flags both, with the loosest dense threshold above 0.71 (0.72).
        let half = calibrate_gate(&evidence, 0.5).unwrap();
        assert_eq!((half.kept, half.flagged), (0.5, 1.0), "{half:?}");
        assert!((half.gate.dense - 0.72).abs() < 1e-6, "{half:?}");
        // Lexical evidence lets a low-dense answerable question through with dense_with_lexical.
        let evidence = [ev(0.25, 0.9, true), ev(0.8, 0.0, true), ev(0.3, 0.1, false), ev(0.5, 0.2, false)];
        let lex = calibrate_gate(&evidence, 1.0).unwrap();
        assert_eq!((lex.kept, lex.flagged), (1.0, 1.0), "{lex:?}");
        assert!(
            lex.gate.passes(0.25, 0.9) && !lex.gate.passes(0.5, 0.2) && !lex.gate.passes(0.3, 0.1),
            "{lex:?}"
        );
    }

    #[test]
    fn calibration_refuses_a_keep_outside_0_to_1() {
        for keep in [-0.1, 1.5, f64::NAN] {
            let e = calibrate_gate(&[], keep).unwrap_err().to_string();
            assert!(e.starts_with("invalid keep: expected a fraction in 0..=1, found "), "{e}");
        }
        // No evidence at all: the open gate.
        assert_eq!(calibrate_gate(&[], 0.95).unwrap().gate, Gate::OPEN);
    }

    #[test]
    fn evaluate_measures_every_mode_and_the_gate() {
        use crate::embed::hashing::Hashing;
        use crate::engine::Options;
        use crate::ingest::{self, Format, Ingested};
        use std::sync::Arc;

        let mut engine = Docent::new(Arc::new(Hashing::default()), Options::default()).unwrap();
        for (url, md) in [
            ("bikes.md", "# Bikes\n\n## Tyres\n\nPump the tyres to the pressure printed on the sidewall."),
            ("soup.md", "# Soup\n\n## Onions\n\nSlice the onions thinly and fry them slowly in butter."),
        ] {
            let Ingested::Document(d) = ingest::parse(url, url, md, Format::Markdown).unwrap() else {
                panic!("{url} was skipped")
            };
            engine.add_document(d).unwrap();
        }
        engine.build(&mut |_| {}).unwrap();
        let questions = [
            Question {
                q: "tyre pressure sidewall".into(),
                relevant: vec!["bikes.md#tyres".into()],
                history: vec![],
                cite: false,
            },
            Question {
                q: "fry onions in butter".into(),
                relevant: vec!["soup.md".into()],
                history: vec![],
                cite: false,
            },
            Question {
                q: "quantum chromodynamics lattice".into(),
                relevant: vec![],
                history: vec![],
                cite: false,
            },
        ];
        let r = evaluate(&engine, &questions, 3).unwrap();
        assert_eq!((r.questions, r.answerable, r.unanswerable, r.k), (3, 2, 1, 5), "k is at least 5");
        let modes: Vec<&str> = r.modes.iter().map(|m| m.mode.as_str()).collect();
        assert_eq!(modes, ["lexical", "dense", "hybrid"]);
        let lexical = &r.modes[0];
        assert_eq!(
            (lexical.recall_at_1, lexical.mrr_at_10, lexical.answerable),
            (1.0, 1.0, 2),
            "{lexical:?}"
        );
        assert_eq!(r.evidence.len(), 3);
        assert_eq!(r.evidence.iter().map(|e| e.1).collect::<Vec<_>>(), [true, true, false]);
        assert!(r.gate_kept <= 2 && r.gate_flagged <= 1);
        assert!(close(r.kept_fraction(), r.gate_kept as f64 / 2.0));
        assert!(close(r.flagged_fraction(), r.gate_flagged as f64));
    }
}
