// The local provider's speed in headless Chromium (bench/results/local-llm.md): for each model of
// models/llm/ and each thread count, the download size, the load time from the browser's storage
// (OPFS, a second page of the same profile), and for one 5-source prompt (a Cargo-book question,
// assembled by the CLI with the local provider's budget) the time to the first token and the
// tokens per second of reading the prompt and of writing the answer (llama.cpp's own counts).
// One thread runs on a page that is not cross-origin isolated, two on one that is (COOP + COEP).
//
//   node bench/local_llm.mjs [--index DIR] [--max-tokens N] [--models a.gguf,b.gguf] [--threads 1,2]
//       [--style completion|turns]
//
// --style: the provider's completion prompt (LOCAL_SETTINGS in pkg/llm/local-prompt.js: the
// offline answer's sentences as evidence, which the CLI computes as the page does), the default;
// or `turns`, the core's messages in the model's turn format (the provider before the settings).
// --max-tokens: default LOCAL_SETTINGS.maxTokens; the repeat penalty is LOCAL_SETTINGS'.
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
import { localBudget, LOCAL_CONTEXT, LOCAL_SETTINGS, completionPrompt } from '../pkg/llm.js';
import { localEvidence } from '../pkg/llm/local-prompt.js';

const root = fileURLToPath(new URL('../', import.meta.url));
const args = process.argv.slice(2);
const opt = (flag, dflt) => (args.includes(flag) ? args[args.indexOf(flag) + 1] : dflt);
const CLI = process.env.DOCENT_BIN ?? join(root, 'target/debug/docent');
const INDEX = opt('--index', join(root, 'target/eval/index/cargo-book'));
const MAX_TOKENS = Number(opt('--max-tokens', LOCAL_SETTINGS.maxTokens));
const STYLE = opt('--style', LOCAL_SETTINGS.style);
const MODELS = opt('--models', 'gemma-3-270m-q4_k_m.gguf,SmolLM2-135M-Instruct.Q4_1.gguf').split(',');
const THREADS = opt('--threads', '1,2').split(',').map(Number);
const QUESTION = 'Linking takes forever on Linux. Can I make cargo use mold or lld instead of the default linker?';
const WAIT_MS = 1_800_000;

need(join(root, 'pkg/llm/wllama/wllama.wasm'), 'run ./build.sh wasm');
need(INDEX, 'run ./build.sh eval (writes target/eval/index/cargo-book) or pass --index');
const budget = localBudget(LOCAL_CONTEXT);
const ask = (...more) => JSON.parse(execFileSync(CLI, ['ask', INDEX, QUESTION, '--k', '5', '--budget', String(budget), '--json', ...more], { encoding: 'utf8' }));
const prompt = ask();
const offline = ask('--provider', 'offline');
const input = STYLE === 'turns'
  ? prompt.messages
  : { prompt: completionPrompt(QUESTION, localEvidence(prompt, offline.abstained ? null : offline.answer)), stop: [...LOCAL_SETTINGS.stop] };

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
    const first = await run({ url, threads });                        // downloads into OPFS
    const second = await run({ url, threads, input, sources: prompt.sources, maxTokens: MAX_TOKENS, repeatPenalty: LOCAL_SETTINGS.repeatPenalty }); // from OPFS
    await ctx.close();
    const t = second.timings;
    const row = {
      model: file, threads: second.threads, isolated: second.isolated, bytes: (await stat(join(root, 'models/llm', file))).size,
      firstLoadMs: first.loadMs, cachedLoadMs: second.loadMs, cached: second.cached, format: second.format,
      promptTokens: t.promptTokens, promptTps: t.promptTokens / (t.promptMs / 1000), firstTokenMs: second.firstTokenMs,
      tokens: t.tokens, tps: t.tokens / (t.ms / 1000), text: second.text, checked: second.checked,
    };
    console.error(JSON.stringify(row));
    rows.push(row);
  }
  await closeServer(server);
}
await browser.close();
const load1 = loadavg().map((x) => x.toFixed(2)).join(' ');

const f = (x, d = 1) => x.toFixed(d);
const md = [
  `Chromium headless, ${cpus().length} cores (${cpus()[0].model}); load average (1, 5, 15 min) ${load0} at the start, ${load1} at the end.`,
  `Prompt: "${QUESTION}", 5 sources from the Cargo book index, budget ${budget} (core estimate ${prompt.tokens} tokens), ${STYLE === 'turns' ? 'the core\'s messages in the model\'s turn format' : 'the provider\'s completion prompt (LOCAL_SETTINGS)'}; answers greedy, repeat penalty ${LOCAL_SETTINGS.repeatPenalty}, at most ${MAX_TOKENS} tokens.`,
  '',
  '| model | threads | download | first load (download + load) | load from OPFS | prompt tokens | prompt tokens/s | first token | answer tokens | answer tokens/s | prompt format |',
  '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|',
  ...rows.map((r) => `| ${r.model} | ${r.threads}${r.isolated ? ' (isolated)' : ''} | ${f(r.bytes / 1e6)} MB | ${f(r.firstLoadMs / 1000)} s | ${f(r.cachedLoadMs / 1000)} s | ${r.promptTokens} | ${f(r.promptTps)} | ${f(r.firstTokenMs / 1000)} s | ${r.tokens} | ${f(r.tps)} | ${STYLE === 'turns' ? r.format : 'completion'} |`),
  '',
  ...rows.map((r) => `- ${r.model}, ${r.threads} thread(s): ${JSON.stringify(r.text.slice(0, 300))}; after the post-check: ${r.checked ? JSON.stringify(r.checked.slice(0, 300)) : '(nothing: the offline answer instead)'}`),
].join('\n');
await mkdir(join(root, 'target/bench'), { recursive: true });
await writeFile(join(root, 'target/bench/local-llm.md'), `${md}\n`);
console.log(md);
