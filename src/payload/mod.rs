//! The seeded generator: turns an event kind, a scenario time and a subject (contact,
//! campaign) into a realistic body in the flavor's envelope, as compact JSON bytes
//! that survive JavaScript's `JSON.stringify(JSON.parse(body))` unchanged.
//! One ChaCha8 stream drives everything; the same seed and calls give the same bytes.
//! Bodies are written once, through a `json::Sink`, either as a `Value` ([`Generator::event`])
//! or straight to bytes ([`Generator::event_bytes`], the load path); both agree byte for byte.

mod api;
mod bounce;
mod clients;
mod docs;
mod json;
mod mail;
mod mailboxes;
mod names;
mod net;
mod people;
mod rng;
mod set;

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::events::{EventKind, Flavor};
pub use set::set_path;

use mailboxes::Family;
use rng::{Bits, Rand, mix};

/// One contact's identity, shared by all of its events (sent, opened, clicked...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contact {
    pub contact_id: u64,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub message_id: String,
    /// BCP 47 language tag (`fr-CA`); places the contact's home IP and mailbox region.
    pub locale: &'static str,
}

/// The campaign the events belong to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Campaign {
    pub campaign_id: u64,
    pub name: String,
}

/// The account the webhooks belong to: fixed per generator, derived from the seed.
struct Account {
    id: u64,
    user_id: u64,
    user_email: String,
    user_first: &'static str,
    user_last: &'static str,
    /// Where the account's users work from (the `ip` of user-made API events).
    user_ip: String,
    /// The sending MTA's address, as receiving servers quote it in deferrals.
    mta_ip: String,
    brand: &'static mail::Brand,
    list_base: u64,
    sender_id: u64,
}

/// How many addresses are remembered to keep them unique; past this (a load test of
/// millions of contacts) addresses are merely very likely unique.
const REMEMBERED_EMAILS: usize = 1 << 16;
/// How many campaign schedules are remembered so `campaign.cancelled` can quote them.
const REMEMBERED_SCHEDULES: usize = 1 << 12;

/// The seeded source of everything random in a run: identities, bodies, delivery ids.
/// The same flavor, seed and calls give the same bytes.
pub struct Generator {
    flavor: Flavor,
    rng: Rand,
    /// Keys per-contact traits (mail client, home IP) so they differ between seeds.
    persona_key: u64,
    next_contact: u64,
    next_campaign: u64,
    account: Account,
    emails: HashSet<u64>,
    schedules: HashMap<u64, i64>,
    /// The last campaign name and its UTM slug (a run sends many events per campaign).
    slug: (String, String),
}

impl Generator {
    pub fn new(flavor: Flavor, seed: u64) -> Self {
        let mut rng = Rand::new(seed);
        let persona_key = rng.u64();
        let brand = rng.pick(mail::BRANDS);
        let owner = people::person(&mut rng);
        let user_email = format!(
            "{}.{}@{}",
            owner.first_ascii, owner.last_ascii, brand.domain
        );
        let mut office = Bits::new(rng.u64());
        let user_ip = net::address(net::Origin::Home, mailboxes::Region::Qc, &mut office, 30);
        let mta_ip = format!("142.44.{}.{}", rng.range(128, 255), rng.range(2, 254));
        let account = Account {
            id: rng.range(10_000, 999_999),
            user_id: rng.range(1_000, 99_999),
            user_email,
            user_first: owner.first,
            user_last: owner.last,
            user_ip: user_ip.to_string(),
            mta_ip,
            brand,
            list_base: rng.range(1_000, 90_000),
            sender_id: rng.range(1_000, 90_000),
        };
        Generator {
            flavor,
            next_contact: rng.range(1_000, 2_000_000),
            next_campaign: rng.range(100, 990_000),
            persona_key,
            account,
            rng,
            emails: HashSet::new(),
            schedules: HashMap::new(),
            slug: (String::new(), String::new()),
        }
    }

    pub fn flavor(&self) -> Flavor {
        self.flavor
    }

    /// A new, internally consistent contact (name, matching email, message id).
    /// Ids increase; addresses are unique within the first 65,536 contacts.
    pub fn contact(&mut self) -> Contact {
        let contact_id = self.next_contact;
        self.next_contact += 1 + self.rng.range(0, 2);
        let person = people::person(&mut self.rng);
        let mut email = people::email(&mut self.rng, &person, 0);
        for salt in 1..=8 {
            if self.remember(&email) {
                break;
            }
            email = people::email(&mut self.rng, &person, salt);
        }
        Contact {
            contact_id,
            first_name: person.first.to_owned(),
            last_name: person.last.to_owned(),
            email,
            message_id: mail::message_id(&mut self.rng, contact_id),
            locale: person.locale,
        }
    }

    /// Contact number `index` of the population `key` (a campaign), derived from the
    /// seed, `key` and `index` alone: a million-contact campaign never stores its
    /// contacts, yet each one keeps its identity across all of its events. Ids come
    /// from a range of their own per population, apart from [`Generator::contact`]'s.
    pub fn contact_at(&self, key: u64, index: u64) -> Contact {
        let mix = |mut z: u64| {
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^ (z >> 31)
        };
        let population = mix(self.persona_key ^ mix(key));
        let mut rng = Rand::new(mix(population ^ index.wrapping_mul(0x9e37_79b9_7f4a_7c15)));
        // 1024 slots of 4M ids each, above the sequential range: below 2^53 always.
        let contact_id = 4_194_304 * (1 + population % 1024) + index % 4_194_304;
        let person = people::person(&mut rng);
        let email = people::email(&mut rng, &person, 0);
        Contact {
            contact_id,
            first_name: person.first.to_owned(),
            last_name: person.last.to_owned(),
            email,
            message_id: mail::message_id(&mut rng, contact_id),
            locale: person.locale,
        }
    }

    /// False when the address was already handed out.
    fn remember(&mut self, email: &str) -> bool {
        if self.emails.len() >= REMEMBERED_EMAILS {
            return true;
        }
        let h = email.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        });
        self.emails.insert(h)
    }

    /// A new campaign (id and a realistic name).
    pub fn campaign(&mut self) -> Campaign {
        let campaign_id = self.next_campaign;
        self.next_campaign += 1 + self.rng.range(0, 3);
        let name = mail::campaign_name(&mut self.rng, self.account.brand);
        Campaign {
            campaign_id,
            name: name.to_owned(),
        }
    }

    /// A fresh delivery id (a UUID drawn from the seeded RNG).
    pub fn delivery_id(&mut self) -> String {
        let mut s = String::with_capacity(36);
        let _ = write!(s, "{}", self.uuid());
        s
    }

    fn uuid(&mut self) -> uuid::fmt::Hyphenated {
        uuid::Builder::from_random_bytes(self.rng.bytes())
            .into_uuid()
            .hyphenated()
    }

    /// The realistic body of `kind` at scenario time `at`, for this contact and campaign.
    /// The envelope follows `kind.flavor`.
    pub fn event(
        &mut self,
        kind: &EventKind,
        at: DateTime<Utc>,
        contact: &Contact,
        campaign: &Campaign,
    ) -> Value {
        let mut tree = json::Tree::default();
        self.write(&mut tree, kind, at, contact, campaign);
        tree.into_value()
    }

    /// The same body as [`Generator::event`] followed by [`to_bytes`], written straight
    /// to bytes, 2.5-4x faster (the path for load tests; see `benches/payload.rs`).
    pub fn event_bytes(
        &mut self,
        kind: &EventKind,
        at: DateTime<Utc>,
        contact: &Contact,
        campaign: &Campaign,
    ) -> Bytes {
        let mut w = json::Writer::with_capacity(768);
        self.write(&mut w, kind, at, contact, campaign);
        Bytes::from(w.buf)
    }

    fn write<S: json::Sink>(
        &mut self,
        s: &mut S,
        kind: &EventKind,
        at: DateTime<Utc>,
        contact: &Contact,
        campaign: &Campaign,
    ) {
        let ev = Subject {
            at,
            contact,
            campaign,
        };
        match kind.flavor {
            Flavor::Docs => docs::write(self, s, kind.name, &ev),
            Flavor::Api => api::write(self, s, kind.name, &ev),
        }
    }

    /// The contact's stable reading habits and its mailbox facts.
    fn reader(&self, contact: &Contact) -> Reader {
        let domain = contact.email.rsplit_once('@').map_or("", |(_, d)| d);
        let family = mailboxes::family(domain);
        let region = mailboxes::region_of(domain)
            .unwrap_or_else(|| mailboxes::region_of_locale(contact.locale));
        let persona = clients::Persona::new(mix(contact.contact_id ^ self.persona_key), family);
        Reader {
            family,
            region,
            persona,
        }
    }

    fn list_id(&self, campaign: &Campaign) -> u64 {
        self.account.list_base + mix(campaign.campaign_id) % 3
    }

    /// A tracked link for a campaign; the UTM slug is cached for the current campaign.
    fn click_url(&mut self, campaign_name: &str) -> mail::ClickUrl<'_> {
        let (path, content) = mail::pick_link(&mut self.rng, self.account.brand);
        if self.slug.0 != campaign_name {
            self.slug = (campaign_name.to_owned(), mail::slug(campaign_name));
        }
        mail::ClickUrl {
            brand: self.account.brand,
            path,
            slug: &self.slug.1,
            content,
        }
    }

    /// When a campaign is (or was) scheduled to go out: remembered per campaign so
    /// `scheduled` and a later `cancelled` agree; drawn 1-72 h ahead on a quarter hour.
    fn scheduled_for(&mut self, campaign_id: u64, now: i64) -> i64 {
        if let Some(&t) = self.schedules.get(&campaign_id)
            && t > now
        {
            return t;
        }
        let ahead = now + self.rng.range(3_600, 72 * 3_600) as i64;
        let t = ahead - ahead.rem_euclid(900) + 900;
        if self.schedules.len() < REMEMBERED_SCHEDULES {
            self.schedules.insert(campaign_id, t);
        }
        t
    }

    /// Values for `{{ fake.NAME }}` templates: `email`, `name`, `ip`, `user_agent`, `url`.
    pub fn fake(&mut self, what: &str) -> Result<String, crate::InputError> {
        Ok(match what {
            "email" => {
                let p = people::person(&mut self.rng);
                people::email(&mut self.rng, &p, 0)
            }
            "name" => {
                let p = people::person(&mut self.rng);
                format!("{} {}", p.first, p.last)
            }
            "ip" => {
                let region = mailboxes::region_of_locale(people::person(&mut self.rng).locale);
                let mut bits = Bits::new(self.rng.u64());
                net::address(net::Origin::Home, region, &mut bits, 30).to_string()
            }
            "user_agent" => clients::any_browser(self.rng.u32()).to_owned(),
            "url" => {
                let name = mail::campaign_name(&mut self.rng, self.account.brand);
                self.click_url(name).to_string()
            }
            other => {
                let hint = crate::error::did_you_mean(other, FAKES)
                    .map(|s| format!("did you mean fake.{s}? "))
                    .unwrap_or_default();
                return Err(crate::InputError::new(format!(
                    "unknown template fake.{other}; {hint}valid: {}",
                    FAKES.map(|f| format!("fake.{f}")).join(", ")
                )));
            }
        })
    }
}

/// The names [`Generator::fake`] accepts.
pub const FAKES: [&str; 5] = ["email", "name", "ip", "user_agent", "url"];

/// What one event is about.
struct Subject<'a> {
    at: DateTime<Utc>,
    contact: &'a Contact,
    campaign: &'a Campaign,
}

struct Reader {
    family: Family,
    region: mailboxes::Region,
    persona: clients::Persona,
}

/// Compact JSON bytes of a body (no spaces, raw UTF-8, keys in insertion order).
pub fn to_bytes(body: &Value) -> Bytes {
    // Serializing a Value into a Vec cannot fail (its keys are strings).
    Bytes::from(serde_json::to_vec(body).unwrap_or_default())
}

#[cfg(test)]
mod tests;
