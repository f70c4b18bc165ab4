//! `docent gaps FILE.jsonl`: the questions `<docent-ask report="URL">` reported as not covered,
//! grouped by missing term and, with `--index DIR`, by the section each question came nearest to
//! (its best hit in that index), as Markdown or JSON. The grouping is the core's
//! (`docent::gaps`); this file reads the file and searches.

use std::io::Write;
use std::path::Path;

use docent::gaps::{self, Limits, Section};
use docent::retrieve::RetrieveOptions;
use docent::{Error, Result};

use crate::load::{load_index, read_file};

pub struct GapsArgs<'a> {
    pub file: &'a Path,
    pub index: Option<&'a Path>,
    pub json: bool,
    pub top: usize,
    pub examples: usize,
    pub model_dir: Option<&'a Path>,
}

pub fn cmd_gaps(a: &GapsArgs) -> Result<()> {
    if a.top == 0 {
        return Err(Error::invalid("top", "expected at least 1, found 0"));
    }
    if a.examples == 0 {
        return Err(Error::invalid("examples", "expected at least 1, found 0"));
    }
    let what = a.file.display().to_string();
    let bytes = read_file(a.file)?;
    let text = String::from_utf8(bytes).map_err(|e| {
        Error::format(
            &what,
            format!("not UTF-8 text (byte {} is not valid UTF-8)", e.utf8_error().valid_up_to()),
        )
    })?;
    let reports = gaps::parse_reports(&text, &what)?;
    let nearest = match a.index {
        Some(dir) => Some(nearest_sections(dir, a.model_dir, &reports)?),
        None => None,
    };
    let grouped = gaps::group(&reports, nearest.as_deref(), Limits { top: a.top, examples: a.examples })?;
    if a.json {
        outln!("{}", serde_json::to_string_pretty(&grouped).unwrap_or_default());
    } else {
        let md = grouped.markdown();
        outln!("{}", md.trim_end());
    }
    Ok(())
}

/// Each report's nearest section: the best hit of its question in the index at `dir` (searched
/// with the index's own options, the gate's verdict aside), each distinct question once.
fn nearest_sections(
    dir: &Path,
    model_dir: Option<&Path>,
    reports: &[gaps::GapReport],
) -> Result<Vec<Option<Section>>> {
    let engine = load_index(dir, model_dir)?;
    let opts: RetrieveOptions = engine.options().retrieve.clone();
    let mut seen: std::collections::HashMap<&str, Option<Section>> = std::collections::HashMap::new();
    let mut out = Vec::with_capacity(reports.len());
    for r in reports {
        if let Some(s) = seen.get(r.question.as_str()) {
            out.push(s.clone());
            continue;
        }
        let result = engine.search_with(&r.question, 1, &opts)?;
        let s = result.hits.first().map(|h| Section {
            url: h.url.clone(),
            title: if h.heading.is_empty() { h.title.clone() } else { h.heading.clone() },
        });
        seen.insert(&r.question, s.clone());
        out.push(s);
    }
    Ok(out)
}
