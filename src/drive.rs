//! The one delivery loop. Jobs (an event's body bound for a target) come in on a
//! channel from whatever generates them (`trigger`, scenarios, load, the mock API);
//! the loop runs them with bounded concurrency, signs each attempt, retries by policy,
//! and records every attempt and exactly one terminal state per job.

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
use tokio::sync::{Semaphore, mpsc, oneshot};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::clock::Speed;
use crate::deliver::{self, ErrorKind, HttpClient, Outcome, Verdict};
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
    /// Seeds the retry jitter (with each job's `seq`), so a run's schedule is reproducible.
    pub seed: u64,
    /// After cancellation, how long in-flight attempts may still finish.
    pub grace: Duration,
    /// Consulted before every attempt (retries included); `None` lets all through.
    /// Store mode uses it for each webhook's `rate_limit` (see [`Gate`]).
    pub gate: Option<Arc<dyn Gate>>,
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
        }
    }
}

/// Runs every job from `jobs` until the channel closes or `cancel` fires. On
/// cancellation it stops taking jobs, marks queued ones `cancelled`, lets in-flight
/// attempts finish within the grace period, and cancels the rest. Returns when every
/// job taken has its terminal record.
pub async fn drive(
    mut jobs: mpsc::Receiver<Job>,
    client: Arc<HttpClient>,
    config: DriveConfig,
    recorder: Arc<Recorder>,
    cancel: CancellationToken,
) {
    let slots = Arc::new(Semaphore::new(config.concurrency.max(1)));
    // Fires `grace` after `cancel`: attempts still in flight then are abandoned.
    let hard = CancellationToken::new();
    {
        let (cancel, hard, grace) = (cancel.clone(), hard.clone(), config.grace);
        tokio::spawn(async move {
            cancel.cancelled().await;
            tokio::time::sleep(grace).await;
            hard.cancel();
        });
    }
    let config = Arc::new(config);
    let lanes: Lanes = Arc::new(Mutex::new(HashMap::new()));
    let mut running = JoinSet::new();
    loop {
        let permit = tokio::select! {
            biased;
            _ = cancel.cancelled() => break,
            p = slots.clone().acquire_owned() => match p {
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
        let turn = job.lane.map(|lane| LaneTurn::take(&lanes, lane, job.seq));
        let (client, config, recorder, cancel, hard) = (
            client.clone(),
            config.clone(),
            recorder.clone(),
            cancel.clone(),
            hard.clone(),
        );
        running.spawn(async move {
            deliver_job(job, turn, &client, &config, &recorder, &cancel, &hard).await;
            drop(permit);
        });
        // Reap finished tasks as we go so the set stays small on long runs.
        while running.try_join_next().is_some() {}
    }
    if cancel.is_cancelled() {
        jobs.close();
        while let Ok(job) = jobs.try_recv() {
            recorder.generated();
            terminal(&recorder, &job, TerminalState::Cancelled, 0, None);
        }
    }
    while running.join_next().await.is_some() {}
}

/// The attempts of one job, from the first to its terminal state.
async fn deliver_job(
    job: Job,
    mut turn: Option<LaneTurn>,
    client: &HttpClient,
    config: &DriveConfig,
    recorder: &Recorder,
    cancel: &CancellationToken,
    hard: &CancellationToken,
) {
    let mut jitter =
        ChaCha8Rng::seed_from_u64(config.seed ^ job.seq.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let target_label = job.target.url.to_string();
    if let Some(t) = turn.as_mut() {
        tokio::select! {
            biased;
            _ = cancel.cancelled() => {
                terminal(recorder, &job, TerminalState::Cancelled, 0, None);
                return;
            }
            _ = t.wait() => {}
        }
    }
    let mut attempt: u32 = 1;
    loop {
        if let Some(gate) = &config.gate {
            tokio::select! {
                biased;
                _ = cancel.cancelled() => {
                    terminal(recorder, &job, TerminalState::Cancelled, attempt - 1, None);
                    return;
                }
                _ = gate.ready(&job) => {}
            }
        }
        let sent_at = Utc::now();
        let headers = request_headers(&job, attempt, sent_at.timestamp());
        let (outcome, latency) = tokio::select! {
            biased;
            _ = hard.cancelled() => (
                Outcome::Failed { kind: ErrorKind::Cancelled, message: "run interrupted".into() },
                (Utc::now() - sent_at).to_std().unwrap_or_default(),
            ),
            r = client.send(&job.target.url, headers, deliver::full(job.body.clone())) => r,
        };
        drop(turn.take());
        let verdict = deliver::classify(&outcome);
        let (status, version, error, message, excerpt, retry_after) = match &outcome {
            Outcome::Response {
                status,
                version,
                retry_after,
                excerpt,
            } => (
                Some(*status),
                Some(version.clone()),
                None,
                None,
                Some(excerpt.clone()),
                retry_after.clone(),
            ),
            Outcome::Failed { kind, message } => {
                (None, None, Some(*kind), Some(message.clone()), None, None)
            }
        };
        let interrupted = error == Some(ErrorKind::Cancelled);
        // The wait before the next attempt: the schedule's delay (with jitter), or the
        // receiver's Retry-After when that is longer. Never more attempts than scheduled.
        let next = match verdict {
            Verdict::Retry if !interrupted => config.retry.delay_before(attempt).map(|d| {
                let d = retry::with_jitter(d, jitter.random::<f64>());
                let asked = retry_after
                    .as_deref()
                    .and_then(|v| retry::parse_retry_after(v, SystemTime::now()));
                asked.map_or(d, |a| a.max(d))
            }),
            _ => None,
        };
        recorder.record(Record::Attempt(AttemptRecord {
            seq: job.seq,
            delivery_id: job.delivery_id.clone(),
            event: job.event.clone(),
            target: target_label.clone(),
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
            fault: None,
        }));
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
                        _ = cancel.cancelled() => {
                            terminal(recorder, &job, TerminalState::Cancelled, attempt, status);
                            return;
                        }
                        _ = tokio::time::sleep(wait) => {}
                    }
                    attempt += 1;
                    continue;
                }
            },
        };
        terminal(recorder, &job, state, attempt, status);
        return;
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
        fault: None,
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
    for (name, value) in job
        .target
        .signer
        .sign(&job.delivery_id, now_unix, &job.body)
    {
        if let (Ok(n), Ok(v)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(&value),
        ) {
            h.insert(n, v);
        }
    }
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
