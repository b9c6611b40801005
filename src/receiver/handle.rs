//! One request through the receiver: route (only POST on the configured path), read
//! the body with a cap, verify, pick the scripted reply, record, then answer or reset.

use std::convert::Infallible;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use chrono::Utc;
use http::{Method, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper::body::Incoming;
use tokio_util::sync::CancellationToken;

use super::inbox::{Inbox, Stray};
use super::script::{Action, Positions, Reply};
use super::verdict::Verifier;
use super::{MAX_BODY, Received, Script, Verdict, jsjson};

/// Everything a request needs, shared by all connections.
pub(crate) struct Shared {
    pub path: String,
    pub respond: Script,
    pub verify_json: bool,
    pub accept_invalid: bool,
    pub verifier: Verifier,
    pub positions: Mutex<Positions>,
    pub inbox: Inbox,
}

type Answer = Response<Full<Bytes>>;

/// Serves one request. `reset` is the connection's: cancelling it makes the
/// connection task drop the socket with SO_LINGER 0 (a TCP RST).
pub(crate) async fn handle(
    shared: Arc<Shared>,
    reset: CancellationToken,
    req: Request<Incoming>,
) -> Result<Answer, Infallible> {
    let at = Utc::now();
    if req.uri().path() != shared.path || req.method() != Method::POST {
        let status = if req.uri().path() != shared.path {
            StatusCode::NOT_FOUND
        } else {
            StatusCode::METHOD_NOT_ALLOWED
        };
        shared.inbox.stray(Stray {
            at,
            method: req.method().to_string(),
            path: req.uri().path().to_string(),
            status: status.as_u16(),
        });
        let mut res = text(status, None);
        if status == StatusCode::METHOD_NOT_ALLOWED {
            res.headers_mut()
                .insert(header::ALLOW, http::HeaderValue::from_static("POST"));
        }
        return Ok(res);
    }

    let (parts, body) = req.into_parts();
    let declared = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    let body = if declared.is_some_and(|n| n > MAX_BODY as u64) {
        None
    } else {
        match Limited::new(body, MAX_BODY).collect().await {
            Ok(b) => Some(b.to_bytes()),
            Err(e) if e.downcast_ref::<LengthLimitError>().is_some() => None,
            // The sender went away mid-body: nobody is left to answer.
            Err(_) => return Ok(text(StatusCode::BAD_REQUEST, None)),
        }
    };

    let headers = &parts.headers;
    let get = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let delivery_id = get("x-cakemail-delivery")
        .or_else(|| get("webhook-id"))
        .map(str::to_string);
    let event = get("x-cakemail-event")
        .map(str::to_string)
        .or_else(|| body.as_deref().and_then(event_of));

    // Deliveries refused before the application would see them do not advance the script.
    let (verdict, refusal) = match &body {
        None => (
            failed(
                None,
                format!("body over the {} MiB limit; not read", MAX_BODY >> 20),
            ),
            Some(StatusCode::PAYLOAD_TOO_LARGE),
        ),
        Some(b) if shared.verify_json => match jsjson::restringify(b) {
            Ok(s) => (shared.verifier.verify(headers, s.as_bytes()), None),
            Err(why) => (
                failed(None, format!("--verify-json: the body is not JSON ({why})")),
                Some(StatusCode::BAD_REQUEST),
            ),
        },
        Some(b) => (shared.verifier.verify(headers, b), None),
    };
    let refusal = refusal.or_else(|| {
        (matches!(verdict, Verdict::Failed { .. }) && !shared.accept_invalid)
            .then_some(StatusCode::UNAUTHORIZED)
    });
    let reply = match refusal {
        Some(status) => Reply {
            action: Action::Status {
                code: status.as_u16(),
                retry_after: None,
            },
            delay: std::time::Duration::ZERO,
        },
        None => {
            let n = if shared.respond.is_constant() {
                0
            } else {
                let mut positions = shared.positions.lock().unwrap_or_else(|p| p.into_inner());
                positions.next(delivery_id.as_deref())
            };
            shared.respond.reply_at(n).clone()
        }
    };

    // Recorded when the reply is decided, before any scripted delay: the inbox shows
    // what arrived even if the sender gives up waiting.
    shared.inbox.push(Received {
        seq: 0,
        at,
        method: parts.method.to_string(),
        path: parts.uri.path().to_string(),
        version: format!("{:?}", parts.version),
        headers: headers
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect(),
        body: body.unwrap_or_default(),
        event,
        delivery_id,
        attempt: get("x-cakemail-attempt").and_then(|v| v.trim().parse().ok()),
        verdict,
        reply: match &reply.action {
            Action::Status { code, .. } => code.to_string(),
            Action::Reset => "reset".into(),
        },
    });

    if !reply.delay.is_zero() {
        tokio::time::sleep(reply.delay).await;
    }
    match reply.action {
        Action::Reset => {
            reset.cancel();
            // The connection task drops this future along with the socket.
            std::future::pending().await
        }
        Action::Status { code, retry_after } => {
            let status = StatusCode::from_u16(code).unwrap_or(StatusCode::OK);
            Ok(text(status, retry_after))
        }
    }
}

fn failed(scheme: Option<crate::sign::Scheme>, reason: String) -> Verdict {
    Verdict::Failed { scheme, reason }
}

/// The `event` field of a JSON body, when the header is absent.
fn event_of(body: &[u8]) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Envelope {
        event: Option<String>,
    }
    serde_json::from_slice::<Envelope>(body).ok()?.event
}

/// A short plain-text answer; 401 says `Invalid signature` as the guide's receiver does.
fn text(status: StatusCode, retry_after: Option<String>) -> Answer {
    let body = match status {
        // These carry no body by definition.
        StatusCode::NO_CONTENT | StatusCode::NOT_MODIFIED => "",
        StatusCode::UNAUTHORIZED => "Invalid signature",
        s if s.is_success() => "OK",
        s => s.canonical_reason().unwrap_or("No reason"),
    };
    let mut res = Response::new(Full::new(Bytes::from_static(body.as_bytes())));
    *res.status_mut() = status;
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        http::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    if let Some(v) = retry_after.and_then(|v| http::HeaderValue::from_str(&v).ok()) {
        res.headers_mut().insert(header::RETRY_AFTER, v);
    }
    res
}
