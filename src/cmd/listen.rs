//! `cakemock listen`: runs the embedded receiver in the foreground. Prints its URL and
//! secret, then one line per delivery (time, event, delivery id, attempt, verdict,
//! reply) with the event's data underneath, until Ctrl-C (exit 130).

use std::io::IsTerminal;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result};
use tokio::sync::broadcast::error::RecvError;

use crate::clock::parse_duration;
use crate::cmd::common::{SECRET_ENV, SigningArgs, out};
use crate::receiver::{Received, Receiver, ReceiverConfig, Script, Stray, Verdict};
use crate::sign::{Scheme, Secret, Signer};
use crate::{Exit, InputError};

/// The port `listen` uses unless told otherwise: "CAKE" on a phone keypad.
pub const DEFAULT_PORT: u16 = 2253;

pub const EXAMPLES: &str = "\
Examples:
  cakemock listen                                   # http://127.0.0.1:2253/webhooks/cakemail, secret generated
  cakemock listen --secret \"$WEBHOOK_SECRET\" --verify-json
  cakemock listen --respond 503x2,200               # every event: 503, 503, then 200
  cakemock listen --respond '429:retry-after=2,200' --log inbox.jsonl
  cakemock listen --respond delay=300ms --port 0    # any free port
  cakemock listen --respond reset,200 --body        # reset once per event; print whole bodies";

/// Arguments of `cakemock listen`. The shared signing flags are worded for senders;
/// their help is reworded here for a receiver.
#[derive(Debug, clap::Args)]
#[command(
    mut_arg("secret", |a| a.help(
        "The secret to verify with [env: CAKEMOCK_SECRET, then WEBHOOK_SECRET; default: generated and printed]"
    )),
    mut_arg("signature", |a| a.help(
        "Accept this scheme only [default: any, judged by the signature header present]"
    )),
    mut_arg("signature_header", |a| a.help(
        "Read the signature from this header instead of the scheme's own"
    )),
)]
pub struct Args {
    /// Address to listen on (loopback by default; anything else is reachable by others).
    #[arg(long, value_name = "ADDR", default_value_t = IpAddr::V4(Ipv4Addr::LOCALHOST))]
    pub bind: IpAddr,
    /// Port to listen on (0 = any free port, printed at start).
    #[arg(long, value_name = "N", default_value_t = DEFAULT_PORT)]
    pub port: u16,
    /// The path deliveries are POSTed to; other paths get 404.
    #[arg(long, value_name = "P", default_value = "/webhooks/cakemail")]
    pub path: String,
    #[command(flatten)]
    pub signing: SigningArgs,
    /// How to answer, in order, per delivery: ITEM[,ITEM...], the last repeating.
    ///
    /// ITEM is STATUS[xN][:retry-after=SECS|HTTP-date][:delay=DUR], delay=DUR (200 after
    /// DUR) or reset[xN][:delay=DUR] (close the connection with a TCP RST). Positions are
    /// counted per delivery (X-Cakemail-Delivery, else webhook-id), so with 503x2,200
    /// every event gets 503, 503, then 200; requests with neither header share one
    /// counter. Deliveries refused with 401/400/413 do not advance the script.
    #[arg(long, value_name = "SCRIPT", default_value = "200")]
    pub respond: Script,
    /// Verify over JSON.stringify(JSON.parse(body)), as the guide's Node receiver does
    /// (a body that is not JSON gets 400, as with express.json).
    #[arg(long)]
    pub verify_json: bool,
    /// Answer deliveries that fail verification by the script too, instead of 401.
    #[arg(long)]
    pub accept_invalid: bool,
    /// Append every delivery to FILE as JSON Lines (flushed per line).
    #[arg(long, value_name = "FILE")]
    pub log: Option<PathBuf>,
    /// Standard Webhooks timestamp tolerance.
    #[arg(long, value_name = "DUR", default_value = "5m", value_parser = parse_duration)]
    pub tolerance: Duration,
    /// Print each delivery's whole body, pretty, instead of a one-line data summary.
    #[arg(long)]
    pub body: bool,
}

pub async fn exec(args: Args) -> Result<Exit> {
    if !args.path.starts_with('/') {
        return Err(InputError::new(format!(
            "--path {:?} must start with / (e.g. /webhooks/cakemail)",
            args.path
        ))
        .into());
    }
    let (secret, origin) = secret_of(&args.signing);
    check_secret(&args.signing, &secret)?;
    // Installed before the banner, so a Ctrl-C right after it is not the default kill.
    let interrupted = interrupted().context("cannot catch Ctrl-C")?;

    let addr = SocketAddr::new(args.bind, args.port);
    let listener = crate::cmd::common::bind(addr).await?;
    let config = ReceiverConfig {
        path: args.path.clone(),
        scheme: args.signing.signature,
        signature_header: args.signing.signature_header.clone(),
        respond: args.respond.clone(),
        verify_json: args.verify_json,
        log: args.log.clone(),
        tolerance: args.tolerance,
        accept_invalid: args.accept_invalid,
        ..ReceiverConfig::new(secret.clone())
    };
    let rx = Receiver::start(listener, config)
        .await
        .context("cannot start the receiver")?;
    let style = Style::detect();
    banner(&args, &rx, &secret, origin.as_deref(), &style)?;

    let mut live = rx.subscribe();
    let mut strays = rx.subscribe_strays();
    let (mut verified, mut failed) = (0u64, 0u64);
    tokio::pin!(interrupted);
    loop {
        tokio::select! {
            _ = &mut interrupted => break,
            got = live.recv() => match got {
                Ok(r) => {
                    if r.verdict.is_verified() { verified += 1 } else { failed += 1 }
                    out(delivery_line(&r, &style))?;
                    out(data_lines(&r, args.body, &style))?;
                }
                Err(RecvError::Lagged(n)) => eprintln!("({n} deliveries not shown: output too slow)"),
                Err(RecvError::Closed) => break,
            },
            stray = strays.recv() => match stray {
                Ok(s) => out(stray_line(&s, &args.path, &style))?,
                Err(RecvError::Lagged(_)) => {}
                Err(RecvError::Closed) => break,
            },
        }
    }
    rx.shutdown().await;
    eprintln!(
        "\nstopped: {} deliveries ({verified} verified, {failed} failed verification)",
        verified + failed
    );
    Ok(Exit::Interrupted)
}

/// The secret and where it came from (`None`: generated now).
fn secret_of(signing: &SigningArgs) -> (Secret, Option<String>) {
    if let Some(s) = signing.secret() {
        let origin = if signing.secret.is_some() {
            "--secret".to_string()
        } else {
            SECRET_ENV
                .iter()
                .find(|k| std::env::var(k).is_ok_and(|v| !v.is_empty()))
                .map_or_else(|| "the environment".into(), |k| k.to_string())
        };
        return (s, Some(origin));
    }
    // A whsec_ secret keys every scheme, so it suits a receiver that accepts any.
    (
        Secret::generate(signing.signature.unwrap_or(Scheme::Standard)),
        None,
    )
}

/// Refuses a secret or header the asked scheme cannot use, up front.
fn check_secret(signing: &SigningArgs, secret: &Secret) -> Result<()> {
    let scheme = signing.signature.unwrap_or(Scheme::CakemailHex);
    Signer::new(scheme, secret.clone(), signing.signature_header.clone())
        .context("the receiver cannot verify with this configuration")?;
    if signing.signature.is_none() && Signer::new(Scheme::Standard, secret.clone(), None).is_err() {
        eprintln!(
            "note: this secret is not base64 (whsec_...), so deliveries signed with --signature standard will fail verification"
        );
    }
    Ok(())
}

fn banner(
    args: &Args,
    rx: &Receiver,
    secret: &Secret,
    origin: Option<&str>,
    style: &Style,
) -> Result<()> {
    out(format!(
        "cakemock listen: receiving deliveries at {}",
        style.bold(rx.url())
    ))?;
    match origin {
        Some(o) => out(format!("  secret     from {o} (not shown)"))?,
        None => out(format!(
            "  secret     {}  (generated for this run; give it to the sender: --secret {})",
            style.bold(secret.expose()),
            secret.expose()
        ))?,
    }
    let header = args.signing.signature_header.as_deref();
    let verifying = match (args.signing.signature, header) {
        (Some(s), h) => format!("{s} in {}", h.unwrap_or(s.signature_header())),
        (None, Some(h)) => format!("any scheme, in {h}"),
        (None, None) => {
            "any scheme (X-Cakemail-Signature, x-signature or webhook-signature)".into()
        }
    };
    let json = if args.verify_json {
        ", over JSON.stringify(JSON.parse(body))"
    } else {
        ""
    };
    let invalid = if args.accept_invalid {
        "answered by the script anyway"
    } else {
        "refused with 401"
    };
    out(format!(
        "  verifying  {verifying}{json}; invalid signatures {invalid}"
    ))?;
    out(format!(
        "  answering  {} (positions counted per delivery id)",
        args.respond
    ))?;
    if let Some(log) = &args.log {
        out(format!("  log        {}", log.display()))?;
    }
    if !args.bind.is_loopback() {
        eprintln!(
            "warning: listening on {}, reachable from other machines",
            args.bind
        );
    }
    out("Ctrl-C to stop.")?;
    Ok(())
}

/// `12:03:04.123  email.opened  d_1a2b3c  #1  ✓ cakemail-hex  → 200`
fn delivery_line(r: &Received, style: &Style) -> String {
    let time = r.at.with_timezone(&chrono::Local).format("%H:%M:%S%.3f");
    let event = r.event.as_deref().unwrap_or("(no event)");
    let id: String = r
        .delivery_id
        .as_deref()
        .unwrap_or("-")
        .chars()
        .take(8)
        .collect();
    let attempt = r.attempt.map_or_else(|| "#?".into(), |a| format!("#{a}"));
    let verdict = match &r.verdict {
        Verdict::Verified { scheme } => style.green(&format!("✓ {scheme}")),
        Verdict::Failed { reason, .. } => style.red(&format!("✗ {reason}")),
    };
    let reply = match r.reply.as_bytes().first() {
        Some(b'2') => style.green(&r.reply),
        Some(b'3' | b'4') => style.yellow(&r.reply),
        _ => style.red(&r.reply),
    };
    format!(
        "{}  {}  {id:<8}  {attempt:<3} {verdict}  → {reply}",
        style.dim(&time.to_string()),
        style.bold(&format!("{event:<20}"))
    )
}

/// The event's data as `key=value` pairs on one line, or with `--body` the whole body
/// pretty-printed; a body that is not JSON is shown as text.
fn data_lines(r: &Received, whole: bool, style: &Style) -> String {
    const WIDTH: usize = 160;
    let indent = "    ";
    let parsed = serde_json::from_slice::<serde_json::Value>(&r.body).ok();
    let text = match (&parsed, whole) {
        (Some(v), true) => serde_json::to_string_pretty(v)
            .unwrap_or_default()
            .replace('\n', &format!("\n{indent}")),
        (Some(v), false) => match v.get("data").and_then(|d| d.as_object()) {
            Some(data) => {
                let pairs: Vec<String> = data
                    .iter()
                    .map(|(k, v)| match v {
                        serde_json::Value::String(s) if !s.contains(char::is_whitespace) => {
                            format!("{k}={s}")
                        }
                        v => format!("{k}={v}"),
                    })
                    .collect();
                truncate(&pairs.join("  "), WIDTH)
            }
            None => truncate(&v.to_string(), WIDTH),
        },
        (None, true) => String::from_utf8_lossy(&r.body).into_owned(),
        (None, false) => truncate(&String::from_utf8_lossy(&r.body), WIDTH),
    };
    style.dim(&format!("{indent}{text}"))
}

fn stray_line(s: &Stray, path: &str, style: &Style) -> String {
    let time = s.at.with_timezone(&chrono::Local).format("%H:%M:%S%.3f");
    format!(
        "{}  {} {} {}  (not a delivery: deliveries are POSTed to {path})",
        style.dim(&time.to_string()),
        style.yellow(&s.status.to_string()),
        s.method,
        s.path
    )
}

fn truncate(s: &str, width: usize) -> String {
    let s = s.replace(['\n', '\r'], " ");
    match s.char_indices().nth(width) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s,
    }
}

/// ANSI colors only when stdout is a terminal and `NO_COLOR` is unset.
struct Style {
    color: bool,
}

impl Style {
    fn detect() -> Style {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        Style {
            color: std::io::stdout().is_terminal() && !no_color,
        }
    }

    fn paint(&self, code: &str, s: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }

    fn bold(&self, s: &str) -> String {
        self.paint("1", s)
    }
    fn dim(&self, s: &str) -> String {
        self.paint("2", s)
    }
    fn green(&self, s: &str) -> String {
        self.paint("32", s)
    }
    fn yellow(&self, s: &str) -> String {
        self.paint("33", s)
    }
    fn red(&self, s: &str) -> String {
        self.paint("31", s)
    }
}

/// Resolves on Ctrl-C. On Unix the handler is installed when this is called, not when
/// first polled.
#[cfg(unix)]
fn interrupted() -> std::io::Result<impl std::future::Future<Output = ()>> {
    let mut sig = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())?;
    Ok(async move {
        sig.recv().await;
    })
}

#[cfg(not(unix))]
fn interrupted() -> std::io::Result<impl std::future::Future<Output = ()>> {
    Ok(async {
        let _ = tokio::signal::ctrl_c().await;
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn received(verdict: Verdict, body: &str) -> Received {
        Received {
            seq: 1,
            at: chrono::Utc::now(),
            method: "POST".into(),
            path: "/webhooks/cakemail".into(),
            version: "HTTP/1.1".into(),
            headers: vec![],
            body: bytes::Bytes::from(body.to_string()),
            event: Some("email.opened".into()),
            delivery_id: Some("0123456789abcdef".into()),
            attempt: Some(2),
            verdict,
            reply: "503".into(),
        }
    }

    #[test]
    fn a_delivery_prints_on_one_line_with_its_data_below() {
        let plain = Style { color: false };
        let r = received(
            Verdict::Verified {
                scheme: Scheme::CakemailHex,
            },
            r#"{"event":"email.opened","data":{"campaign_id":790,"email":"a@b.c","user_agent":"Mozilla 5"}}"#,
        );
        let line = delivery_line(&r, &plain);
        for part in ["email.opened", "01234567 ", "#2", "✓ cakemail-hex", "→ 503"] {
            assert!(line.contains(part), "{part:?} in {line}");
        }
        assert!(
            !line.contains("89abcdef"),
            "the delivery id is shortened: {line}"
        );
        assert_eq!(
            data_lines(&r, false, &plain),
            r#"    campaign_id=790  email=a@b.c  user_agent="Mozilla 5""#
        );
        assert!(data_lines(&r, true, &plain).contains("\n      \"data\": {"));
        let bad = received(
            Verdict::Failed {
                scheme: None,
                reason: "no signature header".into(),
            },
            "not json",
        );
        assert!(delivery_line(&bad, &plain).contains("✗ no signature header"));
        assert_eq!(data_lines(&bad, false, &plain), "    not json");
    }

    #[test]
    fn long_data_is_cut_with_an_ellipsis() {
        assert_eq!(truncate("abcdef", 3), "abc…");
        assert_eq!(truncate("a\nb", 10), "a b");
    }
}
