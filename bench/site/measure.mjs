// One reader session in headless Chromium against the counting server: a fresh browser context
// (empty HTTP cache, Cache API and storage), the benchmark page with the search box, then the
// questions one after another. Bytes and requests come from the server, one phase per question
// (the first phase also holds the page's scripts), so the Web Worker's fetches count too.

/** The network of a slow connection, as Chromium's DevTools emulate it. */
export const THROTTLE = { offline: false, latency: 50, downloadThroughput: (10e6 / 8), uploadThroughput: (10e6 / 8) };

/**
 * Runs `questions` through one tool's search box. `tool`: 'docent' | 'pagefind'; `query`: the
 * page's query string (docent: the widget's attributes). `throttle`: emulate THROTTLE (first
 * question only then). Returns {questions: [{q, requests, bytes, ms, …}], background?}.
 */
export async function session({ browser, web, tool, query = '', questions, throttle = false, waitMs, log }) {
  const context = await browser.newContext({ viewport: { width: 1000, height: 900 } });
  const page = await context.newPage();
  page.setDefaultTimeout(waitMs);
  const problems = [];
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.location().url.endsWith('/favicon.ico')) problems.push(`console.error: ${m.text()}`);
  });
  const out = { tool, query, throttled: throttle, questions: [], problems };
  try {
    if (throttle) {
      const cdp = await context.newCDPSession(page);
      await cdp.send('Network.enable');
      await cdp.send('Network.emulateNetworkConditions', THROTTLE);
    }
    await web.idle(200, 5000);
    web.phase('q1');
    await page.goto(`${web.origin}/__bench/${tool}.html${query ? `?${query}` : ''}`, { waitUntil: 'load', timeout: waitMs });
    await page.waitForFunction(() => window.benchReady === true, null, { timeout: waitMs });
    const n = throttle ? 1 : questions.length;
    for (let i = 0; i < n; i++) {
      const q = questions[i];
      if (i > 0) web.phase(`q${i + 1}`);
      const r = tool === 'docent' ? await askDocent(page, q, i, waitMs) : await askPagefind(page, q, waitMs);
      // Fetches that belong to this answer but end just after it (none expected) are still counted.
      await web.idle(300, waitMs);
      const p = web.totals(`q${i + 1}`);
      out.questions.push({ q, ...r, requests: p.requests, bytes: p.bytes, files: p.files });
      log?.(`${tool}${query ? `?${query}` : ''}${throttle ? ' (throttled)' : ''} q${i + 1}: ${p.requests} requests, ${(p.bytes / 1e3).toFixed(1)} kB, ${r.ms.toFixed(0)} ms`);
      if (i === 0 && tool === 'docent' && !throttle) {
        // What the widget loads in the background after the first answer (the embedder, when the
        // dense path is on), before the reader's next question.
        web.phase('background');
        await web.idle(3000, waitMs);
        const b = web.totals('background');
        out.background = { requests: b.requests, bytes: b.bytes, files: b.files };
        await page.waitForTimeout(500);
      }
    }
  } finally {
    web.stop();
    await context.close();
  }
  return out;
}

async function askDocent(page, q, i, waitMs) {
  const t0 = await page.evaluate((q) => window.benchAsk(q), q);
  try {
    await page.waitForFunction((n) => window.benchAnswers.length > n, i, { timeout: waitMs });
  } catch (e) {
    const status = await page.evaluate(() => document.querySelector('docent-ask')?.shadowRoot?.querySelector('[data-testid="status"]')?.textContent);
    throw new Error(`no answer from docent to "${q}" (status: ${status}): ${e.message}`);
  }
  const a = await page.evaluate((n) => window.benchAnswers[n], i);
  return { ms: a.at - t0, sources: a.sources.slice(0, 5), note: a.note, path: a.detail.path, answered: a.text.length > 0 };
}

async function askPagefind(page, q, waitMs) {
  const t0 = await page.evaluate((q) => window.benchAsk(q), q);
  // Done when the message names the result count and the first page of results (at most 5) has
  // its data loaded (no placeholder left).
  const handle = await page.waitForFunction(
    (q) => {
      const m = window.benchMessage();
      if (!m.includes(q) || !/\bresults?\b/i.test(m) || /searching/i.test(m)) return false;
      const total = Number((/(\d+)\s+results?/i.exec(m) ?? [0, 0])[1]);
      const rs = window.benchResults();
      return rs.length >= Math.min(5, total) && rs.every((r) => !r.loading && r.href) ? performance.now() : false;
    },
    q,
    { timeout: waitMs, polling: 'raf' },
  );
  const at = await handle.jsonValue();
  const rs = await page.evaluate(() => window.benchResults());
  return { ms: at - t0, sources: rs.slice(0, 5).map((r) => r.href), message: await page.evaluate(() => window.benchMessage()) };
}
