//! `cakemock run SCENARIO`: the whole job. Load and validate the scenario, resolve its
//! target, secret and delivery settings against the flags, play it in scenario time
//! into the one delivery loop, then judge the expectations and set the exit code.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Result;
use clap::Args as ClapArgs;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::clock::Speed;
use crate::cmd::common::delivery_line;
use crate::cmd::common::{self, CliRun, DeliveryArgs};
use crate::cmd::trigger::print_request;
use crate::drive::{Job, Target};
use crate::events::Flavor;
use crate::expect;
use crate::pace::Pacer;
use crate::play::{self, PlayConfig};
use crate::record::TerminalState;
use crate::runner::{self, RunOptions};
use crate::scenario::{self, LoadOptions, Scenario, SecretSource};
use crate::sign::Secret;
use crate::{Exit, InputError};

pub const EXAMPLES: &str = "\
Examples:
  cakemock run scenarios/quickstart.yaml
  cakemock run scenarios/campaign-lifecycle.yaml --target http://localhost:3000/webhooks/cakemail --speed 60
  cakemock run scenarios/bounce-storm.yaml --speed max --seed 42 --set vars.campaign_id=791
  cakemock run scenarios/quickstart.yaml --fault bad_signature:p=5% --fault duplicate:copies=3
  cakemock run scenarios/ci-contract.yaml --target http://localhost:3000/webhooks/cakemail --speed max
  cakemock run scenarios/quickstart.yaml --dry-run";

/// How many delivered events are printed one per line before only failures are.
const SHOWN: u64 = 20;

/// Arguments of `cakemock run`.
#[derive(Debug, ClapArgs)]
pub struct Args {
    /// The scenario file (YAML; `cakemock schema` prints its JSON Schema).
    #[arg(value_name = "SCENARIO")]
    pub scenario: PathBuf,
    /// How fast scenario time runs: 1 = real time, 60 = an hour a minute, max = no
    /// waits (retry delays then run at a thousandth).
    #[arg(long, value_name = "N|max", default_value = "1")]
    pub speed: Speed,
    /// Print the exact requests (headers and bodies) instead of sending them.
    #[arg(long)]
    pub dry_run: bool,
    /// Print every delivery (by default: the first 20, then failures only).
    #[arg(long, short)]
    pub verbose: bool,
    /// Play the file in this flavor instead of its own `flavor:` (its event names are then checked against it).
    #[arg(long, value_enum)]
    pub flavor: Option<Flavor>,
    /// Refuse scenarios that would generate more events than this (a guard against typos like contacts: 10000000).
    #[arg(long, value_name = "N", default_value_t = scenario::MAX_EVENTS)]
    pub max_events: u64,
    /// Seed of every random choice [default: the scenario's `seed:`, else random, printed].
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,
    /// Scenario time zero, RFC 3339 [default: now].
    #[arg(long, value_name = "RFC3339")]
    pub start: Option<String>,
    /// Override a var, e.g. --set vars.campaign_id=791 (repeatable; unknown paths are errors).
    #[arg(long = "set", value_name = "vars.NAME=VALUE")]
    pub set: Vec<String>,
    #[command(flatten)]
    pub delivery: DeliveryArgs,
}

pub async fn exec(args: Args) -> Result<Exit> {
    args.delivery.check_reports(args.dry_run)?;
    let options = LoadOptions {
        sets: args.set.clone(),
        flavor: args.flavor,
        max_events: args.max_events,
    };
    let scenario = Arc::new(scenario::load_file_with(&args.scenario, &options)?);
    let generation = common::GenerationArgs {
        flavor: Some(scenario.flavor),
        seed: args.seed.or(scenario.seed),
        start: args.start.clone(),
        set: Vec::new(),
    };
    let seed = generation.seed();
    let start = generation.start()?;
    let client = args
        .delivery
        .client_config(scenario.delivery.timeout.unwrap_or(Duration::from_secs(5)))?;
    // Flags first, then the file's `delivery:`, then the defaults (retry `cakemail`, 8 in flight).
    let options = RunOptions {
        retry: args
            .delivery
            .retry
            .is_some()
            .then(|| args.delivery.retry("cakemail"))
            .transpose()?,
        concurrency: Some(
            args.delivery
                .concurrency(scenario.delivery.concurrency.unwrap_or(8))?,
        ),
        speed: args.speed,
        faults: args.delivery.faults(scenario.flavor)?,
        ..RunOptions::default()
    };
    let drive = runner::drive_config(&scenario, &options, seed);

    let file_target = scenario.target.as_ref();
    let url = match (
        &args.delivery.target,
        file_target.and_then(|t| t.url.as_ref()),
    ) {
        (Some(u), _) | (None, Some(u)) => Some(common::parse_target(u)?),
        (None, None) => None,
    };
    let secret = resolve_secret(&args, &scenario, url.is_some() && !args.dry_run)?;
    // --signature / --signature-header first, then the file's target, then the flavor's scheme.
    let mut signing = args.delivery.signing.clone();
    if let Some(t) = file_target {
        signing.signature = signing.signature.or(t.signature);
        signing.signature_header = signing
            .signature_header
            .or_else(|| t.signature_header.clone());
    }
    let scheme = signing.scheme(scenario.flavor);
    let secret = secret.unwrap_or_else(|| Secret::generate(scheme));
    let signer = signing.signer(scenario.flavor, secret.clone())?;

    if args.dry_run {
        let shown = url.as_ref().map_or_else(
            || "http://127.0.0.1:PORT/webhooks/cakemail".to_string(),
            |u| u.to_string(),
        );
        let target = Arc::new(Target {
            url: url.unwrap_or_default(),
            signer,
        });
        return dry_run(scenario, seed, start, target, shown).await;
    }

    // No target anywhere: the stored webhooks subscribed to each event get it, each
    // signed with its own secret and paced by its rate limit; else the embedded receiver.
    let mut drive = drive;
    let route = match &url {
        None => fan_out(&signing, scenario.flavor, &mut drive)?,
        Some(_) => None,
    };
    let (url, receiver) = match route {
        Some(_) => (http::Uri::from_static("http://127.0.0.1/"), None),
        None => common::target_or_embedded(url, secret).await?,
    };
    let target = Arc::new(Target { url, signer });
    let name = scenario
        .name
        .clone()
        .unwrap_or_else(|| scenario.origin.clone());
    let CliRun {
        session,
        reporting,
        live,
    } = args
        .delivery
        .start_run(&client, format!("run {}", scenario.origin), seed)?;
    let mut ended = common::ended_events(&session.recorder);
    let printer = {
        let (live, verbose) = (live.clone(), args.verbose);
        tokio::spawn(async move {
            let mut shown = 0u64;
            while let Some((t, last)) = ended.recv().await {
                let failed = t.state != TerminalState::Delivered;
                if verbose || failed || shown < SHOWN {
                    shown += 1;
                    live.line(delivery_line(&t, last.as_ref()))?;
                    if shown == SHOWN && !verbose {
                        live.line("... (from here on, failures only; -v shows every delivery)")?;
                    }
                }
            }
            Ok::<(), std::io::Error>(())
        })
    };
    eprintln!(
        "running {name}: speed {}, seed {seed}",
        show_speed(args.speed)
    );

    let report = runner::run_session(scenario, target, session, drive, start, route).await;
    live.finish();
    printer.await??;
    if let Some(r) = receiver {
        r.shutdown().await;
    }
    let report = report?;
    live.line(format!("\n{}", report.summary.render()))?;
    live.line(expect::render(&report.judgements))?;
    reporting.finish(&report.judgements, report.interrupted, Some(name))?;
    Ok(Exit::of_run(report.interrupted, report.passed()))
}

/// The secret: `--secret`, else the file's `secret:` / `secret_env:`, else
/// `CAKEMOCK_SECRET` / `WEBHOOK_SECRET`. `None` when nothing gives one, which is an
/// error only for a real target.
fn resolve_secret(
    args: &Args,
    scenario: &Scenario,
    required: bool,
) -> Result<Option<Secret>, InputError> {
    if let Some(s) = &args.delivery.signing.secret {
        return Ok(Some(Secret::new(s.clone())));
    }
    match scenario.target.as_ref().and_then(|t| t.secret.as_ref()) {
        Some(SecretSource::Literal(s)) => return Ok(Some(s.clone())),
        Some(SecretSource::Env(name)) => match std::env::var(name) {
            Ok(v) if !v.is_empty() => return Ok(Some(Secret::new(v))),
            _ if required => {
                return Err(InputError::new(format!(
                    "{}: target.secret_env names {name}, which is not set; export {name}, or pass --secret",
                    scenario.origin
                )));
            }
            _ => {}
        },
        None => {}
    }
    let from_env = args.delivery.signing.secret();
    if from_env.is_none() && required {
        let url = args
            .delivery
            .target
            .clone()
            .unwrap_or_else(|| "the scenario's target".into());
        return Err(common::missing_secret(&url));
    }
    Ok(from_env)
}

/// `--dry-run`: plays the scenario at full speed and prints each request instead of sending it.
async fn dry_run(
    scenario: Arc<Scenario>,
    seed: u64,
    start: chrono::DateTime<chrono::Utc>,
    target: Arc<Target>,
    url: String,
) -> Result<Exit> {
    let (tx, mut rx) = mpsc::channel::<Job>(1024);
    let config = PlayConfig {
        route: None,
        seed,
        start,
        target,
        pacer: Pacer::new(Speed::Max),
    };
    let player = tokio::spawn(play::play(scenario, config, tx, CancellationToken::new()));
    let mut printed = 0u64;
    // Buffered: a million-contact dry run is a gigabyte of text.
    let mut stdout = std::io::BufWriter::new(std::io::stdout());
    while let Some(job) = rx.recv().await {
        print_request(&mut stdout, &url, &job)?;
        printed += 1;
    }
    std::io::Write::flush(&mut stdout)?;
    player.await??;
    eprintln!("dry run: {printed} requests, seed {seed}");
    Ok(Exit::Ok)
}

/// The stored webhooks as a route, when any is active: each event becomes one job per
/// subscribed webhook of the scenario's flavor, and the webhooks' rate limits gate the
/// loop. `None` when the store has no active webhook.
fn fan_out(
    signing: &common::SigningArgs,
    flavor: Flavor,
    drive: &mut crate::drive::DriveConfig,
) -> Result<Option<play::Route>> {
    let store = crate::store::Store::from_env()?;
    let subs = crate::store::Subscriptions::load_signed(
        &store,
        signing.signature,
        signing.signature_header.clone(),
    )?;
    if subs.is_empty() {
        return Ok(None);
    }
    eprintln!(
        "no target: delivering to the active webhooks in {}",
        store.path().display()
    );
    drive.gate = Some(subs.gate());
    let subs = Arc::new(subs);
    Ok(Some(Arc::new(move |job: Job| {
        subs.retarget(&job, flavor)
            .into_iter()
            .map(|(j, _)| j)
            .collect()
    })))
}

fn show_speed(speed: Speed) -> String {
    match speed {
        Speed::Max => "max".into(),
        Speed::Factor(f) => format!("{f}x"),
    }
}
