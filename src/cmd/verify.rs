//! `cakemock verify`: checks a body against signature headers given with `--header`.
//! Exit 0 with `✓ verified (scheme)`; exit 1 with the reason and, on a mismatch, what
//! is knowable about it (a trailing newline, a re-formatted body, the other encoding,
//! another scheme's signature), as found by `Signer::diagnose`.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Result;
use http::{HeaderMap, HeaderName, HeaderValue};

use crate::clock::{format_duration, parse_duration};
use crate::cmd::common::{SigningArgs, out};
use crate::cmd::sign::{read_body, require_secret};
use crate::events::Flavor;
use crate::sign::VerifyError;
use crate::{Exit, InputError};

pub const EXAMPLES: &str = "\
Examples:
  cakemock verify --secret S --header 3d718b34b282087da6bd15afc0261bb2... body.json
  cakemock verify --flavor api --secret S -H 'x-signature: PXGLNLKCCH2m...' - < body.json
  cakemock verify --signature standard --secret whsec_... \\
      -H \"$(cakemock sign --signature standard --secret whsec_... body.json)\" body.json";

/// Arguments of `cakemock verify`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub signing: SigningArgs,
    /// Wire flavor; picks the default signature scheme (docs: cakemail-hex, api: cakemail-base64).
    #[arg(long, value_enum, default_value = "docs", value_name = "FLAVOR")]
    pub flavor: Flavor,
    /// A received header: the bare signature value, or `Name: value`. Repeat it for
    /// standard's webhook-id, webhook-timestamp and webhook-signature (a value of several
    /// lines, such as `cakemock sign`'s output, counts as one header a line).
    #[arg(long = "header", short = 'H', value_name = "VALUE", required = true)]
    pub headers: Vec<String>,
    /// How far webhook-timestamp may be from now (standard only).
    #[arg(long, value_name = "DUR", default_value = "5m", value_parser = parse_duration)]
    pub tolerance: Duration,
    /// The body exactly as received; `-` or nothing reads stdin.
    #[arg(value_name = "FILE")]
    pub file: Option<PathBuf>,
}

pub async fn exec(args: Args) -> Result<Exit> {
    let secret = require_secret(&args.signing)?;
    let signer = args.signing.signer(args.flavor, secret)?;
    let headers = header_map(&args.headers, signer.header())?;
    let body = read_body(args.file.as_deref())?;
    let now = chrono::Utc::now().timestamp();
    let err = match signer.verify(&headers, &body, now, args.tolerance) {
        Ok(()) => {
            out(format!("✓ verified ({})", signer.scheme()))?;
            return Ok(Exit::Ok);
        }
        Err(e) => e,
    };
    let diagnoses = signer.diagnose(&headers, &body);
    let headline = match &err {
        VerifyError::Mismatch if !diagnoses.is_empty() => "signature mismatch".to_string(),
        VerifyError::Stale { skew_secs, .. } => {
            let by = format_duration(Duration::from_secs(skew_secs.unsigned_abs()));
            let when = if *skew_secs > 0 {
                "old"
            } else {
                "in the future"
            };
            format!(
                "timestamp outside tolerance: webhook-timestamp is {by} {when} (--tolerance {})",
                format_duration(args.tolerance)
            )
        }
        e => e.to_string(),
    };
    out(format!("✗ {headline}"))?;
    for d in &diagnoses {
        out(format!("  hint: {d}"))?;
    }
    match &err {
        VerifyError::Stale { .. } if diagnoses.is_empty() => {
            out(
                "  the signature does not match either: wrong secret, or the body changed after signing",
            )?;
        }
        VerifyError::MissingHeader(h) if h.starts_with("webhook-") && h != signer.header() => {
            out(format!(
                "  hint: standard signs webhook-id and webhook-timestamp too: pass each as --header '{h}: VALUE' \
                 (cakemock sign prints all three)"
            ))?
        }
        VerifyError::MissingHeader(h) if diagnoses.is_empty() => out(format!(
            "  hint: pass the signature as --header VALUE, or as --header '{h}: VALUE'"
        ))?,
        _ => {}
    }
    Ok(Exit::ExpectationFailed)
}

/// The `--header` values as a request's headers: `Name: value`, or a bare value for
/// `signature_header`. Each line of a value counts as its own header.
fn header_map(values: &[String], signature_header: &str) -> Result<HeaderMap, InputError> {
    let mut map = HeaderMap::new();
    for line in values.iter().flat_map(|v| v.lines()) {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let (name, value) = match line.split_once(':') {
            Some((name, value)) => (name.trim(), value.trim()),
            None => (signature_header, line),
        };
        let header = HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
            InputError::new(format!(
                "--header {line:?}: {name:?} is not a header name; pass `Name: value`, or the bare signature"
            ))
        })?;
        let value = HeaderValue::from_str(value).map_err(|_| {
            InputError::new(format!(
                "--header {line:?}: the value must be visible ASCII"
            ))
        })?;
        if map.contains_key(&header) {
            return Err(InputError::new(format!(
                "--header gives {name} twice; pass it once (several standard signatures go in one \
                 value, separated by spaces)"
            )));
        }
        map.insert(header, value);
    }
    if map.is_empty() {
        return Err(InputError::new(
            "--header is empty: pass the signature value, or `Name: value`",
        ));
    }
    Ok(map)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(m: &HeaderMap) -> Vec<(String, String)> {
        m.iter()
            .map(|(k, v)| (k.to_string(), v.to_str().unwrap().to_string()))
            .collect()
    }

    #[test]
    fn bare_values_go_to_the_signature_header_and_named_ones_to_theirs() {
        let m = header_map(&["abc123".into()], "X-Cakemail-Signature").unwrap();
        assert_eq!(
            names(&m),
            [("x-cakemail-signature".into(), "abc123".into())]
        );
        let m = header_map(
            &[
                "webhook-id: msg_1\nwebhook-timestamp: 17\n".into(),
                "v1,AAA=".into(),
            ],
            "webhook-signature",
        )
        .unwrap();
        assert_eq!(m["webhook-id"], "msg_1");
        assert_eq!(m["webhook-timestamp"], "17");
        assert_eq!(m["webhook-signature"], "v1,AAA=");
    }

    #[test]
    fn bad_header_arguments_are_input_errors() {
        let sig = "x-signature";
        let e = header_map(&["bad name: x".into()], sig).unwrap_err();
        assert!(e.0.contains("not a header name"), "{e}");
        let e = header_map(&["a".into(), "b".into()], sig).unwrap_err();
        assert!(e.0.contains("twice"), "{e}");
        assert!(header_map(&["  ".into()], sig).is_err());
    }
}
