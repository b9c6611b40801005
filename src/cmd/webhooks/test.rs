//! `cakemock webhooks test ID [--event E]`: one realistic event in the webhook's
//! flavor, signed with its secret, through the delivery loop (no retries); prints
//! the answer's status, latency and the start of its body. Exit 0 when delivered,
//! 1 when not.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Result;

use crate::Exit;
use crate::InputError;
use crate::clock::{format_duration, parse_duration};
use crate::cmd::common::out;
use crate::deliver::ClientConfig;
use crate::drive::{DriveConfig, Job};
use crate::events;
use crate::payload::Generator;
use crate::record::{AttemptRecord, Record, TerminalState};
use crate::retry::RetryPolicy;
use crate::session::Session;
use crate::store::{Store, Subscriptions};

/// Arguments of `cakemock webhooks test`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The webhook's id.
    pub id: String,
    /// The event to send [default: the webhook's first event].
    #[arg(long, value_name = "E")]
    pub event: Option<String>,
    /// Per-attempt timeout.
    #[arg(long, value_name = "DUR", default_value = "5s")]
    pub timeout: String,
}

pub async fn exec(store: &Store, args: Args) -> Result<Exit> {
    let timeout =
        parse_duration(&args.timeout).map_err(|e| InputError::new(format!("--timeout: {e}")))?;
    let doc = store.load()?;
    let webhook = doc.find(&args.id)?;
    let name = match &args.event {
        Some(e) => e.as_str(),
        None => webhook.events.first().map_or("", String::as_str),
    };
    let kind =
        events::find(webhook.flavor, name).map_err(|e| InputError::new(format!("--event: {e}")))?;
    let mut subs = Subscriptions::default();
    subs.refresh(&doc)?;
    let sub = subs
        .webhook(&webhook.id, kind)
        .ok_or_else(|| anyhow::anyhow!("internal: webhook {} has no target", webhook.id))?;
    if webhook.status != crate::store::Status::Active {
        eprintln!(
            "note: webhook {} is archived; it gets this test event but no other deliveries",
            webhook.id
        );
    }

    let seed: u64 = rand::random();
    let mut generator = Generator::new(webhook.flavor, seed);
    let (contact, campaign) = (generator.contact(), generator.campaign());
    let start = chrono::Utc::now();
    let body = generator.event_bytes(kind, start, &contact, &campaign);
    let job = Job {
        seq: 1,
        event: kind.name.to_string(),
        delivery_id: generator.delivery_id(),
        body,
        target: sub.target.clone(),
        lane: None,
        step: None,
    };
    let delivery_id = job.delivery_id.clone();

    let client = ClientConfig {
        timeout,
        ..ClientConfig::default()
    };
    let session = Session::start(&client, None, format!("webhooks test {}", webhook.id), seed)?;
    session.cancel_on_ctrl_c();
    let last: Arc<Mutex<Option<AttemptRecord>>> = Arc::default();
    let seen = last.clone();
    session.recorder.observe(move |rec, _| {
        if let Record::Attempt(a) = rec {
            *seen.lock().unwrap_or_else(|p| p.into_inner()) = Some(a.clone());
        }
    });
    let config = DriveConfig {
        concurrency: 1,
        retry: RetryPolicy::none(),
        seed,
        gate: Some(subs.gate()),
        ..DriveConfig::default()
    };
    let ended = session
        .run(config, move |tx, _cancel| async move {
            let _ = tx.send(job).await;
            Ok(())
        })
        .await?;
    if ended.interrupted {
        return Ok(Exit::Interrupted);
    }
    let delivered = ended.summary.count(TerminalState::Delivered) == 1;
    let attempt = last.lock().unwrap_or_else(|p| p.into_inner()).take();
    let mark = if delivered { "✓" } else { "✗" };
    let verb = if delivered {
        "delivered to"
    } else {
        "not delivered to"
    };
    out(format!(
        "{mark} Test event {} {verb} {}",
        kind.name, sub.url
    ))?;
    if let Some(a) = attempt {
        let latency = format_duration(Duration::from_micros(a.latency_us));
        match (a.status, a.error) {
            (Some(s), _) => out(format!("Status: {s}"))?,
            (None, Some(e)) => out(format!(
                "Error: {} ({})",
                e.as_str(),
                a.message.as_deref().unwrap_or("")
            ))?,
            _ => {}
        }
        out(format!("Latency: {latency}"))?;
        if let Some(excerpt) = a.response_excerpt.as_deref() {
            let one_line = excerpt.split_whitespace().collect::<Vec<_>>().join(" ");
            out(format!(
                "Response: {:?}",
                one_line.chars().take(120).collect::<String>()
            ))?;
        }
    }
    out(format!(
        "Signed with the webhook's secret ({}); delivery id {}",
        sub.target.signer.scheme(),
        delivery_id
    ))?;
    Ok(if delivered {
        Exit::Ok
    } else {
        Exit::ExpectationFailed
    })
}
