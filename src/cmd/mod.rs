//! The command line: one module per subcommand, each with its `Args` (clap derive;
//! doc comments are the help text) and an `exec` that returns an exit code.

pub mod common;
pub mod events;
pub mod listen;
pub mod report;
pub mod run;
pub mod schema;
pub mod serve;
pub mod sign;
pub mod trigger;
pub mod validate;
pub mod verify;
pub mod webhooks;

use clap::{Parser, Subcommand};

use crate::Exit;

/// A local stand-in for Cakemail's webhook sender: realistic signed events,
/// production-like retries, deliberate faults.
#[derive(Debug, Parser)]
#[command(name = "cakemock", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
#[allow(clippy::large_enum_variant)] // parsed once per process
pub enum Command {
    /// Send one (or --count N) realistic signed event to a receiver.
    #[command(after_help = trigger::EXAMPLES)]
    Trigger(trigger::Args),
    /// Play a scenario file: realistic event sequences in scenario time, with expectations.
    #[command(after_help = run::EXAMPLES)]
    Run(run::Args),
    /// Rebuild the summary and reports from attempt logs (--log), merging several.
    #[command(after_help = report::EXAMPLES)]
    Report(report::Args),
    /// Run the embedded receiver: verify signatures, print deliveries, answer by script.
    #[command(after_help = listen::EXAMPLES)]
    Listen(listen::Args),
    /// List the events of a flavor, one line each with what it means.
    #[command(after_help = events::EXAMPLES)]
    Events(events::Args),
    /// Print the signature headers for a body.
    #[command(after_help = sign::EXAMPLES)]
    Sign(sign::Args),
    /// Check a body against a signature header; exit 0 if it verifies, 1 if not.
    #[command(after_help = verify::EXAMPLES)]
    Verify(verify::Args),
    /// Manage stored webhooks as Cakemail's guide shows: create, list, get, update, test, delete, archive.
    #[command(after_help = webhooks::EXAMPLES)]
    Webhooks(webhooks::Args),
    /// Run a local Cakemail API (token, webhooks) with /_mock/ control endpoints.
    #[command(after_help = serve::EXAMPLES)]
    Serve(serve::Args),
    /// Check scenario files without sending anything; exit 0 if all are valid, 2 if not.
    #[command(after_help = validate::EXAMPLES)]
    Validate(validate::Args),
    /// Print the JSON Schema of scenario files (for editor completion).
    #[command(after_help = schema::EXAMPLES)]
    Schema(schema::Args),
}

/// Runs a parsed command line and maps errors to exit codes, printing them on stderr.
pub async fn exec(cli: Cli) -> Exit {
    let result = match cli.command {
        Command::Trigger(a) => trigger::exec(a).await,
        Command::Run(a) => run::exec(a).await,
        Command::Report(a) => report::exec(a).await,
        Command::Listen(a) => listen::exec(a).await,
        Command::Events(a) => events::exec(a).await,
        Command::Sign(a) => sign::exec(a).await,
        Command::Verify(a) => verify::exec(a).await,
        Command::Webhooks(a) => webhooks::exec(a).await,
        Command::Serve(a) => serve::exec(a).await,
        Command::Validate(a) => validate::exec(a).await,
        Command::Schema(a) => schema::exec(a).await,
    };
    match result {
        Ok(exit) => exit,
        Err(err) => {
            let exit = Exit::from_error(&err);
            if !common::is_broken_pipe(&err) {
                eprintln!("error: {err:#}");
                exit
            } else {
                Exit::Ok
            }
        }
    }
}
