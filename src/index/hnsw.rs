//! HNSW graph over the dense index's int8 rows (Malkov & Yashunin's hierarchical navigable small
//! world), written for docent's storage.
//!
//! Owns: building the graph (deterministic, in parallel batches with the `parallel` feature),
//! searching it, checking one read from a file. Must not: own the rows (the dense index passes
//! its contiguous codes and scales in), rescore in f32 or know what a chunk is.
//!
//! # Layout
//! The rows stay where the flat store keeps them: one `Vec<i8>` of `len × dim` codes and one
//! `Vec<f32>` of scales, so a node's vector is at a fixed offset, not behind its own allocation.
//! Layer 0 is one `Vec<u32>` of `len × 2m` neighbour ids (unused slots [`EMPTY`]): a node's
//! links are one contiguous slice found by multiplication. The upper layers hold about 1/m of the
//! nodes; they are kept in a sorted list of those nodes with one block of `level × m` links each,
//! found by binary search (the upper layers see a few dozen lookups per query). Bytes per node at
//! m = 16: `dim + 4` for the row, 128 for layer 0, about 4 for the upper layers.
//!
//! # Build
//! Nodes are inserted in row order with levels drawn from a seeded generator (`P(level ≥ l) =
//! m^-l`, integer arithmetic only, so every target draws the same levels). Insertion goes in
//! batches: each node of a batch searches the graph as it was before the batch (on rayon's
//! threads with the `parallel` feature, as natively; one after the other without it, as in
//! wasm), then the batch is linked in order, and each node also considers the earlier nodes of
//! its own batch as candidates (an exact comparison within the batch), so no link is lost to the
//! batching. The graph depends only on the rows and the options, never on the thread count:
//! native and wasm builds are byte-identical. Batches grow with the graph (1 node up to 256
//! nodes, then `len / 16` up to 64), so the small graph the first nodes see is built exactly as
//! the sequential algorithm would.
//!
//! Neighbour selection is "keep the most similar" by default, or the paper's heuristic (keep a
//! candidate only if it is closer to the node than to every neighbour kept so far) with
//! `heuristic`. While building, every link carries its similarity, so pruning a full neighbour
//! list without the heuristic compares no vectors.

use std::cell::RefCell;
use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;

use serde::{Deserialize, Serialize};

use super::rows::{QueryCodes, Rows};

/// An unused link slot.
pub const EMPTY: u32 = u32::MAX;
/// The highest level a node can get (at m = 2 a level above 15 has probability 2^-16 per node).
pub const MAX_LEVEL: u8 = 15;

/// How a graph is built; stored with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Params {
    /// Links per node on layers ≥ 1; layer 0 keeps `2m`. 2..=64.
    pub m: u32,
    /// Candidates kept while linking a node. ≥ 1.
    pub ef_construction: u32,
    /// The search's default candidate count. ≥ 1.
    pub ef_search: u32,
    /// Neighbour-selection heuristic on (see the module docs).
    pub heuristic: bool,
    /// Seed of the level draws.
    pub seed: u64,
}

/// A built graph (see the module docs for the layout).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Graph {
    /// What it was built with.
    pub params: Params,
    /// The node searches start from (the first node of the highest level); `EMPTY` when the
    /// graph has no node.
    entry: u32,
    /// The entry's level.
    top: u8,
    /// `len × 2m` links of layer 0.
    layer0: Vec<u32>,
    /// Nodes with a level ≥ 1, ascending.
    upper_nodes: Vec<u32>,
    /// Their levels (1..=MAX_LEVEL).
    upper_levels: Vec<u8>,
    /// Offset of each one's block in `upper` (`level × m` links: layer 1 first).
    upper_start: Vec<u32>,
    upper: Vec<u32>,
}

/// A candidate: similarity, then node id (lower id first among equal similarities, so every
/// heap order is total and every target makes the same choices).
#[derive(Clone, Copy, PartialEq)]
struct Near(f32, u32);

impl Eq for Near {}

impl Ord for Near {
    fn cmp(&self, o: &Self) -> Ordering {
        self.0.total_cmp(&o.0).then(o.1.cmp(&self.1))
    }
}

impl PartialOrd for Near {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}

/// Reused per thread: the visited marks (one epoch per node) and both heaps.
#[derive(Default)]
struct Scratch {
    visited: Vec<u32>,
    epoch: u32,
    candidates: BinaryHeap<Near>,
    results: BinaryHeap<Reverse<Near>>,
    /// Unvisited neighbours of the node being expanded.
    fresh: Vec<u32>,
}

impl Scratch {
    /// Starts a new visit over `n` nodes.
    fn begin(&mut self, n: usize) {
        if self.visited.len() < n {
            self.visited.resize(n, 0);
        }
        self.epoch = self.epoch.wrapping_add(1);
        if self.epoch == 0 {
            self.visited.iter_mut().for_each(|v| *v = 0);
            self.epoch = 1;
        }
        self.candidates.clear();
        self.results.clear();
    }

    /// Marks `i`; false when it was already marked in this visit.
    #[inline]
    fn visit(&mut self, i: u32) -> bool {
        let v = &mut self.visited[i as usize];
        if *v == self.epoch {
            false
        } else {
            *v = self.epoch;
            true
        }
    }
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

/// Read access to links, shared by the finished graph and the builder.
trait Links {
    fn links(&self, node: u32, layer: u8) -> &[u32];
}

impl Links for Graph {
    #[inline]
    fn links(&self, node: u32, layer: u8) -> &[u32] {
        let m = self.params.m as usize;
        if layer == 0 {
            let s = node as usize * 2 * m;
            return &self.layer0[s..s + 2 * m];
        }
        match self.upper_nodes.binary_search(&node) {
            Ok(i) if layer <= self.upper_levels[i] => {
                let s = self.upper_start[i] as usize + (layer as usize - 1) * m;
                &self.upper[s..s + m]
            }
            _ => &[],
        }
    }
}

/// Greedy walk on one layer from `at` towards the query: the most similar node reachable by
/// always moving to a better neighbour.
fn greedy<L: Links>(g: &L, sim: &impl Fn(u32) -> f32, mut at: Near, layer: u8) -> Near {
    loop {
        let mut moved = false;
        for &n in g.links(at.1, layer) {
            if n == EMPTY {
                break;
            }
            let c = Near(sim(n), n);
            if c > at {
                at = c;
                moved = true;
            }
        }
        if !moved {
            return at;
        }
    }
}

/// The `ef` nodes most similar to the query on `layer`, found from `entries` (best first).
fn search_layer<L: Links>(
    g: &L,
    n: usize,
    sim: &impl Fn(u32) -> f32,
    touch: &impl Fn(u32) -> u32,
    entries: &[Near],
    ef: usize,
    layer: u8,
) -> Vec<Near> {
    SCRATCH.with(|s| {
        let mut s = s.borrow_mut();
        let s = &mut *s;
        s.begin(n);
        for &e in entries {
            if s.visit(e.1) {
                s.candidates.push(e);
                s.results.push(Reverse(e));
                if s.results.len() > ef {
                    s.results.pop();
                }
            }
        }
        while let Some(c) = s.candidates.pop() {
            let worst = s.results.peek().map(|r| r.0);
            if let Some(w) = worst {
                if s.results.len() >= ef && c < w {
                    break;
                }
            }
            // The unvisited neighbours first, their rows touched before any is compared: the
            // touches are independent loads, so their cache misses overlap instead of each
            // dot product waiting for its own row (wasm has no prefetch instruction).
            s.fresh.clear();
            for &nb in g.links(c.1, layer) {
                if nb == EMPTY {
                    break;
                }
                if s.visit(nb) {
                    s.fresh.push(nb);
                }
            }
            let mut touched = 0u32;
            for &nb in &s.fresh {
                touched = touched.wrapping_add(touch(nb));
            }
            std::hint::black_box(touched);
            for i in 0..s.fresh.len() {
                let nb = s.fresh[i];
                let cand = Near(sim(nb), nb);
                let full = s.results.len() >= ef;
                if !full || cand > s.results.peek().expect("results not empty when full").0 {
                    s.candidates.push(cand);
                    s.results.push(Reverse(cand));
                    if s.results.len() > ef {
                        s.results.pop();
                    }
                }
            }
        }
        let mut out: Vec<Near> = s.results.drain().map(|r| r.0).collect();
        out.sort_unstable_by(|a, b| b.cmp(a));
        out
    })
}

impl Graph {
    /// The `ef` (at least 1) nodes the search finds most similar to the query, best first, with
    /// their int8 similarity.
    pub fn search(&self, rows: &Rows<'_>, q: &QueryCodes<'_>, ef: usize) -> Vec<(u32, f32)> {
        if self.entry == EMPTY {
            return Vec::new();
        }
        let sim = |i: u32| rows.sim_to(q, i);
        let mut at = Near(sim(self.entry), self.entry);
        for layer in (1..=self.top).rev() {
            at = greedy(self, &sim, at, layer);
        }
        search_layer(self, rows.len(), &sim, &|i| rows.touch(i), &[at], ef.max(1), 0)
            .into_iter()
            .map(|c| (c.1, c.0))
            .collect()
    }

    /// Bytes held by the links.
    pub fn memory_bytes(&self) -> usize {
        4 * (self.layer0.len() + self.upper.len() + self.upper_nodes.len() + self.upper_start.len())
            + self.upper_levels.len()
    }

    /// Number of nodes per level (index 0 = nodes whose top level is 0).
    pub fn level_counts(&self) -> Vec<usize> {
        let mut counts = vec![0usize; self.top as usize + 1];
        let n = self.layer0.len() / (2 * self.params.m as usize).max(1);
        counts[0] = n - self.upper_nodes.len();
        for &l in &self.upper_levels {
            if let Some(c) = counts.get_mut(l as usize) {
                *c += 1;
            }
        }
        counts
    }

    /// Checks a graph read from a file against `len` rows: sizes, every link a row id or
    /// [`EMPTY`], levels in range and consistent with the entry. Searching a graph that passed
    /// cannot index out of bounds.
    pub fn check(&self, len: usize) -> std::result::Result<(), String> {
        let p = &self.params;
        if !(2..=64).contains(&p.m) || p.ef_construction == 0 || p.ef_search == 0 {
            return Err(format!(
                "corrupted HNSW graph: m {}, ef_construction {}, ef_search {} (expected m in 2..=64 and both ef at least 1)",
                p.m, p.ef_construction, p.ef_search
            ));
        }
        let m = p.m as usize;
        if Some(self.layer0.len()) != len.checked_mul(2 * m) {
            return Err(format!(
                "corrupted HNSW graph: {} layer-0 links for {len} rows of 2·{m}",
                self.layer0.len()
            ));
        }
        let k = self.upper_nodes.len();
        if self.upper_levels.len() != k || self.upper_start.len() != k {
            return Err(format!(
                "corrupted HNSW graph: {k} upper nodes but {} levels and {} offsets",
                self.upper_levels.len(),
                self.upper_start.len()
            ));
        }
        let mut next = 0usize;
        for i in 0..k {
            if i > 0 && self.upper_nodes[i] <= self.upper_nodes[i - 1] {
                return Err("corrupted HNSW graph: upper nodes are not strictly ascending".into());
            }
            if self.upper_nodes[i] as usize >= len {
                return Err(format!(
                    "corrupted HNSW graph: upper node {} of {len} rows",
                    self.upper_nodes[i]
                ));
            }
            let l = self.upper_levels[i];
            if l == 0 || l > MAX_LEVEL || self.upper_start[i] as usize != next {
                return Err(format!(
                    "corrupted HNSW graph: upper node {} has level {l} and offset {} (expected level 1..={MAX_LEVEL}, offset {next})",
                    self.upper_nodes[i], self.upper_start[i]
                ));
            }
            next += l as usize * m;
        }
        if self.upper.len() != next {
            return Err(format!("corrupted HNSW graph: {} upper links, expected {next}", self.upper.len()));
        }
        if let Some(bad) = self.layer0.iter().chain(&self.upper).find(|&&v| v != EMPTY && v as usize >= len) {
            return Err(format!("corrupted HNSW graph: link to node {bad} of {len} rows"));
        }
        if len == 0 {
            if self.entry != EMPTY || self.top != 0 {
                return Err("corrupted HNSW graph: an empty graph with an entry point".into());
            }
            return Ok(());
        }
        if self.entry as usize >= len {
            return Err(format!("corrupted HNSW graph: entry {} of {len} rows", self.entry));
        }
        let entry_level = match self.upper_nodes.binary_search(&self.entry) {
            Ok(i) => self.upper_levels[i],
            Err(_) => 0,
        };
        let max = self.upper_levels.iter().copied().max().unwrap_or(0);
        if self.top != entry_level || self.top != max {
            return Err(format!(
                "corrupted HNSW graph: entry level {} but top {} and highest level {max}",
                entry_level, self.top
            ));
        }
        Ok(())
    }
}

/// Deterministic 64-bit generator (splitmix64) for the level draws (and the IVF training's
/// shuffle, `ivf.rs`).
pub(crate) struct SplitMix(pub(crate) u64);

impl SplitMix {
    pub(crate) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

/// Levels of `n` nodes: `P(level ≥ l) = m^-l`, drawn with integers only.
fn draw_levels(n: usize, m: u32, seed: u64) -> Vec<u8> {
    let mut rng = SplitMix(seed);
    (0..n)
        .map(|_| {
            let mut l = 0u8;
            while l < MAX_LEVEL && rng.next() % u64::from(m) == 0 {
                l += 1;
            }
            l
        })
        .collect()
}

/// How many nodes the batch starting at `inserted` nodes holds (see the module docs).
fn batch_size(inserted: usize) -> usize {
    if inserted < 256 {
        1
    } else {
        (inserted / 16).min(64)
    }
}

/// The graph while it is built: links with their similarities.
struct Building {
    m: usize,
    levels: Vec<u8>,
    /// Per node, per layer `0..=level`: (neighbour, similarity), most similar first.
    links0: Vec<u32>,
    sims0: Vec<f32>,
    /// Upper layers: per node with level ≥ 1, `level × m` slots.
    upper_start: Vec<u32>,
    upper: Vec<u32>,
    upper_sims: Vec<f32>,
    entry: u32,
    top: u8,
}

impl Links for Building {
    #[inline]
    fn links(&self, node: u32, layer: u8) -> &[u32] {
        let (s, cap) = self.slot(node, layer);
        if layer == 0 {
            &self.links0[s..s + cap]
        } else {
            &self.upper[s..s + cap]
        }
    }
}

impl Building {
    /// Start and capacity of the link slots of `node` on `layer` (which must be ≤ its level).
    #[inline]
    fn slot(&self, node: u32, layer: u8) -> (usize, usize) {
        if layer == 0 {
            (node as usize * 2 * self.m, 2 * self.m)
        } else {
            (self.upper_start[node as usize] as usize + (layer as usize - 1) * self.m, self.m)
        }
    }

    fn slots_mut(&mut self, node: u32, layer: u8) -> (&mut [u32], &mut [f32]) {
        let (s, cap) = self.slot(node, layer);
        if layer == 0 {
            (&mut self.links0[s..s + cap], &mut self.sims0[s..s + cap])
        } else {
            (&mut self.upper[s..s + cap], &mut self.upper_sims[s..s + cap])
        }
    }
}

/// What a node of a batch found in the graph as it was before the batch: per layer from its
/// level (or the graph's top, if lower) down to 0, the `ef_construction` nearest.
type Plan = Vec<Vec<Near>>;

/// Builds the graph over all `rows` (see the module docs).
pub fn build(rows: &Rows<'_>, params: Params) -> Graph {
    let n = rows.len();
    let m = params.m as usize;
    let levels = draw_levels(n, params.m, params.seed);
    let mut upper_start = vec![EMPTY; n];
    let mut total = 0usize;
    for (i, &l) in levels.iter().enumerate() {
        if l > 0 {
            upper_start[i] = total as u32;
            total += l as usize * m;
        }
    }
    let mut b = Building {
        m,
        links0: vec![EMPTY; n * 2 * m],
        sims0: vec![f32::NEG_INFINITY; n * 2 * m],
        upper_start,
        upper: vec![EMPTY; total],
        upper_sims: vec![f32::NEG_INFINITY; total],
        levels,
        entry: EMPTY,
        top: 0,
    };
    let mut inserted = 0usize;
    while inserted < n {
        let end = (inserted + batch_size(inserted)).min(n);
        // The graph's top and whether it had an entry as each node of the batch is linked (the
        // earlier nodes of the batch may raise the top).
        let mut tops = Vec::with_capacity(end - inserted);
        let (mut entry, mut top) = (b.entry != EMPTY, b.top);
        for node in inserted..end {
            tops.push(entry.then_some(top));
            let level = b.levels[node];
            if !entry || level > top {
                top = level;
            }
            entry = true;
        }
        let chosen = par_map(inserted..end, |node| {
            let plan = plan(&b, rows, node as u32, &params);
            choose(&b, rows, node as u32, inserted as u32, tops[node - inserted], plan, &params)
        });
        let mut updates = Vec::new();
        for (node, own) in (inserted..end).zip(chosen) {
            link(&mut b, node as u32, own, &mut updates);
        }
        apply_updates(&mut b, rows, updates, params.heuristic);
        inserted = end;
    }
    finish(b, params)
}

/// `f` over `items`, in order (on rayon's threads with the `parallel` feature).
fn par_map<T: Send>(items: std::ops::Range<usize>, f: impl Fn(usize) -> T + Sync + Send) -> Vec<T> {
    #[cfg(feature = "parallel")]
    {
        use rayon::prelude::*;
        if items.len() > 1 {
            return items.into_par_iter().map(f).collect();
        }
    }
    items.map(f).collect()
}

fn plan(b: &Building, rows: &Rows<'_>, node: u32, p: &Params) -> Plan {
    if b.entry == EMPTY {
        return Vec::new();
    }
    let level = b.levels[node as usize];
    let sim = |i: u32| rows.sim(node, i);
    let mut at = Near(sim(b.entry), b.entry);
    let mut layer = b.top;
    while layer > level {
        at = greedy(b, &sim, at, layer);
        layer -= 1;
    }
    let mut out = Vec::with_capacity(layer as usize + 1);
    let mut entries = vec![at];
    loop {
        let found = search_layer(
            b,
            rows.len(),
            &sim,
            &|i| rows.touch(i),
            &entries,
            p.ef_construction as usize,
            layer,
        );
        entries.clone_from(&found);
        out.push(found);
        if layer == 0 {
            break;
        }
        layer -= 1;
    }
    // Index by layer: out[l] is layer l.
    out.reverse();
    out
}

/// The links of `node` per layer (0 up to its level, or the graph's top `top` as it will be
/// when the node is linked, if lower; nothing for the first node of the graph): chosen from what
/// its plan found plus the nodes of its batch inserted before it (`batch_start..node`). Depends
/// only on the rows, the levels and the plan, so the nodes of a batch choose in parallel.
fn choose(
    b: &Building,
    rows: &Rows<'_>,
    node: u32,
    batch_start: u32,
    top: Option<u8>,
    plan: Plan,
    p: &Params,
) -> Vec<Vec<Near>> {
    let Some(top) = top else { return Vec::new() };
    let level = b.levels[node as usize];
    (0..=level.min(top))
        .map(|layer| {
            let mut cands: Vec<Near> = plan.get(layer as usize).cloned().unwrap_or_default();
            for other in batch_start..node {
                if b.levels[other as usize] >= layer {
                    cands.push(Near(rows.sim(node, other), other));
                }
            }
            cands.sort_unstable_by(|a, c| c.cmp(a));
            cands.dedup_by_key(|c| c.1);
            let cap = if layer == 0 { 2 * b.m } else { b.m };
            select(rows, &cands, cap, p.heuristic)
        })
        .collect()
}

/// A link to add: on `layer`, `new` into the list of `target`.
struct Update {
    layer: u8,
    target: u32,
    new: Near,
}

/// Writes the links `node` chose (per layer) into its slots, queues the reverse link from each
/// neighbour, and updates the entry point.
fn link(b: &mut Building, node: u32, own: Vec<Vec<Near>>, updates: &mut Vec<Update>) {
    let level = b.levels[node as usize];
    for (layer, chosen) in own.into_iter().enumerate() {
        let layer = layer as u8;
        {
            let (ids, sims) = b.slots_mut(node, layer);
            for (slot, c) in chosen.iter().enumerate() {
                ids[slot] = c.1;
                sims[slot] = c.0;
            }
        }
        updates.extend(chosen.iter().map(|c| Update { layer, target: c.1, new: Near(c.0, node) }));
    }
    if b.entry == EMPTY || level > b.top {
        b.entry = node;
        b.top = level;
    }
}

/// Adds the reverse links of a batch, pruning full lists. Each target's links take its updates
/// in the order of the nodes that sent them, exactly as linking the nodes one by one would; the
/// targets are independent, so their new lists are computed in parallel, then written.
///
/// Equal to the one-by-one order because a node's own links (written by [`link`] first) are
/// only ever the target of later nodes of its batch, and no choice reads another node's list.
fn apply_updates(b: &mut Building, rows: &Rows<'_>, mut updates: Vec<Update>, heuristic: bool) {
    // Stable: within a target, the order of the nodes is kept.
    updates.sort_by_key(|u| (u.layer, u.target));
    let mut groups = Vec::new();
    let mut start = 0;
    for i in 1..=updates.len() {
        if i == updates.len()
            || (updates[i].layer, updates[i].target) != (updates[start].layer, updates[start].target)
        {
            groups.push(start..i);
            start = i;
        }
    }
    let frozen = &*b;
    let lists = par_map(0..groups.len(), |g| {
        let us = &updates[groups[g].clone()];
        let (layer, target) = (us[0].layer, us[0].target);
        let mut ids = frozen.links(target, layer).to_vec();
        let (s, cap) = frozen.slot(target, layer);
        let mut sims = if layer == 0 {
            frozen.sims0[s..s + cap].to_vec()
        } else {
            frozen.upper_sims[s..s + cap].to_vec()
        };
        for u in us {
            add_link(rows, &mut ids, &mut sims, u.new, heuristic);
        }
        (layer, target, ids, sims)
    });
    for (layer, target, new_ids, new_sims) in lists {
        let (ids, sims) = b.slots_mut(target, layer);
        ids.copy_from_slice(&new_ids);
        sims.copy_from_slice(&new_sims);
    }
}

/// Adds `new` to a list of links (`ids`, `sims`: most similar first, [`EMPTY`] slots last),
/// pruning back to its capacity when full.
fn add_link(rows: &Rows<'_>, ids: &mut [u32], sims: &mut [f32], new: Near, heuristic: bool) {
    let cap = ids.len();
    if let Some(free) = ids.iter().position(|&i| i == EMPTY) {
        insert_sorted(ids, sims, free, new);
        return;
    }
    if !heuristic {
        // Full: the least similar link is last; replace it if the new one is better.
        if new > Near(sims[cap - 1], ids[cap - 1]) {
            insert_sorted(ids, sims, cap - 1, new);
        }
        return;
    }
    let mut cands: Vec<Near> = ids.iter().zip(sims.iter()).map(|(&i, &s)| Near(s, i)).collect();
    cands.push(new);
    cands.sort_unstable_by(|a, c| c.cmp(a));
    let chosen = select(rows, &cands, cap, true);
    for slot in 0..cap {
        match chosen.get(slot) {
            Some(c) => {
                ids[slot] = c.1;
                sims[slot] = c.0;
            }
            None => {
                ids[slot] = EMPTY;
                sims[slot] = f32::NEG_INFINITY;
            }
        }
    }
}

/// Puts `new` into a list sorted most similar first, overwriting slot `last` (free, or the least
/// similar link) and shifting the less similar links down.
fn insert_sorted(ids: &mut [u32], sims: &mut [f32], last: usize, new: Near) {
    let mut at = last;
    while at > 0 && Near(sims[at - 1], ids[at - 1]) < new {
        ids[at] = ids[at - 1];
        sims[at] = sims[at - 1];
        at -= 1;
    }
    ids[at] = new.1;
    sims[at] = new.0;
}

/// Chooses up to `cap` neighbours from `cands` (most similar first): the first `cap`, or with
/// the heuristic those closer to the base node than to any neighbour already kept.
fn select(rows: &Rows<'_>, cands: &[Near], cap: usize, heuristic: bool) -> Vec<Near> {
    if !heuristic {
        return cands.iter().take(cap).copied().collect();
    }
    let mut kept: Vec<Near> = Vec::with_capacity(cap);
    for &c in cands {
        if kept.len() == cap {
            break;
        }
        if kept.iter().all(|k| rows.sim(c.1, k.1) < c.0) {
            kept.push(c);
        }
    }
    kept
}

/// Drops the build-time similarities and the per-node upper offsets.
fn finish(b: Building, params: Params) -> Graph {
    let mut upper_nodes = Vec::new();
    let mut upper_levels = Vec::new();
    let mut upper_start = Vec::new();
    for (i, &l) in b.levels.iter().enumerate() {
        if l > 0 {
            upper_nodes.push(i as u32);
            upper_levels.push(l);
            upper_start.push(b.upper_start[i]);
        }
    }
    Graph {
        params,
        entry: b.entry,
        top: b.top,
        layer0: b.links0,
        upper_nodes,
        upper_levels,
        upper_start,
        upper: b.upper,
    }
}
