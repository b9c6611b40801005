//! The attempt log: one JSON line per attempt and one per terminal state, written and
//! flushed as they happen. It is the seam between running and reporting: the
//! [`Summary`] and every report are fed these records, so a
//! log file alone is enough to rebuild them.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::sync::Mutex;

use anyhow::{Context, Result};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::deliver::{ErrorKind, Verdict};
use crate::summary::Summary;

/// How an event ended. Every generated event ends in exactly one of these.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TerminalState {
    Delivered,
    Rejected,
    Gone,
    Exhausted,
    Dropped,
    Cancelled,
}

impl TerminalState {
    pub const ALL: [TerminalState; 6] = [
        TerminalState::Delivered,
        TerminalState::Rejected,
        TerminalState::Gone,
        TerminalState::Exhausted,
        TerminalState::Dropped,
        TerminalState::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TerminalState::Delivered => "delivered",
            TerminalState::Rejected => "rejected",
            TerminalState::Gone => "gone",
            TerminalState::Exhausted => "exhausted",
            TerminalState::Dropped => "dropped",
            TerminalState::Cancelled => "cancelled",
        }
    }
}

/// The first line of a log: what produced it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    pub tool: String,
    pub command: String,
    pub seed: u64,
    pub started_at: DateTime<Utc>,
}

/// One HTTP attempt of one event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttemptRecord {
    /// The event's number in this run (1, 2, ...).
    pub seq: u64,
    pub delivery_id: String,
    pub event: String,
    pub target: String,
    /// 1 for the first try, 2 for the first retry, ...
    pub attempt: u32,
    pub sent_at: DateTime<Utc>,
    /// From sending the request to the end of the (capped) answer, in microseconds.
    pub latency_us: u64,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub status: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub http_version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub error: Option<ErrorKind>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub message: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub response_excerpt: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub retry_after: Option<String>,
    pub verdict: Verdict,
    /// The scenario step that made the event.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub step: Option<String>,
    /// The wait before the next attempt (scenario time), when there is one.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub next_retry_ms: Option<u64>,
    /// The fault applied to this delivery, if any.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub fault: Option<String>,
}

/// How one event ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TerminalRecord {
    pub seq: u64,
    pub delivery_id: String,
    pub event: String,
    pub target: String,
    pub state: TerminalState,
    pub attempts: u32,
    pub at: DateTime<Utc>,
    /// The last status received, if any.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub status: Option<u16>,
    /// The scenario step that made the event.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub step: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub fault: Option<String>,
}

/// One expectation's verdict, appended when a run ends so reports can be rebuilt
/// from the log alone (`cakemock report`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JudgementRecord {
    pub name: String,
    pub passed: bool,
    pub detail: String,
}

/// The last line of a finished run: when it ended and whether Ctrl-C cut it short.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EndRecord {
    pub ended_at: DateTime<Utc>,
    pub interrupted: bool,
    /// The scenario's `name:` (for `run`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub name: Option<String>,
}

/// A line of the attempt log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Record {
    Run(RunRecord),
    Attempt(AttemptRecord),
    Terminal(TerminalRecord),
    Judgement(JudgementRecord),
    End(EndRecord),
}

/// Receives every record: writes the log (flushed per line), feeds the summary, and
/// hands each record to the live observers (judges, per-delivery output).
pub struct Recorder {
    inner: Mutex<Inner>,
}

type Observer = Box<dyn FnMut(&Record, &Summary) + Send>;

struct Inner {
    log: Option<BufWriter<File>>,
    /// The first log write error; reported at the end instead of losing later records' accounting.
    log_error: Option<std::io::Error>,
    summary: Summary,
    observers: Vec<Observer>,
}

impl Recorder {
    /// A recorder writing to `log` (created or truncated) when given.
    pub fn new(log: Option<&Path>) -> Result<Self> {
        let log = match log {
            Some(path) => Some(BufWriter::new(File::create(path).with_context(|| {
                format!("--log {}: cannot create the file", path.display())
            })?)),
            None => None,
        };
        Ok(Recorder {
            inner: Mutex::new(Inner {
                log,
                log_error: None,
                summary: Summary::default(),
                observers: Vec::new(),
            }),
        })
    }

    /// Calls `f` with every record after it is written and counted (observers are
    /// called in the order they were added).
    pub fn observe(&self, f: impl FnMut(&Record, &Summary) + Send + 'static) {
        self.lock().observers.push(Box::new(f));
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic in an observer must not lose the records that follow.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Counts one generated event (the other side of the accounting invariant).
    pub fn generated(&self) {
        self.lock().summary.generated += 1;
    }

    pub fn record(&self, record: Record) {
        let mut inner = self.lock();
        let Inner {
            log,
            log_error,
            summary,
            observers,
        } = &mut *inner;
        if let Some(w) = log.as_mut()
            && log_error.is_none()
        {
            let written = serde_json::to_writer(&mut *w, &record)
                .map_err(std::io::Error::from)
                .and_then(|()| w.write_all(b"\n"))
                .and_then(|()| w.flush());
            if let Err(e) = written {
                *log_error = Some(e);
            }
        }
        summary.add(&record);
        for f in observers.iter_mut() {
            f(&record, summary);
        }
    }

    /// A copy of the summary so far.
    pub fn summary(&self) -> Summary {
        self.lock().summary.clone()
    }

    /// Ends recording: the summary, or the log's write error.
    pub fn finish(self) -> Result<Summary> {
        let inner = self.inner.into_inner().unwrap_or_else(|p| p.into_inner());
        if let Some(e) = inner.log_error {
            return Err(anyhow::Error::new(e).context("writing the attempt log (--log) failed"));
        }
        Ok(inner.summary)
    }
}

/// Appends records to a finished log (the run's judgements and its `end` line, which
/// exist only once the recorder has closed).
pub fn append_log(path: &Path, records: &[Record]) -> Result<()> {
    let file = std::fs::OpenOptions::new()
        .append(true)
        .open(path)
        .with_context(|| format!("--log {}: cannot append to the file", path.display()))?;
    let mut w = BufWriter::new(file);
    for r in records {
        serde_json::to_writer(&mut w, r)?;
        w.write_all(b"\n")?;
    }
    w.flush()
        .with_context(|| format!("--log {}: cannot append to the file", path.display()))
}

/// Reads an attempt log back (for `cakemock report` and tests); names the line of a bad record.
pub fn read_log(path: &Path) -> Result<Vec<Record>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            serde_json::from_str(l).map_err(|e| {
                anyhow::Error::new(crate::InputError::new(format!(
                    "{}:{}: not an attempt-log record: {e}",
                    path.display(),
                    i + 1
                )))
            })
        })
        .collect()
}
