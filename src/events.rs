//! The event catalogue of both wire flavors: names, one-line meanings, and the
//! mapping between the guide's dotted names (`docs`) and the API's PascalCase (`api`).
//! STUB: owned by the payload helper; the public signatures below are the contract.

use serde::{Deserialize, Serialize};

use crate::sign::Scheme;

/// Which of Cakemail's two documented wire formats to speak.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, clap::ValueEnum, Default,
)]
#[serde(rename_all = "lowercase")]
pub enum Flavor {
    /// The webhook guide: dotted names, `{event, timestamp, data}`, hex signature.
    #[default]
    Docs,
    /// The published OpenAPI: PascalCase names, `{event, account_id, ip, user, created_on, data}`, base64 signature.
    Api,
}

impl Flavor {
    pub fn as_str(self) -> &'static str {
        match self {
            Flavor::Docs => "docs",
            Flavor::Api => "api",
        }
    }

    /// The signature scheme Cakemail documents for this flavor.
    pub fn default_scheme(self) -> Scheme {
        match self {
            Flavor::Docs => Scheme::CakemailHex,
            Flavor::Api => Scheme::CakemailBase64,
        }
    }
}

/// One event of the catalogue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventKind {
    pub name: &'static str,
    pub flavor: Flavor,
    /// What the event means, one line.
    pub summary: &'static str,
}

/// Every event of a flavor, in catalogue order.
pub fn catalogue(flavor: Flavor) -> &'static [EventKind] {
    let _ = flavor;
    &[]
}

/// Looks an event up by exact name. The error lists the valid names, suggests the
/// closest one, and says when the name belongs to the other flavor.
pub fn find(flavor: Flavor, name: &str) -> Result<&'static EventKind, crate::InputError> {
    catalogue(flavor)
        .iter()
        .find(|k| k.name == name)
        .ok_or_else(|| crate::InputError::new(format!("unknown event {name:?}")))
}

/// The API name of a docs event (`email.spam_complaint` -> `Email.ReportedAsSpam`);
/// `None` for `campaign.sent`, which has no API twin.
pub fn api_twin(docs_name: &str) -> Option<&'static str> {
    let _ = docs_name;
    None
}
