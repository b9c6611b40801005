//! Content faults (SPEC 6): what a delivery's bytes and headers become. Pure functions
//! on a job's body and headers: [`prepare`] works out once per event what is signed
//! and what is sent, [`headers`] builds each attempt's headers from that. JSON-shaped
//! faults leave a body that is not JSON (a `raw:` step) as it is, except `oversized`.

use std::fmt::Write as _;
use std::sync::Arc;

use bytes::Bytes;
use http::{HeaderMap, HeaderValue};
use serde_json::{Map, Value};

use crate::drive::{Job, Target};
use crate::sign::{Secret, Signer};

/// The secret `bad_signature` signs with: `whsec_` + base64, so it keys every scheme.
const WRONG_SECRET: &str = "whsec_Y2FrZW1vY2std3Jvbmctc2VjcmV0LW5vdC15b3Vycw==";

/// The content faults chosen for one event, parameters resolved.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Content {
    pub bad_signature: bool,
    pub missing_signature: bool,
    pub tampered_body: bool,
    /// Seconds added to the body's timestamps (and the signed `webhook-timestamp`):
    /// negative for `stale_timestamp`, positive for `future_timestamp`.
    pub shift: i64,
    pub malformed_json: bool,
    pub noncanonical_json: bool,
    pub unknown_event: Option<String>,
    pub extra_fields: u32,
    pub oversized: Option<u64>,
    pub content_type: Option<String>,
}

impl Content {
    /// True when no content fault applies (the job is sent as generated).
    pub fn is_clean(&self) -> bool {
        *self == Content::default()
    }
}

/// What goes on the wire for one event under its content faults.
#[derive(Debug, Clone)]
pub struct Wire {
    /// The job as signed: its body is the signed bytes, its event the announced name,
    /// its target's signer the one used (a wrong one for `bad_signature`).
    pub signed: Job,
    /// The bytes sent (differ from the signed ones under `tampered_body`).
    pub body: Bytes,
    shift: i64,
    missing_signature: bool,
    content_type: Option<HeaderValue>,
}

/// Works out the signed and the sent bytes of `job` under `c`. Body changes come
/// first (timestamps, event name, extra fields, size), then the re-serialization or
/// truncation, then the signature, then tampering.
pub fn prepare(job: &Job, c: &Content) -> Wire {
    let mut signed = job.clone();
    if c.is_clean() {
        return Wire {
            body: job.body.clone(),
            signed,
            shift: 0,
            missing_signature: false,
            content_type: None,
        };
    }
    let mut bytes = job.body.to_vec();
    if let Ok(mut v) = serde_json::from_slice::<Value>(&job.body) {
        let edits = c.shift != 0 || c.unknown_event.is_some() || c.extra_fields > 0;
        if c.shift != 0 {
            shift_timestamps(&mut v, c.shift);
        }
        if let Some(name) = &c.unknown_event
            && let Some(obj) = v.as_object_mut()
        {
            obj.insert("event".into(), Value::String(name.clone()));
        }
        if c.extra_fields > 0 {
            add_extra_fields(&mut v, c.extra_fields);
        }
        if let Some(size) = c.oversized {
            bytes = pad_json(&mut v, size);
        } else if edits {
            bytes = serde_json::to_vec(&v).unwrap_or(bytes);
        }
        if c.noncanonical_json {
            bytes = noncanonical(&v).into_bytes();
        }
    } else if let Some(size) = c.oversized {
        let size = usize::try_from(size).unwrap_or(usize::MAX);
        bytes.resize(size.max(bytes.len()), b' ');
    }
    if c.malformed_json {
        bytes = truncate(&bytes);
    }
    let bytes = Bytes::from(bytes);
    signed.body = bytes.clone();
    if let Some(name) = &c.unknown_event {
        signed.event = name.clone();
    }
    if c.bad_signature {
        let s = &job.target.signer;
        if let Ok(wrong) = Signer::new(
            s.scheme(),
            Secret::new(WRONG_SECRET),
            Some(s.header().to_string()),
        ) {
            signed.target = Arc::new(Target {
                url: job.target.url.clone(),
                signer: wrong,
            });
        }
    }
    let body = if c.tampered_body {
        tamper(&bytes)
    } else {
        bytes
    };
    Wire {
        signed,
        body,
        shift: c.shift,
        missing_signature: c.missing_signature,
        content_type: c
            .content_type
            .as_deref()
            .and_then(|t| HeaderValue::from_str(t).ok()),
    }
}

/// The headers of one attempt under the event's content faults.
pub fn headers(wire: &Wire, attempt: u32, now_unix: i64) -> HeaderMap {
    let mut h = crate::drive::request_headers(&wire.signed, attempt, now_unix + wire.shift);
    if wire.missing_signature {
        h.remove(wire.signed.target.signer.header());
    }
    if let Some(t) = &wire.content_type {
        h.insert(http::header::CONTENT_TYPE, t.clone());
    }
    h
}

/// Moves the body's timestamps (`timestamp`, `created_on`, `data.timestamp`; unix
/// seconds or RFC 3339) by `secs`.
pub fn shift_timestamps(v: &mut Value, secs: i64) {
    fn shift(v: &mut Value, secs: i64) {
        match v {
            Value::Number(n) => {
                if let Some(t) = n.as_i64() {
                    *v = Value::from(t.saturating_add(secs));
                }
            }
            Value::String(s) => {
                if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s) {
                    let t = t.with_timezone(&chrono::Utc) + chrono::Duration::seconds(secs);
                    *s = t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
                }
            }
            _ => {}
        }
    }
    let Some(obj) = v.as_object_mut() else { return };
    for key in ["timestamp", "created_on"] {
        if let Some(t) = obj.get_mut(key) {
            shift(t, secs);
        }
    }
    if let Some(t) = obj.get_mut("data").and_then(|d| d.get_mut("timestamp")) {
        shift(t, secs);
    }
}

/// Adds `n` fields a receiver has never seen to `data` (or the top level).
pub fn add_extra_fields(v: &mut Value, n: u32) {
    let target = match v {
        Value::Object(o) if o.get("data").is_some_and(Value::is_object) => o.get_mut("data"),
        other => Some(other),
    };
    if let Some(Value::Object(o)) = target {
        for i in 1..=n {
            o.insert(
                format!("cakemock_extra_{i}"),
                Value::String(format!("a field this receiver does not know ({i} of {n})")),
            );
        }
    }
}

/// The body grown to `size` bytes with a `padding` string (unchanged when already that big).
pub fn pad_json(v: &mut Value, size: u64) -> Vec<u8> {
    let size = usize::try_from(size).unwrap_or(usize::MAX);
    if let Value::Object(o) = v {
        o.insert("padding".into(), Value::String(String::new()));
        let base = serde_json::to_vec(&*o).unwrap_or_default().len();
        if size > base {
            o.insert("padding".into(), Value::String("x".repeat(size - base)));
        } else {
            o.remove("padding");
        }
    }
    serde_json::to_vec(v).unwrap_or_default()
}

/// The first half of the bytes: no longer JSON, still what is signed.
pub fn truncate(bytes: &[u8]) -> Vec<u8> {
    bytes[..bytes.len() / 2].to_vec()
}

/// The same bytes with one character changed (the last digit, else the last letter's
/// case, else a trailing space): still JSON, no longer what was signed.
pub fn tamper(bytes: &[u8]) -> Bytes {
    let mut out = bytes.to_vec();
    if let Some(d) = out.iter_mut().rev().find(|b| b.is_ascii_digit()) {
        *d = if *d == b'9' { b'8' } else { *d + 1 };
    } else if let Some(c) = out.iter_mut().rev().find(|b| b.is_ascii_alphabetic()) {
        *c ^= 0x20;
    } else {
        out.push(b' ');
    }
    Bytes::from(out)
}

/// The same JSON value written the way no serializer would: keys in reverse order,
/// spaces and newlines, every non-ASCII character and `/` escaped.
pub fn noncanonical(v: &Value) -> String {
    let mut out = String::new();
    write_value(v, 0, &mut out);
    out.push('\n');
    out
}

fn write_value(v: &Value, depth: usize, out: &mut String) {
    match v {
        Value::Object(o) => write_object(o, depth, out),
        Value::Array(a) => {
            out.push_str("[ ");
            for (i, e) in a.iter().enumerate() {
                if i > 0 {
                    out.push_str(" , ");
                }
                write_value(e, depth + 1, out);
            }
            out.push_str(" ]");
        }
        Value::String(s) => write_string(s, out),
        other => out.push_str(&other.to_string()),
    }
}

fn write_object(o: &Map<String, Value>, depth: usize, out: &mut String) {
    let pad = "  ".repeat(depth + 1);
    out.push_str("{\n");
    for (i, (k, v)) in o.iter().rev().enumerate() {
        if i > 0 {
            out.push_str(",\n");
        }
        out.push_str(&pad);
        write_string(k, out);
        out.push_str(" : ");
        write_value(v, depth + 1, out);
    }
    out.push('\n');
    out.push_str(&"  ".repeat(depth));
    out.push('}');
}

fn write_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '/' => out.push_str("\\/"),
            c if (c as u32) < 0x20 || !c.is_ascii() => {
                let mut units = [0u16; 2];
                for u in c.encode_utf16(&mut units) {
                    let _ = write!(out, "\\u{u:04x}");
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn noncanonical_is_the_same_value_in_other_bytes() {
        let v = json!({"event": "email.opened", "data": {"name": "Zoë/Ana", "n": [1, 2.5, true], "q": "say \"hi\"\n"}});
        let text = noncanonical(&v);
        assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), v);
        assert_ne!(text.as_bytes(), serde_json::to_vec(&v).unwrap());
        assert!(text.contains("\\u00eb") && text.contains("\\/"), "{text}");
        // Reverse key order: `data` comes before `event`.
        assert!(text.find("\"data\"") < text.find("\"event\""), "{text}");
        // Characters outside the BMP become surrogate pairs.
        assert!(noncanonical(&json!("🎉")).contains("\\ud83c\\udf89"));
    }

    #[test]
    fn tampering_keeps_json_and_changes_one_byte() {
        let body = br#"{"event":"email.sent","data":{"contact_id":1234}}"#;
        let t = tamper(body);
        assert_eq!(t.len(), body.len());
        assert_eq!(t.iter().zip(body).filter(|(a, b)| a != b).count(), 1);
        assert!(serde_json::from_slice::<Value>(&t).is_ok());
        assert_eq!(&tamper(b"{}")[..], b"{} ");
    }

    #[test]
    fn truncation_is_not_json() {
        let body = br#"{"event":"email.sent","data":{"contact_id":1234}}"#;
        let t = truncate(body);
        assert!(t.len() < body.len() && body.starts_with(&t));
        assert!(serde_json::from_slice::<Value>(&t).is_err());
    }

    #[test]
    fn timestamps_move_in_both_forms() {
        let mut v = json!({"timestamp": "2024-03-15T10:30:00Z", "data": {"timestamp": 1710498600}});
        shift_timestamps(&mut v, -600);
        assert_eq!(v["timestamp"], "2024-03-15T10:20:00Z");
        assert_eq!(v["data"]["timestamp"], 1710498000);
        let mut v = json!({"created_on": 1710498600});
        shift_timestamps(&mut v, 600);
        assert_eq!(v["created_on"], 1710499200);
    }

    #[test]
    fn padding_reaches_the_size_exactly() {
        let mut v = json!({"event": "email.sent", "data": {}});
        assert_eq!(pad_json(&mut v, 4096).len(), 4096);
        let mut v = json!({"event": "email.sent"});
        assert_eq!(pad_json(&mut v, 3), br#"{"event":"email.sent"}"#);
    }

    #[test]
    fn extra_fields_go_into_data() {
        let mut v = json!({"event": "e", "data": {"a": 1}});
        add_extra_fields(&mut v, 2);
        assert!(v["data"]["cakemock_extra_2"].is_string());
        assert_eq!(v["data"].as_object().unwrap().len(), 3);
    }
}
