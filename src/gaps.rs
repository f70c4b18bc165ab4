//! What the documents do not cover: the reports `<docent-ask report="URL">` posts, one JSON line
//! per question the gate flagged, read back and grouped into a short report a docs team can act
//! on (`docent gaps`).
//!
//! A report line is `{"question": …, "missing": […], "index": {"version": N, "fingerprint": …},
//! "time": …}`: the question as the reader typed it, the salient terms the documents never
//! mention (possibly none: the gate also flags questions whose words all exist but that no
//! section answers), the index it was asked against (the manifest's format version and the xxh3
//! of its `index.bin`; `null` for a folder read whole) and the hour it was asked (ISO 8601,
//! rounded down to the hour). No reader identifier exists to read.
//!
//! Grouping is by missing term (case folded; shown in the spelling readers used most) and, when
//! the caller found each question's nearest section (its best search hit), by that section's
//! `url#anchor`. Every list is ordered by count (descending), then by text, so one file always
//! gives the same report, byte for byte.
//!
//! Owns: the report line format and its checks, the grouping, the ordering, the Markdown and the
//! JSON of the result.
//! Must not: read files, search, or know HTTP (the CLI reads the file and searches the index; any
//! endpoint that appends a POST body as one line writes the file).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// The longest a question is shown in the Markdown report, in characters (longer ones end in
/// "…"); the JSON report keeps them whole.
pub const SHOWN_CHARS: usize = 160;

/// The index a reported question was asked against.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct IndexId {
    /// The manifest's `version` (the index format version).
    pub version: u32,
    /// The manifest's `xxh3` of `index.bin`: which build of the site index it was.
    pub fingerprint: String,
}

/// One reported question: a line of the file the report endpoint appends to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GapReport {
    /// The question as the reader typed it.
    pub question: String,
    /// The salient terms the documents never mention, as the reader wrote them (may be empty).
    pub missing: Vec<String>,
    /// The index it was asked against; `None` when the widget could not tell (a folder read whole).
    #[serde(default)]
    pub index: Option<IndexId>,
    /// When it was asked, rounded down to the hour (ISO 8601, UTC), as the widget sent it.
    #[serde(default)]
    pub time: Option<String>,
}

/// Reads a file of report lines (JSON lines; blank lines are skipped). `what` names the file in
/// errors, which give its line number (from 1): `reports.jsonl:3: …`.
///
/// Errors: a line that is not a JSON object, a `question` that is not a non-empty string, a
/// `missing` that is not an array of strings, an `index` that is neither null nor `{version,
/// fingerprint}`, a `time` that is not a string.
pub fn parse_reports(text: &str, what: &str) -> Result<Vec<GapReport>> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        out.push(parse_report(line).map_err(|reason| Error::format(format!("{what}:{}", i + 1), reason))?);
    }
    Ok(out)
}

/// One report line, or what is wrong with it.
pub fn parse_report(line: &str) -> std::result::Result<GapReport, String> {
    let value: serde_json::Value = serde_json::from_str(line).map_err(|e| format!("not JSON: {e}"))?;
    let obj = value.as_object().ok_or_else(|| format!("expected a JSON object, found {}", kind(&value)))?;
    let question = match obj.get("question") {
        Some(serde_json::Value::String(q)) if !q.trim().is_empty() => q.clone(),
        Some(serde_json::Value::String(_)) => return Err("\"question\" is empty".into()),
        Some(v) => return Err(format!("\"question\" must be a string, found {}", kind(v))),
        None => return Err("no \"question\" field".into()),
    };
    let missing = match obj.get("missing") {
        Some(serde_json::Value::Array(terms)) => terms
            .iter()
            .map(|t| match t {
                serde_json::Value::String(s) if !s.trim().is_empty() => Ok(s.trim().to_string()),
                other => Err(format!("\"missing\" must hold non-empty strings, found {}", kind(other))),
            })
            .collect::<std::result::Result<Vec<_>, _>>()?,
        Some(v) => return Err(format!("\"missing\" must be an array of strings, found {}", kind(v))),
        None => return Err("no \"missing\" field".into()),
    };
    let index = match obj.get("index") {
        None | Some(serde_json::Value::Null) => None,
        Some(v) => Some(serde_json::from_value::<IndexId>(v.clone()).map_err(|_| {
            format!("\"index\" must be null or {{\"version\": number, \"fingerprint\": string}}, found {v}")
        })?),
    };
    let time = match obj.get("time") {
        None | Some(serde_json::Value::Null) => None,
        Some(serde_json::Value::String(t)) => Some(t.clone()),
        Some(v) => return Err(format!("\"time\" must be a string, found {}", kind(v))),
    };
    Ok(GapReport { question, missing, index, time })
}

fn kind(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

/// The section a question's best search hit is in (the caller searched for it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Section {
    /// Its `url#anchor`.
    pub url: String,
    /// Its heading path (or the page title for a section without headings).
    pub title: String,
}

/// A question and how many reports asked it (spellings that differ in case, spacing or a final
/// question mark count as one).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Asked {
    /// The spelling asked most often (the first by text among equals).
    pub text: String,
    /// Reports of it.
    pub reports: usize,
}

/// A missing term and the questions that used it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TermGap {
    /// The spelling readers used most (the first by text among equals).
    pub term: String,
    /// Reports naming it.
    pub reports: usize,
    /// The questions, most asked first, at most `examples` of them.
    pub questions: Vec<Asked>,
}

/// A term and its count, inside a section's group.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TermCount {
    /// The term (as in [`TermGap::term`]).
    pub term: String,
    /// Reports of this section naming it.
    pub reports: usize,
}

/// A section that reported questions came nearest to: where a page could answer them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SectionGap {
    /// Its `url#anchor`.
    pub url: String,
    /// Its heading path.
    pub title: String,
    /// Reports whose best hit it is.
    pub reports: usize,
    /// The missing terms of those reports, most named first.
    pub terms: Vec<TermCount>,
    /// The questions, most asked first, at most `examples` of them.
    pub questions: Vec<Asked>,
}

/// An index the reports were asked against, with their count.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IndexCount {
    /// Format version and fingerprint; `None` for reports that did not say.
    pub index: Option<IndexId>,
    /// Reports against it.
    pub reports: usize,
}

/// The grouped reports: what `docent gaps` prints.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Gaps {
    /// Reports read.
    pub reports: usize,
    /// Different questions among them.
    pub questions: usize,
    /// Reports that name no missing term (flagged for weak evidence alone).
    pub unnamed: usize,
    /// The earliest and latest `time` (as sent; `None` when no report has one).
    pub from: Option<String>,
    /// See `from`.
    pub to: Option<String>,
    /// The indexes the reports were asked against, most reports first.
    pub indexes: Vec<IndexCount>,
    /// Missing terms, most reported first (at most `top`).
    pub terms: Vec<TermGap>,
    /// Terms left out past `top`.
    pub more_terms: usize,
    /// Nearest sections, most reported first (at most `top`); `None` when no index was searched.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sections: Option<Vec<SectionGap>>,
    /// Sections left out past `top`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub more_sections: Option<usize>,
    /// Reports whose question found no section at all (an empty index).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unplaced: Option<usize>,
}

/// How much of each list [`group`] keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Terms and sections listed: default 20, at least 1; the rest are counted
    /// ([`Gaps::more_terms`]).
    pub top: usize,
    /// Example questions per term or section: default 3, at least 1.
    pub examples: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { top: 20, examples: 3 }
    }
}

/// The key two spellings of a question share: lower case, whitespace collapsed, final `?`
/// dropped.
fn question_key(q: &str) -> String {
    let flat = q.split_whitespace().collect::<Vec<_>>().join(" ");
    flat.trim_end_matches(['?', '？', '؟']).trim_end().to_lowercase()
}

/// Counts of spellings under one key; picks the most used (the first by text among equals).
#[derive(Default)]
struct Spellings(BTreeMap<String, usize>);

impl Spellings {
    fn add(&mut self, s: &str) {
        *self.0.entry(s.to_string()).or_default() += 1;
    }
    fn best(&self) -> String {
        let mut best: Option<(&String, usize)> = None;
        for (s, &n) in &self.0 {
            if best.is_none_or(|(_, m)| n > m) {
                best = Some((s, n));
            }
        }
        best.map(|(s, _)| s.clone()).unwrap_or_default()
    }
}

/// Questions under their keys, each with its spellings and report count.
#[derive(Default)]
struct Questions(BTreeMap<String, (Spellings, usize)>);

impl Questions {
    fn add(&mut self, q: &str) {
        let flat = q.split_whitespace().collect::<Vec<_>>().join(" ");
        let e = self.0.entry(question_key(q)).or_default();
        e.0.add(&flat);
        e.1 += 1;
    }
    /// The most asked `n`, then by text.
    fn top(&self, n: usize) -> Vec<Asked> {
        let mut all: Vec<Asked> =
            self.0.values().map(|(s, reports)| Asked { text: s.best(), reports: *reports }).collect();
        all.sort_by(|a, b| b.reports.cmp(&a.reports).then_with(|| a.text.cmp(&b.text)));
        all.truncate(n);
        all
    }
}

#[derive(Default)]
struct TermAcc {
    spellings: Spellings,
    reports: usize,
    questions: Questions,
}

/// Groups `reports`. `nearest`, when given, holds each report's nearest section (same order and
/// length as `reports`; `None` where the search found nothing) and adds the sections' grouping.
///
/// Errors: `nearest` of another length than `reports`.
pub fn group(reports: &[GapReport], nearest: Option<&[Option<Section>]>, limits: Limits) -> Result<Gaps> {
    if let Some(n) = nearest {
        if n.len() != reports.len() {
            return Err(Error::invalid(
                "nearest",
                format!("one section per report: {} reports, {} sections", reports.len(), n.len()),
            ));
        }
    }
    let top = limits.top.max(1);
    let examples = limits.examples.max(1);
    let mut all = Questions::default();
    let mut terms: BTreeMap<String, TermAcc> = BTreeMap::new();
    let mut indexes: BTreeMap<Option<IndexId>, usize> = BTreeMap::new();
    let mut unnamed = 0;
    let (mut from, mut to): (Option<&String>, Option<&String>) = (None, None);
    for r in reports {
        all.add(&r.question);
        *indexes.entry(r.index.clone()).or_default() += 1;
        if let Some(t) = &r.time {
            from = Some(from.map_or(t, |f| f.min(t)));
            to = Some(to.map_or(t, |f| f.max(t)));
        }
        if r.missing.is_empty() {
            unnamed += 1;
        }
        for (key, spelling) in distinct_terms(&r.missing) {
            let acc = terms.entry(key).or_default();
            acc.spellings.add(spelling);
            acc.reports += 1;
            acc.questions.add(&r.question);
        }
    }
    let names: BTreeMap<&String, String> = terms.iter().map(|(k, a)| (k, a.spellings.best())).collect();
    let mut term_list: Vec<TermGap> = terms
        .iter()
        .map(|(k, a)| TermGap {
            term: names[k].clone(),
            reports: a.reports,
            questions: a.questions.top(examples),
        })
        .collect();
    term_list.sort_by(|a, b| b.reports.cmp(&a.reports).then_with(|| a.term.cmp(&b.term)));
    let more_terms = term_list.len().saturating_sub(top);
    term_list.truncate(top);

    let mut sections = None;
    let mut more_sections = None;
    let mut unplaced = None;
    if let Some(nearest) = nearest {
        struct SecAcc {
            title: String,
            reports: usize,
            terms: BTreeMap<String, usize>,
            questions: Questions,
        }
        let mut by_url: BTreeMap<&str, SecAcc> = BTreeMap::new();
        let mut none = 0;
        for (r, s) in reports.iter().zip(nearest) {
            let Some(s) = s else {
                none += 1;
                continue;
            };
            let acc = by_url.entry(&s.url).or_insert_with(|| SecAcc {
                title: s.title.clone(),
                reports: 0,
                terms: BTreeMap::new(),
                questions: Questions::default(),
            });
            // One index gives one title per url; the smallest keeps it deterministic regardless.
            if s.title < acc.title {
                acc.title = s.title.clone();
            }
            acc.reports += 1;
            acc.questions.add(&r.question);
            for (key, _) in distinct_terms(&r.missing) {
                *acc.terms.entry(key).or_default() += 1;
            }
        }
        let mut list: Vec<SectionGap> = by_url
            .into_iter()
            .map(|(url, a)| {
                let mut t: Vec<TermCount> =
                    a.terms.iter().map(|(k, &n)| TermCount { term: names[k].clone(), reports: n }).collect();
                t.sort_by(|a, b| b.reports.cmp(&a.reports).then_with(|| a.term.cmp(&b.term)));
                SectionGap {
                    url: url.to_string(),
                    title: a.title,
                    reports: a.reports,
                    terms: t,
                    questions: a.questions.top(examples),
                }
            })
            .collect();
        list.sort_by(|a, b| b.reports.cmp(&a.reports).then_with(|| a.url.cmp(&b.url)));
        more_sections = Some(list.len().saturating_sub(top));
        list.truncate(top);
        sections = Some(list);
        unplaced = Some(none);
    }
    let mut index_list: Vec<IndexCount> =
        indexes.into_iter().map(|(index, reports)| IndexCount { index, reports }).collect();
    index_list.sort_by(|a, b| b.reports.cmp(&a.reports).then_with(|| a.index.cmp(&b.index)));
    Ok(Gaps {
        reports: reports.len(),
        questions: all.0.len(),
        unnamed,
        from: from.cloned(),
        to: to.cloned(),
        indexes: index_list,
        terms: term_list,
        more_terms,
        sections,
        more_sections,
        unplaced,
    })
}

/// A report's terms once each: (case-folded key, spelling).
fn distinct_terms(missing: &[String]) -> Vec<(String, &str)> {
    let mut seen: BTreeMap<String, &str> = BTreeMap::new();
    for t in missing {
        seen.entry(t.to_lowercase()).or_insert(t);
    }
    seen.into_iter().collect()
}

/// Text a reader typed, safe inside a Markdown table cell: whitespace collapsed, cut to
/// [`SHOWN_CHARS`], and every character Markdown or HTML could act on escaped, so a question
/// shows as typed and never becomes a link, an image, markup or a new column.
pub fn md_text(s: &str, max: usize) -> String {
    let flat = s.split_whitespace().collect::<Vec<_>>().join(" ");
    let cut: String = if flat.chars().count() > max {
        format!("{}…", flat.chars().take(max).collect::<String>().trim_end())
    } else {
        flat
    };
    let mut out = String::with_capacity(cut.len());
    for c in cut.chars() {
        if matches!(c, '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '~' | '&') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// A URL as a Markdown link destination: within `<…>`, with the characters that could end it
/// percent-encoded.
fn md_url(url: &str) -> String {
    let mut out = String::from("<");
    for c in url.chars() {
        match c {
            '<' | '>' | ' ' | '\\' | '\n' | '\r' => out.push_str(&format!("%{:02X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('>');
    out
}

/// A `time` as the widget sends it (`2026-12-07T09:00:00.000Z`) shown as `2026-12-07 09:00 UTC`;
/// any other text as it is (escaped).
fn md_time(t: &str) -> String {
    let b = t.as_bytes();
    let shape = b.len() >= 17
        && t.ends_with('Z')
        && b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b'T'
        && b[13] == b':'
        && [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15].iter().all(|&i| b[i].is_ascii_digit());
    if shape {
        format!("{} {} UTC", &t[..10], &t[11..16])
    } else {
        md_text(t, 40)
    }
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn examples_cell(questions: &[Asked]) -> String {
    questions
        .iter()
        .map(|q| {
            let text = md_text(&q.text, SHOWN_CHARS);
            if q.reports > 1 {
                format!("{text} ({}×)", q.reports)
            } else {
                text
            }
        })
        .collect::<Vec<_>>()
        .join("<br>")
}

impl Gaps {
    /// The report as Markdown: a summary line, then the missing terms and (with an index) the
    /// nearest sections, as tables. Deterministic: the same reports give the same bytes.
    pub fn markdown(&self) -> String {
        let mut md = String::from("# What the documents do not cover\n\n");
        let mut summary = format!(
            "{} the relevance gate flagged ({} different)",
            plural(self.reports, "question", "questions"),
            self.questions
        );
        match (&self.from, &self.to) {
            (Some(f), Some(t)) if f == t => {
                summary.push_str(&format!(", asked in the hour of {}", md_time(f)))
            }
            (Some(f), Some(t)) => summary.push_str(&format!(", asked from {} to {}", md_time(f), md_time(t))),
            _ => {}
        }
        summary.push_str(".");
        if self.unnamed > 0 {
            summary.push_str(&format!(
                " {} no missing term: every word is in the documents, but no section answered well enough.",
                if self.unnamed == 1 { "1 names".to_string() } else { format!("{} name", self.unnamed) }
            ));
        }
        md.push_str(&summary);
        md.push('\n');
        if self.indexes.len() > 1 || self.indexes.iter().any(|i| i.index.is_some()) {
            let list: Vec<String> = self
                .indexes
                .iter()
                .map(|i| match &i.index {
                    Some(id) => format!(
                        "version {} build `{}` ({})",
                        id.version,
                        md_text(&id.fingerprint, 32).replace('`', ""),
                        plural(i.reports, "question", "questions")
                    ),
                    None => {
                        format!("an index that did not say ({})", plural(i.reports, "question", "questions"))
                    }
                })
                .collect();
            md.push_str(&format!("\nAsked against: {}.", list.join("; ")));
            if self.indexes.len() > 1 {
                md.push_str(" Questions asked against an older build may be answered by now.");
            }
            md.push('\n');
        }

        md.push_str("\n## Missing terms\n\n");
        if self.terms.is_empty() {
            md.push_str("No question named a term the documents lack.\n");
        } else {
            md.push_str(
                "Words readers used that no page contains: a page (or a synonym on the page they \
                 expected) would answer them.\n\n| term | questions | for example |\n|---|---:|---|\n",
            );
            for t in &self.terms {
                md.push_str(&format!(
                    "| {} | {} | {} |\n",
                    md_text(&t.term, 60),
                    t.reports,
                    examples_cell(&t.questions)
                ));
            }
            if self.more_terms > 0 {
                md.push_str(&format!(
                    "\nAnd {} more {}.\n",
                    self.more_terms,
                    if self.more_terms == 1 { "term" } else { "terms" }
                ));
            }
        }

        if let Some(sections) = &self.sections {
            md.push_str("\n## Nearest sections\n\n");
            if sections.is_empty() {
                md.push_str("No question found a section.\n");
            } else {
                md.push_str(
                    "The section each question's best search hit is in: where readers looked, and \
                     where an answer would fit.\n\n| section | questions | missing terms | for example |\n\
                     |---|---:|---|---|\n",
                );
                for s in sections {
                    let terms: Vec<String> = s
                        .terms
                        .iter()
                        .take(5)
                        .map(|t| format!("{} ({})", md_text(&t.term, 60), t.reports))
                        .collect();
                    let title = if s.title.is_empty() { &s.url } else { &s.title };
                    md.push_str(&format!(
                        "| [{}]({}) | {} | {} | {} |\n",
                        md_text(title, 80),
                        md_url(&s.url),
                        s.reports,
                        if terms.is_empty() { "—".to_string() } else { terms.join(", ") },
                        examples_cell(&s.questions)
                    ));
                }
                let more = self.more_sections.unwrap_or(0);
                if more > 0 {
                    md.push_str(&format!(
                        "\nAnd {more} more {}.\n",
                        if more == 1 { "section" } else { "sections" }
                    ));
                }
            }
            if self.unplaced.unwrap_or(0) > 0 {
                md.push_str(&format!(
                    "\n{} found no section at all.\n",
                    plural(self.unplaced.unwrap_or(0), "question", "questions")
                ));
            }
        }
        md
    }
}
