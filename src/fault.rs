//! Failure injection (SPEC 6). A [`FaultPlan`] holds the rules of a run (run-wide and
//! per step); the delivery loop asks its [`Chooser`] which faults each event gets, in
//! the order events are taken, so the same seed gives the same faults on the same
//! events regardless of timing. `content` changes bytes and headers, `transport` the
//! connection, `hold` keeps events back for `reorder` and `burst`.

pub mod content;
pub mod hold;
pub mod transport;

use std::sync::Arc;
use std::time::Duration;

use crate::scenario::{FaultKind, FaultRule, Pick, Scenario, Step, StepKind};

pub use content::Content;

/// Defaults of the parameters a rule leaves out (SPEC 6 names the first six).
pub mod defaults {
    use std::time::Duration;
    /// `duplicate`: deliveries in all (the original and one copy).
    pub const COPIES: u32 = 2;
    /// `duplicate`: wait before the copies.
    pub const COPY_DELAY: Duration = Duration::ZERO;
    /// `reorder`: how many later events may overtake a held one.
    pub const WINDOW: u32 = 10;
    /// `delay`: how long, and the random extra up to `jitter`.
    pub const DELAY: Duration = Duration::from_millis(500);
    pub const JITTER: Duration = Duration::from_millis(200);
    /// `slow_body`: bytes per second.
    pub const RATE: u64 = 64;
    /// `oversized`: the body size.
    pub const SIZE: u64 = 1 << 20;
    /// `stale_timestamp` / `future_timestamp`: how far off (past a 5-minute tolerance).
    pub const SKEW: Duration = Duration::from_secs(600);
    /// `unknown_event`: the event name sent.
    pub const UNKNOWN_EVENT: &str = "cakemock.unknown_event";
    /// `extra_fields`: how many fields are added.
    pub const EXTRA_FIELDS: u32 = 3;
    /// `wrong_content_type`: the Content-Type sent.
    pub const CONTENT_TYPE: &str = "text/plain; charset=utf-8";
    /// `burst`: how many events are released at once.
    pub const BURST: u32 = 10;
}

/// What happens to the connection of an event's first attempt.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Transport {
    /// The body dripped at this many bytes per second.
    SlowBody { rate: u64 },
    /// Half the body, then the connection is closed.
    AbortMidBody,
    /// Half the body, then a TCP reset.
    Reset,
}

/// The faults one event gets, parameters resolved.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Faults {
    /// Every kind applied, in rule order, each once: what the attempt log names.
    pub kinds: Vec<FaultKind>,
    pub content: Content,
    pub drop: bool,
    /// `duplicate`: extra copies, and the wait before them.
    pub copies: Option<(u32, Duration)>,
    /// `reorder`: the window.
    pub reorder: Option<u32>,
    /// `delay`: the wait before the first attempt (jitter drawn).
    pub delay: Option<Duration>,
    /// `burst`: the group size.
    pub burst: Option<u32>,
    pub transport: Option<Transport>,
}

impl Faults {
    /// The name recorded in the attempt log: the kinds joined by `,`, or `None`.
    pub fn label(&self) -> Option<String> {
        (!self.kinds.is_empty()).then(|| {
            self.kinds
                .iter()
                .map(|k| k.as_str())
                .collect::<Vec<_>>()
                .join(",")
        })
    }

    /// Adds one rule's fault, the first rule of a kind winning.
    fn apply(&mut self, rule: &FaultRule, jitter_draw: f64) {
        use FaultKind::*;
        if self.kinds.contains(&rule.kind) {
            return;
        }
        self.kinds.push(rule.kind);
        let p = &rule.params;
        let c = &mut self.content;
        let secs = |d: Option<Duration>| {
            i64::try_from(d.unwrap_or(defaults::SKEW).as_secs()).unwrap_or(i64::MAX)
        };
        match rule.kind {
            BadSignature => c.bad_signature = true,
            MissingSignature => c.missing_signature = true,
            TamperedBody => c.tampered_body = true,
            StaleTimestamp => c.shift = -secs(p.by),
            FutureTimestamp => c.shift = secs(p.by),
            MalformedJson => c.malformed_json = true,
            NoncanonicalJson => c.noncanonical_json = true,
            UnknownEvent => {
                c.unknown_event = Some(
                    p.event
                        .clone()
                        .unwrap_or_else(|| defaults::UNKNOWN_EVENT.into()),
                )
            }
            ExtraFields => c.extra_fields = p.count.unwrap_or(defaults::EXTRA_FIELDS),
            Oversized => c.oversized = Some(p.size.unwrap_or(defaults::SIZE)),
            WrongContentType => {
                c.content_type = Some(
                    p.content_type
                        .clone()
                        .unwrap_or_else(|| defaults::CONTENT_TYPE.into()),
                )
            }
            Duplicate => {
                let copies = p.copies.unwrap_or(defaults::COPIES).saturating_sub(1);
                self.copies = Some((copies, p.delay.unwrap_or(defaults::COPY_DELAY)));
            }
            Reorder => self.reorder = Some(p.window.unwrap_or(defaults::WINDOW)),
            Drop => self.drop = true,
            Delay => {
                let by = p.by.unwrap_or(defaults::DELAY);
                let jitter = p.jitter.unwrap_or(defaults::JITTER);
                self.delay = Some(by + jitter.mul_f64(jitter_draw));
            }
            Burst => self.burst = Some(p.count.unwrap_or(defaults::BURST)),
            SlowBody => {
                self.transport = Some(Transport::SlowBody {
                    rate: p.rate.unwrap_or(defaults::RATE).max(1),
                })
            }
            AbortMidBody => self.transport = self.transport.or(Some(Transport::AbortMidBody)),
            Reset => self.transport = self.transport.or(Some(Transport::Reset)),
        }
    }
}

/// A rule and where it applies.
#[derive(Debug)]
struct Placed {
    rule: FaultRule,
    /// The label of the step it sits on (`play::step_label`); `None` = run-wide.
    step: Option<String>,
}

/// The fault rules of a run. Cheap to clone; empty by default (no faults).
#[derive(Debug, Clone, Default)]
pub struct FaultPlan {
    rules: Arc<Vec<Placed>>,
}

impl FaultPlan {
    /// Run-wide rules only (`trigger --fault`).
    pub fn new(run_wide: Vec<FaultRule>) -> Self {
        FaultPlan {
            rules: Arc::new(
                run_wide
                    .into_iter()
                    .map(|rule| Placed { rule, step: None })
                    .collect(),
            ),
        }
    }

    /// Every rule of a scenario: each step's own (for that step's events), then the
    /// file's `faults:`, then `extra` (the command line's `--fault`).
    pub fn for_scenario(scenario: &Scenario, extra: &[FaultRule]) -> Self {
        fn walk(steps: &[Step], out: &mut Vec<Placed>) {
            for s in steps {
                let label = crate::play::step_label(s);
                out.extend(s.faults.iter().map(|rule| Placed {
                    rule: rule.clone(),
                    step: Some(label.clone()),
                }));
                if let StepKind::Repeat { steps, .. } | StepKind::Parallel(steps) = &s.kind {
                    walk(steps, out);
                }
            }
        }
        let mut rules = Vec::new();
        walk(&scenario.steps, &mut rules);
        rules.extend(scenario.faults.iter().chain(extra).map(|rule| Placed {
            rule: rule.clone(),
            step: None,
        }));
        FaultPlan {
            rules: Arc::new(rules),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// A chooser for one run with this seed.
    pub fn chooser(&self, seed: u64) -> Chooser {
        Chooser {
            plan: self.clone(),
            seed,
            covered: vec![0; self.rules.len()],
        }
    }
}

/// Decides each event's faults in the order events are taken (that order is the
/// source's, so decisions do not depend on timing).
#[derive(Debug)]
pub struct Chooser {
    plan: FaultPlan,
    seed: u64,
    /// Per rule: how many events it has covered so far (for `every` and `first`).
    covered: Vec<u64>,
}

impl Chooser {
    /// The faults of event `seq` named `event`, made by `step` (its label).
    pub fn decide(&mut self, seq: u64, event: &str, step: Option<&str>) -> Faults {
        let mut faults = Faults::default();
        for (i, placed) in self.plan.rules.iter().enumerate() {
            if placed.step.is_some() && placed.step.as_deref() != step {
                continue;
            }
            let sel = &placed.rule.selector;
            if let Some(names) = &sel.events
                && !names.iter().any(|n| n.eq_ignore_ascii_case(event))
            {
                continue;
            }
            self.covered[i] += 1;
            let n = self.covered[i];
            let picked = match sel.pick {
                Pick::All => true,
                Pick::Every(k) => n.is_multiple_of(k),
                Pick::First(k) => n <= k,
                Pick::Probability(p) => draw(self.seed, seq, i as u64, 0) < p,
            };
            if picked {
                faults.apply(&placed.rule, draw(self.seed, seq, i as u64, 1));
            }
        }
        faults
    }
}

/// One request of a job as its faults shape it: content faults on every attempt,
/// `transport` (the first attempt's) on the connection.
pub async fn send(
    client: &crate::deliver::HttpClient,
    wire: &content::Wire,
    attempt: u32,
    now: i64,
    transport: Option<Transport>,
) -> (crate::deliver::Outcome, Duration) {
    let url = &wire.signed.target.url;
    let headers = content::headers(wire, attempt, now);
    let body = wire.body.clone();
    match transport {
        None => client.send(url, headers, crate::deliver::full(body)).await,
        Some(Transport::SlowBody { rate }) => {
            let timeout = client.timeout() + transport::drip_time(body.len(), rate);
            let body = transport::slow_body(body, rate);
            client.send_within(url, headers, body, timeout).await
        }
        Some(Transport::AbortMidBody) => {
            client
                .send(url, headers, transport::abort_mid_body(body))
                .await
        }
        Some(Transport::Reset) => {
            let started = std::time::Instant::now();
            let outcome = transport::reset(url, &headers, &body, client.timeout()).await;
            (outcome, started.elapsed())
        }
    }
}

/// A uniform draw in [0, 1) from (seed, event, rule, purpose): no shared generator, so
/// one rule's decisions never shift another's.
pub fn draw(seed: u64, seq: u64, rule: u64, purpose: u64) -> f64 {
    let h = mix(seed ^ mix(seq ^ mix(rule.wrapping_mul(4).wrapping_add(purpose))));
    (h >> 11) as f64 / (1u64 << 53) as f64
}

/// SplitMix64's finalizer.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(yaml: &str) -> FaultPlan {
        let text = format!("version: 1\nfaults:\n{yaml}steps:\n  - wait: 1s\n");
        let s = crate::scenario::load_str(&text, "f.yaml").unwrap();
        FaultPlan::for_scenario(&s, &[])
    }

    fn picked(plan: &FaultPlan, seed: u64, n: u64) -> Vec<u64> {
        let mut c = plan.chooser(seed);
        (1..=n)
            .filter(|&seq| !c.decide(seq, "email.opened", None).kinds.is_empty())
            .collect()
    }

    #[test]
    fn selectors_pick_what_they_say() {
        let every = plan("  - { kind: drop, every: 3 }\n");
        assert_eq!(picked(&every, 1, 10), vec![3, 6, 9]);
        let first = plan("  - { kind: drop, first: 2 }\n");
        assert_eq!(picked(&first, 1, 10), vec![1, 2]);
        let all = plan("  - { kind: drop }\n");
        assert_eq!(picked(&all, 1, 4), vec![1, 2, 3, 4]);
        // `events` narrows first; `every` then counts only the events it covers.
        let named = plan("  - { kind: drop, events: [email.clicked], every: 2 }\n");
        let mut c = named.chooser(1);
        let got: Vec<bool> = ["email.clicked", "email.opened", "email.clicked"]
            .iter()
            .enumerate()
            .map(|(i, e)| c.decide(i as u64 + 1, e, None).drop)
            .collect();
        assert_eq!(got, vec![false, false, true]);
    }

    #[test]
    fn probabilities_are_seeded_and_roughly_right() {
        let p = plan("  - { kind: bad_signature, p: 20% }\n");
        let a = picked(&p, 42, 5000);
        assert_eq!(a, picked(&p, 42, 5000), "same seed, same events");
        assert_ne!(a, picked(&p, 43, 5000), "another seed, other events");
        assert!((850..1150).contains(&a.len()), "{} of 5000", a.len());
    }

    #[test]
    fn defaults_fill_what_a_rule_leaves_out() {
        let p = plan(
            "  - { kind: duplicate }\n  - { kind: stale_timestamp }\n  - { kind: delay, jitter: 0s }\n  - { kind: slow_body }\n",
        );
        let f = p.chooser(0).decide(1, "email.opened", None);
        assert_eq!(f.copies, Some((1, Duration::ZERO)));
        assert_eq!(f.content.shift, -600);
        assert_eq!(f.delay, Some(defaults::DELAY));
        assert_eq!(f.transport, Some(Transport::SlowBody { rate: 64 }));
        assert_eq!(
            f.label().as_deref(),
            Some("duplicate,stale_timestamp,delay,slow_body")
        );
    }
}
