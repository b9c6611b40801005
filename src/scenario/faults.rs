//! Fault rules as a scenario writes them (SPEC 6): `{kind, p | every | first, events,
//! <parameters>}`, run-wide or on a step. This file parses and checks them (kind, one
//! selector, events of the flavor, which parameters each kind takes); what each fault
//! does and the parameters' defaults belong to the fault engine.

use std::fmt;

use schemars::JsonSchema;
use serde::Deserialize;

use super::at::At;
use super::diag::Problem;
use super::raw::EventName;
use super::units::{ByteRate, ByteSize, Dur, Percent};
use crate::events::Flavor;

/// Every fault kind of SPEC 6.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum FaultKind {
    BadSignature,
    MissingSignature,
    TamperedBody,
    StaleTimestamp,
    FutureTimestamp,
    MalformedJson,
    NoncanonicalJson,
    UnknownEvent,
    ExtraFields,
    Oversized,
    WrongContentType,
    Duplicate,
    Reorder,
    Drop,
    Delay,
    Burst,
    SlowBody,
    AbortMidBody,
    Reset,
}

impl FaultKind {
    /// Every kind with its name, in SPEC order.
    pub const ALL: [(FaultKind, &'static str); 19] = [
        (FaultKind::BadSignature, "bad_signature"),
        (FaultKind::MissingSignature, "missing_signature"),
        (FaultKind::TamperedBody, "tampered_body"),
        (FaultKind::StaleTimestamp, "stale_timestamp"),
        (FaultKind::FutureTimestamp, "future_timestamp"),
        (FaultKind::MalformedJson, "malformed_json"),
        (FaultKind::NoncanonicalJson, "noncanonical_json"),
        (FaultKind::UnknownEvent, "unknown_event"),
        (FaultKind::ExtraFields, "extra_fields"),
        (FaultKind::Oversized, "oversized"),
        (FaultKind::WrongContentType, "wrong_content_type"),
        (FaultKind::Duplicate, "duplicate"),
        (FaultKind::Reorder, "reorder"),
        (FaultKind::Drop, "drop"),
        (FaultKind::Delay, "delay"),
        (FaultKind::Burst, "burst"),
        (FaultKind::SlowBody, "slow_body"),
        (FaultKind::AbortMidBody, "abort_mid_body"),
        (FaultKind::Reset, "reset"),
    ];

    pub fn as_str(self) -> &'static str {
        FaultKind::ALL
            .iter()
            .find(|(k, _)| *k == self)
            .map_or("drop", |(_, n)| n)
    }

    /// The parameters this kind takes (names as written in YAML).
    pub fn params(self) -> &'static [&'static str] {
        use FaultKind::*;
        match self {
            StaleTimestamp | FutureTimestamp => &["by"],
            UnknownEvent => &["event"],
            ExtraFields => &["count"],
            Oversized => &["size"],
            WrongContentType => &["content_type"],
            Duplicate => &["copies", "delay"],
            Reorder => &["window"],
            Delay => &["by", "jitter"],
            Burst => &["count"],
            SlowBody => &["rate"],
            BadSignature | MissingSignature | TamperedBody | MalformedJson | NoncanonicalJson
            | Drop | AbortMidBody | Reset => &[],
        }
    }
}

impl fmt::Display for FaultKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A checked fault rule.
#[derive(Debug, Clone, PartialEq)]
pub struct FaultRule {
    pub kind: FaultKind,
    pub selector: Selector,
    /// Parameters as written; `None` = the fault engine's default.
    pub params: FaultParams,
}

/// Which events a rule applies to: those named in `events` (all when `None`), and of
/// those, the ones `pick` selects.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Selector {
    pub events: Option<Vec<String>>,
    pub pick: Pick,
}

/// At most one of `p`, `every`, `first`.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum Pick {
    /// No selector: every event the rule covers.
    #[default]
    All,
    /// `p: 5%`: each event with this (seeded) probability, a fraction in [0, 1].
    Probability(f64),
    /// `every: N`: the Nth, 2Nth, ... event.
    Every(u64),
    /// `first: N`: the first N events.
    First(u64),
}

/// A rule's parameters; which ones a kind takes is [`FaultKind::params`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FaultParams {
    pub by: Option<std::time::Duration>,
    pub jitter: Option<std::time::Duration>,
    pub delay: Option<std::time::Duration>,
    pub copies: Option<u32>,
    pub window: Option<u32>,
    pub count: Option<u32>,
    /// Bytes.
    pub size: Option<u64>,
    /// Bytes per second.
    pub rate: Option<u64>,
    pub event: Option<String>,
    pub content_type: Option<String>,
}

/// A fault rule as written in YAML.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(
    deny_unknown_fields,
    expecting = "a fault rule: {kind: NAME, p: 5%, ...}"
)]
#[schemars(
    rename = "FaultRule",
    title = "Fault rule",
    description = "A fault rule (SPEC 6): a kind, at most one of p/every/first, optional events, and the kind's parameters."
)]
pub(crate) struct RawFault {
    /// The fault to inject.
    kind: FaultKind,
    /// Apply to each event with this probability (seeded).
    p: Option<Percent>,
    /// Apply to every Nth event.
    #[schemars(range(min = 1))]
    every: Option<At<u64>>,
    /// Apply to the first N events.
    #[schemars(range(min = 1))]
    first: Option<At<u64>>,
    /// Only events with these names.
    #[schemars(with = "Option<Vec<EventName>>")]
    events: Option<Vec<At<String>>>,
    /// stale_timestamp, future_timestamp: how far off; delay: how long.
    by: Option<Dur>,
    /// delay: random extra up to this.
    jitter: Option<Dur>,
    /// duplicate: wait this long before the copies.
    delay: Option<Dur>,
    /// duplicate: how many deliveries in all.
    #[schemars(range(min = 1))]
    copies: Option<At<u32>>,
    /// reorder: how many events may overtake one held back.
    #[schemars(range(min = 1))]
    window: Option<At<u32>>,
    /// extra_fields: how many fields; burst: how many events at once.
    #[schemars(range(min = 1))]
    count: Option<At<u32>>,
    /// oversized: the body size.
    size: Option<ByteSize>,
    /// slow_body: bytes per second.
    rate: Option<ByteRate>,
    /// unknown_event: the event name to send.
    event: Option<String>,
    /// wrong_content_type: the Content-Type to send.
    content_type: Option<String>,
}

/// Checks a rule read from YAML; `pos` is where the rule starts.
pub(crate) fn check(raw: At<RawFault>, flavor: Flavor) -> Result<FaultRule, Problem> {
    let At { value: r, pos } = raw;
    let picks: Vec<&str> = [
        r.p.map(|_| "p"),
        r.every.as_ref().map(|_| "every"),
        r.first.as_ref().map(|_| "first"),
    ]
    .into_iter()
    .flatten()
    .collect();
    if picks.len() > 1 {
        return Err(Problem::new(
            pos,
            format!(
                "this {} rule has {}: use at most one of p, every, first (add `events: [...]` to narrow by name)",
                r.kind,
                picks.join(" and ")
            ),
        ));
    }
    let positive = |v: &Option<At<u64>>, key: &str| -> Result<(), Problem> {
        match v {
            Some(At { value: 0, pos }) => Err(Problem::new(
                *pos,
                format!("`{key}: 0` selects nothing; use 1 or more"),
            )),
            _ => Ok(()),
        }
    };
    positive(&r.every, "every")?;
    positive(&r.first, "first")?;
    let pick = match (r.p, &r.every, &r.first) {
        (Some(p), _, _) => Pick::Probability(p.0),
        (_, Some(e), _) => Pick::Every(e.value),
        (_, _, Some(f)) => Pick::First(f.value),
        _ => Pick::All,
    };
    let events = match r.events {
        None => None,
        Some(list) => {
            let mut names = Vec::with_capacity(list.len());
            for At { value, pos } in list {
                check_event(&value, flavor).map_err(|m| Problem::new(pos, m))?;
                names.push(value);
            }
            Some(names)
        }
    };
    let given: Vec<&str> = [
        ("by", r.by.is_some()),
        ("jitter", r.jitter.is_some()),
        ("delay", r.delay.is_some()),
        ("copies", r.copies.is_some()),
        ("window", r.window.is_some()),
        ("count", r.count.is_some()),
        ("size", r.size.is_some()),
        ("rate", r.rate.is_some()),
        ("event", r.event.is_some()),
        ("content_type", r.content_type.is_some()),
    ]
    .into_iter()
    .filter_map(|(n, set)| set.then_some(n))
    .collect();
    let allowed = r.kind.params();
    if let Some(bad) = given.iter().find(|g| !allowed.contains(g)) {
        let takes = match allowed {
            [] => "takes no parameters".to_string(),
            all => format!("takes: {}", all.join(", ")),
        };
        return Err(Problem::new(
            pos,
            format!(
                "`{bad}` is not a parameter of {}; {} {takes}",
                r.kind, r.kind
            ),
        ));
    }
    for (v, key) in [
        (&r.copies, "copies"),
        (&r.window, "window"),
        (&r.count, "count"),
    ] {
        if let Some(At { value: 0, pos }) = v {
            return Err(Problem::new(
                *pos,
                format!("`{key}: 0` does nothing; use 1 or more"),
            ));
        }
    }
    Ok(FaultRule {
        kind: r.kind,
        selector: Selector { events, pick },
        params: FaultParams {
            by: r.by.map(|d| d.0),
            jitter: r.jitter.map(|d| d.0),
            delay: r.delay.map(|d| d.0),
            copies: r.copies.map(|v| v.value),
            window: r.window.map(|v| v.value),
            count: r.count.map(|v| v.value),
            size: r.size.map(|s| s.0),
            rate: r.rate.map(|s| s.0),
            event: r.event,
            content_type: r.content_type,
        },
    })
}

/// Parses a command-line rule, `KIND[:key=value,...]` (e.g. `bad_signature:p=5%`,
/// `duplicate:copies=3,delay=1s`, `drop:events=email.opened|email.clicked`), by the
/// same rules and messages as a YAML rule; event names are checked against `flavor`.
pub fn parse_cli(spec: &str, flavor: Flavor) -> Result<FaultRule, crate::InputError> {
    let bad = |why: String| {
        crate::InputError::new(format!(
            "--fault {spec:?}: {why}; expected KIND[:key=value,...], e.g. bad_signature:p=5% or duplicate:copies=3,delay=1s"
        ))
    };
    let (kind, rest) = spec.trim().split_once(':').unwrap_or((spec.trim(), ""));
    let known = FaultKind::ALL.iter().map(|(_, n)| *n);
    if !FaultKind::ALL.iter().any(|(_, n)| *n == kind) {
        let hint = crate::error::did_you_mean(kind, known.clone())
            .map(|m| format!(" (did you mean {m}?)"))
            .unwrap_or_default();
        let all: Vec<&str> = known.collect();
        return Err(bad(format!(
            "unknown fault kind {kind:?}{hint}; kinds: {}",
            all.join(", ")
        )));
    }
    let mut yaml = format!("{{kind: {kind}");
    for pair in rest.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let Some((key, value)) = pair.split_once('=') else {
            return Err(bad(format!("{pair:?} is not key=value")));
        };
        let (key, value) = (key.trim(), value.trim());
        if !key.chars().all(|c| c.is_ascii_lowercase() || c == '_') || key.is_empty() {
            return Err(bad(format!("{key:?} is not a parameter name")));
        }
        // Strings are quoted (JSON strings are YAML); other values keep their YAML type.
        let value = match key {
            "events" => format!(
                "[{}]",
                value
                    .split('|')
                    .map(|e| serde_json::Value::from(e.trim()).to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            "event" | "content_type" => serde_json::Value::from(value).to_string(),
            _ if value
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || ".%/_-".contains(c))
                && !value.is_empty() =>
            {
                value.to_string()
            }
            _ => return Err(bad(format!("{value:?} is not a valid value for {key}"))),
        };
        yaml.push_str(&format!(", {key}: {value}"));
    }
    yaml.push('}');
    let text = format!("version: 1\nfaults:\n  - {yaml}\nsteps:\n  - wait: 1s\n");
    let options = super::LoadOptions {
        flavor: Some(flavor),
        ..super::LoadOptions::default()
    };
    match super::load_str_with(&text, "--fault", &options) {
        Ok(mut s) if !s.faults.is_empty() => Ok(s.faults.remove(0)),
        Ok(_) => Err(bad("no rule".into())),
        Err(e) => {
            // Keep the message, not the synthetic file's place and excerpt.
            let first = e.0.lines().next().unwrap_or_default();
            let msg = first
                .strip_prefix("--fault:")
                .map(|r| r.splitn(3, ':').nth(2).unwrap_or(r))
                .unwrap_or(first)
                .trim();
            Err(bad(msg.to_string()))
        }
    }
}

/// An event name of `flavor`, or a message naming the closest and the valid ones.
pub(crate) fn check_event(name: &str, flavor: Flavor) -> Result<(), String> {
    super::steps::find_event(name, flavor).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(yaml: &str) -> Result<FaultRule, String> {
        let text = format!("version: 1\nfaults:\n  - {yaml}\nsteps:\n  - wait: 1s\n");
        crate::scenario::load_str(&text, "f.yaml")
            .map(|mut s| s.faults.remove(0))
            .map_err(|e| e.0)
    }

    #[test]
    fn parameters_are_typed_and_belong_to_their_kind() {
        let r = rule("{ kind: duplicate, copies: 3, delay: 2s, first: 10 }").unwrap();
        assert_eq!(r.params.copies, Some(3));
        assert_eq!(r.params.delay, Some(std::time::Duration::from_secs(2)));
        assert_eq!(r.selector.pick, Pick::First(10));
        let r = rule("{ kind: slow_body, rate: 64B/s }").unwrap();
        assert_eq!(r.params.rate, Some(64));
        let r = rule("{ kind: oversized, size: 1MiB, every: 3 }").unwrap();
        assert_eq!(
            (r.params.size, r.selector.pick),
            (Some(1 << 20), Pick::Every(3))
        );
        let e = rule("{ kind: reset, by: 1s }").unwrap_err();
        assert!(e.contains("reset takes no parameters"), "{e}");
        let e = rule("{ kind: delay, jiter: 1s }").unwrap_err();
        assert!(e.contains("did you mean `jitter`"), "{e}");
        let e = rule("{ kind: drop, every: 0 }").unwrap_err();
        assert!(e.contains("every: 0"), "{e}");
    }

    #[test]
    fn command_line_rules_parse_like_yaml_ones() {
        let r = parse_cli("duplicate:copies=3,delay=1s,first=2", Flavor::Docs).unwrap();
        assert_eq!(r.params.copies, Some(3));
        assert_eq!(r.selector.pick, Pick::First(2));
        let r = parse_cli("bad_signature:p=5%", Flavor::Docs).unwrap();
        assert_eq!(r.selector.pick, Pick::Probability(0.05));
        let r = parse_cli("drop:events=email.opened|email.clicked", Flavor::Docs).unwrap();
        assert_eq!(r.selector.events.unwrap().len(), 2);
        let r = parse_cli(
            "wrong_content_type:content_type=text/xml; charset=x",
            Flavor::Docs,
        )
        .unwrap();
        assert_eq!(
            r.params.content_type.as_deref(),
            Some("text/xml; charset=x")
        );
        assert_eq!(
            parse_cli("reset", Flavor::Docs).unwrap().kind,
            FaultKind::Reset
        );
        let e = parse_cli("bad_signatur", Flavor::Docs).unwrap_err().0;
        assert!(e.contains("did you mean bad_signature"), "{e}");
        let e = parse_cli("reset:by=1s", Flavor::Docs).unwrap_err().0;
        assert!(
            e.contains("reset takes no parameters") && !e.contains("line"),
            "{e}"
        );
        let e = parse_cli("drop:events=email.opend", Flavor::Docs)
            .unwrap_err()
            .0;
        assert!(e.contains("email.opened"), "{e}");
        let e = parse_cli("drop:every", Flavor::Docs).unwrap_err().0;
        assert!(e.contains("not key=value"), "{e}");
    }

    #[test]
    fn every_kind_has_a_name_that_parses_back() {
        for (kind, name) in FaultKind::ALL {
            assert_eq!(kind.as_str(), name);
            assert_eq!(rule(&format!("{{ kind: {name} }}")).unwrap().kind, kind);
        }
    }
}
