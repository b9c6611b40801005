//! One stored webhook and the checks its fields go through. A webhook subscribes to a
//! list of events of one flavor (the CLI's `-e "email.sent,email.opened"` or the API's
//! single `event`), which fixes the wire format and signature scheme it receives.

use serde::{Deserialize, Serialize};

use crate::InputError;
use crate::events::{self, Flavor};
use crate::sign::Secret;

/// The first id handed out. Ids are sequential integers kept as strings, so the
/// guide's `cakemock webhooks update 123` works on a fresh store and the API shows the
/// same ids as its opaque strings.
pub const FIRST_ID: u64 = 123;
/// The longest URL the API accepts (its OpenAPI `maxLength`).
pub const MAX_URL: usize = 2083;
/// The API's default `rate_limit`.
pub const DEFAULT_RATE_LIMIT: u32 = 50;

/// `active` receives deliveries; `archived` does not (the API's two states).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Active,
    Archived,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Active => "active",
            Status::Archived => "archived",
        }
    }
}

/// The period `rate_limit` counts deliveries over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum, Default)]
#[serde(rename_all = "lowercase")]
pub enum Period {
    #[default]
    Second,
    Minute,
}

impl Period {
    pub fn as_str(self) -> &'static str {
        match self {
            Period::Second => "second",
            Period::Minute => "minute",
        }
    }

    pub fn duration(self) -> std::time::Duration {
        match self {
            Period::Second => std::time::Duration::from_secs(1),
            Period::Minute => std::time::Duration::from_secs(60),
        }
    }
}

/// A stored webhook. `Debug` shows the secret as `Secret(***)`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Webhook {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub url: String,
    /// Event names of `flavor`, in the order given, without duplicates.
    pub events: Vec<String>,
    pub flavor: Flavor,
    pub status: Status,
    #[serde(with = "secret_text")]
    pub secret: Secret,
    pub rate_limit: u32,
    pub rate_limit_period: Period,
    /// Unix seconds.
    pub created_at: i64,
    pub updated_at: i64,
    #[serde(default)]
    pub archived_at: Option<i64>,
}

impl Webhook {
    /// The event the API shows for this webhook (its `event` field holds one): the
    /// first event, by its API name when it is a guide event with an API twin.
    pub fn api_event(&self) -> &str {
        let first = self.events.first().map_or("", String::as_str);
        match self.flavor {
            Flavor::Api => first,
            Flavor::Docs => events::api_twin(first).unwrap_or(first),
        }
    }

    /// The event of this webhook's flavor that `name` (of either flavor) stands for,
    /// when the webhook is subscribed to it.
    pub fn subscribed_to(&self, name: &str) -> Option<&'static events::EventKind> {
        let own = match self.flavor {
            Flavor::Docs if name.contains('.') && name.starts_with(char::is_uppercase) => {
                events::docs_twin(name)?
            }
            Flavor::Api if !name.starts_with(char::is_uppercase) => events::api_twin(name)?,
            _ => name,
        };
        if !self.events.iter().any(|e| e == own) {
            return None;
        }
        events::find(self.flavor, own).ok()
    }

    pub fn set_archived(&mut self, archived: bool, now: i64) {
        if archived && self.status == Status::Active {
            self.status = Status::Archived;
            self.archived_at = Some(now);
            self.updated_at = now;
        } else if !archived && self.status == Status::Archived {
            self.status = Status::Active;
            self.archived_at = None;
            self.updated_at = now;
        }
    }

    /// Applies a checked change.
    pub fn apply(&mut self, patch: WebhookPatch, now: i64) {
        if let Some(u) = patch.url {
            self.url = u;
        }
        if let Some((events, flavor)) = patch.events {
            self.events = events;
            self.flavor = flavor;
        }
        if let Some(n) = patch.name {
            self.name = Some(n);
        }
        if let Some(r) = patch.rate_limit {
            self.rate_limit = r;
        }
        if let Some(p) = patch.rate_limit_period {
            self.rate_limit_period = p;
        }
        self.updated_at = now;
    }
}

/// A webhook about to be created (fields already checked).
#[derive(Debug, Clone)]
pub struct NewWebhook {
    pub name: Option<String>,
    pub url: String,
    pub events: Vec<String>,
    pub flavor: Flavor,
    pub secret: Secret,
    pub rate_limit: u32,
    pub rate_limit_period: Period,
}

impl NewWebhook {
    pub(super) fn into_webhook(self, id: String, now: i64) -> Webhook {
        Webhook {
            id,
            name: self.name,
            url: self.url,
            events: self.events,
            flavor: self.flavor,
            status: Status::Active,
            secret: self.secret,
            rate_limit: self.rate_limit,
            rate_limit_period: self.rate_limit_period,
            created_at: now,
            updated_at: now,
            archived_at: None,
        }
    }
}

/// A change to a webhook; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct WebhookPatch {
    pub url: Option<String>,
    pub events: Option<(Vec<String>, Flavor)>,
    pub name: Option<String>,
    pub rate_limit: Option<u32>,
    pub rate_limit_period: Option<Period>,
}

impl WebhookPatch {
    pub fn is_empty(&self) -> bool {
        self.url.is_none()
            && self.events.is_none()
            && self.name.is_none()
            && self.rate_limit.is_none()
            && self.rate_limit_period.is_none()
    }
}

/// Parses a comma-separated event list (`"email.sent, email.opened"`). The flavor is
/// the first name's; every name must belong to it. Errors list the valid events.
pub fn parse_events(list: &str) -> Result<(Vec<String>, Flavor), InputError> {
    let names: Vec<&str> = list
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    let Some(first) = names.first() else {
        let valid: Vec<_> = events::catalogue(Flavor::Docs)
            .iter()
            .map(|k| k.name)
            .collect();
        return Err(InputError::new(format!(
            "no events given; pass a comma-separated list such as \"email.sent,email.opened\" \
             (valid events: {})",
            valid.join(", ")
        )));
    };
    let flavor = if events::find(Flavor::Api, first).is_ok() {
        Flavor::Api
    } else {
        Flavor::Docs
    };
    let mut out: Vec<String> = Vec::with_capacity(names.len());
    for name in names {
        let kind = events::find(flavor, name)?;
        if !out.iter().any(|e| e == kind.name) {
            out.push(kind.name.to_string());
        }
    }
    Ok((out, flavor))
}

/// Checks a webhook URL: absolute http(s) with a host, at most [`MAX_URL`] characters.
pub fn check_url(url: &str) -> Result<String, String> {
    let url = url.trim();
    if url.is_empty() {
        return Err("the URL is empty".into());
    }
    if url.chars().count() > MAX_URL {
        return Err(format!("the URL is longer than {MAX_URL} characters"));
    }
    let uri: http::Uri = url
        .parse()
        .map_err(|_| "not a valid URL; expected e.g. https://api.yourapp.com/webhooks/cakemail")?;
    match uri.scheme_str() {
        Some("http" | "https") => {}
        Some(other) => {
            return Err(format!(
                "scheme {other:?} is not supported; use http or https"
            ));
        }
        None => return Err("the scheme is missing; expected http:// or https://".into()),
    }
    if uri.host().is_none_or(str::is_empty) {
        return Err("the host is missing".into());
    }
    Ok(url.to_string())
}

/// The secret is stored as its plain text (the file is 0600), never shown by `Debug`.
mod secret_text {
    use serde::{Deserialize, Deserializer, Serializer};

    use crate::sign::Secret;

    pub fn serialize<S: Serializer>(s: &Secret, ser: S) -> Result<S::Ok, S::Error> {
        ser.serialize_str(s.expose())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(de: D) -> Result<Secret, D::Error> {
        String::deserialize(de).map(Secret::new)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_lists_take_one_flavor_and_name_the_valid_ones() {
        let (e, f) = parse_events("email.sent, email.opened,email.sent").unwrap();
        assert_eq!(
            (e, f),
            (
                vec!["email.sent".into(), "email.opened".into()],
                Flavor::Docs
            )
        );
        let (e, f) = parse_events("Email.Opened").unwrap();
        assert_eq!((e, f), (vec!["Email.Opened".to_string()], Flavor::Api));
        let err = parse_events("email.sent,email.opend").unwrap_err().0;
        assert!(err.contains("did you mean email.opened"), "{err}");
        assert!(err.contains("campaign.cancelled"), "{err}");
        let err = parse_events("email.sent,Email.Opened").unwrap_err().0;
        assert!(err.contains("use email.opened"), "{err}");
        assert!(parse_events(" , ").unwrap_err().0.contains("email.sent"));
    }

    #[test]
    fn subscriptions_match_across_flavors_by_twin() {
        let w = NewWebhook {
            name: None,
            url: "http://h/".into(),
            events: vec!["email.opened".into(), "campaign.sent".into()],
            flavor: Flavor::Docs,
            secret: Secret::new("s"),
            rate_limit: 5,
            rate_limit_period: Period::Second,
        }
        .into_webhook("123".into(), 0);
        assert_eq!(
            w.subscribed_to("email.opened").unwrap().name,
            "email.opened"
        );
        assert_eq!(
            w.subscribed_to("Email.Opened").unwrap().name,
            "email.opened"
        );
        assert!(w.subscribed_to("email.sent").is_none());
        assert!(w.subscribed_to("Contact.Added").is_none());
        assert_eq!(w.api_event(), "Email.Opened");
        assert!(!format!("{w:?}").contains("\"s\""));
    }

    #[test]
    fn urls_must_be_absolute_http() {
        assert!(check_url("https://api.yourapp.com/webhooks/cakemail").is_ok());
        assert!(check_url("ftp://h/x").unwrap_err().contains("http"));
        assert!(check_url("localhost:3000/x").is_err());
        assert!(check_url(&format!("http://h/{}", "a".repeat(2100))).is_err());
    }
}
