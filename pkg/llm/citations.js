// Answers with citations, made safe to render: the `[n]` of an answer matched to its source, and
// the only links a page may make from a source's URL.
// Must not: touch the DOM (render.js does), or take a link from the answer text.
import { pageHref } from './errors.js';

/**
 * Splits an answer into plain text and citation segments, for rendering with text nodes and
 * `<a>` elements (never innerHTML). A citation is `[n]` with n a source's number (its `n`, else
 * its position from 1); any other bracket, `[0]`, `[01]` or a number without a source stays
 * text. The link of a citation comes only from the source (`safeHref(source.url, base)`), never
 * from the answer, so `[1](javascript:…)` in an answer is a citation followed by plain text.
 * @param {string} text the answer
 * @param {Array<{n?: number, url?: string}>} sources the prompt's sources
 * @param {{base?: string | URL}} [options] base for relative source URLs; default the page's URL
 * @returns {Array<{text: string} | {text: string, n: number, href: string | null}>} adjacent
 *   text is merged; `href` is null when the source's URL is not safe to link
 */
export function citationSegments(text, sources, { base } = {}) {
  const answer = typeof text === 'string' ? text : String(text ?? '');
  const byNumber = new Map();
  (Array.isArray(sources) ? sources : []).forEach((s, i) => {
    if (s === null || typeof s !== 'object') return;
    byNumber.set(Number.isSafeInteger(s.n) ? s.n : i + 1, s);
  });
  const out = [];
  let plain = '';
  let last = 0;
  for (const m of answer.matchAll(/\[([1-9]\d{0,3})\]/g)) {
    const n = Number(m[1]);
    const source = byNumber.get(n);
    if (!source) continue;
    plain += answer.slice(last, m.index);
    if (plain) out.push({ text: plain });
    plain = '';
    out.push({ text: m[0], n, href: safeHref(source.url, base) });
    last = m.index + m[0].length;
  }
  plain += answer.slice(last);
  if (plain) out.push({ text: plain });
  return out;
}

/**
 * A link target that is safe to put in `href`: the absolute URL when `url` is an http(s) URL, or
 * a relative URL that resolves against `base` (default: the page's URL) to the same origin;
 * otherwise null: other schemes (`javascript:`, `data:`, `vbscript:`, `file:`…, however they are
 * cased or prefixed with spaces and control characters), protocol-relative or backslash tricks
 * that leave the base's origin, URLs with user info, and relative URLs without a base.
 * @param {string} url
 * @param {string | URL} [base]
 * @returns {string | null}
 */
export function safeHref(url, base) {
  if (typeof url !== 'string') return null;
  let baseUrl;
  const b = base ?? pageHref();
  if (b !== undefined) {
    try {
      baseUrl = new URL(String(b));
    } catch {
      baseUrl = undefined;
    }
  }
  let absolute = true;
  try {
    new URL(url);
  } catch {
    absolute = false;
  }
  let u;
  try {
    u = new URL(url, baseUrl);
  } catch {
    return null;
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return null;
  if (u.username || u.password) return null;
  if (!absolute && u.origin !== baseUrl?.origin) return null;
  return u.href;
}
