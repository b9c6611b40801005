//! Raw YAML types -> model: the checks serde cannot express, for the top level (version,
//! target, vars, delivery, faults, expect); steps are `steps.rs`. Template references
//! are checked afterwards, on the model (`refs.rs`).

use super::at::At;
use super::diag::Problem;
use super::faults::{self, FaultRule, RawFault};
use super::model::*;
use super::raw::*;
use super::steps::Cx;
use super::value::TValue;
use crate::events::Flavor;
use crate::sign::Secret;

/// Most deliveries in flight a file may ask for.
pub const MAX_CONCURRENCY: u64 = 10_000;

/// `flavor` (from `--flavor`) wins over the file's `flavor:`; event names are checked
/// against the one that wins.
pub(crate) fn build(
    raw: RawScenario,
    origin: &str,
    flavor: Option<Flavor>,
) -> Result<Scenario, Problem> {
    let At {
        value: version,
        pos,
    } = raw.version;
    if version.0 != serde_json::json!(1) {
        return Err(Problem::new(
            pos,
            format!(
                "unsupported version {}: this cakemock reads `version: 1`",
                version.0
            ),
        ));
    }
    let flavor = flavor.or(raw.flavor).unwrap_or_default();
    let mut cx = Cx::new(flavor);
    let target = raw.target.map(target).transpose()?;
    let vars = Vars {
        entries: raw.vars.map(|m| vars(m.0)).transpose()?.unwrap_or_default(),
    };
    let delivery = match raw.delivery {
        None => Delivery::default(),
        Some(d) => Delivery {
            timeout: d.timeout.map(|t| t.0),
            retry: d.retry,
            concurrency: d
                .concurrency
                .map(|c| match c.value {
                    1..=MAX_CONCURRENCY => Ok(c.value as usize),
                    _ => Err(Problem::new(
                        c.pos,
                        format!("concurrency must be from 1 to {MAX_CONCURRENCY}"),
                    )),
                })
                .transpose()?,
        },
    };
    let faults = fault_list(raw.faults, flavor)?;
    let At { value: steps, pos } = raw.steps;
    let steps = steps.unwrap_or_default();
    if steps.is_empty() {
        return Err(Problem::new(
            pos,
            "`steps:` is empty; add at least one step, e.g. `- event: email.sent`",
        ));
    }
    let steps = cx.steps(steps)?;
    let expect = raw.expect.map(expect).transpose()?.unwrap_or_default();
    Ok(Scenario {
        origin: origin.to_string(),
        source: Default::default(),
        name: raw.name,
        seed: raw.seed,
        flavor,
        target,
        vars,
        delivery,
        faults,
        steps,
        expect,
    })
}

fn target(t: At<RawTarget>) -> Result<Target, Problem> {
    let At { value: t, pos } = t;
    if let Some(u) = &t.url
        && !(u.value.starts_with("http://") || u.value.starts_with("https://"))
    {
        return Err(Problem::new(
            u.pos,
            format!(
                "target url {:?} must start with http:// or https://",
                u.value
            ),
        ));
    }
    let secret = match (t.secret, t.secret_env) {
        (Some(_), Some(_)) => {
            return Err(Problem::new(
                pos,
                "target has both `secret` and `secret_env`; keep one (secret_env is safer in committed files)",
            ));
        }
        (Some(s), None) => Some(SecretSource::Literal(Secret::new(s))),
        (None, Some(e)) if e.value.is_empty() || e.value.contains(['=', '\0']) => {
            return Err(Problem::new(
                e.pos,
                "secret_env must name an environment variable, e.g. WEBHOOK_SECRET",
            ));
        }
        (None, Some(e)) => Some(SecretSource::Env(e.value)),
        (None, None) => None,
    };
    if let Some(h) = &t.signature_header
        && http::HeaderName::from_bytes(h.value.as_bytes()).is_err()
    {
        return Err(Problem::new(
            h.pos,
            format!(
                "signature_header {:?} is not a valid HTTP header name (letters, digits and -)",
                h.value
            ),
        ));
    }
    Ok(Target {
        url: t.url.map(|u| u.value),
        secret,
        signature: t.signature,
        signature_header: t.signature_header.map(|h| h.value),
    })
}

/// A var name must be usable in `{{ vars.NAME }}`.
pub(crate) fn is_name(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == '-')
}

fn vars(entries: Vec<(At<String>, At<TValue>)>) -> Result<Vec<(String, TValue)>, Problem> {
    let mut out = Vec::with_capacity(entries.len());
    for (k, v) in entries {
        if !is_name(&k.value) {
            return Err(Problem::new(
                k.pos,
                format!(
                    "var name {:?} cannot be used in {{{{ vars.NAME }}}}; use letters, digits, _ and -",
                    k.value
                ),
            ));
        }
        let At { mut value, pos } = v;
        value.set_pos(pos);
        out.push((k.value, value));
    }
    Ok(out)
}

pub(crate) fn fault_list(
    list: Option<Vec<At<RawFault>>>,
    flavor: Flavor,
) -> Result<Vec<FaultRule>, Problem> {
    list.unwrap_or_default()
        .into_iter()
        .map(|f| faults::check(f, flavor))
        .collect()
}

fn expect(e: RawExpect) -> Result<Expect, Problem> {
    let latency = [
        ("p50_latency", 50.0, e.p50_latency),
        ("p90_latency", 90.0, e.p90_latency),
        ("p95_latency", 95.0, e.p95_latency),
        ("p99_latency", 99.0, e.p99_latency),
        ("p999_latency", 99.9, e.p999_latency),
    ]
    .into_iter()
    .filter_map(|(key, percentile, b)| {
        b.map(|b| LatencyExpect {
            key,
            percentile,
            max: b.0,
        })
    })
    .collect();
    let max_attempts = match e.max_attempts {
        None => None,
        Some(At { value: 0, pos }) => {
            return Err(Problem::new(pos, "max_attempts must be at least 1"));
        }
        Some(a) => Some(u32::try_from(a.value).unwrap_or(u32::MAX)),
    };
    Ok(Expect {
        delivered: e.delivered.map(|p| p.0),
        latency,
        faults: e
            .faults
            .map(|m| m.0.into_iter().map(|(k, v)| (k.value, v)).collect())
            .unwrap_or_default(),
        max_attempts,
    })
}
