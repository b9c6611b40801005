//! The validated scenario: plain Rust types the runtime reads. Everything here has been
//! checked by `load_*` (event names, template references, funnel shares, limits), so a
//! `Scenario` can only fail at run time when a template is rendered (env, step data).
//! Durations are `std::time::Duration`, shares are `f64` fractions in [0, 1].

use std::time::Duration;

use crate::events::{EventKind, Flavor};
use crate::retry::RetryPolicy;
use crate::sign::Secret;

use super::faults::{FaultKind, FaultRule};
use super::template::Template;
use super::units::StatusSpec;
use super::value::TValue;

/// Where something sits in its file: 1-based line and column (in characters).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, PartialOrd, Ord)]
pub struct Pos {
    pub line: u32,
    pub column: u32,
}

/// A loaded, fully validated scenario file.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// The file it came from, as given (used in messages and reports).
    pub origin: String,
    /// The text, kept so later checks (`apply_set`) can show the offending line.
    pub(crate) source: Source,
    /// `name:`; `None` when absent (reports then use the file name).
    pub name: Option<String>,
    /// `seed:`; `None` = random (the runtime prints the one it drew). `--seed` overrides.
    pub seed: Option<u64>,
    /// `flavor:`, default `docs`. Event names in the file were checked against it.
    pub flavor: Flavor,
    /// `target:`; `None` = the embedded receiver (unless `--target` says otherwise).
    pub target: Option<Target>,
    /// `vars:` in the order they must be rendered (dependencies first).
    pub vars: Vars,
    /// `delivery:`; absent fields are `None` so CLI flags and defaults apply.
    pub delivery: Delivery,
    /// Run-wide `faults:` rules.
    pub faults: Vec<FaultRule>,
    /// `steps:`, never empty.
    pub steps: Vec<Step>,
    /// `expect:`, checked at the end of the run.
    pub expect: Expect,
}

/// The file's text. `Debug` shows only its size: it may hold a `secret:`.
#[derive(Clone, Default)]
pub(crate) struct Source(pub std::sync::Arc<str>);

impl std::fmt::Debug for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "<{} bytes>", self.0.len())
    }
}

/// `target:`. Either `url`, `secret`/`secret_env`, or both may be given.
#[derive(Debug, Clone, Default)]
pub struct Target {
    /// An `http://` or `https://` URL.
    pub url: Option<String>,
    pub secret: Option<SecretSource>,
    /// `signature:` the scheme (default: the flavor's).
    pub signature: Option<crate::sign::Scheme>,
    /// `signature_header:` another header for the signature.
    pub signature_header: Option<String>,
}

/// Where the signing secret comes from.
#[derive(Debug, Clone)]
pub enum SecretSource {
    /// `secret_env: NAME`: read the variable at run time (it need not be set to validate).
    Env(String),
    /// `secret: "..."` written in the file.
    Literal(Secret),
}

/// `delivery:`.
#[derive(Debug, Clone, Default)]
pub struct Delivery {
    /// Per-attempt timeout.
    pub timeout: Option<Duration>,
    /// `retry:` preset or list.
    pub retry: Option<RetryPolicy>,
    /// Most deliveries in flight at once (1..=MAX_CONCURRENCY).
    pub concurrency: Option<usize>,
}

/// `vars:` with templates still in them; render with [`Vars::render`](super::Vars::render).
#[derive(Debug, Clone, Default)]
pub struct Vars {
    /// (name, value) in dependency order: a var comes after every var it references.
    pub(crate) entries: Vec<(String, TValue)>,
}

/// One step of `steps:` (or of a `repeat`/`parallel` block).
#[derive(Debug, Clone)]
pub struct Step {
    /// `id:`, unique in the file; later templates read `steps.ID...`.
    pub id: Option<String>,
    /// `after:` scenario time after the previous step started (zero when absent).
    pub after: Duration,
    /// `expect:` for each event this step sends.
    pub expect: Option<StepExpect>,
    /// `faults:` rules for the events of this step only.
    pub faults: Vec<FaultRule>,
    pub kind: StepKind,
    /// Where the step starts in the file (for run-time errors and per-step reports).
    pub pos: Pos,
}

/// What a step does: exactly one kind key per step.
#[derive(Debug, Clone)]
pub enum StepKind {
    Event(EventStep),
    /// `wait: DUR`: advance scenario time.
    Wait(Duration),
    /// `repeat: {times, steps}`.
    Repeat {
        times: u32,
        steps: Vec<Step>,
    },
    /// `parallel: [steps]`: all start at the same scenario time.
    Parallel(Vec<Step>),
    Campaign(Campaign),
    Raw(RawStep),
}

/// `event: NAME` with its optional `data`, `contact`.
#[derive(Debug, Clone)]
pub struct EventStep {
    /// The event, checked against the scenario's flavor.
    pub event: EventKind,
    /// `data:` overrides deep-merged into the generated `data` (a mapping; may be empty).
    pub data: TValue,
    /// `contact:` name; steps naming the same contact share contact_id, email, message_id.
    pub contact: Option<String>,
}

/// `campaign:`: N contacts through a funnel.
#[derive(Debug, Clone)]
pub struct Campaign {
    /// `id:` the campaign id (often `"{{ vars.campaign_id }}"`); `None` = generated.
    pub id: Option<TValue>,
    /// How many contacts get `email.sent`.
    pub contacts: u32,
    /// The spread of the events in scenario time.
    pub over: Duration,
    pub funnel: Funnel,
}

/// Shares of a campaign's contacts (fractions of *all* contacts), checked at load so
/// that `bounced + opened <= 1`, `clicked <= opened` and
/// `unsubscribed + spam_complaint <= 1 - bounced`.
pub use crate::funnel::Funnel;

/// `raw:`: a body sent verbatim (after template rendering), signed.
#[derive(Debug, Clone)]
pub struct RawStep {
    /// The body text; `{{ ... }}` in it are rendered as string interpolation.
    pub body: Template,
    /// `event:` for the `X-Cakemail-Event` header; not checked against the catalogue
    /// (raw bodies are for sending what the generator would not).
    pub event: Option<String>,
}

/// A step's `expect: {status, within}`.
#[derive(Debug, Clone, Default)]
pub struct StepExpect {
    pub status: Option<StatusSpec>,
    /// The final answer must come within this time of the first attempt.
    pub within: Option<Duration>,
}

/// The run-wide `expect:` block; any miss = exit code 1.
#[derive(Debug, Clone, Default)]
pub struct Expect {
    /// `delivered:` the least share of events that must end `delivered`.
    pub delivered: Option<f64>,
    /// `p50_latency` ... `p999_latency`, in the order written.
    pub latency: Vec<LatencyExpect>,
    /// `faults: {kind: status}`: the answer each fault kind must get.
    pub faults: Vec<(FaultKind, StatusSpec)>,
    /// `max_attempts:` no event may need more attempts than this.
    pub max_attempts: Option<u32>,
}

/// One latency threshold such as `p99_latency: <200ms`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LatencyExpect {
    /// The key as written (`p99_latency`), for reports.
    pub key: &'static str,
    /// The percentile, 50.0 ... 99.9.
    pub percentile: f64,
    /// The most it may be (inclusive).
    pub max: Duration,
}
