// Screenshots of <docent-ask> for docs/screenshots/ (what a site owner gets): inline, modal, a
// phone (375 px wide, the dialog full screen), dark, and a right-to-left page, each with an
// offline answer shown. The site is tests/fixtures/garden (tests/fixtures/rtl for the Hebrew
// one), indexed by the CLI with the hashing embedder, in showcase.html (a plain documentation
// page that follows the reader's light or dark preference).
//
//   node tests/browser/screenshots.mjs [OUT_DIR]      (default docs/screenshots)
//
// Needs what the browser tests need: pkg/ built (./build.sh wasm), the CLI (./build.sh setup or
// DOCENT_BIN), Chromium and tests/browser/node_modules (./build.sh test browser installs them).
// Prints each file with its size; fails when one is 200 kB or more.
import { mkdir, rm, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchChromium } from '../support/chromium.mjs';
import { need, startStaticServer } from '../support/static-server.mjs';
import { indexedFixtures } from '../support/garden.mjs';

const root = fileURLToPath(new URL('../../', import.meta.url));
const out = resolve(process.argv[2] ?? join(root, 'docs/screenshots'));
const WAIT_MS = 30_000;
const MAX_BYTES = 200_000;

need(join(root, 'pkg/docent_search_bg.wasm'), 'run ./build.sh wasm first');
const { tmp } = await indexedFixtures('docent-screenshots-', ['garden', 'rtl'], 2 * WAIT_MS);
let web;
let browser;
try {
  web = await startStaticServer([['/garden/', join(tmp, 'garden')], ['/rtl/', join(tmp, 'rtl')], ['/', root]]);
  browser = await launchChromium({ timeout: WAIT_MS });
  await mkdir(out, { recursive: true });

  const shots = [
    { file: 'inline.png', attrs: {}, viewport: { width: 900, height: 700 }, scheme: 'light', region: 'main' },
    { file: 'modal.png', attrs: { mode: 'modal' }, viewport: { width: 1000, height: 720 }, scheme: 'light', open: true },
    { file: 'mobile.png', attrs: { mode: 'modal' }, viewport: { width: 375, height: 740 }, scheme: 'light', open: true },
    { file: 'dark.png', attrs: {}, viewport: { width: 900, height: 700 }, scheme: 'dark', region: 'main' },
    {
      file: 'rtl.png', page: 'rtl.html', index: '/rtl/docent/', viewport: { width: 900, height: 600 }, scheme: 'light', region: 'main',
      question: 'מתי משקים את הערוגות?',
      attrs: { strings: JSON.stringify({ ask: 'שאלו', placeholder: 'שאלה על המדריך', label: 'שאלו את המדריך', copy: 'העתקה', settings: 'הגדרות המודל', prompt: 'הפרומפט', helpful: 'מועיל', notHelpful: 'לא מועיל', paths: { keyword: 'חיפוש מילות מפתח' } }) },
    },
  ];
  for (const shot of shots) {
    const context = await browser.newContext({ viewport: shot.viewport, colorScheme: shot.scheme, deviceScaleFactor: 1 });
    const page = await context.newPage();
    const index = shot.index ?? '/garden/docent/';
    const attrs = { embed: 'never', ...shot.attrs };
    await page.goto(`${web.origin}/tests/browser/${shot.page ?? 'showcase.html'}?index=${encodeURIComponent(index)}&attrs=${encodeURIComponent(JSON.stringify(attrs))}`, { timeout: WAIT_MS });
    await page.waitForFunction(() => window.widgetAdded === true, null, { timeout: WAIT_MS });
    if (shot.open) {
      await page.click('docent-ask >> [data-testid="open"]');
      await page.waitForFunction(() => document.querySelector('docent-ask').shadowRoot.querySelector('dialog').open, null, { timeout: WAIT_MS });
    }
    const question = shot.question ?? 'How do I borrow tools from the shed?';
    await page.fill('docent-ask >> [data-testid="question"]', question);
    await page.press('docent-ask >> [data-testid="question"]', 'Enter');
    await page.waitForFunction(() => !document.querySelector('docent-ask').shadowRoot.querySelector('[data-testid="actions"]').hidden, null, { timeout: WAIT_MS });
    await page.evaluate(() => document.activeElement?.blur?.());
    const path = join(out, shot.file);
    if (shot.region) await page.locator(shot.region).screenshot({ path, animations: 'disabled' });
    else await page.screenshot({ path, animations: 'disabled' });
    await context.close();
    const { size } = await stat(path);
    console.log(`${String(size).padStart(8)}  ${path}`);
    if (size >= MAX_BYTES) throw new Error(`${path} is ${size} bytes, above ${MAX_BYTES}: make the shot smaller`);
  }
} finally {
  await browser?.close();
  await web?.close();
  await rm(tmp, { recursive: true, force: true });
}
