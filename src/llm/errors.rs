//! What a failed LLM call says: the endpoint shown without credentials or query, the key
//! redacted from every text that comes from outside, the provider's own message quoted (one line,
//! at most 200 characters), and the reason for each HTTP status and transport failure, with what
//! to do about it.
//! Must not: send anything, or let the API key into a message.

use std::time::Duration;

use serde_json::Value;

use super::{LlmRequest, MAX_RETRY_AFTER};
use crate::{Error, Result};

/// How many characters of a provider's own error message are quoted.
const MESSAGE_CHARS: usize = 200;

/// `Retry-After` in seconds (integer or decimal); `None` for anything else (e.g. an HTTP date).
pub(super) fn parse_retry_after(value: &str) -> Option<Duration> {
    let secs: f64 = value.trim().parse().ok()?;
    (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs))
}

pub(super) fn secs(d: Duration) -> String {
    if d < Duration::from_secs(1) {
        return format!("{} ms", d.as_millis());
    }
    let s = d.as_secs_f64();
    if s.fract() == 0.0 {
        format!("{s:.0} s")
    } else {
        format!("{s:.1} s")
    }
}

/// The message of a provider's JSON error object (`{"message": ..}`, a string, or `{"type": ..}`).
pub(super) fn error_text(error: &Value) -> String {
    let text = match error {
        Value::String(s) => s.clone(),
        Value::Object(o) => {
            match (o.get("message").and_then(Value::as_str), o.get("type").and_then(Value::as_str)) {
                (Some(m), Some(t)) => format!("{m} ({t})"),
                (Some(m), None) => m.to_string(),
                (None, Some(t)) => t.to_string(),
                (None, None) => error.to_string(),
            }
        }
        other => other.to_string(),
    };
    shorten(&text)
}

/// The provider's own explanation in an error body, if it has a recognisable one.
pub(super) fn provider_message(body: &str) -> Option<String> {
    let body = body.trim();
    if body.is_empty() {
        return None;
    }
    if let Ok(value) = serde_json::from_str::<Value>(body) {
        let found = value
            .get("error")
            .filter(|e| !e.is_null())
            .or_else(|| value.get("message"))
            .or_else(|| value.get("detail"))?;
        return Some(error_text(found));
    }
    // Plain text is worth quoting; an HTML error page is not.
    (!body.starts_with('<')).then(|| shorten(body))
}

/// One line, at most [`MESSAGE_CHARS`] characters.
fn shorten(text: &str) -> String {
    let one_line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() <= MESSAGE_CHARS {
        return one_line;
    }
    let cut: String = one_line.chars().take(MESSAGE_CHARS).collect();
    format!("{cut}…")
}

/// The pieces of an `http(s)://` URL that matter here.
pub(super) struct UrlParts<'a> {
    pub(super) scheme: &'a str,
    /// `host[:port]`, without user info.
    pub(super) authority: &'a str,
    pub(super) path: &'a str,
    /// `?...` or empty (a `#fragment` is dropped).
    pub(super) query: &'a str,
}

impl<'a> UrlParts<'a> {
    pub(super) fn parse(url: &'a str) -> Result<Self> {
        let url = url.trim();
        let bad = |what: &str| {
            Error::invalid(
                "endpoint",
                format!("expected an http:// or https:// URL such as https://api.openai.com/v1, found '{}' ({what})", crude_display(url)),
            )
        };
        let (scheme, rest) = url.split_once("://").ok_or_else(|| bad("no scheme"))?;
        if !scheme.eq_ignore_ascii_case("http") && !scheme.eq_ignore_ascii_case("https") {
            return Err(bad("unsupported scheme"));
        }
        let rest = rest.split('#').next().unwrap_or("");
        let auth_end = rest.find(['/', '?']).unwrap_or(rest.len());
        let authority = &rest[..auth_end];
        let authority = authority.rsplit_once('@').map_or(authority, |(_, host)| host);
        if authority.is_empty() {
            return Err(bad("no host"));
        }
        let tail = &rest[auth_end..];
        let (path, query) = tail.find('?').map_or((tail, ""), |q| tail.split_at(q));
        Ok(UrlParts { scheme, authority, path, query })
    }
}

/// A URL safe to show: scheme, host and path, without user info or query string.
pub(super) fn display_url(url: &str) -> String {
    match UrlParts::parse(url) {
        Ok(p) => format!("{}://{}{}", p.scheme, p.authority, p.path),
        Err(_) => crude_display(url),
    }
}

/// For a string that is not a URL: without query, fragment or anything up to an `@`, shortened.
fn crude_display(url: &str) -> String {
    let cut = url.trim().split(['?', '#']).next().unwrap_or("");
    shorten(cut.rsplit_once('@').map_or(cut, |(_, host)| host))
}

/// What every error of one call needs: where it went, and the key to keep out of messages.
pub(super) struct Ctx<'a> {
    endpoint: String,
    authority: String,
    pub(super) key: Option<&'a str>,
}

impl<'a> Ctx<'a> {
    pub(super) fn new(req: &LlmRequest<'a>, url: &str) -> Result<Self> {
        let key = req.api_key.map(str::trim).filter(|k| !k.is_empty());
        if let Some(k) = key {
            if !k.bytes().all(|b| (0x21..0x7f).contains(&b)) {
                return Err(Error::invalid(
                    "api_key",
                    "the key contains spaces, control or non-ASCII characters, which an HTTP header cannot carry: check that it was copied whole and alone",
                ));
            }
        }
        let parts = UrlParts::parse(url)?;
        Ok(Ctx { endpoint: display_url(url), authority: parts.authority.to_string(), key })
    }

    /// Removes the key from `text`, wherever it appears.
    pub(super) fn redact(&self, text: &str) -> String {
        match self.key {
            Some(k) => text.replace(k, "<redacted>"),
            None => text.to_string(),
        }
    }

    pub(super) fn err(&self, reason: String) -> Error {
        Error::Llm { endpoint: self.endpoint.clone(), reason: self.redact(&reason) }
    }

    pub(super) fn transport_error(&self, e: &ureq::Error) -> Error {
        let host = &self.authority;
        let reason = match e {
            ureq::Error::Timeout(t) => {
                let phase = format!("{t}");
                if matches!(t, ureq::Timeout::Resolve | ureq::Timeout::Connect) {
                    format!("could not connect to {host}: no connection within the timeout ({phase})")
                } else {
                    format!("{host} accepted the connection but did not answer within the timeout ({phase}): the model may be loading or overloaded; try again or raise the timeout")
                }
            }
            ureq::Error::HostNotFound => {
                format!("could not connect to {host}: the host name could not be resolved (check the spelling and the network)")
            }
            ureq::Error::Io(io) if io.kind() == std::io::ErrorKind::ConnectionRefused => {
                format!("could not connect to {host}: connection refused (is the server running and listening on that port?)")
            }
            ureq::Error::Tls(msg) => format!("could not connect to {host}: TLS error: {msg}"),
            other => format!("could not connect to {host}: {other}"),
        };
        self.err(reason)
    }

    pub(super) fn status_error(
        &self,
        req: &LlmRequest,
        status: u16,
        retry_after: Option<&str>,
        waited: Option<Duration>,
        location: Option<&str>,
        detail: Option<String>,
    ) -> Error {
        let host = &self.authority;
        let mut reason = match status {
            401 | 403 if self.key.is_none() => format!(
                "no API key was sent and the endpoint requires one (HTTP {status}): set DOCENT_API_KEY to a valid key for {host}"
            ),
            401 | 403 => format!(
                "the API key was rejected (HTTP {status}): set DOCENT_API_KEY to a valid key for {host}"
            ),
            404 => format!("not found (HTTP 404): check the endpoint URL and the model name '{}'", req.model),
            429 => match waited {
                Some(w) => format!(
                    "rate limited (HTTP 429) again after waiting {} as the provider asked: wait a while and try again, or check the account's rate limits",
                    secs(w)
                ),
                None => format!(
                    "rate limited (HTTP 429): the provider asks to wait {} s, longer than docent waits ({}); try again later",
                    retry_after.unwrap_or("?"),
                    secs(MAX_RETRY_AFTER)
                ),
            },
            400 | 422 => format!(
                "the provider rejected the request (HTTP {status}): check the model name '{}' and max_tokens ({})",
                req.model, req.max_tokens
            ),
            413 => "the request is too large (HTTP 413): lower the prompt budget or the number of sources".to_string(),
            300..=399 => format!(
                "the endpoint redirects (HTTP {status}) to {}: use that URL as the endpoint",
                location.map(display_url).unwrap_or_else(|| "an unstated location".to_string())
            ),
            500..=599 => format!("the provider had an internal error (HTTP {status}): try again later"),
            _ => format!("unexpected response (HTTP {status}): check the endpoint URL and the provider"),
        };
        if let Some(detail) = detail {
            reason.push_str(&format!("; the provider says: {detail}"));
        }
        self.err(reason)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn displayed_urls_drop_user_info_and_query() {
        assert_eq!(display_url("https://u:secret@h:8080/v1?key=secret"), "https://h:8080/v1");
        assert_eq!(display_url("u:secret@h/v1?key=secret"), "h/v1");
    }

    #[test]
    fn provider_messages_are_extracted_and_shortened() {
        assert_eq!(
            provider_message(r#"{"error":{"message":"bad key","type":"auth"}}"#).as_deref(),
            Some("bad key (auth)")
        );
        assert_eq!(
            provider_message(r#"{"error":"model 'x' not found"}"#).as_deref(),
            Some("model 'x' not found")
        );
        assert_eq!(provider_message("<html>oops</html>"), None);
        let long = "x".repeat(500);
        assert_eq!(provider_message(&long).map(|m| m.chars().count()), Some(MESSAGE_CHARS + 1));
    }

    #[test]
    fn retry_after_is_seconds_only() {
        assert_eq!(parse_retry_after("2"), Some(Duration::from_secs(2)));
        assert_eq!(parse_retry_after("0.5"), Some(Duration::from_millis(500)));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), None);
    }
}
