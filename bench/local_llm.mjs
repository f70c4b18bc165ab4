// The local provider's speed in headless Chromium (bench/results/local-llm.md): for each model of
// models/llm/ and each thread count, the download size, the load time from the browser's storage
// (OPFS, a second page of the same profile), and for one 5-source prompt (a Cargo-book question,
// assembled by the CLI with the local provider's budget) the time to the first token and the
// tokens per second of reading the prompt and of writing the answer (llama.cpp's own counts).
// One thread runs on a page that is not cross-origin isolated, two on one that is (COOP + COEP).
//
//   node bench/local_llm.mjs [--index DIR] [--max-tokens N] [--models a.gguf,b.gguf] [--threads 1,2]
//
// The page answers through the provider itself (bench/local-llm-page.js calls streamAnswer with
// provider 'local'), so each model gets the prompt the product gives it: the evidence, the turn
// format its file's template names (or the completion prompt), the stop strings and the repeat
// penalty of LOCAL_SETTINGS (pkg/llm/local-prompt.js), and the post-check; the table says which
// format and penalty each model got.
// --max-tokens: default LOCAL_SETTINGS.maxTokens.
// --index: a Cargo-book index written by `docent index` (default target/eval/index/cargo-book,
// written by ./build.sh eval). Prints a Markdown table and writes it to
// target/bench/local-llm.md (the results file quotes it).
import { execFileSync } from 'node:child_process';
import { mkdir, stat, writeFile } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchChromium } from '../tests/support/chromium.mjs';
import { need, startStaticServer, closeServer } from '../tests/support/static-server.mjs';
import { localBudget, LOCAL_CONTEXT, LOCAL_SETTINGS } from '../pkg/llm.js';

const root = fileURLToPath(new URL('../', import.meta.url));
const args = process.argv.slice(2);
const opt = (flag, dflt) => (args.includes(flag) ? args[args.indexOf(flag) + 1] : dflt);
const CLI = process.env.DOCENT_BIN ?? join(root, 'target/debug/docent');
const INDEX = opt('--index', join(root, 'target/eval/index/cargo-book'));
const MAX_TOKENS = Number(opt('--max-tokens', LOCAL_SETTINGS.maxTokens));
const MODELS = opt('--models', 'gemma-3-270m-q4_k_m.gguf,SmolLM2-135M-Instruct.Q4_1.gguf').split(',');
const THREADS = opt('--threads', '1,2').split(',').map(Number);
const QUESTION = 'Linking takes forever on Linux. Can I make cargo use mold or lld instead of the default linker?';

need(join(root, 'pkg/llm/wllama/wllama.wasm'), 'run ./build.sh wasm');
need(join(root, 'pkg/docent_wasm_bg.wasm'), 'run ./build.sh wasm (the provider\'s offline answer runs in it)');
need(INDEX, 'run ./build.sh eval (writes target/eval/index/cargo-book) or pass --index');
const budget = localBudget(LOCAL_CONTEXT);
const prompt = JSON.parse(execFileSync(CLI, ['ask', INDEX, QUESTION, '--k', '5', '--budget', String(budget), '--json'], { encoding: 'utf8' }));

const rows = [];
const load0 = loadavg().map((x) => x.toFixed(2)).join(' ');
const browser = await launchChromium({ timeout: 60_000 });
for (const threads of THREADS) {
  const isolated = threads > 1;
  const { server, origin } = await startStaticServer([['/pkg/', join(root, 'pkg')], ['/models/llm/', join(root, 'models/llm')], ['/', join(root, 'bench')]], {
    headers: () => (isolated ? { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' } : {}),
  });
  for (const file of MODELS) {
    const ctx = await browser.newContext();
    const run = async (input) => {
      const page = await ctx.newPage();
      page.on('pageerror', (e) => console.error(`pageerror: ${e.message}`));
      await page.goto(`${origin}/local-llm.html`);
      await page.waitForFunction(() => typeof window.bench === 'function');
      const r = await page.evaluate((a) => window.bench(a), input);
      await page.close();
      return r;
    };
    const url = `${origin}/models/llm/${file}`;
    const first = await run({ url, threads }); // downloads into OPFS
    const second = await run({ url, threads, prompt, question: QUESTION, maxTokens: MAX_TOKENS }); // from OPFS
    await ctx.close();
    const t = second.timings;
    const row = {
      model: file, threads: second.threads, isolated: second.isolated, bytes: (await stat(join(root, 'models/llm', file))).size,
      firstLoadMs: first.loadMs, cachedLoadMs: second.loadMs, cached: second.cached, format: formatOf(second.given), repeatPenalty: second.repeatPenalty,
      promptTokens: t.promptTokens, promptTps: t.promptTokens / (t.promptMs / 1000), firstTokenMs: second.firstTokenMs,
      tokens: t.tokens, tps: t.tokens / (t.ms / 1000), text: second.text, shown: second.shown, given: second.given,
    };
    console.error(JSON.stringify(row));
    rows.push(row);
  }
  await closeServer(server);
}
await browser.close();
const load1 = loadavg().map((x) => x.toFixed(2)).join(' ');

/** The format of the text the provider gave the model, read from its first characters. */
function formatOf(given) {
  const text = given?.prompt ?? '';
  if (text.startsWith('<|im_start|>')) return 'ChatML turns';
  if (text.startsWith('<start_of_turn>')) return 'Gemma turns';
  return Array.isArray(given) ? 'chat messages' : 'completion';
}

const f = (x, d = 1) => x.toFixed(d);
const md = [
  `Chromium headless, ${cpus().length} cores (${cpus()[0].model}); load average (1, 5, 15 min) ${load0} at the start, ${load1} at the end.`,
  `Prompt: "${QUESTION}", 5 sources from the Cargo book index, budget ${budget} (core estimate ${prompt.tokens} tokens), given to each model by the provider (streamAnswer, LOCAL_SETTINGS); answers greedy, at most ${MAX_TOKENS} tokens.`,
  '',
  '| model | threads | download | first load (download + load) | load from OPFS | prompt format | repeat penalty | prompt tokens | prompt tokens/s | first token | answer tokens | answer tokens/s |',
  '|---|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|',
  ...rows.map((r) => `| ${r.model} | ${r.threads}${r.isolated ? ' (isolated)' : ''} | ${f(r.bytes / 1e6)} MB | ${f(r.firstLoadMs / 1000)} s | ${f(r.cachedLoadMs / 1000)} s | ${r.format} | ${r.repeatPenalty} | ${r.promptTokens} | ${f(r.promptTps)} | ${f(r.firstTokenMs / 1000)} s | ${r.tokens} | ${f(r.tps)} |`),
  '',
  ...rows.map((r) => `- ${r.model}, ${r.threads} thread(s): ${JSON.stringify(r.text.slice(0, 300))}; shown after the post-check: ${JSON.stringify(r.shown.slice(0, 300))}`),
].join('\n');
await mkdir(join(root, 'target/bench'), { recursive: true });
await writeFile(join(root, 'target/bench/local-llm.md'), `${md}\n`);
await writeFile(join(root, 'target/bench/local-llm.json'), `${JSON.stringify(rows, null, 2)}\n`);
console.log(md);
