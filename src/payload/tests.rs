//! Unit tests of the generator: what a receiver author would notice in the bodies
//! (shape, realism, determinism, and that the Value and byte paths agree).

use super::*;
use crate::events::{catalogue, find};

fn at() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2024-03-15T10:30:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

/// Every event of a flavor, for `n` contacts, as bytes.
fn bodies(flavor: Flavor, seed: u64, n: usize) -> Vec<Bytes> {
    let mut g = Generator::new(flavor, seed);
    let camp = g.campaign();
    let mut out = Vec::new();
    for _ in 0..n {
        let c = g.contact();
        for kind in catalogue(flavor) {
            out.push(to_bytes(&g.event(kind, at(), &c, &camp)));
        }
    }
    out
}

#[test]
fn same_seed_same_bytes_other_seed_other_bytes() {
    for flavor in [Flavor::Docs, Flavor::Api] {
        assert_eq!(bodies(flavor, 42, 20), bodies(flavor, 42, 20));
        let (a, b) = (bodies(flavor, 42, 20), bodies(flavor, 43, 20));
        assert!(
            a.iter().zip(&b).all(|(x, y)| x != y),
            "{flavor}: a body repeated across seeds"
        );
    }
    let (mut a, mut b) = (
        Generator::new(Flavor::Docs, 5),
        Generator::new(Flavor::Docs, 5),
    );
    assert_eq!(a.delivery_id(), b.delivery_id());
    assert_ne!(
        a.delivery_id(),
        Generator::new(Flavor::Docs, 6).delivery_id()
    );
}

#[test]
fn the_fast_path_writes_the_same_bytes_and_draws_the_same_numbers() {
    for flavor in [Flavor::Docs, Flavor::Api] {
        let (mut slow, mut fast) = (Generator::new(flavor, 7), Generator::new(flavor, 7));
        for _ in 0..50 {
            let (c, c2) = (slow.contact(), fast.contact());
            let (camp, camp2) = (slow.campaign(), fast.campaign());
            for kind in catalogue(flavor) {
                let a = to_bytes(&slow.event(kind, at(), &c, &camp));
                let b = fast.event_bytes(kind, at(), &c2, &camp2);
                assert_eq!(a, b, "{}", kind.name);
            }
        }
    }
}

fn keys(v: &Value) -> Vec<&str> {
    v.as_object().unwrap().keys().map(String::as_str).collect()
}

#[test]
fn docs_envelopes_and_the_guides_fields_come_first_in_order() {
    let guide: &[(&str, &[&str])] = &[
        (
            "email.sent",
            &["campaign_id", "contact_id", "email", "message_id"],
        ),
        (
            "email.opened",
            &[
                "campaign_id",
                "contact_id",
                "email",
                "user_agent",
                "ip_address",
                "message_id",
            ],
        ),
        (
            "email.clicked",
            &[
                "campaign_id",
                "contact_id",
                "email",
                "user_agent",
                "ip_address",
                "url",
                "message_id",
            ],
        ),
        (
            "email.bounced",
            &[
                "campaign_id",
                "contact_id",
                "email",
                "message_id",
                "bounce_type",
                "bounce_reason",
            ],
        ),
        (
            "email.unsubscribed",
            &["campaign_id", "contact_id", "email", "message_id"],
        ),
        (
            "email.spam_complaint",
            &["campaign_id", "contact_id", "email", "message_id"],
        ),
        ("campaign.sent", &["campaign_id", "name", "sent_count"]),
        (
            "campaign.scheduled",
            &["campaign_id", "name", "scheduled_for"],
        ),
        (
            "campaign.cancelled",
            &["campaign_id", "name", "cancelled_at"],
        ),
    ];
    let mut g = Generator::new(Flavor::Docs, 1);
    let (c, camp) = (g.contact(), g.campaign());
    for (name, fields) in guide {
        let v = g.event(find(Flavor::Docs, name).unwrap(), at(), &c, &camp);
        assert_eq!(keys(&v), ["event", "timestamp", "data"]);
        assert_eq!(v["event"], *name);
        assert_eq!(v["timestamp"], "2024-03-15T10:30:00Z");
        assert_eq!(&keys(&v["data"])[..fields.len()], *fields, "{name}");
        if name.starts_with("email.") {
            assert_eq!(v["data"]["email"], c.email.as_str());
            assert_eq!(v["data"]["message_id"], c.message_id.as_str());
            assert_eq!(v["data"]["contact_id"], c.contact_id);
        }
    }
}

#[test]
fn api_envelopes_have_a_fixed_account_and_unix_times() {
    let mut g = Generator::new(Flavor::Api, 1);
    let (c, camp) = (g.contact(), g.campaign());
    let mut account = None;
    for kind in catalogue(Flavor::Api) {
        let v = g.event(kind, at(), &c, &camp);
        assert_eq!(
            keys(&v),
            ["event", "account_id", "ip", "user", "created_on", "data"]
        );
        assert_eq!(keys(&v["user"]), ["id", "email", "account_id"]);
        assert_eq!(v["user"]["account_id"], v["account_id"]);
        assert_eq!(v["created_on"], 1_710_498_600);
        assert!(
            v["ip"]
                .as_str()
                .unwrap()
                .parse::<std::net::IpAddr>()
                .is_ok()
        );
        let acc = account.get_or_insert_with(|| v["account_id"].clone());
        assert_eq!(&v["account_id"], acc, "{}", kind.name);
    }
    let opened = g.event(find(Flavor::Api, "Email.Opened").unwrap(), at(), &c, &camp);
    let ua = &opened["data"]["user_agent"];
    assert_eq!(keys(ua), ["ip", "os", "browser", "device", "is_bot", "raw"]);
    assert_eq!(ua["ip"], opened["ip"]);
    let clicked = g.event(find(Flavor::Api, "Email.Clicked").unwrap(), at(), &c, &camp);
    assert!(
        clicked["data"]["clickthru_url"]
            .as_str()
            .unwrap()
            .contains("utm_campaign=")
    );
}

#[test]
fn names_are_diverse_and_emails_belong_to_them() {
    let mut g = Generator::new(Flavor::Docs, 3);
    let n = 10_000;
    let (mut non_ascii, mut non_latin, mut gmail) = (0, 0, 0);
    let mut domains = std::collections::HashSet::new();
    let mut ids = std::collections::HashSet::new();
    let mut emails = std::collections::HashSet::new();
    for _ in 0..n {
        let c = g.contact();
        let full = format!("{}{}", c.first_name, c.last_name);
        non_ascii += usize::from(!full.is_ascii());
        non_latin += usize::from(full.chars().any(|ch| ch as u32 > 0x24F));
        let (local, domain) = c.email.split_once('@').unwrap();
        assert!(
            local
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._".contains(&b)),
            "{}",
            c.email
        );
        if !full.chars().any(|ch| ch as u32 > 0x24F) {
            let (f, l) = (people::fold(&c.first_name), people::fold(&c.last_name));
            assert!(
                local.contains(&f) || local.contains(&l),
                "{} {} {}",
                c.first_name,
                c.last_name,
                c.email
            );
        }
        gmail += usize::from(domain == "gmail.com");
        domains.insert(domain.to_owned());
        assert!(ids.insert(c.contact_id));
        assert!(emails.insert(c.email.clone()), "duplicate {}", c.email);
    }
    let share = non_ascii * 100 / n;
    assert!((15..=25).contains(&share), "non-ASCII names: {share}%");
    assert!(non_latin > n / 50, "non-Latin names: {non_latin}");
    assert!((25..=45).contains(&(gmail * 100 / n)), "gmail: {gmail}");
    for d in [
        "outlook.com",
        "hotmail.com",
        "yahoo.com",
        "icloud.com",
        "videotron.ca",
        "orange.fr",
        "gmx.de",
    ] {
        assert!(domains.contains(d), "{d} never drawn");
    }
    assert!(domains.iter().any(|d| mailboxes::is_company(d)));
}

#[test]
fn bounces_agree_with_their_codes_and_opens_with_their_clients() {
    let mut g = Generator::new(Flavor::Docs, 11);
    let camp = g.campaign();
    let (bounced, opened) = (
        find(Flavor::Docs, "email.bounced").unwrap(),
        find(Flavor::Docs, "email.opened").unwrap(),
    );
    let (mut hard, mut soft, mut google, mut mpp, mut v6) = (0, 0, 0, 0, 0);
    for _ in 0..2_000 {
        let c = g.contact();
        let b = g.event(bounced, at(), &c, &camp);
        let reason = b["data"]["bounce_reason"].as_str().unwrap();
        let (code, status) = (&reason[..3], &reason[4..5]);
        match b["data"]["bounce_type"].as_str().unwrap() {
            "hard" => {
                hard += 1;
                assert!(code.starts_with('5') && status == "5", "{reason}")
            }
            _ => {
                soft += 1;
                assert!(code.starts_with('4') && status == "4", "{reason}")
            }
        }
        assert!(reason[4..].starts_with(b["data"]["status"].as_str().unwrap()));
        let o = g.event(opened, at(), &c, &camp);
        let (ua, ip) = (
            o["data"]["user_agent"].as_str().unwrap(),
            o["data"]["ip_address"].as_str().unwrap(),
        );
        let parsed: std::net::IpAddr = ip.parse().unwrap();
        assert!(net::is_public(parsed), "{ip}");
        v6 += usize::from(parsed.is_ipv6());
        if ua.contains("GoogleImageProxy") {
            google += 1;
            assert!(
                ip.starts_with("66.249.") || ip.starts_with("66.102."),
                "{ip}"
            );
            assert!(c.email.ends_with("@gmail.com"), "{}", c.email);
        }
        mpp += usize::from(ua == "Mozilla/5.0");
    }
    assert!(hard > soft && soft > 200, "hard {hard} soft {soft}");
    assert!(
        google > 400 && mpp > 300 && v6 > 100,
        "google {google} mpp {mpp} v6 {v6}"
    );
}

#[test]
fn a_contacts_events_share_its_identity_and_schedules_hold() {
    let mut g = Generator::new(Flavor::Docs, 2);
    let (c, camp) = (g.contact(), g.campaign());
    let ids: Vec<_> = [
        "email.sent",
        "email.opened",
        "email.clicked",
        "email.unsubscribed",
    ]
    .iter()
    .map(|n| {
        let v = g.event(find(Flavor::Docs, n).unwrap(), at(), &c, &camp);
        (
            v["data"]["contact_id"].clone(),
            v["data"]["email"].clone(),
            v["data"]["message_id"].clone(),
        )
    })
    .collect();
    assert!(ids.windows(2).all(|w| w[0] == w[1]));
    let sched = g.event(
        find(Flavor::Docs, "campaign.scheduled").unwrap(),
        at(),
        &c,
        &camp,
    );
    let later = at() + chrono::Duration::minutes(20);
    let cancel = g.event(
        find(Flavor::Docs, "campaign.cancelled").unwrap(),
        later,
        &c,
        &camp,
    );
    let when = sched["data"]["scheduled_for"].as_str().unwrap();
    assert_eq!(cancel["data"]["scheduled_for"].as_str().unwrap(), when);
    assert!(
        when > "2024-03-15T11:30:00Z" && when.ends_with(":00Z"),
        "{when}"
    );
    assert_eq!(cancel["data"]["cancelled_at"], "2024-03-15T10:50:00Z");
}

#[test]
fn fake_templates_give_values_and_unknown_ones_are_refused() {
    let mut g = Generator::new(Flavor::Docs, 4);
    assert!(g.fake("email").unwrap().contains('@'));
    assert!(g.fake("ip").unwrap().parse::<std::net::IpAddr>().is_ok());
    assert!(g.fake("url").unwrap().starts_with("https://"));
    assert!(g.fake("user_agent").unwrap().starts_with("Mozilla/5.0"));
    assert!(g.fake("name").unwrap().contains(' '));
    let err = g.fake("emial").unwrap_err().0;
    assert!(err.contains("did you mean fake.email?"), "{err}");
}

#[test]
fn contact_at_is_a_pure_function_of_seed_key_and_index() {
    let mut a = Generator::new(Flavor::Docs, 9);
    let b = Generator::new(Flavor::Docs, 9);
    let first = a.contact_at(790, 5);
    // Sequential contacts drawn in between change nothing.
    let _ = a.contact();
    assert_eq!(a.contact_at(790, 5), first);
    assert_eq!(b.contact_at(790, 5), first);
    let other = b.contact_at(790, 6);
    assert_ne!(other.contact_id, first.contact_id);
    assert_ne!(b.contact_at(791, 5).contact_id, first.contact_id);
    assert_ne!(Generator::new(Flavor::Docs, 10).contact_at(790, 5), first);
    assert!(first.contact_id < (1 << 53));
}
