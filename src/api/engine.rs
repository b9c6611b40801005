//! The delivery engine `serve` shares among `/_mock/trigger`, resends and scenario
//! runs: one long-lived delivery loop fed through a channel, the store's
//! subscriptions (with their rate gate) refreshed per trigger, and a table of recent
//! deliveries built from the loop's records for `GET /_mock/deliveries`.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use anyhow::{Context, Result};
use bytes::Bytes;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use tokio::sync::mpsc;

use crate::drive::Job;
use crate::record::{Record, TerminalState};
use crate::store::{Bodies, Edit, Status, Store, Subscriber, Subscriptions};

/// How many deliveries the table keeps (the oldest go first).
pub const KEEP: usize = 10_000;

/// One delivery (an event bound for one webhook) as `/_mock/deliveries` shows it.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub id: String,
    pub webhook_id: Option<String>,
    pub event: String,
    pub url: String,
    /// `None` while attempts are still to come.
    pub state: Option<TerminalState>,
    pub created_at: DateTime<Utc>,
    pub attempts: Vec<Value>,
    pub body: Bytes,
}

impl Delivery {
    pub fn state_str(&self) -> &'static str {
        self.state.map_or("pending", TerminalState::as_str)
    }

    pub fn to_json(&self) -> Value {
        let payload = serde_json::from_slice::<Value>(&self.body)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&self.body).into_owned()));
        json!({
            "id": self.id,
            "webhook_id": self.webhook_id,
            "event": self.event,
            "url": self.url,
            "state": self.state_str(),
            "created_at": self.created_at,
            "attempts": self.attempts,
            "payload": payload,
        })
    }
}

/// Recent deliveries in creation order.
#[derive(Debug, Default)]
pub struct Table {
    by_id: HashMap<String, Delivery>,
    order: VecDeque<String>,
}

impl Table {
    fn upsert(&mut self, d: Delivery) {
        if let Some(old) = self.by_id.get_mut(&d.id) {
            // A resend: same delivery, attempts go on.
            old.state = None;
            old.url = d.url;
            return;
        }
        self.order.push_back(d.id.clone());
        self.by_id.insert(d.id.clone(), d);
        while self.order.len() > KEEP {
            if let Some(old) = self.order.pop_front() {
                self.by_id.remove(&old);
            }
        }
    }

    pub fn get(&self, id: &str) -> Option<&Delivery> {
        self.by_id.get(id)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Delivery> {
        self.order.iter().filter_map(|id| self.by_id.get(id))
    }

    /// Folds a record of the loop in; returns the webhook of a delivery that ended `gone`.
    fn observe(&mut self, rec: &Record) -> Option<String> {
        match rec {
            Record::Attempt(a) => {
                let d = self.by_id.get_mut(&a.delivery_id)?;
                d.attempts.push(json!({
                    "attempt": a.attempt,
                    "sent_at": a.sent_at,
                    "status": a.status,
                    "latency_ms": a.latency_us as f64 / 1000.0,
                    "error": a.error.map(|e| e.as_str()),
                    "message": a.message,
                    "response": a.response_excerpt,
                }));
                None
            }
            Record::Terminal(t) => {
                let d = self.by_id.get_mut(&t.delivery_id)?;
                d.state = Some(t.state);
                (t.state == TerminalState::Gone)
                    .then(|| d.webhook_id.clone())
                    .flatten()
            }
            Record::Run(_) | Record::Judgement(_) | Record::End(_) => None,
        }
    }
}

/// The engine. Shared behind an `Arc` by the server's handlers and scenario runs.
pub struct Engine {
    jobs: mpsc::Sender<Job>,
    seq: AtomicU64,
    store: Store,
    subs: Mutex<Subscriptions>,
    bodies: Mutex<Bodies>,
    table: Arc<Mutex<Table>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Engine {
    /// An engine sending into `jobs` (the delivery loop's channel), with `subs` whose
    /// gate that loop consults.
    pub(super) fn new(
        jobs: mpsc::Sender<Job>,
        store: Store,
        subs: Subscriptions,
        seed: u64,
    ) -> Engine {
        Engine {
            jobs,
            seq: AtomicU64::new(0),
            store,
            subs: Mutex::new(subs),
            bodies: Mutex::new(Bodies::new(seed)),
            table: Arc::default(),
        }
    }

    /// The store this engine delivers for.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The observer to install on the loop's recorder: keeps the table current and
    /// archives webhooks that answer 410 Gone.
    pub(super) fn observer(
        &self,
    ) -> impl FnMut(&Record, &crate::summary::Summary) + Send + 'static {
        let table = self.table.clone();
        let store = self.store.clone();
        move |rec, _| {
            let gone = lock(&table).observe(rec);
            if let Some(id) = gone {
                let store = store.clone();
                // Off the recorder's lock: the store write takes a file lock and an fsync.
                tokio::task::spawn_blocking(move || {
                    let now = Utc::now().timestamp();
                    let _ = store.update(|d| Ok(d.set_archived(&id, true, now)?));
                });
            }
        }
    }

    /// Rereads the store (other processes may have changed it) and returns the active
    /// webhooks subscribed to `event`.
    pub async fn subscribers(&self, event: &str) -> Result<Vec<Subscriber>> {
        self.refresh().await?;
        Ok(lock(&self.subs).for_event(event))
    }

    /// Rereads the store into the subscriptions (for a source that then calls
    /// [`Engine::retarget`] per job).
    pub async fn refresh(&self) -> Result<()> {
        let store = self.store.clone();
        let doc = tokio::task::spawn_blocking(move || store.load())
            .await
            .context("the store reader stopped")??;
        lock(&self.subs).refresh(&doc)
    }

    /// Fan-out of a job made elsewhere (a scenario's): see [`Subscriptions::retarget`].
    pub fn retarget(&self, job: &Job, flavor: crate::events::Flavor) -> Vec<(Job, String)> {
        lock(&self.subs).retarget(job, flavor)
    }

    /// Generates `event` for each subscriber (with `edit` applied) and queues it.
    /// Returns the queued deliveries.
    pub async fn trigger(
        &self,
        subscribers: &[Subscriber],
        edit: Option<Edit<'_>>,
    ) -> Result<Vec<Delivery>, crate::InputError> {
        let now = Utc::now();
        let at = DateTime::from_timestamp(now.timestamp(), 0).unwrap_or(now);
        // Numbered by `submit`; the generator's own count does not matter here.
        let jobs = lock(&self.bodies).jobs(subscribers, at, edit, &mut 0)?;
        let mut queued = Vec::with_capacity(jobs.len());
        for (job, webhook) in jobs {
            queued.push(self.submit(job, Some(webhook)).await);
        }
        Ok(queued)
    }

    /// Queues one job (its `seq` is replaced by the engine's own counter), listing it
    /// under `webhook_id`. Waits while the loop's queue is full.
    pub async fn submit(&self, mut job: Job, webhook_id: Option<String>) -> Delivery {
        job.seq = self.seq.fetch_add(1, Ordering::Relaxed) + 1;
        let d = Delivery {
            id: job.delivery_id.clone(),
            webhook_id,
            event: job.event.clone(),
            url: job.target.url.to_string(),
            state: None,
            created_at: Utc::now(),
            attempts: Vec::new(),
            body: job.body.clone(),
        };
        lock(&self.table).upsert(d.clone());
        // The loop only stops when the server does; a closed channel means shutdown.
        let _ = self.jobs.send(job).await;
        d
    }

    /// A copy of the deliveries matching the filters, in creation order.
    pub fn deliveries(&self, keep: impl Fn(&Delivery) -> bool) -> Vec<Delivery> {
        lock(&self.table)
            .iter()
            .filter(|d| keep(d))
            .cloned()
            .collect()
    }

    /// Sends delivery `id` again, with the same delivery id and body, to its webhook's
    /// current URL.
    pub async fn resend(&self, id: &str) -> Result<Delivery, Resend> {
        let (webhook_id, event, body) = {
            let t = lock(&self.table);
            let d = t.get(id).ok_or(Resend::UnknownDelivery)?;
            (
                d.webhook_id.clone().ok_or(Resend::NoWebhook)?,
                d.event.clone(),
                d.body.clone(),
            )
        };
        let store = self.store.clone();
        let doc = tokio::task::spawn_blocking(move || store.load())
            .await
            .map_err(|e| Resend::Store(e.to_string()))?
            .map_err(|e| Resend::Store(format!("{e:#}")))?;
        let w = doc
            .get(&webhook_id)
            .ok_or(Resend::WebhookGone(webhook_id.clone()))?;
        if w.status != Status::Active {
            return Err(Resend::Archived(webhook_id));
        }
        let kind = crate::events::find(w.flavor, &event).map_err(|e| Resend::Store(e.0))?;
        let sub = {
            let mut subs = lock(&self.subs);
            subs.refresh(&doc)
                .map_err(|e| Resend::Store(format!("{e:#}")))?;
            subs.webhook(&webhook_id, kind)
        }
        .ok_or(Resend::WebhookGone(webhook_id.clone()))?;
        let job = Job {
            seq: 0,
            event,
            delivery_id: id.to_string(),
            body,
            target: sub.target,
            lane: None,
            step: None,
        };
        Ok(self.submit(job, Some(webhook_id)).await)
    }
}

/// Why a resend was refused.
#[derive(Debug)]
pub enum Resend {
    UnknownDelivery,
    NoWebhook,
    WebhookGone(String),
    Archived(String),
    Store(String),
}
