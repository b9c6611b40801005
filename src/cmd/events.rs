//! STUB: `cakemock events`, owned by a helper.

use anyhow::Result;

use crate::Exit;

pub const EXAMPLES: &str = "";

/// Arguments of `cakemock events`.
#[derive(Debug, clap::Args)]
pub struct Args {}

pub async fn exec(args: Args) -> Result<Exit> {
    let _ = args;
    Ok(Exit::Ok)
}
