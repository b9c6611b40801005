//! One HTTP attempt and its classification. A pooled keep-alive hyper client
//! (HTTP/1.1, h2c by prior knowledge, h2 by ALPN over TLS, TCP_NODELAY) sends a signed
//! request, reads at most 64 KiB of the answer, and reports an [`Outcome`]: receiver
//! failures are data here, never errors.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Result;
use bytes::Bytes;
use http::{HeaderMap, Request, Uri};
use http_body_util::BodyExt;
use http_body_util::combinators::BoxBody;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde::{Deserialize, Serialize};

/// How much of a response body is kept; the rest is not read (the connection is then
/// not reused, which is the price of never buffering a hostile endless answer).
pub const RESPONSE_CAP: usize = 64 * 1024;
/// How much of the kept response body goes into the attempt log.
pub const EXCERPT_CHARS: usize = 200;

/// The request body type: boxed so transport faults can stream, drip or abort it.
pub type Body = BoxBody<Bytes, Box<dyn std::error::Error + Send + Sync>>;

/// A full body from bytes.
pub fn full(bytes: Bytes) -> Body {
    http_body_util::Full::new(bytes)
        .map_err(|never| match never {})
        .boxed()
}

/// Client settings (flags `--timeout`, `--connect-timeout`, `--http2`, `--cacert`, `--insecure`).
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// The whole attempt: connect, send, response head and (capped) body.
    pub timeout: Duration,
    pub connect_timeout: Duration,
    /// Speak HTTP/2 to `http://` targets by prior knowledge (h2c). `https://` targets
    /// negotiate h2 or HTTP/1.1 by ALPN regardless.
    pub http2: bool,
    pub cacert: Option<PathBuf>,
    pub insecure: bool,
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig {
            timeout: Duration::from_secs(5),
            connect_timeout: Duration::from_secs(5),
            http2: false,
            cacert: None,
            insecure: false,
        }
    }
}

/// What went wrong when no HTTP answer came back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// Refused, unreachable, DNS, TLS handshake, or connect timeout.
    Connect,
    /// No complete answer within the attempt timeout.
    Timeout,
    /// The connection broke or the answer was not HTTP (reset, closed, garbage).
    Transport,
    /// The run was interrupted while the attempt was in flight.
    Cancelled,
}

impl ErrorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Connect => "connect",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Transport => "transport",
            ErrorKind::Cancelled => "cancelled",
        }
    }
}

/// The result of one attempt, as the receiver under test produced it.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Response {
        status: u16,
        /// HTTP version actually spoken (`HTTP/1.1`, `HTTP/2.0`).
        version: String,
        /// The raw `Retry-After` header, if any.
        retry_after: Option<String>,
        /// The start of the body (lossy UTF-8, at most [`EXCERPT_CHARS`]).
        excerpt: String,
    },
    Failed {
        kind: ErrorKind,
        message: String,
    },
}

/// What an outcome means for the event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// 2xx.
    Delivered,
    /// Connect errors, timeouts, broken transport, 408, 429, 5xx.
    Retry,
    /// Any other 3xx/4xx (redirects are never followed).
    Rejected,
    /// 410: the receiver asks never to be called again.
    Gone,
}

/// Classifies an outcome by the rules of SPEC section 5.
pub fn classify(outcome: &Outcome) -> Verdict {
    match outcome {
        Outcome::Response { status, .. } => match *status {
            200..=299 => Verdict::Delivered,
            410 => Verdict::Gone,
            408 | 429 | 500..=599 => Verdict::Retry,
            _ => Verdict::Rejected,
        },
        Outcome::Failed { .. } => Verdict::Retry,
    }
}

/// The pooled client. Cheap to share behind an `Arc`.
pub struct HttpClient {
    client: Client<HttpsConnector<HttpConnector>, Body>,
    timeout: Duration,
}

impl HttpClient {
    pub fn new(config: &ClientConfig) -> Result<Self> {
        let mut http = HttpConnector::new();
        http.set_nodelay(true);
        http.set_connect_timeout(Some(config.connect_timeout));
        http.enforce_http(false);
        let tls = crate::tls::client_config(config.cacert.as_deref(), config.insecure)?;
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .enable_http2()
            .wrap_connector(http);
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(30))
            .http2_only(config.http2)
            .build(https);
        Ok(HttpClient {
            client,
            timeout: config.timeout,
        })
    }

    /// Sends one POST and reads the answer, all within the attempt timeout.
    pub async fn send(&self, url: &Uri, headers: HeaderMap, body: Body) -> (Outcome, Duration) {
        self.send_within(url, headers, body, self.timeout).await
    }

    /// The attempt timeout (`--timeout`).
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// [`HttpClient::send`] with another timeout (a `slow_body` fault adds its drip time).
    pub async fn send_within(
        &self,
        url: &Uri,
        headers: HeaderMap,
        body: Body,
        timeout: Duration,
    ) -> (Outcome, Duration) {
        let started = Instant::now();
        let mut req = Request::post(url.clone());
        if let Some(h) = req.headers_mut() {
            *h = headers;
        }
        let req = match req.body(body) {
            Ok(r) => r,
            Err(e) => {
                let outcome = Outcome::Failed {
                    kind: ErrorKind::Connect,
                    message: format!("bad request: {e}"),
                };
                return (outcome, started.elapsed());
            }
        };
        let outcome = match tokio::time::timeout(timeout, self.exchange(req)).await {
            Ok(outcome) => outcome,
            Err(_) => Outcome::Failed {
                kind: ErrorKind::Timeout,
                message: format!(
                    "no complete answer within {}",
                    crate::clock::format_duration(timeout)
                ),
            },
        };
        (outcome, started.elapsed())
    }

    async fn exchange(&self, req: Request<Body>) -> Outcome {
        let resp = match self.client.request(req).await {
            Ok(r) => r,
            Err(e) => return failed_from(&e),
        };
        let status = resp.status().as_u16();
        let version = format!("{:?}", resp.version());
        let retry_after = resp
            .headers()
            .get(http::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let mut body = resp.into_body();
        let mut kept = Vec::new();
        while kept.len() < RESPONSE_CAP {
            match body.frame().await {
                Some(Ok(frame)) => {
                    if let Some(data) = frame.data_ref() {
                        let room = RESPONSE_CAP - kept.len();
                        kept.extend_from_slice(&data[..data.len().min(room)]);
                    }
                }
                // A body that breaks after the head still carries the status the receiver chose.
                Some(Err(_)) | None => break,
            }
        }
        let excerpt: String = String::from_utf8_lossy(&kept)
            .chars()
            .take(EXCERPT_CHARS)
            .collect();
        Outcome::Response {
            status,
            version,
            retry_after,
            excerpt,
        }
    }
}

/// Turns a client error into an outcome, naming the innermost cause (that is where
/// "connection refused" or "certificate unknown" lives).
fn failed_from(e: &hyper_util::client::legacy::Error) -> Outcome {
    let mut message = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        message = s.to_string();
        source = s.source();
    }
    let kind = if e.is_connect() {
        ErrorKind::Connect
    } else {
        ErrorKind::Transport
    };
    Outcome::Failed { kind, message }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(s: u16) -> Outcome {
        Outcome::Response {
            status: s,
            version: "HTTP/1.1".into(),
            retry_after: None,
            excerpt: String::new(),
        }
    }

    #[test]
    fn classification_follows_the_spec() {
        assert_eq!(classify(&status(200)), Verdict::Delivered);
        assert_eq!(classify(&status(204)), Verdict::Delivered);
        for s in [408, 429, 500, 502, 503, 504] {
            assert_eq!(classify(&status(s)), Verdict::Retry, "{s}");
        }
        for s in [301, 302, 400, 401, 403, 404, 422] {
            assert_eq!(classify(&status(s)), Verdict::Rejected, "{s}");
        }
        assert_eq!(classify(&status(410)), Verdict::Gone);
        let f = Outcome::Failed {
            kind: ErrorKind::Connect,
            message: "refused".into(),
        };
        assert_eq!(classify(&f), Verdict::Retry);
    }
}
