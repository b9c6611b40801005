//! The embedded receiver: a real HTTP server (HTTP/1.1 and h2c, optionally TLS with
//! ALPN) that verifies each delivery's signature, answers by a response script and
//! keeps an inbox of what arrived. It is `cakemock listen`, the default target when
//! none is given, and the fixture of cakemock's own tests.
//! STUB: owned by the receiver helper; the public signatures below are the contract.

pub mod script;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use chrono::{DateTime, Utc};

use crate::sign::{Scheme, Secret};
pub use script::Script;

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
}

impl ReceiverConfig {
    /// Defaults: path `/webhooks/cakemail`, any scheme, answer 200, 5 minutes tolerance.
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
        }
    }
}

/// The signature verdict on one delivery.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum Verdict {
    Verified {
        scheme: Scheme,
    },
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
}

impl Receiver {
    /// Serves on an already-bound listener (tests bind port 0).
    pub async fn start(
        listener: tokio::net::TcpListener,
        config: ReceiverConfig,
    ) -> std::io::Result<Receiver> {
        let _ = (listener, config);
        unimplemented!()
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The URL deliveries should be sent to (`http://127.0.0.1:PORT/webhooks/cakemail`).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Everything received so far.
    pub fn received(&self) -> Vec<Received> {
        unimplemented!()
    }

    /// Waits until at least `n` deliveries arrived or `timeout` passed; returns them all.
    pub async fn wait_for(&self, n: usize, timeout: Duration) -> Vec<Received> {
        let _ = (n, timeout);
        unimplemented!()
    }

    /// A live feed of deliveries as they arrive (for printing).
    pub fn subscribe(&self) -> tokio::sync::broadcast::Receiver<Received> {
        unimplemented!()
    }

    /// Stops accepting, lets open connections finish briefly, and returns.
    pub async fn shutdown(self) {}
}
