//! The event catalogue of both wire flavors: names, one-line meanings, and the
//! mapping between the guide's dotted names (`docs`) and the API's PascalCase (`api`).
//! Lookups fail with an [`InputError`] that lists the valid names,
//! suggests the closest one and points across flavors when the name is the other one's.

use serde::{Deserialize, Serialize};

use crate::InputError;
use crate::error::did_you_mean;
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

    fn other(self) -> Flavor {
        match self {
            Flavor::Docs => Flavor::Api,
            Flavor::Api => Flavor::Docs,
        }
    }
}

impl std::fmt::Display for Flavor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
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

const fn d(name: &'static str, summary: &'static str) -> EventKind {
    EventKind {
        name,
        flavor: Flavor::Docs,
        summary,
    }
}

const fn a(name: &'static str, summary: &'static str) -> EventKind {
    EventKind {
        name,
        flavor: Flavor::Api,
        summary,
    }
}

/// The guide's nine events with the guide's own one-line meanings.
static DOCS: [EventKind; 9] = [
    d("email.sent", "Email successfully delivered"),
    d("email.opened", "Recipient opened email"),
    d("email.clicked", "Recipient clicked link"),
    d("email.bounced", "Email bounced"),
    d("email.unsubscribed", "Recipient unsubscribed"),
    d("email.spam_complaint", "Marked as spam"),
    d("campaign.sent", "Campaign completed sending"),
    d("campaign.scheduled", "Campaign scheduled"),
    d("campaign.cancelled", "Campaign cancelled"),
];

/// The API's `EventType` enumeration, in the order the OpenAPI document groups it.
static API: [EventKind; 59] = [
    a("Account.Created", "An account was created"),
    a(
        "Account.Updated",
        "An account's settings or details changed",
    ),
    a("Account.Confirmed", "An account's owner confirmed it"),
    a("Account.Deleted", "An account was deleted"),
    a("Contact.Added", "A contact was added to a list"),
    a(
        "Contact.Updated",
        "A contact's email, status or attributes changed",
    ),
    a("Contact.Removed", "A contact was removed from a list"),
    a("Contact.Tagged", "Tags were added to a contact"),
    a("Contact.Untagged", "Tags were removed from a contact"),
    a(
        "ContactsExport.Created",
        "An export of a list's contacts was requested",
    ),
    a("ContactsExport.Deleted", "A contacts export was deleted"),
    a(
        "CampaignLogExport.Created",
        "An export of a campaign's logs was requested",
    ),
    a(
        "ListLogsExport.Created",
        "An export of a list's logs was requested",
    ),
    a(
        "SuppressedEmailsExport.Created",
        "An export of the suppression list was requested",
    ),
    a(
        "SuppressedEmailsExport.Deleted",
        "A suppression-list export was deleted",
    ),
    a(
        "Campaign.Canceled",
        "A scheduled or sending campaign was cancelled",
    ),
    a("Campaign.Created", "A campaign was created"),
    a(
        "Campaign.Unscheduled",
        "A scheduled campaign went back to draft",
    ),
    a(
        "Campaign.Updated",
        "A campaign's content or settings changed",
    ),
    a("Campaign.Resumed", "A suspended campaign resumed sending"),
    a("Campaign.Scheduled", "A campaign was scheduled to send"),
    a("Campaign.Suspended", "A sending campaign was suspended"),
    a("Email.Sent", "An email was sent to a contact"),
    a("Email.Opened", "A recipient opened an email"),
    a("Email.Clicked", "A recipient clicked a link in an email"),
    a("Email.Bounced", "An email bounced (hard or soft)"),
    a(
        "Email.ReportedAsSpam",
        "A recipient reported an email as spam",
    ),
    a("Email.Unsubscribed", "A recipient unsubscribed from a list"),
    a(
        "Email.GlobalUnsubscribed",
        "A recipient unsubscribed from every list of the account",
    ),
    a(
        "Email.Submitted",
        "A transactional email was accepted by the API",
    ),
    a(
        "Email.Queued",
        "A transactional email was queued for sending",
    ),
    a(
        "Email.Rejected",
        "A transactional email was refused before sending",
    ),
    a("Email.Processing", "A transactional email is being sent"),
    a(
        "Email.Delivered",
        "The recipient's server accepted a transactional email",
    ),
    a("Email.Error", "A transactional email failed with an error"),
    a("User.Created", "A user was added to an account"),
    a("User.Deleted", "A user was removed from an account"),
    a("User.LoggedIn", "A user logged in"),
    a("User.Updated", "A user's profile changed"),
    a("User.Confirmed", "A user confirmed their email address"),
    a("List.Created", "A contact list was created"),
    a("List.Updated", "A contact list's settings changed"),
    a("List.Deleted", "A contact list was deleted"),
    a(
        "MFA.RecoveryCodesViewed",
        "A user viewed their MFA recovery codes",
    ),
    a("MFA.ChallengeIssued", "An MFA challenge was sent to a user"),
    a(
        "MFA.ChallengeCompleted",
        "A user completed an MFA challenge",
    ),
    a("MFA.MethodAdded", "A user added an MFA method"),
    a("MFA.MethodActivated", "A user activated an MFA method"),
    a("MFA.MethodDeleted", "A user removed an MFA method"),
    a("Segment.Created", "A list segment was created"),
    a("Segment.Updated", "A list segment's conditions changed"),
    a("Segment.Deleted", "A list segment was deleted"),
    a("Sender.Created", "A sender identity was created"),
    a("Sender.Updated", "A sender identity changed"),
    a("Sender.Deleted", "A sender identity was deleted"),
    a("Sender.Confirmed", "A sender confirmed their email address"),
    a(
        "Sender.ConfirmationEmailSent",
        "A confirmation email was sent to a sender",
    ),
    a(
        "SuppressedEmail.Added",
        "An address was added to the suppression list",
    ),
    a(
        "SuppressedEmail.Removed",
        "An address was removed from the suppression list",
    ),
];

/// Docs name -> API name, per Cakemail's API reference. `campaign.sent` is absent.
static TWINS: [(&str, &str); 8] = [
    ("email.sent", "Email.Sent"),
    ("email.opened", "Email.Opened"),
    ("email.clicked", "Email.Clicked"),
    ("email.bounced", "Email.Bounced"),
    ("email.unsubscribed", "Email.Unsubscribed"),
    ("email.spam_complaint", "Email.ReportedAsSpam"),
    ("campaign.scheduled", "Campaign.Scheduled"),
    ("campaign.cancelled", "Campaign.Canceled"),
];

/// Every event of a flavor, in catalogue order.
pub fn catalogue(flavor: Flavor) -> &'static [EventKind] {
    match flavor {
        Flavor::Docs => &DOCS,
        Flavor::Api => &API,
    }
}

/// Looks an event up by exact name. The error lists the valid names, suggests the
/// closest one, and says when the name belongs to the other flavor.
pub fn find(flavor: Flavor, name: &str) -> Result<&'static EventKind, InputError> {
    if let Some(kind) = catalogue(flavor).iter().find(|k| k.name == name) {
        return Ok(kind);
    }
    let other = flavor.other();
    if catalogue(other).iter().any(|k| k.name == name) {
        let twin = match other {
            Flavor::Docs => api_twin(name),
            Flavor::Api => docs_twin(name),
        };
        let msg = match twin {
            Some(t) => format!(
                "{name} is a {other}-flavor event; in flavor {flavor} use {t} \
                 (or pass --flavor {other} to send {name})"
            ),
            None => format!(
                "{name} is a {other}-flavor event with no {flavor}-flavor equivalent; \
                 pass --flavor {other} to send it"
            ),
        };
        return Err(InputError::new(msg));
    }
    let names = catalogue(flavor).iter().map(|k| k.name);
    let hint = did_you_mean(name, names.clone())
        .map(|s| format!("did you mean {s}? "))
        .unwrap_or_default();
    Err(InputError::new(format!(
        "unknown event {name:?} in flavor {flavor}; {hint}valid {flavor} events: {}",
        names.collect::<Vec<_>>().join(", ")
    )))
}

/// The API name of a docs event (`email.spam_complaint` -> `Email.ReportedAsSpam`);
/// `None` for `campaign.sent`, which has no API twin.
pub fn api_twin(docs_name: &str) -> Option<&'static str> {
    TWINS.iter().find(|(d, _)| *d == docs_name).map(|(_, a)| *a)
}

/// The docs name of an API event (`Campaign.Canceled` -> `campaign.cancelled`);
/// `None` for the 51 API events the guide does not describe.
pub fn docs_twin(api_name: &str) -> Option<&'static str> {
    TWINS.iter().find(|(_, a)| *a == api_name).map(|(d, _)| *d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalogues_have_the_documented_sizes_and_unique_names() {
        assert_eq!(catalogue(Flavor::Docs).len(), 9);
        assert_eq!(catalogue(Flavor::Api).len(), 59);
        for flavor in [Flavor::Docs, Flavor::Api] {
            let mut names: Vec<_> = catalogue(flavor).iter().map(|k| k.name).collect();
            names.sort_unstable();
            names.dedup();
            assert_eq!(names.len(), catalogue(flavor).len(), "{flavor}");
            assert!(catalogue(flavor).iter().all(|k| k.flavor == flavor));
        }
    }

    #[test]
    fn api_names_match_the_reference_list() {
        // Copied verbatim from the API reference's "Event names" section.
        let section = "\
- Account: Created, Updated, Confirmed, Deleted
- Contact: Added, Updated, Removed, Tagged, Untagged
- ContactsExport: Created, Deleted; CampaignLogExport: Created; ListLogsExport: Created;
  SuppressedEmailsExport: Created, Deleted
- Campaign: Canceled (one L), Created, Unscheduled, Updated, Resumed, Scheduled, Suspended
- Email: Sent, Opened, Clicked, Bounced, ReportedAsSpam, Unsubscribed, GlobalUnsubscribed,
  Submitted, Queued, Rejected, Processing, Delivered, Error
- User: Created, Deleted, LoggedIn, Updated, Confirmed
- List: Created, Updated, Deleted
- MFA: RecoveryCodesViewed, ChallengeIssued, ChallengeCompleted, MethodAdded,
  MethodActivated, MethodDeleted
- Segment: Created, Updated, Deleted
- Sender: Created, Updated, Deleted, Confirmed, ConfirmationEmailSent
- SuppressedEmail: Added, Removed
"
        .replace(",\n  ", ", ")
        .replace(";\n  ", "; ");
        let mut expected = Vec::new();
        for line in section.lines().filter(|l| l.starts_with("- ")) {
            let line = line
                .trim_start_matches("- ")
                .replace("Canceled (one L)", "Canceled");
            for group in line.split("; ") {
                let (resource, actions) = group.split_once(": ").unwrap();
                for action in actions.trim_end_matches(';').split(", ") {
                    expected.push(format!("{resource}.{}", action.trim()));
                }
            }
        }
        assert_eq!(expected.len(), 59);
        let got: Vec<_> = catalogue(Flavor::Api).iter().map(|k| k.name).collect();
        assert_eq!(got, expected);
    }

    #[test]
    fn every_twin_exists_in_both_catalogues() {
        for kind in catalogue(Flavor::Docs) {
            match api_twin(kind.name) {
                Some(t) => {
                    assert!(find(Flavor::Api, t).is_ok(), "{t}");
                    assert_eq!(docs_twin(t), Some(kind.name));
                }
                None => assert_eq!(kind.name, "campaign.sent"),
            }
        }
        assert_eq!(
            api_twin("email.spam_complaint"),
            Some("Email.ReportedAsSpam")
        );
        assert_eq!(api_twin("campaign.cancelled"), Some("Campaign.Canceled"));
    }

    #[test]
    fn unknown_names_get_a_suggestion_and_the_list() {
        let err = find(Flavor::Docs, "email.opend").unwrap_err().0;
        assert!(err.contains("did you mean email.opened?"), "{err}");
        assert!(err.contains("campaign.cancelled"), "{err}");
        let err = find(Flavor::Api, "Email.Opend").unwrap_err().0;
        assert!(err.contains("did you mean Email.Opened?"), "{err}");
        assert!(err.contains("SuppressedEmail.Removed"), "{err}");
    }

    #[test]
    fn names_of_the_other_flavor_point_across() {
        let err = find(Flavor::Api, "email.opened").unwrap_err().0;
        assert!(
            err.starts_with("email.opened is a docs-flavor event; in flavor api use Email.Opened"),
            "{err}"
        );
        let err = find(Flavor::Docs, "Email.ReportedAsSpam").unwrap_err().0;
        assert!(
            err.contains("in flavor docs use email.spam_complaint"),
            "{err}"
        );
        let err = find(Flavor::Api, "campaign.sent").unwrap_err().0;
        assert!(err.contains("no api-flavor equivalent"), "{err}");
        let err = find(Flavor::Docs, "List.Created").unwrap_err().0;
        assert!(err.contains("pass --flavor api"), "{err}");
    }
}
