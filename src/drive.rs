//! The one delivery loop. Jobs (an event's body bound for a target) come in on a
//! channel from whatever generates them (`trigger`, scenarios, load, the mock API);
//! the loop decides each job's faults, runs jobs with bounded concurrency, signs each
//! attempt, retries by policy, and records every attempt and exactly one terminal
//! state per job. (Past 400 lines on purpose: the loop, one job's attempts and the
//! lane order read as one piece; what faults do lives in `fault`.)

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use chrono::Utc;
use http::{HeaderMap, HeaderName, HeaderValue, Uri};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc, oneshot};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::clock::Speed;
use crate::deliver::{self, ErrorKind, HttpClient, Outcome, Verdict};
use crate::fault::hold::{Held, Hold, Release};
use crate::fault::{self, FaultPlan, Faults};
use crate::record::{AttemptRecord, Record, Recorder, TerminalRecord, TerminalState};
use crate::retry::{self, RetryPolicy};
use crate::sign::Signer;

/// The `User-Agent` of every delivery.
pub const USER_AGENT: &str = concat!(
    "cakemock/",
    env!("CARGO_PKG_VERSION"),
    " (+https://github.com/cakemock/cakemock)"
);

/// Where a job goes and how it is signed.
#[derive(Debug)]
pub struct Target {
    pub url: Uri,
    pub signer: Signer,
}

/// One logical event bound for one target.
#[derive(Debug, Clone)]
pub struct Job {
    /// The event's number in the run (1, 2, ...).
    pub seq: u64,
    pub event: String,
    /// Identical on every attempt (and injected duplicate) of this event.
    pub delivery_id: String,
    pub body: Bytes,
    pub target: Arc<Target>,
    /// Jobs of one lane (one contact) start in order: each waits until the previous
    /// job of its lane has made its first attempt. Retries do not hold the lane.
    pub lane: Option<u64>,
    /// The scenario step that made the job (for per-step expectations and reports).
    pub step: Option<Arc<str>>,
}

/// How the loop delivers.
#[derive(Debug, Clone)]
pub struct DriveConfig {
    pub concurrency: usize,
    pub retry: RetryPolicy,
    pub speed: Speed,
    /// Seeds the retry jitter (with each job's `seq`) and the fault decisions, so a
    /// run's schedule and faults are reproducible.
    pub seed: u64,
    /// After cancellation, how long in-flight attempts may still finish.
    pub grace: Duration,
    /// Consulted before every attempt (retries included); `None` lets all through.
    /// Store mode uses it for each webhook's `rate_limit` (see [`Gate`]).
    pub gate: Option<Arc<dyn Gate>>,
    /// The fault rules (SPEC 6); empty = no faults.
    pub faults: FaultPlan,
}

/// Holds attempts back until they may start: per-webhook rate limits in store mode
/// (`crate::store::RateGate`). It waits while holding a concurrency slot, so give
/// the loop enough slots when some targets are slow to pass.
pub trait Gate: Send + Sync + std::fmt::Debug {
    /// Resolves when `job`'s next attempt may start.
    fn ready<'a>(&'a self, job: &'a Job) -> Pin<Box<dyn Future<Output = ()> + Send + 'a>>;
}

impl Default for DriveConfig {
    fn default() -> Self {
        DriveConfig {
            concurrency: 8,
            retry: RetryPolicy::none(),
            speed: Speed::default(),
            seed: 0,
            grace: Duration::from_secs(2),
            gate: None,
            faults: FaultPlan::default(),
        }
    }
}

/// What every job's task shares.
struct Shared {
    client: Arc<HttpClient>,
    config: DriveConfig,
    recorder: Arc<Recorder>,
    cancel: CancellationToken,
    /// Fires `grace` after `cancel`: attempts still in flight then are abandoned.
    hard: CancellationToken,
    slots: Arc<Semaphore>,
    lanes: Lanes,
}

/// Runs every job from `jobs` until the channel closes or `cancel` fires. Each job's
/// faults are decided as it is taken; a dropped job ends at once, a held one
/// (`reorder`, `burst`) starts later. On cancellation it stops taking jobs, marks
/// queued and held ones `cancelled`, lets in-flight attempts finish within the grace
/// period, and cancels the rest. Returns when every job taken has its terminal record.
pub async fn drive(
    mut jobs: mpsc::Receiver<Job>,
    client: Arc<HttpClient>,
    config: DriveConfig,
    recorder: Arc<Recorder>,
    cancel: CancellationToken,
) {
    let hard = CancellationToken::new();
    {
        let (cancel, hard, grace) = (cancel.clone(), hard.clone(), config.grace);
        tokio::spawn(async move {
            cancel.cancelled().await;
            tokio::time::sleep(grace).await;
            hard.cancel();
        });
    }
    let mut chooser = config.faults.chooser(config.seed);
    let shared = Arc::new(Shared {
        client,
        slots: Arc::new(Semaphore::new(config.concurrency.max(1))),
        config,
        recorder,
        cancel,
        hard,
        lanes: Arc::new(Mutex::new(HashMap::new())),
    });
    let (recorder, cancel) = (&shared.recorder, &shared.cancel);
    let mut held: Held<(Job, Faults)> = Held::default();
    let mut running = JoinSet::new();
    loop {
        let permit = tokio::select! {
            biased;
            _ = cancel.cancelled() => break,
            p = shared.slots.clone().acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break,
            },
        };
        let job = tokio::select! {
            biased;
            _ = cancel.cancelled() => break,
            j = jobs.recv() => match j {
                Some(j) => j,
                None => break,
            },
        };
        recorder.generated();
        let faults = chooser.decide(job.seq, &job.event, job.step.as_deref());
        if faults.drop {
            let fault = faults.label();
            terminal(recorder, &job, TerminalState::Dropped, 0, None, fault);
            continue;
        }
        let hold = match (faults.burst, faults.reorder) {
            (Some(n), _) => Some(Hold::Burst(n)),
            (None, Some(w)) => Some(Hold::Reorder(w)),
            (None, None) => None,
        };
        let mut permit = Some(permit);
        for ((job, faults), how) in held.pass((job, faults), hold) {
            let p = match how {
                Release::Now => permit.take(),
                Release::Reordered => slot(&shared).await,
                Release::Burst => None,
            };
            start(&mut running, &shared, job, faults, p);
        }
        // Reap finished tasks as we go so the set stays small on long runs.
        while running.try_join_next().is_some() {}
    }
    if cancel.is_cancelled() {
        for ((job, faults), _) in held.drain() {
            terminal(
                recorder,
                &job,
                TerminalState::Cancelled,
                0,
                None,
                faults.label(),
            );
        }
        jobs.close();
        while let Ok(job) = jobs.try_recv() {
            recorder.generated();
            terminal(recorder, &job, TerminalState::Cancelled, 0, None, None);
        }
    } else {
        for ((job, faults), how) in held.drain() {
            let p = match how {
                Release::Reordered => slot(&shared).await,
                Release::Now | Release::Burst => None,
            };
            start(&mut running, &shared, job, faults, p);
        }
    }
    while running.join_next().await.is_some() {}
}

/// A delivery slot for a job released from a hold, taken here in the loop so the job
/// goes before any event taken after it. `None` once the run is cancelled (the job
/// then ends `cancelled` without an attempt).
async fn slot(shared: &Shared) -> Option<OwnedSemaphorePermit> {
    tokio::select! {
        biased;
        _ = shared.cancel.cancelled() => None,
        p = shared.slots.clone().acquire_owned() => p.ok(),
    }
}

/// Spawns a job's delivery, holding its slot (if it has one) until the job ends.
fn start(
    running: &mut JoinSet<()>,
    shared: &Arc<Shared>,
    job: Job,
    faults: Faults,
    permit: Option<OwnedSemaphorePermit>,
) {
    let turn = job
        .lane
        .map(|lane| LaneTurn::take(&shared.lanes, lane, job.seq));
    let shared = shared.clone();
    running.spawn(async move {
        deliver_job(job, faults, turn, &shared).await;
        drop(permit);
    });
}

/// The attempts of one job, from the first to its terminal state.
async fn deliver_job(job: Job, faults: Faults, mut turn: Option<LaneTurn>, shared: &Shared) {
    let Shared {
        client,
        config,
        recorder,
        cancel,
        hard,
        ..
    } = shared;
    let mut jitter =
        ChaCha8Rng::seed_from_u64(config.seed ^ job.seq.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let fault = faults.label();
    let cancelled = |attempts, status| {
        terminal(
            recorder,
            &job,
            TerminalState::Cancelled,
            attempts,
            status,
            fault.clone(),
        )
    };
    if cancel.is_cancelled() {
        return cancelled(0, None);
    }
    if let Some(t) = turn.as_mut() {
        tokio::select! {
            biased;
            _ = cancel.cancelled() => return cancelled(0, None),
            _ = t.wait() => {}
        }
    }
    if let Some(d) = faults.delay {
        tokio::select! {
            biased;
            _ = cancel.cancelled() => return cancelled(0, None),
            _ = tokio::time::sleep(config.speed.retry(d)) => {}
        }
    }
    let wire = fault::content::prepare(&job, &faults.content);
    let mut attempt: u32 = 1;
    loop {
        if let Some(gate) = &config.gate {
            tokio::select! {
                biased;
                _ = cancel.cancelled() => return cancelled(attempt - 1, None),
                _ = gate.ready(&job) => {}
            }
        }
        let sent_at = Utc::now();
        // Transport faults break the first attempt's connection; retries go clean.
        let transport = faults.transport.filter(|_| attempt == 1);
        let (outcome, latency) = tokio::select! {
            biased;
            _ = hard.cancelled() => interrupted(sent_at),
            r = fault::send(client, &wire, attempt, sent_at.timestamp(), transport) => r,
        };
        drop(turn.take());
        let verdict = deliver::classify(&outcome);
        let interrupted = matches!(
            outcome,
            Outcome::Failed {
                kind: ErrorKind::Cancelled,
                ..
            }
        );
        // The wait before the next attempt: the schedule's delay (with jitter), or the
        // receiver's Retry-After when that is longer. Never more attempts than scheduled.
        let next = match (&outcome, verdict) {
            (_, Verdict::Retry) if !interrupted => config.retry.delay_before(attempt).map(|d| {
                let d = retry::with_jitter(d, jitter.random::<f64>());
                let asked = match &outcome {
                    Outcome::Response {
                        retry_after: Some(v),
                        ..
                    } => retry::parse_retry_after(v, SystemTime::now()),
                    _ => None,
                };
                asked.map_or(d, |a| a.max(d))
            }),
            _ => None,
        };
        let status = status_of(&outcome);
        recorder.record(Record::Attempt(attempt_record(
            &job,
            attempt,
            sent_at,
            latency,
            outcome,
            next,
            fault.clone(),
        )));
        let state = match verdict {
            _ if interrupted => TerminalState::Cancelled,
            Verdict::Delivered => TerminalState::Delivered,
            Verdict::Rejected => TerminalState::Rejected,
            Verdict::Gone => TerminalState::Gone,
            Verdict::Retry => match next {
                None => TerminalState::Exhausted,
                Some(wait) => {
                    let wait = config.speed.retry(wait);
                    tokio::select! {
                        biased;
                        _ = cancel.cancelled() => return cancelled(attempt, status),
                        _ = tokio::time::sleep(wait) => {}
                    }
                    attempt += 1;
                    continue;
                }
            },
        };
        if let Some((copies, delay)) = faults.copies
            && state != TerminalState::Cancelled
        {
            send_copies(&job, &wire, copies, delay, shared, fault.clone()).await;
        }
        terminal(recorder, &job, state, attempt, status, fault);
        return;
    }
}

/// `duplicate`: the same event again (same delivery id, attempt 1, same bytes), once
/// per copy and never retried; each copy is an attempt record naming the fault.
async fn send_copies(
    job: &Job,
    wire: &fault::content::Wire,
    copies: u32,
    delay: Duration,
    shared: &Shared,
    fault: Option<String>,
) {
    for _ in 0..copies {
        tokio::select! {
            biased;
            _ = shared.cancel.cancelled() => return,
            _ = tokio::time::sleep(shared.config.speed.retry(delay)) => {}
        }
        let sent_at = Utc::now();
        let (outcome, latency) = tokio::select! {
            biased;
            _ = shared.hard.cancelled() => interrupted(sent_at),
            r = fault::send(&shared.client, wire, 1, sent_at.timestamp(), None) => r,
        };
        let record = attempt_record(job, 1, sent_at, latency, outcome, None, fault.clone());
        shared.recorder.record(Record::Attempt(record));
    }
}

fn interrupted(sent_at: chrono::DateTime<Utc>) -> (Outcome, Duration) {
    (
        Outcome::Failed {
            kind: ErrorKind::Cancelled,
            message: "run interrupted".into(),
        },
        (Utc::now() - sent_at).to_std().unwrap_or_default(),
    )
}

fn status_of(outcome: &Outcome) -> Option<u16> {
    match outcome {
        Outcome::Response { status, .. } => Some(*status),
        Outcome::Failed { .. } => None,
    }
}

fn attempt_record(
    job: &Job,
    attempt: u32,
    sent_at: chrono::DateTime<Utc>,
    latency: Duration,
    outcome: Outcome,
    next: Option<Duration>,
    fault: Option<String>,
) -> AttemptRecord {
    let verdict = deliver::classify(&outcome);
    let (status, version, error, message, excerpt, retry_after) = match outcome {
        Outcome::Response {
            status,
            version,
            retry_after,
            excerpt,
        } => (
            Some(status),
            Some(version),
            None,
            None,
            Some(excerpt),
            retry_after,
        ),
        Outcome::Failed { kind, message } => (None, None, Some(kind), Some(message), None, None),
    };
    AttemptRecord {
        seq: job.seq,
        delivery_id: job.delivery_id.clone(),
        event: job.event.clone(),
        target: job.target.url.to_string(),
        attempt,
        sent_at,
        latency_us: u64::try_from(latency.as_micros()).unwrap_or(u64::MAX),
        status,
        http_version: version,
        error,
        message,
        response_excerpt: excerpt.filter(|e| !e.is_empty()),
        retry_after,
        verdict,
        step: job.step.as_deref().map(str::to_string),
        next_retry_ms: next.map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
        fault,
    }
}

/// Per lane: the seq of its latest job and the signal that job's first attempt is made.
type Lanes = Arc<Mutex<HashMap<u64, (u64, oneshot::Receiver<()>)>>>;

/// A job's place in its lane: what it waits for, and what it signals.
struct LaneTurn {
    lanes: Lanes,
    lane: u64,
    seq: u64,
    previous: Option<oneshot::Receiver<()>>,
    done: Option<oneshot::Sender<()>>,
}

impl LaneTurn {
    fn take(lanes: &Lanes, lane: u64, seq: u64) -> LaneTurn {
        let (tx, rx) = oneshot::channel();
        let previous = lock(lanes).insert(lane, (seq, rx)).map(|(_, r)| r);
        LaneTurn {
            lanes: lanes.clone(),
            lane,
            seq,
            previous,
            done: Some(tx),
        }
    }

    async fn wait(&mut self) {
        if let Some(p) = self.previous.take() {
            // A dropped sender (its job ended early) also releases the lane.
            let _ = p.await;
        }
    }
}

impl Drop for LaneTurn {
    /// Releases the next job of the lane (after the first attempt, or when the job ends
    /// without one); forgets the lane when no job is queued on it, so the map holds
    /// only lanes with work in flight.
    fn drop(&mut self) {
        if let Some(tx) = self.done.take() {
            let _ = tx.send(());
        }
        let mut lanes = lock(&self.lanes);
        if lanes
            .get(&self.lane)
            .is_some_and(|(seq, _)| *seq == self.seq)
        {
            lanes.remove(&self.lane);
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn terminal(
    recorder: &Recorder,
    job: &Job,
    state: TerminalState,
    attempts: u32,
    status: Option<u16>,
    fault: Option<String>,
) {
    recorder.record(Record::Terminal(TerminalRecord {
        seq: job.seq,
        delivery_id: job.delivery_id.clone(),
        event: job.event.clone(),
        target: job.target.url.to_string(),
        state,
        attempts,
        at: Utc::now(),
        status,
        step: job.step.as_deref().map(str::to_string),
        fault,
    }));
}

/// The headers of one attempt: content type, user agent, the signature (fresh per
/// attempt: Standard Webhooks signs the send time), and cakemock's own
/// `X-Cakemail-Event`, `X-Cakemail-Delivery` and `X-Cakemail-Attempt`.
pub fn request_headers(job: &Job, attempt: u32, now_unix: i64) -> HeaderMap {
    let mut h = HeaderMap::with_capacity(8);
    h.insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    h.insert(
        http::header::USER_AGENT,
        HeaderValue::from_static(USER_AGENT),
    );
    h.extend(crate::sign::header_map(&job.target.signer.sign(
        &job.delivery_id,
        now_unix,
        &job.body,
    )));
    let mut put = |name: &'static str, value: &str| {
        if let Ok(v) = HeaderValue::from_str(value) {
            h.insert(HeaderName::from_static(name), v);
        }
    };
    put("x-cakemail-event", &job.event);
    put("x-cakemail-delivery", &job.delivery_id);
    put("x-cakemail-attempt", &attempt.to_string());
    h
}
