// HTTP byte ranges for the project's Node servers (the demo's and the tests' and benchmarks'):
// a site folder with ranged text packs is read a record at a time with `Range: bytes=a-b`, as
// static hosts and CDNs answer it. One range per request; anything else (several ranges, another
// unit, a malformed header) is ignored and the whole file is sent, as RFC 9110 allows.

/**
 * The range `header` asks of a file of `size` bytes: `null` to send the whole file,
 * `{start, end}` (inclusive, within the file) to send 206 Partial Content, or `'unsatisfiable'`
 * for 416 (the range starts past the end).
 * @param {string | undefined} header
 * @param {number} size
 * @returns {null | 'unsatisfiable' | {start: number, end: number}}
 */
export function byteRange(header, size) {
  const m = /^bytes=(\d*)-(\d*)$/.exec(header?.trim() ?? '');
  if (!m || (m[1] === '' && m[2] === '')) return null;
  let start;
  let end;
  if (m[1] === '') {
    // The last N bytes.
    const n = Number(m[2]);
    if (n === 0) return 'unsatisfiable';
    start = Math.max(0, size - n);
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
    if (m[2] !== '' && Number(m[2]) < start) return null;
  }
  if (start >= size) return 'unsatisfiable';
  return { start, end };
}

/**
 * Status and headers for a response to `range` (what `byteRange` gave) of a file of `size`
 * bytes: 206 with Content-Range and Content-Length, 416 with Content-Range, or 200 with
 * `Accept-Ranges` only (the caller sends the whole file).
 * @param {null | 'unsatisfiable' | {start: number, end: number}} range
 * @param {number} size
 */
export function rangeResponse(range, size) {
  if (range === null) return { status: 200, headers: { 'accept-ranges': 'bytes' } };
  if (range === 'unsatisfiable') return { status: 416, headers: { 'content-range': `bytes */${size}` } };
  return {
    status: 206,
    headers: {
      'accept-ranges': 'bytes',
      'content-range': `bytes ${range.start}-${range.end}/${size}`,
      'content-length': range.end - range.start + 1,
    },
  };
}
