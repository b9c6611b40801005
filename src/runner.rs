//! A scenario run end to end, as the library offers it: play the scenario into the one
//! delivery loop, judge its expectations from the records, return the summary and the
//! verdicts. `cakemock run` is this plus flags, printing and Ctrl-C.

use std::sync::Arc;

use anyhow::Result;
use chrono::{DateTime, Utc};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::drive::{Job, Target};
use crate::pace::Pacer;
use crate::play::{PlayConfig, Route, play, step_label};
use crate::scenario::{Scenario, Step, StepKind};

/// How [`run_scenario`] runs.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// The seed [default: the scenario's `seed:`, else random].
    pub seed: Option<u64>,
    /// Scenario time zero [default: now].
    pub start: Option<DateTime<Utc>>,
    pub speed: crate::clock::Speed,
    pub client: crate::deliver::ClientConfig,
    /// [default: the scenario's `retry:`, else `cakemail`].
    pub retry: Option<crate::retry::RetryPolicy>,
    /// [default: the scenario's `concurrency:`, else 8].
    pub concurrency: Option<usize>,
    /// Run-wide fault rules added to the scenario's (`--fault`).
    pub faults: Vec<crate::scenario::FaultRule>,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            seed: None,
            start: None,
            speed: crate::clock::Speed::Max,
            client: crate::deliver::ClientConfig::default(),
            retry: None,
            concurrency: None,
            faults: Vec::new(),
        }
    }
}

/// How a scenario run went.
#[derive(Debug, Clone)]
pub struct RunReport {
    pub summary: crate::summary::Summary,
    /// Every expectation (run-wide first, then per step), passed or failed.
    pub judgements: Vec<crate::expect::Judgement>,
    pub interrupted: bool,
    pub seed: u64,
}

impl RunReport {
    /// True when every expectation was met and the run was not interrupted.
    pub fn passed(&self) -> bool {
        !self.interrupted && self.judgements.iter().all(|j| j.passed)
    }
}

/// Plays `scenario` against `target` and judges its expectations: what a Rust
/// receiver's own tests call (the `cakemock run` command is this plus printing).
pub async fn run_scenario(
    scenario: Scenario,
    target: Target,
    options: RunOptions,
) -> Result<RunReport> {
    let seed = options.seed.or(scenario.seed).unwrap_or_else(rand::random);
    let session = crate::session::Session::start(
        &options.client,
        None,
        format!("run {}", scenario.origin),
        seed,
    )?;
    let drive = drive_config(&scenario, &options, seed);
    let start = options.start.unwrap_or_else(Utc::now);
    run_session(
        Arc::new(scenario),
        Arc::new(target),
        session,
        drive,
        start,
        None,
    )
    .await
}

/// The delivery settings of a run: options first, then the scenario's, then defaults.
pub fn drive_config(
    scenario: &Scenario,
    options: &RunOptions,
    seed: u64,
) -> crate::drive::DriveConfig {
    crate::drive::DriveConfig {
        concurrency: options
            .concurrency
            .or(scenario.delivery.concurrency)
            .unwrap_or(8),
        retry: options
            .retry
            .clone()
            .or_else(|| scenario.delivery.retry.clone())
            .unwrap_or_else(|| {
                crate::retry::RetryPolicy::preset("cakemail")
                    .unwrap_or_else(crate::retry::RetryPolicy::none)
            }),
        speed: options.speed,
        seed,
        faults: crate::fault::FaultPlan::for_scenario(scenario, &options.faults),
        ..crate::drive::DriveConfig::default()
    }
}

/// Plays a scenario through an already set-up session (the caller may observe its
/// recorder, log, and arm Ctrl-C), then judges the expectations.
pub async fn run_session(
    scenario: Arc<Scenario>,
    target: Arc<Target>,
    session: crate::session::Session,
    drive: crate::drive::DriveConfig,
    start: DateTime<Utc>,
    route: Option<Route>,
) -> Result<RunReport> {
    let mut judge = crate::expect::StepJudge::default();
    register_expectations(&scenario.steps, &mut judge);
    let judge = Arc::new(std::sync::Mutex::new(judge));
    let faults = Arc::new(std::sync::Mutex::new(crate::expect::FaultJudge::new(
        &scenario.expect.faults,
    )));
    let (observer, fault_observer) = (judge.clone(), faults.clone());
    session.recorder.observe(move |rec, _| {
        observer.lock().unwrap_or_else(|p| p.into_inner()).add(rec);
        fault_observer
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .add(rec);
    });
    let seed = drive.seed;
    let config = PlayConfig {
        seed,
        start,
        target,
        pacer: Pacer::new(drive.speed),
        route,
    };
    let expect = scenario.expect.clone();
    let source =
        move |tx: mpsc::Sender<Job>, cancel: CancellationToken| play(scenario, config, tx, cancel);
    let ended = session.run(drive, source).await?;
    let mut judgements = crate::expect::run_wide(&expect, &ended.summary);
    judgements.extend(
        faults
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .judgements(),
    );
    judgements.extend(judge.lock().unwrap_or_else(|p| p.into_inner()).judgements());
    Ok(RunReport {
        summary: ended.summary,
        judgements,
        interrupted: ended.interrupted,
        seed,
    })
}

/// Registers every step's `expect:` with the judge, under the label its events carry.
fn register_expectations(steps: &[Step], judge: &mut crate::expect::StepJudge) {
    for step in steps {
        if let Some(e) = &step.expect {
            judge.expect(step_label(step), e.clone());
        }
        if let StepKind::Repeat { steps, .. } | StepKind::Parallel(steps) = &step.kind {
            register_expectations(steps, judge);
        }
    }
}
