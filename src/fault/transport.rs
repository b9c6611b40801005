//! Transport faults, done on the connection itself: `slow_body` drips the body at a
//! byte rate, `abort_mid_body` sends half of it and then fails the body so the client
//! closes the connection, `reset` sends the head and half the body on a fresh TCP
//! connection and resets it (SO_LINGER 0). Over https, `reset` resets the bare TCP
//! connection before any TLS handshake.

use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, Uri};
use hyper::body::{Frame, SizeHint};
use tokio::io::AsyncWriteExt;

use crate::deliver::{Body, ErrorKind, Outcome};

/// How long an aborted or reset body waits after its first half, so the half reaches
/// the receiver before the connection goes.
const SETTLE: Duration = Duration::from_millis(100);

/// A body that yields its bytes in paced chunks, announces its full length (so the
/// receiver expects all of it), and may fail after `stop_at` bytes.
struct Paced {
    data: Bytes,
    pos: usize,
    chunk: usize,
    stop_at: usize,
    interval: Duration,
    sleep: Option<Pin<Box<tokio::time::Sleep>>>,
    abort: bool,
}

impl hyper::body::Body for Paced {
    type Data = Bytes;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = &mut *self;
        if let Some(s) = this.sleep.as_mut() {
            ready!(s.as_mut().poll(cx));
            this.sleep = None;
        }
        if this.pos >= this.stop_at {
            return Poll::Ready(if this.abort {
                Some(Err(format!(
                    "cakemock aborted the body after {} of {} bytes (fault abort_mid_body)",
                    this.pos,
                    this.data.len()
                )
                .into()))
            } else {
                None
            });
        }
        let n = this.chunk.min(this.stop_at - this.pos);
        let part = this.data.slice(this.pos..this.pos + n);
        this.pos += n;
        if !this.interval.is_zero() && (this.pos < this.stop_at || this.abort) {
            this.sleep = Some(Box::pin(tokio::time::sleep(this.interval)));
        }
        Poll::Ready(Some(Ok(Frame::data(part))))
    }

    fn is_end_stream(&self) -> bool {
        !self.abort && self.pos >= self.data.len()
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.data.len() as u64)
    }
}

/// The body dripped at `rate` bytes per second, in chunks of about a sixteenth of a
/// second's worth.
pub fn slow_body(data: Bytes, rate: u64) -> Body {
    let rate = rate.max(1);
    let chunk = (rate / 16).max(1);
    let interval = Duration::from_secs_f64(chunk as f64 / rate as f64);
    let stop_at = data.len();
    boxed(Paced {
        data,
        pos: 0,
        chunk: usize::try_from(chunk).unwrap_or(usize::MAX),
        stop_at,
        interval,
        sleep: None,
        abort: false,
    })
}

/// How long dripping `len` bytes at `rate` takes (added to the attempt timeout, which
/// is about the receiver's answer, not cakemock's own slowness).
pub fn drip_time(len: usize, rate: u64) -> Duration {
    Duration::from_secs_f64(len as f64 / rate.max(1) as f64)
}

/// Half the body, a pause, then a body error: hyper closes the connection mid-body.
pub fn abort_mid_body(data: Bytes) -> Body {
    let stop_at = data.len() / 2;
    boxed(Paced {
        chunk: stop_at.max(1),
        data,
        pos: 0,
        stop_at,
        interval: SETTLE,
        sleep: None,
        abort: true,
    })
}

fn boxed(p: Paced) -> Body {
    http_body_util::BodyExt::boxed(p)
}

/// Opens a fresh connection to `url`, sends the request head and half of `body`, then
/// resets the connection. The outcome is the transport failure cakemock caused.
pub async fn reset(
    url: &Uri,
    headers: &HeaderMap,
    body: &[u8],
    connect_timeout: Duration,
) -> Outcome {
    let host = url.host().unwrap_or("localhost").trim_matches(['[', ']']);
    let https = url.scheme_str() == Some("https");
    let port = url.port_u16().unwrap_or(if https { 443 } else { 80 });
    let stream = match tokio::time::timeout(
        connect_timeout,
        tokio::net::TcpStream::connect((host, port)),
    )
    .await
    {
        Ok(Ok(s)) => s,
        Ok(Err(e)) => return failed(ErrorKind::Connect, e.to_string()),
        Err(_) => return failed(ErrorKind::Connect, "connect timed out".into()),
    };
    let half = body.len() / 2;
    let mut stream = stream;
    if !https {
        let path = url.path_and_query().map_or("/", |p| p.as_str());
        let authority = url.authority().map_or(host, |a| a.as_str());
        let mut head = format!(
            "POST {path} HTTP/1.1\r\nhost: {authority}\r\ncontent-length: {}\r\n",
            body.len()
        );
        for (name, value) in headers {
            if let Ok(v) = value.to_str() {
                head.push_str(&format!("{name}: {v}\r\n"));
            }
        }
        head.push_str("\r\n");
        let written = async {
            stream.write_all(head.as_bytes()).await?;
            stream.write_all(&body[..half]).await?;
            stream.flush().await
        };
        if let Err(e) = written.await {
            return failed(ErrorKind::Transport, e.to_string());
        }
        tokio::time::sleep(SETTLE).await;
    }
    if let Err(e) = socket2::SockRef::from(&stream).set_linger(Some(Duration::ZERO)) {
        return failed(
            ErrorKind::Transport,
            format!("cannot reset the connection: {e}"),
        );
    }
    drop(stream);
    let what = if https {
        "before the TLS handshake".to_string()
    } else {
        format!("after {half} of {} body bytes", body.len())
    };
    failed(
        ErrorKind::Transport,
        format!("cakemock reset the connection {what} (fault reset)"),
    )
}

fn failed(kind: ErrorKind, message: String) -> Outcome {
    Outcome::Failed { kind, message }
}
