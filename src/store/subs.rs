//! Fan-out: which stored webhooks an event goes to, and the delivery target of each
//! (its URL, signed with its own secret in its flavor's scheme, behind its own rate
//! limit). Targets are cached per webhook and kept while the webhook is unchanged, so
//! a long `serve` keeps one rate window per webhook across triggers.

use std::collections::HashMap;
use std::sync::Arc;

use anyhow::{Context, Result};
use chrono::{DateTime, Utc};
use serde_json::Value;

use super::limit::{RateGate, Window};
use super::{Doc, Period, Status, Store, Webhook};
use crate::InputError;
use crate::drive::{Job, Target};
use crate::events::{EventKind, Flavor};
use crate::payload::{self, Campaign, Generator};
use crate::sign::{Scheme, Secret, Signer};

/// One webhook an event goes to.
#[derive(Debug, Clone)]
pub struct Subscriber {
    pub webhook_id: String,
    pub url: String,
    /// The event in the webhook's own flavor (`Email.Opened` for an API webhook even
    /// when `email.opened` was triggered): the body is generated in that flavor.
    pub kind: &'static EventKind,
    pub flavor: Flavor,
    pub target: Arc<Target>,
}

/// What a cached target was built from; a change rebuilds it (and its window).
#[derive(Debug, Clone, PartialEq)]
struct Built {
    url: String,
    secret: Secret,
    flavor: Flavor,
    rate: (u32, Period),
}

/// The active webhooks and their targets, with the rate gate for the delivery loop.
#[derive(Debug, Default)]
pub struct Subscriptions {
    webhooks: Vec<Webhook>,
    targets: HashMap<String, (Built, Arc<Target>)>,
    gate: Arc<RateGate>,
    scheme: Option<Scheme>,
    header: Option<String>,
}

impl Subscriptions {
    /// The store's webhooks now, signing in each webhook's flavor's scheme.
    pub fn load(store: &Store) -> Result<Subscriptions> {
        Subscriptions::load_signed(store, None, None)
    }

    /// As [`Subscriptions::load`], with a scheme and header overriding the flavors'
    /// (`trigger --signature` / `--signature-header`).
    pub fn load_signed(
        store: &Store,
        scheme: Option<Scheme>,
        header: Option<String>,
    ) -> Result<Subscriptions> {
        let mut subs = Subscriptions {
            scheme,
            header,
            ..Subscriptions::default()
        };
        subs.refresh(&store.load()?)?;
        Ok(subs)
    }

    /// Takes the store's current contents, keeping the targets (and rate windows) of
    /// webhooks whose URL, secret, flavor and limit did not change.
    pub fn refresh(&mut self, doc: &Doc) -> Result<()> {
        let mut targets = HashMap::with_capacity(doc.webhooks.len());
        for w in &doc.webhooks {
            let built = Built {
                url: w.url.clone(),
                secret: w.secret.clone(),
                flavor: w.flavor,
                rate: (w.rate_limit, w.rate_limit_period),
            };
            let target = match self.targets.remove(&w.id) {
                Some((b, t)) if b == built => t,
                _ => self.build(w)?,
            };
            targets.insert(w.id.clone(), (built, target));
        }
        self.targets = targets;
        self.webhooks = doc.webhooks.clone();
        Ok(())
    }

    fn build(&self, w: &Webhook) -> Result<Arc<Target>> {
        let scheme = self.scheme.unwrap_or_else(|| w.flavor.default_scheme());
        let signer = Signer::new(scheme, w.secret.clone(), self.header.clone())
            .with_context(|| format!("webhook {}: cannot sign with its secret", w.id))?;
        let url = w
            .url
            .parse()
            .with_context(|| format!("webhook {}: bad URL {:?}", w.id, w.url))?;
        let target = Arc::new(Target { url, signer });
        let window = Window::new(w.rate_limit, w.rate_limit_period.duration());
        self.gate.limit(&target, Arc::new(window));
        Ok(target)
    }

    /// True when no webhook is active (then the embedded receiver stands in).
    pub fn is_empty(&self) -> bool {
        !self.webhooks.iter().any(|w| w.status == Status::Active)
    }

    /// Every active webhook subscribed to `event` (a name of either flavor), in id order.
    pub fn for_event(&self, event: &str) -> Vec<Subscriber> {
        self.webhooks
            .iter()
            .filter(|w| w.status == Status::Active)
            .filter_map(|w| self.subscriber(w, event))
            .collect()
    }

    /// The webhook `id` as a subscriber to `event`, whatever its status and even when
    /// not subscribed to it (`webhooks test --event`, resends).
    pub fn webhook(&self, id: &str, event: &'static EventKind) -> Option<Subscriber> {
        let w = self.webhooks.iter().find(|w| w.id == id)?;
        let (_, target) = self.targets.get(&w.id)?;
        Some(Subscriber {
            webhook_id: w.id.clone(),
            url: w.url.clone(),
            kind: event,
            flavor: w.flavor,
            target: target.clone(),
        })
    }

    fn subscriber(&self, w: &Webhook, event: &str) -> Option<Subscriber> {
        let kind = w.subscribed_to(event)?;
        self.webhook(&w.id, kind)
    }

    /// Copies of `job` (made for a stand-in target, its body in `flavor`) for every
    /// active webhook of that flavor subscribed to its event, each signed for its
    /// webhook, paired with the webhook's id. This is fan-out for sources that make
    /// their own bodies (scenarios): webhooks of the other flavor are skipped, since
    /// the body is not in their format. Each copy gets its own delivery id
    /// (`<id>-w<webhook>`) and lane, so webhooks retry and keep order independently.
    /// `seq` is left as it was: the caller numbers the copies.
    pub fn retarget(&self, job: &Job, flavor: Flavor) -> Vec<(Job, String)> {
        self.for_event(&job.event)
            .into_iter()
            .filter(|s| s.flavor == flavor)
            .map(|s| {
                let salt = s.webhook_id.parse::<u64>().unwrap_or(0);
                let copy = Job {
                    delivery_id: format!("{}-w{}", job.delivery_id, s.webhook_id),
                    target: s.target.clone(),
                    lane: job
                        .lane
                        .map(|l| l.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ salt),
                    ..job.clone()
                };
                (copy, s.webhook_id)
            })
            .collect()
    }

    /// The gate to put in [`DriveConfig::gate`](crate::drive::DriveConfig): it holds
    /// each webhook's deliveries to its `rate_limit` per `rate_limit_period`.
    pub fn gate(&self) -> Arc<RateGate> {
        self.gate.clone()
    }
}

/// A change applied to each generated body before it is sent (`--set`, `data`).
pub type Edit<'a> = &'a (dyn Fn(&mut Value) -> Result<(), InputError> + Send + Sync);

/// Realistic bodies for fan-out, one seeded generator per flavor: the subscribers of
/// one flavor get the same body for an event; each (event, webhook) pair gets its own
/// delivery id, since each webhook's delivery is retried and deduplicated on its own.
pub struct Bodies {
    seed: u64,
    gens: HashMap<Flavor, (Generator, Campaign)>,
}

impl Bodies {
    pub fn new(seed: u64) -> Bodies {
        Bodies {
            seed,
            gens: HashMap::new(),
        }
    }

    fn generator(&mut self, flavor: Flavor) -> &mut (Generator, Campaign) {
        let seed = self.seed;
        self.gens.entry(flavor).or_insert_with(|| {
            let mut g = Generator::new(flavor, seed);
            let c = g.campaign();
            (g, c)
        })
    }

    /// The jobs of one event for `subscribers`, numbered from `*seq + 1`, each paired
    /// with its webhook's id.
    pub fn jobs(
        &mut self,
        subscribers: &[Subscriber],
        at: DateTime<Utc>,
        edit: Option<Edit<'_>>,
        seq: &mut u64,
    ) -> Result<Vec<(Job, String)>, InputError> {
        let mut made: HashMap<&'static str, bytes::Bytes> = HashMap::new();
        let mut jobs = Vec::with_capacity(subscribers.len());
        for sub in subscribers {
            let body = match made.get(sub.kind.name) {
                Some(b) => b.clone(),
                None => {
                    let (g, campaign) = self.generator(sub.flavor);
                    let contact = g.contact();
                    let body = match edit {
                        None => g.event_bytes(sub.kind, at, &contact, campaign),
                        Some(edit) => {
                            let mut v = g.event(sub.kind, at, &contact, campaign);
                            edit(&mut v)?;
                            payload::to_bytes(&v)
                        }
                    };
                    made.insert(sub.kind.name, body.clone());
                    body
                }
            };
            *seq += 1;
            let delivery_id = self.generator(sub.flavor).0.delivery_id();
            let job = Job {
                seq: *seq,
                event: sub.kind.name.to_string(),
                delivery_id,
                body,
                target: sub.target.clone(),
                lane: None,
                step: None,
            };
            jobs.push((job, sub.webhook_id.clone()));
        }
        Ok(jobs)
    }
}

/// The targets of the active webhooks in the default store subscribed to `event`.
/// For a whole run prefer [`Subscriptions::load`] once and its
/// [`gate`](Subscriptions::gate), which also enforces each webhook's rate limit.
pub fn targets_for(event: &str) -> Result<Vec<Arc<Target>>> {
    let subs = Subscriptions::load(&Store::from_env()?)?;
    Ok(subs
        .for_event(event)
        .into_iter()
        .map(|s| s.target)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{NewWebhook, parse_events};

    fn add(store: &Store, url: &str, events: &str) -> String {
        let (events, flavor) = parse_events(events).unwrap();
        store
            .update(|d| {
                let new = NewWebhook {
                    name: None,
                    url: url.into(),
                    events,
                    flavor,
                    secret: Secret::new("s"),
                    rate_limit: 5,
                    rate_limit_period: Period::Second,
                };
                Ok(d.insert(new, 0).id.clone())
            })
            .unwrap()
    }

    #[test]
    fn fan_out_goes_to_active_subscribers_in_their_flavor() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::in_dir(dir.path());
        let a = add(&store, "http://a/", "email.opened,email.sent");
        let b = add(&store, "http://b/", "Email.Opened");
        let c = add(&store, "http://c/", "email.opened");
        add(&store, "http://d/", "email.clicked");
        store.update(|d| Ok(d.set_archived(&c, true, 1)?)).unwrap();
        let mut subs = Subscriptions::load(&store).unwrap();
        let got = subs.for_event("email.opened");
        let ids: Vec<_> = got.iter().map(|s| s.webhook_id.as_str()).collect();
        assert_eq!(ids, [a.as_str(), b.as_str()]);
        assert_eq!(got[1].kind.name, "Email.Opened");
        assert_eq!(got[1].target.signer.scheme(), Scheme::CakemailBase64);
        // Unchanged webhooks keep their target across a refresh; changed ones get a new one.
        store
            .update(|d| {
                d.find_mut(&b)?.url = "http://b2/".into();
                Ok(())
            })
            .unwrap();
        subs.refresh(&store.load().unwrap()).unwrap();
        let again = subs.for_event("Email.Opened");
        assert!(Arc::ptr_eq(&got[0].target, &again[0].target));
        assert!(!Arc::ptr_eq(&got[1].target, &again[1].target));
        assert_eq!(again[1].url, "http://b2/");

        // Retargeting a scenario's job: same-flavor subscribers only, ids of their own.
        let job = Job {
            seq: 7,
            event: "email.opened".into(),
            delivery_id: "d1".into(),
            body: bytes::Bytes::from_static(b"{}"),
            target: got[0].target.clone(),
            lane: Some(3),
            step: None,
        };
        let copies = subs.retarget(&job, Flavor::Docs);
        let ids: Vec<_> = copies
            .iter()
            .map(|(j, w)| (j.delivery_id.as_str(), w.as_str()))
            .collect();
        assert_eq!(ids, [("d1-w123", a.as_str())]);
        let api_job = Job {
            event: "Email.Opened".into(),
            ..job
        };
        let copies = subs.retarget(&api_job, Flavor::Api);
        assert_eq!(copies.len(), 1);
        assert_eq!(copies[0].1, b);
        assert_eq!(copies[0].0.target.signer.scheme(), Scheme::CakemailBase64);
    }
}
