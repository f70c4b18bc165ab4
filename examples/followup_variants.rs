//! Ways of combining a follow-up's searches, measured on follow-up pairs: hybrid recall@1 and
//! recall@5 of each against the MiniLM indexes `./build.sh eval` writes, and the share the gate
//! keeps. `bench/results/followups.md` reports the chosen one (`Docent::search_conversation`);
//! this compares it with the alternatives `docs/design.md` ("Follow-up questions") names. Each
//! earlier turn carries the urls of its first 5 hits (none when the gate flagged it), as
//! `docent eval` cites a history. Use the tuning pairs (`bench/eval/followups.jsonl`), not the
//! held-out ones.
//!
//! Usage: `cargo run --example followup_variants -- [PAIRS.jsonl] [--index DIR] [--models DIR]`
//! (defaults: the tuning pairs, `target/eval/index`, `models`).
//!
//! Variants (all fuse by reciprocal rank with k = 60, at most 3 hits per page, as the engine):
//! `in-context` the engine's search; `formed` the formed query alone; `formed+own` the formed
//! query and the follow-up's own hits anywhere (weight w) and on the topic's pages;
//! `formed+own×boost` the formed query and the own hits anywhere, hits on the topic's pages
//! scaled by 1 + b; `formed+own∩formed` the formed query, the own hits on the topic's pages and
//! the formed query's hits the own words also find; `topic×w` the own hits on the topic's pages
//! weighted w; `topic-lexical` those hits from a lexical search of the own words (as the
//! fragments search them); `topic-top10` only the own words' first 10 hits; `present-terms` the
//! formed query without the topic's terms the corpus lacks, searched and embedded.
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::Arc;

use docent::conversation::{judged_query, retrieval_query, Turn};
use docent::embed::Embedder;
use docent::engine::{Hit, SearchResult};
use docent::eval::is_relevant;
use docent::gate::Vocabulary;
use docent::retrieve::{Mode, RetrieveOptions};
use docent::Docent;

#[path = "support/cached.rs"]
mod cached;
use cached::Cached;

/// The corpus's terms, told by a lexical search of each (df up to 2,000 chunks).
struct Searched<'a>(&'a Docent, RetrieveOptions);

impl Vocabulary for Searched<'_> {
    fn live_docs(&self) -> u32 {
        self.0.stats().chunks as u32
    }

    fn df(&self, term: &str) -> u32 {
        self.0.search_with(term, 1000, &self.1).map_or(0, |r| r.hits.len() as u32)
    }
}

fn page(u: &str) -> &str {
    u.split('#').next().unwrap_or_default()
}

/// One list to fuse: its hits (best first), its weight, and the pages it is limited to.
type List<'a> = (&'a [Hit], f32, Option<&'a [String]>);

/// Weighted reciprocal rank fusion (k = 60) of `lists`, hits on `boost.0` scaled by
/// `1 + boost.1`, at most 3 per page; urls best first.
fn fuse(lists: &[List], boost: Option<(&[String], f32)>) -> Vec<String> {
    let mut score: HashMap<u32, (f32, String)> = HashMap::new();
    for (hits, w, only) in lists {
        let kept = hits.iter().filter(|h| only.is_none_or(|p| p.iter().any(|x| x == page(&h.url))));
        for (r, h) in kept.enumerate() {
            score.entry(h.chunk).or_insert((0.0, h.url.clone())).0 += w / (60.0 + r as f32 + 1.0);
        }
    }
    if let Some((pages, b)) = boost {
        for (s, u) in score.values_mut() {
            if pages.iter().any(|x| x == page(u)) {
                *s *= 1.0 + b;
            }
        }
    }
    let mut v: Vec<(u32, f32, String)> = score.into_iter().map(|(id, (s, u))| (id, s, u)).collect();
    v.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    let mut per: HashMap<String, usize> = HashMap::new();
    v.into_iter()
        .filter(|(_, _, u)| {
            let c = per.entry(page(u).to_string()).or_default();
            *c += 1;
            *c <= 3
        })
        .map(|v| v.2)
        .collect()
}

fn urls(r: &SearchResult) -> Vec<String> {
    r.hits.iter().map(|h| h.url.clone()).collect()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let opt = |name: &str| args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned();
    let pairs = args.first().filter(|a| !a.starts_with("--")).cloned();
    let pairs = pairs.unwrap_or_else(|| "bench/eval/followups.jsonl".into());
    let index = PathBuf::from(opt("--index").unwrap_or_else(|| "target/eval/index".into()));
    let models = PathBuf::from(opt("--models").unwrap_or_else(|| "models".into()));
    let minilm: Arc<dyn Embedder> = Arc::new(docent::embed::minilm::MiniLm::load(&models)?);
    let emb: Arc<dyn Embedder> = Arc::new(Cached::new(minilm));
    let mut engines: HashMap<String, Docent> = HashMap::new();
    let opts = RetrieveOptions::default();
    let lexical = RetrieveOptions { mode: Mode::Lexical, ..opts.clone() };
    // Per variant: pairs with a relevant hit first, among the first 5, and kept by the gate.
    let mut totals: BTreeMap<String, [usize; 3]> = BTreeMap::new();
    let mut n = 0;
    for line in std::fs::read_to_string(&pairs)?.lines().filter(|l| !l.trim().is_empty()) {
        let v: serde_json::Value = serde_json::from_str(line)?;
        let text =
            |k: &str| v[k].as_str().map(str::to_string).ok_or(format!("{pairs}: no \"{k}\" in {line}"));
        let site = text("site")?;
        if !engines.contains_key(&site) {
            let bytes = std::fs::read(index.join(&site).join("index.bin"))?;
            engines.insert(site.clone(), Docent::from_bytes(&bytes, emb.clone(), &site)?);
        }
        let e = &engines[&site];
        let (q, full) = (text("q")?, text("full")?);
        let strings = |k: &str| -> Vec<String> {
            v[k].as_array().into_iter().flatten().filter_map(|x| x.as_str().map(str::to_string)).collect()
        };
        let relevant = strings("relevant");
        let mut turns: Vec<Turn> = Vec::new();
        for question in strings("history") {
            let r = e.search_conversation(&question, &turns, 5, &opts)?;
            let sources = if r.answerable { urls(&r) } else { Vec::new() };
            turns.push(Turn { question, answer: String::new(), sources });
        }
        let mut pages: Vec<String> = Vec::new();
        for s in turns.iter().flat_map(|t| &t.sources) {
            if !pages.iter().any(|p| p == page(s)) {
                pages.push(page(s).to_string());
            }
        }
        let formed = e.search_with(&retrieval_query(&q, &turns), 50, &opts)?;
        let present = e.search_with(&judged_query(&q, &turns, &Searched(e, lexical.clone())), 50, &opts)?;
        let own = e.search_with(&q, 50, &opts)?;
        let own_lexical = e.search_with(&q, 50, &lexical)?;
        let in_formed: Vec<Hit> =
            formed.hits.iter().filter(|h| own.hits.iter().any(|o| o.chunk == h.chunk)).cloned().collect();
        let top10 = &own.hits[..own.hits.len().min(10)];
        let p = Some(pages.as_slice());
        let kept = formed.answerable;
        let in_context = e.search_conversation(&q, &turns, 10, &opts)?;
        let full_r = e.search_with(&full, 10, &opts)?;
        let mut got: Vec<(String, Vec<String>, bool)> = vec![
            ("full".into(), urls(&full_r), full_r.answerable),
            ("bare".into(), urls(&own), own.answerable),
            ("in-context".into(), urls(&in_context), in_context.answerable),
            ("formed".into(), urls(&formed), kept),
            (
                "present-terms".into(),
                fuse(&[(&present.hits, 1.0, None), (&own.hits, 1.0, p)], None),
                present.answerable,
            ),
            (
                "topic-lexical".into(),
                fuse(&[(&formed.hits, 1.0, None), (&own_lexical.hits, 1.0, p)], None),
                kept,
            ),
            ("topic-top10".into(), fuse(&[(&formed.hits, 1.0, None), (top10, 1.0, p)], None), kept),
            (
                "formed+own∩formed".into(),
                fuse(&[(&formed.hits, 1.0, None), (&own.hits, 1.0, p), (&in_formed, 1.0, None)], None),
                kept,
            ),
        ];
        for w in [0.3f32, 0.5, 1.0] {
            let own_too = fuse(&[(&formed.hits, 1.0, None), (&own.hits, w, None), (&own.hits, 1.0, p)], None);
            got.push((format!("formed+own w={w}"), own_too, kept));
            got.push((
                format!("topic×{w}"),
                fuse(&[(&formed.hits, 1.0, None), (&own.hits, w, p)], None),
                kept,
            ));
        }
        for b in [0.3f32, 0.6] {
            let boosted = fuse(&[(&formed.hits, 1.0, None), (&own.hits, 1.0, None)], Some((&pages, b)));
            got.push((format!("formed+own×{}", 1.0 + b), boosted, kept));
        }
        n += 1;
        for (name, hits, answerable) in got {
            let rank = hits.iter().take(5).position(|u| is_relevant(u, &relevant));
            let t = totals.entry(name).or_default();
            t[0] += usize::from(rank == Some(0));
            t[1] += usize::from(rank.is_some());
            t[2] += usize::from(answerable);
        }
    }
    println!("{pairs}: {n} pairs, hybrid");
    println!("{:20} {:>9} {:>9} {:>6}", "variant", "recall@1", "recall@5", "kept");
    for (name, t) in &totals {
        let f = |x: usize| x as f64 / n.max(1) as f64;
        println!("{name:20} {:>9.3} {:>9.3} {:>6.3}", f(t[0]), f(t[1]), f(t[2]));
    }
    Ok(())
}
