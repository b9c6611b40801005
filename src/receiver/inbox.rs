//! The receiver's inbox: every delivery in arrival order (bounded), a count to wait
//! on, a live broadcast for printing, and the optional JSON Lines log, written and
//! flushed one line per delivery.

use std::collections::VecDeque;
use std::fs::File;
use std::io::Write;
use std::path::Path;
use std::sync::Mutex;

use chrono::{DateTime, SecondsFormat, Utc};
use tokio::sync::{broadcast, watch};

use super::{Received, Verdict};

/// A request that was not a delivery: the wrong path (404) or method (405).
#[derive(Debug, Clone)]
pub struct Stray {
    pub at: DateTime<Utc>,
    pub method: String,
    pub path: String,
    pub status: u16,
}

pub(crate) struct Inbox {
    kept: Mutex<Kept>,
    /// How many deliveries arrived in all (not only those kept).
    count: watch::Sender<u64>,
    live: broadcast::Sender<Received>,
    strays: broadcast::Sender<Stray>,
    log: Option<Mutex<File>>,
}

struct Kept {
    items: VecDeque<Received>,
    limit: usize,
    seq: u64,
}

impl Inbox {
    /// `limit` caps what is kept in memory (the oldest go first); `log` is opened for
    /// appending.
    pub fn new(limit: usize, log: Option<&Path>) -> std::io::Result<Inbox> {
        let log = match log {
            Some(p) => Some(Mutex::new(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(p)
                    .map_err(|e| {
                        std::io::Error::new(
                            e.kind(),
                            format!("cannot open the log {}: {e}", p.display()),
                        )
                    })?,
            )),
            None => None,
        };
        Ok(Inbox {
            kept: Mutex::new(Kept {
                items: VecDeque::new(),
                limit: limit.max(1),
                seq: 0,
            }),
            count: watch::Sender::new(0),
            live: broadcast::channel(1024).0,
            strays: broadcast::channel(64).0,
            log,
        })
    }

    /// Numbers `r`, keeps it, logs it and announces it.
    pub fn push(&self, mut r: Received) {
        {
            let mut kept = lock(&self.kept);
            kept.seq += 1;
            r.seq = kept.seq;
            if kept.items.len() >= kept.limit {
                kept.items.pop_front();
            }
            kept.items.push_back(r.clone());
        }
        if let Some(log) = &self.log {
            let mut line = r.to_json().to_string();
            line.push('\n');
            // One write of a whole line on an unbuffered file: flushed as it happens.
            // A failing log (disk full) must not take the receiver down with it.
            let _ = lock(log).write_all(line.as_bytes());
        }
        self.count.send_modify(|c| *c += 1);
        let _ = self.live.send(r);
    }

    pub fn stray(&self, s: Stray) {
        let _ = self.strays.send(s);
    }

    pub fn all(&self) -> Vec<Received> {
        lock(&self.kept).items.iter().cloned().collect()
    }

    pub fn count(&self) -> watch::Receiver<u64> {
        self.count.subscribe()
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Received> {
        self.live.subscribe()
    }

    pub fn subscribe_strays(&self) -> broadcast::Receiver<Stray> {
        self.strays.subscribe()
    }
}

/// A poisoned lock only means another request panicked mid-push; the data is still
/// a valid list.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Received {
    /// The JSON Lines form: time, seq, method, path, version, headers (as `[name,
    /// value]` pairs), body (as text), event, delivery_id, attempt, verdict (`verified`
    /// or `failed`), scheme, reason, reply.
    pub fn to_json(&self) -> serde_json::Value {
        let (verdict, scheme, reason) = match &self.verdict {
            Verdict::Verified { scheme } => ("verified", Some(*scheme), None),
            Verdict::Failed { scheme, reason } => ("failed", *scheme, Some(reason.as_str())),
        };
        serde_json::json!({
            "time": self.at.to_rfc3339_opts(SecondsFormat::Millis, true),
            "seq": self.seq,
            "method": self.method,
            "path": self.path,
            "version": self.version,
            "headers": self.headers,
            "body": String::from_utf8_lossy(&self.body),
            "event": self.event,
            "delivery_id": self.delivery_id,
            "attempt": self.attempt,
            "verdict": verdict,
            "scheme": scheme,
            "reason": reason,
            "reply": self.reply,
        })
    }
}
