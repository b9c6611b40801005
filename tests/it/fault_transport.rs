//! Transport faults on the wire, seen by a raw HTTP/1.1 server that reads byte by
//! byte: a dripped body, a body cut off by a closed connection, a TCP reset, and the
//! clean retry after it.

use cakemock::deliver::ErrorKind;
use cakemock::record::TerminalState;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

use crate::faults::{Setup, body, drive_faults, named};

/// What a raw HTTP/1.1 server saw of one request.
#[derive(Debug)]
struct Seen {
    declared: usize,
    body: Vec<u8>,
    /// Separate reads the body arrived in.
    reads: usize,
    /// How the request ended: `complete`, `eof` or `reset`.
    end: &'static str,
}

/// A server that reads requests byte-honestly and answers 200 to complete ones.
async fn raw_server() -> (String, mpsc::UnboundedReceiver<Seen>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!(
        "http://{}/webhooks/cakemail",
        listener.local_addr().unwrap()
    );
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        loop {
            let (mut s, _) = listener.accept().await.unwrap();
            let tx = tx.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 65536];
                let head_end = loop {
                    if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                        break i + 4;
                    }
                    match s.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                };
                let head = String::from_utf8_lossy(&buf[..head_end]).to_lowercase();
                let declared: usize = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .map(|v| v.trim().parse().unwrap())
                    .unwrap_or(0);
                let mut body = buf[head_end..].to_vec();
                let mut reads = usize::from(!body.is_empty());
                let end = loop {
                    if body.len() >= declared {
                        break "complete";
                    }
                    match s.read(&mut chunk).await {
                        Ok(0) => break "eof",
                        Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => break "reset",
                        Err(_) => break "error",
                        Ok(n) => {
                            reads += 1;
                            body.extend_from_slice(&chunk[..n]);
                        }
                    }
                };
                if end == "complete" {
                    let _ = s
                        .write_all(
                            b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nOK",
                        )
                        .await;
                }
                let _ = tx.send(Seen {
                    declared,
                    body,
                    reads,
                    end,
                });
            });
        }
    });
    (url, rx)
}

#[tokio::test]
async fn slow_body_drips_the_whole_body() {
    let (url, mut seen) = raw_server().await;
    let run = drive_faults(
        &url,
        1,
        Setup {
            faults: &["slow_body:rate=200B/s"],
            ..Setup::default()
        },
    )
    .await;
    run.assert_accounted();
    let s = seen.recv().await.unwrap();
    assert_eq!((s.end, s.body.as_slice()), ("complete", &body(1)[..]));
    assert!(
        s.reads >= 4,
        "{} bytes arrived in {} reads",
        s.body.len(),
        s.reads
    );
    assert_eq!(run.attempts()[0].status, Some(200));
    named(&run, "slow_body");
}

#[tokio::test]
async fn abort_mid_body_closes_after_half_the_body() {
    let (url, mut seen) = raw_server().await;
    let run = drive_faults(
        &url,
        1,
        Setup {
            faults: &["abort_mid_body"],
            ..Setup::default()
        },
    )
    .await;
    run.assert_accounted();
    let s = seen.recv().await.unwrap();
    assert_eq!(s.declared, body(1).len());
    assert_eq!(s.body.as_slice(), &body(1)[..body(1).len() / 2]);
    assert_ne!(s.end, "complete", "{s:?}");
    let a = &run.attempts()[0];
    assert_eq!(a.error, Some(ErrorKind::Transport), "{a:?}");
    named(&run, "abort_mid_body");
}

#[tokio::test]
async fn reset_sends_a_tcp_reset_and_the_retry_goes_clean() {
    let (url, mut seen) = raw_server().await;
    let run = drive_faults(
        &url,
        1,
        Setup {
            faults: &["reset"],
            retry: "0s",
            ..Setup::default()
        },
    )
    .await;
    run.assert_accounted();
    let s = seen.recv().await.unwrap();
    assert_eq!(s.end, "reset", "{s:?}");
    assert_eq!(s.body.as_slice(), &body(1)[..body(1).len() / 2]);
    let retry = seen.recv().await.unwrap();
    assert_eq!(
        (retry.end, retry.body.as_slice()),
        ("complete", &body(1)[..])
    );
    let a = run.attempts();
    assert_eq!(a[0].error, Some(ErrorKind::Transport));
    assert!(
        a[0].message.as_deref().unwrap().contains("fault reset"),
        "{a:?}"
    );
    assert_eq!(a[1].status, Some(200));
    assert_eq!(run.terminals()[0].state, TerminalState::Delivered);
    named(&run, "reset");
}
