//! `cakemock trigger EVENT`: generate one (or `--count N`) realistic signed events,
//! deliver them through the delivery loop, print one line per delivery. With no
//! `--target`, the stored webhooks subscribed to the event get it (`webhooks::fanout`);
//! with none, the embedded receiver is started and reports what it received.

use std::collections::HashMap;
use std::sync::Arc;

use anyhow::Result;
use clap::Args as ClapArgs;
use tokio::sync::{broadcast, mpsc};
use tokio_util::sync::CancellationToken;

use crate::cmd::common::delivery_line;
use crate::cmd::common::{self, CliRun, DeliveryArgs, GenerationArgs};
use crate::cmd::webhooks;
use crate::drive::{self, DriveConfig, Job, Target};
use crate::events;
use crate::payload::{self, Generator};
use crate::receiver::{Received, Receiver, Verdict};
use crate::record::{AttemptRecord, TerminalRecord};
use crate::report::live::Live;
use crate::session::Ended;
use crate::sign::Secret;
use crate::{Exit, InputError};
use std::time::Duration;

pub const EXAMPLES: &str = "\
Examples:
  cakemock trigger email.opened
  cakemock trigger email.bounced --target http://localhost:3000/webhooks/cakemail --secret S
  cakemock trigger Email.Clicked --flavor api --count 100 --seed 7 --retry fast
  cakemock trigger email.sent --set data.email=ana@example.com --dry-run";

/// Arguments of `cakemock trigger`.
#[derive(Debug, ClapArgs)]
pub struct Args {
    /// The event to send (`cakemock events` lists them; e.g. email.opened, or Email.Opened with --flavor api).
    #[arg(value_name = "EVENT")]
    pub event: String,
    /// Send N distinct events (a new contact each).
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub count: u64,
    /// Print the exact requests (headers and bodies) instead of sending them.
    #[arg(long)]
    pub dry_run: bool,
    #[command(flatten)]
    pub generation: GenerationArgs,
    #[command(flatten)]
    pub delivery: DeliveryArgs,
}

pub async fn exec(args: Args) -> Result<Exit> {
    args.delivery.check_reports(args.dry_run)?;
    let flavor = args.generation.flavor.unwrap_or_default();
    let kind = events::find(flavor, &args.event)?;
    let seed = args.generation.seed();
    let start = args.generation.start()?;
    let client_config = args.delivery.client_config(Duration::from_secs(5))?;
    let retry = args.delivery.retry("none")?;
    let concurrency = args.delivery.concurrency(8)?;
    let faults = crate::fault::FaultPlan::new(args.delivery.faults(flavor)?);
    let scheme = args.delivery.signing.scheme(flavor);
    let target_url = args
        .delivery
        .target
        .as_deref()
        .map(common::parse_target)
        .transpose()?;

    // Store mode: with no --target, the stored webhooks subscribed to the event get it.
    if target_url.is_none()
        && let Some(plan) = webhooks::fanout::plan(&args, kind)?
    {
        let settled = webhooks::fanout::Settled {
            seed,
            start,
            client: client_config,
            retry,
            concurrency,
            faults,
        };
        return webhooks::fanout::exec(args, plan, settled).await;
    }

    // Generation is checked before anything is sent: a bad --set fails the run, not event 7.
    let mut generator = Generator::new(flavor, seed);
    let campaign = generator.campaign();
    let sets = args.generation.set.clone();
    let make = move |g: &mut Generator| -> Result<(String, bytes::Bytes), InputError> {
        let contact = g.contact();
        if sets.is_empty() {
            let body = g.event_bytes(kind, start, &contact, &campaign);
            return Ok((g.delivery_id(), body));
        }
        let mut body = g.event(kind, start, &contact, &campaign);
        for s in &sets {
            payload::set_path(&mut body, s)
                .map_err(|e| InputError::new(format!("--set {s}: {e}")))?;
        }
        Ok((g.delivery_id(), payload::to_bytes(&body)))
    };
    let first = make(&mut generator)?;

    // The embedded receiver and dry runs can sign with a generated secret; a real target cannot.
    let secret = match (args.delivery.signing.secret(), &target_url) {
        (Some(s), _) => s,
        (None, None) => Secret::generate(scheme),
        (None, Some(_)) if args.dry_run => Secret::generate(scheme),
        (None, Some(url)) => return Err(common::missing_secret(&url.to_string()).into()),
    };
    let signer = args.delivery.signing.signer(flavor, secret.clone())?;

    if args.dry_run {
        let url = target_url.map_or_else(
            || "http://127.0.0.1:PORT/webhooks/cakemail".to_string(),
            |u| u.to_string(),
        );
        let target = Arc::new(Target {
            url: url.parse().unwrap_or_default(),
            signer,
        });
        if args.delivery.signing.secret().is_none() {
            eprintln!("note: signed with a generated secret; pass --secret to sign with yours");
        }
        let mut next = Some(first);
        let mut stdout = std::io::BufWriter::new(std::io::stdout());
        for seq in 1..=args.count {
            let (delivery_id, body) = match next.take() {
                Some(f) => f,
                None => make(&mut generator)?,
            };
            let job = Job {
                seq,
                event: kind.name.to_string(),
                delivery_id,
                body,
                target: target.clone(),
                lane: None,
                step: None,
            };
            print_request(&mut stdout, &url, &job)?;
        }
        std::io::Write::flush(&mut stdout)?;
        return Ok(Exit::Ok);
    }

    let (url, receiver) = common::target_or_embedded(target_url, secret).await?;
    let target = Arc::new(Target { url, signer });

    let CliRun {
        session,
        reporting,
        live,
    } = args
        .delivery
        .start_run(&client_config, format!("trigger {}", kind.name), seed)?;
    // One line per delivery, printed as each event ends.
    let done_rx = common::ended_events(&session.recorder);
    let feed = receiver.as_ref().map(Receiver::subscribe);
    let printer = tokio::spawn(print_deliveries(
        live.clone(),
        done_rx,
        feed,
        args.count == 1,
    ));

    let (count, event) = (args.count, kind.name.to_string());
    let source = move |tx: mpsc::Sender<Job>, cancel: CancellationToken| async move {
        let mut next = Some(first);
        for seq in 1..=count {
            let (delivery_id, body) = match next.take() {
                Some(f) => f,
                None => make(&mut generator)?,
            };
            let job = Job {
                seq,
                event: event.clone(),
                delivery_id,
                body,
                target: target.clone(),
                lane: None,
                step: None,
            };
            tokio::select! {
                _ = cancel.cancelled() => break,
                sent = tx.send(job) => if sent.is_err() { break },
            }
        }
        Ok(())
    };
    let config = DriveConfig {
        concurrency,
        retry,
        seed,
        faults,
        ..DriveConfig::default()
    };
    let ended = session.run(config, source).await;
    live.finish();
    printer.await??;
    if let Some(r) = receiver {
        r.shutdown().await;
    }
    let Ended {
        summary,
        interrupted,
    } = ended?;
    eprint!("\n{}", summary.render());
    // trigger's one expectation, recorded like a scenario's so reports and logs show it.
    let judgement = crate::expect::delivered_all(&summary, "events");
    reporting.finish(std::slice::from_ref(&judgement), interrupted, None)?;
    Ok(Exit::of_run(interrupted, judgement.passed))
}

/// Prints a line per ended event; with the embedded receiver, also its verdict on the
/// signature (and, for a single event, the body it received).
async fn print_deliveries(
    live: Live,
    mut done: mpsc::UnboundedReceiver<(TerminalRecord, Option<AttemptRecord>)>,
    mut feed: Option<broadcast::Receiver<Received>>,
    show_body: bool,
) -> std::io::Result<()> {
    let mut seen: HashMap<String, Received> = HashMap::new();
    while let Some((t, last)) = done.recv().await {
        live.line(delivery_line(&t, last.as_ref()))?;
        if let Some(feed) = feed.as_mut() {
            // The receiver publishes before it answers, so the delivery is already queued.
            while let Ok(r) = feed.try_recv() {
                if let Some(id) = r.delivery_id.clone() {
                    seen.insert(id, r);
                }
            }
            if let Some(r) = seen.remove(&t.delivery_id) {
                let verdict = match &r.verdict {
                    Verdict::Verified { scheme } => format!("signature ✓ verified ({scheme})"),
                    Verdict::Failed { reason, .. } => format!("signature ✗ {reason}"),
                };
                live.line(format!(
                    "  receiver got {} over {}: {verdict}",
                    r.path, r.version
                ))?;
                if show_body {
                    let pretty = serde_json::from_slice::<serde_json::Value>(&r.body)
                        .and_then(|v| serde_json::to_string_pretty(&v))
                        .unwrap_or_else(|_| String::from_utf8_lossy(&r.body).into_owned());
                    for line in pretty.lines() {
                        live.line(format!("  {line}"))?;
                    }
                }
            }
        }
    }
    Ok(())
}

/// `--dry-run`: the exact request, as it would go on the wire.
pub(crate) fn print_request(
    w: &mut impl std::io::Write,
    url: &str,
    job: &Job,
) -> std::io::Result<()> {
    let headers = drive::request_headers(job, 1, chrono::Utc::now().timestamp());
    writeln!(w, "POST {url}")?;
    for (name, value) in &headers {
        writeln!(w, "{name}: {}", value.to_str().unwrap_or("<binary>"))?;
    }
    writeln!(w)?;
    w.write_all(&job.body)?;
    w.write_all(b"\n\n")
}
