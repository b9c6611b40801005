//! The embedded receiver: a real HTTP server (HTTP/1.1 and h2c, optionally TLS with
//! ALPN) that verifies each delivery's signature, answers by a response script and
//! keeps an inbox of what arrived. It is `cakemock listen`, the default target when
//! none is given, and the fixture of cakemock's own tests. This file holds the public
//! surface; `server` accepts, `handle` serves one request, `verdict` checks signatures,
//! `jsjson` re-serializes like Node, `inbox` keeps and logs what arrived.

mod handle;
mod inbox;
mod jsjson;
mod jsnumber;
pub mod script;
mod server;
mod verdict;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use tokio_util::sync::CancellationToken;

use crate::sign::{Scheme, Secret};
pub use inbox::Stray;
pub use jsjson::restringify;
pub use script::Script;

/// Request bodies larger than this are not read and get 413.
pub const MAX_BODY: usize = 16 << 20;

/// How the receiver behaves.
#[derive(Debug, Clone)]
pub struct ReceiverConfig {
    /// The path deliveries are accepted on (others get 404).
    pub path: String,
    /// The secret signatures are checked with.
    pub secret: Secret,
    /// Check this scheme only; `None` checks whichever scheme's headers are present.
    pub scheme: Option<Scheme>,
    /// A custom signature header name (`--signature-header`).
    pub signature_header: Option<String>,
    /// How to answer each delivery.
    pub respond: Script,
    /// Verify over `JSON.stringify(JSON.parse(body))`, as the guide's Node example does.
    pub verify_json: bool,
    /// Serve HTTPS (with ALPN h2 and http/1.1) with this configuration.
    pub tls: Option<Arc<rustls::ServerConfig>>,
    /// Append every received delivery to this file as JSON Lines.
    pub log: Option<PathBuf>,
    /// Standard Webhooks timestamp tolerance.
    pub tolerance: Duration,
    /// Answer deliveries that fail verification by the script too, instead of 401
    /// `Invalid signature` (the verdict is still recorded).
    pub accept_invalid: bool,
    /// How many deliveries [`Receiver::received`] keeps (the oldest go first), so a
    /// load test cannot exhaust memory.
    pub keep: usize,
}

impl ReceiverConfig {
    /// Defaults: path `/webhooks/cakemail`, any scheme, answer 200, 5 minutes tolerance,
    /// invalid signatures refused with 401, the last 100 000 deliveries kept.
    pub fn new(secret: Secret) -> Self {
        ReceiverConfig {
            path: "/webhooks/cakemail".into(),
            secret,
            scheme: None,
            signature_header: None,
            respond: Script::default(),
            verify_json: false,
            tls: None,
            log: None,
            tolerance: Duration::from_secs(300),
            accept_invalid: false,
            keep: 100_000,
        }
    }
}

/// The signature verdict on one delivery.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum Verdict {
    /// The signature matched in this scheme.
    Verified { scheme: Scheme },
    /// Verification failed; `scheme` is the one tried (`None` when no signature header
    /// was found or the body was refused before verification).
    Failed {
        scheme: Option<Scheme>,
        reason: String,
    },
}

/// One delivery as the receiver saw it.
#[derive(Debug, Clone)]
pub struct Received {
    /// 1, 2, ... in arrival order.
    pub seq: u64,
    pub at: DateTime<Utc>,
    pub method: String,
    pub path: String,
    /// `HTTP/1.1` or `HTTP/2.0`.
    pub version: String,
    /// Header names lower-cased, in arrival order.
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
    pub event: Option<String>,
    pub delivery_id: Option<String>,
    pub attempt: Option<u32>,
    pub verdict: Verdict,
    /// What the receiver answered: a status code, or `reset`.
    pub reply: String,
}

impl Verdict {
    pub fn is_verified(&self) -> bool {
        matches!(self, Verdict::Verified { .. })
    }
}

impl Received {
    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A running receiver. Dropping it does not stop it; call [`Receiver::shutdown`].
pub struct Receiver {
    addr: SocketAddr,
    url: String,
    shared: Arc<handle::Shared>,
    shutdown: CancellationToken,
    task: tokio::task::JoinHandle<()>,
}

impl Receiver {
    /// Serves on an already-bound listener (tests bind port 0). Fails when the log
    /// cannot be opened or `signature_header` is not a valid header name.
    pub async fn start(
        listener: tokio::net::TcpListener,
        config: ReceiverConfig,
    ) -> std::io::Result<Receiver> {
        let invalid = |msg: String| std::io::Error::new(std::io::ErrorKind::InvalidInput, msg);
        let verifier = verdict::Verifier::new(
            &config.secret,
            config.scheme,
            config.signature_header.as_deref(),
            config.tolerance,
        )
        .map_err(invalid)?;
        if !config.path.starts_with('/') {
            return Err(invalid(format!(
                "the receiver path {:?} must start with /",
                config.path
            )));
        }
        let shared = Arc::new(handle::Shared {
            path: config.path.clone(),
            respond: config.respond,
            verify_json: config.verify_json,
            accept_invalid: config.accept_invalid,
            verifier,
            positions: Default::default(),
            inbox: inbox::Inbox::new(config.keep, config.log.as_deref())?,
        });
        let addr = listener.local_addr()?;
        let url = url_for(addr, config.tls.is_some(), &config.path);
        let tls = config.tls.map(tokio_rustls::TlsAcceptor::from);
        let shutdown = CancellationToken::new();
        let task = tokio::spawn(server::accept_loop(
            listener,
            shared.clone(),
            tls,
            shutdown.clone(),
        ));
        Ok(Receiver {
            addr,
            url,
            shared,
            shutdown,
            task,
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The URL deliveries should be sent to (`http://127.0.0.1:PORT/webhooks/cakemail`;
    /// `https` with TLS; a wildcard bind address shows as loopback).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Everything received so far (the last [`ReceiverConfig::keep`]).
    pub fn received(&self) -> Vec<Received> {
        self.shared.inbox.all()
    }

    /// Waits until at least `n` deliveries arrived or `timeout` passed; returns them all.
    pub async fn wait_for(&self, n: usize, timeout: Duration) -> Vec<Received> {
        let mut count = self.shared.inbox.count();
        let _ = tokio::time::timeout(timeout, count.wait_for(|c| *c >= n as u64)).await;
        self.received()
    }

    /// A live feed of deliveries as they arrive (for printing). A slow reader misses
    /// the oldest (`RecvError::Lagged`) rather than slowing the receiver.
    pub fn subscribe(&self) -> tokio::sync::broadcast::Receiver<Received> {
        self.shared.inbox.subscribe()
    }

    /// A live feed of requests that were not deliveries (wrong path or method).
    pub fn subscribe_strays(&self) -> tokio::sync::broadcast::Receiver<Stray> {
        self.shared.inbox.subscribe_strays()
    }

    /// Stops accepting, lets open connections finish briefly (half a second), and
    /// returns once every connection is closed.
    pub async fn shutdown(self) {
        self.shutdown.cancel();
        let _ = self.task.await;
    }
}

fn url_for(addr: SocketAddr, tls: bool, path: &str) -> String {
    let ip = match addr.ip() {
        std::net::IpAddr::V4(v4) if v4.is_unspecified() => std::net::Ipv4Addr::LOCALHOST.into(),
        std::net::IpAddr::V6(v6) if v6.is_unspecified() => std::net::Ipv6Addr::LOCALHOST.into(),
        ip => ip,
    };
    let scheme = if tls { "https" } else { "http" };
    // SocketAddr's Display brackets IPv6 addresses.
    format!("{scheme}://{}{path}", SocketAddr::new(ip, addr.port()))
}
