//! Shared test utilities: a loopback TLS pair (rcgen self-signed for 127.0.0.1 and
//! localhost), a raw hyper client over HTTP/1.1, h2c or TLS with ALPN, and signed
//! delivery headers as cakemock sends them.

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use cakemock::sign::Signer;
use http::{HeaderMap, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::client::conn::{http1, http2};
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::io::{AsyncRead, AsyncWrite};

/// A server TLS configuration for 127.0.0.1 and localhost (ALPN h2, http/1.1), and the
/// certificate in PEM for a client to trust.
pub fn tls_pair() -> (Arc<rustls::ServerConfig>, String) {
    let ck = rcgen::generate_simple_self_signed(vec!["127.0.0.1".into(), "localhost".into()])
        .expect("self-signed certificate");
    let cert = ck.cert.der().clone();
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(ck.signing_key.serialize_der().into());
    let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("TLS versions")
    .with_no_client_auth()
    .with_single_cert(vec![cert], key)
    .expect("server certificate");
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    (Arc::new(config), ck.cert.pem())
}

/// A client TLS configuration trusting `cert_pem` only, offering `alpn`.
pub fn tls_client(cert_pem: &str, alpn: &[&[u8]]) -> Arc<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls_pemfile::certs(&mut cert_pem.as_bytes()) {
        roots
            .add(cert.expect("PEM certificate"))
            .expect("trust root");
    }
    let mut config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("TLS versions")
    .with_root_certificates(roots)
    .with_no_client_auth();
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    Arc::new(config)
}

/// What a request got back.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

enum Sender {
    H1(http1::SendRequest<Full<Bytes>>),
    H2(http2::SendRequest<Full<Bytes>>),
}

/// One client connection (HTTP/1.1 keep-alive or HTTP/2); requests reuse it.
pub struct Conn {
    sender: Sender,
    authority: String,
}

impl Conn {
    /// Cleartext: HTTP/1.1, or HTTP/2 with prior knowledge (h2c).
    pub async fn open(addr: SocketAddr, h2: bool) -> anyhow::Result<Conn> {
        let tcp = tokio::net::TcpStream::connect(addr).await?;
        Conn::over(tcp, h2, addr.to_string()).await
    }

    /// TLS trusting `cert_pem`; HTTP/2 when the server picked h2 by ALPN.
    pub async fn open_tls(
        addr: SocketAddr,
        cert_pem: &str,
        alpn: &[&[u8]],
    ) -> anyhow::Result<Conn> {
        let tcp = tokio::net::TcpStream::connect(addr).await?;
        let connector = tokio_rustls::TlsConnector::from(tls_client(cert_pem, alpn));
        let name = rustls::pki_types::ServerName::try_from("localhost")?;
        let tls = connector.connect(name, tcp).await?;
        let h2 = tls.get_ref().1.alpn_protocol() == Some(b"h2");
        Conn::over(tls, h2, format!("localhost:{}", addr.port())).await
    }

    async fn over<S>(io: S, h2: bool, authority: String) -> anyhow::Result<Conn>
    where
        S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let io = TokioIo::new(io);
        let sender = if h2 {
            let (s, conn) = http2::handshake(TokioExecutor::new(), io).await?;
            tokio::spawn(conn);
            Sender::H2(s)
        } else {
            let (s, conn) = http1::handshake(io).await?;
            tokio::spawn(conn);
            Sender::H1(s)
        };
        Ok(Conn { sender, authority })
    }

    /// Sends `method path` with `headers` and `body`, and reads the whole answer.
    pub async fn send(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(String, String)],
        body: &[u8],
    ) -> anyhow::Result<Reply> {
        let mut req = Request::builder().method(method);
        req = match self.sender {
            Sender::H1(_) => req.uri(path).header("host", &self.authority),
            Sender::H2(_) => req.uri(format!("http://{}{path}", self.authority)),
        };
        req = req.header("content-type", "application/json");
        for (k, v) in headers {
            req = req.header(k.as_str(), v.as_str());
        }
        let req = req.body(Full::new(Bytes::copy_from_slice(body)))?;
        let res = match &mut self.sender {
            Sender::H1(s) => {
                s.ready().await?;
                s.send_request(req).await?
            }
            Sender::H2(s) => {
                s.ready().await?;
                s.send_request(req).await?
            }
        };
        let status = res.status();
        let headers = res.headers().clone();
        let body = res.into_body().collect().await?.to_bytes();
        Ok(Reply {
            status,
            headers,
            body,
        })
    }

    pub async fn post(
        &mut self,
        path: &str,
        headers: &[(String, String)],
        body: &[u8],
    ) -> anyhow::Result<Reply> {
        self.send("POST", path, headers, body).await
    }
}

/// One POST over a fresh HTTP/1.1 connection.
pub async fn post(
    addr: SocketAddr,
    path: &str,
    headers: &[(String, String)],
    body: &[u8],
) -> anyhow::Result<Reply> {
    Conn::open(addr, false)
        .await?
        .post(path, headers, body)
        .await
}

/// The headers cakemock sends with a delivery: the signature(s), `X-Cakemail-Event`,
/// `X-Cakemail-Delivery` and `X-Cakemail-Attempt`.
pub fn delivery_headers(
    signer: &Signer,
    event: &str,
    delivery_id: &str,
    attempt: u32,
    body: &[u8],
) -> Vec<(String, String)> {
    let now = chrono::Utc::now().timestamp();
    let mut h = signer.sign(delivery_id, now, body);
    h.push(("X-Cakemail-Event".into(), event.into()));
    h.push(("X-Cakemail-Delivery".into(), delivery_id.into()));
    h.push(("X-Cakemail-Attempt".into(), attempt.to_string()));
    h
}

/// A small docs-flavor body for `event`.
pub fn body(event: &str) -> Vec<u8> {
    format!(
        r#"{{"event":"{event}","timestamp":"2024-03-15T11:45:00Z","data":{{"campaign_id":790,"contact_id":12,"email":"alice@example.com"}}}}"#
    )
    .into_bytes()
}
