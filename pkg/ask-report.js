// What the documents do not cover, reported to the site (`<docent-ask report="URL">`): each
// question the relevance gate flagged is POSTed to URL as one JSON object,
//
//   {"question": "…", "missing": ["GraphQL"], "index": {"version": 4, "fingerprint": "…"},
//    "time": "2026-12-07T09:00:00.000Z"}
//
// the question as typed, the salient terms the documents never mention (may be empty), which
// build of the index answered (manifest.json's `version` and `xxh3`; null for a folder read
// whole) and the hour it was asked (rounded down, UTC). Nothing else: no reader identifier, no
// cookie or credentials (`credentials: 'omit'`), no referrer, no page URL. `docent gaps
// FILE.jsonl` groups a file of these lines (the format is `docent::gaps`'s) into a report.
//
// Opt-in: without the attribute nothing is sent. A report is one `fetch` with `keepalive` (it
// survives the reader leaving the page); its failure is ignored, never retried, and at most
// MAX_REPORTS go out per element, so a page calling `ask()` in a loop cannot flood the endpoint.
// Must not: send anything without the attribute, add fields, or retry.

/** The most reports one element sends (per page load). */
export const MAX_REPORTS = 50;

const HOUR_MS = 3_600_000;

/** `now` (ms since the epoch) rounded down to the hour, as ISO 8601 UTC. */
export function hourOf(now) {
  return new Date(Math.floor(now / HOUR_MS) * HOUR_MS).toISOString();
}

/**
 * The body of one report: exactly these four fields.
 * @param {{question: string, missing?: string[], index?: {version: number, fingerprint: string} | null, now?: number}} r
 */
export function reportBody({ question, missing, index, now = Date.now() }) {
  return {
    question,
    missing: Array.isArray(missing) ? missing.map(String) : [],
    index: index && typeof index === 'object' ? { version: index.version, fingerprint: index.fingerprint } : null,
    time: hourOf(now),
  };
}

export class Reporter {
  #sent = 0;
  #warned = new Set();

  /**
   * The endpoint a `report` attribute names, resolved against the page, or null (absent, or not
   * an http(s) URL: one console warning per value).
   * @param {string | null} attr
   */
  endpoint(attr) {
    if (attr === null || attr.trim() === '') return null;
    let url;
    try {
      url = new URL(attr.trim(), document.baseURI);
    } catch {
      url = null;
    }
    if (url && (url.protocol === 'https:' || url.protocol === 'http:')) return url;
    if (!this.#warned.has(attr)) {
      this.#warned.add(attr);
      console.warn(`<docent-ask> report="${attr}" is not an http(s) URL; nothing is reported`);
    }
    return null;
  }

  /**
   * POSTs one report to `url` (see the top of this file); resolves when it was handed to the
   * browser, whatever the outcome.
   * @param {URL} url
   * @param {Parameters<typeof reportBody>[0]} report
   */
  send(url, report) {
    if (this.#sent >= MAX_REPORTS) return;
    this.#sent += 1;
    try {
      fetch(url, {
        method: 'POST',
        keepalive: true,
        credentials: 'omit',
        referrerPolicy: 'no-referrer',
        cache: 'no-store',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(reportBody(report)),
      }).catch(() => {});
    } catch {
      // A fetch that throws at once (a blocked URL, a body too large for keepalive): ignored.
    }
  }
}
