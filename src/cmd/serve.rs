//! `cakemock serve`: runs the mock Cakemail API in the foreground on loopback,
//! sharing the webhook store with `cakemock webhooks`, until Ctrl-C (exit 130).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;

use anyhow::{Context, Result};

use crate::Exit;
use crate::InputError;
use crate::api::{Credentials, ServeConfig, Server};
use crate::clock::parse_duration;
use crate::store::Store;

/// The port `serve` uses unless told otherwise: one above `listen`'s 2253.
pub const DEFAULT_PORT: u16 = 2254;

pub const EXAMPLES: &str = "\
Examples:
  cakemock serve                                    # http://127.0.0.1:2254
  cakemock serve --port 0 --retry none              # any free port, no retries
  TOKEN=$(curl -s -d grant_type=password -d username=me@example.com -d password=x \\
          http://127.0.0.1:2254/token | jq -r .access_token)
  curl -H \"Authorization: Bearer $TOKEN\" -H 'content-type: application/json' \\
       -d '{\"event\":\"Email.Opened\",\"url\":\"http://127.0.0.1:3000/hook\"}' http://127.0.0.1:2254/webhooks
  curl -d '{\"event\":\"Email.Opened\"}' http://127.0.0.1:2254/_mock/trigger
Endpoints: POST /token; GET/POST /webhooks; GET/PATCH /webhooks/{id};
POST /webhooks/{id}/archive|unarchive; POST /_mock/trigger; POST /_mock/scenarios;
GET /_mock/deliveries; POST /_mock/deliveries/{id}/resend.";

/// Arguments of `cakemock serve`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Address to listen on (loopback by default; anything else is reachable by others).
    #[arg(long, value_name = "ADDR", default_value_t = IpAddr::V4(Ipv4Addr::LOCALHOST))]
    pub bind: IpAddr,
    /// Port to listen on (0 = any free port, printed at start).
    #[arg(long, value_name = "N", default_value_t = DEFAULT_PORT)]
    pub port: u16,
    /// Retry schedule of deliveries: none, fast, cakemail, svix, standard, or a list such as "0s,1s,5s".
    #[arg(long, value_name = "PRESET|LIST", default_value = "fast")]
    pub retry: String,
    /// Per-attempt timeout of deliveries.
    #[arg(long, value_name = "DUR", default_value = "5s")]
    pub timeout: String,
    /// Deliveries in flight at once, across all webhooks.
    #[arg(long, value_name = "N", default_value_t = 256)]
    pub concurrency: usize,
    /// Accept only this username at POST /token [default: any].
    #[arg(long, value_name = "EMAIL")]
    pub username: Option<String>,
    /// Accept only this password at POST /token [default: any].
    #[arg(long, value_name = "P")]
    pub password: Option<String>,
    /// Write every delivery attempt as JSON Lines to FILE.
    #[arg(long, value_name = "FILE")]
    pub log: Option<PathBuf>,
}

pub async fn exec(args: Args) -> Result<Exit> {
    let store = Store::from_env()?;
    let mut config = ServeConfig::new(store.clone());
    config.retry = args
        .retry
        .parse()
        .map_err(|e: InputError| InputError::new(format!("--retry: {e}")))?;
    config.client.timeout =
        parse_duration(&args.timeout).map_err(|e| InputError::new(format!("--timeout: {e}")))?;
    if args.concurrency == 0 {
        return Err(InputError::new("--concurrency 0: use 1 or more").into());
    }
    config.concurrency = args.concurrency;
    config.log = args.log;
    config.credentials = Credentials {
        username: args.username,
        password: args.password,
    };
    let addr = SocketAddr::new(args.bind, args.port);
    let listener = crate::cmd::common::bind(addr).await?;
    let server = Server::start(listener, config)
        .await
        .context("cannot start the mock API")?;
    let url = server.url();
    eprintln!("cakemock serve: a local Cakemail API at {url}");
    eprintln!("  webhook store: {}", store.path().display());
    eprintln!(
        "  token: curl -s -d grant_type=password -d username=me@example.com -d password=x {url}/token"
    );
    eprintln!("  trigger: curl -d '{{\"event\":\"Email.Opened\"}}' {url}/_mock/trigger");
    eprintln!("Ctrl-C stops it.");
    println!("{url}");
    let _ = tokio::signal::ctrl_c().await;
    eprintln!("stopping");
    server.shutdown().await;
    Ok(Exit::Interrupted)
}
