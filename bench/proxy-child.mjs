// bench/proxy.mjs's proxy in its own Node process, so that its memory is measured alone: started
// with the upstream URL and createProxy's options (JSON) as arguments, it sends `{url}` once it
// listens, and answers each 'stats' message with its heap after GC, its CPU time, the limiter's
// client count and the log lines written so far. Run by bench/proxy.mjs only.
import { startProxy } from '../tests/support/proxy.mjs';

const [upstream, json] = process.argv.slice(2);
let logged = 0;
const p = await startProxy(upstream, { ...JSON.parse(json), log: () => (logged += 1) });
process.on('message', (m) => {
  if (m === 'stats') {
    globalThis.gc?.();
    const cpu = process.cpuUsage();
    process.send({ heapMb: process.memoryUsage().heapUsed / 2 ** 20, rssMb: process.memoryUsage().rss / 2 ** 20, cpuMs: (cpu.user + cpu.system) / 1000, clients: p.proxy.limiter.size, logged });
  } else if (m === 'close') {
    p.close().then(() => process.exit(0));
  }
});
process.send({ url: p.url });
