// The generated large site of the site benchmark: HTML pages made of real sentences of the
// toolchain's docs (the books and the std API docs of rust-docs), reshuffled by a seeded
// generator, so its vocabulary, sentence lengths and term statistics are those of real
// documentation while its size is free. Each section (an <h2 id> and a paragraph of 2-4
// sentences, ~60 tokens) is one chunk for docent at the default 200-token budget.
//
//   node bench/site/gen.mjs OUT_DIR [SECTIONS]     (default 1,000,000 sections, 20 per page)
//
// Deterministic: the same rust-docs and arguments give the same site byte for byte.
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { leftOut, rustDocs } from './sites.mjs';
import { rng } from '../../tests/support/hostile.mjs';

const SOURCES = ['book', 'cargo', 'reference', 'rustc', 'rust-by-example', 'nomicon', 'edition-guide', 'std'];
const PER_PAGE = 20;
const PER_DIR = 1000;

const ENTITIES = { amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'", nbsp: ' ' };
const decode = (s) => s.replace(/&(amp|lt|gt|quot|#39|nbsp);/g, (_, e) => ENTITIES[e]).replace(/&#(\d+);/g, (_, n) => String.fromCodePoint(Number(n)));
const escape = (s) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** The distinct sentences of the paragraphs of rust-docs, in the order of their pages. */
export function sentences() {
  const docs = rustDocs();
  const seen = new Set();
  const out = [];
  const walk = (d) => {
    for (const e of readdirSync(d, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.html')) {
        const html = readFileSync(p, 'utf8');
        if (leftOut(html)) continue;
        for (const m of html.matchAll(/<p>([\s\S]*?)<\/p>/g)) {
          const text = decode(m[1].replace(/<[^>]+>/g, '')).replace(/\s+/g, ' ').trim();
          for (const s of text.split(/(?<=[.!?])\s+(?=[A-Z`])/)) {
            if (s.length < 40 || s.length > 300 || seen.has(s)) continue;
            seen.add(s);
            out.push(s);
          }
        }
      }
    }
  };
  for (const src of SOURCES) if (existsSync(join(docs, src))) walk(join(docs, src));
  return out;
}

/** Writes the site into `out`/public; returns {pages, sections, sentences, bytes}. */
export function generate(out, sections = 1_000_000) {
  const pool = sentences();
  const rand = rng(16);
  const pick = (n) => Math.floor(rand() * n);
  const pages = Math.ceil(sections / PER_PAGE);
  let bytes = 0;
  let left = sections;
  for (let i = 0; i < pages; i++) {
    // A page draws from a window of neighbouring sentences (mostly one source page or chapter),
    // so a page keeps to a topic as real pages do.
    const start = pick(Math.max(1, pool.length - 400));
    const from = () => pool[start + pick(Math.min(400, pool.length))];
    const words = (s, n) => s.replace(/[^\p{L}\p{N}\s_-]/gu, '').split(/\s+/).filter(Boolean).slice(0, n).join(' ');
    const title = words(from(), 3 + pick(5)) || `Page ${i}`;
    const body = [];
    for (let j = 0; j < PER_PAGE && left > 0; j++, left--) {
      const heading = words(from(), 2 + pick(5)) || `Section ${j}`;
      const para = Array.from({ length: 2 + pick(3) }, from).join(' ');
      body.push(`<h2 id="s${j}">${escape(heading)}</h2>\n<p>${escape(para)}</p>`);
    }
    const html = `<!doctype html>\n<html lang="en">\n<head><meta charset="utf-8"><title>${escape(title)}</title></head>\n<body>\n<main>\n<h1>${escape(title)}</h1>\n${body.join('\n')}\n</main>\n</body>\n</html>\n`;
    const dir = join(out, 'public', 'p', String(Math.floor(i / PER_DIR)));
    if (i % PER_DIR === 0) mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `${i}.html`), html);
    bytes += Buffer.byteLength(html);
  }
  return { public: join(out, 'public'), pages, sections, sentences: pool.length, bytes };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [out, n] = process.argv.slice(2);
  if (!out) {
    console.error('usage: node bench/site/gen.mjs OUT_DIR [SECTIONS]');
    process.exit(2);
  }
  const t = Date.now();
  const info = generate(out, n ? Number(n) : undefined);
  console.log(JSON.stringify({ ...info, seconds: (Date.now() - t) / 1000 }));
}
