//! Choosing a question's hits before reading their text (ranged layout).
//!
//! [`crate::retrieve::select`] drops a hit that repeats the section or text of any hit before
//! it, or whose page is full. It compares [`Marks`], which need the hit's record. On the ranged
//! layout most candidates come with a place ([`Place`]) whose [`Keys`] name the same section,
//! page and text by chunk ids, so [`plan`] decides them before any text is read: a question reads
//! the records of the hits it shows, in one stage, instead of twice as many records and another
//! round whenever a long section or a shared text crowded the first ones.
//!
//! Where two candidates cannot be compared (one known only by its place, the other only by its
//! record, or either by nothing yet), the later one is kept provisionally and both are read; the
//! plan is redone with what was read until no comparison is uncertain. It then gives exactly
//! what `select` gives with every record at hand.

use std::collections::BTreeSet;

use super::read::SiteIndex;
use super::text::{pack_of, Keys, Place};
use super::FragmentSource;
use crate::retrieve::{select, Fused, Marks, RetrieveOptions};
use crate::{Error, Result};

/// What the reader knows of a candidate: its record's marks, its place's keys, or both.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Known {
    pub marks: Option<Marks>,
    pub keys: Option<Keys>,
}

impl Known {
    /// Chunk `id`'s knowledge from its record (`url`, `text`) and its place, when there are.
    pub fn of(id: u32, record: Option<(&str, &str)>, place: Option<&Place>) -> Known {
        Known { marks: record.map(|(u, t)| Marks::of(u, t)), keys: place.and_then(|p| p.keys(id)) }
    }

    /// Whether `self` and `other` share a section, a text and a page (`None`: unknown, when one
    /// has only keys and the other only marks).
    fn shared(&self, other: &Known) -> Option<[bool; 3]> {
        if let (Some(a), Some(b)) = (self.keys, other.keys) {
            return Some([a.section == b.section, a.text == b.text, a.page == b.page]);
        }
        if let (Some(a), Some(b)) = (self.marks, other.marks) {
            return Some([a.section == b.section, a.text == b.text, a.page == b.page]);
        }
        None
    }
}

/// A plan: the candidates kept and those whose records must be read before it is certain.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct Plan {
    /// Indexes into the candidates, best first, at most `k`.
    pub kept: Vec<usize>,
    /// Candidates without their marks that a kept one is, or that an uncertain comparison
    /// involved; empty when the plan is certain.
    pub read: Vec<usize>,
}

/// The candidates `select` keeps, at most `k`, as far as `known` (best first) tells. A
/// candidate is dropped when that is certain: it repeats the section or text of one before it,
/// or `max_per_page` kept ones share its page (`0`: no limit). Otherwise it is kept, also when a
/// comparison was uncertain; then it and the ones it could not be compared with are to be read.
pub(super) fn plan(known: &[Known], k: usize, max_per_page: usize) -> Plan {
    let mut plan = Plan::default();
    let mut unsure: Vec<usize> = Vec::new();
    for (i, c) in known.iter().enumerate() {
        if plan.kept.len() >= k {
            break;
        }
        unsure.clear();
        let mut repeats = false;
        for (j, before) in known[..i].iter().enumerate() {
            match c.shared(before) {
                Some([section, text, _]) => repeats |= section || text,
                None => unsure.push(j),
            }
        }
        if repeats {
            continue;
        }
        let mut on_page = 0;
        for &j in &plan.kept {
            match c.shared(&known[j]) {
                Some([_, _, page]) => on_page += usize::from(page),
                None => unsure.push(j),
            }
        }
        if max_per_page > 0 && on_page >= max_per_page {
            continue;
        }
        plan.kept.push(i);
        plan.read.extend(unsure.iter().copied().chain([i]).filter(|&j| known[j].marks.is_none()));
    }
    plan.read.sort_unstable();
    plan.read.dedup();
    plan
}

/// How [`SiteIndex::hits_of`] chooses its hits and reads their text, per text layout.
impl SiteIndex {
    /// [`SiteIndex::hits_of`] with whole packs: [`select`] decides each candidate by the ones
    /// before it only, so selecting from a prefix of `fused` gives a prefix of the result. The
    /// packs of the first 1.5·k are read (a few are usually dropped: neighbouring chunks of one
    /// section), with any later candidate among the first 2k whose pack comes anyway, and more
    /// only when too few are kept.
    pub(super) async fn choose_whole<S: FragmentSource>(
        &self,
        src: &S,
        fused: &[Fused],
        k: usize,
        opts: &RetrieveOptions,
    ) -> Result<Vec<Fused>> {
        let mut upto = (k + k / 2).min(fused.len());
        loop {
            let mut packs: BTreeSet<usize> =
                fused[..upto].iter().map(|f| pack_of(&self.table.text, f.id)).collect();
            packs.extend(self.packs.borrow().iter().copied());
            let free = fused[upto..]
                .iter()
                .take(k)
                .take_while(|f| packs.contains(&pack_of(&self.table.text, f.id)))
                .count();
            upto += free;
            self.load_text(src, fused[..upto].iter().map(|f| f.id)).await?;
            let text = self.text.borrow();
            let kept = select(fused[..upto].iter().copied(), k, opts.max_per_page, |f| {
                let r = &text[&f.id];
                (r.url.as_str(), r.text.as_str())
            });
            if kept.len() >= k || upto == fused.len() {
                return Ok(kept);
            }
            // Too few kept: the hits crowd into a few pages or sections (a heading match ties
            // every chunk under it). At least double what is read, so such a list costs a few
            // rounds, not one per missing hit.
            upto = (upto + 2 * (k - kept.len())).max(2 * upto).min(fused.len());
        }
    }

    /// [`SiteIndex::hits_of`] with ranged packs, which read only the records asked for: the
    /// places' keys decide most candidates before any text ([`plan`]), so the records
    /// of the hits shown are read in one stage; what the keys cannot decide (candidates without
    /// a place) is read too, and the plan redone with those records until it is certain.
    pub(super) async fn choose_ranged<S: FragmentSource>(
        &self,
        src: &S,
        fused: &[Fused],
        k: usize,
        opts: &RetrieveOptions,
    ) -> Result<Vec<Fused>> {
        loop {
            let (kept, missing) = {
                let text = self.text.borrow();
                let places = self.places.borrow();
                let known: Vec<Known> = fused
                    .iter()
                    .map(|f| {
                        let record = text.get(&f.id).map(|r| (r.url.as_str(), r.text.as_str()));
                        Known::of(f.id, record, places.get(&f.id))
                    })
                    .collect();
                let chosen = plan(&known, k, opts.max_per_page);
                let kept: Vec<Fused> = chosen.kept.iter().map(|&i| fused[i]).collect();
                // A candidate without a place costs two stages (its entry, then its record), and
                // may turn out to repeat another: for each one read, read one candidate more
                // now rather than two stages later.
                let unplaced = chosen.read.iter().filter(|&&i| known[i].keys.is_none()).count();
                let read = match unplaced {
                    0 => chosen.read,
                    n => plan(&known, k + n, opts.max_per_page).read,
                };
                let missing: Vec<u32> = read.iter().map(|&i| fused[i].id).collect();
                (kept, missing)
            };
            if missing.is_empty() {
                return Ok(kept);
            }
            self.load_text(src, missing.iter().copied()).await?;
            // Every round reads at least one record more, so this ends; a source that gave
            // fewer records than asked would not.
            if let Some(id) = missing.iter().find(|id| !self.text.borrow().contains_key(id)) {
                return Err(Error::format("txt fragment", format!("the record of chunk {id} was not read")));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small xorshift, so the cases are the same on every run.
    struct Rng(u64);
    impl Rng {
        fn below(&mut self, n: u64) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0 % n
        }
    }

    /// Planning with partial knowledge, reading what the plan asks for and planning again, ends
    /// with exactly `select`'s choice over the full records, whoever had a place.
    #[test]
    fn planning_until_certain_gives_what_select_gives() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        for case in 0..2000 {
            // Chunks of a few pages, sections and texts, ids in page order as an index has them.
            let n = 1 + rng.below(40) as usize;
            let mut chunks: Vec<(String, String)> = Vec::new();
            for _ in 0..n {
                let page = rng.below(5);
                let section = rng.below(3);
                let text = rng.below(12);
                chunks.push((format!("p{page}.html#s{section}"), format!("text {text}")));
            }
            chunks.sort_by(|a, b| a.0.split('#').next().cmp(&b.0.split('#').next()));
            // Each chunk's place keys: the first chunk with the same section, page and text.
            let first = |f: &dyn Fn(&(String, String)) -> String, id: usize| {
                chunks.iter().position(|c| f(c) == f(&chunks[id])).unwrap() as u32
            };
            let keys: Vec<Keys> = (0..n)
                .map(|id| Keys {
                    section: first(&|c| c.0.clone(), id),
                    page: first(&|c| c.0.split('#').next().unwrap().to_string(), id),
                    text: first(&|c| c.1.clone(), id),
                })
                .collect();
            let placed: Vec<bool> = (0..n).map(|_| rng.below(4) != 0).collect();
            // The candidates: some chunks in a random order.
            let mut order: Vec<usize> = (0..n).collect();
            for i in (1..n).rev() {
                order.swap(i, rng.below(i as u64 + 1) as usize);
            }
            order.truncate(1 + rng.below(n as u64) as usize);
            let k = 1 + rng.below(6) as usize;
            let max = rng.below(4) as usize;
            let expected =
                select(order.iter().copied(), k, max, |&id| (chunks[id].0.as_str(), chunks[id].1.as_str()));
            let mut read = vec![false; n];
            let mut rounds = 0;
            let got = loop {
                let known: Vec<Known> = order
                    .iter()
                    .map(|&id| Known {
                        marks: read[id].then(|| Marks::of(&chunks[id].0, &chunks[id].1)),
                        keys: placed[id].then_some(keys[id]),
                    })
                    .collect();
                let p = plan(&known, k, max);
                let kept: Vec<usize> = p.kept.iter().map(|&i| order[i]).collect();
                let missing: Vec<usize> = p.read.iter().map(|&i| order[i]).collect();
                if missing.is_empty() {
                    break kept;
                }
                missing.iter().for_each(|&id| read[id] = true);
                rounds += 1;
                assert!(rounds <= n, "case {case}: no end");
            };
            assert_eq!(got, expected, "case {case}");
            // With every candidate placed, one round of reading settles it.
            if order.iter().all(|&id| placed[id]) {
                assert!(rounds <= 1, "case {case}: {rounds} rounds with every place known");
            }
        }
    }
}
