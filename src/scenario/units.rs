//! The value types a scenario writes as text: durations (`5s`), latency bounds (`<200ms`),
//! percentages (`5%`), HTTP status specs (`401`, `2xx`, `[200, 202]`), byte sizes (`1MiB`)
//! and byte rates (`64B/s`). Each has `FromStr` (for `--set` and the CLI), `Deserialize`
//! (with the same messages) and `JsonSchema` (a pattern editors can check as you type).

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::de::{self, Deserializer, Visitor};

use crate::InputError;
use crate::clock::parse_duration;

/// Implements `Deserialize` for a type with `FromStr<Err = InputError>`: strings parse,
/// numbers are turned into their text first so the type gives its own message (a bare
/// `5` for a duration says the unit is missing, instead of serde's "invalid type").
macro_rules! deserialize_via_from_str {
    ($ty:ty, $expecting:expr) => {
        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct V;
                impl Visitor<'_> for V {
                    type Value = $ty;
                    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                        f.write_str($expecting)
                    }
                    fn visit_str<E: de::Error>(self, v: &str) -> Result<$ty, E> {
                        v.parse().map_err(|e: InputError| E::custom(e))
                    }
                    fn visit_u64<E: de::Error>(self, v: u64) -> Result<$ty, E> {
                        self.visit_str(&v.to_string())
                    }
                    fn visit_i64<E: de::Error>(self, v: i64) -> Result<$ty, E> {
                        self.visit_str(&v.to_string())
                    }
                    fn visit_f64<E: de::Error>(self, v: f64) -> Result<$ty, E> {
                        self.visit_str(&v.to_string())
                    }
                }
                d.deserialize_any(V)
            }
        }
    };
}

/// A duration as written in a scenario (`500ms`, `5s`, `1h30m`); never negative.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Dur(pub Duration);

impl FromStr for Dur {
    type Err = InputError;
    fn from_str(s: &str) -> Result<Self, InputError> {
        parse_duration(s).map(Dur)
    }
}
deserialize_via_from_str!(Dur, "a duration with a unit, e.g. 500ms, 5s, 2m, 1h30m");

const DURATION_PATTERN: &str = r"^\s*([0-9]+(\.[0-9]+)?\s*(ns|us|µs|ms|s|sec|m|min|h|d)\s*)+$";

impl JsonSchema for Dur {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Duration".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "pattern": DURATION_PATTERN,
            "description": "A duration with a unit: ms, s, m, h or d (e.g. 500ms, 5s, 1h30m).",
            "examples": ["500ms", "5s", "10m"]
        })
    }
}

/// An upper bound on a latency: `200ms` or `<200ms` (the `<` is optional and only reads well).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LatencyBound(pub Duration);

impl FromStr for LatencyBound {
    type Err = InputError;
    fn from_str(s: &str) -> Result<Self, InputError> {
        let t = s.trim();
        let t = t.strip_prefix('<').map(str::trim_start).unwrap_or(t);
        if t.starts_with('=') {
            return Err(InputError::new(format!(
                "invalid latency bound {s:?}: write <200ms or 200ms (the bound is inclusive either way)"
            )));
        }
        parse_duration(t).map(LatencyBound)
    }
}
deserialize_via_from_str!(LatencyBound, "a latency bound such as <200ms or 1s");

impl JsonSchema for LatencyBound {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "LatencyBound".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "pattern": r"^\s*<?\s*([0-9]+(\.[0-9]+)?\s*(ns|us|µs|ms|s|sec|m|min|h|d)\s*)+$",
            "description": "The most a latency percentile may be: a duration, optionally after `<` (e.g. <200ms).",
            "examples": ["<200ms", "1s"]
        })
    }
}

/// A share written with a percent sign (`5%`, `0.5%`, `100%`), held as a fraction in [0, 1].
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Default)]
pub struct Percent(pub f64);

impl FromStr for Percent {
    type Err = InputError;
    fn from_str(s: &str) -> Result<Self, InputError> {
        let t = s.trim();
        let bad = |why: &str| {
            InputError::new(format!(
                "invalid percentage {s:?}: {why}; write a number from 0 to 100 followed by %, e.g. 5% or 0.5%"
            ))
        };
        let Some(num) = t.strip_suffix('%') else {
            return Err(match t.parse::<f64>() {
                Ok(v) if (0.0..=1.0).contains(&v) && v != 0.0 && v != 1.0 => bad(&format!(
                    "the % sign is missing (for a fraction of {v}, write {}%)",
                    v * 100.0
                )),
                Ok(_) => bad("the % sign is missing"),
                Err(_) => bad("it is not a number"),
            });
        };
        let v: f64 = num.trim().parse().map_err(|_| bad("it is not a number"))?;
        if !v.is_finite() || v < 0.0 {
            return Err(bad("it cannot be negative"));
        }
        if v > 100.0 {
            return Err(bad("it is over 100%"));
        }
        Ok(Percent(v / 100.0))
    }
}
deserialize_via_from_str!(Percent, "a percentage such as 5% or 0.5%");

impl fmt::Display for Percent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Round away float noise (0.1 + 0.2) so messages show what the user wrote.
        let v = (self.0 * 100.0 * 1e6).round() / 1e6;
        write!(f, "{v}%")
    }
}

impl JsonSchema for Percent {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Percent".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "pattern": r"^\s*(100(\.0+)?|[0-9]{1,2}(\.[0-9]+)?)\s*%\s*$",
            "description": "A percentage from 0% to 100% (e.g. 5%, 0.5%).",
            "examples": ["5%", "100%"]
        })
    }
}

/// Which HTTP statuses count as the expected answer: `401`, `2xx`, or a list of either.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatusSpec {
    /// Exactly this status.
    Exact(u16),
    /// Any status of this class: `Class(2)` is `2xx`.
    Class(u8),
    /// Any of these.
    AnyOf(Vec<StatusSpec>),
}

impl StatusSpec {
    /// True when `status` is one of the statuses this spec names.
    pub fn matches(&self, status: u16) -> bool {
        match self {
            StatusSpec::Exact(s) => *s == status,
            StatusSpec::Class(c) => status / 100 == u16::from(*c),
            StatusSpec::AnyOf(all) => all.iter().any(|s| s.matches(status)),
        }
    }
}

impl fmt::Display for StatusSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StatusSpec::Exact(s) => write!(f, "{s}"),
            StatusSpec::Class(c) => write!(f, "{c}xx"),
            StatusSpec::AnyOf(all) => {
                let items: Vec<String> = all.iter().map(ToString::to_string).collect();
                write!(f, "[{}]", items.join(", "))
            }
        }
    }
}

impl FromStr for StatusSpec {
    type Err = InputError;
    fn from_str(s: &str) -> Result<Self, InputError> {
        let t = s.trim();
        let bad = || {
            InputError::new(format!(
                "invalid status {s:?}: write a status from 100 to 599 (401), a class (2xx), or a list ([200, 202])"
            ))
        };
        if let Some(inner) = t.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
            let items: Result<Vec<_>, _> = inner.split(',').map(str::parse).collect();
            return match items {
                Ok(v) if !v.is_empty() => Ok(StatusSpec::AnyOf(v)),
                _ => Err(bad()),
            };
        }
        let lower = t.to_ascii_lowercase();
        if let Some(c) = lower.strip_suffix("xx") {
            return match c.parse::<u8>() {
                Ok(c @ 1..=5) => Ok(StatusSpec::Class(c)),
                _ => Err(bad()),
            };
        }
        match t.parse::<u16>() {
            Ok(n @ 100..=599) => Ok(StatusSpec::Exact(n)),
            _ => Err(bad()),
        }
    }
}

impl<'de> serde::Deserialize<'de> for StatusSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = StatusSpec;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a status (401), a class (2xx) or a list of them ([200, 202])")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<StatusSpec, E> {
                v.parse().map_err(|e: InputError| E::custom(e))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<StatusSpec, E> {
                self.visit_str(&v.to_string())
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<StatusSpec, E> {
                self.visit_str(&v.to_string())
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<StatusSpec, A::Error> {
                let mut all = Vec::new();
                while let Some(item) = seq.next_element::<StatusSpec>()? {
                    if all.len() >= 100 {
                        return Err(de::Error::custom("a status list holds at most 100 entries"));
                    }
                    all.push(item);
                }
                if all.is_empty() {
                    return Err(de::Error::custom(
                        "an empty status list matches nothing; name at least one status, e.g. [200, 202]",
                    ));
                }
                Ok(StatusSpec::AnyOf(all))
            }
        }
        d.deserialize_any(V)
    }
}

impl JsonSchema for StatusSpec {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "StatusSpec".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        let one = json_schema!({
            "anyOf": [
                { "type": "integer", "minimum": 100, "maximum": 599 },
                { "type": "string", "pattern": "^[1-5][xX][xX]$|^[1-5][0-9][0-9]$" }
            ]
        });
        json_schema!({
            "description": "An HTTP status (401), a class (2xx), or a list of them ([200, 202]).",
            "anyOf": [
                one.clone(),
                { "type": "array", "items": one, "minItems": 1 }
            ]
        })
    }
}

/// A size in bytes: `512B`, `64KiB`, `1MiB`, `1MB` (KB/MB/GB are powers of ten, KiB/MiB/GiB of two).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ByteSize(pub u64);

/// Sizes beyond 1 GiB are refused: the body is built in memory.
pub const MAX_BYTE_SIZE: u64 = 1 << 30;

fn parse_bytes(s: &str, what: &str, example: &str) -> Result<u64, InputError> {
    let t = s.trim();
    let bad = |why: &str| {
        InputError::new(format!(
            "invalid {what} {s:?}: {why}; use a number with a unit: B, KB, KiB, MB, MiB, GB or GiB (e.g. {example})"
        ))
    };
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let num: f64 = num.parse().map_err(|_| bad("expected a number first"))?;
    let mult: f64 = match unit.trim() {
        "B" | "b" => 1.0,
        "KB" | "kB" => 1e3,
        "MB" => 1e6,
        "GB" => 1e9,
        "KiB" => 1024.0,
        "MiB" => 1024.0 * 1024.0,
        "GiB" => 1024.0 * 1024.0 * 1024.0,
        "" => return Err(bad("the unit is missing")),
        other => return Err(bad(&format!("unknown unit {other:?}"))),
    };
    let v = num * mult;
    if !v.is_finite() || v > MAX_BYTE_SIZE as f64 {
        return Err(bad("it is over 1GiB"));
    }
    Ok(v.round() as u64)
}

impl FromStr for ByteSize {
    type Err = InputError;
    fn from_str(s: &str) -> Result<Self, InputError> {
        parse_bytes(s, "size", "1MiB").map(ByteSize)
    }
}
deserialize_via_from_str!(ByteSize, "a size such as 512B, 64KiB or 1MiB");

impl JsonSchema for ByteSize {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "ByteSize".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "pattern": r"^\s*[0-9]+(\.[0-9]+)?\s*(B|b|KB|kB|MB|GB|KiB|MiB|GiB)\s*$",
            "description": "A size in bytes with a unit: B, KB, KiB, MB, MiB, GB, GiB (e.g. 1MiB).",
            "examples": ["1MiB", "64KiB"]
        })
    }
}

/// A transfer rate in bytes per second: `64B/s`, `1KiB/s`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ByteRate(pub u64);

impl FromStr for ByteRate {
    type Err = InputError;
    fn from_str(s: &str) -> Result<Self, InputError> {
        let t = s.trim();
        let Some(size) = t.strip_suffix("/s") else {
            return Err(InputError::new(format!(
                "invalid rate {s:?}: write bytes per second, e.g. 64B/s or 1KiB/s"
            )));
        };
        let v = parse_bytes(size, "rate", "64B/s")?;
        if v == 0 {
            return Err(InputError::new(format!(
                "invalid rate {s:?}: a rate of zero never finishes; write at least 1B/s"
            )));
        }
        Ok(ByteRate(v))
    }
}
deserialize_via_from_str!(ByteRate, "a rate such as 64B/s or 1KiB/s");

impl JsonSchema for ByteRate {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "ByteRate".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "pattern": r"^\s*[0-9]+(\.[0-9]+)?\s*(B|b|KB|kB|MB|GB|KiB|MiB|GiB)/s\s*$",
            "description": "Bytes per second (e.g. 64B/s, 1KiB/s).",
            "examples": ["64B/s"]
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percents_need_the_sign_and_stay_in_range() {
        assert_eq!("5%".parse::<Percent>().unwrap(), Percent(0.05));
        assert_eq!(" 100 % ".parse::<Percent>().unwrap(), Percent(1.0));
        assert_eq!("0.5%".parse::<Percent>().unwrap().to_string(), "0.5%");
        let e = "0.05".parse::<Percent>().unwrap_err().to_string();
        assert!(
            e.contains("% sign is missing") && e.contains("write 5%"),
            "{e}"
        );
        assert!(
            "101%"
                .parse::<Percent>()
                .unwrap_err()
                .0
                .contains("over 100%")
        );
        assert!("-1%".parse::<Percent>().unwrap_err().0.contains("negative"));
        assert!("abc%".parse::<Percent>().is_err());
    }

    #[test]
    fn latency_bounds_take_an_optional_less_than() {
        assert_eq!(
            "<200ms".parse::<LatencyBound>().unwrap().0,
            Duration::from_millis(200)
        );
        assert_eq!(
            "1s".parse::<LatencyBound>().unwrap().0,
            Duration::from_secs(1)
        );
        assert!("<=1s".parse::<LatencyBound>().is_err());
        assert!("<1".parse::<LatencyBound>().is_err());
    }

    #[test]
    fn statuses_match_exact_class_and_lists() {
        let s: StatusSpec = "2xx".parse().unwrap();
        assert!(s.matches(204) && !s.matches(301));
        let s: StatusSpec = "[200, 4xx]".parse().unwrap();
        assert!(s.matches(200) && s.matches(404) && !s.matches(201));
        assert_eq!(s.to_string(), "[200, 4xx]");
        for bad in ["6xx", "99", "600", "abc", "[]", "2x"] {
            assert!(bad.parse::<StatusSpec>().is_err(), "{bad}");
        }
    }

    #[test]
    fn sizes_and_rates_use_units() {
        assert_eq!("1MiB".parse::<ByteSize>().unwrap(), ByteSize(1 << 20));
        assert_eq!("1MB".parse::<ByteSize>().unwrap(), ByteSize(1_000_000));
        assert_eq!("64B/s".parse::<ByteRate>().unwrap(), ByteRate(64));
        assert!(
            "64".parse::<ByteSize>()
                .unwrap_err()
                .0
                .contains("unit is missing")
        );
        assert!("2GiB".parse::<ByteSize>().is_err());
        assert!("0B/s".parse::<ByteRate>().is_err());
        assert!("64B".parse::<ByteRate>().is_err());
    }

    #[test]
    fn numbers_get_the_types_own_message() {
        let e = serde_json::from_str::<Dur>("5").unwrap_err().to_string();
        assert!(e.contains("unit is missing"), "{e}");
        let e = serde_json::from_str::<Percent>("0.5")
            .unwrap_err()
            .to_string();
        assert!(e.contains("% sign is missing"), "{e}");
        let s: StatusSpec = serde_json::from_str("[200, \"2xx\"]").unwrap();
        assert_eq!(
            s,
            StatusSpec::AnyOf(vec![StatusSpec::Exact(200), StatusSpec::Class(2)])
        );
    }
}
