//! `docent eval`: reads the questions file, has the core measure retrieval
//! ([`docent::eval::evaluate`]) and calibrate the gate, and prints the numbers.

use std::io::Write;
use std::path::Path;

use docent::eval::{self, Question};
use docent::{Error, Result};

use docent::fragments::block_on;
use docent::retrieve::{Gate, Mode, RetrieveOptions};

use crate::load::{load_index, model_dir, read_queries, word_list, Site};
use docent::gate::dictionary_words;

#[allow(clippy::too_many_arguments)]
pub fn cmd_eval(
    dir: &Path,
    questions: &Path,
    k: usize,
    json: bool,
    calibrate: Option<f64>,
    flag: Option<&Path>,
    fragments: bool,
    refit: bool,
    words: Option<&Path>,
    misses: bool,
) -> Result<()> {
    if refit && fragments {
        return Err(Error::invalid(
            "refit",
            "re-fitting the gate needs the whole index; leave out --fragments",
        ));
    }
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
        // A follow-up is searched in its conversation, as `ask` does. Earlier questions given as
        // strings are asked first, so each turn carries the sources it was given (as a reader's
        // conversation keeps them); turns given as objects are taken as they are.
        let at = format!("{}:{}", questions.display(), i + 1);
        let raw = line.history.unwrap_or_default();
        let cite = raw.iter().any(|v| v.is_string());
        if cite && !raw.iter().all(|v| v.is_string()) {
            return Err(Error::format(
                at,
                "field \"history\": expected every turn as a question (string) or every turn as an object {\"question\", \"answer\", \"sources\"}",
            ));
        }
        let history = raw
            .into_iter()
            .enumerate()
            .map(|(j, v)| match v {
                serde_json::Value::String(question) => {
                    Ok(docent::conversation::Turn { question, ..Default::default() })
                }
                v => crate::load::turn_of(&format!("{at}: history turn {}", j + 1), v),
            })
            .collect::<Result<Vec<_>>>()?;
        docent::conversation::check_history(&history, &at)?;
        qs.push(Question { q: line.q, relevant, history, cite });
    }
    let (r, embedder, site_gate) = if fragments {
        // Through the fragments, as a browser reads the folder (lexical without a vector).
        let site = Site::open(dir, flag, true)?;
        // A follow-up in its conversation, as the lean module searches it (the vector embeds
        // the query the conversation forms).
        let r = eval::evaluate_with(&qs, k, |q, k, mode| {
            let opts = RetrieveOptions { mode, ..site.index.table().retrieve.clone() };
            let formed = docent::conversation::retrieval_query(&q.q, &q.history);
            let v = if mode == Mode::Lexical { None } else { site.vector(&formed)? };
            block_on(site.index.search_conversation(&site.src, &q.q, &q.history, k, v.as_deref(), &opts))
        })?;
        eprintln!("docent: {}", site.fetched());
        (r, site.index.embedder().clone(), site.index.site_gate().cloned())
    } else {
        let mut engine = load_index(dir, flag)?;
        if refit {
            let list = word_list(words, model_dir(flag).ok().as_deref())?;
            engine.calibrate_gate_with(&list.as_deref().map(dictionary_words).unwrap_or_default())?;
        }
        (eval::evaluate(&engine, &qs, k)?, engine.embedder_info().clone(), engine.site_gate().cloned())
    };
    let fixed = Gate::for_embedder(embedder.kind);
    let (fixed_kept, fixed_flagged) = eval::fixed_gate_counts(&r.evidence, &fixed);
    let pct = |a: usize, b: usize| a as f64 * 100.0 / b.max(1) as f64;
    let (k, n_ans, n_unans) = (r.k, r.answerable, r.unanswerable);
    let (kept, flagged) = (r.kept_fraction(), r.flagged_fraction());
    if json {
        outln!(
            "{}",
            serde_json::json!({"questions": r.questions, "answerable": n_ans, "unanswerable": n_unans, "k": k,
                "modes": r.modes, "gate": {"answerable_kept": kept, "unanswerable_flagged": flagged,
                    "calibrated": site_gate.is_some()},
                "fixed_gate": {"answerable_kept": fixed_kept as f64 / n_ans.max(1) as f64,
                    "unanswerable_flagged": fixed_flagged as f64 / n_unans.max(1) as f64},
                "calibration": site_gate.as_ref().map(|g| g.calibration)})
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
        let which = if site_gate.is_some() {
            "the site's gate: the missing-term rule, then the fixed thresholds"
        } else {
            "the fixed gate: no calibrated gate in this index"
        };
        outln!("      ({which})");
        outln!(
            "fixed per-embedder gate on the same searches: {fixed_kept}/{n_ans} answerable kept ({:.1}%), {fixed_flagged}/{n_unans} unanswerable flagged ({:.1}%)",
            pct(fixed_kept, n_ans),
            pct(fixed_flagged, n_unans)
        );
        if let Some(g) = &site_gate {
            let (mut mk, mut mf) = (0, 0);
            for ((e, answerable), (_, missing)) in r.evidence.iter().zip(&r.verdicts) {
                let check = docent::gate::TermCheck { missing: missing.clone(), ..Default::default() };
                let pass = g.model_passes(e, true) && !g.verdict(e, &check, true).missing_rule;
                mk += usize::from(*answerable && pass);
                mf += usize::from(!*answerable && !pass);
            }
            outln!(
                "fitted model alone (with the missing-term rule; not in force): {mk}/{n_ans} answerable kept ({:.1}%), {mf}/{n_unans} unanswerable flagged ({:.1}%)",
                pct(mk, n_ans),
                pct(mf, n_unans)
            );
            let c = &g.calibration;
            let h = &c.held_out;
            outln!(
                "calibration at index time: {} queries from the corpus ({} answerable, {} near-miss, {} mixed, {} off-topic), fitted on {}",
                c.queries, c.answerable, c.near_miss, c.mixed, c.off_topic, c.train
            );
            outln!(
                "  held out (fitted model): {}/{} answerable kept ({:.1}%), {}/{} unanswerable flagged ({:.1}%); lexical-only {:.1}% / {:.1}%",
                h.kept,
                h.answerable,
                pct(h.kept, h.answerable),
                h.flagged,
                h.unanswerable,
                pct(h.flagged, h.unanswerable),
                pct(h.lexical_kept, h.answerable),
                pct(h.lexical_flagged, h.unanswerable)
            );
        }
    }
    if misses {
        for ((q, (e, _)), (verdict, missing)) in qs.iter().zip(&r.evidence).zip(&r.verdicts) {
            let answerable = !q.relevant.is_empty();
            if *verdict != answerable {
                outln!(
                    "{} {:?}: dense {:.3} gap {:.3} coverage {:.2} top {:.2} present {:.2} lexical {:.2} fused {:.2}{}",
                    if answerable { "refused" } else { "let through" },
                    q.q,
                    e.dense,
                    e.dense_gap,
                    e.coverage,
                    e.top_coverage,
                    e.present,
                    e.lexical,
                    e.fused,
                    if missing.is_empty() { String::new() } else { format!(" missing {}", missing.join(", ")) }
                );
            }
        }
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
