//! `cakemock events`: the catalogue of a flavor, one line per event with its meaning
//! and, for the guide's events, the API name it maps to.

use anyhow::Result;

use crate::Exit;
use crate::cmd::common::out;
use crate::events::{Flavor, api_twin, catalogue};

pub const EXAMPLES: &str = "\
Examples:
  cakemock events                  # the guide's 9 events and their API names
  cakemock events --flavor api     # the API's 59 PascalCase events
  cakemock events | grep email.    # names to pass to `cakemock trigger`";

/// Arguments of `cakemock events`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Which catalogue to list: the webhook guide's (docs) or the published API's (api).
    #[arg(long, value_enum, default_value_t = Flavor::Docs)]
    pub flavor: Flavor,
}

pub async fn exec(args: Args) -> Result<Exit> {
    for line in lines(args.flavor) {
        out(line)?;
    }
    Ok(Exit::Ok)
}

/// The printed lines, columns aligned: name, meaning, and for docs the API twin.
pub fn lines(flavor: Flavor) -> Vec<String> {
    let kinds = catalogue(flavor);
    let name_w = kinds.iter().map(|k| k.name.len()).max().unwrap_or(0);
    let sum_w = kinds
        .iter()
        .map(|k| k.summary.chars().count())
        .max()
        .unwrap_or(0);
    kinds
        .iter()
        .map(|k| match flavor {
            Flavor::Docs => {
                let twin =
                    api_twin(k.name).map_or("no API twin".to_owned(), |t| format!("API: {t}"));
                format!("{:name_w$}  {:sum_w$}  {twin}", k.name, k.summary)
            }
            Flavor::Api => format!("{:name_w$}  {}", k.name, k.summary),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docs_lines_name_the_api_twin_or_say_there_is_none() {
        let lines = lines(Flavor::Docs);
        assert_eq!(lines.len(), 9);
        let spam = lines
            .iter()
            .find(|l| l.starts_with("email.spam_complaint"))
            .unwrap();
        assert!(
            spam.contains("Marked as spam") && spam.ends_with("API: Email.ReportedAsSpam"),
            "{spam}"
        );
        let sent = lines
            .iter()
            .find(|l| l.starts_with("campaign.sent"))
            .unwrap();
        assert!(sent.ends_with("no API twin"), "{sent}");
    }

    #[test]
    fn api_lines_list_all_59() {
        let lines = lines(Flavor::Api);
        assert_eq!(lines.len(), 59);
        assert!(lines.iter().any(|l| l.starts_with("Campaign.Canceled ")));
    }
}
