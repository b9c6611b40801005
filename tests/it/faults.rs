//! Failure injection in the delivery loop as a receiver sees it: each content and
//! delivery fault kind's bytes, headers and arrival, the attempt log and summary naming
//! it, the accounting invariant under faults, and seeded reproducibility.

use bytes::Bytes;
use cakemock::events::Flavor;
use cakemock::fault::FaultPlan;
use cakemock::receiver::{Received, ReceiverConfig};
use cakemock::record::TerminalState;
use cakemock::scenario::parse_fault;
use cakemock::sign::{Scheme, Secret, Signer};
use serde_json::Value;

use crate::deliver::{Run, receiver};

pub const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

pub fn body(seq: u64) -> Bytes {
    Bytes::from(format!(
        r#"{{"event":"email.opened","timestamp":"2024-03-15T10:30:00Z","data":{{"contact_id":{seq},"email":"zoë/{seq}@example.com"}}}}"#
    ))
}

pub struct Setup {
    pub faults: &'static [&'static str],
    pub scheme: Scheme,
    pub retry: &'static str,
    pub concurrency: usize,
    pub seed: u64,
    pub speed: cakemock::clock::Speed,
}

impl Default for Setup {
    fn default() -> Self {
        Setup {
            faults: &[],
            scheme: Scheme::CakemailHex,
            retry: "none",
            concurrency: 1,
            seed: 7,
            speed: cakemock::clock::Speed::Max,
        }
    }
}

/// Delivers `n` `email.opened` events to `url` through the real loop under `--fault` rules.
pub async fn drive_faults(url: &str, n: u64, setup: Setup) -> Run {
    let rules = setup
        .faults
        .iter()
        .map(|f| parse_fault(f, Flavor::Docs).unwrap())
        .collect();
    let signer = Signer::new(setup.scheme, Secret::new(SECRET), None).unwrap();
    let bodies = (1..=n)
        .map(|seq| ("email.opened".to_string(), body(seq)))
        .collect();
    let delivery = crate::deliver::Setup {
        retry: setup.retry,
        speed: setup.speed,
        concurrency: setup.concurrency,
        seed: setup.seed,
        faults: FaultPlan::new(rules),
        ..crate::deliver::Setup::default()
    };
    crate::deliver::deliver(url, signer, bodies, delivery).await
}

/// One event under one fault against the in-process receiver: what it got, and the run.
async fn one_under(
    fault: &'static [&'static str],
    config: ReceiverConfig,
    scheme: Scheme,
) -> (Received, Run) {
    let rx = receiver(config).await;
    let run = drive_faults(
        rx.url(),
        1,
        Setup {
            faults: fault,
            scheme,
            ..Setup::default()
        },
    )
    .await;
    run.assert_accounted();
    let got = rx.received();
    assert_eq!(got.len(), 1, "{fault:?}: {got:?}");
    (got.into_iter().next().unwrap(), run)
}

pub fn named(run: &Run, kind: &str) {
    for a in run.attempts() {
        assert_eq!(a.fault.as_deref(), Some(kind), "attempt log: {a:?}");
    }
    for t in run.terminals() {
        assert_eq!(t.fault.as_deref(), Some(kind), "terminal: {t:?}");
    }
    assert_eq!(run.summary.faults().get(kind), Some(&1), "summary");
    assert!(
        run.summary
            .render()
            .contains(&format!("faults     {kind} ×1"))
    );
}

fn json(b: &[u8]) -> Value {
    serde_json::from_slice(b).unwrap()
}

pub fn cfg() -> ReceiverConfig {
    ReceiverConfig::new(Secret::new(SECRET))
}

#[tokio::test]
async fn signature_faults_are_refused_by_a_correct_receiver() {
    let hex = Scheme::CakemailHex;
    let (r, run) = one_under(&["bad_signature"], cfg(), hex).await;
    assert!(!r.verdict.is_verified() && r.reply == "401", "{r:?}");
    assert_eq!(r.body, body(1), "the body itself is untouched");
    assert!(r.header("x-cakemail-signature").is_some());
    named(&run, "bad_signature");
    assert_eq!(run.terminals()[0].state, TerminalState::Rejected);

    let (r, run) = one_under(&["missing_signature"], cfg(), hex).await;
    assert!(
        r.header("x-cakemail-signature").is_none(),
        "{:?}",
        r.headers
    );
    assert_eq!(r.reply, "401");
    named(&run, "missing_signature");

    let (r, run) = one_under(&["tampered_body"], cfg(), hex).await;
    let diff = r
        .body
        .iter()
        .zip(body(1).iter())
        .filter(|(a, b)| a != b)
        .count();
    assert_eq!((r.body.len(), diff), (body(1).len(), 1), "one byte changed");
    assert!(!r.verdict.is_verified());
    named(&run, "tampered_body");
}

#[tokio::test]
async fn timestamps_move_in_the_body_and_the_signed_header() {
    let std = Scheme::Standard;
    let now = chrono::Utc::now().timestamp();
    let (r, run) = one_under(&["stale_timestamp"], cfg(), std).await;
    assert_eq!(json(&r.body)["timestamp"], "2024-03-15T10:20:00Z");
    let ts: i64 = r.header("webhook-timestamp").unwrap().parse().unwrap();
    assert!((now - 700..now - 500).contains(&ts), "{ts} vs {now}");
    assert!(!r.verdict.is_verified(), "outside the 5-minute tolerance");
    named(&run, "stale_timestamp");

    let (r, run) = one_under(&["future_timestamp:by=1h"], cfg(), std).await;
    assert_eq!(json(&r.body)["timestamp"], "2024-03-15T11:30:00Z");
    let ts: i64 = r.header("webhook-timestamp").unwrap().parse().unwrap();
    assert!(ts > now + 3000, "{ts} vs {now}");
    named(&run, "future_timestamp");
}

#[tokio::test]
async fn body_faults_are_signed_over_the_bytes_sent() {
    let hex = Scheme::CakemailHex;
    let (r, run) = one_under(&["malformed_json"], cfg(), hex).await;
    assert!(body(1).starts_with(&r.body) && r.body.len() < body(1).len());
    assert!(serde_json::from_slice::<Value>(&r.body).is_err());
    assert!(r.verdict.is_verified(), "signed as sent: {:?}", r.verdict);
    named(&run, "malformed_json");

    let (r, run) = one_under(&["unknown_event"], cfg(), hex).await;
    assert_eq!(json(&r.body)["event"], "cakemock.unknown_event");
    assert_eq!(r.event.as_deref(), Some("cakemock.unknown_event"));
    assert!(r.verdict.is_verified());
    named(&run, "unknown_event");

    let (r, run) = one_under(&["extra_fields:count=2"], cfg(), hex).await;
    let data = json(&r.body)["data"].clone();
    assert!(data["cakemock_extra_1"].is_string() && data["cakemock_extra_2"].is_string());
    assert!(data.get("cakemock_extra_3").is_none() && data["contact_id"] == 1);
    named(&run, "extra_fields");

    let (r, run) = one_under(&["oversized"], cfg(), hex).await;
    assert_eq!(r.body.len(), 1 << 20, "1 MiB by default");
    assert_eq!(json(&r.body)["data"]["contact_id"], 1);
    assert!(r.verdict.is_verified());
    named(&run, "oversized");

    let (r, run) = one_under(
        &["wrong_content_type:content_type=application/xml"],
        cfg(),
        hex,
    )
    .await;
    assert_eq!(r.header("content-type"), Some("application/xml"));
    named(&run, "wrong_content_type");
}

#[tokio::test]
async fn noncanonical_json_fails_a_reserializing_verifier_and_passes_a_raw_one() {
    let hex = Scheme::CakemailHex;
    let (raw, run) = one_under(&["noncanonical_json"], cfg(), hex).await;
    assert_eq!(json(&raw.body), json(&body(1)), "the same JSON value");
    assert_ne!(raw.body, body(1), "in other bytes");
    let text = String::from_utf8_lossy(&raw.body);
    assert!(
        text.contains("\\u00eb") && text.contains("\\/") && text.contains('\n'),
        "{text}"
    );
    assert!(
        raw.verdict.is_verified(),
        "raw-body verifier: {:?}",
        raw.verdict
    );
    named(&run, "noncanonical_json");

    let mut node = cfg();
    node.verify_json = true; // `listen --verify-json`: the guide's JSON.stringify(JSON.parse(body))
    let (r, _) = one_under(&["noncanonical_json"], node, hex).await;
    assert!(!r.verdict.is_verified(), "{:?}", r.verdict);
    assert_eq!(r.reply, "401");
}

#[tokio::test]
async fn duplicates_share_one_delivery_id_and_one_terminal_state() {
    let rx = receiver(cfg()).await;
    let run = drive_faults(
        rx.url(),
        2,
        Setup {
            faults: &["duplicate:copies=3,first=1"],
            ..Setup::default()
        },
    )
    .await;
    run.assert_accounted();
    let got = rx.received();
    let ids: Vec<_> = got.iter().map(|r| r.delivery_id.clone().unwrap()).collect();
    assert_eq!(ids.iter().filter(|i| *i == "dlv_1").count(), 3, "{ids:?}");
    assert_eq!(ids.iter().filter(|i| *i == "dlv_2").count(), 1, "{ids:?}");
    let copies: Vec<_> = got
        .iter()
        .filter(|r| r.delivery_id.as_deref() == Some("dlv_1"))
        .collect();
    assert!(
        copies
            .iter()
            .all(|r| r.body == copies[0].body && r.verdict.is_verified())
    );
    let a = run.attempts();
    assert_eq!(
        a.iter()
            .filter(|a| a.fault.as_deref() == Some("duplicate"))
            .count(),
        3
    );
    assert_eq!(run.terminals().len(), 2);
    assert_eq!(run.summary.count(TerminalState::Delivered), 2);
    assert_eq!(run.summary.faults().get("duplicate"), Some(&1), "one event");
}

#[tokio::test]
async fn reorder_holds_an_event_back_until_later_ones_went() {
    let rx = receiver(cfg()).await;
    let run = drive_faults(
        rx.url(),
        5,
        Setup {
            faults: &["reorder:window=2,first=1"],
            ..Setup::default()
        },
    )
    .await;
    run.assert_accounted();
    let order: Vec<String> = rx
        .received()
        .iter()
        .map(|r| r.delivery_id.clone().unwrap())
        .collect();
    assert_eq!(order, ["dlv_2", "dlv_3", "dlv_1", "dlv_4", "dlv_5"]);
    let t = run.terminals().into_iter().find(|t| t.seq == 1).unwrap();
    assert_eq!(
        (t.state, t.fault.as_deref()),
        (TerminalState::Delivered, Some("reorder"))
    );
}

#[tokio::test]
async fn delay_makes_an_event_arrive_after_later_ones() {
    let rx = receiver(cfg()).await;
    let run = drive_faults(
        rx.url(),
        3,
        Setup {
            faults: &["delay:by=400ms,jitter=0s,first=1"],
            concurrency: 3,
            speed: cakemock::clock::Speed::Factor(1.0),
            ..Setup::default()
        },
    )
    .await;
    run.assert_accounted();
    let order: Vec<String> = rx
        .received()
        .iter()
        .map(|r| r.delivery_id.clone().unwrap())
        .collect();
    assert_eq!(order.last().map(String::as_str), Some("dlv_1"), "{order:?}");
    assert_eq!(run.summary.faults().get("delay"), Some(&1));
}

#[tokio::test]
async fn drop_and_burst_keep_the_accounting() {
    let rx = receiver(cfg()).await;
    let run = drive_faults(
        rx.url(),
        6,
        Setup {
            faults: &["drop:every=3", "burst:count=2,first=4"],
            ..Setup::default()
        },
    )
    .await;
    run.assert_accounted();
    let ids: Vec<String> = rx
        .received()
        .iter()
        .map(|r| r.delivery_id.clone().unwrap())
        .collect();
    assert_eq!(ids.len(), 4, "two dropped: {ids:?}");
    assert!(!ids.contains(&"dlv_3".to_string()) && !ids.contains(&"dlv_6".to_string()));
    let dropped: Vec<_> = run
        .terminals()
        .into_iter()
        .filter(|t| t.state == TerminalState::Dropped)
        .collect();
    assert_eq!(dropped.len(), 2);
    assert!(
        dropped
            .iter()
            .all(|t| t.attempts == 0 && t.fault.as_deref().unwrap().contains("drop"))
    );
    assert!(
        run.attempts().iter().all(|a| a.seq % 3 != 0),
        "no attempt of a dropped event"
    );
    assert_eq!(run.summary.count(TerminalState::Dropped), 2);
    assert_eq!(
        run.summary.faults().get("burst"),
        Some(&4),
        "{:?}",
        run.summary.faults()
    );
}

#[tokio::test]
async fn fault_decisions_are_reproducible_from_the_seed() {
    let rx = receiver(cfg()).await;
    let faults: &'static [&'static str] = &["bad_signature:p=30%", "duplicate:p=20%", "drop:p=10%"];
    let decisions = |run: &Run| -> Vec<(u64, Option<String>)> {
        let mut v: Vec<_> = run
            .terminals()
            .iter()
            .map(|t| (t.seq, t.fault.clone()))
            .collect();
        v.sort();
        v
    };
    let mut seen = Vec::new();
    for seed in [11, 11, 12] {
        let run = drive_faults(
            rx.url(),
            40,
            Setup {
                faults,
                seed,
                concurrency: 4,
                ..Setup::default()
            },
        )
        .await;
        run.assert_accounted();
        seen.push(decisions(&run));
    }
    assert_eq!(
        seen[0], seen[1],
        "same seed, same faults on the same events"
    );
    assert_ne!(seen[0], seen[2], "another seed, other faults");
    assert!(seen[0].iter().any(|(_, f)| f.is_some()) && seen[0].iter().any(|(_, f)| f.is_none()));
}
