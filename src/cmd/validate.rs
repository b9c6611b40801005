//! `cakemock validate FILE...`: loads each scenario exactly as `run` would (strict keys,
//! events, templates, limits) without sending anything. Prints `✓ FILE` per valid file
//! on stdout and each error on stderr; exit 0 when all are valid, 2 when any is not.

use std::path::PathBuf;

use anyhow::Result;

use crate::Exit;
use crate::cmd::common::out;
use crate::events::Flavor;
use crate::scenario::{self, LoadOptions};

pub const EXAMPLES: &str = "\
Examples:
  cakemock validate scenarios/campaign-lifecycle.yaml
  cakemock validate scenarios/*.yaml
  cakemock validate ci.yaml --set vars.campaign_id=791";

/// Arguments of `cakemock validate`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Scenario files to check.
    #[arg(value_name = "FILE", required = true)]
    pub files: Vec<PathBuf>,
    /// Override a var before checking, as `run` would: vars.NAME=VALUE (repeatable).
    #[arg(long = "set", value_name = "PATH=VALUE")]
    pub sets: Vec<String>,
    /// Check event names against this flavor instead of the file's `flavor:`.
    #[arg(long, value_enum, value_name = "FLAVOR")]
    pub flavor: Option<Flavor>,
    /// Allow scenarios that generate more events than this.
    #[arg(long, value_name = "N", default_value_t = scenario::MAX_EVENTS)]
    pub max_events: u64,
}

pub async fn exec(args: Args) -> Result<Exit> {
    let options = LoadOptions {
        sets: args.sets,
        max_events: args.max_events,
        flavor: args.flavor,
    };
    let mut exit = Exit::Ok;
    for file in &args.files {
        match scenario::load_file_with(file, &options) {
            Ok(_) => out(format!("✓ {}", file.display()))?,
            Err(e) => {
                eprintln!("✗ {e}");
                exit = Exit::Input;
            }
        }
    }
    Ok(exit)
}
