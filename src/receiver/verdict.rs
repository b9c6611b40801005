//! The signature verdict on one delivery: which scheme to check (the configured one,
//! or whichever scheme's header is present) and whether the body verifies under it.

use std::time::Duration;

use crate::sign::{Scheme, Secret, Signer};

use super::Verdict;

/// Verifies deliveries in every scheme with one secret. Signers are keyed once at start;
/// a secret that cannot key a scheme (not base64, for `standard`) becomes the reason
/// every delivery in that scheme fails, not an error of the receiver.
pub(crate) struct Verifier {
    scheme: Option<Scheme>,
    /// A custom signature header (`--signature-header`), lower-cased.
    custom: Option<String>,
    /// Per scheme (in `Scheme::ALL` order): the signer reading the scheme's own header,
    /// and one reading the custom header.
    signers: Vec<(Scheme, Result<Signer, String>, Option<Signer>)>,
    tolerance: Duration,
}

impl Verifier {
    /// Fails only for a custom header name that is not a valid HTTP header name.
    pub fn new(
        secret: &Secret,
        scheme: Option<Scheme>,
        custom: Option<&str>,
        tolerance: Duration,
    ) -> Result<Verifier, String> {
        let custom = custom.map(str::to_ascii_lowercase);
        let mut signers = Vec::new();
        for s in Scheme::ALL {
            let own = Signer::new(s, secret.clone(), None)
                .map_err(|e| format!("the receiver's secret cannot verify {s}: {e}"));
            let with_custom = match &custom {
                Some(h) => match Signer::new(s, secret.clone(), Some(h.clone())) {
                    Ok(signer) => Some(signer),
                    // Either the header name is bad (a config error) or the secret cannot
                    // key this scheme, which `own` already reports per delivery.
                    Err(e) if own.is_ok() => return Err(e.to_string()),
                    Err(_) => None,
                },
                None => None,
            };
            signers.push((s, own, with_custom));
        }
        Ok(Verifier {
            scheme,
            custom,
            signers,
            tolerance,
        })
    }

    /// The verdict on `body` (the bytes as received, or re-serialized for
    /// `--verify-json`), checked at the current time.
    pub fn verify(&self, headers: &http::HeaderMap, body: &[u8]) -> Verdict {
        let (scheme, use_custom) = match self.scheme {
            Some(s) => (s, self.custom.is_some()),
            None => match self.detect(headers) {
                Some(found) => found,
                None => {
                    let mut names: Vec<&str> =
                        Scheme::ALL.iter().map(|s| s.signature_header()).collect();
                    if let Some(h) = &self.custom {
                        names.insert(0, h);
                    }
                    return Verdict::Failed {
                        scheme: None,
                        reason: format!(
                            "no signature header: expected one of {}",
                            names.join(", ")
                        ),
                    };
                }
            },
        };
        let Some((_, own, custom)) = self.signers.iter().find(|(s, ..)| *s == scheme) else {
            return Verdict::Failed {
                scheme: Some(scheme),
                reason: "no signer for this scheme".into(),
            };
        };
        let signer = match (own, custom, use_custom) {
            (Err(why), ..) => {
                return Verdict::Failed {
                    scheme: Some(scheme),
                    reason: why.clone(),
                };
            }
            (Ok(_), Some(c), true) => c,
            (Ok(s), ..) => s,
        };
        let now = chrono::Utc::now().timestamp();
        match signer.verify(headers, body, now, self.tolerance) {
            Ok(()) => Verdict::Verified { scheme },
            Err(e) => Verdict::Failed {
                scheme: Some(scheme),
                reason: e.to_string(),
            },
        }
    }

    /// The scheme a delivery was signed in, judged from its headers: a custom header
    /// first (its scheme read off the value and the Standard Webhooks headers), then
    /// `webhook-signature`, `X-Cakemail-Signature`, `x-signature`.
    fn detect(&self, headers: &http::HeaderMap) -> Option<(Scheme, bool)> {
        if let Some(h) = &self.custom
            && let Some(v) = headers.get(h.as_str())
        {
            let v = v.to_str().unwrap_or("").trim();
            let scheme = if headers.contains_key("webhook-timestamp") || v.starts_with("v1,") {
                Scheme::Standard
            } else if v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit()) {
                Scheme::CakemailHex
            } else {
                Scheme::CakemailBase64
            };
            return Some((scheme, true));
        }
        [
            Scheme::Standard,
            Scheme::CakemailHex,
            Scheme::CakemailBase64,
        ]
        .into_iter()
        .find(|s| headers.contains_key(s.signature_header()))
        .map(|s| (s, false))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::sign::header_map as headers;

    const TOL: Duration = Duration::from_secs(300);

    #[test]
    fn detects_every_scheme_from_its_headers() {
        let secret = Secret::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
        let v = Verifier::new(&secret, None, None, TOL).unwrap();
        let now = chrono::Utc::now().timestamp();
        for s in Scheme::ALL {
            let signer = Signer::new(s, secret.clone(), None).unwrap();
            let h = headers(&signer.sign("msg_1", now, b"{}"));
            assert_eq!(v.verify(&h, b"{}"), Verdict::Verified { scheme: s });
            assert!(
                matches!(v.verify(&h, b"[]"), Verdict::Failed { scheme: Some(x), .. } if x == s)
            );
        }
    }

    #[test]
    fn custom_header_detects_the_scheme_from_the_value() {
        let secret = Secret::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
        let v = Verifier::new(&secret, None, Some("X-Sig"), TOL).unwrap();
        let now = chrono::Utc::now().timestamp();
        for s in Scheme::ALL {
            let signer = Signer::new(s, secret.clone(), Some("X-Sig".into())).unwrap();
            let h = headers(&signer.sign("msg_1", now, b"{}"));
            assert_eq!(v.verify(&h, b"{}"), Verdict::Verified { scheme: s }, "{s}");
        }
        assert!(Verifier::new(&secret, None, Some("bad header"), TOL).is_err());
    }

    #[test]
    fn missing_header_and_unusable_secret_say_why() {
        let v = Verifier::new(&Secret::new("cm_not_base64!"), None, None, TOL).unwrap();
        let Verdict::Failed { reason, .. } = v.verify(&http::HeaderMap::new(), b"{}") else {
            panic!("verified without a signature");
        };
        assert!(reason.contains("X-Cakemail-Signature"), "{reason}");
        let h = headers(&[("webhook-signature".into(), "v1,AAAA".into())]);
        let Verdict::Failed { reason, .. } = v.verify(&h, b"{}") else {
            panic!("verified with an unusable secret");
        };
        assert!(reason.contains("base64"), "{reason}");
        let fixed = Verifier::new(&Secret::new("s"), Some(Scheme::CakemailHex), None, TOL).unwrap();
        let Verdict::Failed { reason, .. } = fixed.verify(&h, b"{}") else {
            panic!("verified without its header");
        };
        assert!(reason.contains("X-Cakemail-Signature"), "{reason}");
    }
}
