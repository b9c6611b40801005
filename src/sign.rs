//! Signing and verification in every scheme: `cakemail-hex` (the guide's
//! `X-Cakemail-Signature`), `cakemail-base64` (the API's `x-signature`) and
//! `standard` (Standard Webhooks). STUB: owned by the sign helper.

use serde::{Deserialize, Serialize};

/// A signature scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Scheme {
    /// `X-Cakemail-Signature: <lowercase hex HMAC-SHA256(secret, body)>` (flavor docs).
    CakemailHex,
    /// `x-signature: <base64 HMAC-SHA256(secret, body)>` (flavor api).
    CakemailBase64,
    /// Standard Webhooks: `webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64>`.
    Standard,
}

/// A webhook secret. Never printed: `Debug` and `Display` show `***`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }
    /// The secret itself, for the few places that must show it (creation) or use it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// Why a delivery failed verification.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("signature header {0} is missing")]
    MissingHeader(String),
    #[error("signature does not match: wrong secret, or the body changed after signing")]
    Mismatch,
}

/// Signs and verifies bodies with one secret in one scheme.
#[derive(Debug, Clone)]
pub struct Signer {
    scheme: Scheme,
    secret: Secret,
    header: Option<String>,
}

impl Signer {
    /// `header` overrides the scheme's signature header name (`--signature-header`).
    pub fn new(scheme: Scheme, secret: Secret, header: Option<String>) -> Result<Self, crate::InputError> {
        Ok(Signer { scheme, secret, header })
    }

    pub fn scheme(&self) -> Scheme {
        self.scheme
    }

    /// The signature headers for `body`. `msg_id` and `timestamp` (unix seconds) are
    /// used by `standard` only.
    pub fn sign(&self, msg_id: &str, timestamp: i64, body: &[u8]) -> Vec<(String, String)> {
        let _ = (msg_id, timestamp, body, &self.secret, &self.header);
        unimplemented!()
    }

    /// Verifies `body` against the signature headers in `headers`.
    /// `now` (unix seconds) and `tolerance` apply to `standard` only.
    pub fn verify(&self, headers: &http::HeaderMap, body: &[u8], now: i64, tolerance: std::time::Duration) -> Result<(), VerifyError> {
        let _ = (headers, body, now, tolerance);
        unimplemented!()
    }
}
