//! What a run shows while it runs: a progress line on stderr when stderr is a
//! terminal (none otherwise, so CI logs stay clean), and the per-delivery lines on
//! stdout, or on stderr when a report took stdout (`--report json=-`).

use std::io::{IsTerminal, Write};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::record::{Record, TerminalState};
use crate::summary::Summary;

/// The live view of one run; clones share the same bar.
#[derive(Debug, Clone)]
pub struct Live {
    bar: Option<ProgressBar>,
    to_stderr: bool,
}

impl Live {
    /// A bar only when stderr is a terminal; lines to stderr when `stdout_taken`.
    pub fn new(stdout_taken: bool) -> Live {
        let bar = std::io::stderr().is_terminal().then(|| {
            let template = if color() {
                "{spinner:.cyan} [{elapsed}] {msg}"
            } else {
                "{spinner} [{elapsed}] {msg}"
            };
            let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
            if let Ok(style) = ProgressStyle::with_template(template) {
                bar.set_style(style);
            }
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        });
        Live {
            bar,
            to_stderr: stdout_taken,
        }
    }

    /// No bar and lines on stdout: for tests and library callers.
    pub fn plain() -> Live {
        Live {
            bar: None,
            to_stderr: false,
        }
    }

    /// Updates the bar from the running summary (a recorder observer).
    pub fn observe(&self, record: &Record, summary: &Summary) {
        let Some(bar) = &self.bar else { return };
        if let Record::Terminal(_) = record {
            let delivered = summary.count(TerminalState::Delivered);
            let ended = summary.terminal_total();
            bar.set_message(format!(
                "{ended} / {} events ended: {delivered} delivered, {} failed",
                summary.generated,
                ended - delivered
            ));
        }
    }

    /// Writes one line where per-delivery output goes, without tearing the bar.
    pub fn line(&self, line: impl AsRef<str>) -> std::io::Result<()> {
        let write = || {
            if self.to_stderr {
                let mut e = std::io::stderr().lock();
                e.write_all(line.as_ref().as_bytes())?;
                e.write_all(b"\n")
            } else {
                crate::cmd::common::out(line.as_ref())
            }
        };
        match &self.bar {
            Some(bar) => bar.suspend(write),
            None => write(),
        }
    }

    /// Removes the bar before the summary is printed.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// Colour unless `NO_COLOR` is set to anything non-empty (<https://no-color.org>).
pub fn color() -> bool {
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}
