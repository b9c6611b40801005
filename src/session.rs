//! What every job source shares around the one delivery loop (`trigger`, `run`, the
//! library's [`crate::runner::run_scenario`]): the client, the recorder and its first log
//! line, Ctrl-C, the job channel between a source and the loop, and the accounting once
//! both have ended.

use std::future::Future;
use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, Result};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::deliver::{ClientConfig, HttpClient};
use crate::drive::{self, DriveConfig, Job};
use crate::record::{Record, Recorder, RunRecord};
use crate::summary::Summary;

/// How many generated jobs may wait for a delivery slot: enough to keep the loop fed,
/// small enough that a million-event source never sits in memory.
const QUEUE: usize = 1024;

/// A delivery run being set up.
pub struct Session {
    /// Observe it (before [`Session::run`]) to print deliveries as they end.
    pub recorder: Arc<Recorder>,
    /// Fired by Ctrl-C; sources should stop generating when it fires.
    pub cancel: CancellationToken,
    /// The log's first line, for observers added after it was recorded (reports).
    pub run_record: Record,
    client: Arc<HttpClient>,
}

/// How a run ended.
pub struct Ended {
    pub summary: Summary,
    pub interrupted: bool,
}

impl Session {
    /// Builds the client and opens the log with its `run` line.
    pub fn start(
        client: &ClientConfig,
        log: Option<&Path>,
        command: String,
        seed: u64,
    ) -> Result<Session> {
        let client = Arc::new(HttpClient::new(client)?);
        let recorder = Arc::new(Recorder::new(log)?);
        let run_record = Record::Run(RunRecord {
            tool: drive::USER_AGENT.to_string(),
            command,
            seed,
            started_at: chrono::Utc::now(),
        });
        recorder.record(run_record.clone());
        Ok(Session {
            recorder,
            run_record,
            cancel: CancellationToken::new(),
            client,
        })
    }

    /// Cancels the run on Ctrl-C: the command line's behaviour. A library caller keeps
    /// its own control through [`Session::cancel`].
    pub fn cancel_on_ctrl_c(&self) {
        let on_signal = self.cancel.clone();
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                eprintln!("interrupted: finishing attempts in flight, cancelling the rest");
                on_signal.cancel();
            }
        });
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
