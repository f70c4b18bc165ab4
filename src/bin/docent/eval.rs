//! `docent eval`: reads the questions file, has the core measure retrieval
//! ([`docent::eval::evaluate`]) and calibrate the gate, and prints the numbers.

use std::io::Write;
use std::path::Path;

use docent::eval::{self, Question};
use docent::{Error, Result};

use docent::fragments::block_on;
use docent::retrieve::{Mode, RetrieveOptions};

use crate::load::{load_index, read_queries, Site};

pub fn cmd_eval(
    dir: &Path,
    questions: &Path,
    k: usize,
    json: bool,
    calibrate: Option<f64>,
    flag: Option<&Path>,
    fragments: bool,
) -> Result<()> {
    let lines = read_queries(questions)?;
    if lines.is_empty() {
        return Err(Error::invalid("questions", format!("{} has no questions", questions.display())));
    }
    let mut qs = Vec::with_capacity(lines.len());
    for (i, line) in lines.into_iter().enumerate() {
        let Some(relevant) = line.relevant else {
            return Err(Error::format(
                format!("{}:{}", questions.display(), i + 1),
                "missing field \"relevant\" (a list of page#anchor urls or pages; [] for unanswerable)",
            ));
        };
        qs.push(Question { q: line.q, relevant });
    }
    let (r, embedder) = if fragments {
        // Through the fragments, as a browser reads the folder (lexical without a vector).
        let site = Site::open(dir, flag, true)?;
        let r = eval::evaluate_with(&qs, k, |q, k, mode| {
            let opts = RetrieveOptions { mode, ..site.index.table().retrieve.clone() };
            let v = if mode == Mode::Lexical { None } else { site.vector(q)? };
            block_on(site.index.search(&site.src, q, k, v.as_deref(), &opts))
        })?;
        eprintln!("docent: {}", site.fetched());
        (r, site.index.embedder().clone())
    } else {
        let engine = load_index(dir, flag)?;
        (eval::evaluate(&engine, &qs, k)?, engine.embedder_info().clone())
    };
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
            embedder
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
