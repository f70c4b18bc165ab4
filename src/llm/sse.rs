//! Server-Sent Events read from a byte stream, for the native LLM client.
//!
//! Owns: lines (`\n` or `\r\n`), comments, `data:` lines joined with `\n`, the `event:` name,
//! and a bound on line length. Must not: know about providers or JSON (the client reads the
//! events).

use std::io::{BufRead, Read};

/// Longest SSE line accepted; longer lines are cut (and their JSON then fails to parse).
const MAX_LINE_BYTES: usize = 1 << 20;

/// One Server-Sent Event: its `event:` name and its `data:` lines joined with `\n`.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct SseEvent {
    pub(super) event: Option<String>,
    pub(super) data: String,
}

/// Reads Server-Sent Events line by line from a buffered reader, so an event split across
/// network reads is reassembled. Accepts `\n`, `\r\n` (and a lone trailing `\r`) line endings.
pub(super) struct SseReader<R> {
    reader: R,
    line: Vec<u8>,
}

impl<R: BufRead> SseReader<R> {
    pub(super) fn new(reader: R) -> Self {
        SseReader { reader, line: Vec::new() }
    }

    /// The next event with data, or `None` at the end of the stream. A pending event at the end
    /// of the stream (no blank line after it) is still returned.
    pub(super) fn next_event(&mut self) -> std::io::Result<Option<SseEvent>> {
        let mut event = SseEvent::default();
        let mut has_data = false;
        loop {
            self.line.clear();
            let n = (&mut self.reader).take(MAX_LINE_BYTES as u64).read_until(b'\n', &mut self.line)?;
            if n == 0 {
                return Ok(has_data.then_some(event));
            }
            if self.line.last() != Some(&b'\n') && n == MAX_LINE_BYTES {
                // An over-long line: drop the rest of it.
                let mut sink = Vec::new();
                self.reader.read_until(b'\n', &mut sink)?;
            }
            while matches!(self.line.last(), Some(b'\n' | b'\r')) {
                self.line.pop();
            }
            if self.line.is_empty() {
                if has_data {
                    return Ok(Some(event));
                }
                event = SseEvent::default();
                continue;
            }
            let line = String::from_utf8_lossy(&self.line);
            if line.starts_with(':') {
                continue;
            }
            let (field, value) = line.split_once(':').unwrap_or((&line, ""));
            let value = value.strip_prefix(' ').unwrap_or(value);
            match field {
                "data" => {
                    if has_data {
                        event.data.push('\n');
                    }
                    event.data.push_str(value);
                    has_data = true;
                }
                "event" => event.event = Some(value.to_string()),
                _ => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn events(text: &str) -> Vec<SseEvent> {
        let mut reader = SseReader::new(text.as_bytes());
        let mut out = Vec::new();
        while let Some(e) = reader.next_event().expect("in-memory read") {
            out.push(e);
        }
        out
    }

    #[test]
    fn sse_joins_data_lines_and_accepts_crlf_and_missing_space() {
        let got = events(": comment\r\nevent: a\r\ndata: one\r\ndata:two\r\n\r\ndata: [DONE]");
        assert_eq!(
            got,
            vec![
                SseEvent { event: Some("a".into()), data: "one\ntwo".into() },
                SseEvent { event: None, data: "[DONE]".into() },
            ]
        );
    }

    #[test]
    fn sse_event_without_data_is_not_dispatched() {
        assert!(events("event: ping\n\n\n").is_empty());
    }
}
