//! Flavor `docs`: `{"event", "timestamp", "data"}` as the webhook guide shows it.
//! `data` opens with the guide's fields in the guide's order (SPEC section 2), then
//! the extras a real sender would add (list, names, bounce details, sources).

use super::bounce::{Bounce, Severity};
use super::json::{Rfc3339, Sink};
use super::mailboxes::{self, Family};
use super::{Generator, Subject};

pub(super) fn write<S: Sink>(g: &mut Generator, s: &mut S, name: &'static str, ev: &Subject<'_>) {
    s.begin_object();
    s.field_str("event", name);
    s.field_fmt("timestamp", format_args!("{}", Rfc3339(ev.at)));
    s.key("data");
    s.begin_object();
    let (c, camp) = (ev.contact, ev.campaign);
    let list_id = g.list_id(camp);
    match name {
        "email.sent" => {
            head(s, ev);
            s.field_str("message_id", &c.message_id);
            s.field_uint("list_id", list_id);
            s.field_str("first_name", &c.first_name);
            s.field_str("last_name", &c.last_name);
        }
        "email.opened" | "email.clicked" => {
            head(s, ev);
            let reader = g.reader(c);
            let bits = g.rng.u64();
            let (ua, ip) = if name == "email.opened" {
                reader.persona.open(reader.family, reader.region, bits)
            } else {
                reader.persona.click(reader.family, reader.region, bits)
            };
            s.field_str("user_agent", ua.raw);
            s.field_fmt("ip_address", format_args!("{ip}"));
            if name == "email.clicked" {
                let url = g.click_url(&camp.name);
                s.field_fmt("url", format_args!("{url}"));
            }
            s.field_str("message_id", &c.message_id);
            s.field_uint("list_id", list_id);
        }
        "email.bounced" => {
            head(s, ev);
            s.field_str("message_id", &c.message_id);
            let domain = c.email.rsplit_once('@').map_or("", |(_, d)| d);
            let bounce = Bounce::draw(&mut g.rng, mailboxes::family(domain));
            let hard = bounce.severity() == Severity::Hard;
            s.field_str("bounce_type", if hard { "hard" } else { "soft" });
            let line = bounce.reply_line(&mut g.rng, &c.email, &g.account.mta_ip);
            s.field_fmt("bounce_reason", format_args!("{line}"));
            s.field_uint("list_id", list_id);
            s.field_str("status", bounce.status);
            s.field_fmt("remote_mta", format_args!("{}", mailboxes::mx_host(domain)));
        }
        "email.unsubscribed" => {
            head(s, ev);
            s.field_str("message_id", &c.message_id);
            s.field_uint("list_id", list_id);
            // RFC 8058 one-click unsubscribe (the List-Unsubscribe header) is now a
            // large share, next to the footer link and the preference centre.
            let source = g.rng.weighted(&[
                (55, "unsubscribe_link"),
                (40, "list_unsubscribe_header"),
                (5, "preference_center"),
            ]);
            s.field_str("source", source);
        }
        "email.spam_complaint" => {
            head(s, ev);
            s.field_str("message_id", &c.message_id);
            s.field_uint("list_id", list_id);
            s.field_str("feedback_type", "abuse");
            let domain = c.email.rsplit_once('@').map_or("", |(_, d)| d);
            s.field_str("feedback_loop", feedback_loop(mailboxes::family(domain)));
        }
        "campaign.sent" => {
            campaign_head(s, ev);
            let n = match g.rng.below(20) {
                0..=7 => g.rng.range(150, 2_000),
                8..=16 => g.rng.range(2_000, 25_000),
                _ => g.rng.range(25_000, 180_000),
            };
            s.field_uint("sent_count", n);
            s.field_uint("list_id", list_id);
            s.field_str("subject", super::mail::subject_of(&camp.name));
        }
        "campaign.scheduled" => {
            campaign_head(s, ev);
            let t = g.scheduled_for(camp.campaign_id, ev.at.timestamp());
            s.field_fmt("scheduled_for", format_args!("{}", Rfc3339(utc(t, ev))));
            s.field_uint("list_id", list_id);
            s.field_str("subject", super::mail::subject_of(&camp.name));
        }
        "campaign.cancelled" => {
            campaign_head(s, ev);
            s.field_fmt("cancelled_at", format_args!("{}", Rfc3339(ev.at)));
            let t = g.scheduled_for(camp.campaign_id, ev.at.timestamp());
            s.field_fmt("scheduled_for", format_args!("{}", Rfc3339(utc(t, ev))));
            s.field_uint("list_id", list_id);
            s.field_str("subject", super::mail::subject_of(&camp.name));
        }
        // The catalogue has no other docs names; an unknown kind gets the common head.
        _ => head(s, ev),
    }
    s.end_object();
    s.end_object();
}

/// The guide's first three fields of every email event.
fn head<S: Sink>(s: &mut S, ev: &Subject<'_>) {
    s.field_uint("campaign_id", ev.campaign.campaign_id);
    s.field_uint("contact_id", ev.contact.contact_id);
    s.field_str("email", &ev.contact.email);
}

fn campaign_head<S: Sink>(s: &mut S, ev: &Subject<'_>) {
    s.field_uint("campaign_id", ev.campaign.campaign_id);
    s.field_str("name", &ev.campaign.name);
}

fn utc(unix: i64, ev: &Subject<'_>) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp(unix, 0).unwrap_or(ev.at)
}

/// The feedback loop a complaint arrives through, by mailbox provider.
pub(super) fn feedback_loop(family: Family) -> &'static str {
    match family {
        Family::Yahoo => "Yahoo CFL",
        Family::Microsoft | Family::Company => "Microsoft JMRP",
        Family::Gmail => "Gmail FBL",
        Family::Apple => "iCloud FBL",
        Family::Other => "ARF",
    }
}
