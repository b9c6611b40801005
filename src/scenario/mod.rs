//! Scenario files (SPEC 4): YAML in, a validated [`Scenario`] out. Loading is strict and
//! bounded: size, depth and alias budgets before anything is built, then every key, type,
//! event name, template reference and funnel share is checked, each error pointing at
//! `FILE:LINE:COL` with the offending text and a "did you mean". After `load_*` succeeds
//! only template rendering (env, step data) can still fail, at run time.
//!
//! Layout: `load` (bytes, budgets, parser errors) -> `raw` (serde + JSON Schema types) ->
//! `check`/`steps`/`faults` (shapes, events, funnels) -> `refs` (template references,
//! var order) -> `model` (what the runtime reads). `template`/`expr`/`value` are the
//! template language, `vars` renders vars and applies `--set`, `units` the text values.

mod at;
mod check;
mod diag;
mod expr;
mod faults;
mod load;
mod model;
mod raw;
mod refs;
mod steps;
mod template;
mod units;
mod value;
mod vars;

pub use faults::{FaultKind, FaultParams, FaultRule, Pick, Selector, parse_cli as parse_fault};
pub use load::{LoadOptions, MAX_DEPTH, MAX_EVENTS, MAX_FILE_BYTES};
pub use model::{
    Campaign, Delivery, EventStep, Expect, Funnel, LatencyExpect, Pos, RawStep, Scenario,
    SecretSource, Step, StepExpect, StepKind, Target, Vars,
};
pub use template::{Expr, FakeKind, RenderError, Template, TemplateContext};
pub use units::{ByteRate, ByteSize, Dur, LatencyBound, Percent, StatusSpec};
pub use value::TValue;

use std::path::Path;

use crate::InputError;

/// Reads and fully validates a scenario file (size-capped before it is read).
pub fn load_file(path: &Path) -> Result<Scenario, InputError> {
    load::load_file(path, &LoadOptions::default())
}

/// Validates scenario text; `origin` names it in messages (a path, `<stdin>`, ...).
pub fn load_str(text: &str, origin: &str) -> Result<Scenario, InputError> {
    load::load_bytes(text.as_bytes(), origin, &LoadOptions::default())
}

/// [`load_file`] with `--set` overrides and limits (see [`LoadOptions`]).
pub fn load_file_with(path: &Path, options: &LoadOptions) -> Result<Scenario, InputError> {
    load::load_file(path, options)
}

/// [`load_str`] with `--set` overrides and limits.
pub fn load_str_with(
    text: &str,
    origin: &str,
    options: &LoadOptions,
) -> Result<Scenario, InputError> {
    load::load_bytes(text.as_bytes(), origin, options)
}

/// Applies one `--set vars.NAME[.KEY...]=VALUE` (VALUE read as YAML, so `791` is an
/// integer; it may hold templates) and re-checks every template. An unknown path is
/// an error with a "did you mean".
pub fn apply_set(scenario: &mut Scenario, assignment: &str) -> Result<(), InputError> {
    vars::apply_set(scenario, assignment)
}

/// The JSON Schema of the scenario format, generated from the types that parse it.
pub fn json_schema() -> serde_json::Value {
    raw::json_schema()
}
