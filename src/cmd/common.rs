//! Flags and helpers shared by several subcommands: secrets, signature schemes,
//! output that tolerates a closed pipe.

use std::io::Write;

use anyhow::Result;
use clap::Args;

use crate::InputError;
use crate::clock::format_duration;
use crate::events::Flavor;
use crate::record::{AttemptRecord, TerminalRecord, TerminalState};
use crate::sign::{Scheme, Secret, Signer};
use std::time::Duration;

/// The environment variables a secret is read from, in order, when `--secret` is absent.
pub const SECRET_ENV: [&str; 2] = ["CAKEMOCK_SECRET", "WEBHOOK_SECRET"];

/// `--secret`, `--signature`, `--signature-header`.
#[derive(Debug, Clone, Args)]
pub struct SigningArgs {
    /// The webhook secret [env: CAKEMOCK_SECRET, then WEBHOOK_SECRET].
    #[arg(long, value_name = "S")]
    pub secret: Option<String>,
    /// Signature scheme [default: the flavor's: cakemail-hex for docs, cakemail-base64 for api].
    #[arg(long, value_enum, value_name = "SCHEME")]
    pub signature: Option<Scheme>,
    /// Send the signature in this header instead of the scheme's own.
    #[arg(long, value_name = "NAME")]
    pub signature_header: Option<String>,
}

impl SigningArgs {
    /// The secret from `--secret`, else `CAKEMOCK_SECRET`, else `WEBHOOK_SECRET`.
    pub fn secret(&self) -> Option<Secret> {
        if let Some(s) = &self.secret {
            return Some(Secret::new(s.clone()));
        }
        SECRET_ENV
            .iter()
            .find_map(|k| std::env::var(k).ok().filter(|v| !v.is_empty()))
            .map(Secret::new)
    }

    /// The scheme asked for, else the flavor's own.
    pub fn scheme(&self, flavor: Flavor) -> Scheme {
        self.signature.unwrap_or_else(|| flavor.default_scheme())
    }

    /// A signer with the given secret.
    pub fn signer(&self, flavor: Flavor, secret: Secret) -> Result<Signer, InputError> {
        Signer::new(self.scheme(flavor), secret, self.signature_header.clone())
    }
}

/// The error for a real target without a secret.
pub fn missing_secret(target: &str) -> InputError {
    InputError::new(format!(
        "no secret to sign deliveries to {target}: pass --secret S, or set CAKEMOCK_SECRET \
         (or WEBHOOK_SECRET, the variable the guide's receivers read) to the secret your receiver verifies with"
    ))
}

/// True when the error is only stdout being closed early (`cakemock ... | head`).
pub fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// Writes a line to stdout, returning the error (a broken pipe included) instead of panicking.
pub fn out(line: impl AsRef<str>) -> std::io::Result<()> {
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(line.as_ref().as_bytes())?;
    stdout.write_all(b"\n")
}

/// Where deliveries go and how they travel (shared by `trigger` and `run`).
#[derive(Debug, Clone, Args)]
pub struct DeliveryArgs {
    /// The receiver's URL. Without one, cakemock starts its embedded receiver on a
    /// loopback port and shows what it received.
    #[arg(long, env = "CAKEMOCK_TARGET", value_name = "URL")]
    pub target: Option<String>,
    #[command(flatten)]
    pub signing: SigningArgs,
    /// Retry schedule: none, fast, cakemail, svix, standard, or a list such as "0s,1s,5s".
    #[arg(long, value_name = "PRESET|LIST")]
    pub retry: Option<String>,
    /// Per-attempt timeout: connect, send and read the answer [default: 5s, or the scenario's].
    #[arg(long, value_name = "DUR")]
    pub timeout: Option<String>,
    /// Connect timeout.
    #[arg(long, value_name = "DUR", default_value = "5s")]
    pub connect_timeout: String,
    /// How many events may be in flight at once [default: 8, or the scenario's].
    #[arg(long, value_name = "N")]
    pub concurrency: Option<usize>,
    /// Speak HTTP/2 to http:// targets (h2c, prior knowledge). https:// negotiates by ALPN.
    #[arg(long)]
    pub http2: bool,
    /// Trust only the CA certificates in this PEM file (for a private or self-signed target).
    #[arg(long, value_name = "FILE")]
    pub cacert: Option<std::path::PathBuf>,
    /// Do not check the target's certificate at all.
    #[arg(long)]
    pub insecure: bool,
    /// Write every attempt and terminal state as JSON Lines to FILE.
    #[arg(long, value_name = "FILE")]
    pub log: Option<std::path::PathBuf>,
    /// Inject a fault into the run, e.g. bad_signature:p=5%, duplicate:copies=3,delay=1s,
    /// drop:events=email.opened|email.clicked (repeatable; kinds and parameters: README "Failure injection").
    #[arg(long = "fault", value_name = "KIND[:key=value,...]")]
    pub fault: Vec<String>,
    /// Write a report at the end (also when interrupted): json, junit, markdown or text;
    /// PATH `-` is stdout, which then carries nothing else (repeatable).
    #[arg(long = "report", value_name = "FORMAT=PATH")]
    pub report: Vec<crate::report::ReportSpec>,
}

/// What is generated (shared by `trigger` and `run`).
#[derive(Debug, Clone, Args)]
pub struct GenerationArgs {
    /// Wire format: docs (the webhook guide) or api (the published OpenAPI) [default: docs, or the scenario's].
    #[arg(long, value_enum)]
    pub flavor: Option<Flavor>,
    /// Seed of every random choice; the same seed and --start give the same bytes [default: random, printed].
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,
    /// Scenario time zero, RFC 3339 (e.g. 2024-03-15T10:30:00Z) [default: now].
    #[arg(long, value_name = "RFC3339")]
    pub start: Option<String>,
    /// Override a field of the generated body, e.g. --set data.email=x@y.z (repeatable).
    #[arg(long = "set", value_name = "PATH=VALUE")]
    pub set: Vec<String>,
}

impl GenerationArgs {
    pub fn seed(&self) -> u64 {
        self.seed.unwrap_or_else(rand::random)
    }

    /// `--start`, or now (whole seconds: payload timestamps carry seconds).
    pub fn start(&self) -> Result<chrono::DateTime<chrono::Utc>, InputError> {
        match &self.start {
            Some(s) => chrono::DateTime::parse_from_rfc3339(s.trim())
                .map(|t| t.with_timezone(&chrono::Utc))
                .map_err(|e| {
                    InputError::new(format!(
                        "--start {s:?}: {e}; use RFC 3339, e.g. 2024-03-15T10:30:00Z"
                    ))
                }),
            None => {
                let now = chrono::Utc::now();
                Ok(chrono::DateTime::from_timestamp(now.timestamp(), 0).unwrap_or(now))
            }
        }
    }
}

impl DeliveryArgs {
    /// The client settings, with flag names in every error; `timeout` applies when
    /// `--timeout` is absent.
    pub fn client_config(
        &self,
        timeout: std::time::Duration,
    ) -> Result<crate::deliver::ClientConfig, InputError> {
        let flag = |name: &str, e: InputError| InputError::new(format!("{name}: {e}"));
        Ok(crate::deliver::ClientConfig {
            timeout: match &self.timeout {
                Some(t) => crate::clock::parse_duration(t).map_err(|e| flag("--timeout", e))?,
                None => timeout,
            },
            connect_timeout: crate::clock::parse_duration(&self.connect_timeout)
                .map_err(|e| flag("--connect-timeout", e))?,
            http2: self.http2,
            cacert: self.cacert.clone(),
            insecure: self.insecure,
        })
    }

    /// `--retry`, or `default` when absent.
    pub fn retry(&self, default: &str) -> Result<crate::retry::RetryPolicy, InputError> {
        let text = self.retry.as_deref().unwrap_or(default);
        text.parse()
            .map_err(|e: InputError| InputError::new(format!("--retry: {e}")))
    }

    /// The `--fault` rules, event names checked against `flavor`.
    pub fn faults(&self, flavor: Flavor) -> Result<Vec<crate::scenario::FaultRule>, InputError> {
        self.fault
            .iter()
            .map(|f| crate::scenario::parse_fault(f, flavor))
            .collect()
    }

    /// `--concurrency`, else `default`; 0 is refused.
    pub fn concurrency(&self, default: usize) -> Result<usize, InputError> {
        match self.concurrency.unwrap_or(default) {
            0 => Err(InputError::new(
                "--concurrency 0: at least one event must be able to be in flight; use 1 or more",
            )),
            n => Ok(n),
        }
    }
}

/// Parses and checks a target URL: absolute http:// or https:// with a host.
pub fn parse_target(url: &str) -> Result<http::Uri, InputError> {
    let bad = |why: &str| {
        InputError::new(format!(
            "--target {url:?}: {why}; expected an absolute http:// or https:// URL such as http://localhost:3000/webhooks/cakemail"
        ))
    };
    let uri: http::Uri = url.trim().parse().map_err(|_| bad("not a valid URL"))?;
    match uri.scheme_str() {
        Some("http" | "https") => {}
        Some(other) => return Err(bad(&format!("scheme {other:?} is not supported"))),
        None => return Err(bad("the scheme is missing")),
    }
    if uri.host().is_none_or(str::is_empty) {
        return Err(bad("the host is missing"));
    }
    Ok(uri)
}

/// `✓ email.opened  delivered  200  1.3ms  1 attempt  "OK"  delivery 198f73fa-...`
pub fn delivery_line(t: &TerminalRecord, last: Option<&AttemptRecord>) -> String {
    let mark = if t.state == TerminalState::Delivered {
        "✓"
    } else {
        "✗"
    };
    let answer = match last {
        Some(AttemptRecord {
            status: Some(s), ..
        }) => s.to_string(),
        Some(AttemptRecord { error: Some(e), .. }) => e.as_str().to_string(),
        _ => "-".to_string(),
    };
    let latency = last.map_or_else(
        || "-".to_string(),
        |a| format_duration(Duration::from_micros(a.latency_us)),
    );
    let plural = if t.attempts == 1 { "" } else { "s" };
    let excerpt = last
        .and_then(|a| a.response_excerpt.as_deref().or(a.message.as_deref()))
        .map(|e| {
            let one_line: String = e.split_whitespace().collect::<Vec<_>>().join(" ");
            let cut: String = one_line.chars().take(60).collect();
            format!("  {cut:?}")
        })
        .unwrap_or_default();
    let fault = t
        .fault
        .as_deref()
        .map(|f| format!("  fault {f}"))
        .unwrap_or_default();
    format!(
        "{mark} {:<20} {:<9} {answer:<9} {latency:>8}  {} attempt{plural}{excerpt}{fault}  delivery {}",
        t.event,
        t.state.as_str(),
        t.attempts,
        t.delivery_id
    )
}

/// Resolves where deliveries go: the given URL, or else the embedded receiver on a
/// loopback port (verifying whichever scheme arrives), which the caller shuts down.
pub async fn target_or_embedded(
    url: Option<http::Uri>,
    secret: Secret,
) -> anyhow::Result<(http::Uri, Option<crate::receiver::Receiver>)> {
    use crate::receiver::{Receiver, ReceiverConfig};
    match url {
        Some(url) => Ok((url, None)),
        None => {
            let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
            let mut config = ReceiverConfig::new(secret);
            // Verdicts are read from the live feed; the inbox need not hold a whole run.
            config.keep = 1024;
            let r = Receiver::start(listener, config).await?;
            eprintln!(
                "no target: delivering to the embedded receiver at {}",
                r.url()
            );
            Ok((r.url().parse()?, Some(r)))
        }
    }
}

/// A command-line delivery run: the session with Ctrl-C armed, the reports it will
/// write, and the live output (progress on a terminal; lines routed off stdout when a
/// report takes it).
pub struct CliRun {
    pub session: crate::session::Session,
    pub reporting: crate::report::Reporting,
    pub live: crate::report::live::Live,
}

impl DeliveryArgs {
    /// Refuses report requests that cannot be met: two on stdout, or any on a dry run.
    pub fn check_reports(&self, dry_run: bool) -> Result<(), InputError> {
        crate::report::check(&self.report)?;
        if dry_run && !self.report.is_empty() {
            return Err(InputError::new(
                "--report with --dry-run: a dry run sends nothing, so there is nothing to report; drop one of them",
            ));
        }
        Ok(())
    }

    /// Starts a command-line run: log, Ctrl-C, reports and live output, as `run`,
    /// `trigger` and fan-out all need them.
    pub fn start_run(
        &self,
        client: &crate::deliver::ClientConfig,
        command: String,
        seed: u64,
    ) -> anyhow::Result<CliRun> {
        let session = crate::session::Session::start(client, self.log.as_deref(), command, seed)?;
        session.cancel_on_ctrl_c();
        let reporting =
            crate::report::Reporting::start(&self.report, self.log.as_deref(), &session);
        let live = crate::report::live::Live::new(crate::report::stdout_taken(&self.report));
        let observer = live.clone();
        session
            .recorder
            .observe(move |rec, summary| observer.observe(rec, summary));
        Ok(CliRun {
            session,
            reporting,
            live,
        })
    }
}

/// Sends every ended event, with its last attempt, into a channel: the per-delivery
/// lines of `run`, `trigger` and fan-out are printed from it.
pub fn ended_events(
    recorder: &crate::record::Recorder,
) -> tokio::sync::mpsc::UnboundedReceiver<(TerminalRecord, Option<AttemptRecord>)> {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    // Only events in flight are held: an entry leaves when its event ends.
    let mut last: std::collections::HashMap<u64, AttemptRecord> = std::collections::HashMap::new();
    recorder.observe(move |rec, _| match rec {
        crate::record::Record::Attempt(a) => {
            last.insert(a.seq, a.clone());
        }
        crate::record::Record::Terminal(t) => {
            let _ = tx.send((t.clone(), last.remove(&t.seq)));
        }
        _ => {}
    });
    rx
}

/// Binds a server's listening socket (`listen`, `serve`); a port in use says how to
/// pick another.
pub async fn bind(addr: std::net::SocketAddr) -> anyhow::Result<tokio::net::TcpListener> {
    tokio::net::TcpListener::bind(addr).await.map_err(|e| {
        if e.kind() == std::io::ErrorKind::AddrInUse {
            anyhow::anyhow!(
                "cannot listen on {addr}: the port is already in use; pick another with --port N (0 = any free port)"
            )
        } else {
            anyhow::anyhow!("cannot listen on {addr}: {e}")
        }
    })
}
