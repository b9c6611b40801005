//! Flags and helpers shared by several subcommands: secrets, signature schemes,
//! output that tolerates a closed pipe.

use std::io::Write;

use anyhow::Result;
use clap::Args;

use crate::InputError;
use crate::events::Flavor;
use crate::sign::{Scheme, Secret, Signer};

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
