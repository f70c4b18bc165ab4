//! The reader: a site index opened from its manifest, searched through a [`FragmentSource`].

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::future::Future;
use std::rc::Rc;

use super::lexical::{prefix_shards, shard_of, Shard, Term};
use super::table::{open_fragment, FragmentKind, FragmentTable};
use super::text::{self, pack_of, Located, Place, RangedPack, Record};
use super::{dense, FetchStats, FragmentSource, Span, LEXICAL_RESCORE};
use crate::conversation::{judged_query, retrieval_query, Turn};
use crate::embed::EmbedderInfo;
use crate::engine::{check_search, prompt_of, Evidence, Hit, SearchResult};
use crate::gate::{
    check_terms, decide, evidence_of, has_term, query_reading, salient_terms, typo_terms, CommonWords,
    QueryTerm, SiteGate, TermCheck, Vocabulary,
};
use crate::index::bm25::{best_first, coverage_of, distinct, idf, saturate, Bm25};
use crate::prompt::{Prompt, PromptOptions};
use crate::retrieve::{fuse, Fused, Mode, RetrieveOptions};
use crate::site::Manifest;
use crate::tokens::TokenCounter;
use crate::{Error, Result};

/// How a question is looked up: query terms in the term shards, the vector in the IVF partitions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lookup {
    /// Typo correction: a salient query term the vocabulary lacks is ranked (and counted in the
    /// gate's coverage) as the term the reader meant, the commonest of its one-edit spellings
    /// that counts as a typo ([`query_terms`], the engine's own rule: "warnigns" → "warn").
    /// Default true: the fragments then rank as the engine does. Terms that exist are never
    /// replaced, so it never changes the ranking, or the fragments fetched, of a query whose
    /// terms all exist. False ranks the terms as written (the gate still checks the spellings).
    pub typos: bool,
    /// Search as you type: the last query term also matches the terms that start with it (the
    /// [`Lookup::PREFIX_TERMS`] with the highest document frequency, from its shard and up to 3
    /// following shards those terms run into). Default false.
    pub prefix_last: bool,
    /// IVF partitions a hybrid query probes; `None` = the manifest's `nprobe`. Range
    /// 1..=partitions (larger is lowered to it): more partitions cost more bytes and come closer
    /// to the engine's exact dense ranking (all of them give it exactly).
    pub nprobe: Option<usize>,
    /// Ranged IVF partitions: how many of the lexical ranking's first hits a hybrid question
    /// rescores exactly as well, so fusion gives them the dense ranks the flat scan does. Default
    /// [`LEXICAL_RESCORE`]; 0 rescores only the sign codes' shortlist.
    pub lexical_rescore: usize,
}

impl Lookup {
    /// Terms a prefix expands to, at most.
    pub const PREFIX_TERMS: usize = 5;

    /// The terms as written: no typo correction, no prefix (the engine always corrects).
    pub const AS_WRITTEN: Lookup =
        Lookup { typos: false, prefix_last: false, nprobe: None, lexical_rescore: LEXICAL_RESCORE };
}

impl Default for Lookup {
    fn default() -> Self {
        Lookup { typos: true, prefix_last: false, nprobe: None, lexical_rescore: LEXICAL_RESCORE }
    }
}

/// A site index read through fragments: the manifest plus an in-memory cache of the fragments
/// fetched so far (each is fetched at most once per `SiteIndex`).
#[derive(Debug)]
pub struct SiteIndex {
    pub(super) manifest: Manifest,
    pub(super) table: FragmentTable,
    stats: RefCell<FetchStats>,
    /// Inside [`SiteIndex::together`]: how deep, and whether its stage is counted yet.
    together: Cell<(u32, bool)>,
    /// Term shards loaded, by shard number.
    lexical: RefCell<BTreeMap<usize, Rc<Shard>>>,
    /// Text records loaded, by chunk id.
    pub(super) text: RefCell<HashMap<u32, Rc<Record>>>,
    /// Whole text packs loaded, by pack number.
    pub(super) packs: RefCell<BTreeSet<usize>>,
    /// Where records of ranged packs lie, by chunk id, as the postings read so far give them.
    pub(super) places: RefCell<HashMap<u32, Place>>,
    /// The IVF state: centroids and partitions loaded.
    pub(super) dense: RefCell<dense::Loaded>,
    /// The gate calibrated on the site (the manifest's `"gate"`), if any.
    gate: Option<SiteGate>,
    /// The gate's common words, once a question with a term the site lacks fetched them.
    common: RefCell<Option<Rc<CommonWords>>>,
}

/// The vocabulary of the shards loaded so far, as the gate sees it (the shards of a query's
/// terms are loaded before it is asked about them).
pub(super) struct ShardVocabulary<'a>(pub(super) &'a SiteIndex);

impl Vocabulary for ShardVocabulary<'_> {
    fn live_docs(&self) -> u32 {
        self.0.table.bm25.live_docs
    }

    fn df(&self, term: &str) -> u32 {
        let shards = self.0.lexical.borrow();
        shards.get(&shard_of(&self.0.table.lexical, term)).and_then(|s| s.get(term)).map_or(0, |t| t.df)
    }
}

/// The vocabulary terms one query term matches, and the idf it weighs in the gate's coverage.
pub(super) struct Group {
    idf: f32,
    terms: Vec<Term>,
}

impl Group {
    /// Whether chunk `id` contains one of the group's terms.
    fn contains(&self, id: u32) -> bool {
        self.terms.iter().any(|t| t.postings.binary_search_by_key(&id, |p| p.0).is_ok())
    }
}

/// A query's fused candidates and the gate's verdict on it, before their text is fetched.
pub(super) struct Ranked {
    /// Best first, before deduplication and the per-page limit.
    pub fused: Vec<Fused>,
    pub answerable: bool,
    pub evidence: Evidence,
    pub missing: Vec<String>,
}

impl SiteIndex {
    /// Opens the index described by `manifest_json` (the bytes of `manifest.json`); `what` names
    /// it in errors. Errors: not a manifest, a manifest without a `"fragments"` object (written by
    /// an older docent: re-run `docent index`), an unsupported fragment version, or an
    /// inconsistent table.
    pub fn open(manifest_json: &[u8], what: &str) -> Result<SiteIndex> {
        SiteIndex::from_manifest(Manifest::parse(manifest_json, what)?, what)
    }

    /// [`SiteIndex::open`] for a manifest already decoded and checked ([`Manifest::checked`]).
    pub fn from_manifest(manifest: Manifest, what: &str) -> Result<SiteIndex> {
        let Some(table) = manifest.fragments.clone() else {
            return Err(Error::format(
                what,
                "the manifest has no \"fragments\" object (written by an older docent); re-run `docent index`",
            ));
        };
        table.check(what)?;
        let gate = match &table.gate {
            Some(v) => SiteGate::from_value(v, &format!("{what}, field 'fragments.gate'"))?,
            None => None,
        };
        Ok(SiteIndex {
            gate,
            manifest,
            table,
            stats: RefCell::new(FetchStats::default()),
            together: Cell::new((0, false)),
            lexical: RefCell::default(),
            text: RefCell::default(),
            packs: RefCell::default(),
            places: RefCell::default(),
            common: RefCell::default(),
            dense: RefCell::default(),
        })
    }

    /// The embedder that built the index: a query vector must come from it.
    pub fn embedder(&self) -> &EmbedderInfo {
        &self.manifest.embedder
    }

    /// Which build of the site index this is: the manifest's format version and the xxh3 of its
    /// index file (what a report of an uncovered question names, [`crate::gaps`]).
    pub fn index_id(&self) -> crate::gaps::IndexId {
        crate::gaps::IndexId { version: self.manifest.version, fingerprint: self.manifest.xxh3.clone() }
    }

    /// Whether the index has dense fragments (so a query vector can be used).
    pub fn has_dense(&self) -> bool {
        self.table.dense.is_some()
    }

    /// The manifest's fragment table.
    pub fn table(&self) -> &FragmentTable {
        &self.table
    }

    /// The manifest the index was opened from.
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// Searches with the default [`Lookup`] (typo correction on, as the engine). Hybrid when
    /// `vector` is given (the question embedded with the index's embedder,
    /// [`SiteIndex::embedder`]), lexical otherwise. The result has the shape of [`crate::Docent::search`]'s; a hit's `chunk` is its
    /// id among the live chunks.
    pub async fn search<S: FragmentSource>(
        &self,
        src: &S,
        query: &str,
        k: usize,
        vector: Option<&[f32]>,
        opts: &RetrieveOptions,
    ) -> Result<SearchResult> {
        self.search_with(src, query, k, vector, opts, Lookup::default()).await
    }

    /// [`SiteIndex::search`] with an explicit term [`Lookup`].
    ///
    /// Fetch stages (each one call of the source, only for fragments not fetched before): the
    /// query terms' shards (with the IVF centroids on the first hybrid query), the probed IVF
    /// partitions (hybrid), then the text packs of the best hits (again only if deduplication or
    /// the per-page limit dropped hits and more text is needed).
    ///
    /// Errors: those of [`crate::Docent::search_with`] for the arguments; a vector of the wrong
    /// dimension or with a non-finite value; a `Dense`-mode search without a vector; a fragment
    /// the source cannot give (its error, naming the path), or one that fails its checks (size,
    /// checksum, header, content; the message names it).
    pub async fn search_with<S: FragmentSource>(
        &self,
        src: &S,
        query: &str,
        k: usize,
        vector: Option<&[f32]>,
        opts: &RetrieveOptions,
        lookup: Lookup,
    ) -> Result<SearchResult> {
        let ranked = self.ranked(src, query, k, vector, opts, lookup, None).await?;
        let hits = self.hits_of(src, &ranked.fused, k, opts).await?;
        Ok(SearchResult {
            answerable: ranked.answerable,
            hits,
            evidence: ranked.evidence,
            missing: ranked.missing,
        })
    }

    /// Stages 1 and 2 of [`SiteIndex::search_with`]: the fused candidates of `query` (ids and
    /// scores, best first, before deduplication and the per-page limit) and the gate's verdict.
    /// `conversation`: `query` is the formed query of a follow-up (the question, its earlier
    /// turns), whose term evidence is that of its [`judged_query`] (the topic's terms the
    /// loaded shards lack left out), as the engine judges it.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn ranked<S: FragmentSource>(
        &self,
        src: &S,
        query: &str,
        k: usize,
        vector: Option<&[f32]>,
        opts: &RetrieveOptions,
        lookup: Lookup,
        conversation: Option<(&str, &[Turn])>,
    ) -> Result<Ranked> {
        let query = check_search(query, k, opts)?;
        let mode = match vector {
            Some(_) => opts.mode,
            None if opts.mode == Mode::Dense => {
                return Err(Error::invalid("mode", "a dense search needs the query vector"))
            }
            None => Mode::Lexical,
        };
        let cand = opts.candidates.max(k * 2);
        let terms = distinct(Bm25::analyze(query));
        // Stage 1: the shards of the query terms, and the centroids for a hybrid query.
        let mut shards: BTreeSet<usize> = terms
            .iter()
            .chain(salient_terms(query).iter().map(|t| &t.term))
            .map(|t| shard_of(&self.table.lexical, t))
            .collect();
        if lookup.prefix_last {
            if let Some(t) = terms.last() {
                shards.extend(prefix_shards(&self.table.lexical, t));
            }
        }
        if self.table.chunks == 0 {
            shards.clear();
        }
        let dense_query = match vector {
            Some(v) => Some(dense::Query::new(self, v, lookup.nprobe)?),
            None => None,
        };
        let centroids = dense_query.as_ref().and_then(|q| q.centroids_wanted(self));
        self.load_shards(src, &shards, centroids).await?;
        if self.table.lexical.ranged {
            // Ranged shards: the postings of the terms the lookup picked from the heads, the
            // coarse rows of ranged IVF partitions, and for a salient term the heads lack, the
            // heads of its spellings' shards (and the gate's common words), together. A spelling
            // picked from those needs its postings after them: a stage more only for a typo.
            let wanted = self.groups(&self.query_terms(query, lookup), lookup);
            let coarse = match &dense_query {
                Some(q) => q.coarse_wanted(self)?,
                None => Default::default(),
            };
            let (got, absent) = self
                .together(self.load_postings(src, &wanted, &coarse.spans), self.load_for_absent(src, query))
                .await;
            let got = got?;
            absent?;
            if let Some(q) = &dense_query {
                q.store_coarse(self, &coarse, got)?;
            }
        } else {
            // A salient term the shards lack: the shards of its spellings (and the gate's common
            // words), in one stage: the term meant is scored with the others.
            self.load_for_absent(src, query).await?;
        }
        let terms = self.query_terms(query, lookup);
        if self.table.lexical.ranged {
            // The postings of a spelling picked from the heads just read (none when no term was
            // missing: their postings came above).
            self.load_postings(src, &self.groups(&terms, lookup), &[]).await?;
        }
        // Groups hold their terms' postings as loaded: taken after the last load.
        let groups = self.groups(&terms, lookup);
        let lexical_hits = self.rank(&groups, cand);
        // Stage 2: the probed partitions.
        let dense_hits = match &dense_query {
            Some(q) => {
                let also: Vec<u32> = lexical_hits.iter().take(lookup.lexical_rescore).map(|h| h.0).collect();
                q.search(self, src, cand, &also).await?
            }
            None => Vec::new(),
        };
        let judged = conversation.map(|(q, h)| judged_query(q, h, &ShardVocabulary(self)));
        let (evidence, check) = match judged.as_deref().map(str::trim) {
            Some(j) if !j.is_empty() && j != query => {
                // Its terms are among the query's: their shards (and postings) are loaded.
                let judged_groups = self.groups(&self.query_terms(j, lookup), lookup);
                self.evidence_of(j, &judged_groups, &dense_hits, &lexical_hits, opts)
            }
            _ => self.evidence_of(query, &groups, &dense_hits, &lexical_hits, opts),
        };
        // Without a vector there is no dense evidence: the lexical-only gate decides.
        let kind = self.manifest.embedder.kind;
        let answerable = decide(opts, self.gate.as_ref(), kind, &evidence, &check, vector.is_some());
        let missing = check.missing;
        let fused = fuse(&dense_hits, &lexical_hits, opts.rrf_k, opts.lexical_weight, mode);
        Ok(Ranked { fused, answerable, evidence, missing })
    }

    /// Stage 3 of [`SiteIndex::search_with`]: the first `k` hits of the candidates `fused` (best
    /// first) that [`crate::retrieve::select`] keeps, with their text.
    pub(super) async fn hits_of<S: FragmentSource>(
        &self,
        src: &S,
        fused: &[Fused],
        k: usize,
        opts: &RetrieveOptions,
    ) -> Result<Vec<Hit>> {
        let kept = if self.table.text.ranged {
            self.choose_ranged(src, fused, k, opts).await?
        } else {
            self.choose_whole(src, fused, k, opts).await?
        };
        let text = self.text.borrow();
        Ok(kept
            .into_iter()
            .map(|f| {
                let r = &text[&f.id];
                Hit {
                    url: r.url.clone(),
                    title: r.title.clone(),
                    heading: r.heading.clone(),
                    score: f.score,
                    text: r.text.clone(),
                    dense: f.dense,
                    lexical: f.lexical,
                    chunk: f.id,
                }
            })
            .collect())
    }

    /// Retrieves sources for `question` (as [`SiteIndex::search`] with the index's retrieval
    /// options and `opts.k`) and assembles a grounded prompt, counting tokens with `counter`.
    /// After earlier turns ([`PromptOptions::history`]) it searches in the conversation
    /// ([`SiteIndex::search_conversation`]); `vector`, when given, must embed the query the
    /// conversation forms ([`retrieval_query`]).
    pub async fn assemble<S: FragmentSource>(
        &self,
        src: &S,
        question: &str,
        vector: Option<&[f32]>,
        counter: &TokenCounter,
        opts: &PromptOptions,
    ) -> Result<Prompt> {
        opts.validate()?;
        let query = retrieval_query(question, &opts.history);
        let result = self
            .search_conversation(src, question, &opts.history, opts.k, vector, &self.table.retrieve)
            .await?;
        prompt_of(question, &query, &result, counter, opts)
    }

    /// The gate's evidence from the query's term groups and both candidate lists (best first;
    /// `dense_hits` empty without a query vector), as the engine computes it from its indexes,
    /// and the query's salient terms the corpus lacks. Needs the terms' shards loaded.
    fn evidence_of(
        &self,
        query: &str,
        groups: &[Group],
        dense_hits: &[(u32, f32)],
        lexical_hits: &[(u32, f32)],
        opts: &RetrieveOptions,
    ) -> (Evidence, TermCheck) {
        let cover = |id: u32| coverage_of(groups.iter().map(|g| (g.idf, g.contains(id))));
        let loaded = self.common.borrow().clone();
        let common = loaded.as_deref().or_else(|| self.gate.as_ref().and_then(|g| g.common.as_ref()));
        let check = check_terms(&salient_terms(query), &ShardVocabulary(self), common);
        let query_idf = groups.iter().map(|g| g.idf).sum();
        evidence_of(dense_hits, lexical_hits, opts, cover, check, query_idf, self.table.bm25.params.k1)
    }

    /// The site's calibrated gate, when the manifest has one.
    pub fn site_gate(&self) -> Option<&SiteGate> {
        self.gate.as_ref()
    }

    /// Each distinct analyzed term of `query` with the term the lexical ranking reads for it:
    /// [`query_reading`] over the shards loaded (the engine's correction), or itself when
    /// `lookup.typos` is off. Needs the shards of the terms, and of the spellings of those the
    /// shards lack, loaded ([`SiteIndex::load_for_absent`]).
    pub(super) fn query_terms(&self, query: &str, lookup: Lookup) -> Vec<(String, String)> {
        if lookup.typos {
            query_reading(query, &ShardVocabulary(self))
        } else {
            distinct(Bm25::analyze(query)).into_iter().map(|t| (t.clone(), t)).collect()
        }
    }

    /// For each distinct term read ([`SiteIndex::query_terms`]: `(as analyzed, as read)` pairs,
    /// in query order), the vocabulary terms it matches and the idf it weighs in the gate's
    /// coverage: the term read, and with [`Lookup::prefix_last`] the completions of the last
    /// term as analyzed (as typed). Needs the terms' shards loaded.
    pub(super) fn groups(&self, reading: &[(String, String)], lookup: Lookup) -> Vec<Group> {
        let shards = self.lexical.borrow();
        let n = self.table.bm25.live_docs;
        let last = reading.last().map(|p| p.0.as_str());
        let mut read: Vec<&str> = Vec::new();
        for (_, r) in reading {
            if !read.contains(&r.as_str()) {
                read.push(r);
            }
        }
        read.iter()
            .map(|&t| {
                let Some(shard) = shards.get(&shard_of(&self.table.lexical, t)) else {
                    return Group { idf: idf(n, 0), terms: Vec::new() };
                };
                let mut alts: Vec<Term> = shard.get(t).into_iter().cloned().collect();
                let df = alts.first().map_or(0, |a| a.df);
                let typed = reading.iter().find(|p| Some(p.0.as_str()) == last && p.1 == t);
                if let (true, Some((typed, _))) = (lookup.prefix_last, typed) {
                    // The completions with the highest df, across the shards they span.
                    let mut more: Vec<&Term> = prefix_shards(&self.table.lexical, typed)
                        .filter_map(|j| shards.get(&j))
                        .flat_map(|s| s.completions(typed, Lookup::PREFIX_TERMS))
                        .collect();
                    more.sort_by(|a, b| b.df.cmp(&a.df).then(a.term.cmp(&b.term)));
                    alts.extend(more.into_iter().take(Lookup::PREFIX_TERMS).cloned());
                }
                let df = if df == 0 { alts.iter().map(|a| a.df).max().unwrap_or(0) } else { df };
                Group { idf: idf(n, df), terms: alts }
            })
            .collect()
    }

    /// BM25F top-`k` over the groups' terms, exactly as [`Bm25::search`] scores: each distinct
    /// term once, in query order.
    pub(super) fn rank(&self, groups: &[Group], k: usize) -> Vec<(u32, f32)> {
        let stats = &self.table.bm25;
        if stats.live_docs == 0 || k == 0 {
            return Vec::new();
        }
        let k1 = stats.params.k1;
        let mut seen = BTreeSet::new();
        let mut scores: HashMap<u32, f32> = HashMap::new();
        for t in groups.iter().flat_map(|g| &g.terms) {
            if !seen.insert(t.term.as_str()) {
                continue;
            }
            let w = idf(stats.live_docs, t.df);
            // As the engine: a posting of weight 0 counts in `df`, not in the score.
            for &(id, tf) in t.postings.iter().filter(|p| p.1 > 0.0) {
                *scores.entry(id).or_insert(0.0) += saturate(w, tf, k1);
            }
        }
        let mut hits: Vec<(u32, f32)> = scores.into_iter().collect();
        best_first(&mut hits, k);
        hits
    }

    /// Fetches `paths` (with their manifest sizes) in one call, counting them.
    /// Runs `a` and `b` together (their calls go out at once), counted as one fetch stage.
    pub(super) async fn together<A: Future, B: Future>(&self, a: A, b: B) -> (A::Output, B::Output) {
        let (depth, counted) = self.together.get();
        self.together.set((depth + 1, counted));
        let out = super::join(a, b).await;
        let (depth, inner) = self.together.get();
        self.together.set((depth - 1, if depth == 1 { false } else { inner }));
        out
    }

    pub(super) async fn fetch<S: FragmentSource>(&self, src: &S, paths: &[String]) -> Result<Vec<Vec<u8>>> {
        if paths.is_empty() {
            return Ok(Vec::new());
        }
        let got = src.fetch(paths).await?;
        self.count(paths.len(), &got, "fragments")?;
        Ok(got)
    }

    /// Counts one call of the source that was asked for `asked` fragments or ranges (`what`)
    /// and returned `got`; a source that returned another number is an error.
    fn count(&self, asked: usize, got: &[Vec<u8>], what: &str) -> Result<()> {
        if got.len() != asked {
            return Err(Error::format(
                "fragment source",
                format!("{asked} {what} asked for, {} returned", got.len()),
            ));
        }
        let mut stats = self.stats.borrow_mut();
        stats.requests += 1;
        match self.together.get() {
            (0, _) => stats.stages += 1,
            (depth, false) => {
                stats.stages += 1;
                self.together.set((depth, true));
            }
            (_, true) => {}
        }
        stats.fragments += got.len();
        stats.bytes += got.iter().map(|b| b.len() as u64).sum::<u64>();
        Ok(())
    }

    /// Loads the shards not loaded yet (ranged shards: their heads), and `extra` (the centroids)
    /// in the same stage.
    pub(super) async fn load_shards<S: FragmentSource>(
        &self,
        src: &S,
        shards: &BTreeSet<usize>,
        extra: Option<String>,
    ) -> Result<()> {
        let missing: Vec<usize> =
            shards.iter().copied().filter(|i| !self.lexical.borrow().contains_key(i)).collect();
        let table = &self.table.lexical;
        let mut paths: Vec<String> = missing.iter().map(|&i| table.files[i].clone()).collect();
        if table.ranged {
            let spans: Vec<Span> = missing
                .iter()
                .zip(&paths)
                .map(|(&i, p)| {
                    let (start, end) = Shard::head_span(table, i);
                    Span { path: p.clone(), start, end }
                })
                .collect();
            let extra_paths: Vec<String> = extra.iter().cloned().collect();
            let (heads, centroids) =
                self.together(self.fetch_ranges(src, &spans), self.fetch(src, &extra_paths)).await;
            for ((&i, path), bytes) in missing.iter().zip(&paths).zip(heads?) {
                let shard = Shard::open_head(path, &bytes, table, i)?;
                self.lexical.borrow_mut().insert(i, Rc::new(shard));
            }
            if let (Some(path), Some(bytes)) = (extra, centroids?.into_iter().next()) {
                dense::store_centroids(self, &path, &bytes)?;
            }
            return Ok(());
        }
        paths.extend(extra.iter().cloned());
        let got = self.fetch(src, &paths).await?;
        let mut it = got.into_iter();
        for ((&i, path), bytes) in missing.iter().zip(&paths).zip(it.by_ref()) {
            let shard = Shard::open(path, &bytes, table, i, self.table.chunks)?;
            self.lexical.borrow_mut().insert(i, Rc::new(shard));
        }
        if let (Some(path), Some(bytes)) = (extra, it.next()) {
            dense::store_centroids(self, &path, &bytes)?;
        }
        Ok(())
    }

    /// When a salient term of `query` is absent from the shards loaded, fetches in one stage
    /// what the term check and the correction read beyond them: the shards of every spelling the
    /// reader may have meant by it ([`typo_terms`]; all of them, so the term read is the
    /// engine's: the commonest), and the gate's common words when the term check still finds a
    /// term missing (when the table has them and they are not loaded yet). Needs the terms'
    /// shards loaded; a question whose salient terms all occur fetches nothing here.
    pub(super) async fn load_for_absent<S: FragmentSource>(&self, src: &S, query: &str) -> Result<()> {
        let terms = salient_terms(query);
        let vocab = ShardVocabulary(self);
        let absent: Vec<&QueryTerm> = terms.iter().filter(|t| vocab.df(&t.term) == 0).collect();
        if absent.is_empty() {
            return Ok(());
        }
        let shards: BTreeSet<usize> = absent
            .iter()
            .flat_map(|t| {
                let typos = typo_terms(t);
                typos.all().map(|v| shard_of(&self.table.lexical, v)).collect::<Vec<_>>()
            })
            .collect();
        let missing = absent.iter().any(|t| !has_term(t, &vocab));
        let common = async {
            if missing {
                self.load_common(src).await
            } else {
                Ok(())
            }
        };
        let (heads, common) = self.together(self.load_shards(src, &shards, None), common).await;
        heads.and(common)
    }

    /// Fetches the gate's common words (one call) when the table has them and they are not
    /// loaded yet.
    async fn load_common<S: FragmentSource>(&self, src: &S) -> Result<()> {
        let Some(c) = &self.table.common else { return Ok(()) };
        if self.common.borrow().is_some() {
            return Ok(());
        }
        let got = self.fetch(src, std::slice::from_ref(&c.file)).await?;
        let bytes = got.into_iter().next().unwrap_or_default();
        let (hashes, bits): (u32, Vec<u8>) = open_fragment(&c.file, &bytes, c.bytes, FragmentKind::Common)?;
        let words = CommonWords::from_bits(hashes, bits, &c.file)?;
        *self.common.borrow_mut() = Some(Rc::new(words));
        Ok(())
    }

    /// Reads, in one call, the postings of the groups' terms that ranged shards have not given
    /// yet, and the byte ranges `extra` (a hybrid question's coarse IVF rows), whose bytes it
    /// returns.
    pub(super) async fn load_postings<S: FragmentSource>(
        &self,
        src: &S,
        groups: &[Group],
        extra: &[Span],
    ) -> Result<Vec<Vec<u8>>> {
        let table = &self.table.lexical;
        let mut wanted: Vec<(usize, usize)> = Vec::new();
        let mut spans = Vec::new();
        {
            let shards = self.lexical.borrow();
            for t in groups.iter().flat_map(|g| &g.terms) {
                let s = shard_of(table, &t.term);
                let Some((i, start, end)) = shards.get(&s).and_then(|sh| sh.wanted(&t.term)) else {
                    continue;
                };
                if wanted.contains(&(s, i)) {
                    continue;
                }
                wanted.push((s, i));
                spans.push(Span { path: table.files[s].clone(), start, end });
            }
        }
        let postings = spans.len();
        spans.extend_from_slice(extra);
        let mut got = self.fetch_ranges(src, &spans).await?;
        let rest = got.split_off(postings.min(got.len()));
        let mut shards = self.lexical.borrow_mut();
        let mut places = self.places.borrow_mut();
        for ((&(s, i), span), bytes) in wanted.iter().zip(&spans).zip(got) {
            if let Some(shard) = shards.get_mut(&s) {
                places.extend(Rc::make_mut(shard).fill(&span.path, i, &bytes, self.table.chunks)?);
            }
        }
        Ok(rest)
    }

    /// Loads the text records of `ids` not loaded yet: their whole packs in one call, or, for
    /// ranged packs, their entries in one call and their records in another.
    pub(super) async fn load_text<S: FragmentSource>(
        &self,
        src: &S,
        ids: impl Iterator<Item = u32>,
    ) -> Result<()> {
        let mut ids: Vec<u32> = ids.filter(|id| !self.text.borrow().contains_key(id)).collect();
        ids.sort_unstable();
        ids.dedup();
        if self.table.text.ranged {
            return self.load_ranged(src, &ids).await;
        }
        let mut missing: Vec<usize> = ids.iter().map(|&id| pack_of(&self.table.text, id)).collect();
        missing.dedup();
        missing.retain(|p| !self.packs.borrow().contains(p));
        let paths: Vec<String> = missing.iter().map(|&p| self.table.text.files[p].clone()).collect();
        let got = self.fetch(src, &paths).await?;
        for ((&p, path), bytes) in missing.iter().zip(&paths).zip(got) {
            let records = text::open(path, &bytes, &self.table.text, p, self.table.chunks)?;
            let first = self.table.text.first[p];
            let mut text = self.text.borrow_mut();
            for (id, r) in (first..).zip(records) {
                text.insert(id, Rc::new(r));
            }
            self.packs.borrow_mut().insert(p);
        }
        Ok(())
    }

    /// Loads the records of `ids` (ascending, none loaded) from ranged packs. Records whose
    /// place the postings gave are read at once; the others need their entries first. So one
    /// stage when every record is placed, else two: the entries of the unplaced records with the
    /// placed records, then the unplaced records. Each stage is one call with every span of
    /// every pack.
    async fn load_ranged<S: FragmentSource>(&self, src: &S, ids: &[u32]) -> Result<()> {
        let table = &self.table.text;
        // Records wanted, per pack: (pack, indexes within the pack, ascending), and those of
        // them already placed.
        let mut wanted: Vec<(RangedPack, Vec<usize>)> = Vec::new();
        let mut placed: Vec<Vec<Located>> = Vec::new();
        {
            let places = self.places.borrow();
            for &id in ids {
                let p = pack_of(table, id);
                let j = (id - table.first[p]) as usize;
                if wanted.last().is_none_or(|(pack, _)| pack.i != p) {
                    wanted.push((RangedPack::new(table, p, self.table.chunks), Vec::new()));
                    placed.push(Vec::new());
                }
                match places.get(&id) {
                    Some(place) => placed.last_mut().expect("pushed above").push(Located::at(j, place)),
                    None => wanted.last_mut().expect("pushed above").1.push(j),
                }
            }
        }
        // The entries of the unplaced records, with the placed records.
        let mut runs = Vec::new();
        let mut spans = Vec::new();
        for (w, (pack, js)) in wanted.iter().enumerate() {
            for run in pack.entry_runs(js) {
                let (start, end) = pack.entries_span(run);
                spans.push(Span { path: pack.path.to_string(), start, end });
                runs.push((w, run));
            }
        }
        let entries = spans.len();
        let groups = record_groups(placed);
        spans.extend(self.record_spans(&wanted, &groups));
        let mut got = self.fetch_ranges(src, &spans).await?;
        let records = got.split_off(entries.min(got.len()));
        self.store_records(&wanted, &groups, &spans[entries..], &records)?;
        if runs.is_empty() {
            return Ok(());
        }
        let mut located: Vec<Vec<Located>> = vec![Vec::new(); wanted.len()];
        for (&(w, run), bytes) in runs.iter().zip(&got) {
            let (pack, js) = &wanted[w];
            located[w].extend(pack.locate(run, bytes, js)?);
        }
        // Then the records the entries located.
        let groups = record_groups(located);
        let spans = self.record_spans(&wanted, &groups);
        let got = self.fetch_ranges(src, &spans).await?;
        self.store_records(&wanted, &groups, &spans, &got)
    }

    /// The span of each group of [`record_groups`] (records adjacent in their pack's file).
    fn record_spans(
        &self,
        wanted: &[(RangedPack, Vec<usize>)],
        groups: &[(usize, Vec<Located>)],
    ) -> Vec<Span> {
        groups
            .iter()
            .map(|(w, g)| {
                let pack = &wanted[*w].0;
                let (start, end) = pack.records_span(&g[0], &g[g.len() - 1]);
                Span { path: pack.path.to_string(), start, end }
            })
            .collect()
    }

    /// Checks and keeps the records of `groups` read as `spans` (`got`, their bytes).
    fn store_records(
        &self,
        wanted: &[(RangedPack, Vec<usize>)],
        groups: &[(usize, Vec<Located>)],
        spans: &[Span],
        got: &[Vec<u8>],
    ) -> Result<()> {
        let first = &self.table.text.first;
        for ((w, g), (span, bytes)) in groups.iter().zip(spans.iter().zip(got)) {
            let pack = &wanted[*w].0;
            pack.check_length(span.start, span.end, bytes.len())?;
            let mut text = self.text.borrow_mut();
            for loc in g {
                let record = pack.open(&g[0], loc, bytes)?;
                text.insert(first[pack.i] + loc.j as u32, Rc::new(record));
            }
        }
        Ok(())
    }

    /// Fetches `spans` in one call, counting them (each as one fragment request).
    pub(super) async fn fetch_ranges<S: FragmentSource>(
        &self,
        src: &S,
        spans: &[Span],
    ) -> Result<Vec<Vec<u8>>> {
        if spans.is_empty() {
            return Ok(Vec::new());
        }
        let got = src.fetch_ranges(spans).await?;
        self.count(spans.len(), &got, "byte ranges")?;
        Ok(got)
    }

    /// What was fetched so far.
    pub fn fetched(&self) -> FetchStats {
        *self.stats.borrow()
    }
}

/// Located records grouped into runs adjacent in their pack's file (`(pack slot, records)`), so
/// that each run is one byte range. `located[w]`: the records of pack slot `w`, ascending.
fn record_groups(located: Vec<Vec<Located>>) -> Vec<(usize, Vec<Located>)> {
    let mut groups: Vec<(usize, Vec<Located>)> = Vec::new();
    for (w, locs) in located.into_iter().enumerate() {
        for loc in locs {
            match groups.last_mut() {
                Some((gw, g)) if *gw == w && g.last().is_some_and(|l| l.j + 1 == loc.j) => g.push(loc),
                _ => groups.push((w, vec![loc])),
            }
        }
    }
    groups
}
