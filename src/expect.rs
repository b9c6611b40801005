//! Expectations, judged from the attempt records: the run-wide `expect:` block
//! (delivered share, latency percentiles, max attempts) and each step's
//! `expect: {status, within}`, and `expect.faults` (the answer each injected fault
//! kind must get). Every judgement carries its evidence, so a failed CI run says which
//! deliveries broke which rule.

use std::collections::HashMap;
use std::fmt::Write as _;

use chrono::{DateTime, Utc};

use crate::clock::format_duration;
use crate::record::{Record, TerminalState};
use crate::scenario::{Expect, FaultKind, StatusSpec, StepExpect};
use crate::summary::Summary;

/// How many offending deliveries a judgement quotes.
const EVIDENCE: usize = 5;

/// One expectation, passed or failed, with what was seen.
#[derive(Debug, Clone, PartialEq)]
pub struct Judgement {
    /// What was expected, as a user would write it (`delivered: 100%`, `step alice-open: status 2xx`).
    pub name: String,
    pub passed: bool,
    /// The evidence: counts and, on failure, the first deliveries that broke it.
    pub detail: String,
}

/// Judges per-step expectations as records stream by; remembers only events in flight.
#[derive(Debug, Default)]
pub struct StepJudge {
    expects: HashMap<String, StepExpect>,
    tallies: HashMap<String, Tally>,
    first_sent: HashMap<u64, DateTime<Utc>>,
    /// Steps in the order they were registered, for stable output.
    order: Vec<String>,
}

#[derive(Debug, Default)]
struct Tally {
    events: u64,
    broken: u64,
    examples: Vec<String>,
}

impl StepJudge {
    /// Registers a step's expectation under its label (see `play::step_label`).
    pub fn expect(&mut self, label: String, expect: StepExpect) {
        if !self.expects.contains_key(&label) {
            self.order.push(label.clone());
        }
        self.expects.insert(label, expect);
    }

    pub fn add(&mut self, record: &Record) {
        match record {
            Record::Attempt(a) => {
                if a.step
                    .as_ref()
                    .is_some_and(|s| self.expects.contains_key(s))
                {
                    self.first_sent.entry(a.seq).or_insert(a.sent_at);
                }
            }
            Record::Terminal(t) => {
                let Some(label) = t.step.as_ref() else { return };
                let Some(expect) = self.expects.get(label) else {
                    return;
                };
                let first = self.first_sent.remove(&t.seq);
                let mut why = Vec::new();
                if let Some(spec) = &expect.status {
                    match t.status {
                        Some(s) if spec.matches(s) => {}
                        Some(s) => {
                            why.push(format!("answered {s}, expected {}", show_status(spec)))
                        }
                        None => why.push(format!(
                            "no answer ({}), expected {}",
                            t.state.as_str(),
                            show_status(spec)
                        )),
                    }
                }
                if let Some(within) = expect.within {
                    let took = first.and_then(|f| (t.at - f).to_std().ok());
                    match took {
                        Some(took) if took <= within => {}
                        Some(took) => why.push(format!(
                            "final answer after {}, expected within {}",
                            format_duration(took),
                            format_duration(within)
                        )),
                        None => why.push(format!("never attempted ({})", t.state.as_str())),
                    }
                }
                let tally = self.tallies.entry(label.clone()).or_default();
                tally.events += 1;
                if !why.is_empty() {
                    tally.broken += 1;
                    if tally.examples.len() < EVIDENCE {
                        tally.examples.push(format!(
                            "event {} ({}, delivery {}): {}",
                            t.seq,
                            t.event,
                            t.delivery_id,
                            why.join("; ")
                        ));
                    }
                }
            }
            Record::Run(_) | Record::Judgement(_) | Record::End(_) => {}
        }
    }

    /// One judgement per step with an expectation.
    pub fn judgements(&self) -> Vec<Judgement> {
        self.order
            .iter()
            .map(|label| {
                let expect = &self.expects[label];
                let mut rule = Vec::new();
                if let Some(s) = &expect.status {
                    rule.push(format!("status {}", show_status(s)));
                }
                if let Some(w) = expect.within {
                    rule.push(format!("within {}", format_duration(w)));
                }
                let name = format!("step {label}: {}", rule.join(", "));
                match self.tallies.get(label) {
                    None => Judgement {
                        name,
                        passed: false,
                        detail: "the step sent no event".into(),
                    },
                    Some(t) => {
                        let mut detail =
                            format!("{} of {} events met it", t.events - t.broken, t.events);
                        push_examples(&mut detail, t);
                        Judgement {
                            name,
                            passed: t.broken == 0,
                            detail,
                        }
                    }
                }
            })
            .collect()
    }
}

/// Judges `expect.faults` as records stream by. For each kind, every final answer to
/// a delivery carrying it must match: the answer after which no retry follows (the
/// event's last attempt, and each `duplicate` copy); an event that ended with no
/// attempt at all (`drop`) counts as no answer.
#[derive(Debug, Default)]
pub struct FaultJudge {
    expects: Vec<(FaultKind, StatusSpec)>,
    tallies: Vec<Tally>,
}

impl FaultJudge {
    pub fn new(expects: &[(FaultKind, StatusSpec)]) -> Self {
        FaultJudge {
            expects: expects.to_vec(),
            tallies: expects.iter().map(|_| Tally::default()).collect(),
        }
    }

    pub fn add(&mut self, record: &Record) {
        let (fault, seq, event, delivery, answer) = match record {
            Record::Attempt(a) if a.next_retry_ms.is_none() => {
                let answer = match (a.status, a.error) {
                    (Some(s), _) => Ok(s),
                    (None, e) => Err(format!(
                        "no answer ({}{})",
                        e.map_or("none", |e| e.as_str()),
                        a.message
                            .as_deref()
                            .map(|m| format!(": {m}"))
                            .unwrap_or_default()
                    )),
                };
                (&a.fault, a.seq, &a.event, &a.delivery_id, answer)
            }
            Record::Terminal(t) if t.attempts == 0 => (
                &t.fault,
                t.seq,
                &t.event,
                &t.delivery_id,
                Err(format!("no answer ({})", t.state.as_str())),
            ),
            _ => return,
        };
        let Some(fault) = fault else { return };
        for ((kind, spec), tally) in self.expects.iter().zip(self.tallies.iter_mut()) {
            if !fault.split(',').any(|f| f == kind.as_str()) {
                continue;
            }
            tally.events += 1;
            let why = match &answer {
                Ok(s) if spec.matches(*s) => continue,
                Ok(s) => format!("answered {s}"),
                Err(e) => e.clone(),
            };
            tally.broken += 1;
            if tally.examples.len() < EVIDENCE {
                tally.examples.push(format!(
                    "event {seq} ({event}, delivery {delivery}): {why}, expected {}",
                    show_status(spec)
                ));
            }
        }
    }

    /// One judgement per kind in `expect.faults`.
    pub fn judgements(&self) -> Vec<Judgement> {
        self.expects
            .iter()
            .zip(&self.tallies)
            .map(|((kind, spec), t)| {
                let name = format!("faults.{kind}: {}", show_status(spec));
                if t.events == 0 {
                    return Judgement {
                        name,
                        passed: false,
                        detail: format!(
                            "no delivery carried {kind}, so the receiver was not tested against it"
                        ),
                    };
                }
                let mut detail = format!(
                    "{} of {} answers to {kind} deliveries met it",
                    t.events - t.broken,
                    t.events
                );
                push_examples(&mut detail, t);
                Judgement {
                    name,
                    passed: t.broken == 0,
                    detail,
                }
            })
            .collect()
    }
}

fn push_examples(detail: &mut String, t: &Tally) {
    for e in &t.examples {
        let _ = write!(detail, "\n  {e}");
    }
    if t.broken > t.examples.len() as u64 {
        let _ = write!(
            detail,
            "\n  ... and {} more",
            t.broken - t.examples.len() as u64
        );
    }
}

/// `trigger`'s one expectation: every event delivered (`unit` names what was counted:
/// events, or deliveries when fanned out to several webhooks).
pub fn delivered_all(summary: &Summary, unit: &str) -> Judgement {
    Judgement {
        name: "delivered: 100%".into(),
        passed: summary.all_delivered(),
        detail: format!(
            "{} of {} {unit} delivered",
            summary.count(TerminalState::Delivered),
            summary.generated
        ),
    }
}

/// The run-wide `expect:` block against the summary. With no block at all, the run
/// is held to `delivered: 100%` (a receiver that fails every event must not pass CI).
pub fn run_wide(expect: &Expect, summary: &Summary) -> Vec<Judgement> {
    let mut out = Vec::new();
    let implicit = expect.delivered.is_none()
        && expect.latency.is_empty()
        && expect.max_attempts.is_none()
        && expect.faults.is_empty();
    if let Some(share) = expect.delivered.or(implicit.then_some(1.0)) {
        let delivered = summary.count(TerminalState::Delivered);
        let total = summary.generated;
        let got = if total == 0 {
            1.0
        } else {
            delivered as f64 / total as f64
        };
        let suffix = if implicit {
            " (the default when expect: names no threshold)"
        } else {
            ""
        };
        out.push(Judgement {
            name: format!("delivered: {}{suffix}", percent(share)),
            passed: got + 1e-12 >= share,
            detail: format!("{} delivered ({delivered} of {total} events)", percent(got)),
        });
    }
    for l in &expect.latency {
        let got = summary.latency(l.percentile / 100.0);
        let name = format!("{}: <= {}", l.key, format_duration(l.max));
        out.push(match got {
            Some(got) => Judgement {
                name,
                passed: got <= l.max,
                detail: format!(
                    "p{} latency was {}",
                    trim(l.percentile),
                    format_duration(got)
                ),
            },
            None => Judgement {
                name,
                passed: false,
                detail: "no attempt was made".into(),
            },
        });
    }
    if let Some(max) = expect.max_attempts {
        out.push(Judgement {
            name: format!("max_attempts: {max}"),
            passed: summary.max_attempts <= max,
            detail: format!(
                "the most attempts one event took was {}",
                summary.max_attempts
            ),
        });
    }
    out
}

fn show_status(spec: &StatusSpec) -> String {
    match spec {
        StatusSpec::Exact(s) => s.to_string(),
        StatusSpec::Class(c) => format!("{c}xx"),
        StatusSpec::AnyOf(all) => all.iter().map(show_status).collect::<Vec<_>>().join(" or "),
    }
}

fn percent(f: f64) -> String {
    format!("{}%", trim(f * 100.0))
}

fn trim(f: f64) -> String {
    let s = format!("{f:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// Renders judgements for the text summary: `✓ name` / `✗ name`, evidence indented.
pub fn render(judgements: &[Judgement]) -> String {
    let mut s = String::new();
    for j in judgements {
        let mark = if j.passed { "✓" } else { "✗" };
        let _ = writeln!(
            s,
            "{mark} {}  ({})",
            j.name,
            j.detail.replace('\n', "\n    ")
        );
    }
    s
}
