// The fixture sites the widget tests open (tests/fixtures/garden for most; rtl, the Hebrew
// handbook, for the right-to-left ones): copied into a new temporary folder and indexed there by
// the CLI ($DOCENT_BIN, default target/debug/docent) with the hashing embedder and this
// checkout's runtime (pkg/).
import { execFileSync } from 'node:child_process';
import { cp, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { need } from './static-server.mjs';

const root = fileURLToPath(new URL('../../', import.meta.url));

/**
 * Copies and indexes the fixture sites `names` (folders of tests/fixtures) side by side in one
 * new temporary folder; returns {tmp, sites: {name: folder}} (the caller removes `tmp`).
 */
export async function indexedFixtures(prefix, names, timeoutMs) {
  const cli = process.env.DOCENT_BIN ?? join(root, 'target/debug/docent');
  need(cli, 'run ./build.sh setup (builds the CLI) or set DOCENT_BIN');
  const tmp = await mkdtemp(join(tmpdir(), prefix));
  const sites = {};
  for (const name of names) {
    const site = join(tmp, name);
    await cp(join(root, 'tests/fixtures', name), site, { recursive: true });
    execFileSync(cli, ['index', site, '--out', join(site, 'docent'), '--embedder', 'hashing', '--assets', join(root, 'pkg')], {
      stdio: ['ignore', 'ignore', 'pipe'],
      timeout: timeoutMs,
    });
    sites[name] = site;
  }
  return { tmp, sites };
}

/** Copies and indexes the garden; returns {tmp, site} (the caller removes `tmp`). */
export async function indexedGarden(prefix, timeoutMs) {
  const { tmp, sites } = await indexedFixtures(prefix, ['garden'], timeoutMs);
  return { tmp, site: sites.garden };
}
