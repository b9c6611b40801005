//! `cakemock schema`: prints the JSON Schema of the scenario format (generated from the
//! types the loader parses with), for editors' completion and checking as you type.

use anyhow::Result;

use crate::Exit;
use crate::cmd::common::out;

pub const EXAMPLES: &str = "\
Examples:
  cakemock schema > cakemock-scenario.schema.json
  # then, first line of a scenario (VS Code / any yaml-language-server editor):
  # yaml-language-server: $schema=./cakemock-scenario.schema.json";

/// Arguments of `cakemock schema`.
#[derive(Debug, clap::Args)]
pub struct Args {}

pub async fn exec(args: Args) -> Result<Exit> {
    let Args {} = args;
    let text = serde_json::to_string_pretty(&crate::scenario::json_schema())?;
    out(text)?;
    Ok(Exit::Ok)
}
