// Rendering an answer with its citations, and its sources, for the demo page and the
// <docent-ask> widget: the DOM is built from text nodes and elements only, never innerHTML, so
// document text and model output cannot become markup; links are made only from the sources'
// URLs, and only where safeHref allows (http(s), or this site).
// Must not: fetch, search or stream anything (docent.js and llm.js do), or style anything (the
// page's or the widget's CSS does, through the classes and `part` names below).
import { citationSegments, safeHref } from './llm/citations.js';

/**
 * An answer as a fragment: its text as text nodes, each `[n]` citation as an `a.cite`
 * (`part="cite"`) linking to source n, or a `span.cite` when that source's URL is not safe to
 * link (e.g. a file dropped on the demo page). A citation's title and accessible name say which
 * source it is (its heading path, else its title).
 * @param {string} text the answer so far
 * @param {Array<{n: number, url: string, title: string, heading: string}>} sources the prompt's sources
 * @param {{base?: string | URL, newTab?: boolean}} [options] `base`: what relative source URLs are
 *   resolved against (default: the page's URL); `newTab`: links open a new tab (default false)
 * @returns {DocumentFragment}
 */
export function renderAnswer(text, sources, { base, newTab = false } = {}) {
  const frag = document.createDocumentFragment();
  for (const seg of citationSegments(text, sources, { base })) {
    if (seg.n === undefined) {
      frag.append(document.createTextNode(seg.text));
      continue;
    }
    const source = sources.find((s) => s.n === seg.n);
    const label = source ? source.heading || source.title : `source ${seg.n}`;
    const el = link(seg.href, newTab);
    el.className = 'cite';
    el.setAttribute('part', 'cite');
    el.textContent = seg.text;
    el.title = label;
    el.setAttribute('aria-label', `source ${seg.n}: ${label}`);
    frag.append(el);
  }
  return frag;
}

/**
 * The sources as list items `<li value="n" part="source">`, each holding the source's heading
 * path (which starts with its page's title; the title alone without one), linked to the source
 * when its URL is safe to link and a `span` otherwise.
 * @param {Array<{n: number, url: string, title: string, heading: string}>} sources
 * @param {{base?: string | URL, newTab?: boolean, titleClass?: string}} [options] `base` and
 *   `newTab` as for renderAnswer; `titleClass`: the class of the heading's element (default none)
 * @returns {HTMLLIElement[]}
 */
export function renderSources(sources, { base, newTab = false, titleClass = '' } = {}) {
  return sources.map((s) => {
    const li = document.createElement('li');
    li.value = s.n;
    li.setAttribute('part', 'source');
    const title = link(safeHref(s.url, base), newTab);
    if (titleClass) title.className = titleClass;
    title.textContent = s.heading || s.title;
    li.append(title);
    return li;
  });
}

/** An `a` to `href` (already checked by safeHref), or a `span` when there is none. */
function link(href, newTab) {
  if (!href) return document.createElement('span');
  const a = document.createElement('a');
  a.href = href;
  if (newTab) {
    a.target = '_blank';
    a.rel = 'noopener noreferrer';
  }
  return a;
}
