// One reader session in headless Chromium against the counting server: a fresh browser context
// (empty HTTP cache, Cache API and storage), the benchmark page with the search box, then the
// questions one after another. Bytes and requests come from the server (so the Web Worker's
// fetches count too), split by arrival time at the moments the reader asked and got answers:
// question 1 holds everything from the page load to its answer (the page's scripts too), then
// *background* what arrived between the first answer and the second question (what a widget
// loads after its first answer), then question n what arrived from asking it to asking the next.

/** The network of a slow connection, as Chromium's DevTools emulate it. */
export const THROTTLE = { offline: false, latency: 50, downloadThroughput: 10e6 / 8, uploadThroughput: 10e6 / 8 };

/**
 * Runs `questions` through one tool's search box. `tool`: 'docent' | 'pagefind'; `query`: the
 * page's query string (docent: the widget's attributes). `throttle`: emulate THROTTLE (first
 * question only then). Returns {questions: [{q, requests, bytes, ms, files, …}], background}.
 */
export async function session({ browser, web, tool, query = '', questions, throttle = false, waitMs, log }) {
  const context = await browser.newContext({ viewport: { width: 1000, height: 900 } });
  const page = await context.newPage();
  page.setDefaultTimeout(waitMs);
  const problems = [];
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console.error: ${m.text()}`);
  });
  const name = `${tool}${query ? `?${query}` : ''}${throttle ? ' (throttled)' : ''}`;
  const out = { tool, query, throttled: throttle, questions: [], problems };
  const marks = []; // per question: [asked, answered] in epoch ms
  try {
    if (throttle) {
      const cdp = await context.newCDPSession(page);
      await cdp.send('Network.enable');
      await cdp.send('Network.emulateNetworkConditions', THROTTLE);
    }
    await web.idle(200, 5000);
    web.clear();
    await page.goto(`${web.origin}/__bench/${tool}.html${query ? `?${query}` : ''}`, { waitUntil: 'load', timeout: waitMs });
    await page.waitForFunction(() => window.benchReady === true, null, { timeout: waitMs });
    const n = throttle ? 1 : questions.length;
    for (let i = 0; i < n; i++) {
      const q = questions[i];
      const r = tool === 'docent' ? await askDocent(page, q, i, waitMs) : await askPagefind(page, q, waitMs);
      marks.push([r.asked, r.answered]);
      out.questions.push({ q, ms: r.answered - r.asked, ...r.info });
      // Fetches that end just after the answer still belong to this question.
      await web.idle(300, waitMs);
      if (i === 0 && tool === 'docent' && !throttle) {
        // Let the widget load what it loads after its first answer (the embedder, when the dense
        // path is on) before the reader's next question. A widget with a background embedder
        // says when it is ready or failed; the monolithic one has none, and the network falls quiet.
        await web.idle(3000, waitMs);
        await page.waitForFunction(() => window.benchEmbedder.every((e, j, all) => j < all.length - 1 || e.state !== 'loading'), null, { timeout: waitMs });
        await web.idle(500, waitMs);
        out.embedder = await page.evaluate(() => window.benchEmbedder);
      }
    }
    await web.idle(300, waitMs);
  } finally {
    await context.close();
  }
  // Split the server's log at the marks.
  const reqs = [...web.log];
  const take = (from, to) => {
    const xs = reqs.filter((x) => x.t >= from && x.t < to);
    return { requests: xs.length, bytes: xs.reduce((a, x) => a + x.bytes, 0), files: xs.map((x) => [x.path, x.bytes, x.status]) };
  };
  const end = Infinity;
  out.questions.forEach((x, i) => {
    const from = i === 0 ? 0 : marks[i][0];
    const to = i === 0 ? marks[0][1] + 1 : i + 1 < marks.length ? marks[i + 1][0] : end;
    Object.assign(x, take(from, to));
  });
  out.background = take(marks[0][1] + 1, marks.length > 1 ? marks[1][0] : end);
  for (const [i, x] of out.questions.entries()) log?.(`${name} q${i + 1}: ${x.requests} requests, ${(x.bytes / 1e3).toFixed(1)} kB, ${x.ms.toFixed(0)} ms${x.search ? ` (${x.search})` : ''}`);
  if (out.background.requests) log?.(`${name} background after q1: ${out.background.requests} requests, ${(out.background.bytes / 1e3).toFixed(1)} kB`);
  return out;
}

/** performance.now() of the page as epoch ms (the server's clock: same machine). */
const epoch = (page, t) => page.evaluate((t) => performance.timeOrigin + t, t);

async function askDocent(page, q, i, waitMs) {
  const t0 = await page.evaluate((q) => window.benchAsk(q), q);
  try {
    await page.waitForFunction((n) => window.benchAnswers.length > n, i, { timeout: waitMs });
  } catch (e) {
    const status = await page.evaluate(() => document.querySelector('docent-ask')?.shadowRoot?.querySelector('[data-testid="status"]')?.textContent);
    throw new Error(`no answer from docent to "${q}" (status: ${status}): ${e.message}`);
  }
  const a = await page.evaluate((n) => window.benchAnswers[n], i);
  return {
    asked: await epoch(page, t0),
    answered: await epoch(page, a.at),
    info: { sources: a.sources.slice(0, 5), note: a.note, search: a.search, answered: a.text.length > 0 },
  };
}

async function askPagefind(page, q, waitMs) {
  const t0 = await page.evaluate((q) => window.benchAsk(q), q);
  // Done when the message names this question's result count and the first page of results (at
  // most 5) has its data loaded (no placeholder left).
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
  return {
    asked: await epoch(page, t0),
    answered: await epoch(page, at),
    info: { sources: rs.slice(0, 5).map((r) => r.href), message: await page.evaluate(() => window.benchMessage()) },
  };
}
