//! Retry schedules: the presets of SPEC section 5 (`none`, `fast`, `cakemail`, `svix`,
//! `standard`) or an explicit list of delays (`[0s, 1s, 5s]`, `0s,1s,5s`), jitter that
//! never makes a retry early, and `Retry-After` parsing with a documented clamp.
//! Pure functions: randomness and the current time come in as arguments.

use std::fmt;
use std::str::FromStr;
use std::time::{Duration, SystemTime};

use crate::InputError;
use crate::clock::{format_duration, parse_duration};

/// The longest `Retry-After` cakemock honours; a larger value is clamped to this.
///
/// Ten minutes: a receiver under test that answers `Retry-After: 86400` (or a date
/// next week) must not park a local or CI run for a day, yet 10 minutes is longer
/// than any rate-limit window a test realistically sets, so honest back-off is still
/// honoured. It is scenario time, so `--speed` shrinks it like any other delay.
pub const RETRY_AFTER_MAX: Duration = Duration::from_secs(600);

/// The most delays an explicit list may hold: enough for any real schedule, and a
/// bound on what a typo in a generated file can ask for.
pub const MAX_RETRIES: usize = 1000;

const fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}
const fn s(n: u64) -> Duration {
    Duration::from_secs(n)
}
const fn m(n: u64) -> Duration {
    Duration::from_secs(n * 60)
}
const fn h(n: u64) -> Duration {
    Duration::from_secs(n * 3600)
}

/// The named presets and their delays, in the order errors and help list them.
pub const PRESETS: [(&str, &[Duration]); 5] = [
    ("none", &[]),
    // For CI: five quick retries, 3.1 s in all.
    ("fast", &[ms(100), ms(200), ms(400), ms(800), ms(1600)]),
    // cakemock's choice for Cakemail (no Cakemail source documents a schedule); `run`'s default.
    ("cakemail", &[s(5), s(30), m(2), m(10), m(30), h(1)]),
    // Svix's published schedule.
    ("svix", &[s(5), m(5), m(30), h(2), h(5), h(10), h(10)]),
    // The Standard Webhooks spec's suggested schedule.
    (
        "standard",
        &[s(5), m(5), m(30), h(2), h(5), h(10), h(14), h(20), h(24)],
    ),
];

/// Delays before each retry: `none`, `fast`, `cakemail`, `svix`, `standard`, or a list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    delays: Vec<Duration>,
}

impl RetryPolicy {
    /// No retries.
    pub fn none() -> Self {
        RetryPolicy { delays: Vec::new() }
    }

    /// A named preset (`fast`, `cakemail`, ...), or `None` if there is no such preset.
    pub fn preset(name: &str) -> Option<Self> {
        PRESETS
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name.trim()))
            .map(|(_, d)| RetryPolicy { delays: d.to_vec() })
    }

    /// An explicit schedule: `delays[0]` before retry 1, and so on.
    pub fn from_delays(delays: Vec<Duration>) -> Self {
        RetryPolicy { delays }
    }

    /// The delays before retry 1, 2, ...
    pub fn delays(&self) -> &[Duration] {
        &self.delays
    }

    /// The delay before retry number `retry` (1-based), or `None` when retries are used up.
    pub fn delay_before(&self, retry: u32) -> Option<Duration> {
        let i = usize::try_from(retry).ok()?.checked_sub(1)?;
        self.delays.get(i).copied()
    }

    /// The most attempts an event gets: the first one plus one per delay.
    pub fn max_attempts(&self) -> usize {
        self.delays.len() + 1
    }

    /// The preset these delays are, if any (`none` for an empty list).
    pub fn name(&self) -> Option<&'static str> {
        PRESETS
            .iter()
            .find(|(_, d)| *d == self.delays.as_slice())
            .map(|(n, _)| *n)
    }
}

impl fmt::Display for RetryPolicy {
    /// The preset name, or the list in the form `FromStr` reads back: `[0s, 1.5s, 2m]`
    /// (to the precision `format_duration` shows).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(name) = self.name() {
            return f.write_str(name);
        }
        let items: Vec<String> = self
            .delays
            .iter()
            .map(|d| match d.is_zero() {
                true => "0s".to_string(),
                false => format_duration(*d),
            })
            .collect();
        write!(f, "[{}]", items.join(", "))
    }
}

fn preset_names() -> String {
    let names: Vec<&str> = PRESETS.iter().map(|(n, _)| *n).collect();
    names.join(", ")
}

const LIST_FORM: &str = "or a list of the delays before each retry, e.g. [0s, 1s, 5s] or 0s,1s,5s";

impl FromStr for RetryPolicy {
    type Err = InputError;

    /// A preset name (any case), or a list of durations, bracketed or not. A lone
    /// duration (`5s`) is a list of one: a single retry after 5 s.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        if let Some(p) = RetryPolicy::preset(t) {
            return Ok(p);
        }
        let looks_like_list =
            t.starts_with('[') || t.contains(',') || t.starts_with(|c: char| c.is_ascii_digit());
        if !looks_like_list {
            let hint = match crate::error::did_you_mean(t, PRESETS.iter().map(|(n, _)| *n)) {
                Some(near) => format!(" (did you mean {near:?}?)"),
                None => String::new(),
            };
            return Err(InputError::new(format!(
                "unknown retry policy {s:?}{hint}: use a preset ({}), {LIST_FORM}",
                preset_names()
            )));
        }
        let inner = match (t.strip_prefix('['), t.ends_with(']')) {
            (Some(rest), true) => &rest[..rest.len() - 1],
            (None, false) => t,
            _ => {
                return Err(InputError::new(format!(
                    "invalid retry list {s:?}: the brackets do not match; write [0s, 1s, 5s] or 0s,1s,5s"
                )));
            }
        };
        if inner.trim().is_empty() {
            return Ok(RetryPolicy::none());
        }
        let items: Vec<&str> = inner.split(',').collect();
        if items.len() > MAX_RETRIES {
            return Err(InputError::new(format!(
                "retry list has {} delays; at most {MAX_RETRIES} are allowed",
                items.len()
            )));
        }
        let mut delays = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let item = item.trim();
            if item.is_empty() {
                return Err(InputError::new(format!(
                    "invalid retry list {s:?}: delay {} is empty (a stray comma?); {LIST_FORM}",
                    i + 1
                )));
            }
            let d = parse_duration(item).map_err(|e| {
                InputError::new(format!("invalid retry list {s:?}: delay {}: {e}", i + 1))
            })?;
            delays.push(d);
        }
        Ok(RetryPolicy { delays })
    }
}

/// Scenario files write `retry: fast` or `retry: [0s, 1s, 5s]`: a string (anything
/// `FromStr` takes) or a sequence of durations.
impl<'de> serde::Deserialize<'de> for RetryPolicy {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = RetryPolicy;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "a retry preset ({}) {LIST_FORM}", preset_names())
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<RetryPolicy, E> {
                v.parse().map_err(E::custom)
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<RetryPolicy, A::Error> {
                use serde::de::Error as _;
                let mut delays = Vec::new();
                while let Some(item) = seq.next_element::<String>()? {
                    if delays.len() == MAX_RETRIES {
                        return Err(A::Error::custom(format!(
                            "a retry list holds at most {MAX_RETRIES} delays"
                        )));
                    }
                    let d = parse_duration(&item).map_err(|e| {
                        A::Error::custom(format!("retry delay {}: {e}", delays.len() + 1))
                    })?;
                    delays.push(d);
                }
                Ok(RetryPolicy { delays })
            }
        }
        d.deserialize_any(Visitor)
    }
}

/// Written as its `Display` form (`fast`, `[0s, 1s]`), e.g. in JSON reports.
impl serde::Serialize for RetryPolicy {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// `base` plus 0-10% jitter drawn from `unit` (a uniform number in [0, 1)); never less than `base`.
pub fn with_jitter(base: Duration, unit: f64) -> Duration {
    // A caller's bad draw (NaN, negative, >= 1) must not panic or make a retry early.
    let unit = if unit.is_finite() {
        unit.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let extra = Duration::try_from_secs_f64(base.as_secs_f64() * 0.1 * unit).unwrap_or_default();
    base.saturating_add(extra)
}

/// A `Retry-After` header value (delta seconds or an HTTP date) as a wait from `now`,
/// clamped to [`RETRY_AFTER_MAX`]; `None` when it does not parse.
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let v = value.trim();
    if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) {
        // Too many digits for u64 is still "a very long time": clamp rather than ignore.
        let secs = v.parse::<u64>().unwrap_or(u64::MAX);
        return Some(Duration::from_secs(secs).min(RETRY_AFTER_MAX));
    }
    let at = httpdate::parse_http_date(v).ok()?;
    // A date in the past means "retry now".
    let wait = at.duration_since(now).unwrap_or(Duration::ZERO);
    Some(wait.min(RETRY_AFTER_MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> RetryPolicy {
        s.parse().unwrap()
    }

    #[test]
    fn presets_match_the_spec() {
        assert_eq!(p("none").delays(), []);
        assert_eq!(
            p("fast").delays(),
            [ms(100), ms(200), ms(400), ms(800), ms(1600)]
        );
        assert_eq!(
            p("cakemail").delays(),
            [s(5), s(30), s(120), s(600), s(1800), s(3600)]
        );
        assert_eq!(p("svix").delays().len(), 7);
        assert_eq!(p("svix").delays()[6], h(10));
        assert_eq!(p("standard").delays().len(), 9);
        assert_eq!(p("standard").delays()[8], h(24));
        assert_eq!(p(" Fast "), p("fast"));
        assert_eq!(RetryPolicy::none(), p("none"));
    }

    #[test]
    fn lists_parse_with_or_without_brackets() {
        let want = RetryPolicy::from_delays(vec![s(0), s(1), s(5)]);
        assert_eq!(p("[0s, 1s, 5s]"), want);
        assert_eq!(p("0s,1s,5s"), want);
        assert_eq!(p(" [ 0s ,1s,5s ] "), want);
        assert_eq!(p("5s").delays(), [s(5)]);
        assert_eq!(p("[]"), RetryPolicy::none());
        assert_eq!(p("[250ms, 1h30m]").delays(), [ms(250), m(90)]);
    }

    #[test]
    fn delay_before_counts_from_one_and_runs_out() {
        let r = p("[1s, 2s]");
        assert_eq!(r.delay_before(0), None);
        assert_eq!(r.delay_before(1), Some(s(1)));
        assert_eq!(r.delay_before(2), Some(s(2)));
        assert_eq!(r.delay_before(3), None);
        assert_eq!(r.max_attempts(), 3);
        assert_eq!(RetryPolicy::none().delay_before(1), None);
    }

    #[test]
    fn display_round_trips() {
        for text in [
            "none",
            "fast",
            "cakemail",
            "svix",
            "standard",
            "[0s, 1.5s, 2m]",
        ] {
            let r = p(text);
            assert_eq!(r.to_string(), text);
            assert_eq!(p(&r.to_string()), r);
        }
        assert_eq!(p("[]").to_string(), "none");
        assert_eq!(p("0.1s,0.2s,0.4s,0.8s,1.6s").name(), Some("fast"));
    }

    #[test]
    fn unknown_names_list_presets_suggest_one_and_show_the_list_form() {
        let e = "fsat".parse::<RetryPolicy>().unwrap_err().to_string();
        assert!(e.contains("\"fsat\""), "{e}");
        assert!(e.contains("did you mean \"fast\""), "{e}");
        assert!(e.contains("none, fast, cakemail, svix, standard"), "{e}");
        assert!(e.contains("[0s, 1s, 5s]"), "{e}");
        let e = "exponential"
            .parse::<RetryPolicy>()
            .unwrap_err()
            .to_string();
        assert!(!e.contains("did you mean"), "{e}");
        assert!(e.contains("cakemail"), "{e}");
    }

    #[test]
    fn bad_lists_name_the_bad_delay() {
        let e = "[0s, 1x, 5s]"
            .parse::<RetryPolicy>()
            .unwrap_err()
            .to_string();
        assert!(e.contains("delay 2") && e.contains("\"1x\""), "{e}");
        let e = "0s,,5s".parse::<RetryPolicy>().unwrap_err().to_string();
        assert!(e.contains("delay 2 is empty"), "{e}");
        let e = "[0s, 1s".parse::<RetryPolicy>().unwrap_err().to_string();
        assert!(e.contains("brackets"), "{e}");
        let e = "1,2".parse::<RetryPolicy>().unwrap_err().to_string();
        assert!(e.contains("unit is missing"), "{e}");
        let many = vec!["1s"; MAX_RETRIES + 1].join(",");
        assert!(many.parse::<RetryPolicy>().is_err());
    }

    #[test]
    fn deserializes_from_a_name_or_a_list() {
        let r: RetryPolicy = serde_json::from_str(r#""fast""#).unwrap();
        assert_eq!(r, p("fast"));
        let r: RetryPolicy = serde_json::from_str(r#"["0s", "1s", "5s"]"#).unwrap();
        assert_eq!(r, p("[0s, 1s, 5s]"));
        let e = serde_json::from_str::<RetryPolicy>(r#"["0s", "soon"]"#).unwrap_err();
        assert!(e.to_string().contains("retry delay 2"), "{e}");
        let e = serde_json::from_str::<RetryPolicy>(r#""fastt""#).unwrap_err();
        assert!(e.to_string().contains("did you mean"), "{e}");
        assert!(serde_json::from_str::<RetryPolicy>("5").is_err());
        assert_eq!(serde_json::to_string(&p("[1s]")).unwrap(), r#""[1s]""#);
    }

    #[test]
    fn jitter_adds_up_to_ten_percent_and_never_less() {
        assert_eq!(with_jitter(s(10), 0.0), s(10));
        assert_eq!(with_jitter(s(10), 0.5), ms(10_500));
        let top = with_jitter(s(10), 0.999_999);
        assert!(top > s(10) && top < s(11), "{top:?}");
        assert_eq!(with_jitter(Duration::ZERO, 0.7), Duration::ZERO);
        for bad in [f64::NAN, -1.0, f64::INFINITY] {
            assert_eq!(with_jitter(s(10), bad), s(10), "{bad}");
        }
        assert_eq!(with_jitter(s(10), 7.0), s(11));
        assert_eq!(with_jitter(Duration::MAX, 0.5), Duration::MAX);
    }

    #[test]
    fn retry_after_reads_seconds_and_dates_and_clamps() {
        let now = httpdate::parse_http_date("Fri, 15 Mar 2024 10:30:00 GMT").unwrap();
        assert_eq!(parse_retry_after("120", now), Some(s(120)));
        assert_eq!(parse_retry_after(" 0 ", now), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("86400", now), Some(RETRY_AFTER_MAX));
        assert_eq!(
            parse_retry_after("99999999999999999999999", now),
            Some(RETRY_AFTER_MAX)
        );
        assert_eq!(
            parse_retry_after("Fri, 15 Mar 2024 10:31:30 GMT", now),
            Some(s(90))
        );
        assert_eq!(
            parse_retry_after("Fri, 15 Mar 2024 10:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(
            parse_retry_after("Sat, 16 Mar 2024 10:30:00 GMT", now),
            Some(RETRY_AFTER_MAX)
        );
        for garbage in ["", "soon", "-5", "1.5", "5s", "Fri, 15 Mar 2024"] {
            assert_eq!(parse_retry_after(garbage, now), None, "{garbage:?}");
        }
    }
}
