// The built sites of the site benchmark: which pages of the toolchain's HTML docs make each site,
// laid out as a folder of symlinks (so both Pagefind and docent index exactly the same pages, at
// the same urls, and nothing is copied or written next to the toolchain's files).
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';

/** `$(rustc --print sysroot)/share/doc/rust/html`, the toolchain's rust-docs. */
export function rustDocs() {
  const sysroot = execFileSync('rustc', ['--print', 'sysroot'], { encoding: 'utf8' }).trim();
  return join(sysroot, 'share/doc/rust/html');
}

/**
 * The sites, smallest first. `books`: folders of rust-docs mounted at the root (one book) or
 * under their own name (several). `generated`: made by gen.mjs from sentences of rust-docs.
 * `embedder`: what docent indexes it with (MiniLM embeds ~8 chunks/s on this machine's shared
 * cores, so the large sites use the static table, a real but cheaper embedder, or hashing).
 */
export const SITES = [
  { name: 'rust-book', title: 'The Rust book', books: ['book'], root: true, embedder: 'minilm', questions: 'rust-book' },
  { name: 'cargo-book', title: 'The Cargo book', books: ['cargo'], root: true, embedder: 'minilm', questions: 'cargo-book' },
  {
    name: 'docs-135k',
    title: 'std API docs + 5 books',
    books: ['std', 'book', 'cargo', 'reference', 'rustc', 'rust-by-example'],
    root: false,
    embedder: 'static',
    questions: 'mixed',
  },
  { name: 'gen-1m', title: 'generated, 1M chunks', generated: true, embedder: 'hashing', questions: 'mixed', optional: true },
];

/** Why a page of rust-docs is not part of a site (as a site owner would leave it out of search):
 * `noindex` pages (mdBook's print.html, the old editions' stubs) and redirect stubs. */
export function leftOut(html) {
  const head = html.slice(0, 4096);
  if (/<meta\s+name="robots"\s+content="[^"]*noindex/i.test(head)) return 'robots noindex';
  if (/<meta\s+http-equiv="refresh"/i.test(head)) return 'redirect';
  // A stub that only links to the new location (the books' first/second-edition pages).
  const body = html.replace(/<script[\s\S]*?<\/script>|<style[\s\S]*?<\/style>/gi, '').replace(/<[^>]+>/g, ' ');
  if (body.replace(/\s+/g, ' ').trim().length < 200) return 'stub';
  if (/edition of the book is no longer distributed/.test(body)) return 'old-edition stub';
  return null;
}

function htmlFiles(dir) {
  const out = [];
  const walk = (d) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.html')) out.push(p);
    }
  };
  walk(dir);
  return out.sort();
}

/**
 * Lays out the site `name` in `dir`/public as symlinks to the chosen pages; returns
 * {public, pages, leftOut: {reason: count}}. Reused when `.pages.json` is already there.
 */
export async function prepareBooks(site, dir) {
  const pub = join(dir, 'public');
  const listFile = join(dir, 'pages.json');
  if (existsSync(listFile) && existsSync(pub)) return JSON.parse(readFileSync(listFile, 'utf8'));
  const docs = rustDocs();
  await rm(pub, { recursive: true, force: true });
  const reasons = {};
  let pages = 0;
  for (const book of site.books) {
    const src = join(docs, book);
    if (!existsSync(src)) throw new Error(`${src} is missing: rustup component add rust-docs`);
    for (const file of htmlFiles(src)) {
      const why = leftOut(readFileSync(file, 'utf8'));
      if (why) {
        reasons[why] = (reasons[why] ?? 0) + 1;
        continue;
      }
      const rel = relative(src, file);
      const to = join(pub, site.root ? '' : book, rel);
      await mkdir(dirname(to), { recursive: true });
      await symlink(file, to);
      pages++;
    }
  }
  const info = { public: pub, pages, leftOut: reasons, bytes: totalBytes(pub) };
  await writeFile(listFile, JSON.stringify(info));
  return info;
}

/** Bytes of the files under `dir`, or of the file `dir` (following symlinks). */
export function totalBytes(dir) {
  if (existsSync(dir) && statSync(dir).isFile()) return statSync(dir).size;
  let n = 0;
  const walk = (d) => {
    for (const e of readdirSync(d)) {
      const p = join(d, e);
      const s = statSync(p);
      if (s.isDirectory()) walk(p);
      else n += s.size;
    }
  };
  if (existsSync(dir)) walk(dir);
  return n;
}

/** Files under `dir` (not following symlinks into other trees; the index folders are real). */
export function fileCount(dir) {
  let n = 0;
  const walk = (d) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(d, e.name));
      else n++;
    }
  };
  if (existsSync(dir)) walk(dir);
  return n;
}
