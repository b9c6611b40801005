//! Plays a validated scenario: walks its steps in scenario time, renders templates,
//! generates bodies (contacts keep their identity across steps), runs campaign funnels
//! as streams, and hands each event to the delivery loop as a [`Job`] when the pacer
//! says it is due. Nothing is sent from here: the one delivery loop does that.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Result;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{Map, Value};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::InputError;
use crate::drive::{Job, Target};
use crate::events::{self, EventKind, Flavor};
use crate::funnel::{CampaignPlan, Stage};
use crate::pace::Pacer;
use crate::payload::{self, Campaign, Contact, Generator};
use crate::scenario::{FakeKind, RenderError, Scenario, Step, StepKind, TemplateContext};

/// What a play needs besides the scenario.
pub struct PlayConfig {
    pub seed: u64,
    /// Scenario time zero.
    pub start: DateTime<Utc>,
    pub target: Arc<Target>,
    pub pacer: Pacer,
}

/// Plays `scenario` into `jobs` until its steps end or `cancel` fires.
pub async fn play(
    scenario: Arc<Scenario>,
    config: PlayConfig,
    jobs: mpsc::Sender<Job>,
    cancel: CancellationToken,
) -> Result<()> {
    let mut player = Player::new(&scenario, config, jobs, cancel)?;
    player.steps(&scenario.steps).await?;
    Ok(())
}

/// The state of one play.
struct Player {
    flavor: Flavor,
    generator: Generator,
    uuids: ChaCha8Rng,
    start: DateTime<Utc>,
    /// Scenario time now, from zero.
    clock: Duration,
    pacer: Pacer,
    target: Arc<Target>,
    jobs: mpsc::Sender<Job>,
    cancel: CancellationToken,
    seq: u64,
    vars: Map<String, Value>,
    /// What each step with an `id:` sent (the whole body).
    sent: HashMap<String, Value>,
    /// Named contacts (`contact: alice`) and their lanes.
    contacts: HashMap<String, (Contact, u64)>,
    /// The campaign events belong to unless a step says otherwise.
    campaign: Campaign,
    /// Step labels by position, made once.
    labels: HashMap<(u32, u32), Arc<str>>,
    stopped: bool,
    seed: u64,
    origin: String,
}

type Boxed<'a> = Pin<Box<dyn Future<Output = Result<()>> + Send + 'a>>;

impl Player {
    fn new(
        scenario: &Scenario,
        config: PlayConfig,
        jobs: mpsc::Sender<Job>,
        cancel: CancellationToken,
    ) -> Result<Self> {
        let mut generator = Generator::new(scenario.flavor, config.seed);
        let campaign = generator.campaign();
        let mut player = Player {
            flavor: scenario.flavor,
            generator,
            uuids: ChaCha8Rng::seed_from_u64(config.seed ^ 0x7575_1d5e_ed00_0000),
            start: config.start,
            clock: Duration::ZERO,
            pacer: config.pacer,
            target: config.target,
            jobs,
            cancel,
            seq: 0,
            vars: Map::new(),
            sent: HashMap::new(),
            contacts: HashMap::new(),
            campaign,
            labels: HashMap::new(),
            stopped: false,
            seed: config.seed,
            origin: scenario.origin.clone(),
        };
        let vars = scenario
            .vars
            .render(&mut player)
            .map_err(|e| render_error(scenario, e))?;
        player.vars = vars;
        Ok(player)
    }

    fn steps<'a>(&'a mut self, steps: &'a [Step]) -> Boxed<'a> {
        Box::pin(async move {
            for step in steps {
                if self.stopped {
                    break;
                }
                self.step(step).await?;
            }
            Ok(())
        })
    }

    async fn step(&mut self, step: &Step) -> Result<()> {
        self.clock += step.after;
        match &step.kind {
            StepKind::Wait(d) => self.clock += *d,
            StepKind::Event(e) => {
                let (contact, lane) = self.contact(e.contact.as_deref());
                let mut body = self
                    .generator
                    .event(&e.event, self.now(), &contact, &self.campaign);
                let data = e
                    .data
                    .render(self)
                    .map_err(|err| self.step_error(step, err))?;
                merge_data(&mut body, data);
                self.emit(step, e.event.name, body, Some(lane)).await?;
            }
            StepKind::Raw(r) => {
                let text = r
                    .body
                    .render_string(self)
                    .map_err(|err| self.step_error(step, err))?;
                let event = r
                    .event
                    .clone()
                    .or_else(|| {
                        serde_json::from_str::<Value>(&text).ok().and_then(|v| {
                            v.get("event").and_then(Value::as_str).map(str::to_string)
                        })
                    })
                    .unwrap_or_else(|| "raw".to_string());
                self.send(step, event, Bytes::from(text), None).await?;
            }
            StepKind::Repeat { times, steps } => {
                for _ in 0..*times {
                    self.steps(steps).await?;
                }
            }
            StepKind::Parallel(steps) => {
                // Every branch starts at the same scenario time; the block ends with the longest.
                let t0 = self.clock;
                let mut end = t0;
                for s in steps {
                    self.clock = t0;
                    self.steps(std::slice::from_ref(s)).await?;
                    end = end.max(self.clock);
                }
                self.clock = end;
            }
            StepKind::Campaign(c) => self.campaign(step, c).await?,
        }
        if let Some(id) = &step.id
            && !self.sent.contains_key(id)
        {
            // A step that sent nothing (wait, repeat) still has its id; templates saw it at load.
            self.sent.insert(id.clone(), Value::Null);
        }
        Ok(())
    }

    /// A `campaign:` step: `campaign.scheduled`, each contact through the funnel, and
    /// `campaign.sent` after the last `email.sent`, streamed in scenario time order.
    async fn campaign(&mut self, step: &Step, c: &crate::scenario::Campaign) -> Result<()> {
        let mut campaign = self.generator.campaign();
        if let Some(id) = &c.id {
            let v = id.render(self).map_err(|err| self.step_error(step, err))?;
            campaign.campaign_id = v
                .as_u64()
                .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
                .filter(|n| *n < (1 << 53))
                .ok_or_else(|| {
                    InputError::new(format!(
                        "{}:{}:{}: campaign id {v} is not a whole number below 2^53",
                        self.origin, step.pos.line, step.pos.column
                    ))
                })?;
        }
        let plan = CampaignPlan {
            contacts: u64::from(c.contacts),
            over: c.over,
            funnel: c.funnel,
            // The same run seed and campaign id give the same funnel.
            seed: self.seed ^ campaign.campaign_id.wrapping_mul(0x9e37_79b9_7f4a_7c15),
        };
        let base = self.clock;
        for ev in plan.events() {
            if self.stopped {
                break;
            }
            let Some(kind) = self.stage_kind(ev.stage) else {
                continue;
            };
            self.clock = base + ev.at;
            let (contact, lane) = match ev.contact {
                Some(i) => {
                    let contact = self.generator.contact_at(campaign.campaign_id, i);
                    let lane = contact.contact_id;
                    (contact, Some(lane))
                }
                None => (self.generator.contact(), None),
            };
            let body = self
                .generator
                .event_bytes(kind, self.now(), &contact, &campaign);
            self.send(step, kind.name.to_string(), body, lane).await?;
        }
        self.clock = base + c.over;
        Ok(())
    }

    /// The catalogue event of a funnel stage in this flavor (`campaign.sent` has no API twin).
    fn stage_kind(&self, stage: Stage) -> Option<&'static EventKind> {
        let docs = stage.docs_event();
        let name = match self.flavor {
            Flavor::Docs => docs,
            Flavor::Api => events::api_twin(docs)?,
        };
        events::find(self.flavor, name).ok()
    }

    fn contact(&mut self, name: Option<&str>) -> (Contact, u64) {
        match name {
            Some(n) => {
                if let Some((c, lane)) = self.contacts.get(n) {
                    return (c.clone(), *lane);
                }
                let c = self.generator.contact();
                let lane = c.contact_id;
                self.contacts.insert(n.to_string(), (c.clone(), lane));
                (c, lane)
            }
            None => {
                let c = self.generator.contact();
                let lane = c.contact_id;
                (c, lane)
            }
        }
    }

    async fn emit(
        &mut self,
        step: &Step,
        event: &str,
        body: Value,
        lane: Option<u64>,
    ) -> Result<()> {
        let bytes = payload::to_bytes(&body);
        if let Some(id) = &step.id {
            self.sent.insert(id.clone(), body);
        }
        self.send(step, event.to_string(), bytes, lane).await
    }

    /// Waits until the event is due, then queues it for delivery.
    async fn send(
        &mut self,
        step: &Step,
        event: String,
        body: Bytes,
        lane: Option<u64>,
    ) -> Result<()> {
        tokio::select! {
            biased;
            _ = self.cancel.cancelled() => { self.stopped = true; return Ok(()); }
            _ = self.pacer.until(self.clock) => {}
        }
        self.seq += 1;
        let job = Job {
            seq: self.seq,
            event,
            delivery_id: self.generator.delivery_id(),
            body,
            target: self.target.clone(),
            lane,
            step: Some(self.label(step)),
        };
        tokio::select! {
            biased;
            _ = self.cancel.cancelled() => self.stopped = true,
            sent = self.jobs.send(job) => if sent.is_err() { self.stopped = true },
        }
        Ok(())
    }

    fn now(&self) -> DateTime<Utc> {
        self.start + chrono::Duration::from_std(self.clock).unwrap_or(chrono::Duration::MAX)
    }

    fn label(&mut self, step: &Step) -> Arc<str> {
        self.labels
            .entry((step.pos.line, step.pos.column))
            .or_insert_with(|| Arc::from(step_label(step)))
            .clone()
    }

    /// A template that failed at run time, placed at its step when it has no place of its own.
    fn step_error(&self, step: &Step, err: RenderError) -> anyhow::Error {
        let (line, column) = err
            .pos
            .map_or((step.pos.line, step.pos.column), |p| (p.line, p.column));
        InputError::new(format!("{}:{line}:{column}: {}", self.origin, err.message)).into()
    }
}

fn render_error(scenario: &Scenario, e: RenderError) -> anyhow::Error {
    InputError::new(format!("{}: {e}", scenario.origin)).into()
}

/// The name a step goes by in expectations and reports: its `id`, else its kind and line.
pub fn step_label(step: &Step) -> String {
    if let Some(id) = &step.id {
        return id.clone();
    }
    let what = match &step.kind {
        StepKind::Event(e) => e.event.name.to_string(),
        StepKind::Raw(_) => "raw".into(),
        StepKind::Campaign(_) => "campaign".into(),
        StepKind::Repeat { .. } => "repeat".into(),
        StepKind::Parallel(_) => "parallel".into(),
        StepKind::Wait(_) => "wait".into(),
    };
    format!("{what} (line {})", step.pos.line)
}

/// Deep-merges rendered `data:` overrides into the body's `data` object.
fn merge_data(body: &mut Value, data: Value) {
    if let (Some(target), Value::Object(over)) = (body.get_mut("data"), data) {
        merge(target, Value::Object(over));
    }
}

fn merge(target: &mut Value, over: Value) {
    match (target, over) {
        (Value::Object(t), Value::Object(o)) => {
            for (k, v) in o {
                match t.get_mut(&k) {
                    Some(existing) if existing.is_object() && v.is_object() => merge(existing, v),
                    _ => {
                        t.insert(k, v);
                    }
                }
            }
        }
        (t, o) => *t = o,
    }
}

impl TemplateContext for Player {
    fn var(&self, name: &str) -> Option<&Value> {
        self.vars.get(name)
    }

    fn step(&self, id: &str) -> Option<&Value> {
        self.sent.get(id)
    }

    fn fake(&mut self, kind: FakeKind) -> String {
        self.generator.fake(kind.as_str()).unwrap_or_default()
    }

    fn now(&self) -> DateTime<Utc> {
        Player::now(self)
    }

    fn uuid(&mut self) -> uuid::Uuid {
        uuid::Builder::from_random_bytes(self.uuids.random()).into_uuid()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_overrides_deep_merge() {
        let mut body = serde_json::json!({"event": "e", "data": {"a": 1, "n": {"x": 1, "y": 2}}});
        merge_data(
            &mut body,
            serde_json::json!({"a": 2, "n": {"y": 3}, "new": true}),
        );
        assert_eq!(
            body,
            serde_json::json!({"event": "e", "data": {"a": 2, "n": {"x": 1, "y": 3}, "new": true}})
        );
    }
}

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
    run_session(Arc::new(scenario), Arc::new(target), session, drive, start).await
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
