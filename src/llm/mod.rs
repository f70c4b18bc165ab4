//! Native LLM client: streams an answer from an OpenAI-compatible or Anthropic Messages endpoint.
//!
//! Owns: building the provider's request from OpenAI-shape [`Message`]s, the HTTP call (via
//! `ureq`, native only), Server-Sent Events parsing, one polite retry on HTTP 429, and turning
//! every failure into an [`Error::Llm`] whose reason says what to do about it.
//! Must not: know about retrieval or prompts beyond [`Message`], print anything (text goes to the
//! caller's `on_text`), or ever put the API key into an error, a log line or a URL. The browser has
//! its own client in JS; this module is compiled for native targets only.
//!
//! Behaviour worth knowing:
//! - A stream that stops before its end marker (`data: [DONE]` / `message_stop`), whether the
//!   connection closed, was reset, or stalled for longer than [`LlmRequest::timeout`], is **not** an
//!   error once some text has arrived: the text already went to `on_text`, so it is returned as
//!   `Completion { complete: false, .. }` and the caller marks it incomplete. A stall sets
//!   `stop_reason` to `"timeout"`. If no text arrived at all, it is an error.
//! - Malformed JSON in a `data:` line is skipped and counted in [`Completion::skipped_events`]; a
//!   stream with no valid event at all is an error.
//! - A 2xx response with a JSON body instead of an event stream (a server that ignores
//!   `stream: true`) is read as a whole answer and given to `on_text` once.
//!
//! Modules: `sse` (the Server-Sent Events reader), `errors` (what each failure says, the URL as
//! shown, the key redacted). The transcripts in `tests/fixtures/sse/` are read by this client's
//! tests and by the JS client's (pkg/llm/), which must agree on them. Where the two differ on
//! purpose or by history: the JS client throws a cut stream as an error (an iterator cannot return
//! a partial value), accepts a lone `\r` as a line end, rejects an over-long line instead of
//! cutting it, and treats a stream whose only valid event is `[DONE]` as a protocol error.
//!
//! Design: `docs/design.md`, "What runs where".

use std::fmt;
use std::io::{BufRead, BufReader, Read};
use std::time::Duration;

use serde_json::{json, Value};

use crate::prompt::Message;
use crate::{Error, Result};

mod errors;
mod sse;

use errors::{display_url, error_text, parse_retry_after, provider_message, secs, Ctx, UrlParts};
use sse::{SseEvent, SseReader};

/// Default for [`LlmRequest::max_tokens`]: 1024 answer tokens.
pub const DEFAULT_MAX_TOKENS: u32 = 1024;

/// Default for [`LlmRequest::timeout`]: 60 s.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// The longest `Retry-After` on HTTP 429 that is waited out (once) before giving up.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(30);

/// The wait before the one retry when an HTTP 429 carries no usable `Retry-After`.
const DEFAULT_RETRY_WAIT: Duration = Duration::from_secs(1);

/// The `anthropic-version` header sent to Anthropic.
const ANTHROPIC_VERSION: &str = "2023-06-01";

/// How much of an error body (or a non-streamed JSON answer) is read.
const MAX_BODY_BYTES: u64 = 4 << 20;

/// Which wire protocol an endpoint speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provider {
    /// OpenAI Chat Completions and compatible servers (Ollama, llama.cpp, vLLM, LM Studio, ...).
    OpenAi,
    /// Anthropic Messages API.
    Anthropic,
}

impl Provider {
    /// Parses a provider name as given on the command line: `openai` or `anthropic`
    /// (ASCII case-insensitive).
    pub fn from_name(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "openai" => Ok(Provider::OpenAi),
            "anthropic" => Ok(Provider::Anthropic),
            other => Err(Error::invalid(
                "provider",
                format!(
                    "expected 'openai' (or any OpenAI-compatible server) or 'anthropic', found '{other}'"
                ),
            )),
        }
    }

    /// The provider's name as [`Provider::from_name`] accepts it.
    pub fn name(self) -> &'static str {
        match self {
            Provider::OpenAi => "openai",
            Provider::Anthropic => "anthropic",
        }
    }
}

impl fmt::Display for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One streaming chat request. Build it with [`LlmRequest::new`] and adjust the public fields.
///
/// Its `Debug` output never shows the API key.
#[derive(Clone)]
pub struct LlmRequest<'a> {
    /// Which protocol to speak.
    pub provider: Provider,
    /// Base URL or full URL. OpenAI-compatible: a base like `https://api.openai.com/v1` or
    /// `http://127.0.0.1:11434/v1` gets `/chat/completions` appended unless the URL already ends
    /// with it. Anthropic: a base `https://api.anthropic.com` (or `.../v1`) gets `/v1/messages`
    /// (or `/messages`) appended unless it already ends with `/messages`. See [`endpoint_url`].
    pub endpoint: &'a str,
    /// The model name, passed through as is.
    pub model: &'a str,
    /// The API key, if the endpoint needs one (local servers usually do not). Sent as
    /// `Authorization: Bearer` (OpenAI) or `x-api-key` (Anthropic); surrounding whitespace is
    /// ignored.
    pub api_key: Option<&'a str>,
    /// The conversation in OpenAI shape; for Anthropic, `system` messages are lifted into the
    /// top-level `system` field (joined by a blank line) and the rest sent as `messages`.
    pub messages: &'a [Message],
    /// Upper bound on answer tokens. Default [`DEFAULT_MAX_TOKENS`] (1024); must be ≥ 1 (Anthropic
    /// requires the field). Too small cuts answers short (`stop_reason` `length`/`max_tokens`);
    /// above the model's limit the provider rejects the request with HTTP 400.
    pub max_tokens: u32,
    /// Sampling temperature; `None` (default) leaves the provider's default. Range 0.0..=2.0 for
    /// OpenAI, 0.0..=1.0 for Anthropic; 0 is the most deterministic.
    pub temperature: Option<f32>,
    /// Budget for connecting and for receiving the response headers (each), and the stall
    /// timeout: the longest wait for the next bytes of the stream. Default [`DEFAULT_TIMEOUT`]
    /// (60 s); must be > 0. Too small fails slow models before their first token; the total
    /// length of a stream is not limited.
    pub timeout: Duration,
}

impl<'a> LlmRequest<'a> {
    /// A request with the defaults: no API key, [`DEFAULT_MAX_TOKENS`], provider-default
    /// temperature, [`DEFAULT_TIMEOUT`].
    pub fn new(provider: Provider, endpoint: &'a str, model: &'a str, messages: &'a [Message]) -> Self {
        LlmRequest {
            provider,
            endpoint,
            model,
            api_key: None,
            messages,
            max_tokens: DEFAULT_MAX_TOKENS,
            temperature: None,
            timeout: DEFAULT_TIMEOUT,
        }
    }
}

impl fmt::Debug for LlmRequest<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LlmRequest")
            .field("provider", &self.provider)
            .field("endpoint", &display_url(self.endpoint))
            .field("model", &self.model)
            .field("api_key", &self.api_key.map(|_| "<redacted>"))
            .field("messages", &self.messages.len())
            .field("max_tokens", &self.max_tokens)
            .field("temperature", &self.temperature)
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// The outcome of a stream that produced an answer.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Completion {
    /// The whole answer: every delta given to `on_text`, concatenated.
    pub text: String,
    /// `true` when the stream ended with its end marker (`data: [DONE]`, `message_stop`, or an
    /// OpenAI `finish_reason` followed by the end of the stream); `false` when it was cut or
    /// stalled, in which case `text` is partial.
    pub complete: bool,
    /// Why generation stopped, as the provider said it (`stop`, `length`, `end_turn`,
    /// `max_tokens`, ...), or `"timeout"` when the stream stalled; `None` when not reported.
    pub stop_reason: Option<String>,
    /// How many `data:` payloads were skipped because they were not valid JSON.
    pub skipped_events: usize,
}

/// The URL a request goes to: `endpoint` completed with the provider's path (see
/// [`LlmRequest::endpoint`]). A query string is kept after the completed path; user info
/// (`user:password@`) and a `#fragment` are dropped.
///
/// Errors when `endpoint` is not an `http://` or `https://` URL with a host.
pub fn endpoint_url(provider: Provider, endpoint: &str) -> Result<String> {
    let parts = UrlParts::parse(endpoint)?;
    let path = parts.path.trim_end_matches('/');
    let path = match provider {
        Provider::OpenAi if path.ends_with("/chat/completions") => path.to_string(),
        Provider::OpenAi => format!("{path}/chat/completions"),
        Provider::Anthropic if path.ends_with("/messages") => path.to_string(),
        Provider::Anthropic if path.ends_with("/v1") => format!("{path}/messages"),
        Provider::Anthropic => format!("{path}/v1/messages"),
    };
    Ok(format!("{}://{}{}{}", parts.scheme, parts.authority, path, parts.query))
}

/// Streams the answer, calling `on_text` with each text delta as it arrives.
///
/// Returns the assembled [`Completion`]; a stream cut after some text is `Ok` with
/// `complete: false` (see the module docs). Errors ([`Error::Llm`] for anything the endpoint did,
/// [`Error::InvalidArgument`] for a bad request) never contain the API key.
pub fn stream_answer(req: &LlmRequest, on_text: &mut dyn FnMut(&str)) -> Result<Completion> {
    let url = endpoint_url(req.provider, req.endpoint)?;
    let ctx = Ctx::new(req, &url)?;
    validate(req)?;
    let body = request_body(req)?;

    let agent = agent(req.timeout);
    let mut waited: Option<Duration> = None;
    let response = loop {
        let mut builder =
            agent.post(&url).header("content-type", "application/json").header("accept", "text/event-stream");
        builder = match (req.provider, ctx.key) {
            (Provider::OpenAi, Some(key)) => builder.header("authorization", format!("Bearer {key}")),
            (Provider::Anthropic, Some(key)) => builder.header("x-api-key", key),
            (_, None) => builder,
        };
        if req.provider == Provider::Anthropic {
            builder = builder.header("anthropic-version", ANTHROPIC_VERSION);
        }
        let mut response = builder.send(body.as_str()).map_err(|e| ctx.transport_error(&e))?;
        let status = response.status().as_u16();
        if (200..300).contains(&status) {
            break response;
        }
        let retry_after = header(&response, "retry-after");
        let location = header(&response, "location");
        let detail = provider_message(&read_body_lossy(response.body_mut()));
        if status == 429 && waited.is_none() {
            let wait = match retry_after.as_deref().map(parse_retry_after) {
                None => Some(DEFAULT_RETRY_WAIT),
                Some(parsed) => parsed.filter(|w| *w <= MAX_RETRY_AFTER),
            };
            if let Some(wait) = wait {
                std::thread::sleep(wait);
                waited = Some(wait);
                continue;
            }
        }
        return Err(ctx.status_error(
            req,
            status,
            retry_after.as_deref(),
            waited,
            location.as_deref(),
            detail,
        ));
    };

    let is_json = header(&response, "content-type")
        .is_some_and(|t| t.to_ascii_lowercase().contains("json") && !t.contains("event-stream"));
    let body = response.into_body();
    if is_json {
        let text = read_body_lossy_owned(body);
        return whole_answer(&ctx, req.provider, &text, on_text);
    }
    let reader = BufReader::new(body.into_reader());
    read_stream(&ctx, req.provider, reader, req.timeout, on_text)
}

/// Reads an SSE stream to its end marker and assembles the completion. Separate from the HTTP
/// call so any `BufRead` can be fed to it.
fn read_stream(
    ctx: &Ctx,
    provider: Provider,
    reader: impl BufRead,
    timeout: Duration,
    on_text: &mut dyn FnMut(&str),
) -> Result<Completion> {
    let mut sse = SseReader::new(reader);
    let mut state = StreamState::default();
    loop {
        let event = match sse.next_event() {
            Ok(Some(event)) => event,
            Ok(None) => return state.ended(ctx, None),
            Err(e) => {
                let e = ureq::Error::from(e);
                if let ureq::Error::Timeout(_) = e {
                    return state.stalled(ctx, timeout);
                }
                return state.ended(ctx, Some(ctx.redact(&e.to_string())));
            }
        };
        let step = match provider {
            Provider::OpenAi => openai_event(ctx, &event, &mut state, on_text)?,
            Provider::Anthropic => anthropic_event(ctx, &event, &mut state, on_text)?,
        };
        if step == Step::Done {
            state.completion.complete = true;
            return Ok(state.completion);
        }
    }
}

/// What the stream loop does after an event.
#[derive(Debug, PartialEq, Eq)]
enum Step {
    Continue,
    Done,
}

/// Accumulates a stream.
#[derive(Default)]
struct StreamState {
    completion: Completion,
    /// Events that parsed (with or without text).
    valid: usize,
    /// An OpenAI `finish_reason` arrived: the end of the stream counts as complete.
    finished: bool,
}

impl StreamState {
    fn push_text(&mut self, text: &str, on_text: &mut dyn FnMut(&str)) {
        if !text.is_empty() {
            self.completion.text.push_str(text);
            on_text(text);
        }
    }

    /// The stream ended (EOF, or a read error described by `cause`) without its end marker.
    fn ended(mut self, ctx: &Ctx, cause: Option<String>) -> Result<Completion> {
        if self.finished && cause.is_none() {
            self.completion.complete = true;
            return Ok(self.completion);
        }
        if !self.completion.text.is_empty() || self.finished {
            return Ok(self.completion);
        }
        let cause = cause.map(|c| format!(" ({c})")).unwrap_or_default();
        let reason = if self.valid == 0 && self.completion.skipped_events > 0 {
            format!(
                "the response stream ended{cause} without one valid event ({} data lines were not valid JSON): check that the endpoint speaks the chosen provider's protocol",
                self.completion.skipped_events
            )
        } else if self.valid == 0 {
            format!(
                "the response stream ended{cause} before any event arrived: check that the endpoint speaks the chosen provider's protocol and streams Server-Sent Events"
            )
        } else {
            format!("the response stream ended{cause} before any answer text arrived: try again")
        };
        Err(ctx.err(reason))
    }

    /// No bytes arrived for `timeout`.
    fn stalled(mut self, ctx: &Ctx, timeout: Duration) -> Result<Completion> {
        if self.completion.text.is_empty() {
            return Err(ctx.err(format!(
                "the stream stalled: no data for {} before any answer text arrived; try again or raise the timeout",
                secs(timeout)
            )));
        }
        self.completion.stop_reason = Some("timeout".to_string());
        Ok(self.completion)
    }
}

/// Parses a `data:` payload, counting it as skipped when it is not JSON.
fn parse_data(data: &str, state: &mut StreamState) -> Option<Value> {
    match serde_json::from_str::<Value>(data) {
        Ok(value) => {
            state.valid += 1;
            Some(value)
        }
        Err(_) => {
            state.completion.skipped_events += 1;
            None
        }
    }
}

fn openai_event(
    ctx: &Ctx,
    event: &SseEvent,
    state: &mut StreamState,
    on_text: &mut dyn FnMut(&str),
) -> Result<Step> {
    let data = event.data.trim();
    if data == "[DONE]" {
        state.valid += 1;
        return Ok(Step::Done);
    }
    if data.is_empty() {
        return Ok(Step::Continue);
    }
    let Some(value) = parse_data(data, state) else {
        return Ok(Step::Continue);
    };
    if let Some(error) = value.get("error").filter(|e| !e.is_null()) {
        return Err(ctx.err(format!("the provider reported an error mid-stream: {}", error_text(error))));
    }
    let Some(choice) = value.get("choices").and_then(|c| c.get(0)) else {
        return Ok(Step::Continue);
    };
    if let Some(text) = choice.pointer("/delta/content").and_then(Value::as_str) {
        state.push_text(text, on_text);
    }
    if let Some(reason) = choice.get("finish_reason").and_then(Value::as_str) {
        state.completion.stop_reason = Some(reason.to_string());
        state.finished = true;
    }
    Ok(Step::Continue)
}

fn anthropic_event(
    ctx: &Ctx,
    event: &SseEvent,
    state: &mut StreamState,
    on_text: &mut dyn FnMut(&str),
) -> Result<Step> {
    let data = event.data.trim();
    if data.is_empty() {
        // `event: message_stop` with an empty payload still ends the stream.
        return Ok(if event.event.as_deref() == Some("message_stop") { Step::Done } else { Step::Continue });
    }
    let Some(value) = parse_data(data, state) else {
        return Ok(Step::Continue);
    };
    let kind = event.event.as_deref().or_else(|| value.get("type").and_then(Value::as_str)).unwrap_or("");
    match kind {
        "content_block_delta"
            if value.pointer("/delta/type").and_then(Value::as_str) == Some("text_delta") =>
        {
            if let Some(text) = value.pointer("/delta/text").and_then(Value::as_str) {
                state.push_text(text, on_text);
            }
        }
        "message_delta" => {
            if let Some(reason) = value.pointer("/delta/stop_reason").and_then(Value::as_str) {
                state.completion.stop_reason = Some(reason.to_string());
            }
        }
        "message_stop" => return Ok(Step::Done),
        "error" => {
            let error = value.get("error").unwrap_or(&value);
            return Err(ctx.err(format!("the provider reported an error mid-stream: {}", error_text(error))));
        }
        _ => {}
    }
    Ok(Step::Continue)
}

/// A 2xx response that is one JSON document rather than an event stream.
fn whole_answer(
    ctx: &Ctx,
    provider: Provider,
    body: &str,
    on_text: &mut dyn FnMut(&str),
) -> Result<Completion> {
    let value: Value = serde_json::from_str(body).map_err(|_| {
        ctx.err("the response was declared JSON but is not valid JSON: check the endpoint URL".to_string())
    })?;
    if let Some(error) = value.get("error").filter(|e| !e.is_null()) {
        return Err(ctx.err(format!("the provider reported an error: {}", error_text(error))));
    }
    let (text, stop_reason) = match provider {
        Provider::OpenAi => {
            let choice = value.pointer("/choices/0");
            let text = choice.and_then(|c| c.pointer("/message/content")).and_then(Value::as_str);
            let reason = choice.and_then(|c| c.get("finish_reason")).and_then(Value::as_str);
            (text.map(str::to_string), reason)
        }
        Provider::Anthropic => {
            let text = value.get("content").and_then(Value::as_array).map(|blocks| {
                blocks
                    .iter()
                    .filter(|b| b.get("type").and_then(Value::as_str) == Some("text"))
                    .filter_map(|b| b.get("text").and_then(Value::as_str))
                    .collect::<String>()
            });
            (text, value.get("stop_reason").and_then(Value::as_str))
        }
    };
    let Some(text) = text else {
        return Err(ctx.err(format!(
            "the response is JSON without an answer in it (expected a {} response): check the endpoint URL and --provider",
            provider.name()
        )));
    };
    if !text.is_empty() {
        on_text(&text);
    }
    Ok(Completion { text, complete: true, stop_reason: stop_reason.map(str::to_string), skipped_events: 0 })
}

fn validate(req: &LlmRequest) -> Result<()> {
    if req.model.trim().is_empty() {
        return Err(Error::invalid("model", "expected a model name, found an empty string"));
    }
    if req.max_tokens == 0 {
        return Err(Error::invalid("max_tokens", "expected at least 1, found 0"));
    }
    if req.timeout.is_zero() {
        return Err(Error::invalid("timeout", "expected a duration above zero, found 0"));
    }
    if let Some(t) = req.temperature {
        if !t.is_finite() || t < 0.0 {
            return Err(Error::invalid("temperature", format!("expected a finite value ≥ 0, found {t}")));
        }
    }
    if req.messages.is_empty() {
        return Err(Error::invalid("messages", "expected at least one message, found none"));
    }
    Ok(())
}

/// The JSON body for the provider.
fn request_body(req: &LlmRequest) -> Result<String> {
    let mut body = match req.provider {
        Provider::OpenAi => json!({
            "model": req.model,
            "messages": req.messages,
            "stream": true,
            "max_tokens": req.max_tokens,
        }),
        Provider::Anthropic => {
            let mut system: Vec<&str> = Vec::new();
            let mut messages = Vec::new();
            for (i, m) in req.messages.iter().enumerate() {
                match m.role.as_str() {
                    "system" | "developer" => system.push(&m.content),
                    "user" | "assistant" => messages.push(json!({"role": m.role, "content": m.content})),
                    other => {
                        return Err(Error::invalid(
                            "messages",
                            format!("message {i} has role '{other}'; expected system, user or assistant"),
                        ))
                    }
                }
            }
            if messages.is_empty() {
                return Err(Error::invalid(
                    "messages",
                    "Anthropic needs at least one user message besides the system messages, found none",
                ));
            }
            let mut body = json!({
                "model": req.model,
                "max_tokens": req.max_tokens,
                "messages": messages,
                "stream": true,
            });
            if !system.is_empty() {
                body["system"] = Value::String(system.join("\n\n"));
            }
            body
        }
    };
    if let Some(t) = req.temperature {
        body["temperature"] = json!(t);
    }
    serde_json::to_string(&body)
        .map_err(|e| Error::invalid("messages", format!("could not encode the request: {e}")))
}

fn agent(timeout: Duration) -> ureq::Agent {
    let config = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .user_agent(concat!("docent/", env!("CARGO_PKG_VERSION")))
        .timeout_resolve(Some(timeout))
        .timeout_connect(Some(timeout))
        .timeout_send_request(Some(timeout))
        .timeout_send_body(Some(timeout))
        .timeout_recv_response(Some(timeout))
        .timeout_per_read(Some(timeout))
        .build();
    ureq::Agent::new_with_config(config)
}

fn header(response: &ureq::http::Response<ureq::Body>, name: &str) -> Option<String> {
    response.headers().get(name).and_then(|v| v.to_str().ok()).map(|s| s.trim().to_string())
}

fn read_body_lossy(body: &mut ureq::Body) -> String {
    let mut bytes = Vec::new();
    let _ = body.as_reader().take(MAX_BODY_BYTES).read_to_end(&mut bytes);
    String::from_utf8_lossy(&bytes).into_owned()
}

fn read_body_lossy_owned(body: ureq::Body) -> String {
    let mut bytes = Vec::new();
    let _ = body.into_reader().take(MAX_BODY_BYTES).read_to_end(&mut bytes);
    String::from_utf8_lossy(&bytes).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_urls_are_completed_once() {
        let o = |e| endpoint_url(Provider::OpenAi, e).unwrap();
        let a = |e| endpoint_url(Provider::Anthropic, e).unwrap();
        assert_eq!(o("https://api.openai.com/v1"), "https://api.openai.com/v1/chat/completions");
        assert_eq!(o("http://127.0.0.1:11434/v1/"), "http://127.0.0.1:11434/v1/chat/completions");
        assert_eq!(o("http://h/v1/chat/completions"), "http://h/v1/chat/completions");
        assert_eq!(o("http://h/openai?api-version=1"), "http://h/openai/chat/completions?api-version=1");
        assert_eq!(a("https://api.anthropic.com"), "https://api.anthropic.com/v1/messages");
        assert_eq!(a("https://api.anthropic.com/v1"), "https://api.anthropic.com/v1/messages");
        assert_eq!(a("https://api.anthropic.com/v1/messages"), "https://api.anthropic.com/v1/messages");
        assert!(endpoint_url(Provider::OpenAi, "api.openai.com/v1").is_err());
        assert!(endpoint_url(Provider::OpenAi, "ftp://h/v1").is_err());
        assert!(endpoint_url(Provider::OpenAi, "http:///v1").is_err());
    }
}
