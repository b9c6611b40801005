//! `cakemock report LOG.jsonl...`: rebuilds the summary and any report from attempt
//! logs alone, merging several (shards of one test, or runs to compare as one): counts
//! add up, latency histograms merge exactly, expectations pass only if they passed in
//! every log.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args as ClapArgs;

use crate::Exit;
use crate::cmd::common::out;
use crate::report::{self, Report, ReportSpec};

pub const EXAMPLES: &str = "\
Examples:
  cakemock report attempts.jsonl
  cakemock report shard-1.jsonl shard-2.jsonl --report junit=report.xml
  cakemock report attempts.jsonl --report json=- | jq .totals
  cakemock report attempts.jsonl --report markdown=\"$GITHUB_STEP_SUMMARY\"";

/// Arguments of `cakemock report`.
#[derive(Debug, ClapArgs)]
pub struct Args {
    /// Attempt logs written with --log (JSON Lines); several are merged.
    #[arg(value_name = "LOG", required = true)]
    pub logs: Vec<PathBuf>,
    /// Write a report: json, junit, markdown or text; PATH `-` is stdout, which then
    /// carries nothing else (repeatable).
    #[arg(long = "report", value_name = "FORMAT=PATH")]
    pub report: Vec<ReportSpec>,
}

/// Prints the text summary (unless a report takes stdout) and writes the reports; exits
/// 1 when a recorded expectation failed or a run was interrupted, 0 otherwise.
pub async fn exec(args: Args) -> Result<Exit> {
    report::check(&args.report)?;
    let merged = Report::from_logs(&args.logs)?;
    if !report::stdout_taken(&args.report) {
        out(report::text(&merged).trim_end())?;
    }
    report::write_all(&args.report, &merged)?;
    Ok(if merged.passed() {
        Exit::Ok
    } else {
        Exit::ExpectationFailed
    })
}
