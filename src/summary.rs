//! The end-of-run summary: an accumulator fed attempt-log records. It counts
//! generated events against terminal states, attempts and retries, keeps latency in
//! an HDR histogram, a status histogram and events by injected fault, and renders the
//! text summary.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

use hdrhistogram::Histogram;

use crate::clock::format_duration;
use crate::record::{Record, TerminalState};

/// Counts and latency of a run (or of several merged logs).
#[derive(Debug, Clone)]
pub struct Summary {
    /// Events generated (in a live run) — compared with the sum of terminal states.
    pub generated: u64,
    pub seed: Option<u64>,
    terminal: BTreeMap<TerminalState, u64>,
    pub attempts: u64,
    pub retries: u64,
    /// The most attempts any one event took.
    pub max_attempts: u32,
    /// Attempt latency in microseconds.
    latency: Histogram<u64>,
    /// Answers by status code, or by error kind (`connect`, `timeout`, ...).
    statuses: BTreeMap<String, u64>,
    /// Events by injected fault kind (an event with two faults counts under both).
    faults: BTreeMap<String, u64>,
    /// Rebuilt from logs, where nothing counts generation live: each terminal line is
    /// one generated event (every event has exactly one).
    generated_from_terminals: bool,
}

impl Default for Summary {
    fn default() -> Self {
        Summary {
            generated: 0,
            seed: None,
            terminal: BTreeMap::new(),
            attempts: 0,
            retries: 0,
            max_attempts: 0,
            // 1 µs to 1 hour at 3 significant digits; values beyond are clamped by `saturating_record`.
            latency: Histogram::new_with_bounds(1, 3_600_000_000, 3)
                .expect("constant histogram bounds are valid"),
            statuses: BTreeMap::new(),
            faults: BTreeMap::new(),
            generated_from_terminals: false,
        }
    }
}

impl Summary {
    /// A summary for records read back from logs: `generated` counts terminal lines.
    pub fn from_records() -> Self {
        Summary {
            generated_from_terminals: true,
            ..Summary::default()
        }
    }

    pub fn add(&mut self, record: &Record) {
        match record {
            Record::Run(run) => self.seed = Some(run.seed),
            Record::Attempt(a) => {
                self.attempts += 1;
                if a.attempt > 1 {
                    self.retries += 1;
                }
                self.latency.saturating_record(a.latency_us.max(1));
                let key = match (a.status, a.error) {
                    (Some(s), _) => s.to_string(),
                    (None, Some(e)) => e.as_str().to_string(),
                    (None, None) => "none".to_string(),
                };
                *self.statuses.entry(key).or_default() += 1;
            }
            Record::Terminal(t) => {
                *self.terminal.entry(t.state).or_default() += 1;
                self.max_attempts = self.max_attempts.max(t.attempts);
                for kind in t.fault.iter().flat_map(|f| f.split(',')) {
                    *self.faults.entry(kind.to_string()).or_default() += 1;
                }
                if self.generated_from_terminals {
                    self.generated += 1;
                }
            }
            Record::Judgement(_) | Record::End(_) => {}
        }
    }

    /// Events that ended in `state`.
    pub fn count(&self, state: TerminalState) -> u64 {
        self.terminal.get(&state).copied().unwrap_or(0)
    }

    /// The sum of all terminal states; equals `generated` once a run has ended.
    pub fn terminal_total(&self) -> u64 {
        self.terminal.values().sum()
    }

    /// Answers by status code or error kind.
    pub fn statuses(&self) -> &BTreeMap<String, u64> {
        &self.statuses
    }

    /// Events by injected fault kind.
    pub fn faults(&self) -> &BTreeMap<String, u64> {
        &self.faults
    }

    /// The latency at quantile `q` (0.0-1.0), if any attempt was made.
    pub fn latency(&self, q: f64) -> Option<Duration> {
        (!self.latency.is_empty()).then(|| Duration::from_micros(self.latency.value_at_quantile(q)))
    }

    pub fn max_latency(&self) -> Option<Duration> {
        (!self.latency.is_empty()).then(|| Duration::from_micros(self.latency.max()))
    }

    /// True when every generated event was delivered.
    pub fn all_delivered(&self) -> bool {
        self.generated == self.count(TerminalState::Delivered)
            && self.generated == self.terminal_total()
    }

    /// The text summary printed at the end of a run.
    pub fn render(&self) -> String {
        let mut s = String::new();
        let states: Vec<String> = TerminalState::ALL
            .iter()
            .map(|st| format!("{} {}", self.count(*st), st.as_str()))
            .collect();
        let _ = writeln!(
            s,
            "events     {} generated = {} ended: {}",
            self.generated,
            self.terminal_total(),
            states.join(", ")
        );
        let _ = writeln!(s, "attempts   {} ({} retries)", self.attempts, self.retries);
        if let (Some(p50), Some(p90), Some(p99), Some(max)) = (
            self.latency(0.5),
            self.latency(0.9),
            self.latency(0.99),
            self.max_latency(),
        ) {
            let _ = writeln!(
                s,
                "latency    p50 {}  p90 {}  p99 {}  max {}",
                format_duration(p50),
                format_duration(p90),
                format_duration(p99),
                format_duration(max)
            );
        }
        if !self.statuses.is_empty() {
            let answers: Vec<String> = self
                .statuses
                .iter()
                .map(|(k, v)| format!("{k} ×{v}"))
                .collect();
            let _ = writeln!(s, "answers    {}", answers.join(", "));
        }
        if !self.faults.is_empty() {
            let faults: Vec<String> = self
                .faults
                .iter()
                .map(|(k, v)| format!("{k} ×{v}"))
                .collect();
            let _ = writeln!(s, "faults     {}", faults.join(", "));
        }
        if let Some(seed) = self.seed {
            let _ = writeln!(s, "seed       {seed}");
        }
        s
    }
}
