// How the npm package's LLM client (pkg/llm/) reads Server-Sent Event streams, on the shared
// transcripts of tests/fixtures/sse/ (the native client's tests, tests/llm.rs, read them too):
// each transcript delivered whole, a byte at a time and in 7-byte pieces, through an injected
// fetch, must give the deltas and the ending expected.json records.
// Needs nothing built. Run with `node --test tests/js/sse.test.mjs`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { streamAnswer, LlmError } from '../../pkg/llm.js';

const DIR = fileURLToPath(new URL('../fixtures/sse/', import.meta.url));
const { transcripts } = JSON.parse(readFileSync(join(DIR, 'expected.json'), 'utf8'));

/** A fetch answering with `bytes` as an event stream, in reads of `size` bytes. */
function serve(bytes, size) {
  return async () => {
    const body = new ReadableStream({
      start(c) {
        for (let i = 0; i < bytes.length; i += size) c.enqueue(bytes.slice(i, i + size));
        c.close();
      },
    });
    return new Response(body, { status: 200, headers: { 'content-type': 'text/event-stream' } });
  };
}

test('every transcript has an expected result, and every expected result a transcript', () => {
  const files = readdirSync(DIR).filter((f) => f.endsWith('.sse')).sort();
  assert.deepEqual(Object.keys(transcripts).sort(), files);
  assert.ok(files.length >= 10, files.join(', '));
});

for (const [name, want] of Object.entries(transcripts)) {
  test(`SSE transcript ${name}: ${want.end}`, async () => {
    const bytes = new Uint8Array(readFileSync(join(DIR, name)));
    for (const size of [bytes.length, 1, 7]) {
      const how = `${name} in reads of ${size} bytes`;
      const deltas = [];
      let result;
      let error;
      try {
        const it = streamAnswer({
          provider: want.provider,
          endpoint: 'https://llm.example/v1',
          model: 'transcript-model',
          messages: [{ role: 'user', content: 'What colour is the lighthouse?' }],
          fetch: serve(bytes, size),
        });
        for (;;) {
          const { done, value } = await it.next();
          if (done) {
            result = value;
            break;
          }
          deltas.push(value);
        }
      } catch (e) {
        error = e;
      }
      assert.deepEqual(deltas, want.deltas, how);
      const text = want.deltas.join('');
      if (want.end === 'complete') {
        assert.equal(error, undefined, `${how}: ${error?.message}`);
        assert.deepEqual(result, { text, stopReason: want.stopReason ?? undefined, skippedEvents: want.skippedEvents }, how);
        continue;
      }
      assert.ok(error instanceof LlmError, `${how}: expected an LlmError, got ${error?.stack ?? JSON.stringify(result)}`);
      assert.equal(error.partial, text, how);
      if (want.end === 'cut') {
        assert.equal(error.kind, 'incomplete', `${how}: ${error.message}`);
      } else {
        assert.equal(error.kind, want.error.kind, `${how}: ${error.message}`);
        assert.ok(error.message.includes(want.error.message), `${how}: ${error.message}`);
      }
    }
  });
}
