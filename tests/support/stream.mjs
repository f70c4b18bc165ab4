// Reading an answer stream to its end, for the tests of the LLM client and the offline provider.

/**
 * Streams `streamAnswer(options)` to the end.
 * @returns {Promise<{deltas: string[], text: string, result: unknown}>} the pieces in order, their
 *   concatenation, and the generator's return value
 */
export async function collect(streamAnswer, options) {
  const it = streamAnswer(options);
  const deltas = [];
  for (;;) {
    const { done, value } = await it.next();
    if (done) return { deltas, text: deltas.join(''), result: value };
    deltas.push(value);
  }
}
