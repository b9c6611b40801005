//! Flavor `api`: `{"event", "account_id", "ip", "user", "created_on", "data"}` as the
//! published API sends it. Email events use the field names of the API's campaign logs
//! (`clickthru_url`, a `user_agent` object, `dsn_message`, `unsub_reason`, unix
//! `timestamp`, bounce subtypes); the account's own events carry plausible resources.
//! Times are unix seconds throughout, as in the rest of the API.

use super::bounce::Bounce;
use super::json::Sink;
use super::mail;
use super::mailboxes;
use super::{Generator, Subject};

pub(super) fn write<S: Sink>(g: &mut Generator, s: &mut S, name: &'static str, ev: &Subject<'_>) {
    let (resource, action) = name.split_once('.').unwrap_or((name, ""));
    let now = ev.at.timestamp();
    // Readers' own actions come from their address; the platform's from its MTA; the
    // rest from the account user who made the change.
    let reader_event = matches!(
        name,
        "Email.Opened" | "Email.Clicked" | "Email.Unsubscribed" | "Email.GlobalUnsubscribed"
    );
    let reader = reader_event.then(|| g.reader(ev.contact));
    let seen = reader.as_ref().map(|r| {
        let bits = g.rng.u64();
        if name == "Email.Opened" {
            r.persona.open(r.family, r.region, bits)
        } else {
            r.persona.click(r.family, r.region, bits)
        }
    });
    s.begin_object();
    s.field_str("event", name);
    s.field_uint("account_id", g.account.id);
    match (&seen, resource) {
        (Some((_, ip)), _) => s.field_fmt("ip", format_args!("{ip}")),
        (None, "Email") => s.field_str("ip", &g.account.mta_ip),
        (None, _) => s.field_str("ip", &g.account.user_ip),
    }
    s.key("user");
    s.begin_object();
    s.field_uint("id", g.account.user_id);
    s.field_str("email", &g.account.user_email);
    s.field_uint("account_id", g.account.id);
    s.end_object();
    s.field_int("created_on", now);
    s.key("data");
    s.begin_object();
    let (c, camp) = (ev.contact, ev.campaign);
    let list_id = g.list_id(camp);
    match resource {
        "Email"
            if matches!(
                action,
                "Submitted" | "Queued" | "Processing" | "Delivered" | "Rejected" | "Error"
            ) =>
        {
            transactional(g, s, action, ev)
        }
        "Email" => {
            if action != "GlobalUnsubscribed" {
                s.field_uint("campaign_id", camp.campaign_id);
                s.field_uint("list_id", list_id);
            }
            s.field_uint("contact_id", c.contact_id);
            s.field_str("email", &c.email);
            match action {
                "Sent" => s.field_str("message_id", &c.message_id),
                "Clicked" => {
                    let url = g.click_url(&camp.name);
                    s.field_fmt("clickthru_url", format_args!("{url}"));
                }
                "Bounced" => {
                    let domain = c.email.rsplit_once('@').map_or("", |(_, d)| d);
                    let bounce = Bounce::draw(&mut g.rng, mailboxes::family(domain));
                    s.field_str("type", bounce.subtype);
                    let line = bounce.reply_line(&mut g.rng, &c.email, &g.account.mta_ip);
                    s.field_fmt("dsn_message", format_args!("{line}"));
                }
                "ReportedAsSpam" => {
                    s.field_str("feedback_type", "abuse");
                    let domain = c.email.rsplit_once('@').map_or("", |(_, d)| d);
                    s.field_str(
                        "feedback_loop",
                        super::docs::feedback_loop(mailboxes::family(domain)),
                    );
                }
                "Unsubscribed" | "GlobalUnsubscribed" => {
                    let reason = g.rng.weighted(&[
                        (40, ""),
                        (20, "I receive too many emails"),
                        (15, "The content is no longer relevant to me"),
                        (10, "I never signed up for this list"),
                        (10, "Je ne souhaite plus recevoir ces courriels"),
                        (5, "Other"),
                    ]);
                    s.field_str("unsub_reason", reason);
                }
                _ => {}
            }
            if let Some((ua, ip)) = seen.filter(|_| matches!(action, "Opened" | "Clicked")) {
                s.key("user_agent");
                s.begin_object();
                s.field_fmt("ip", format_args!("{ip}"));
                s.field_str("os", ua.os);
                s.field_str("browser", ua.browser);
                s.field_str("device", ua.device);
                s.field_bool("is_bot", ua.is_bot);
                s.field_str("raw", ua.raw);
                s.end_object();
            }
            s.field_int("timestamp", now);
        }
        "Contact" => {
            s.field_uint("id", c.contact_id);
            s.field_uint("list_id", list_id);
            s.field_str("email", &c.email);
            match action {
                "Added" | "Updated" => {
                    s.field_str("status", "active");
                    let since = if action == "Added" {
                        now
                    } else {
                        now - g.rng.range(86_400, 400 * 86_400) as i64
                    };
                    s.field_int("subscribed_on", since);
                    s.field_fmt("language", format_args!("{}", c.locale.replace('-', "_")));
                    s.key("custom_attributes");
                    s.begin_array();
                    for (k, v) in [("first_name", &c.first_name), ("last_name", &c.last_name)] {
                        s.begin_object();
                        s.field_str("name", k);
                        s.field_str("value", v);
                        s.end_object();
                    }
                    s.end_array();
                }
                "Tagged" | "Untagged" => {
                    s.key("tags");
                    s.begin_array();
                    let n = 1 + g.rng.below(2);
                    let first = g.rng.below(TAGS.len());
                    for i in 0..n {
                        s.str(TAGS[(first + i) % TAGS.len()]);
                    }
                    s.end_array();
                }
                _ => {}
            }
        }
        "Campaign" => {
            s.field_uint("id", camp.campaign_id);
            s.field_str("name", &camp.name);
            let status = match action {
                "Scheduled" => "scheduled",
                "Canceled" => "canceled",
                "Suspended" => "suspended",
                "Resumed" => "delivering",
                _ => "draft",
            };
            s.field_str("status", status);
            s.field_uint("list_id", list_id);
            s.field_uint("sender_id", g.account.sender_id);
            s.field_str("subject", mail::subject_of(&camp.name));
            if matches!(action, "Scheduled" | "Canceled") {
                let t = g.scheduled_for(camp.campaign_id, now);
                s.field_int("scheduled_for", t);
            }
            s.field_int("updated_on", now);
        }
        "Account" => {
            s.field_uint("id", g.account.id);
            if action != "Deleted" {
                s.field_str("name", g.account.brand.company);
                s.field_str(
                    "status",
                    if action == "Created" {
                        "pending"
                    } else {
                        "active"
                    },
                );
                s.field_str("country", g.account.brand.country);
                s.field_str("language", g.account.brand.language);
            }
        }
        "User" => {
            s.field_uint("id", g.account.user_id);
            if action != "Deleted" {
                s.field_str("email", &g.account.user_email);
                s.field_str("first_name", g.account.user_first);
                s.field_str("last_name", g.account.user_last);
                s.field_str("language", g.account.brand.language);
                s.field_str("timezone", g.account.brand.timezone);
                s.field_str(
                    "status",
                    if action == "Created" {
                        "pending"
                    } else {
                        "active"
                    },
                );
            }
        }
        "List" => {
            s.field_uint("id", list_id);
            if action != "Deleted" {
                s.field_str("name", LISTS[(list_id % LISTS.len() as u64) as usize]);
                s.field_str("language", g.account.brand.language);
                s.field_str("status", "active");
                s.field_uint("sender_id", g.account.sender_id);
            }
        }
        "Segment" => {
            s.field_uint("id", 100 + mix_small(camp.campaign_id, 9_000));
            s.field_uint("list_id", list_id);
            if action != "Deleted" {
                s.field_str("name", "Opened in the last 30 days");
                s.field_str("query", "opened_on > now-30d AND status = active");
            }
        }
        "Sender" => {
            s.field_uint("id", g.account.sender_id);
            if action != "Deleted" {
                s.field_str("name", g.account.brand.company);
                s.field_fmt("email", format_args!("info@{}", g.account.brand.domain));
                s.field_bool("confirmed", matches!(action, "Confirmed" | "Updated"));
                s.field_str("language", g.account.brand.language);
            }
        }
        "SuppressedEmail" => {
            s.field_str("email", &c.email);
            let reason = g.rng.weighted(&[
                (50, "hard_bounce"),
                (30, "unsubscribe"),
                (15, "spam_complaint"),
                (5, "manual"),
            ]);
            s.field_str("reason", reason);
            s.field_int("timestamp", now);
        }
        "MFA" => {
            s.field_uint("user_id", g.account.user_id);
            if action != "RecoveryCodesViewed" {
                let method = g.rng.weighted(&[(70, "totp"), (20, "sms"), (10, "email")]);
                s.field_str("method", method);
            }
            if action.starts_with("Challenge") {
                s.field_fmt("challenge_id", format_args!("{}", g.uuid()));
            }
            if action == "ChallengeIssued" {
                s.field_int("expires_on", now + 300);
            }
        }
        // The four export resources.
        _ => {
            s.field_fmt("id", format_args!("{}", ExportId(g.rng.u64())));
            if action == "Created" {
                match resource {
                    "CampaignLogExport" => s.field_uint("campaign_id", camp.campaign_id),
                    "ContactsExport" | "ListLogsExport" => s.field_uint("list_id", list_id),
                    _ => {}
                }
                s.field_str("status", "pending");
                s.field_uint("progress", 0);
                s.field_int("expires_on", now + 7 * 86_400);
            }
            s.field_int("created_on", now);
        }
    }
    s.end_object();
    s.end_object();
}

/// The transactional Email API's lifecycle (Submitted -> Queued -> Processing ->
/// Delivered, or Rejected / Error). `email_id` follows from the message id, so one
/// contact's lifecycle events share it.
fn transactional<S: Sink>(g: &mut Generator, s: &mut S, action: &str, ev: &Subject<'_>) {
    let c = ev.contact;
    let h = c
        .message_id
        .bytes()
        .fold(0u64, |h, b| super::rng::mix(h ^ u64::from(b)));
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&h.to_le_bytes());
    bytes[8..].copy_from_slice(&super::rng::mix(h).to_le_bytes());
    let id = uuid::Builder::from_random_bytes(bytes).into_uuid();
    s.field_fmt("email_id", format_args!("{}", id.hyphenated()));
    s.field_str("email", &c.email);
    s.field_fmt(
        "sender",
        format_args!("no-reply@{}", g.account.brand.domain),
    );
    let (subject, tag) = TRANSACTIONAL[(h % TRANSACTIONAL.len() as u64) as usize];
    s.field_str("subject", subject);
    s.key("tags");
    s.begin_array();
    s.str(tag);
    s.end_array();
    match action {
        "Delivered" => {
            let domain = c.email.rsplit_once('@').map_or("", |(_, d)| d);
            s.field_fmt(
                "smtp_response",
                format_args!("250 2.0.0 OK: queued as {}", ExportId(g.rng.u64())),
            );
            s.field_fmt("remote_mta", format_args!("{}", mailboxes::mx_host(domain)));
        }
        "Rejected" => {
            let reason = g.rng.weighted(&[
                (60, "suppressed"),
                (25, "invalid_recipient"),
                (15, "rate_limited"),
            ]);
            s.field_str("reason", reason);
        }
        "Error" => s.field_str("error", "connection to remote MTA timed out after 30s"),
        _ => {}
    }
    s.field_int("timestamp", ev.at.timestamp());
}

const TAGS: &[&str] = &[
    "vip",
    "customer",
    "newsletter",
    "webinar-2024",
    "montreal",
    "wholesale",
];
const LISTS: &[&str] = &["Infolettre", "Customers", "Newsletter subscribers", "VIP"];
const TRANSACTIONAL: &[(&str, &str)] = &[
    ("Your order #10482 has shipped", "order-shipped"),
    ("Reset your password", "password-reset"),
    ("Confirmation de votre commande", "order-confirmation"),
    ("Your receipt", "receipt"),
];

fn mix_small(x: u64, n: u64) -> u64 {
    super::rng::mix(x) % n
}

/// Opaque 12-character ids in the API's style (`X1qRXqz1upM9`).
struct ExportId(u64);

impl std::fmt::Display for ExportId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        const ABC: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
        let mut v = self.0;
        let mut out = [0u8; 12];
        for b in &mut out {
            v = super::rng::mix(v);
            *b = ABC[(v % 62) as usize];
        }
        f.write_str(std::str::from_utf8(&out).map_err(|_| std::fmt::Error)?)
    }
}
