// Rate limits: a token bucket per client and one for all clients together, in a bounded map.
// A bucket holds up to `count` requests and refills at `count` per period, so a burst of more
// than `count` requests gets exactly `count` through, and a steady client gets `count` a period.
// Must not: grow without bound (the least recently seen client is forgotten past `maxClients`;
// a forgotten client starts again with a full bucket, and the global bucket still holds).

/** One bucket: `tokens` left at time `at` (ms). */
class Bucket {
  constructor(count, at) {
    this.tokens = count;
    this.at = at;
  }

  /** Refills for the time since the last look. */
  refill(rate, now) {
    if (now > this.at) {
      this.tokens = Math.min(rate.count, this.tokens + ((now - this.at) * rate.count) / rate.periodMs);
      this.at = now;
    }
  }

  /** 0 when a request may go now, else the ms until one may. */
  wait(rate) {
    return this.tokens >= 1 ? 0 : Math.ceil(((1 - this.tokens) * rate.periodMs) / rate.count);
  }
}

export class RateLimiter {
  /**
   * @param {{count: number, periodMs: number}} rate per client
   * @param {{count: number, periodMs: number}} globalRate for all clients together
   * @param {number} maxClients clients remembered at most
   */
  constructor(rate, globalRate, maxClients) {
    this.rate = rate;
    this.globalRate = globalRate;
    this.maxClients = maxClients;
    /** client → Bucket, least recently seen first. */
    this.clients = new Map();
    this.global = null;
  }

  /** How many clients are remembered (for tests and the load benchmark). */
  get size() {
    return this.clients.size;
  }

  /**
   * Takes one request for `client` at `now` (ms): `{ok: true}`, or `{ok: false, scope:
   * 'client' | 'global', retryAfterMs}` without taking anything.
   */
  take(client, now) {
    let bucket = this.clients.get(client);
    if (bucket) {
      this.clients.delete(client); // re-inserted below: the map's order is least recently seen first
      bucket.refill(this.rate, now);
    } else {
      bucket = new Bucket(this.rate.count, now);
    }
    this.clients.set(client, bucket);
    while (this.clients.size > this.maxClients) this.clients.delete(this.clients.keys().next().value);
    this.global ??= new Bucket(this.globalRate.count, now);
    this.global.refill(this.globalRate, now);
    const mine = bucket.wait(this.rate);
    if (mine > 0) return { ok: false, scope: 'client', retryAfterMs: mine };
    const all = this.global.wait(this.globalRate);
    if (all > 0) return { ok: false, scope: 'global', retryAfterMs: all };
    bucket.tokens -= 1;
    this.global.tokens -= 1;
    return { ok: true };
  }
}
