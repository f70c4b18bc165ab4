//! Tests for `llm`: the streaming client against a scripted HTTP server in this file.
//!
//! The mock server accepts a fixed number of connections (each with a deadline), records each
//! request, writes a scripted response (bytes interleaved with pauses) and exits by itself.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use docent::llm::{endpoint_url, stream_answer, Completion, LlmRequest, Provider};
use docent::prompt::Message;

const KEY: &str = "sk-test-DO-NOT-LEAK-4242";

/// One piece of a scripted response.
enum Part {
    Bytes(Vec<u8>),
    Pause(Duration),
}

/// A request as the server received it.
#[derive(Debug, Clone)]
struct Recorded {
    request_line: String,
    /// Header names lower-cased.
    headers: Vec<(String, String)>,
    body: String,
}

impl Recorded {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("request body is not JSON ({e}): {}", self.body))
    }
}

struct Mock {
    base: String,
    requests: Arc<Mutex<Vec<Recorded>>>,
    handle: Option<JoinHandle<()>>,
}

impl Mock {
    /// Serves `responses` in order, one connection each.
    fn serve(responses: Vec<Vec<Part>>) -> Mock {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a local port");
        let base = format!("http://{}", listener.local_addr().expect("local address"));
        listener.set_nonblocking(true).expect("nonblocking listener");
        let requests = Arc::new(Mutex::new(Vec::new()));
        let recorded = Arc::clone(&requests);
        let handle = std::thread::spawn(move || {
            for parts in responses {
                let Some(mut stream) = accept_within(&listener, Duration::from_secs(5)) else {
                    return;
                };
                if let Some(request) = read_request(&mut stream) {
                    recorded.lock().expect("request log").push(request);
                }
                for part in parts {
                    match part {
                        Part::Bytes(b) => {
                            if stream.write_all(&b).and_then(|_| stream.flush()).is_err() {
                                break; // the client went away (e.g. after its stall timeout)
                            }
                        }
                        Part::Pause(d) => std::thread::sleep(d),
                    }
                }
            }
        });
        Mock { base, requests, handle: Some(handle) }
    }

    /// Waits for the server thread and returns what it received.
    fn finish(mut self) -> Vec<Recorded> {
        if let Some(h) = self.handle.take() {
            h.join().expect("mock server thread");
        }
        let requests = self.requests.lock().expect("request log").clone();
        requests
    }
}

fn accept_within(listener: &TcpListener, limit: Duration) -> Option<TcpStream> {
    let start = Instant::now();
    while start.elapsed() < limit {
        match listener.accept() {
            Ok((stream, _)) => {
                stream.set_nonblocking(false).ok()?;
                stream.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
                return Some(stream);
            }
            Err(_) => std::thread::sleep(Duration::from_millis(5)),
        }
    }
    None
}

/// Reads headers and a `Content-Length` body (bounded in size and by the read timeout).
fn read_request(stream: &mut TcpStream) -> Option<Recorded> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break p + 4;
        }
        if buf.len() > 1 << 20 {
            return None;
        }
        let n = stream.read(&mut chunk).ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let request_line = lines.next()?.to_string();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let length: usize =
        headers.iter().find(|(n, _)| n == "content-length").and_then(|(_, v)| v.parse().ok()).unwrap_or(0);
    let mut body = buf[head_end..].to_vec();
    while body.len() < length.min(1 << 20) {
        let n = stream.read(&mut chunk).ok()?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    Some(Recorded { request_line, headers, body: String::from_utf8_lossy(&body).into_owned() })
}

fn bytes(s: &str) -> Part {
    Part::Bytes(s.as_bytes().to_vec())
}

fn pause(ms: u64) -> Part {
    Part::Pause(Duration::from_millis(ms))
}

/// A 200 event-stream response whose body is delimited by closing the connection.
fn sse(events: &[&str]) -> Vec<Part> {
    let mut parts =
        vec![bytes("HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nconnection: close\r\n\r\n")];
    parts.extend(events.iter().map(|e| bytes(e)));
    parts
}

/// A complete response with a body and extra header lines.
fn status(code: u16, extra_headers: &str, body: &str) -> Vec<Part> {
    vec![bytes(&format!(
        "HTTP/1.1 {code} Status\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n{extra_headers}\r\n{body}",
        body.len()
    ))]
}

fn messages() -> Vec<Message> {
    vec![
        Message { role: "system".into(), content: "Answer from the sources only.".into() },
        Message { role: "user".into(), content: "What colour is the lighthouse?".into() },
    ]
}

fn request<'a>(provider: Provider, endpoint: &'a str, msgs: &'a [Message]) -> LlmRequest<'a> {
    let mut req = LlmRequest::new(provider, endpoint, "test-model", msgs);
    req.api_key = Some(KEY);
    req.timeout = Duration::from_secs(3);
    req
}

/// Runs a request, collecting every `on_text` call.
fn run(req: &LlmRequest) -> (docent::Result<Completion>, Vec<String>) {
    let mut deltas = Vec::new();
    let result = stream_answer(req, &mut |t: &str| deltas.push(t.to_string()));
    (result, deltas)
}

fn openai_delta(text: &str) -> String {
    format!("data: {}\n\n", serde_json::json!({"choices": [{"index": 0, "delta": {"content": text}}]}))
}

/// The error's user-facing text, after checking it does not leak the key.
fn error_text(result: docent::Result<Completion>) -> String {
    let err = match result {
        Ok(c) => panic!("expected an error, got {c:?}"),
        Err(e) => e,
    };
    let text = err.to_string();
    assert!(!text.contains(KEY), "the API key leaked into the error: {text}");
    assert!(!format!("{err:?}").contains(KEY), "the API key leaked into the error's Debug: {err:?}");
    text
}

#[test]
fn openai_stream_concatenates_deltas_and_sends_model_messages_and_bearer() {
    let mock = Mock::serve(vec![sse(&[
        ": keep-alive comment\n\n",
        "data: {\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\"}}]}\n\n",
        &openai_delta("The lighthouse "),
        &openai_delta("is red "),
        "event: ignored-name\n",
        &openai_delta("[1]."),
        "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n",
        "data: [DONE]\n\n",
    ])]);
    let msgs = messages();
    let endpoint = format!("{}/v1", mock.base);
    let mut req = request(Provider::OpenAi, &endpoint, &msgs);
    req.temperature = Some(0.0);
    let (result, deltas) = run(&req);
    let completion = result.expect("stream succeeds");
    assert_eq!(completion.text, "The lighthouse is red [1].");
    assert_eq!(deltas, ["The lighthouse ", "is red ", "[1]."]);
    assert!(completion.complete);
    assert_eq!(completion.stop_reason.as_deref(), Some("stop"));
    assert_eq!(completion.skipped_events, 0);

    let reqs = mock.finish();
    assert_eq!(reqs.len(), 1);
    let r = &reqs[0];
    assert_eq!(r.request_line, "POST /v1/chat/completions HTTP/1.1");
    assert_eq!(r.header("authorization"), Some(format!("Bearer {KEY}").as_str()));
    assert_eq!(r.header("content-type"), Some("application/json"));
    let body = r.json();
    assert_eq!(body["stream"], true);
    assert_eq!(body["model"], "test-model");
    assert_eq!(body["max_tokens"], 1024);
    assert_eq!(body["temperature"], 0.0);
    assert_eq!(body["messages"][0]["role"], "system");
    assert_eq!(body["messages"][1]["content"], "What colour is the lighthouse?");
}

#[test]
fn openai_without_key_sends_no_authorization_header() {
    let mock = Mock::serve(vec![sse(&[&openai_delta("ok"), "data: [DONE]\n\n"])]);
    let msgs = messages();
    let endpoint = format!("{}/v1/chat/completions", mock.base);
    let mut req = request(Provider::OpenAi, &endpoint, &msgs);
    req.api_key = None;
    let (result, _) = run(&req);
    assert_eq!(result.expect("stream succeeds").text, "ok");
    let reqs = mock.finish();
    assert_eq!(reqs[0].request_line, "POST /v1/chat/completions HTTP/1.1", "a full URL is not extended");
    assert_eq!(reqs[0].header("authorization"), None);
}

#[test]
fn anthropic_lifts_system_sends_version_headers_and_reads_stop_reason() {
    let mock = Mock::serve(vec![sse(&[
        "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"m1\",\"content\":[]}}\n\n",
        "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n",
        "event: ping\ndata: {\"type\":\"ping\"}\n\n",
        "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"It is \"}}\n\n",
        "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"{}\"}}\n\n",
        "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"white [2].\"}}\n\n",
        "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n",
        "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":{\"output_tokens\":5}}\n\n",
        "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n",
    ])]);
    let msgs = messages();
    let (result, deltas) = run(&request(Provider::Anthropic, &mock.base, &msgs));
    let completion = result.expect("stream succeeds");
    assert_eq!(completion.text, "It is white [2].");
    assert_eq!(deltas.len(), 2);
    assert!(completion.complete);
    assert_eq!(completion.stop_reason.as_deref(), Some("end_turn"));

    let reqs = mock.finish();
    let r = &reqs[0];
    assert_eq!(r.request_line, "POST /v1/messages HTTP/1.1");
    assert_eq!(r.header("x-api-key"), Some(KEY));
    assert_eq!(r.header("anthropic-version"), Some("2023-06-01"));
    assert_eq!(r.header("authorization"), None);
    let body = r.json();
    assert_eq!(body["system"], "Answer from the sources only.");
    assert_eq!(body["stream"], true);
    assert_eq!(body["max_tokens"], 1024);
    assert_eq!(body["model"], "test-model");
    let sent = body["messages"].as_array().expect("messages array");
    assert_eq!(sent.len(), 1, "the system message is lifted out of messages: {sent:?}");
    assert_eq!(sent[0]["role"], "user");
}

#[test]
fn sse_split_across_writes_with_crlf_and_multiline_data_is_reassembled() {
    // Chunked transfer encoding; the write boundaries fall mid-line and mid-JSON.
    let payload = concat!(
        "data: {\"choices\":[{\"delta\":{\"content\":\"Hel\"}}]}\r\n\r\n",
        "data:{\"choices\":[{\"delta\":\r\ndata: {\"content\":\"lo\"}}]}\r\n\r\n",
        "data: [DONE]\r\n\r\n",
    );
    let mut parts = vec![bytes(
        "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n",
    )];
    for piece in [&payload[..7], &payload[7..31], &payload[31..58], &payload[58..63], &payload[63..]] {
        parts.push(bytes(&format!("{:x}\r\n{piece}\r\n", piece.len())));
        parts.push(pause(20));
    }
    parts.push(bytes("0\r\n\r\n"));
    let mock = Mock::serve(vec![parts]);
    let msgs = messages();
    let (result, deltas) = run(&request(Provider::OpenAi, &mock.base, &msgs));
    let completion = result.expect("stream succeeds");
    assert_eq!(completion.text, "Hello");
    assert_eq!(deltas, ["Hel", "lo"]);
    assert!(completion.complete);
    mock.finish();
}

#[test]
fn http_401_quotes_the_provider_message_without_the_key() {
    let body = format!(
        "{{\"error\":{{\"message\":\"Incorrect API key provided: {KEY}\",\"type\":\"invalid_request_error\"}}}}"
    );
    let mock = Mock::serve(vec![status(401, "", &body)]);
    let msgs = messages();
    let (result, deltas) = run(&request(Provider::OpenAi, &mock.base, &msgs));
    let text = error_text(result);
    assert!(deltas.is_empty());
    assert!(text.contains("the API key was rejected (HTTP 401)"), "{text}");
    assert!(text.contains("DOCENT_API_KEY"), "{text}");
    assert!(text.contains(mock.base.trim_start_matches("http://")), "names the host: {text}");
    assert!(text.contains("Incorrect API key provided"), "quotes the provider: {text}");
    mock.finish();
}

#[test]
fn http_401_without_a_key_says_none_was_sent() {
    let mock = Mock::serve(vec![status(401, "", "{\"error\":{\"message\":\"missing key\"}}")]);
    let msgs = messages();
    let mut req = request(Provider::Anthropic, &mock.base, &msgs);
    req.api_key = None;
    let text = error_text(run(&req).0);
    assert!(text.contains("no API key was sent"), "{text}");
    assert!(text.contains("DOCENT_API_KEY"), "{text}");
    mock.finish();
}

#[test]
fn http_404_names_the_model() {
    let mock = Mock::serve(vec![status(404, "", "{\"error\":\"model 'test-model' not found\"}")]);
    let msgs = messages();
    let text = error_text(run(&request(Provider::OpenAi, &mock.base, &msgs)).0);
    assert!(text.contains("not found (HTTP 404)"), "{text}");
    assert!(text.contains("'test-model'"), "{text}");
    assert!(text.contains("/chat/completions"), "names the URL: {text}");
    mock.finish();
}

#[test]
fn http_429_with_retry_after_is_retried_exactly_once() {
    let mock = Mock::serve(vec![
        status(429, "retry-after: 1\r\n", "{\"error\":{\"message\":\"slow down\"}}"),
        sse(&[&openai_delta("after the wait"), "data: [DONE]\n\n"]),
    ]);
    let msgs = messages();
    let start = Instant::now();
    let (result, _) = run(&request(Provider::OpenAi, &mock.base, &msgs));
    let completion = result.expect("the retry succeeds");
    assert_eq!(completion.text, "after the wait");
    assert!(
        start.elapsed() >= Duration::from_millis(950),
        "waited {:?}, Retry-After said 1 s",
        start.elapsed()
    );
    let reqs = mock.finish();
    assert_eq!(reqs.len(), 2, "one request and exactly one retry");
    assert_eq!(reqs[0].body, reqs[1].body, "the retry sends the same request");
}

#[test]
fn http_429_twice_fails_after_one_retry() {
    let mock = Mock::serve(vec![
        status(429, "retry-after: 1\r\n", "{\"error\":{\"message\":\"slow down\"}}"),
        status(429, "retry-after: 1\r\n", "{\"error\":{\"message\":\"still too fast\"}}"),
    ]);
    let msgs = messages();
    let text = error_text(run(&request(Provider::OpenAi, &mock.base, &msgs)).0);
    assert!(text.contains("rate limited (HTTP 429)"), "{text}");
    assert!(text.contains("still too fast"), "{text}");
    assert_eq!(mock.finish().len(), 2, "one request and one retry, no more");
}

#[test]
fn http_429_with_a_long_retry_after_fails_without_waiting() {
    let mock = Mock::serve(vec![status(429, "retry-after: 3600\r\n", "{}")]);
    let msgs = messages();
    let start = Instant::now();
    let text = error_text(run(&request(Provider::OpenAi, &mock.base, &msgs)).0);
    assert!(start.elapsed() < Duration::from_secs(2));
    assert!(text.contains("rate limited (HTTP 429)") && text.contains("3600"), "{text}");
    assert_eq!(mock.finish().len(), 1);
}

#[test]
fn http_500_says_try_again_later() {
    let mock = Mock::serve(vec![status(
        503,
        "",
        "{\"error\":{\"message\":\"overloaded\",\"type\":\"overloaded_error\"}}",
    )]);
    let msgs = messages();
    let text = error_text(run(&request(Provider::Anthropic, &mock.base, &msgs)).0);
    assert!(text.contains("internal error (HTTP 503): try again later"), "{text}");
    assert!(text.contains("overloaded"), "{text}");
    mock.finish();
}

#[test]
fn connection_refused_names_the_endpoint() {
    let port = {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a local port");
        listener.local_addr().expect("local address").port()
    };
    let endpoint = format!("http://127.0.0.1:{port}/v1");
    let msgs = messages();
    let text = error_text(run(&request(Provider::OpenAi, &endpoint, &msgs)).0);
    assert!(text.contains(&format!("could not connect to 127.0.0.1:{port}")), "{text}");
    assert!(text.contains("refused"), "{text}");
}

#[test]
fn stream_cut_before_done_returns_the_partial_text_as_incomplete() {
    let mock = Mock::serve(vec![sse(&[&openai_delta("The answer "), &openai_delta("is")])]);
    let msgs = messages();
    let (result, deltas) = run(&request(Provider::OpenAi, &mock.base, &msgs));
    let completion = result.expect("a cut stream with text is not an error");
    assert_eq!(completion.text, "The answer is");
    assert_eq!(deltas.len(), 2);
    assert!(!completion.complete);
    assert_eq!(completion.stop_reason, None);
    mock.finish();
}

#[test]
fn stream_cut_before_any_text_is_an_error() {
    let mock = Mock::serve(vec![sse(&[])]);
    let msgs = messages();
    let text = error_text(run(&request(Provider::OpenAi, &mock.base, &msgs)).0);
    assert!(text.contains("ended before any event arrived"), "{text}");
    mock.finish();
}

#[test]
fn openai_mid_stream_error_object_is_an_error_with_its_message() {
    let mock = Mock::serve(vec![sse(&[
        &openai_delta("Partial "),
        "data: {\"error\":{\"message\":\"The server had an error while processing your request\",\"type\":\"server_error\"}}\n\n",
        &openai_delta("never"),
    ])]);
    let msgs = messages();
    let (result, deltas) = run(&request(Provider::OpenAi, &mock.base, &msgs));
    let text = error_text(result);
    assert!(text.contains("mid-stream") && text.contains("The server had an error"), "{text}");
    assert_eq!(deltas, ["Partial "], "text after the error is not delivered");
    mock.finish();
}

#[test]
fn anthropic_error_event_is_an_error_with_its_message() {
    let mock = Mock::serve(vec![sse(&[
        "event: ping\ndata: {\"type\":\"ping\"}\n\n",
        "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}\n\n",
    ])]);
    let msgs = messages();
    let text = error_text(run(&request(Provider::Anthropic, &mock.base, &msgs)).0);
    assert!(text.contains("Overloaded (overloaded_error)"), "{text}");
    mock.finish();
}

#[test]
fn stall_after_some_text_keeps_it_as_incomplete_with_stop_reason_timeout() {
    let mut parts = sse(&[&openai_delta("Before the stall")]);
    parts.push(pause(1200));
    parts.push(bytes(&openai_delta(" too late")));
    let mock = Mock::serve(vec![parts]);
    let msgs = messages();
    let mut req = request(Provider::OpenAi, &mock.base, &msgs);
    req.timeout = Duration::from_millis(300);
    let start = Instant::now();
    let (result, _) = run(&req);
    let completion = result.expect("a stall after text keeps the partial answer");
    assert!(
        start.elapsed() < Duration::from_millis(1100),
        "the stall timeout fired late: {:?}",
        start.elapsed()
    );
    assert_eq!(completion.text, "Before the stall");
    assert!(!completion.complete);
    assert_eq!(completion.stop_reason.as_deref(), Some("timeout"));
    mock.finish();
}

#[test]
fn stall_before_any_text_is_an_error_mentioning_the_timeout() {
    let mut parts = sse(&[": waiting\n\n"]);
    parts.push(pause(1000));
    let mock = Mock::serve(vec![parts]);
    let msgs = messages();
    let mut req = request(Provider::Anthropic, &mock.base, &msgs);
    req.timeout = Duration::from_millis(250);
    let text = error_text(run(&req).0);
    assert!(text.contains("stalled") && text.contains("250 ms") && text.contains("timeout"), "{text}");
    mock.finish();
}

#[test]
fn malformed_data_lines_are_skipped_and_counted() {
    let mock = Mock::serve(vec![sse(&[
        "data: {not json\n\n",
        &openai_delta("fine"),
        "data: {\"choices\": [\n\n",
        "data: [DONE]\n\n",
    ])]);
    let msgs = messages();
    let (result, _) = run(&request(Provider::OpenAi, &mock.base, &msgs));
    let completion = result.expect("valid events still count");
    assert_eq!(completion.text, "fine");
    assert_eq!(completion.skipped_events, 2);
    assert!(completion.complete);
    mock.finish();
}

#[test]
fn a_stream_of_only_malformed_data_is_an_error() {
    let mock = Mock::serve(vec![sse(&["data: <html>\n\n", "data: oops\n\n"])]);
    let msgs = messages();
    let text = error_text(run(&request(Provider::OpenAi, &mock.base, &msgs)).0);
    assert!(text.contains("2 data lines were not valid JSON"), "{text}");
    mock.finish();
}

#[test]
fn a_non_streamed_json_answer_is_accepted_whole() {
    let body =
        "{\"choices\":[{\"message\":{\"role\":\"assistant\",\"content\":\"All at once.\"},\"finish_reason\":\"stop\"}]}";
    let mock = Mock::serve(vec![status(200, "", body)]);
    let msgs = messages();
    let (result, deltas) = run(&request(Provider::OpenAi, &mock.base, &msgs));
    let completion = result.expect("a whole JSON answer is accepted");
    assert_eq!(completion.text, "All at once.");
    assert_eq!(deltas, ["All at once."]);
    assert!(completion.complete);
    mock.finish();
}

#[test]
fn bad_arguments_are_rejected_before_any_request() {
    let msgs = messages();
    let err = stream_answer(&request(Provider::OpenAi, "localhost:8080/v1", &msgs), &mut |_| {}).unwrap_err();
    assert!(err.to_string().contains("endpoint"), "{err}");
    let only_system = vec![Message { role: "system".into(), content: "s".into() }];
    let err = stream_answer(&request(Provider::Anthropic, "http://127.0.0.1:9/", &only_system), &mut |_| {})
        .unwrap_err();
    assert!(err.to_string().contains("user message"), "{err}");
    assert!(Provider::from_name("gemini").unwrap_err().to_string().contains("'gemini'"));
    assert_eq!(Provider::from_name("Anthropic").ok(), Some(Provider::Anthropic));
    let mut req = request(Provider::OpenAi, "http://127.0.0.1:9/v1", &msgs);
    req.api_key = Some("sk-with\nnewline");
    let err = stream_answer(&req, &mut |_| {}).unwrap_err();
    assert!(err.to_string().contains("api_key"), "{err}");
    assert!(!err.to_string().contains("sk-with"), "{err}");
}

#[test]
fn the_key_never_appears_in_debug_output_or_urls() {
    let msgs = messages();
    let req = request(Provider::OpenAi, "https://user:pw@api.example.com/v1?x=1", &msgs);
    let debug = format!("{req:?}");
    assert!(!debug.contains(KEY), "{debug}");
    assert!(!debug.contains("pw@"), "{debug}");
    let url = endpoint_url(Provider::OpenAi, req.endpoint).expect("valid endpoint");
    assert!(!url.contains(KEY));
}

/// The shared transcripts of tests/fixtures/sse/ (the JS client's tests read them too, see
/// expected.json there): each one served whole and in 7-byte writes a millisecond apart (which cut
/// lines, CRLFs and UTF-8 sequences), giving the recorded deltas and ending.
#[test]
fn shared_sse_transcripts_give_their_recorded_results_whole_and_in_pieces() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sse");
    let text = std::fs::read_to_string(dir.join("expected.json")).expect("tests/fixtures/sse/expected.json");
    let expected: serde_json::Value = serde_json::from_str(&text).expect("expected.json is JSON");
    let transcripts = expected["transcripts"].as_object().expect("a `transcripts` object");
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .expect("tests/fixtures/sse")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|f| f.ends_with(".sse"))
        .collect();
    files.sort();
    assert_eq!(transcripts.keys().cloned().collect::<Vec<_>>(), files, "one expectation per transcript");
    let msgs = messages();
    for (name, want) in transcripts {
        let body = std::fs::read(dir.join(name)).expect("transcript");
        let provider = match want["provider"].as_str() {
            Some("openai") => Provider::OpenAi,
            Some("anthropic") => Provider::Anthropic,
            other => panic!("{name}: unknown provider {other:?}"),
        };
        let want_deltas: Vec<&str> = want["deltas"]
            .as_array()
            .expect("deltas")
            .iter()
            .map(|d| d.as_str().expect("a string"))
            .collect();
        for size in [body.len(), 7] {
            let how = format!("{name} in writes of {size} bytes");
            let mut parts = sse(&[]);
            for piece in body.chunks(size) {
                parts.push(Part::Bytes(piece.to_vec()));
                parts.push(pause(1));
            }
            let mock = Mock::serve(vec![parts]);
            let (result, deltas) = run(&request(provider, &mock.base, &msgs));
            assert_eq!(deltas, want_deltas, "{how}");
            match want["end"].as_str() {
                Some("complete") => {
                    let c = result.unwrap_or_else(|e| panic!("{how}: {e}"));
                    assert!(c.complete, "{how}: {c:?}");
                    assert_eq!(c.text, want_deltas.concat(), "{how}");
                    assert_eq!(c.stop_reason.as_deref(), want["stopReason"].as_str(), "{how}");
                    assert_eq!(Some(c.skipped_events as u64), want["skippedEvents"].as_u64(), "{how}");
                }
                Some("cut") => {
                    let c = result.unwrap_or_else(|e| panic!("{how}: {e}"));
                    assert!(!c.complete, "{how}: a cut stream is an incomplete completion: {c:?}");
                    assert_eq!(c.text, want_deltas.concat(), "{how}");
                }
                Some("error") => {
                    let text = error_text(result);
                    let message = want["error"]["message"].as_str().expect("error.message");
                    assert!(text.contains(message), "{how}: {text}");
                }
                other => panic!("{name}: unknown end {other:?}"),
            }
            mock.finish();
        }
    }
}
