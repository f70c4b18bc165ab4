// The docent proxy (pkg/proxy/) under a bounded load on loopback, against the mock LLM
// (tests/support/mock-llm.mjs), written to bench/results/proxy.md:
//   1. first-chunk latency, direct and through the proxy, one request at a time (median of 20);
//   2. the same burst of requests with the same concurrency, direct and through the proxy:
//      p50/p99 of the whole answer's time, so the difference is what the proxy adds; 429s
//      against what the per-client rate allows, and the upstream requests the mock saw;
//   3. a flood from many distinct clients (more than `maxClients`): the global cap to the
//      request, the limiter's map bounded, memory (heap after GC) sampled along the way;
//   4. many concurrent clients for a fixed time (default 200 for 20 s, each its own address
//      asking again as soon as it has its answer), direct then through the proxy: requests
//      served, the latency the proxy adds at that concurrency, 429s against each client's
//      allowance, memory sampled every few seconds.
// Every phase is bounded in requests and in time. Run: `node bench/proxy.mjs`
// (`--requests N --concurrency N --flood N --clients N --seconds N` to change the sizes).
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { writeFile } from 'node:fs/promises';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { startMockLlm } from '../tests/support/mock-llm.mjs';
import { chatBody, firstChunkMs, median, quantile, startProxy } from '../tests/support/proxy.mjs';

const root = fileURLToPath(new URL('../', import.meta.url));
const args = process.argv.slice(2);
const arg = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const REQUESTS = arg('requests', 2000);
const CONCURRENCY = arg('concurrency', 20);
const CLIENTS = 20;
const PER_CLIENT = 50; // '50/hour': no refill within the run, so the 429s are exact
const FLOOD = arg('flood', 5000);
const MAX_CLIENTS = 1000;
const GLOBAL = 3000;
const PHASE_LIMIT_MS = 60_000;
const HELD_CLIENTS = arg('clients', 200);
const HELD_SECONDS = arg('seconds', 20);
/** Each held client's allowance: '10/day', so nothing refills within the run and the 429s are exact. */
const HELD_ALLOWANCE = 10;
/** A bound on the requests of one held phase, whatever the speed. */
const HELD_MAX_REQUESTS = 200_000;

/** The proxy in a child process (bench/proxy-child.mjs): `{url, stats(), close()}`. */
async function childProxy(upstream, options) {
  const child = fork(fileURLToPath(new URL('proxy-child.mjs', import.meta.url)), [upstream, JSON.stringify(options)], { execArgv: ['--expose-gc'] });
  const [{ url }] = await once(child, 'message');
  return {
    url,
    stats: async () => {
      child.send('stats');
      return (await once(child, 'message'))[0];
    },
    close: async () => {
      child.send('close');
      await once(child, 'exit');
    },
  };
}

/** POSTs the mock saw since the last call (the records are dropped, so the mock stays small). */
let seenPosts = 0;
function upstreamPosts() {
  seenPosts += mock.posts().length;
  mock.requests = [];
  const n = seenPosts;
  return n;
}

/** Runs `count` calls of `one(i)`, `concurrency` at a time, stopping at PHASE_LIMIT_MS; returns the results. */
async function burst(count, concurrency, one, onEach = () => {}) {
  const out = [];
  let next = 0;
  const stopAt = Date.now() + PHASE_LIMIT_MS;
  const worker = async () => {
    while (next < count && Date.now() < stopAt) {
      const i = next++;
      out.push(await one(i));
      onEach(out.length);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return out;
}

/**
 * `clients` concurrent callers of `one(client)` for `seconds` (each calls again as soon as its
 * answer is read), at most HELD_MAX_REQUESTS in all; `onTick()` every 4 s. Returns the results.
 */
async function held(clients, seconds, one, onTick = () => {}) {
  const out = [];
  const stopAt = Date.now() + seconds * 1000;
  const tick = setInterval(onTick, 4000);
  const caller = async (c) => {
    while (Date.now() < stopAt && out.length < HELD_MAX_REQUESTS) out.push(await one(c));
  };
  await Promise.all(Array.from({ length: clients }, (_, c) => caller(c)));
  clearInterval(tick);
  return out;
}

/** One whole request: status and ms until its body was read to the end. */
async function timed(url, headers) {
  const t0 = performance.now();
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(chatBody()) });
  await res.arrayBuffer();
  return { status: res.status, ms: performance.now() - t0 };
}

const mock = await startMockLlm();
mock.fallback = { answer: ['An ', 'answer ', 'in ', 'five ', 'chunks [1].'], chunkDelayMs: 0 };
const started = new Date();

// 1. First-chunk latency (the proxy in this process, as the test does).
let p = await startProxy(mock.openai, { rate: '100000/min', log: false });
const direct1 = [];
const proxied1 = [];
for (let i = 0; i < 23; i++) {
  const d = await firstChunkMs(`${mock.openai}/chat/completions`, chatBody());
  const q = await firstChunkMs(`${p.url}/v1/chat/completions`, chatBody(), { origin: 'https://docs.example.com' });
  if (i >= 3) {
    direct1.push(d.ms);
    proxied1.push(q.ms);
  }
}
await p.close();

// 2. The burst, direct then through the proxy (in its own process).
const direct = await burst(REQUESTS, CONCURRENCY, () => timed(`${mock.openai}/chat/completions`, {}));
upstreamPosts();
seenPosts = 0;
p = await childProxy(mock.openai, { rate: `${PER_CLIENT}/day`, clientIpHeader: 'x-client' });
const before2 = await p.stats();
const proxied = await burst(REQUESTS, CONCURRENCY, (i) => timed(`${p.url}/v1/chat/completions`, { origin: 'https://docs.example.com', 'x-client': `198.51.100.${i % CLIENTS}` }), (n) => {
  if (n % 200 === 0) upstreamPosts();
});
const after2 = await p.stats();
const upstream2 = upstreamPosts();
const served = proxied.filter((r) => r.status === 200);
const limited = proxied.filter((r) => r.status === 429).length;
const expectServed = Math.min(proxied.length, CLIENTS * PER_CLIENT);
await p.close();

// 3. The flood from distinct clients.
seenPosts = 0;
p = await childProxy(mock.openai, { rate: '5/day', globalRate: `${GLOBAL}/day`, maxClients: MAX_CLIENTS, clientIpHeader: 'x-client' });
const samples = [await p.stats()];
const step = Math.max(1, Math.floor(FLOOD / 5));
let pending = Promise.resolve();
const flood = await burst(FLOOD, CONCURRENCY, (i) => timed(`${p.url}/v1/chat/completions`, { origin: 'https://docs.example.com', 'x-client': `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}` }), (n) => {
  if (n % 200 === 0) upstreamPosts();
  if (n % step === 0) pending = pending.then(async () => samples.push(await p.stats()));
});
await pending;
samples.push(await p.stats());
const upstream3 = upstreamPosts();
const floodServed = flood.filter((r) => r.status === 200).length;
const floodBusy = flood.filter((r) => r.status === 429).length;
const maxSize = Math.max(...samples.map((s) => s.clients));
await p.close();

// 4. Many clients held for a fixed time, direct then through the proxy.
const heldDirect = await held(HELD_CLIENTS, HELD_SECONDS, () => timed(`${mock.openai}/chat/completions`, {}), () => upstreamPosts());
upstreamPosts();
seenPosts = 0;
// The global cap (default 30 times the per-client rate) well above what the clients may ask.
p = await childProxy(mock.openai, { rate: `${HELD_ALLOWANCE}/day`, globalRate: `${HELD_CLIENTS * HELD_ALLOWANCE * 10}/day`, maxClients: HELD_CLIENTS * 2, clientIpHeader: 'x-client' });
const heldSamples = [await p.stats()];
let heldPending = Promise.resolve();
const heldProxied = await held(HELD_CLIENTS, HELD_SECONDS, (c) => timed(`${p.url}/v1/chat/completions`, { origin: 'https://docs.example.com', 'x-client': `203.0.${c >> 8}.${c & 255}` }), () => {
  upstreamPosts();
  heldPending = heldPending.then(async () => heldSamples.push(await p.stats()));
});
await heldPending;
heldSamples.push(await p.stats());
const upstream4 = upstreamPosts();
await p.close();
await mock.close();
const heldServed = heldProxied.filter((r) => r.status === 200);
const heldLimited = heldProxied.filter((r) => r.status === 429).length;
const heldExpect = HELD_CLIENTS * HELD_ALLOWANCE;
const exact4 = heldServed.length === heldExpect && heldLimited === heldProxied.length - heldExpect && upstream4 === heldExpect;
const hq = (rows, q) => quantile(rows.map((r) => r.ms), q);

const f = (ms) => ms.toFixed(1);
const dq = (q) => quantile(direct.map((r) => r.ms), q);
const pq = (q) => quantile(served.map((r) => r.ms), q);
const mem = (s) => `${s.heapMb.toFixed(1)} (RSS ${s.rssMb.toFixed(0)})`;
const exact2 = served.length === expectServed && limited === proxied.length - expectServed && upstream2 === expectServed;
const exact3 = floodServed === Math.min(GLOBAL, flood.length) && upstream3 === floodServed;
const md = `# The docent proxy under load (loopback)

Command: \`node bench/proxy.mjs\`${args.length ? ` (${args.join(' ')})` : ''}; ${started.toISOString()}; Node ${process.version}, ${os.cpus().length} cores
(${os.cpus()[0]?.model ?? 'unknown CPU'}), load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')} at the end (the cores are shared with other jobs).
The mock LLM (tests/support/mock-llm.mjs) and the clients run in this process on 127.0.0.1; the proxy
(pkg/proxy/ on its Node server) runs in a child process (bench/proxy-child.mjs) for phases 2 to 4,
so its memory is its own. Every request is a whole streamed answer of 5 chunks.

## First chunk, one request at a time (20 runs after 3 warm-up; proxy in the same process)

| path | median ms | p90 ms |
|---|---:|---:|
| direct to the mock | ${f(median(direct1))} | ${f(quantile(direct1, 0.9))} |
| through the proxy | ${f(median(proxied1))} | ${f(quantile(proxied1, 0.9))} |
| added by the proxy | ${f(median(proxied1) - median(direct1))} | |

## ${REQUESTS} requests, ${CONCURRENCY} at a time, ${CLIENTS} clients at ${PER_CLIENT}/day each

| | direct | through the proxy (answered requests) | added |
|---|---:|---:|---:|
| p50 ms (whole answer) | ${f(dq(0.5))} | ${f(pq(0.5))} | ${f(pq(0.5) - dq(0.5))} |
| p99 ms | ${f(dq(0.99))} | ${f(pq(0.99))} | ${f(pq(0.99) - dq(0.99))} |

${os.loadavg()[0] > os.cpus().length ? `The load average (${os.loadavg()[0].toFixed(1)}) was above the number of cores: at such a load these latencies move between runs by tens of ms (p50) to hundreds (p99); the counts and the memory do not.\n\n` : ''}Requests sent: ${proxied.length}; answered (200): ${served.length}, expected ${expectServed} (${CLIENTS} × ${PER_CLIENT});
refused with 429: ${limited}, expected ${proxied.length - expectServed}; requests the upstream saw: ${upstream2}.
Other statuses: ${proxied.length - served.length - limited}. ${exact2 ? 'Exactly as configured.' : '**Not as configured.**'}
Proxy heap after GC, MB: ${mem(before2)} before, ${mem(after2)} after; log lines: ${after2.logged}.
Proxy CPU time (user + system, its own process): ${f(after2.cpuMs - before2.cpuMs)} ms for the ${proxied.length} requests,
${f((after2.cpuMs - before2.cpuMs) / proxied.length)} ms a request on average (answered and refused together): a figure the machine's load does not change much.

## ${FLOOD} requests from ${FLOOD} distinct clients, global cap ${GLOBAL}/day, maxClients ${MAX_CLIENTS}

Answered: ${floodServed} (expected ${Math.min(GLOBAL, flood.length)}); refused with 429 (\`busy\`): ${floodBusy}; upstream requests: ${upstream3}.
${exact3 ? 'Exactly as configured.' : '**Not as configured.**'} Clients remembered by the limiter at most: ${maxSize} (bound ${MAX_CLIENTS}).
Proxy heap after GC, MB, sampled through the flood: ${samples.map(mem).join(', ')}; log lines: ${samples.at(-1).logged}.

## ${HELD_CLIENTS} concurrent clients for ${HELD_SECONDS} s, ${HELD_ALLOWANCE}/day each (global cap ${HELD_CLIENTS * HELD_ALLOWANCE * 10}/day)

Each client asks again as soon as it has read its answer; direct first, then through the proxy, the same
${HELD_SECONDS} s each. Latency of answered requests (through the proxy: the 200s only; the 429s answer at once).

| | direct | through the proxy | added |
|---|---:|---:|---:|
| requests sent | ${heldDirect.length} | ${heldProxied.length} | |
| p50 ms (whole answer) | ${f(hq(heldDirect, 0.5))} | ${f(hq(heldServed, 0.5))} | ${f(hq(heldServed, 0.5) - hq(heldDirect, 0.5))} |
| p99 ms | ${f(hq(heldDirect, 0.99))} | ${f(hq(heldServed, 0.99))} | ${f(hq(heldServed, 0.99) - hq(heldDirect, 0.99))} |

Answered (200): ${heldServed.length}, expected ${heldExpect} (${HELD_CLIENTS} × ${HELD_ALLOWANCE}); refused with 429: ${heldLimited}, expected ${heldProxied.length - heldExpect};
upstream requests: ${upstream4}; other statuses: ${heldProxied.length - heldServed.length - heldLimited}. ${exact4 ? 'Exactly as configured.' : '**Not as configured.**'}
Proxy heap after GC, MB, every 4 s: ${heldSamples.map(mem).join(', ')}; log lines: ${heldSamples.at(-1).logged}.
`;
await writeFile(`${root}bench/results/proxy.md`, md);
process.stdout.write(md);
