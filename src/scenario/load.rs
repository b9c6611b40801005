//! Bytes -> validated `Scenario`, bounded. The size cap is checked before reading, UTF-8
//! and emptiness before parsing, and serde-saphyr's budget (depth, nodes, aliases)
//! during parsing, so an alias bomb or a huge file is refused in milliseconds. Parser
//! errors are reworded ("did you mean", what is valid) and rendered with a snippet.

use std::io::Read;
use std::path::Path;
use std::sync::Arc;

use serde_saphyr::{Budget, DeserializeError as YamlError, MessageFormatter, Options};

use super::diag::{hint, render};
use super::model::{Pos, Scenario, Source, Step, StepKind};
use super::raw::RawScenario;
use super::{check, refs, vars};
use crate::InputError;
use crate::events::Flavor;

/// The largest scenario file read: 10 MiB. Hand-written scenarios are a few KiB and the
/// generators (`campaign`, `repeat`) make big runs from small files, so anything larger
/// is a mistake (a log, a binary) and is refused before a byte of it is parsed.
pub const MAX_FILE_BYTES: u64 = 10 * 1024 * 1024;

/// Deepest nesting of lists and mappings; real scenarios stay under 15.
pub const MAX_DEPTH: usize = 64;

/// Default cap on the events a scenario may generate (campaign contacts x funnel,
/// repeats): a typo such as `times: 1000000000` is refused instead of running for days.
pub const MAX_EVENTS: u64 = 10_000_000;

/// How to load: `--set` overrides and limits.
#[derive(Debug, Clone)]
pub struct LoadOptions {
    /// `vars.NAME=VALUE` assignments, applied in order before templates are checked.
    pub sets: Vec<String>,
    /// The most events the scenario may generate (see [`MAX_EVENTS`]).
    pub max_events: u64,
    /// `--flavor`: replaces the file's `flavor:` before event names are checked.
    pub flavor: Option<Flavor>,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            sets: Vec::new(),
            max_events: MAX_EVENTS,
            flavor: None,
        }
    }
}

pub(crate) fn load_file(path: &Path, options: &LoadOptions) -> Result<Scenario, InputError> {
    let origin = path.display().to_string();
    let cannot =
        |e: std::io::Error| InputError::new(format!("{origin}: cannot read the scenario: {e}"));
    let file = std::fs::File::open(path).map_err(cannot)?;
    let meta = file.metadata().map_err(cannot)?;
    if meta.is_dir() {
        return Err(InputError::new(format!(
            "{origin}: is a directory; give a scenario file (.yaml)"
        )));
    }
    if meta.len() > MAX_FILE_BYTES {
        return Err(too_big(&origin, meta.len()));
    }
    // Read at most one byte past the cap: the file may grow, or be a pipe.
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(cannot)?;
    load_bytes(&bytes, &origin, options)
}

fn too_big(origin: &str, len: u64) -> InputError {
    InputError::new(format!(
        "{origin}: the file is {:.1} MiB; scenario files are limited to {} MiB (use `campaign:` or `repeat:` \
         to generate many events from a small file)",
        len as f64 / (1024.0 * 1024.0),
        MAX_FILE_BYTES / (1024 * 1024)
    ))
}

pub(crate) fn load_bytes(
    bytes: &[u8],
    origin: &str,
    options: &LoadOptions,
) -> Result<Scenario, InputError> {
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(too_big(origin, bytes.len() as u64));
    }
    let text = std::str::from_utf8(bytes).map_err(|e| not_utf8(bytes, e, origin))?;
    let text = text.strip_prefix('\u{FEFF}').unwrap_or(text);
    let has_content = text
        .lines()
        .any(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#') && l.trim() != "---");
    if !has_content {
        return Err(InputError::new(format!(
            "{origin}: the file is empty; a scenario needs at least `version: 1` and `steps:`, e.g.\n  \
             version: 1\n  steps:\n    - event: email.sent"
        )));
    }
    let raw: RawScenario = serde_saphyr::from_str_with_options(text, yaml_options())
        .map_err(|e| yaml_error(&e, origin, text))?;
    let mut scenario =
        check::build(raw, origin, options.flavor).map_err(|p| p.render(origin, text))?;
    scenario.source = Source(Arc::from(text));
    for set in &options.sets {
        // Applied before the final check so references see the new values.
        vars::apply_set(&mut scenario, set)?;
    }
    refs::verify(&mut scenario).map_err(|p| p.render(origin, text))?;
    let count = event_bound(&scenario.steps);
    if count > options.max_events {
        let biggest = scenario
            .steps
            .iter()
            .max_by_key(|s| event_bound(std::slice::from_ref(s)))
            .map_or(Pos::default(), |s| s.pos);
        let message = format!(
            "this scenario generates up to {} events, over the limit of {}; lower `contacts` or `times`, \
             or raise the limit with --max-events",
            thousands(count),
            thousands(options.max_events)
        );
        return Err(InputError::new(render(origin, text, biggest, &message)));
    }
    Ok(scenario)
}

impl Scenario {
    /// The most events the steps can generate (a campaign counts every funnel stage):
    /// an upper bound for progress bars and the `max_events` check.
    pub fn event_bound(&self) -> u64 {
        event_bound(&self.steps)
    }
}

/// The most events the steps can generate (saturating: nested repeats multiply).
pub(crate) fn event_bound(steps: &[Step]) -> u64 {
    steps.iter().fold(0u64, |sum, s| {
        let n = match &s.kind {
            StepKind::Event(_) | StepKind::Raw(_) => 1,
            StepKind::Wait(_) => 0,
            StepKind::Repeat { times, steps } => {
                u64::from(*times).saturating_mul(event_bound(steps))
            }
            StepKind::Parallel(steps) => event_bound(steps),
            StepKind::Campaign(c) => {
                let f = c.funnel;
                let per =
                    1.0 + f.bounced + f.opened + f.clicked + f.unsubscribed + f.spam_complaint;
                // Campaign-level events (scheduled, sent) plus each contact's.
                (f64::from(c.contacts) * per).ceil() as u64 + 2
            }
        };
        sum.saturating_add(n)
    })
}

/// `1234567` -> `1,234,567`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn yaml_options() -> Options {
    let mut budget = Budget::default();
    budget.max_depth = MAX_DEPTH;
    budget.flow_nesting_limit = MAX_DEPTH;
    budget.max_events = 2_000_000;
    budget.max_nodes = 1_000_000;
    budget.max_aliases = 10_000;
    budget.max_anchors = 10_000;
    // The ratio heuristic wrongly refuses one anchor reused many times (DEPENDENCIES.md);
    // the replay limit below is what stops alias bombs.
    budget.enforce_alias_anchor_ratio = false;
    let mut options = Options::default();
    options.budget = Some(budget);
    // Events replayed through aliases: generous for real reuse (a 20-event block used
    // 2,500 times) and small enough that a billion-laughs file is refused in well
    // under a second even in a debug build (~0.4 s measured, ~6 us per replayed event).
    options.alias_limits.max_total_replayed_events = 50_000;
    options.alias_limits.max_replay_stack_depth = 16;
    options
}

/// Where the first invalid byte is, as line and column, and what it is.
fn not_utf8(bytes: &[u8], e: std::str::Utf8Error, origin: &str) -> InputError {
    let good = &bytes[..e.valid_up_to()];
    let line = good.iter().filter(|b| **b == b'\n').count() + 1;
    let line_start = good.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
    let column = String::from_utf8_lossy(&good[line_start..]).chars().count() + 1;
    let byte = bytes.get(e.valid_up_to()).copied().unwrap_or(0);
    InputError::new(format!(
        "{origin}:{line}:{column}: the file is not UTF-8 text (byte 0x{byte:02X}); save it as UTF-8"
    ))
}

fn innermost(mut e: &YamlError) -> &YamlError {
    while let YamlError::AliasError { error, .. } | YamlError::WithSnippet { error, .. } = e {
        e = error;
    }
    e
}

/// A parser error in cakemock's words, at its place.
fn yaml_error(e: &YamlError, origin: &str, text: &str) -> InputError {
    let inner = innermost(e);
    let pos = inner
        .location()
        .or_else(|| e.location())
        .map(|l| Pos {
            line: u32::try_from(l.line()).unwrap_or(0),
            column: u32::try_from(l.column()).unwrap_or(0),
        })
        .unwrap_or_default();
    let message = match inner {
        YamlError::SerdeUnknownField { field, expected, .. } => format!(
            "unknown key `{field}`{}; valid keys here: {}",
            hint(field, expected),
            expected.join(", ")
        ),
        YamlError::SerdeUnknownVariant { variant, expected, .. } => {
            let what = match expected.first() {
                Some(&"bad_signature") => "fault kind",
                Some(&"docs") => "flavor",
                _ => "value",
            };
            format!(
                "unknown {what} `{variant}`{}; expected one of: {}",
                hint(variant, expected),
                expected.join(", ")
            )
        }
        YamlError::DuplicateMappingKey { key, .. } => match key {
            Some(k) => format!("`{k}` appears twice in this mapping; keep one"),
            None => "a key appears twice in this mapping; keep one".to_string(),
        },
        YamlError::InvalidScalar { ty, .. } => match *ty {
            "bool" => "expected true or false".to_string(),
            t if t.starts_with('u') => "expected a whole number (0 or more)".to_string(),
            t if t.starts_with('i') => "expected a whole number".to_string(),
            t => format!("expected a value of type {t}"),
        },
        YamlError::Unexpected { expected, .. } => match *expected {
            "mapping start" if pos.line <= 1 => {
                "a scenario is a mapping of keys (`version: 1`, `steps: ...`), not a list or a value".to_string()
            }
            "mapping start" => "expected a mapping (key: value) here".to_string(),
            "sequence start" => "expected a list (`- item` lines or [a, b]) here".to_string(),
            other => format!("expected {other} here"),
        },
        YamlError::SerdeMissingField { field: "version", .. } => {
            "missing `version: 1`: every scenario starts with it (the format's version)".to_string()
        }
        YamlError::SerdeMissingField { field: "steps", .. } => {
            "missing `steps:`: a scenario needs at least one step, e.g. `- event: email.sent`".to_string()
        }
        YamlError::SerdeMissingField { field, .. } => format!("missing key `{field}`"),
        YamlError::Budget { breach, .. } => {
            let what = format!("{breach:?}");
            if what.starts_with("Depth") {
                format!("the YAML is nested too deeply to read safely; scenarios nest at most {MAX_DEPTH} levels")
            } else if what.starts_with("Alias") || what.starts_with("Anchor") {
                "the YAML has too many aliases or anchors to read safely (no \"billion laughs\"); \
                 write the repeated part once and use `repeat:` instead"
                    .to_string()
            } else {
                format!(
                    "the YAML is too large to read safely ({what}); use `campaign:` or `repeat:` to generate \
                     many events from a small file"
                )
            }
        }
        YamlError::AliasReplayLimitExceeded { .. }
        | YamlError::AliasExpansionLimitExceeded { .. }
        | YamlError::AliasReplayStackDepthExceeded { .. }
        | YamlError::AliasReplayCounterOverflow { .. } => {
            "YAML aliases expand to too much (an alias bomb, or anchors nested too deeply); \
             write the repeated part once and use `repeat:` instead"
                .to_string()
        }
        other => {
            let m = serde_saphyr::DefaultMessageFormatter.format_message(other).into_owned();
            if m.contains("recursion limit") {
                format!(
                    "the YAML is nested too deeply to read safely; scenarios nest at most {MAX_DEPTH} levels"
                )
            } else {
                m
            }
        }
    };
    InputError::new(render(origin, text, pos, &message))
}
