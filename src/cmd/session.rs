//! What `trigger` and `run` share around the one delivery loop: the client, the
//! recorder and its first log line, Ctrl-C, the job channel between a source and the
//! loop, and the accounting once both have ended.

use std::future::Future;
use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, Result};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::clock::format_duration;
use crate::deliver::{ClientConfig, HttpClient};
use crate::drive::{self, DriveConfig, Job};
use crate::record::{AttemptRecord, TerminalRecord, TerminalState};
use crate::record::{Record, Recorder, RunRecord};
use crate::summary::Summary;
use std::time::Duration;

/// How many generated jobs may wait for a delivery slot: enough to keep the loop fed,
/// small enough that a million-event source never sits in memory.
const QUEUE: usize = 1024;

/// A delivery run being set up.
pub struct Session {
    /// Observe it (before [`Session::run`]) to print deliveries as they end.
    pub recorder: Arc<Recorder>,
    /// Fired by Ctrl-C; sources should stop generating when it fires.
    pub cancel: CancellationToken,
    client: Arc<HttpClient>,
}

/// How a run ended.
pub struct Ended {
    pub summary: Summary,
    pub interrupted: bool,
}

impl Session {
    /// Builds the client, opens the log with its `run` line, and arms Ctrl-C.
    pub fn start(
        client: &ClientConfig,
        log: Option<&Path>,
        command: String,
        seed: u64,
    ) -> Result<Session> {
        let client = Arc::new(HttpClient::new(client)?);
        let recorder = Arc::new(Recorder::new(log)?);
        recorder.record(Record::Run(RunRecord {
            tool: drive::USER_AGENT.to_string(),
            command,
            seed,
            started_at: chrono::Utc::now(),
        }));
        let cancel = CancellationToken::new();
        let on_signal = cancel.clone();
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                eprintln!("interrupted: finishing attempts in flight, cancelling the rest");
                on_signal.cancel();
            }
        });
        Ok(Session {
            recorder,
            cancel,
            client,
        })
    }

    /// Runs `source` (which sends jobs into the channel it is given and returns when
    /// done or cancelled) through the delivery loop until both have ended.
    pub async fn run<S, F>(self, config: DriveConfig, source: S) -> Result<Ended>
    where
        S: FnOnce(mpsc::Sender<Job>, CancellationToken) -> F,
        F: Future<Output = Result<()>> + Send + 'static,
    {
        let (tx, rx) = mpsc::channel(QUEUE);
        let source = tokio::spawn(source(tx, self.cancel.clone()));
        drive::drive(
            rx,
            self.client,
            config,
            self.recorder.clone(),
            self.cancel.clone(),
        )
        .await;
        let generated = source
            .await
            .context("the event source stopped unexpectedly")?;
        let recorder = Arc::try_unwrap(self.recorder)
            .map_err(|_| anyhow::anyhow!("internal: the recorder is still shared after the run"))?;
        let summary = recorder.finish()?;
        // Everything generated was delivered and recorded before a source error surfaces.
        generated?;
        Ok(Ended {
            summary,
            interrupted: self.cancel.is_cancelled(),
        })
    }
}

/// `✓ email.opened  delivered  200  1.3ms  1 attempt  "OK"  delivery 198f73fa-...`
pub fn delivery_line(t: &TerminalRecord, last: Option<&AttemptRecord>) -> String {
    let mark = if t.state == TerminalState::Delivered {
        "✓"
    } else {
        "✗"
    };
    let answer = match last {
        Some(AttemptRecord {
            status: Some(s), ..
        }) => s.to_string(),
        Some(AttemptRecord { error: Some(e), .. }) => e.as_str().to_string(),
        _ => "-".to_string(),
    };
    let latency = last.map_or_else(
        || "-".to_string(),
        |a| format_duration(Duration::from_micros(a.latency_us)),
    );
    let plural = if t.attempts == 1 { "" } else { "s" };
    let excerpt = last
        .and_then(|a| a.response_excerpt.as_deref().or(a.message.as_deref()))
        .map(|e| {
            let one_line: String = e.split_whitespace().collect::<Vec<_>>().join(" ");
            let cut: String = one_line.chars().take(60).collect();
            format!("  {cut:?}")
        })
        .unwrap_or_default();
    format!(
        "{mark} {:<20} {:<9} {answer:<9} {latency:>8}  {} attempt{plural}{excerpt}  delivery {}",
        t.event,
        t.state.as_str(),
        t.attempts,
        t.delivery_id
    )
}
