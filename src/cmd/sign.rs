//! `cakemock sign`: prints the signature headers for a body, one `Name: value` a line,
//! signing the exact bytes read from FILE or stdin. Also holds the body and secret
//! readers `verify` shares.

use std::io::{IsTerminal, Read};
use std::path::{Path, PathBuf};

use anyhow::Result;

use crate::cmd::common::{SECRET_ENV, SigningArgs, out};
use crate::events::Flavor;
use crate::sign::{Scheme, Secret};
use crate::{Exit, InputError};

pub const EXAMPLES: &str = "\
Examples:
  cakemock sign --secret S body.json
  printf '%s' '{\"event\":\"email.sent\"}' | cakemock sign --flavor api -
  cakemock sign --signature standard --secret whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw \\
      --id msg_1 --timestamp 1710498600 body.json";

/// Arguments of `cakemock sign`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub signing: SigningArgs,
    /// Wire flavor; picks the default signature scheme (docs: cakemail-hex, api: cakemail-base64).
    #[arg(long, value_enum, default_value = "docs", value_name = "FLAVOR")]
    pub flavor: Flavor,
    /// Message id signed by --signature standard (webhook-id) [default: a fresh msg_ id].
    #[arg(long, value_name = "ID")]
    pub id: Option<String>,
    /// Unix seconds signed by --signature standard (webhook-timestamp) [default: now].
    #[arg(long, value_name = "UNIX", value_parser = clap::value_parser!(i64).range(0..))]
    pub timestamp: Option<i64>,
    /// The body to sign, byte for byte; `-` or nothing reads stdin.
    #[arg(value_name = "FILE")]
    pub file: Option<PathBuf>,
}

pub async fn exec(args: Args) -> Result<Exit> {
    let secret = require_secret(&args.signing)?;
    let signer = args.signing.signer(args.flavor, secret)?;
    if signer.scheme() != Scheme::Standard && (args.id.is_some() || args.timestamp.is_some()) {
        eprintln!(
            "note: --id and --timestamp are signed by --signature standard only; {} ignores them",
            signer.scheme()
        );
    }
    let id = match args.id {
        Some(id) => check_id(id)?,
        None => format!("msg_{}", uuid::Uuid::new_v4().simple()),
    };
    let timestamp = args
        .timestamp
        .unwrap_or_else(|| chrono::Utc::now().timestamp());
    let body = read_body(args.file.as_deref())?;
    for note in body_notes(&body) {
        eprintln!("note: {note}");
    }
    for (name, value) in signer.sign(&id, timestamp, &body) {
        out(format!("{name}: {value}"))?;
    }
    Ok(Exit::Ok)
}

/// The secret from `--secret` or the environment, or an error naming all three sources.
pub(crate) fn require_secret(signing: &SigningArgs) -> Result<Secret, InputError> {
    let [first, second] = SECRET_ENV;
    match signing.secret() {
        Some(s) if s.expose().is_empty() => Err(InputError::new(
            "--secret is empty (an unset shell variable?): pass the webhook's secret",
        )),
        Some(s) => Ok(s),
        None => Err(InputError::new(format!(
            "no secret: pass --secret S, or set {first} (or {second}, the variable the guide's \
             receivers read) to the webhook's secret"
        ))),
    }
}

/// The body as bytes, exactly as stored: from `path`, or stdin for `-` or no path.
pub(crate) fn read_body(path: Option<&Path>) -> Result<Vec<u8>> {
    match path {
        Some(p) if p != Path::new("-") => std::fs::read(p).map_err(|e| {
            let what = match e.kind() {
                std::io::ErrorKind::NotFound => "no such file".to_string(),
                std::io::ErrorKind::IsADirectory => "it is a directory".to_string(),
                _ => e.to_string(),
            };
            InputError::new(format!(
                "cannot read the body file {}: {what}; pass a file, or - for stdin",
                p.display()
            ))
            .into()
        }),
        _ => {
            let mut stdin = std::io::stdin().lock();
            if stdin.is_terminal() {
                eprintln!("reading the body from stdin (end it with Ctrl-D)...");
            }
            let mut body = Vec::new();
            stdin
                .read_to_end(&mut body)
                .map_err(|e| anyhow::anyhow!("cannot read the body from stdin: {e}"))?;
            Ok(body)
        }
    }
}

/// Warnings about bytes that are signed but that receivers often do not see as sent.
fn body_notes(body: &[u8]) -> Vec<&'static str> {
    let mut notes = Vec::new();
    if body.ends_with(b"\n") {
        notes.push(
            "the body ends with a newline, which is signed too; send exactly these bytes \
             (printf '%s' writes a body without one)",
        );
    }
    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(body)
        && serde_json::to_vec(&v).is_ok_and(|c| c != body.trim_ascii_end())
    {
        notes.push(
            "the body is not compact JSON; a receiver that verifies JSON.stringify(JSON.parse(body)), \
             as the guide's does, will compute a different signature",
        );
    }
    notes
}

/// A `--id` fit to travel in the `webhook-id` header.
fn check_id(id: String) -> Result<String, InputError> {
    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(InputError::new(format!(
            "--id {id:?} must be non-empty visible ASCII without spaces, e.g. msg_2dSZbNbCPzFjbEBnhLpFpvRbmDt"
        )));
    }
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notes_flag_a_trailing_newline_and_pretty_json_only() {
        assert!(body_notes(br#"{"a":1}"#).is_empty());
        assert!(body_notes(b"not json").is_empty());
        let n = body_notes(b"{\"a\":1}\n");
        assert_eq!(n.len(), 1, "{n:?}");
        assert!(n[0].contains("newline"));
        let n = body_notes(b"{ \"a\": 1 }");
        assert_eq!(n.len(), 1, "{n:?}");
        assert!(n[0].contains("compact"));
    }

    #[test]
    fn ids_must_fit_a_header() {
        assert!(check_id("msg_1".into()).is_ok());
        assert!(check_id(String::new()).is_err());
        assert!(check_id("msg 1".into()).is_err());
        assert!(check_id("msg_é".into()).is_err());
    }
}
