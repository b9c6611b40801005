//! Why a signature did not verify, where that is knowable. HMAC cannot tell a wrong
//! secret from a changed body, but the usual accidents can be tried one by one: a
//! trailing newline added by an editor, a body re-formatted after signing, the right
//! digest in the other encoding, another scheme's header or signature shape.

use std::borrow::Cow;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;

use super::{Scheme, Signer};

/// A knowable explanation of a failed verification. `Display` is a hint for a human.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Diagnosis {
    /// The signature matches: only the timestamp is outside the tolerance.
    OnlyTimestamp,
    /// The body verifies once its trailing newline is stripped.
    TrailingNewline,
    /// The body verifies in its compact re-serialized JSON form.
    Reformatted,
    /// The header holds the right digest, in the encoding of this scheme.
    OtherEncoding(Scheme),
    /// The header value has the shape of this scheme's signatures, not the expected one's.
    LooksLike(Scheme),
    /// The expected signature header is absent, but `header` (where `scheme` signs) is there.
    OtherHeader { header: String, scheme: Scheme },
}

impl std::fmt::Display for Diagnosis {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Diagnosis::OnlyTimestamp => f.write_str(
                "the signature itself matches: only the timestamp is out of tolerance \
                 (re-sign with a fresh timestamp, or allow more skew)",
            ),
            Diagnosis::TrailingNewline => f.write_str(
                "the body verifies once its trailing newline is stripped: an editor (or echo) \
                 added one after signing; verify the exact bytes that were sent",
            ),
            Diagnosis::Reformatted => f.write_str(
                "the body verifies in its compact form (what JSON.stringify(JSON.parse(body)) gives): \
                 it was re-formatted after signing; verify the exact bytes that were sent",
            ),
            Diagnosis::OtherEncoding(s) => write!(
                f,
                "the header holds the right digest, but in {} ({s}'s encoding): use --signature {s}",
                encoding(*s)
            ),
            Diagnosis::LooksLike(s) => write!(
                f,
                "the header value has the shape of a {s} signature ({}): was it signed with --signature {s}?",
                shape(*s)
            ),
            Diagnosis::OtherHeader { header, scheme } => write!(
                f,
                "the request has a {header} header, where {scheme} signatures travel: \
                 try --signature {scheme}, or --signature-header {header}"
            ),
        }
    }
}

fn encoding(s: Scheme) -> &'static str {
    match s {
        Scheme::CakemailHex => "lowercase hex",
        Scheme::CakemailBase64 => "base64",
        Scheme::Standard => "v1,<base64>",
    }
}

fn shape(s: Scheme) -> &'static str {
    match s {
        Scheme::CakemailHex => "64 hex digits",
        Scheme::CakemailBase64 => "base64 of 32 bytes",
        Scheme::Standard => "v1,<base64>",
    }
}

/// The scheme whose signatures look like `value`, if any.
fn shape_of(value: &str) -> Option<Scheme> {
    let v = value.trim();
    if v.split_whitespace().any(|p| p.starts_with("v1,")) {
        Some(Scheme::Standard)
    } else if v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit()) {
        Some(Scheme::CakemailHex)
    } else if B64.decode(v).is_ok_and(|d| d.len() == 32) {
        Some(Scheme::CakemailBase64)
    } else {
        None
    }
}

/// The body without its trailing line ending(s), if it had any.
fn without_trailing_newline(body: &[u8]) -> Option<&[u8]> {
    let mut end = body.len();
    while end > 0 && matches!(body[end - 1], b'\n' | b'\r') {
        end -= 1;
    }
    (end < body.len()).then(|| &body[..end])
}

/// The body re-serialized compactly (key order kept), if it is JSON and that differs.
fn compact(body: &[u8]) -> Option<Vec<u8>> {
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    let out = serde_json::to_vec(&value).ok()?;
    (out != body).then_some(out)
}

impl Signer {
    /// After [`Signer::verify`] failed: the accidents that explain it, most telling
    /// first; empty when nothing knowable does (a wrong secret, or a body changed after
    /// signing). Tries the body as received, without its trailing newline and in its
    /// compact JSON form, against the digest in this scheme's encoding and the other
    /// cakemail one, ignoring the timestamp.
    pub fn diagnose(&self, headers: &http::HeaderMap, body: &[u8]) -> Vec<Diagnosis> {
        let Some(value) = headers.get(&self.header).and_then(|v| v.to_str().ok()) else {
            return self.other_headers(headers);
        };
        let mut bodies: Vec<(Option<Diagnosis>, Cow<'_, [u8]>)> = vec![(None, body.into())];
        if let Some(b) = without_trailing_newline(body) {
            bodies.push((Some(Diagnosis::TrailingNewline), b.into()));
        }
        if let Some(b) = compact(body) {
            bodies.push((Some(Diagnosis::Reformatted), b.into()));
        }
        let mut signers = vec![(None, self.clone())];
        let other = match self.scheme {
            Scheme::CakemailHex => Some(Scheme::CakemailBase64),
            Scheme::CakemailBase64 => Some(Scheme::CakemailHex),
            Scheme::Standard => None,
        };
        if let Some(other) = other {
            // Both cakemail schemes key HMAC with the secret's bytes, so the MAC is shared.
            let mut s = self.clone();
            s.scheme = other;
            signers.push((Some(Diagnosis::OtherEncoding(other)), s));
        }
        for (signer_hint, signer) in &signers {
            for (body_hint, b) in &bodies {
                if signer.verify(headers, b, 0, Duration::MAX).is_ok() {
                    let found: Vec<Diagnosis> = [signer_hint, body_hint]
                        .into_iter()
                        .flatten()
                        .cloned()
                        .collect();
                    return if found.is_empty() {
                        vec![Diagnosis::OnlyTimestamp]
                    } else {
                        found
                    };
                }
            }
        }
        match shape_of(value) {
            Some(s) if s != self.scheme => vec![Diagnosis::LooksLike(s)],
            _ => Vec::new(),
        }
    }

    /// Other schemes' signature headers present in a request that lacks ours.
    fn other_headers(&self, headers: &http::HeaderMap) -> Vec<Diagnosis> {
        Scheme::ALL
            .into_iter()
            .filter(|s| !s.signature_header().eq_ignore_ascii_case(&self.header))
            .filter(|s| headers.contains_key(s.signature_header()))
            .map(|scheme| Diagnosis::OtherHeader {
                header: scheme.signature_header().to_string(),
                scheme,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::super::Secret;
    use super::*;

    const BODY: &[u8] = br#"{"event":"email.sent","data":{"campaign_id":790}}"#;

    fn signer(scheme: Scheme) -> Signer {
        let secret = match scheme {
            Scheme::Standard => Secret::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"),
            _ => Secret::new("s3cret"),
        };
        Signer::new(scheme, secret, None).unwrap()
    }

    use crate::sign::header_map as headers;

    #[test]
    fn a_trailing_newline_is_named_in_every_scheme() {
        for scheme in Scheme::ALL {
            let s = signer(scheme);
            let h = headers(&s.sign("msg_1", 1_700_000_000, BODY));
            let mut edited = BODY.to_vec();
            edited.push(b'\n');
            assert_eq!(
                s.diagnose(&h, &edited),
                [Diagnosis::TrailingNewline],
                "{scheme}"
            );
        }
    }

    #[test]
    fn a_pretty_printed_body_is_named() {
        let s = signer(Scheme::CakemailHex);
        let h = headers(&s.sign("", 0, BODY));
        let pretty =
            serde_json::to_vec_pretty(&serde_json::from_slice::<serde_json::Value>(BODY).unwrap())
                .unwrap();
        assert_eq!(s.diagnose(&h, &pretty), [Diagnosis::Reformatted]);
    }

    #[test]
    fn the_other_encoding_is_named_with_the_scheme_to_use() {
        let hex = signer(Scheme::CakemailHex);
        let b64 = signer(Scheme::CakemailBase64);
        // A base64 digest sent where hex is expected, and the reverse.
        let (_, v) = b64.sign("", 0, BODY).remove(0);
        let h = headers(&[(hex.header().to_string(), v)]);
        assert_eq!(
            hex.diagnose(&h, BODY),
            [Diagnosis::OtherEncoding(Scheme::CakemailBase64)]
        );
        let (_, v) = hex.sign("", 0, BODY).remove(0);
        let h = headers(&[(b64.header().to_string(), v)]);
        assert_eq!(
            b64.diagnose(&h, BODY),
            [Diagnosis::OtherEncoding(Scheme::CakemailHex)]
        );
        let mut edited = BODY.to_vec();
        edited.extend_from_slice(b"\r\n");
        assert_eq!(
            b64.diagnose(&h, &edited),
            [
                Diagnosis::OtherEncoding(Scheme::CakemailHex),
                Diagnosis::TrailingNewline
            ]
        );
    }

    #[test]
    fn a_wrong_secret_or_changed_body_has_no_diagnosis() {
        for scheme in Scheme::ALL {
            let s = signer(scheme);
            let h = headers(&s.sign("msg_1", 1_700_000_000, BODY));
            assert_eq!(
                s.diagnose(&h, b"{\"event\":\"email.opened\"}"),
                [],
                "{scheme}"
            );
        }
    }

    #[test]
    fn another_schemes_shape_or_header_is_named() {
        let std_signer = signer(Scheme::Standard);
        let hex = signer(Scheme::CakemailHex);
        let h = headers(&std_signer.sign("msg_1", 1_700_000_000, BODY));
        let sig = h["webhook-signature"].to_str().unwrap().to_string();
        let h2 = headers(&[("X-Cakemail-Signature".into(), sig)]);
        assert_eq!(
            hex.diagnose(&h2, BODY),
            [Diagnosis::LooksLike(Scheme::Standard)]
        );
        assert_eq!(
            hex.diagnose(&h, BODY),
            [Diagnosis::OtherHeader {
                header: "webhook-signature".into(),
                scheme: Scheme::Standard
            }]
        );
        let (_, v) = hex.sign("", 0, BODY).remove(0);
        let h3 = headers(&[
            ("webhook-id".into(), "msg_1".into()),
            ("webhook-timestamp".into(), "1700000000".into()),
            ("webhook-signature".into(), v),
        ]);
        assert_eq!(
            std_signer.diagnose(&h3, BODY),
            [Diagnosis::LooksLike(Scheme::CakemailHex)]
        );
    }

    #[test]
    fn a_stale_but_right_signature_says_only_the_timestamp_is_wrong() {
        let s = signer(Scheme::Standard);
        let h = headers(&s.sign("msg_1", 1_000, BODY));
        assert!(matches!(
            s.verify(&h, BODY, 1_000_000, Duration::from_secs(300)),
            Err(super::super::VerifyError::Stale { .. })
        ));
        assert_eq!(s.diagnose(&h, BODY), [Diagnosis::OnlyTimestamp]);
    }
}
