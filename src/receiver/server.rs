//! The accept loop and per-connection tasks: HTTP/1.1 keep-alive and HTTP/2 (h2c prior
//! knowledge, or ALPN over TLS) on one port via hyper-util's auto builder, graceful
//! shutdown on a token, and scripted TCP resets.

use std::sync::Arc;
use std::time::Duration;

use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;

use super::handle::{Shared, handle};

/// How long open connections get to finish after shutdown starts, before they are cut.
const GRACE: Duration = Duration::from_millis(500);

/// A TLS handshake that has not finished by then is dropped (a stalled client must
/// not hold a task forever).
const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Accepts until `shutdown`, then gives connections [`GRACE`] and aborts the rest.
pub(crate) async fn accept_loop(
    listener: TcpListener,
    shared: Arc<Shared>,
    tls: Option<TlsAcceptor>,
    shutdown: CancellationToken,
) {
    let mut conns = JoinSet::new();
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => break,
            // Reap finished connections so the set does not grow with every one served.
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer)) => {
                    conns.spawn(serve(stream, shared.clone(), tls.clone(), shutdown.clone()));
                }
                // Out of file descriptors and the like: back off rather than spin.
                Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
            },
        }
    }
    drop(listener);
    let drained = async { while conns.join_next().await.is_some() {} };
    if tokio::time::timeout(GRACE, drained).await.is_err() {
        conns.abort_all();
        while conns.join_next().await.is_some() {}
    }
}

/// Serves one accepted connection, over TLS when configured.
async fn serve(
    stream: TcpStream,
    shared: Arc<Shared>,
    tls: Option<TlsAcceptor>,
    shutdown: CancellationToken,
) {
    // Without it small answers wait on Nagle's algorithm (~40 ms each).
    let _ = stream.set_nodelay(true);
    // A second handle on the socket, so a scripted reset can set SO_LINGER 0 on it
    // after hyper (or TLS) has taken ownership of the stream.
    let dup = socket2::SockRef::from(&stream).try_clone().ok();
    match tls {
        None => drive(TokioIo::new(stream), shared, dup, shutdown).await,
        Some(acceptor) => {
            let handshake = tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, acceptor.accept(stream));
            let tls_stream = tokio::select! {
                _ = shutdown.cancelled() => return,
                done = handshake => match done {
                    Ok(Ok(s)) => s,
                    _ => return,
                },
            };
            drive(TokioIo::new(tls_stream), shared, dup, shutdown).await
        }
    }
}

async fn drive<I>(
    io: I,
    shared: Arc<Shared>,
    dup: Option<socket2::Socket>,
    shutdown: CancellationToken,
) where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let reset = CancellationToken::new();
    let svc_reset = reset.clone();
    let svc = service_fn(move |req| handle(shared.clone(), svc_reset.clone(), req));
    let builder = auto::Builder::new(TokioExecutor::new());
    let mut conn = Box::pin(builder.serve_connection(io, svc));
    tokio::select! {
        _ = conn.as_mut() => return,
        _ = reset.cancelled() => return hard_close(conn, dup),
        _ = shutdown.cancelled() => conn.as_mut().graceful_shutdown(),
    }
    // Shutting down: finish what is in flight (the accept loop bounds this by GRACE).
    tokio::select! {
        _ = conn.as_mut() => {}
        _ = reset.cancelled() => hard_close(conn, dup),
    }
}

/// Closes the connection with a TCP RST: SO_LINGER 0 on the socket, then both handles
/// dropped, the connection (and its stream) first.
fn hard_close<C>(conn: C, dup: Option<socket2::Socket>) {
    if let Some(sock) = &dup {
        let _ = sock.set_linger(Some(Duration::ZERO));
    }
    drop(conn);
    drop(dup);
}
