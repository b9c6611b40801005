//! The JSON report: a documented, versioned object whose JSON Schema is generated from
//! these types and committed at `schema/report.schema.json` (a test keeps it current
//! and validates a real report against it). New fields may appear within a version;
//! `schema_version` changes only when a field changes meaning or goes away.

use std::collections::BTreeMap;

use anyhow::Result;
use schemars::JsonSchema;
use serde::Serialize;

use crate::record::TerminalState;
use crate::report::Report;
use crate::summary::Summary;

/// The version of this report's shape.
pub const SCHEMA_VERSION: u32 = 1;

/// A cakemock run (or several merged logs), as `--report json=PATH` writes it.
#[derive(Debug, Serialize, JsonSchema)]
pub struct JsonReport {
    /// The shape's version: 1.
    pub schema_version: u32,
    /// True when every expectation was met and no run was interrupted (exit code 0).
    pub passed: bool,
    /// True when Ctrl-C cut a run short (exit code 130).
    pub interrupted: bool,
    /// One entry per log (one, unless `cakemock report` merged shards).
    pub runs: Vec<JsonRun>,
    /// Every event; `events` is the number generated, which equals the sum of `states`.
    pub totals: Stats,
    /// The same counts for each scenario step (for `trigger`: each event name), in the order steps first sent.
    pub steps: Vec<StepStats>,
    /// The same counts for the deliveries each fault rule touched, by fault name.
    pub faults: Vec<FaultStats>,
    /// Every expectation (run-wide first, then per step) with its verdict and evidence.
    pub expectations: Vec<Expectation>,
}

/// What produced one log.
#[derive(Debug, Serialize, JsonSchema)]
pub struct JsonRun {
    /// The command line, e.g. `run scenarios/quickstart.yaml`.
    pub command: String,
    /// The scenario's `name:`, when it has one.
    pub name: Option<String>,
    /// The seed: the same seed and start give the same bytes.
    pub seed: u64,
    /// The user agent of the cakemock that ran it.
    pub tool: String,
    /// RFC 3339.
    pub started_at: String,
    /// RFC 3339; null when the log was cut short.
    pub ended_at: Option<String>,
    pub interrupted: bool,
}

/// Counts, attempts and latency of a set of events.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Stats {
    /// Events (each ended in exactly one state).
    pub events: u64,
    /// Events by terminal state.
    pub states: States,
    /// HTTP attempts, first tries and retries.
    pub attempts: u64,
    /// Attempts after the first of an event.
    pub retries: u64,
    /// The most attempts one event took.
    pub max_attempts: u32,
    /// Attempt latency (request sent to answer read); null when no attempt was made.
    pub latency_ms: Option<Latency>,
    /// Attempts by status code (`"200"`), or by error kind when there was no answer (`"timeout"`, `"connect"`, ...).
    pub statuses: BTreeMap<String, u64>,
}

/// Events by terminal state.
#[derive(Debug, Serialize, JsonSchema)]
pub struct States {
    pub delivered: u64,
    pub rejected: u64,
    pub gone: u64,
    pub exhausted: u64,
    pub dropped: u64,
    pub cancelled: u64,
}

/// Latency percentiles in milliseconds (from an HDR histogram, 3 significant digits).
#[derive(Debug, Serialize, JsonSchema)]
pub struct Latency {
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub max: f64,
}

/// One scenario step.
#[derive(Debug, Serialize, JsonSchema)]
pub struct StepStats {
    /// The step's `id:`, else its event and line, e.g. `email.opened (line 12)`.
    pub name: String,
    /// The verdict of the step's own `expect:`; null when it has none.
    pub passed: Option<bool>,
    #[serde(flatten)]
    pub stats: Stats,
}

/// The deliveries one fault rule touched.
#[derive(Debug, Serialize, JsonSchema)]
pub struct FaultStats {
    pub name: String,
    #[serde(flatten)]
    pub stats: Stats,
}

/// One expectation.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Expectation {
    /// As written, e.g. `delivered: 100%` or `step alice-open: status 2xx`.
    pub name: String,
    pub passed: bool,
    /// What was seen: counts, and on failure the first deliveries that broke it.
    pub evidence: String,
}

fn stats(s: &Summary) -> Stats {
    let ms = |d: std::time::Duration| (d.as_micros() as f64) / 1000.0;
    let latency = match (
        s.latency(0.5),
        s.latency(0.9),
        s.latency(0.99),
        s.max_latency(),
    ) {
        (Some(p50), Some(p90), Some(p99), Some(max)) => Some(Latency {
            p50: ms(p50),
            p90: ms(p90),
            p99: ms(p99),
            max: ms(max),
        }),
        _ => None,
    };
    Stats {
        events: s.generated,
        states: States {
            delivered: s.count(TerminalState::Delivered),
            rejected: s.count(TerminalState::Rejected),
            gone: s.count(TerminalState::Gone),
            exhausted: s.count(TerminalState::Exhausted),
            dropped: s.count(TerminalState::Dropped),
            cancelled: s.count(TerminalState::Cancelled),
        },
        attempts: s.attempts,
        retries: s.retries,
        max_attempts: s.max_attempts,
        latency_ms: latency,
        statuses: s.statuses().clone(),
    }
}

/// The report as a value.
pub fn build(report: &Report) -> JsonReport {
    let judgements = report.judgements();
    JsonReport {
        schema_version: SCHEMA_VERSION,
        passed: report.passed(),
        interrupted: report.interrupted(),
        runs: report
            .runs()
            .iter()
            .map(|r| JsonRun {
                command: r.command.clone(),
                name: r.name.clone(),
                seed: r.seed,
                tool: r.tool.clone(),
                started_at: rfc3339(r.started_at),
                ended_at: r.ended_at.map(rfc3339),
                interrupted: r.interrupted,
            })
            .collect(),
        totals: stats(report.summary()),
        steps: report
            .steps()
            .map(|(name, s)| StepStats {
                name: name.to_string(),
                passed: Report::step_judgement(&judgements, name).map(|j| j.passed),
                stats: stats(s),
            })
            .collect(),
        faults: report
            .faults()
            .iter()
            .map(|(name, s)| FaultStats {
                name: name.clone(),
                stats: stats(s),
            })
            .collect(),
        expectations: judgements
            .into_iter()
            .map(|j| Expectation {
                name: j.name,
                passed: j.passed,
                evidence: j.detail,
            })
            .collect(),
    }
}

fn rfc3339(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

/// The report, pretty-printed, ending in a newline.
pub fn render(report: &Report) -> Result<String> {
    let mut s = serde_json::to_string_pretty(&build(report))?;
    s.push('\n');
    Ok(s)
}

/// The JSON Schema of [`JsonReport`] (what `schema/report.schema.json` holds).
pub fn json_schema() -> serde_json::Value {
    schemars::generate::SchemaSettings::draft2020_12()
        .into_generator()
        .into_root_schema_for::<JsonReport>()
        .to_value()
}
