//! The `cakemock` binary: parse the command line, run it, map the result to an exit code.

use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = cakemock::cmd::Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return std::process::ExitCode::from(3);
        }
    };
    let exit = runtime.block_on(cakemock::run(cli));
    // In-flight background work (servers, pooled connections) must not delay the exit.
    runtime.shutdown_timeout(std::time::Duration::from_millis(100));
    exit.into()
}
