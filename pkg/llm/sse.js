// Server-Sent Events parsing for the LLM client: text in, events out, in pieces of any size.
// Must not: know about providers or JSON (stream.js reads the events).

/** Longest SSE line accepted (characters); a longer one is a 'protocol' error. */
export const MAX_LINE = 1024 * 1024;

/**
 * Server-Sent Events parser fed with decoded text in arbitrary pieces. Lines end with `\n`,
 * `\r\n` or `\r` (a `\r\n` split across pieces counts once); `:` lines are comments; `data:` lines
 * of one event are joined with `\n`; `event:` names it; other fields are ignored. An event is
 * dispatched at a blank line, and also at the end of the stream without one (more lenient than
 * the specification, as servers often omit the final blank line after `[DONE]`).
 */
export class SseParser {
  constructor() {
    this.buffer = '';
    this.skipLf = false;
    this.data = [];
    this.event = '';
  }

  /** Events completed by `text`; null when a line exceeds MAX_LINE. Scans only the new text. */
  push(text) {
    const events = [];
    let start = 0;
    if (this.skipLf && text.length) {
      if (text.charCodeAt(0) === 10) start = 1;
      this.skipLf = false;
    }
    for (let i = start; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c !== 10 && c !== 13) continue;
      this.line(this.buffer + text.slice(start, i), events);
      this.buffer = '';
      if (c === 13) {
        if (i + 1 < text.length) {
          if (text.charCodeAt(i + 1) === 10) i++;
        } else {
          this.skipLf = true;
        }
      }
      start = i + 1;
    }
    this.buffer += text.slice(start);
    return this.buffer.length > MAX_LINE ? null : events;
  }

  /** The events left at the end of the stream (after `rest`, the decoder's tail). */
  end(rest = '') {
    const events = this.push(rest);
    if (events === null) return null;
    if (this.buffer) this.line(this.buffer, events);
    this.buffer = '';
    this.line('', events);
    return events;
  }

  line(line, events) {
    if (line === '') {
      if (this.data.length) events.push({ event: this.event, data: this.data.join('\n') });
      this.data = [];
      this.event = '';
      return;
    }
    if (line.startsWith(':')) return;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') this.data.push(value);
    else if (field === 'event') this.event = value;
  }
}
