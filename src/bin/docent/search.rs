//! `docent search`: the best chunks for a query, as text or JSON lines.

use std::io::Write;
use std::path::Path;

use docent::engine::SearchResult;
use docent::prompt::not_mentioned;
use docent::retrieve::{Mode, RetrieveOptions};
use docent::{Error, Result};
use serde::Serialize;

use docent::fragments::block_on;

use crate::load::{load_index, read_queries, Site};

pub fn one_line(s: &str, max: usize) -> String {
    let s: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if s.chars().count() <= max {
        s
    } else {
        format!("{}…", s.chars().take(max).collect::<String>())
    }
}

pub fn print_result(r: &SearchResult) {
    outln!(
        "answerable: {} (best dense similarity {:.3}, lexical coverage {:.2})",
        if r.answerable { "yes" } else { "no" },
        r.evidence.dense,
        r.evidence.coverage
    );
    if !r.missing.is_empty() {
        outln!("not in the documents: {}", r.missing.join(", "));
        let named: Vec<String> =
            r.missing.iter().filter(|m| docent::gate::looks_like_a_name(m)).cloned().collect();
        if !r.answerable && !named.is_empty() {
            outln!("{}", not_mentioned(&named));
        }
    }
    for (i, h) in r.hits.iter().enumerate() {
        outln!("{:>2}. {:.4}  {}", i + 1, h.score, h.url);
        if !h.heading.is_empty() {
            outln!("    {}", h.heading);
        }
        outln!("    {}", one_line(&h.text, 160));
    }
}

#[derive(Serialize)]
pub struct JsonHit<'a> {
    url: &'a str,
    title: &'a str,
    heading: &'a str,
    score: f32,
    text: &'a str,
    dense: Option<f32>,
    lexical: Option<f32>,
}

#[derive(Serialize)]
pub struct JsonResult<'a> {
    q: &'a str,
    answerable: bool,
    /// Salient query terms the documents never mention (left out when there are none).
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    missing: &'a [String],
    hits: Vec<JsonHit<'a>>,
}

pub fn json_result<'a>(q: &'a str, r: &'a SearchResult) -> String {
    let j = JsonResult {
        q,
        answerable: r.answerable,
        missing: &r.missing,
        hits: r
            .hits
            .iter()
            .map(|h| JsonHit {
                url: &h.url,
                title: &h.title,
                heading: &h.heading,
                score: h.score,
                text: &h.text,
                dense: h.dense,
                lexical: h.lexical,
            })
            .collect(),
    };
    serde_json::to_string(&j).unwrap_or_default()
}

#[allow(clippy::too_many_arguments)]
pub fn cmd_search(
    dir: &Path,
    query: Option<&str>,
    queries: Option<&Path>,
    k: usize,
    json: bool,
    mode: &str,
    flag: Option<&Path>,
    fragments: bool,
) -> Result<()> {
    let mode = Mode::from_name(mode)?;
    if fragments {
        return search_fragments(dir, query, queries, k, json, mode, flag);
    }
    let engine = load_index(dir, flag)?;
    let opts = RetrieveOptions { mode, ..engine.options().retrieve.clone() };
    print_searches(query, queries, json, |q| engine.search_with(q, k, &opts))
}

/// Prints the result of `query` (a table, or one JSON line with `--json`), or one JSON line per
/// question of the `--queries` file, each searched with `search`.
fn print_searches(
    query: Option<&str>,
    queries: Option<&Path>,
    json: bool,
    search: impl Fn(&str) -> Result<SearchResult>,
) -> Result<()> {
    match (query, queries) {
        (Some(q), None) => {
            let r = search(q)?;
            if json {
                outln!("{}", json_result(q, &r));
            } else {
                print_result(&r);
            }
        }
        (None, Some(path)) => {
            let mut out = std::io::stdout().lock();
            for q in read_queries(path)? {
                let r = search(&q.q)?;
                writeln!(out, "{}", json_result(&q.q, &r)).map_err(|e| Error::io("stdout", e))?;
            }
        }
        _ => {
            return Err(Error::invalid(
                "arguments",
                "give either a QUERY or --queries FILE, not both or neither",
            ))
        }
    }
    Ok(())
}

/// `docent search --fragments`: the same results, read as a browser reads the folder (the
/// manifest, then the fragments each query needs); what was fetched goes to stderr.
fn search_fragments(
    dir: &Path,
    query: Option<&str>,
    queries: Option<&Path>,
    k: usize,
    json: bool,
    mode: Mode,
    flag: Option<&Path>,
) -> Result<()> {
    let site = Site::open(dir, flag, mode != Mode::Lexical)?;
    let opts = RetrieveOptions { mode, ..site.index.table().retrieve.clone() };
    let search = |q: &str| -> Result<SearchResult> {
        let v = site.vector(q)?;
        block_on(site.index.search(&site.src, q, k, v.as_deref(), &opts))
    };
    print_searches(query, queries, json, search)?;
    eprintln!("docent: {}", site.fetched());
    Ok(())
}
