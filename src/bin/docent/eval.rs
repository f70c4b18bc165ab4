//! `docent eval`: recall, MRR and the relevance gate's accuracy on a questions file, and the
//! gate calibration.

use std::io::Write;
use std::path::Path;

use docent::retrieve::{Gate, Mode, RetrieveOptions};
use docent::{Error, Result};
use serde::Serialize;

use crate::load::{load_index, read_queries};

#[derive(Default, Serialize, Clone)]
pub struct Metrics {
    mode: String,
    recall_at_1: f64,
    recall_at_5: f64,
    recall_at_k: f64,
    mrr_at_10: f64,
    answerable: usize,
}

pub fn is_relevant(url: &str, relevant: &[String]) -> bool {
    relevant.iter().any(|r| url.starts_with(r.as_str()))
}

pub fn cmd_eval(
    dir: &Path,
    questions: &Path,
    k: usize,
    json: bool,
    calibrate: Option<f64>,
    flag: Option<&Path>,
) -> Result<()> {
    let engine = load_index(dir, flag)?;
    let qs = read_queries(questions)?;
    if qs.is_empty() {
        return Err(Error::invalid("questions", format!("{} has no questions", questions.display())));
    }
    for (i, q) in qs.iter().enumerate() {
        if q.relevant.is_none() {
            return Err(Error::format(
                format!("{}:{}", questions.display(), i + 1),
                "missing field \"relevant\" (a list of urls or url prefixes; [] for unanswerable)",
            ));
        }
    }
    let k = k.max(5);
    let mut all = Vec::new();
    let mut evidence = Vec::new();
    let mut gate_kept = 0usize;
    let mut gate_flagged = 0usize;
    let (n_ans, n_unans) = {
        let a = qs.iter().filter(|q| !q.relevant.as_deref().unwrap_or_default().is_empty()).count();
        (a, qs.len() - a)
    };
    for mode in [Mode::Lexical, Mode::Dense, Mode::Hybrid] {
        let opts = RetrieveOptions { mode, ..engine.options().retrieve.clone() };
        let mut m = Metrics { mode: format!("{mode:?}").to_lowercase(), ..Default::default() };
        for q in &qs {
            let relevant = q.relevant.as_deref().unwrap_or_default();
            let r = engine.search_with(&q.q, k, &opts)?;
            if mode == Mode::Hybrid {
                evidence.push((r.evidence, !relevant.is_empty()));
                if relevant.is_empty() {
                    gate_flagged += usize::from(!r.answerable);
                } else {
                    gate_kept += usize::from(r.answerable);
                }
            }
            if relevant.is_empty() {
                continue;
            }
            m.answerable += 1;
            let first = r.hits.iter().position(|h| is_relevant(&h.url, relevant));
            if let Some(p) = first {
                m.recall_at_1 += f64::from(p < 1);
                m.recall_at_5 += f64::from(p < 5);
                m.recall_at_k += f64::from(p < k);
                if p < 10 {
                    m.mrr_at_10 += 1.0 / (p as f64 + 1.0);
                }
            }
        }
        let n = m.answerable.max(1) as f64;
        m.recall_at_1 /= n;
        m.recall_at_5 /= n;
        m.recall_at_k /= n;
        m.mrr_at_10 /= n;
        all.push(m);
    }
    let kept = gate_kept as f64 / n_ans.max(1) as f64;
    let flagged = gate_flagged as f64 / n_unans.max(1) as f64;
    if json {
        outln!(
            "{}",
            serde_json::json!({"questions": qs.len(), "answerable": n_ans, "unanswerable": n_unans, "k": k,
                "modes": all, "gate": {"answerable_kept": kept, "unanswerable_flagged": flagged}})
        );
    } else {
        outln!(
            "{} questions ({n_ans} answerable, {n_unans} unanswerable), embedder {}",
            qs.len(),
            engine.embedder_info()
        );
        outln!(
            "{:<8} {:>9} {:>9} {:>9} {:>8}",
            "mode",
            "recall@1",
            "recall@5",
            format!("recall@{k}"),
            "MRR@10"
        );
        for m in &all {
            outln!(
                "{:<8} {:>9.3} {:>9.3} {:>9.3} {:>8.3}",
                m.mode,
                m.recall_at_1,
                m.recall_at_5,
                m.recall_at_k,
                m.mrr_at_10
            );
        }
        outln!(
            "gate: {gate_kept}/{n_ans} answerable kept ({:.1}%), {gate_flagged}/{n_unans} unanswerable flagged ({:.1}%)",
            kept * 100.0,
            flagged * 100.0
        );
    }
    if let Some(keep) = calibrate {
        if !(0.0..=1.0).contains(&keep) {
            return Err(Error::invalid("keep", format!("expected a fraction in 0..=1, found {keep}")));
        }
        let best = calibrate_gate(&evidence, keep);
        outln!(
            "calibrated gate: dense {:.2}, dense_with_lexical {:.2}, coverage {:.2} → answerable kept {:.1}%, unanswerable flagged {:.1}%",
            best.0.dense, best.0.dense_with_lexical, best.0.coverage, best.1 * 100.0, best.2 * 100.0
        );
    }
    Ok(())
}

/// Grid search for the gate that flags the most unanswerable questions while keeping at least
/// `keep` of the answerable ones; ties go to the gate that keeps more answerable ones, then the loosest.
pub fn calibrate_gate(evidence: &[(docent::engine::Evidence, bool)], keep: f64) -> (Gate, f64, f64) {
    let n_ans = evidence.iter().filter(|e| e.1).count().max(1) as f64;
    let n_un = evidence.iter().filter(|e| !e.1).count().max(1) as f64;
    let mut best = (Gate::OPEN, 1.0, 0.0);
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
                if kept >= keep && (flagged > best.2 || (flagged == best.2 && kept > best.1)) {
                    best = (g, kept, flagged);
                }
            }
        }
    }
    best
}
