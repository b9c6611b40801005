//! `cakemock trigger EVENT` in store mode: with no `--target`, the event goes to every
//! active stored webhook subscribed to it (each in its own flavor, signed with its own
//! secret, held to its own rate limit) through the one delivery loop. A webhook that
//! answers 410 Gone is archived, as a real sender disables it.

use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::sync::Arc;

use anyhow::Result;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::Exit;
use crate::InputError;
use crate::cmd::common::{CliRun, delivery_line};
use crate::cmd::trigger::{Args, print_request};
use crate::drive::{DriveConfig, Job};
use crate::events::EventKind;
use crate::payload;
use crate::record::TerminalState;
use crate::retry::RetryPolicy;
use crate::session::Ended;
use crate::store::{Bodies, Store, Subscriber, Subscriptions};

/// The stored webhooks `kind` goes to, or `None` when there are none (then the
/// embedded receiver stands in, as without a store).
pub fn plan(
    args: &Args,
    kind: &EventKind,
) -> Result<Option<(Store, Subscriptions, Vec<Subscriber>)>> {
    let store = Store::from_env()?;
    let signing = &args.delivery.signing;
    let subs =
        Subscriptions::load_signed(&store, signing.signature, signing.signature_header.clone())?;
    if subs.is_empty() {
        return Ok(None);
    }
    let targets = subs.for_event(kind.name);
    if targets.is_empty() {
        eprintln!(
            "note: no active stored webhook is subscribed to {}; delivering to the embedded receiver",
            kind.name
        );
        return Ok(None);
    }
    Ok(Some((store, subs, targets)))
}

/// What `trigger` settled before handing over.
pub struct Settled {
    pub seed: u64,
    pub start: chrono::DateTime<chrono::Utc>,
    pub client: crate::deliver::ClientConfig,
    pub retry: RetryPolicy,
    pub concurrency: usize,
    pub faults: crate::fault::FaultPlan,
}

/// Delivers `args.count` events to each subscriber and prints a line per delivery.
pub async fn exec(
    args: Args,
    (store, subs, targets): (Store, Subscriptions, Vec<Subscriber>),
    s: Settled,
) -> Result<Exit> {
    eprintln!(
        "fan-out: {} -> {} stored webhook{} ({}), each signed with its own secret",
        args.event,
        targets.len(),
        if targets.len() == 1 { "" } else { "s" },
        targets
            .iter()
            .map(|t| format!("{} {}", t.webhook_id, t.url))
            .collect::<Vec<_>>()
            .join(", ")
    );
    if args.delivery.signing.secret.is_some() {
        eprintln!("note: --secret is not used: stored webhooks sign with their own secrets");
    }
    let sets = args.generation.set.clone();
    let edit = move |v: &mut serde_json::Value| -> Result<(), InputError> {
        for s in &sets {
            payload::set_path(v, s).map_err(|e| InputError::new(format!("--set {s}: {e}")))?;
        }
        Ok(())
    };
    let has_sets = !args.generation.set.is_empty();
    let mut bodies = Bodies::new(s.seed);
    let mut seq = 0;
    // The first event is made before anything is sent: a bad --set fails the run, not event 7.
    let first = bodies.jobs(&targets, s.start, has_sets.then_some(&edit as _), &mut seq)?;

    if args.dry_run {
        let mut stdout = std::io::BufWriter::new(std::io::stdout().lock());
        let mut next = Some(first);
        for _ in 1..=args.count {
            let jobs = match next.take() {
                Some(f) => f,
                None => bodies.jobs(&targets, s.start, has_sets.then_some(&edit as _), &mut seq)?,
            };
            for (job, webhook) in jobs {
                writeln!(stdout, "# webhook {webhook}")?;
                print_request(&mut stdout, &job.target.url.to_string(), &job)?;
            }
        }
        stdout.flush()?;
        return Ok(Exit::Ok);
    }

    let CliRun {
        session,
        reporting,
        live,
    } = args.delivery.start_run(
        &s.client,
        format!("trigger {} (fan-out)", args.event),
        s.seed,
    )?;
    let webhook_of: Arc<std::sync::Mutex<HashMap<String, String>>> = Arc::default();
    let mut done_rx = crate::cmd::common::ended_events(&session.recorder);
    let names = webhook_of.clone();
    let lines = live.clone();
    let printer = tokio::spawn(async move {
        let mut gone = HashSet::new();
        while let Some((t, last)) = done_rx.recv().await {
            let webhook = names
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .get(&t.delivery_id)
                .cloned()
                .unwrap_or_default();
            if t.state == TerminalState::Gone {
                gone.insert(webhook.clone());
            }
            lines.line(format!(
                "{}  webhook {webhook}",
                delivery_line(&t, last.as_ref())
            ))?;
        }
        Ok::<_, std::io::Error>(gone)
    });

    let count = args.count;
    let source = move |tx: mpsc::Sender<Job>, cancel: CancellationToken| async move {
        let mut next = Some(first);
        for _ in 1..=count {
            let jobs = match next.take() {
                Some(f) => f,
                None => bodies.jobs(&targets, s.start, has_sets.then_some(&edit as _), &mut seq)?,
            };
            for (job, webhook) in jobs {
                webhook_of
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .insert(job.delivery_id.clone(), webhook);
                tokio::select! {
                    _ = cancel.cancelled() => return Ok(()),
                    sent = tx.send(job) => if sent.is_err() { return Ok(()) },
                }
            }
        }
        Ok(())
    };
    let config = DriveConfig {
        concurrency: s.concurrency,
        retry: s.retry,
        seed: s.seed,
        gate: Some(subs.gate()),
        faults: s.faults,
        ..DriveConfig::default()
    };
    let ended = session.run(config, source).await;
    live.finish();
    let gone = printer.await??;
    let Ended {
        summary,
        interrupted,
    } = ended?;
    archive_gone(&store, &gone);
    eprint!("\n{}", summary.render());
    // trigger's one expectation, recorded like a scenario's so reports and logs show it.
    let judgement = crate::expect::delivered_all(&summary, "deliveries");
    reporting.finish(std::slice::from_ref(&judgement), interrupted, None)?;
    Ok(Exit::of_run(interrupted, judgement.passed))
}

/// 410 Gone means "never call again": the webhook is archived, as a real sender
/// disables it.
pub fn archive_gone(store: &Store, gone: &HashSet<String>) {
    for id in gone.iter().filter(|id| !id.is_empty()) {
        let now = chrono::Utc::now().timestamp();
        match store.update(|d| Ok(d.set_archived(id, true, now)?)) {
            Ok(_) => eprintln!(
                "webhook {id} answered 410 Gone: archived (`cakemock webhooks unarchive {id}` resumes it)"
            ),
            Err(e) => eprintln!("webhook {id} answered 410 Gone but could not be archived: {e:#}"),
        }
    }
}
