//! Signing and verification in every scheme: `cakemail-hex` (the guide's
//! `X-Cakemail-Signature`), `cakemail-base64` (the API's `x-signature`) and
//! `standard` (Standard Webhooks). One small type holds the keyed MAC, signs,
//! verifies in constant time, and never shows its secret. [`Signer::diagnose`] (in
//! `sign/diagnose.rs`) explains a failed verification where that is knowable.

mod diagnose;

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::InputError;

pub use diagnose::Diagnosis;

type HmacSha256 = Hmac<Sha256>;

/// A signature scheme.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    clap::ValueEnum,
    schemars::JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum Scheme {
    /// `X-Cakemail-Signature: <lowercase hex HMAC-SHA256(secret, body)>` (flavor docs).
    CakemailHex,
    /// `x-signature: <base64 HMAC-SHA256(secret, body)>` (flavor api).
    CakemailBase64,
    /// Standard Webhooks: `webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64>`.
    Standard,
}

impl Scheme {
    /// Every scheme, in the order help and errors list them.
    pub const ALL: [Scheme; 3] = [
        Scheme::CakemailHex,
        Scheme::CakemailBase64,
        Scheme::Standard,
    ];

    /// The name `--signature` takes.
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::CakemailHex => "cakemail-hex",
            Scheme::CakemailBase64 => "cakemail-base64",
            Scheme::Standard => "standard",
        }
    }

    /// The header the signature travels in, unless `--signature-header` says otherwise.
    pub fn signature_header(self) -> &'static str {
        match self {
            Scheme::CakemailHex => "X-Cakemail-Signature",
            Scheme::CakemailBase64 => "x-signature",
            Scheme::Standard => "webhook-signature",
        }
    }
}

impl std::fmt::Display for Scheme {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A webhook secret. Never printed: `Debug` shows `Secret(***)`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret as given (for `standard`, `whsec_` + base64).
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }

    /// The secret itself, for the few places that must show it (creation) or use it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// A fresh random secret fit for `scheme` (`whsec_`-prefixed base64 for `standard`).
    pub fn generate(scheme: Scheme) -> Secret {
        let bytes: [u8; 24] = rand::random();
        match scheme {
            Scheme::Standard => Secret(format!("whsec_{}", B64.encode(bytes))),
            _ => Secret(format!("cm_{}", hex::encode(bytes))),
        }
    }

    /// The HMAC key: the secret's bytes, or for `standard` the base64 after `whsec_`.
    fn key(&self, scheme: Scheme) -> Result<Vec<u8>, InputError> {
        match scheme {
            Scheme::Standard => {
                let b64 = self.0.strip_prefix("whsec_").unwrap_or(&self.0);
                B64.decode(b64).map_err(|_| {
                    InputError::new(
                        "a Standard Webhooks secret must be base64, usually prefixed whsec_ \
                         (e.g. whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw); this one is not",
                    )
                })
            }
            _ => Ok(self.0.as_bytes().to_vec()),
        }
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
    #[error("header missing: {0} is not in the request")]
    MissingHeader(String),
    #[error("header malformed: {header} {why}")]
    Malformed { header: String, why: String },
    #[error(
        "timestamp outside tolerance: webhook-timestamp is {skew_secs}s from now (tolerance {tolerance_secs}s)"
    )]
    Stale { skew_secs: i64, tolerance_secs: u64 },
    #[error("signature mismatch: wrong secret, or the body changed after signing")]
    Mismatch,
}

/// Signs and verifies bodies with one secret in one scheme.
#[derive(Clone)]
pub struct Signer {
    scheme: Scheme,
    header: String,
    /// The MAC already keyed with the secret; cloned per signature.
    mac: HmacSha256,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer")
            .field("scheme", &self.scheme)
            .field("header", &self.header)
            .field("secret", &"***")
            .finish()
    }
}

impl Signer {
    /// `header` overrides the scheme's signature header name (`--signature-header`).
    pub fn new(scheme: Scheme, secret: Secret, header: Option<String>) -> Result<Self, InputError> {
        let key = secret.key(scheme)?;
        let mac = HmacSha256::new_from_slice(&key)
            .map_err(|_| InputError::new("the secret cannot key HMAC-SHA256"))?;
        let header = match header {
            Some(h) => {
                http::HeaderName::from_bytes(h.as_bytes()).map_err(|_| {
                    InputError::new(format!(
                        "--signature-header {h:?} is not a valid HTTP header name (letters, digits and -)"
                    ))
                })?;
                h
            }
            None => scheme.signature_header().to_string(),
        };
        Ok(Signer {
            scheme,
            header,
            mac,
        })
    }

    /// The scheme this signer signs and verifies in.
    pub fn scheme(&self) -> Scheme {
        self.scheme
    }

    /// The header the signature travels in.
    pub fn header(&self) -> &str {
        &self.header
    }

    fn mac_of(&self, parts: &[&[u8]]) -> [u8; 32] {
        let mut mac = self.mac.clone();
        for p in parts {
            mac.update(p);
        }
        mac.finalize().into_bytes().into()
    }

    /// The signature headers for `body`. `msg_id` and `timestamp` (unix seconds) are
    /// signed by `standard` only, which also sends them as `webhook-id` and
    /// `webhook-timestamp`.
    pub fn sign(&self, msg_id: &str, timestamp: i64, body: &[u8]) -> Vec<(String, String)> {
        match self.scheme {
            Scheme::CakemailHex => vec![(self.header.clone(), hex::encode(self.mac_of(&[body])))],
            Scheme::CakemailBase64 => vec![(self.header.clone(), B64.encode(self.mac_of(&[body])))],
            Scheme::Standard => {
                let ts = timestamp.to_string();
                let sig = self.mac_of(&[msg_id.as_bytes(), b".", ts.as_bytes(), b".", body]);
                vec![
                    ("webhook-id".into(), msg_id.to_string()),
                    ("webhook-timestamp".into(), ts),
                    (self.header.clone(), format!("v1,{}", B64.encode(sig))),
                ]
            }
        }
    }

    /// Verifies `body` against the signature headers in `headers`, in constant time.
    /// `now` (unix seconds) and `tolerance` apply to `standard` only.
    pub fn verify(
        &self,
        headers: &http::HeaderMap,
        body: &[u8],
        now: i64,
        tolerance: Duration,
    ) -> Result<(), VerifyError> {
        let get = |name: &str| -> Result<&str, VerifyError> {
            let v = headers
                .get(name)
                .ok_or_else(|| VerifyError::MissingHeader(name.to_string()))?;
            v.to_str().map_err(|_| VerifyError::Malformed {
                header: name.to_string(),
                why: "is not visible ASCII".into(),
            })
        };
        let sig = get(&self.header)?;
        match self.scheme {
            Scheme::CakemailHex => {
                let tag = hex::decode(sig.trim()).map_err(|_| self.malformed(sig, "is not hex"))?;
                self.check(&[body], &tag)
            }
            Scheme::CakemailBase64 => {
                let tag = B64
                    .decode(sig.trim())
                    .map_err(|_| self.malformed(sig, "is not base64"))?;
                self.check(&[body], &tag)
            }
            Scheme::Standard => {
                let id = get("webhook-id")?;
                let ts_text = get("webhook-timestamp")?;
                let ts: i64 = ts_text.trim().parse().map_err(|_| VerifyError::Malformed {
                    header: "webhook-timestamp".into(),
                    why: format!("{ts_text:?} is not unix seconds"),
                })?;
                let skew = now.saturating_sub(ts);
                if skew.unsigned_abs() > tolerance.as_secs() {
                    return Err(VerifyError::Stale {
                        skew_secs: skew,
                        tolerance_secs: tolerance.as_secs(),
                    });
                }
                let ts_text = ts.to_string();
                let signed: [&[u8]; 5] = [id.as_bytes(), b".", ts_text.as_bytes(), b".", body];
                // Several space-separated signatures may be sent (key rotation); any v1 match verifies.
                let mut any_v1 = false;
                for part in sig.split_whitespace() {
                    if let Some(b64) = part.strip_prefix("v1,") {
                        any_v1 = true;
                        if let Ok(tag) = B64.decode(b64)
                            && self.check(&signed, &tag).is_ok()
                        {
                            return Ok(());
                        }
                    }
                }
                if any_v1 {
                    Err(VerifyError::Mismatch)
                } else {
                    Err(self.malformed(sig, "has no v1,<base64> signature"))
                }
            }
        }
    }

    fn malformed(&self, value: &str, why: &str) -> VerifyError {
        let shown: String = value.chars().take(16).collect();
        VerifyError::Malformed {
            header: self.header.clone(),
            why: format!("{shown:?} {why}"),
        }
    }

    fn check(&self, parts: &[&[u8]], tag: &[u8]) -> Result<(), VerifyError> {
        let mut mac = self.mac.clone();
        for p in parts {
            mac.update(p);
        }
        mac.verify_slice(tag).map_err(|_| VerifyError::Mismatch)
    }
}

/// The headers [`Signer::sign`] returns (or any name/value pairs) as a request's
/// header map; a pair that is not a valid header is left out.
pub fn header_map(pairs: &[(String, String)]) -> http::HeaderMap {
    let mut h = http::HeaderMap::with_capacity(pairs.len());
    for (name, value) in pairs {
        if let (Ok(n), Ok(v)) = (
            http::HeaderName::from_bytes(name.as_bytes()),
            http::HeaderValue::from_str(value),
        ) {
            h.insert(n, v);
        }
    }
    h
}

#[cfg(test)]
mod tests {
    use super::header_map as headers;
    use super::*;

    #[test]
    fn every_scheme_round_trips_and_rejects_a_changed_body() {
        for scheme in Scheme::ALL {
            let signer = Signer::new(scheme, Secret::generate(scheme), None).unwrap();
            let body = br#"{"event":"email.sent"}"#;
            let h = headers(&signer.sign("msg_1", 1_700_000_000, body));
            let tol = Duration::from_secs(300);
            assert_eq!(
                signer.verify(&h, body, 1_700_000_010, tol),
                Ok(()),
                "{scheme}"
            );
            assert_eq!(
                signer.verify(&h, b"{}", 1_700_000_010, tol),
                Err(VerifyError::Mismatch),
                "{scheme}"
            );
        }
    }

    #[test]
    fn secret_never_shows_in_debug() {
        let s = Signer::new(Scheme::CakemailHex, Secret::new("topsecret"), None).unwrap();
        assert!(!format!("{s:?}").contains("topsecret"));
        assert!(!format!("{:?}", Secret::new("topsecret")).contains("topsecret"));
    }

    #[test]
    fn standard_rejects_a_stale_timestamp_and_accepts_any_rotated_signature() {
        let secret = Secret::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
        let signer = Signer::new(Scheme::Standard, secret, None).unwrap();
        let body = b"{}";
        let mut pairs = signer.sign("msg_1", 1_700_000_000, body);
        let tol = Duration::from_secs(300);
        assert_eq!(
            signer.verify(&headers(&pairs), body, 1_700_000_301, tol),
            Err(VerifyError::Stale {
                skew_secs: 301,
                tolerance_secs: 300
            })
        );
        // Key rotation: an old signature first, the current one second.
        pairs[2].1 = format!("v1,AAAA {}", pairs[2].1);
        assert_eq!(
            signer.verify(&headers(&pairs), body, 1_700_000_000, tol),
            Ok(())
        );
    }

    #[test]
    fn malformed_headers_and_bad_settings_are_named() {
        let hex = Signer::new(Scheme::CakemailHex, Secret::new("s"), None).unwrap();
        let h = headers(&[("X-Cakemail-Signature".into(), "not-hex!".into())]);
        let e = hex.verify(&h, b"", 0, Duration::ZERO).unwrap_err();
        assert!(e.to_string().contains("is not hex"), "{e}");
        let e = hex
            .verify(&http::HeaderMap::new(), b"", 0, Duration::ZERO)
            .unwrap_err();
        assert_eq!(e, VerifyError::MissingHeader("X-Cakemail-Signature".into()));
        let e = Signer::new(
            Scheme::CakemailHex,
            Secret::new("s"),
            Some("bad header".into()),
        )
        .unwrap_err();
        assert!(e.to_string().contains("--signature-header"), "{e}");
        let e = Signer::new(Scheme::Standard, Secret::new("whsec_!!!"), None).unwrap_err();
        assert!(e.to_string().contains("whsec_"), "{e}");
        assert!(
            !e.to_string().contains("!!!"),
            "the secret must not be echoed: {e}"
        );
    }
}
