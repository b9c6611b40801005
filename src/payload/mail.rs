//! The sender's side of the story: the brand whose campaigns these are (its site is
//! where clicks land, with UTM parameters), campaign names and subjects that fit it,
//! and message ids in an ESP's shape.

use std::fmt;

use super::rng::Rand;

/// The account's own business: where links point, who the mail comes from, and
/// which campaign names fit it.
pub(crate) struct Brand {
    pub company: &'static str,
    pub domain: &'static str,
    pub paths: &'static [&'static str],
    /// The account's language and time zone (the API's `fr_CA` style).
    pub language: &'static str,
    pub timezone: &'static str,
    pub country: &'static str,
    /// Which [`CAMPAIGNS`] fit: a mask of `RETAIL`, `FOOD`, `SAAS`, `CAUSE`, `FRENCH`.
    pub kinds: u8,
}

const RETAIL: u8 = 1;
const FOOD: u8 = 2;
const SAAS: u8 = 4;
const CAUSE: u8 = 8;
/// Campaigns written in French; only French-speaking (bilingual) brands send them.
const FRENCH: u8 = 16;
const SALES: u8 = RETAIL | FOOD;
const ANY: u8 = RETAIL | FOOD | SAAS | CAUSE;

#[rustfmt::skip]
const SHOP_PATHS: &[&str] = &[
    "collections/new-arrivals", "collections/spring-sale", "products/merino-crew-sweater",
    "products/waxed-canvas-tote", "pages/store-locator", "cart", "account/login",
];
#[rustfmt::skip]
const FOOD_PATHS: &[&str] = &[
    "menu", "commander-en-ligne", "reservations", "blogs/recettes/tarte-au-sucre",
    "products/cafe-espresso-1kg", "pages/carte-cadeau",
];
#[rustfmt::skip]
const SAAS_PATHS: &[&str] = &[
    "blog/deliverability-checklist-2024", "webinars/email-automation", "pricing", "changelog",
    "docs/getting-started", "login",
];
#[rustfmt::skip]
const CAUSE_PATHS: &[&str] = &[
    "donate", "events/spring-gala", "news/annual-report", "volunteer", "campaigns/winter-drive",
];

const fn brand(
    company: &'static str,
    domain: &'static str,
    paths: &'static [&'static str],
    language: &'static str,
    kinds: u8,
) -> Brand {
    let (timezone, country) = match language.as_bytes() {
        [.., b'U', b'S'] => ("America/New_York", "US"),
        _ => ("America/Toronto", "CA"),
    };
    Brand {
        company,
        domain,
        paths,
        language,
        timezone,
        country,
        kinds,
    }
}

#[rustfmt::skip]
pub(crate) static BRANDS: &[Brand] = &[
    brand("Northwind Outfitters", "northwindoutfitters.com", SHOP_PATHS, "en_US", RETAIL),
    brand("Atelier Boréal", "atelierboreal.ca", SHOP_PATHS, "fr_CA", RETAIL | FRENCH),
    brand("Boulangerie Soleil", "boulangeriesoleil.ca", FOOD_PATHS, "fr_CA", FOOD | FRENCH),
    brand("Fernhill Teas", "fernhillteas.com", SHOP_PATHS, "en_CA", FOOD),
    brand("Voltaic Analytics", "voltaic.io", SAAS_PATHS, "en_US", SAAS),
    brand("Harbourline Cycles", "harbourlinecycles.com", SHOP_PATHS, "en_CA", RETAIL),
    brand("Fondation Lumière", "fondationlumiere.org", CAUSE_PATHS, "fr_CA", CAUSE | FRENCH),
    brand("Kestrel Travel", "kestreltravel.com", SAAS_PATHS, "en_US", SAAS),
];

#[rustfmt::skip]
const UTM_CONTENT: &[&str] = &[
    "hero-button", "header-logo", "product-1", "product-2", "footer-link", "cta-shop-now",
    "image-banner", "read-more",
];

/// `(kinds, internal name, subject)`: names are what the app lists, subjects what
/// readers see.
#[rustfmt::skip]
pub(crate) const CAMPAIGNS: &[(u8, &str, &str)] = &[
    (SALES, "Spring Sale — Launch", "🌷 Spring Sale: 20% off everything"),
    (ANY, "March Newsletter", "What's new this month"),
    (ANY | FRENCH, "Infolettre de mars", "Les nouveautés du mois"),
    (SALES | FRENCH, "Soldes d'été", "☀️ Soldes d'été : jusqu'à 40 % de rabais"),
    (SALES, "Black Friday Early Access", "Your early access starts now"),
    (SALES, "Cyber Monday — Last Call", "Last chance: free shipping ends tonight"),
    (SALES | SAAS, "Welcome series #1", "Welcome! Here's what to expect"),
    (SALES | SAAS, "Welcome series #2", "3 favourites to get you started"),
    (SALES, "Abandoned cart reminder", "You left something behind"),
    (SAAS, "Webinar invite: Automation 101", "Join us Thursday: email automation in 30 minutes"),
    (SAAS, "Product update Q1", "New: smarter segments and faster reports"),
    (SALES | FRENCH, "Fête des mères", "💐 Idées cadeaux pour la fête des mères"),
    (RETAIL, "Back to school", "Back-to-school picks, ready to ship"),
    (SALES, "Holiday gift guide", "🎁 The holiday gift guide is here"),
    (ANY, "Re-engagement — We miss you", "Still interested? Let us know"),
    (CAUSE, "Annual fundraising appeal", "Your gift doubles until midnight"),
    (CAUSE | FRENCH, "Soirée-bénéfice 2024", "Réservez votre place à notre soirée-bénéfice"),
    (FOOD | FRENCH, "Café du mois — Éthiopie", "Le café du mois : Yirgacheffe, Éthiopie"),
    (ANY, "Customer survey", "2 minutes to tell us how we did?"),
];

/// A campaign name that fits the brand.
pub(crate) fn campaign_name(rng: &mut Rand, brand: &Brand) -> &'static str {
    let fits = |c: &&(u8, &str, &str)| {
        c.0 & brand.kinds & ANY != 0 && (c.0 & FRENCH == 0 || brand.kinds & FRENCH != 0)
    };
    let n = CAMPAIGNS.iter().filter(fits).count();
    CAMPAIGNS
        .iter()
        .filter(fits)
        .nth(rng.below(n))
        .map_or(CAMPAIGNS[1].1, |c| c.1)
}

/// The subject of a campaign name from the table; other names are their own subject.
pub(crate) fn subject_of(name: &str) -> &str {
    CAMPAIGNS.iter().find(|c| c.1 == name).map_or(name, |c| c.2)
}

/// A campaign name as a UTM slug: `Soldes d'été` -> `soldes-d-ete`.
pub(crate) fn slug(name: &str) -> String {
    let ascii;
    let src = if name.is_ascii() {
        name
    } else {
        ascii = deunicode::deunicode(name);
        &ascii
    };
    let mut out = String::with_capacity(src.len());
    for c in src.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    while out.ends_with('-') {
        out.pop();
    }
    out
}

/// A tracked link on the brand's site, displayed without an intermediate String.
pub(crate) struct ClickUrl<'a> {
    pub brand: &'a Brand,
    pub path: &'static str,
    pub slug: &'a str,
    pub content: &'static str,
}

/// The link's path on the brand's site and its `utm_content`.
pub(crate) fn pick_link(rng: &mut Rand, brand: &Brand) -> (&'static str, &'static str) {
    (*rng.pick(brand.paths), *rng.pick(UTM_CONTENT))
}

impl fmt::Display for ClickUrl<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "https://www.{}/{}?utm_source=cakemail&utm_medium=email&utm_campaign={}&utm_content={}",
            self.brand.domain, self.path, self.slug, self.content
        )
    }
}

/// A message id in an ESP's shape: a per-message hash, the contact, and the MTA.
pub(crate) fn message_id(rng: &mut Rand, contact_id: u64) -> String {
    let (hi, lo) = (rng.u64(), rng.u64());
    let mta = rng.range(1, 48);
    format!("{hi:016x}{lo:016x}.{contact_id}@mta{mta:02}.cakemail.net")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_brand_has_campaigns_and_english_brands_get_no_french_ones() {
        let mut rng = Rand::new(9);
        for brand in BRANDS {
            for _ in 0..50 {
                let name = campaign_name(&mut rng, brand);
                let french = CAMPAIGNS.iter().any(|c| c.1 == name && c.0 & FRENCH != 0);
                assert!(
                    !french || brand.kinds & FRENCH != 0,
                    "{name} for {}",
                    brand.company
                );
            }
        }
    }

    #[test]
    fn slugs_are_url_safe() {
        assert_eq!(slug("Soldes d'été"), "soldes-d-ete");
        assert_eq!(slug("Spring Sale — Launch"), "spring-sale-launch");
        assert_eq!(slug("Welcome series #2"), "welcome-series-2");
    }
}
