//! Canonical duplicates: which page of an index run a `<link rel="canonical">` names.
//!
//! Owns: resolving a canonical link against the run's urls (relative, absolute, pretty urls) and
//! the rule for pages that name each other. Must not: read pages (the link comes from
//! [`crate::ingest::decode::head`]) or add them to the index (that is [`super::add_site_page`]).

use std::collections::HashSet;

/// The pages of one index run that name another page of the run as their canonical url
/// (`<link rel="canonical" href>`): such a page is the same content under a second url (a
/// versioned copy, `latest/` beside `stable/`, a print view), so it is skipped and the page it
/// names is indexed. A canonical url that names the page itself, or a page the run does not have,
/// changes nothing: no page is dropped for a url that is not indexed. When two pages name each
/// other, the first one offered is skipped and the second is kept.
///
/// A page is known to the run when it was declared with [`Canonicals::expect`] (the CLIs declare
/// every file they will offer before offering any) or offered before.
#[derive(Debug, Clone, Default)]
pub struct Canonicals {
    /// Urls of the run's pages.
    known: HashSet<String>,
    /// Pages skipped as duplicates.
    skipped: HashSet<String>,
}

impl Canonicals {
    /// Declares the urls of the pages the run will offer.
    pub fn expect<I: IntoIterator<Item = String>>(&mut self, urls: I) {
        self.known.extend(urls);
    }

    /// Whether the page at `url`, whose canonical link is `href`, is a duplicate of another page
    /// of the run: that page's url, or `None` (no link, a link to itself, to a page the run does
    /// not have, or to a page already skipped as a duplicate). Records the page as known.
    pub fn duplicate_of(&mut self, url: &str, href: Option<&str>) -> Option<String> {
        self.known.insert(url.to_string());
        let target = resolve_canonical(url, href?, &self.known)?;
        if target == url || self.skipped.contains(&target) {
            return None;
        }
        self.skipped.insert(url.to_string());
        Some(target)
    }
}

/// The url among `known` that a canonical link `href` on the page at `url` names, if any.
///
/// A relative `href` is resolved against `url`; an absolute one (`https://host/docs/a.html`,
/// `/docs/a.html`) matches the known url that is its longest `/`-aligned tail (the run's urls
/// are often relative paths, `a.html`, while canonical links are absolute). Query and fragment
/// are ignored; a url ending in `/` also matches its `index.html`, and one without an extension
/// its `.html` and `/index.html` files (pretty urls).
fn resolve_canonical(url: &str, href: &str, known: &HashSet<String>) -> Option<String> {
    let href = href.split(['#', '?']).next().unwrap_or_default().trim();
    if href.is_empty() {
        return None;
    }
    let absolute = href.contains("://") || href.starts_with('/');
    let path = if absolute {
        if known.contains(href) {
            return Some(href.to_string());
        }
        // Past the scheme and host: the path, with its leading `/`.
        match href.split_once("://").map(|(_, rest)| rest).or_else(|| href.strip_prefix("//")) {
            Some(rest) => rest.find('/').map_or("/", |i| &rest[i..]).to_string(),
            None => href.to_string(),
        }
    } else {
        // Relative to the page's folder; a scheme and host of the page's url stay as they are.
        let (origin, page_path) = match url.split_once("://") {
            Some((scheme, rest)) => {
                let host_end = rest.find('/').unwrap_or(rest.len());
                (format!("{scheme}://{}", &rest[..host_end]), &rest[host_end..])
            }
            None => (String::new(), url),
        };
        let dir = page_path.rfind('/').map_or("", |i| &page_path[..=i]);
        let joined = normalise(&format!("{dir}{href}"));
        // `page_path` starts with `/` when there is an origin, and so does `joined`.
        format!("{origin}{joined}")
    };
    let mut candidates = vec![path.clone()];
    if path.ends_with('/') || path.is_empty() {
        candidates.push(format!("{path}index.html"));
    } else if !path.rsplit('/').next().unwrap_or_default().contains('.') {
        candidates.push(format!("{path}.html"));
        candidates.push(format!("{path}/index.html"));
    }
    for c in &candidates {
        if !absolute && known.contains(c) {
            return Some(c.clone());
        }
        // The longest known tail: the whole path, then after each `/`.
        let tails = std::iter::once(0).chain(c.match_indices('/').map(|(i, _)| i + 1));
        for at in tails {
            let tail = &c[at..];
            if !tail.is_empty() && known.contains(tail) {
                return Some(tail.to_string());
            }
        }
    }
    None
}

/// `a/b/../c/./d` → `a/c/d` (a `..` above the root is dropped; a leading `/` is kept).
fn normalise(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    let trailing = path.ends_with('/');
    let leading = if path.starts_with('/') { "/" } else { "" };
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    let mut out = format!("{leading}{}", parts.join("/"));
    if trailing && !parts.is_empty() {
        out.push('/');
    }
    out
}
