//! cakemock: a local stand-in for Cakemail's webhook sender.
//!
//! It generates realistic, signed Cakemail webhook events, delivers them to a
//! receiver under test with production-like retries, records every attempt and
//! summarises the run so CI can gate on it.
//!
//! # Layout
//! - [`events`]: the event catalogue of both wire flavors (`docs`, `api`).
//! - [`funnel`]: a `campaign:` step's timeline, streamed in memory independent of its size.
//! - [`payload`]: the seeded generator that turns an event name into realistic bytes.
//! - [`sign`]: HMAC-SHA256 signing and verification in every scheme.
//! - [`retry`]: retry schedules, jitter and `Retry-After`.
//! - [`clock`]: durations, speed and scenario time.
//! - [`scenario`]: YAML scenario files: strict loading, templates, JSON Schema.
//! - [`play`]: plays a validated scenario in scenario time, as jobs for the loop.
//! - [`pace`]: scenario time onto real time (`--speed`).
//! - [`runner`]: a scenario run end to end (the library's `run_scenario`).
//! - [`expect`]: run-wide and per-step expectations, judged from the records.
//! - [`session`]: client, recorder, Ctrl-C and job channel around the loop.
//! - [`deliver`]: the HTTP client that makes one attempt and classifies its outcome.
//! - [`fault`]: failure injection: which events get which faults, and what each does.
//! - [`drive`]: the one delivery loop: jobs in, attempts and terminal states out.
//! - [`record`]: the attempt log (JSON Lines), the seam between running and reporting.
//! - [`summary`]: the accumulator that turns records into the end-of-run summary.
//! - [`report`]: the report accumulator and its formats (`--report`, `cakemock report`).
//! - [`receiver`]: the embedded receiver (`cakemock listen`, the default target).
//! - [`store`]: the webhook store (`cakemock webhooks`), fan-out and per-webhook rate limits.
//! - [`api`]: the mock Cakemail API (`cakemock serve`) and its `/_mock/` control endpoints.
//! - [`cmd`]: one module per subcommand, each an `Args` and an `exec`.
//!
//! # Data flow
//! YAML -> [`scenario::Scenario`] (loaded and fully validated: nothing can fail for
//! configuration reasons after this) -> [`play`] walks its steps in scenario time ->
//! `EventKind` + seed -> [`payload::Generator`] -> body bytes -> [`drive::Job`] ->
//! [`fault::Chooser`] (each event's faults, from the seed) ->
//! [`sign::Signer`] (per attempt, so Standard Webhooks timestamps are fresh) ->
//! [`deliver::HttpClient`] -> [`deliver::Outcome`] -> [`record::Record`]s -> attempt
//! log + [`summary::Summary`] + [`report::Report`] -> printed summary, reports and exit code.

pub mod api;
pub mod clock;
pub mod cmd;
pub mod deliver;
pub mod drive;
pub mod error;
pub mod events;
pub mod expect;
pub mod fault;
pub mod funnel;
pub mod pace;
pub mod payload;
pub mod play;
pub mod receiver;
pub mod record;
pub mod report;
pub mod retry;
pub mod runner;
pub mod scenario;
pub mod session;
pub mod sign;
pub mod store;
pub mod summary;
pub mod tls;

pub use error::{Exit, InputError};

/// Parses nothing: runs an already-parsed command line and returns the exit code.
pub async fn run(cli: cmd::Cli) -> Exit {
    cmd::exec(cli).await
}

/// The README's Rust examples, compiled by `cargo test` so they cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
