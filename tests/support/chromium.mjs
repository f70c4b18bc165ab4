// Debian Chromium driven by playwright-core (from tests/browser/node_modules), launched the one
// way every browser suite and bench/browser.mjs use: headless, no sandbox, no GPU, and nothing
// that reaches the network by itself (QUIC, background networking, component updates, sync).
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { need } from './static-server.mjs';

const root = fileURLToPath(new URL('../../', import.meta.url));

/** The browser binary: `$DOCENT_CHROMIUM`, else Debian's. */
export const CHROMIUM = process.env.DOCENT_CHROMIUM ?? '/usr/bin/chromium';

/** Command-line switches of every launch. */
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/**
 * Launches Chromium; fails with how to get it when the browser or playwright-core is missing.
 * @param {{timeout: number}} options launch timeout in ms
 * @returns {Promise<import('playwright-core').Browser>}
 */
export async function launchChromium({ timeout }) {
  need(CHROMIUM, 'install Debian Chromium (./build.sh test does: apt-get install chromium) or set DOCENT_CHROMIUM');
  const playwright = join(root, 'tests/browser/node_modules/playwright-core/index.mjs');
  need(playwright, 'run npm ci --prefix tests/browser (./build.sh test does)');
  const { chromium } = await import(pathToFileURL(playwright).href);
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout });
}
