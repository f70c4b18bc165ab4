//! Fitting the site's gate on its calibration queries: a class-balanced logistic regression by
//! full-batch gradient descent (deterministic, no randomness), a threshold that keeps
//! [`KEEP`] of the answerable training queries, and the held-out figures.

use serde::{Deserialize, Serialize};

use super::queries::Kind;
use super::{hybrid_signals, lexical_signals, CommonWords, Model, SiteGate, TermCheck, GATE_VERSION};
use crate::engine::Evidence;
use crate::retrieve::Gate;

/// Share of the answerable training queries the threshold keeps: all of them (1.0), so the
/// threshold is the lowest probability of a training pseudo-question. Pseudo-questions share
/// far more words with their chunk than a reader's question does (their coverage is 1 for most),
/// so a threshold that drops the lowest 3% of them drops many more real ones: on the development
/// questions (Cargo book, Sphinx, git; 85 answerable, 32 unanswerable) keeping 97% kept 61 of the
/// 85 and flagged 30 of the 32, keeping all kept 78 and flagged 28.
pub const KEEP: f64 = 1.0;

/// Every `HOLD_OUT`-th calibration query (the third, sixth…) is held out of the fit and only
/// measured.
pub const HOLD_OUT: usize = 3;

/// Gradient steps of the fit.
const STEPS: usize = 1500;

/// Step size of the fit, on standardised signals.
const RATE: f64 = 0.5;

/// L2 penalty on the weights (not the intercept): keeps them finite when the training queries
/// separate perfectly.
const L2: f64 = 0.1;

/// The fewest answerable and unanswerable training queries a fit needs; with fewer the site
/// keeps the fixed gate.
const MIN_ANSWERABLE: usize = 12;
const MIN_UNANSWERABLE: usize = 8;

/// One calibration query after its search: what it is, the evidence, the missing terms.
#[derive(Debug, Clone, PartialEq)]
pub struct CalibrationQuery {
    /// What the query is.
    pub kind: Kind,
    /// Its evidence (hybrid search).
    pub evidence: Evidence,
    /// Its evidence without the query vector (lexical-only search).
    pub lexical_evidence: Evidence,
    /// Its salient terms checked against the corpus (those it lacks).
    pub check: TermCheck,
}

/// How the fitted gate does on the held-out calibration queries.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeldOut {
    /// Held-out answerable pseudo-questions.
    pub answerable: usize,
    /// Of them, kept by the hybrid gate.
    pub kept: usize,
    /// Held-out near-miss and off-topic queries.
    pub unanswerable: usize,
    /// Of them, flagged by the hybrid gate.
    pub flagged: usize,
    /// Answerable ones kept by the lexical-only gate.
    pub lexical_kept: usize,
    /// Unanswerable ones flagged by the lexical-only gate.
    pub lexical_flagged: usize,
}

/// What the calibration saw.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Calibration {
    /// Calibration queries in all.
    pub queries: usize,
    /// Of them, answerable pseudo-questions.
    pub answerable: usize,
    /// Near-miss queries.
    pub near_miss: usize,
    /// Off-topic queries.
    pub off_topic: usize,
    /// Mixed queries (words of two distant pseudo-questions).
    #[serde(default)]
    pub mixed: usize,
    /// Queries the model was fitted on (the rest is held out).
    pub train: usize,
    /// The held-out figures.
    pub held_out: HeldOut,
}

/// Fits the site gate on `queries` (every [`HOLD_OUT`]-th held out), beside the embedder's
/// `fixed` gate and lexical-only coverage threshold, keeping `common` (the common words the
/// terms were checked with). `None` when there are too few training queries of either class (a
/// tiny site keeps the fixed gate).
pub fn calibrate(
    queries: &[CalibrationQuery],
    fixed: Gate,
    fixed_lexical: f32,
    common: Option<CommonWords>,
) -> Option<SiteGate> {
    let (train, held): (Vec<(usize, &CalibrationQuery)>, Vec<(usize, &CalibrationQuery)>) =
        queries.iter().enumerate().partition(|(i, _)| i % HOLD_OUT != HOLD_OUT - 1);
    let train: Vec<&CalibrationQuery> = train.into_iter().map(|p| p.1).collect();
    let n_pos = train.iter().filter(|q| answerable(q)).count();
    if n_pos < MIN_ANSWERABLE || train.len() - n_pos < MIN_UNANSWERABLE {
        return None;
    }
    // The missing-term rule's exception: above the dense match of 98% of the training queries
    // that lack a term.
    let mut lacking: Vec<f32> = train
        .iter()
        .filter(|q| !answerable(q) && !q.check.missing.is_empty())
        .map(|q| q.evidence.dense)
        .collect();
    lacking.sort_by(f32::total_cmp);
    let strong_dense = match lacking.len() {
        0 => 1.01,
        n => (lacking[((n as f64 * 0.98) as usize).min(n - 1)] + 0.01).min(1.01),
    };
    let hybrid = fit_model(
        &train,
        |q| hybrid_signals(&q.evidence).to_vec(),
        |q| q.check.missing.is_empty() || q.evidence.dense >= strong_dense,
    );
    let lexical =
        fit_model(&train, |q| lexical_signals(&q.lexical_evidence).to_vec(), |q| q.check.missing.is_empty());
    let mut gate = SiteGate {
        version: GATE_VERSION,
        hybrid,
        lexical,
        strong_dense,
        fixed,
        fixed_lexical,
        common,
        joint: None,
        calibration: Calibration {
            queries: queries.len(),
            answerable: queries.iter().filter(|q| answerable(q)).count(),
            near_miss: queries.iter().filter(|q| q.kind == Kind::NearMiss).count(),
            off_topic: queries.iter().filter(|q| q.kind == Kind::OffTopic).count(),
            mixed: queries.iter().filter(|q| q.kind == Kind::Mixed).count(),
            train: train.len(),
            held_out: HeldOut::default(),
        },
    };
    let mut h = HeldOut::default();
    for (_, q) in held {
        // The model's own figures (with the missing-term rule), what the calibration measures.
        let hybrid =
            gate.model_passes(&q.evidence, true) && !gate.verdict(&q.evidence, &q.check, true).missing_rule;
        let lexical = gate.model_passes(&q.lexical_evidence, false) && q.check.missing.is_empty();
        if answerable(q) {
            h.answerable += 1;
            h.kept += usize::from(hybrid);
            h.lexical_kept += usize::from(lexical);
        } else {
            h.unanswerable += 1;
            h.flagged += usize::from(!hybrid);
            h.lexical_flagged += usize::from(!lexical);
        }
    }
    gate.calibration.held_out = h;
    Some(gate)
}

fn answerable(q: &CalibrationQuery) -> bool {
    matches!(q.kind, Kind::Answerable(_))
}

/// The logistic model of `signals` over `train`, with the threshold keeping [`KEEP`] of the
/// answerable queries that `reaches` (those the missing-term rule lets through).
fn fit_model(
    train: &[&CalibrationQuery],
    signals: impl Fn(&CalibrationQuery) -> Vec<f32>,
    reaches: impl Fn(&CalibrationQuery) -> bool,
) -> Model {
    let x: Vec<Vec<f32>> = train.iter().map(|q| signals(q)).collect();
    let y: Vec<bool> = train.iter().map(|q| answerable(q)).collect();
    let mut model = logistic(&x, &y);
    let mut p: Vec<f32> = train
        .iter()
        .zip(&x)
        .filter(|(q, _)| answerable(q) && reaches(q))
        .map(|(_, x)| model.probability(x))
        .collect();
    p.sort_by(f32::total_cmp);
    model.threshold = threshold_keeping(&p, KEEP);
    model
}

/// The largest threshold that keeps at least `keep` of `sorted` (ascending probabilities of the
/// answerable queries): the value at position ⌊n·(1 − keep)⌋. 0 (keep everything) for no queries.
pub(crate) fn threshold_keeping(sorted: &[f32], keep: f64) -> f32 {
    if sorted.is_empty() {
        return 0.0;
    }
    let drop = ((sorted.len() as f64) * (1.0 - keep)).floor() as usize;
    sorted[drop.min(sorted.len() - 1)]
}

/// A class-balanced logistic regression of `y` on `x` (rows of equal length): signals
/// standardised (mean 0, standard deviation 1, at least 1e-3), each class weighing half, L2
/// penalty [`L2`], [`STEPS`] steps of gradient descent from zero. The threshold is left at 0.5.
pub(crate) fn logistic(x: &[Vec<f32>], y: &[bool]) -> Model {
    let d = x.first().map_or(0, Vec::len);
    let n = x.len().max(1) as f64;
    let mean: Vec<f64> = (0..d).map(|j| x.iter().map(|r| f64::from(r[j])).sum::<f64>() / n).collect();
    let scale: Vec<f64> = (0..d)
        .map(|j| {
            let v = x.iter().map(|r| (f64::from(r[j]) - mean[j]).powi(2)).sum::<f64>() / n;
            v.sqrt().max(1e-3)
        })
        .collect();
    let z: Vec<Vec<f64>> =
        x.iter().map(|r| (0..d).map(|j| (f64::from(r[j]) - mean[j]) / scale[j]).collect()).collect();
    let pos = y.iter().filter(|&&b| b).count().max(1) as f64;
    let neg = y.iter().filter(|&&b| !b).count().max(1) as f64;
    let weight = |b: bool| if b { 0.5 / pos } else { 0.5 / neg };
    let mut w = vec![0f64; d];
    let mut b = 0f64;
    for _ in 0..STEPS {
        let mut gw = vec![0f64; d];
        let mut gb = 0f64;
        for (r, &t) in z.iter().zip(y) {
            let s = b + r.iter().zip(&w).map(|(a, c)| a * c).sum::<f64>();
            let p = 1.0 / (1.0 + (-s).exp());
            let err = (p - f64::from(u8::from(t))) * weight(t);
            for j in 0..d {
                gw[j] += err * r[j];
            }
            gb += err;
        }
        for j in 0..d {
            w[j] -= RATE * (gw[j] + L2 * w[j]);
        }
        b -= RATE * gb;
    }
    Model {
        mean: mean.iter().map(|&v| v as f32).collect(),
        scale: scale.iter().map(|&v| v as f32).collect(),
        weights: w.iter().map(|&v| v as f32).collect(),
        bias: b as f32,
        threshold: 0.5,
    }
}
