//! `docent eval`: reads the questions file, has the core measure retrieval
//! ([`docent::eval::evaluate`]) and calibrate the gate, and prints the numbers.

use std::io::Write;
use std::path::Path;

use docent::eval::{self, Question};
use docent::{Error, Result};

use crate::load::{load_index, read_queries};

pub fn cmd_eval(
    dir: &Path,
    questions: &Path,
    k: usize,
    json: bool,
    calibrate: Option<f64>,
    flag: Option<&Path>,
) -> Result<()> {
    let engine = load_index(dir, flag)?;
    let lines = read_queries(questions)?;
    if lines.is_empty() {
        return Err(Error::invalid("questions", format!("{} has no questions", questions.display())));
    }
    let mut qs = Vec::with_capacity(lines.len());
    for (i, line) in lines.into_iter().enumerate() {
        let Some(relevant) = line.relevant else {
            return Err(Error::format(
                format!("{}:{}", questions.display(), i + 1),
                "missing field \"relevant\" (a list of urls or url prefixes; [] for unanswerable)",
            ));
        };
        qs.push(Question { q: line.q, relevant });
    }
    let r = eval::evaluate(&engine, &qs, k)?;
    let (k, n_ans, n_unans) = (r.k, r.answerable, r.unanswerable);
    let (kept, flagged) = (r.kept_fraction(), r.flagged_fraction());
    if json {
        outln!(
            "{}",
            serde_json::json!({"questions": r.questions, "answerable": n_ans, "unanswerable": n_unans, "k": k,
                "modes": r.modes, "gate": {"answerable_kept": kept, "unanswerable_flagged": flagged}})
        );
    } else {
        outln!(
            "{} questions ({n_ans} answerable, {n_unans} unanswerable), embedder {}",
            r.questions,
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
        for m in &r.modes {
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
            "gate: {}/{n_ans} answerable kept ({:.1}%), {}/{n_unans} unanswerable flagged ({:.1}%)",
            r.gate_kept,
            kept * 100.0,
            r.gate_flagged,
            flagged * 100.0
        );
    }
    if let Some(keep) = calibrate {
        let best = eval::calibrate_gate(&r.evidence, keep)?;
        outln!(
            "calibrated gate: dense {:.2}, dense_with_lexical {:.2}, coverage {:.2} → answerable kept {:.1}%, unanswerable flagged {:.1}%",
            best.gate.dense, best.gate.dense_with_lexical, best.gate.coverage, best.kept * 100.0, best.flagged * 100.0
        );
    }
    Ok(())
}
