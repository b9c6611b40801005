//! `cakemock webhooks`: manage the stored webhooks as Cakemail's guide shows
//! (`create`, `list`, `get`, `update`, `test`, `delete`, `archive`, `unarchive`).
//! Success lines start with `✓`; errors print `✗ message` on stderr and exit 2 (bad
//! input) or 3 (the store cannot be read or written). `show` prints webhooks, `test`
//! sends a signed test event, `fanout` is `trigger`'s delivery to stored webhooks.

pub mod fanout;
mod show;
mod test;

use std::io::{BufRead, IsTerminal, Write};

use anyhow::Result;
use clap::{Args as ClapArgs, Subcommand};

use crate::Exit;
use crate::InputError;
use crate::cmd::common::out;
use crate::sign::{Scheme, Secret};
use crate::store::{
    DEFAULT_RATE_LIMIT, NewWebhook, Period, Store, WebhookPatch, check_url, parse_events,
};
pub use show::Format;

pub const EXAMPLES: &str = "\
Examples:
  cakemock webhooks create -u https://api.yourapp.com/webhooks/cakemail -e \"email.sent,email.opened,email.clicked\" -n \"Production Webhook\"
  cakemock webhooks list -f json
  cakemock webhooks update 123 -e \"email.sent,email.opened,email.clicked,email.bounced\"
  cakemock webhooks test 123 --event email.bounced
  cakemock webhooks delete 123 --force
Webhooks live in $CAKEMOCK_HOME/webhooks.json (default ~/.local/share/cakemock).";

/// Arguments of `cakemock webhooks`.
#[derive(Debug, ClapArgs)]
pub struct Args {
    #[command(subcommand)]
    pub action: Action,
}

#[derive(Debug, Subcommand)]
pub enum Action {
    /// Create a webhook; prints its id and, this once, its signing secret.
    Create(CreateArgs),
    /// List webhooks (active ones; --with-archived for all).
    List(ListArgs),
    /// Show one webhook (never its secret).
    Get {
        /// The webhook's id (as `create` and `list` show it).
        id: String,
        #[arg(short = 'f', long, value_enum, default_value_t = Format::Table, env = "CAKEMAIL_OUTPUT_FORMAT")]
        format: Format,
    },
    /// Change a webhook's URL, events, name or rate limit.
    Update(UpdateArgs),
    /// Send a signed test event to a webhook and show the answer.
    Test(test::Args),
    /// Delete a webhook (asks first on a terminal; --force skips the question).
    Delete {
        id: String,
        /// Delete without asking (required when not on a terminal).
        #[arg(long)]
        force: bool,
    },
    /// Stop deliveries to a webhook, keeping it.
    Archive { id: String },
    /// Resume deliveries to an archived webhook.
    Unarchive { id: String },
}

#[derive(Debug, ClapArgs)]
pub struct CreateArgs {
    /// Where deliveries go (http:// or https://).
    #[arg(short = 'u', long, value_name = "URL")]
    pub url: String,
    /// Comma-separated events, e.g. "email.sent,email.opened" (or API names such as Email.Opened).
    #[arg(short = 'e', long, value_name = "EVENTS")]
    pub events: String,
    /// A name to recognise it by.
    #[arg(short = 'n', long, value_name = "NAME")]
    pub name: Option<String>,
    /// The signing secret [default: generated, whsec_-prefixed, usable with every scheme].
    #[arg(short = 's', long, value_name = "SECRET")]
    pub secret: Option<String>,
    #[command(flatten)]
    pub rate: RateArgs,
    #[arg(short = 'f', long, value_enum, default_value_t = Format::Table, env = "CAKEMAIL_OUTPUT_FORMAT")]
    pub format: Format,
}

/// `--rate-limit N --rate-limit-period second|minute` (the API's fields).
#[derive(Debug, ClapArgs)]
pub struct RateArgs {
    /// At most N deliveries (attempts, retries included) per period [create default: 50].
    #[arg(long, value_name = "N")]
    pub rate_limit: Option<u32>,
    /// The period the rate limit counts over [create default: second].
    #[arg(long, value_enum, value_name = "PERIOD")]
    pub rate_limit_period: Option<Period>,
}

#[derive(Debug, ClapArgs)]
pub struct ListArgs {
    #[arg(short = 'f', long, value_enum, default_value_t = Format::Table, env = "CAKEMAIL_OUTPUT_FORMAT")]
    pub format: Format,
    /// Webhooks per page.
    #[arg(short = 'l', long, value_name = "N", default_value_t = 50)]
    pub limit: usize,
    /// Page number, from 1.
    #[arg(short = 'p', long, value_name = "N", default_value_t = 1)]
    pub page: usize,
    /// Include archived webhooks.
    #[arg(short = 'a', long)]
    pub with_archived: bool,
}

#[derive(Debug, ClapArgs)]
pub struct UpdateArgs {
    pub id: String,
    /// New URL.
    #[arg(short = 'u', long, value_name = "URL")]
    pub url: Option<String>,
    /// New comma-separated event list (replaces the old one).
    #[arg(short = 'e', long, value_name = "EVENTS")]
    pub events: Option<String>,
    /// New name.
    #[arg(short = 'n', long, value_name = "NAME")]
    pub name: Option<String>,
    #[command(flatten)]
    pub rate: RateArgs,
}

pub async fn exec(args: Args) -> Result<Exit> {
    match run(args).await {
        Ok(exit) => Ok(exit),
        Err(err) if crate::cmd::common::is_broken_pipe(&err) => Ok(Exit::Ok),
        Err(err) => {
            eprintln!("✗ {err:#}");
            Ok(Exit::from_error(&err))
        }
    }
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

async fn run(args: Args) -> Result<Exit> {
    let store = Store::from_env()?;
    match args.action {
        Action::Create(a) => create(&store, a),
        Action::List(a) => {
            let doc = store.load()?;
            show::list(&doc, &a)?;
            Ok(Exit::Ok)
        }
        Action::Get { id, format } => {
            let doc = store.load()?;
            show::one(doc.find(&id)?, format)?;
            Ok(Exit::Ok)
        }
        Action::Update(a) => update(&store, a),
        Action::Test(a) => test::exec(&store, a).await,
        Action::Delete { id, force } => delete(&store, &id, force),
        Action::Archive { id } => archive(&store, &id, true),
        Action::Unarchive { id } => archive(&store, &id, false),
    }
}

fn create(store: &Store, a: CreateArgs) -> Result<Exit> {
    let url =
        check_url(&a.url).map_err(|why| InputError::new(format!("-u/--url {:?}: {why}", a.url)))?;
    let (events, flavor) = parse_events(&a.events).map_err(|e| flag_error("-e/--events", e))?;
    let secret = match a.secret {
        Some(s) if s.trim().is_empty() => {
            return Err(InputError::new(
                "-s/--secret is empty; pass a secret, or leave -s out to get a generated one",
            )
            .into());
        }
        Some(s) => Secret::new(s),
        // whsec_ + base64 keys every scheme, Standard Webhooks included.
        None => Secret::generate(Scheme::Standard),
    };
    let new = NewWebhook {
        name: a.name.filter(|n| !n.trim().is_empty()),
        url,
        events,
        flavor,
        secret,
        rate_limit: check_rate(a.rate.rate_limit)?.unwrap_or(DEFAULT_RATE_LIMIT),
        rate_limit_period: a.rate.rate_limit_period.unwrap_or_default(),
    };
    let created = store.update(|doc| Ok(doc.insert(new, now()).clone()))?;
    show::created(&created, a.format)?;
    Ok(Exit::Ok)
}

fn flag_error(flag: &str, e: InputError) -> InputError {
    InputError::new(format!("{flag}: {e}"))
}

fn check_rate(n: Option<u32>) -> Result<Option<u32>, InputError> {
    match n {
        Some(0) => Err(InputError::new(
            "--rate-limit 0: a webhook must be allowed at least 1 delivery per period",
        )),
        n => Ok(n),
    }
}

fn update(store: &Store, a: UpdateArgs) -> Result<Exit> {
    let patch = WebhookPatch {
        url: a
            .url
            .as_deref()
            .map(|u| check_url(u).map_err(|why| InputError::new(format!("-u/--url {u:?}: {why}"))))
            .transpose()?,
        events: a
            .events
            .as_deref()
            .map(|e| parse_events(e).map_err(|err| flag_error("-e/--events", err)))
            .transpose()?,
        name: a.name,
        rate_limit: check_rate(a.rate.rate_limit)?,
        rate_limit_period: a.rate.rate_limit_period,
    };
    if patch.is_empty() {
        return Err(InputError::new(format!(
            "nothing to update for webhook {}: pass -u URL, -e EVENTS, -n NAME or --rate-limit N",
            a.id
        ))
        .into());
    }
    let updated = store.update(|doc| {
        let w = doc.find_mut(&a.id)?;
        w.apply(patch, now());
        Ok(w.clone())
    })?;
    out(format!("✓ Webhook {} updated", updated.id))?;
    show::block(&updated)?;
    Ok(Exit::Ok)
}

fn delete(store: &Store, id: &str, force: bool) -> Result<Exit> {
    let doc = store.load()?;
    let w = doc.find(id)?;
    if !force {
        if !std::io::stdin().is_terminal() {
            return Err(InputError::new(format!(
                "refusing to delete webhook {id} without confirmation (not on a terminal); \
                 pass --force to delete it"
            ))
            .into());
        }
        eprint!("Delete webhook {id} ({})? [y/N] ", w.url);
        std::io::stderr().flush()?;
        let mut answer = String::new();
        std::io::stdin().lock().read_line(&mut answer)?;
        if !matches!(answer.trim(), "y" | "Y" | "yes" | "Yes" | "YES") {
            eprintln!("Not deleted.");
            return Ok(Exit::Ok);
        }
    }
    store.update(|doc| {
        doc.find(id)?;
        doc.webhooks.retain(|w| w.id != id);
        Ok(())
    })?;
    out(format!("✓ Webhook {id} deleted"))?;
    Ok(Exit::Ok)
}

fn archive(store: &Store, id: &str, archived: bool) -> Result<Exit> {
    let changed = store.update(|doc| Ok(doc.set_archived(id, archived, now())?))?;
    out(match (changed, archived) {
        (true, true) => format!("✓ Webhook {id} archived"),
        (true, false) => format!("✓ Webhook {id} unarchived"),
        (false, true) => format!("✓ Webhook {id} was already archived"),
        (false, false) => format!("✓ Webhook {id} is already active"),
    })?;
    Ok(Exit::Ok)
}
