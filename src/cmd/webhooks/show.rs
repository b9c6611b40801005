//! How `cakemock webhooks` prints webhooks: the guide's block after `create`, a
//! detail block for `get`, and `list` as a table, JSON or one compact line each.
//! Secrets are printed by `create` only.

use anyhow::Result;
use serde_json::{Value, json};

use super::ListArgs;
use crate::cmd::common::out;
use crate::store::{Doc, Status, Webhook};

/// `-f/--format` (the real `cakemail` CLI's values).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Json,
    Compact,
}

fn time(unix: i64) -> String {
    chrono::DateTime::from_timestamp(unix, 0).map_or_else(
        || unix.to_string(),
        |t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
    )
}

/// The webhook as `-f json` shows it (no secret).
pub fn to_json(w: &Webhook) -> Value {
    json!({
        "id": w.id,
        "name": w.name,
        "url": w.url,
        "events": w.events,
        "flavor": w.flavor,
        "status": w.status,
        "rate_limit": w.rate_limit,
        "rate_limit_period": w.rate_limit_period,
        "created_at": time(w.created_at),
        "updated_at": time(w.updated_at),
        "archived_at": w.archived_at.map(time),
    })
}

/// The guide's lines: ID, URL, Events, Status.
pub fn block(w: &Webhook) -> std::io::Result<()> {
    out(format!("ID: {}", w.id))?;
    out(format!("URL: {}", w.url))?;
    out(format!("Events: {}", w.events.join(", ")))?;
    out(format!("Status: {}", w.status.as_str()))
}

/// After `create`: the guide's block, then the secret, shown this once.
pub fn created(w: &Webhook, format: Format) -> Result<()> {
    if format == Format::Json {
        let mut v = to_json(w);
        v["secret"] = Value::String(w.secret.expose().to_string());
        out(serde_json::to_string_pretty(&v)?)?;
        return Ok(());
    }
    out("✓ Webhook created successfully")?;
    block(w)?;
    out(format!("Secret: {}", w.secret.expose()))?;
    eprintln!(
        "note: the secret is shown only now; your receiver verifies signatures with it \
         (e.g. as WEBHOOK_SECRET). `cakemock serve` also returns it from GET /webhooks/{}.",
        w.id
    );
    Ok(())
}

/// `get`: every field but the secret.
pub fn one(w: &Webhook, format: Format) -> Result<()> {
    match format {
        Format::Json => out(serde_json::to_string_pretty(&to_json(w))?)?,
        Format::Compact => out(compact(w))?,
        Format::Table => {
            out(format!("ID: {}", w.id))?;
            if let Some(n) = &w.name {
                out(format!("Name: {n}"))?;
            }
            out(format!("URL: {}", w.url))?;
            out(format!("Events: {}", w.events.join(", ")))?;
            out(format!("Status: {}", w.status.as_str()))?;
            let scheme = w.flavor.default_scheme();
            out(format!(
                "Format: {} ({} in {})",
                w.flavor,
                scheme,
                scheme.signature_header()
            ))?;
            out(format!(
                "Rate limit: {} per {}",
                w.rate_limit,
                w.rate_limit_period.as_str()
            ))?;
            out(format!("Created: {}", time(w.created_at)))?;
            if let Some(at) = w.archived_at {
                out(format!("Archived: {}", time(at)))?;
            }
        }
    }
    Ok(())
}

fn compact(w: &Webhook) -> String {
    format!(
        "{}\t{}\t{}\t{}",
        w.id,
        w.status.as_str(),
        w.url,
        w.events.join(",")
    )
}

/// `list`: one page of webhooks in the chosen format.
pub fn list(doc: &Doc, a: &ListArgs) -> Result<()> {
    if a.limit == 0 || a.page == 0 {
        return Err(crate::InputError::new(format!(
            "{} 0: pages and page sizes count from 1",
            if a.limit == 0 {
                "-l/--limit"
            } else {
                "-p/--page"
            }
        ))
        .into());
    }
    let shown: Vec<&Webhook> = doc
        .webhooks
        .iter()
        .filter(|w| a.with_archived || w.status == Status::Active)
        .collect();
    let hidden = doc.webhooks.len() - shown.len();
    let page: Vec<&Webhook> = shown
        .iter()
        .skip((a.page - 1).saturating_mul(a.limit))
        .take(a.limit)
        .copied()
        .collect();
    match a.format {
        super::Format::Json => {
            let v = json!({
                "pagination": {"page": a.page, "per_page": a.limit, "count": shown.len()},
                "data": page.iter().map(|w| to_json(w)).collect::<Vec<_>>(),
            });
            out(serde_json::to_string_pretty(&v)?)?;
        }
        super::Format::Compact => {
            for w in &page {
                out(compact(w))?;
            }
        }
        super::Format::Table => table(&page)?,
    }
    if a.format != Format::Json {
        if shown.is_empty() && hidden == 0 {
            eprintln!(
                "No webhooks yet. Create one: cakemock webhooks create -u URL -e \"email.sent,email.opened\""
            );
        } else if page.is_empty() {
            eprintln!(
                "Page {} is empty: {} webhook(s) at {} per page.",
                a.page,
                shown.len(),
                a.limit
            );
        }
        if hidden > 0 {
            eprintln!("({hidden} archived webhook(s) not shown; --with-archived shows them)");
        }
    }
    Ok(())
}

fn table(rows: &[&Webhook]) -> std::io::Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let header = ["ID", "NAME", "URL", "EVENTS", "STATUS", "RATE LIMIT"];
    let cells: Vec<[String; 6]> = rows
        .iter()
        .map(|w| {
            [
                w.id.clone(),
                w.name.clone().unwrap_or_else(|| "-".into()),
                w.url.clone(),
                w.events.join(", "),
                w.status.as_str().to_string(),
                format!("{}/{}", w.rate_limit, w.rate_limit_period.as_str()),
            ]
        })
        .collect();
    let mut widths = header.map(|h| h.chars().count());
    for row in &cells {
        for (w, c) in widths.iter_mut().zip(row) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |row: &[String]| {
        let mut s = String::new();
        for (i, (c, w)) in row.iter().zip(widths).enumerate() {
            if i + 1 == row.len() {
                s.push_str(c);
            } else {
                s.push_str(&format!("{c:<w$}  "));
            }
        }
        s
    };
    out(line(&header.map(String::from)))?;
    for row in &cells {
        out(line(row))?;
    }
    Ok(())
}
